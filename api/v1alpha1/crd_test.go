package v1alpha1_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

var k8s client.Client

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("BLUEGREEN_SKIP_CLUSTER") == "1" {
		fmt.Println("BLUEGREEN_SKIP_CLUSTER=1: skipping the API server tests")
		return 0
	}
	env, err := cluster.StartEnvtest(cluster.EnvtestOptions{
		CRDDirectoryPaths: []string{filepath.Join("..", "..", "config", "crd", "bases")},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1.AddToScheme, apiextensionsv1.AddToScheme} {
		if err := add(scheme); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	k8s, err = client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// createNamespace gives each test its own namespace, so that tests do not see each other's objects.
func createNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "crd-"}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// readSamples decodes every document in config/samples strictly into its typed kind, so
// that a sample with a misspelt field fails here instead of being pruned by the server.
func readSamples(t *testing.T) []client.Object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "rollouts_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples found: %v", err)
	}
	var objs []client.Object
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			var meta metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			var obj client.Object
			switch meta.Kind {
			case "Rollout":
				obj = &v1.Rollout{}
			case "AnalysisTemplate":
				obj = &v1.AnalysisTemplate{}
			case "ClusterAnalysisTemplate":
				obj = &v1.ClusterAnalysisTemplate{}
			case "AnalysisRun":
				obj = &v1.AnalysisRun{}
			default:
				t.Fatalf("%s: unexpected kind %q", file, meta.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s is not a valid %s: %v", file, meta.Kind, err)
			}
			objs = append(objs, obj)
		}
	}
	return objs
}

func TestSamplesAreAcceptedAndDefaultedAsDocumented(t *testing.T) {
	ctx := context.Background()
	ns := createNamespace(t)
	kinds := map[string]int{}
	for _, obj := range readSamples(t) {
		if _, cluster := obj.(*v1.ClusterAnalysisTemplate); !cluster {
			obj.SetNamespace(ns)
		}
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatalf("sample %T %s rejected: %v", obj, obj.GetName(), err)
		}
		kinds[fmt.Sprintf("%T", obj)]++
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), obj) })
	}
	for _, kind := range []string{"*v1alpha1.Rollout", "*v1alpha1.AnalysisTemplate", "*v1alpha1.ClusterAnalysisTemplate", "*v1alpha1.AnalysisRun"} {
		if kinds[kind] == 0 {
			t.Errorf("config/samples has no %s", kind)
		}
	}

	var ro v1.Rollout
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "api-gateway"}, &ro); err != nil {
		t.Fatal(err)
	}
	var ref v1.Rollout
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "admin-api-gateway"}, &ref); err != nil {
		t.Fatal(err)
	}
	bg := ro.Spec.Strategy.BlueGreen
	checks := []struct {
		field     string
		got, want any
	}{
		{"spec.replicas (given)", ro.Spec.Replicas, ptr.To[int32](3)},
		{"spec.revisionHistoryLimit", ro.Spec.RevisionHistoryLimit, ptr.To[int32](10)},
		{"spec.progressDeadlineSeconds", ro.Spec.ProgressDeadlineSeconds, ptr.To[int32](600)},
		{"spec.strategy.blueGreen.autoPromotionEnabled (given)", bg.AutoPromotionEnabled, ptr.To(false)},
		{"spec.strategy.blueGreen.scaleDownDelaySeconds", bg.ScaleDownDelaySeconds, ptr.To[int32](30)},
		{"spec.strategy.blueGreen.abortScaleDownDelaySeconds", bg.AbortScaleDownDelaySeconds, ptr.To[int32](30)},
		{"spec.strategy.blueGreen.previewReplicaCount (unset: replicas)", bg.PreviewReplicaCount, (*int32)(nil)},
		{"workloadRef rollout spec.workloadRef.apiVersion", ref.Spec.WorkloadRef.APIVersion, "apps/v1"},
		{"workloadRef rollout spec.strategy.blueGreen.autoPromotionEnabled", ref.Spec.Strategy.BlueGreen.AutoPromotionEnabled, ptr.To(true)},
	}
	for _, c := range checks {
		if fmt.Sprint(deref(c.got)) != fmt.Sprint(deref(c.want)) {
			t.Errorf("%s = %v, want %v", c.field, deref(c.got), deref(c.want))
		}
	}
}

func deref(v any) any {
	switch p := v.(type) {
	case *int32:
		if p == nil {
			return "<unset>"
		}
		return *p
	case *bool:
		if p == nil {
			return "<unset>"
		}
		return *p
	}
	return v
}

// validRollout is the smallest Rollout the API server accepts.
func validRollout() *v1.Rollout {
	labels := map[string]string{"app": "demo"}
	return &v1.Rollout{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "ro-"},
		Spec: v1.RolloutSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
			},
			Strategy: v1.RolloutStrategy{BlueGreen: &v1.BlueGreenStrategy{ActiveService: "active", PreviewService: "preview"}},
		},
	}
}

func TestRolloutValidationRules(t *testing.T) {
	ctx := context.Background()
	ns := createNamespace(t)
	cases := []struct {
		name   string
		mutate func(*v1.Rollout)
		want   string
	}{
		{"valid", func(*v1.Rollout) {}, ""},
		{"preview equals active", func(r *v1.Rollout) { r.Spec.Strategy.BlueGreen.PreviewService = "active" },
			"spec.strategy.blueGreen.previewService must differ from activeService"},
		{"no active service", func(r *v1.Rollout) { r.Spec.Strategy.BlueGreen.ActiveService = "" },
			"spec.strategy.blueGreen.activeService"},
		{"both anti-affinity kinds", func(r *v1.Rollout) {
			r.Spec.Strategy.BlueGreen.AntiAffinity = &v1.AntiAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: &v1.PreferredDuringSchedulingIgnoredDuringExecution{Weight: 50},
				RequiredDuringSchedulingIgnoredDuringExecution:  &v1.RequiredDuringSchedulingIgnoredDuringExecution{},
			}
		}, "antiAffinity needs exactly one of"},
		{"no anti-affinity kind", func(r *v1.Rollout) { r.Spec.Strategy.BlueGreen.AntiAffinity = &v1.AntiAffinity{} },
			"antiAffinity needs exactly one of"},
		{"anti-affinity weight 0", func(r *v1.Rollout) {
			r.Spec.Strategy.BlueGreen.AntiAffinity = &v1.AntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: &v1.PreferredDuringSchedulingIgnoredDuringExecution{Weight: 0}}
		}, "antiAffinity weight must be between 1 and 100"},
		{"anti-affinity weight 101", func(r *v1.Rollout) {
			r.Spec.Strategy.BlueGreen.AntiAffinity = &v1.AntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: &v1.PreferredDuringSchedulingIgnoredDuringExecution{Weight: 101}}
		}, "antiAffinity weight must be between 1 and 100"},
		{"negative replicas", func(r *v1.Rollout) { r.Spec.Replicas = ptr.To[int32](-1) }, "spec.replicas must not be negative"},
		{"negative minReadySeconds", func(r *v1.Rollout) { r.Spec.MinReadySeconds = -1 }, "spec.minReadySeconds must not be negative"},
		{"negative revisionHistoryLimit", func(r *v1.Rollout) { r.Spec.RevisionHistoryLimit = ptr.To[int32](-1) }, "spec.revisionHistoryLimit must not be negative"},
		{"zero progressDeadlineSeconds", func(r *v1.Rollout) { r.Spec.ProgressDeadlineSeconds = ptr.To[int32](0) }, "spec.progressDeadlineSeconds must be at least 1"},
		{"progress deadline within minReadySeconds", func(r *v1.Rollout) {
			r.Spec.MinReadySeconds = 60
			r.Spec.ProgressDeadlineSeconds = ptr.To[int32](60)
		}, "spec.progressDeadlineSeconds must be greater than spec.minReadySeconds"},
		{"negative rollbackWindow", func(r *v1.Rollout) { r.Spec.RollbackWindow = &v1.RollbackWindowSpec{Revisions: -1} }, "spec.rollbackWindow.revisions must not be negative"},
		{"negative successful run history", func(r *v1.Rollout) {
			r.Spec.Analysis = &v1.AnalysisRunStrategy{SuccessfulRunHistoryLimit: ptr.To[int32](-1)}
		}, "spec.analysis.successfulRunHistoryLimit must not be negative"},
		{"negative unsuccessful run history", func(r *v1.Rollout) {
			r.Spec.Analysis = &v1.AnalysisRunStrategy{UnsuccessfulRunHistoryLimit: ptr.To[int32](-1)}
		}, "spec.analysis.unsuccessfulRunHistoryLimit must not be negative"},
		{"zero previewReplicaCount", func(r *v1.Rollout) { r.Spec.Strategy.BlueGreen.PreviewReplicaCount = ptr.To[int32](0) },
			"spec.strategy.blueGreen.previewReplicaCount must be at least 1"},
		{"negative autoPromotionSeconds", func(r *v1.Rollout) { r.Spec.Strategy.BlueGreen.AutoPromotionSeconds = -1 },
			"spec.strategy.blueGreen.autoPromotionSeconds must not be negative"},
		{"negative scaleDownDelaySeconds", func(r *v1.Rollout) { r.Spec.Strategy.BlueGreen.ScaleDownDelaySeconds = ptr.To[int32](-1) },
			"spec.strategy.blueGreen.scaleDownDelaySeconds must not be negative"},
		{"negative abortScaleDownDelaySeconds", func(r *v1.Rollout) { r.Spec.Strategy.BlueGreen.AbortScaleDownDelaySeconds = ptr.To[int32](-1) },
			"spec.strategy.blueGreen.abortScaleDownDelaySeconds must not be negative"},
		{"negative scaleDownDelayRevisionLimit", func(r *v1.Rollout) { r.Spec.Strategy.BlueGreen.ScaleDownDelayRevisionLimit = ptr.To[int32](-1) },
			"spec.strategy.blueGreen.scaleDownDelayRevisionLimit must not be negative"},
		{"scaleDownDelayRevisionLimit above revisionHistoryLimit", func(r *v1.Rollout) {
			r.Spec.RevisionHistoryLimit = ptr.To[int32](2)
			r.Spec.Strategy.BlueGreen.ScaleDownDelayRevisionLimit = ptr.To[int32](3)
		}, "spec.strategy.blueGreen.scaleDownDelayRevisionLimit must not exceed spec.revisionHistoryLimit"},
		{"scaleDownDelayRevisionLimit above the default revisionHistoryLimit", func(r *v1.Rollout) {
			r.Spec.Strategy.BlueGreen.ScaleDownDelayRevisionLimit = ptr.To[int32](11)
		}, "spec.strategy.blueGreen.scaleDownDelayRevisionLimit must not exceed spec.revisionHistoryLimit"},
		{"manual and timed promotion together", func(r *v1.Rollout) {
			r.Spec.Strategy.BlueGreen.AutoPromotionEnabled = ptr.To(false)
			r.Spec.Strategy.BlueGreen.AutoPromotionSeconds = 30
		}, "autoPromotionSeconds promotes by itself while autoPromotionEnabled: false waits for a person"},
		{"template with workloadRef", func(r *v1.Rollout) {
			r.Spec.WorkloadRef = &v1.ObjectRef{Kind: "Deployment", Name: "web"}
		}, "spec.template must be empty when spec.workloadRef is set"},
		{"no selector without workloadRef", func(r *v1.Rollout) { r.Spec.Selector = nil },
			"spec.selector is required unless spec.workloadRef is set"},
		{"no template without workloadRef", func(r *v1.Rollout) { r.Spec.Template = nil },
			"spec.template is required unless spec.workloadRef is set"},
		{"workloadRef to something other than a Deployment", func(r *v1.Rollout) {
			r.Spec.Template = nil
			r.Spec.WorkloadRef = &v1.ObjectRef{Kind: "StatefulSet", Name: "web"}
		}, `spec.workloadRef.kind: Unsupported value: "StatefulSet"`},
		{"workloadRef with an unknown scaleDown", func(r *v1.Rollout) {
			r.Spec.Template = nil
			r.Spec.WorkloadRef = &v1.ObjectRef{Kind: "Deployment", Name: "web", ScaleDown: "sometimes"}
		}, `spec.workloadRef.scaleDown: Unsupported value: "sometimes"`},
		{"analysis argument with value and valueFrom", func(r *v1.Rollout) {
			r.Spec.Strategy.BlueGreen.PrePromotionAnalysis = &v1.RolloutAnalysis{
				Templates: []v1.AnalysisTemplateRef{{TemplateName: "t"}},
				Args: []v1.AnalysisRunArgument{{Name: "a", Value: ptr.To("x"), ValueFrom: &v1.ArgumentValueFrom{
					PodTemplateHashValue: ptr.To(v1.Latest)}}},
			}
		}, "an analysis argument needs exactly one of value or valueFrom"},
		{"analysis argument valueFrom with two sources", func(r *v1.Rollout) {
			r.Spec.Strategy.BlueGreen.PostPromotionAnalysis = &v1.RolloutAnalysis{
				Templates: []v1.AnalysisTemplateRef{{TemplateName: "t"}},
				Args: []v1.AnalysisRunArgument{{Name: "a", ValueFrom: &v1.ArgumentValueFrom{
					PodTemplateHashValue: ptr.To(v1.Stable), FieldRef: &v1.FieldRef{FieldPath: "metadata.name"}}}},
			}
		}, "valueFrom needs exactly one of podTemplateHashValue, fieldRef or secretKeyRef"},
		{"analysis without templates", func(r *v1.Rollout) {
			r.Spec.Strategy.BlueGreen.PrePromotionAnalysis = &v1.RolloutAnalysis{}
		}, "spec.strategy.blueGreen.prePromotionAnalysis.templates"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ro := validRollout()
			ro.Namespace = ns
			tc.mutate(ro)
			err := k8s.Create(ctx, ro)
			checkRejected(t, err, tc.want)
		})
	}
}

func checkRejected(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("valid object rejected: %v", err)
	case want == "":
	case err == nil:
		t.Fatalf("accepted, want rejection with %q", want)
	case !apierrors.IsInvalid(err):
		t.Fatalf("want an Invalid error with %q, got %v", want, err)
	case !strings.Contains(err.Error(), want):
		t.Fatalf("error does not say %q:\n%v", want, err)
	}
}

func TestRolloutSelectorIsImmutable(t *testing.T) {
	ctx := context.Background()
	ro := validRollout()
	ro.Namespace = createNamespace(t)
	if err := k8s.Create(ctx, ro); err != nil {
		t.Fatal(err)
	}
	ro.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "demo", "tier": "web"}}
	ro.Spec.Template.Labels["tier"] = "web"
	checkRejected(t, k8s.Update(ctx, ro), "spec.selector is immutable")
}

func TestAnalysisValidationRules(t *testing.T) {
	ctx := context.Background()
	ns := createNamespace(t)
	prom := &v1.PrometheusMetric{Query: "up"}
	web := &v1.WebMetric{URL: "http://example/health"}
	cases := []struct {
		name   string
		metric v1.Metric
		args   []v1.Argument
		want   string
	}{
		{"valid", v1.Metric{Name: "m", Interval: "30s", Provider: v1.MetricProvider{Prometheus: prom}}, nil, ""},
		{"valid with an argument as interval", v1.Metric{Name: "m", Interval: "{{args.interval}}", Provider: v1.MetricProvider{Web: web}}, nil, ""},
		{"two providers", v1.Metric{Name: "m", Provider: v1.MetricProvider{Prometheus: prom, Web: web}}, nil,
			"a metric's provider needs exactly one of prometheus, web or job"},
		{"no provider", v1.Metric{Name: "m"}, nil, "a metric's provider needs exactly one of prometheus, web or job"},
		{"interval in words", v1.Metric{Name: "m", Interval: "5 minutes", Provider: v1.MetricProvider{Prometheus: prom}}, nil,
			"spec.metrics[0].interval"},
		{"negative count", v1.Metric{Name: "m", Count: ptrIntOrString(-1), Provider: v1.MetricProvider{Prometheus: prom}}, nil,
			"count must not be negative"},
		{"negative failureLimit", v1.Metric{Name: "m", FailureLimit: ptrIntOrString(-1), Provider: v1.MetricProvider{Prometheus: prom}}, nil,
			"failureLimit must not be negative"},
		{"negative inconclusiveLimit", v1.Metric{Name: "m", InconclusiveLimit: ptrIntOrString(-1), Provider: v1.MetricProvider{Prometheus: prom}}, nil,
			"inconclusiveLimit must not be negative"},
		{"negative consecutiveErrorLimit", v1.Metric{Name: "m", ConsecutiveErrorLimit: ptrIntOrString(-1), Provider: v1.MetricProvider{Prometheus: prom}}, nil,
			"consecutiveErrorLimit must not be negative"},
		{"argument with value and valueFrom", v1.Metric{Name: "m", Provider: v1.MetricProvider{Prometheus: prom}},
			[]v1.Argument{{Name: "a", Value: ptr.To("x"), ValueFrom: &v1.ValueFrom{FieldRef: &v1.FieldRef{FieldPath: "metadata.name"}}}},
			"an argument takes value or valueFrom, not both"},
		{"argument valueFrom with two sources", v1.Metric{Name: "m", Provider: v1.MetricProvider{Prometheus: prom}},
			[]v1.Argument{{Name: "a", ValueFrom: &v1.ValueFrom{FieldRef: &v1.FieldRef{FieldPath: "metadata.name"},
				SecretKeyRef: &v1.SecretKeyRef{Name: "s", Key: "k"}}}},
			"valueFrom needs exactly one of secretKeyRef or fieldRef"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := v1.AnalysisTemplateSpec{Metrics: []v1.Metric{tc.metric}, Args: tc.args}
			at := &v1.AnalysisTemplate{ObjectMeta: metav1.ObjectMeta{GenerateName: "at-", Namespace: ns}, Spec: spec}
			checkRejected(t, k8s.Create(ctx, at), tc.want)
			cat := &v1.ClusterAnalysisTemplate{ObjectMeta: metav1.ObjectMeta{GenerateName: "cat-"}, Spec: spec}
			checkRejected(t, k8s.Create(ctx, cat), tc.want)
			if tc.want == "" {
				_ = k8s.Delete(ctx, cat)
			}
			run := &v1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{GenerateName: "ar-", Namespace: ns},
				Spec: v1.AnalysisRunSpec{Metrics: spec.Metrics, Args: spec.Args}}
			checkRejected(t, k8s.Create(ctx, run), tc.want)
		})
	}
}

func TestCRDsDescribeEveryFieldAndServeSubresources(t *testing.T) {
	ctx := context.Background()
	argoShortNames := map[string]bool{"ro": true, "at": true, "cat": true, "ar": true}
	for _, plural := range []string{"rollouts", "analysistemplates", "clusteranalysistemplates", "analysisruns"} {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := k8s.Get(ctx, client.ObjectKey{Name: plural + "." + v1.GroupVersion.Group}, &crd); err != nil {
			t.Fatal(err)
		}
		for _, short := range crd.Spec.Names.ShortNames {
			if argoShortNames[short] {
				t.Errorf("%s: short name %q collides with Argo Rollouts'", plural, short)
			}
		}
		if len(crd.Spec.Names.ShortNames) == 0 {
			t.Errorf("%s has no short name", plural)
		}
		version := crd.Spec.Versions[0]
		var undocumented []string
		walkSchema(*version.Schema.OpenAPIV3Schema, "", func(path string, s apiextensionsv1.JSONSchemaProps) bool {
			switch {
			case path == ".metadata" || path == ".apiVersion" || path == ".kind":
				return false // Kubernetes' own
			case strings.HasPrefix(path, ".spec.template."):
				return false // the pod template: Kubernetes' own docs, trimmed from the CRD (kubectl explain pod.spec)
			}
			if s.Description == "" && path != "" {
				undocumented = append(undocumented, path)
			}
			return true
		})
		if len(undocumented) > 0 {
			t.Errorf("%s: fields without a description (kubectl explain shows nothing):\n  %s", plural, strings.Join(undocumented, "\n  "))
		}
		if plural == "rollouts" || plural == "analysisruns" {
			if version.Subresources == nil || version.Subresources.Status == nil {
				t.Errorf("%s has no status subresource", plural)
			}
		}
	}

	var crd apiextensionsv1.CustomResourceDefinition
	if err := k8s.Get(ctx, client.ObjectKey{Name: "rollouts." + v1.GroupVersion.Group}, &crd); err != nil {
		t.Fatal(err)
	}
	scale := crd.Spec.Versions[0].Subresources.Scale
	if scale == nil || scale.SpecReplicasPath != ".spec.replicas" || scale.StatusReplicasPath != ".status.HPAReplicas" ||
		scale.LabelSelectorPath == nil || *scale.LabelSelectorPath != ".status.selector" {
		t.Errorf("rollouts scale subresource = %+v, want .spec.replicas, .status.HPAReplicas, .status.selector", scale)
	}
	desc := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["strategy"].
		Properties["blueGreen"].Properties["scaleDownDelaySeconds"].Description
	if !strings.Contains(desc, "0 scales it down at once") {
		t.Errorf("scaleDownDelaySeconds is documented as %q", desc)
	}
	columns := map[string]bool{}
	for _, c := range crd.Spec.Versions[0].AdditionalPrinterColumns {
		columns[c.Name] = true
	}
	for _, want := range []string{"Phase", "Desired", "Current", "Up-to-date", "Available", "Active", "Preview", "Age"} {
		if !columns[want] {
			t.Errorf("rollouts lacks the printer column %q", want)
		}
	}
}

// walkSchema calls visit for every property below s; visit returns false to skip a subtree.
func walkSchema(s apiextensionsv1.JSONSchemaProps, path string, visit func(string, apiextensionsv1.JSONSchemaProps) bool) {
	for name, p := range s.Properties {
		child := path + "." + name
		if visit(child, p) {
			walkSchema(p, child, visit)
		}
	}
	if s.Items != nil && s.Items.Schema != nil {
		walkSchema(*s.Items.Schema, path+"[]", visit)
	}
}

func ptrIntOrString(i int32) *intstr.IntOrString { v := intstr.FromInt32(i); return &v }
