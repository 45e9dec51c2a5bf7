// Package examples_test checks the example manifest repository (examples/manifest-repo)
// and its Argo CD Applications (examples/argocd): every chart renders with every
// environment's values file, the output passes `kubectl bluegreen lint`, each
// environment makes the choices its values file promises, and a new image tag changes
// nothing but the image.
package examples_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/pkg/analysis"
	"github.com/bluegreen-dev/bluegreen/pkg/cli"
	"github.com/bluegreen-dev/bluegreen/pkg/notify"
	"github.com/bluegreen-dev/bluegreen/test/helmchart"
)

const (
	repoDir   = "manifest-repo"
	argocdDir = "argocd"
	repoURL   = "https://git.example.com/platform/manifests.git"
)

// argoEnvironments are the environments Argo CD deploys, each from its own branch.
// values-test.yaml is for local clusters only.
var argoEnvironments = []string{"dev", "qa", "staging", "prod"}

// charts are the chart directories of the manifest repository, by name.
func charts(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoDir, "*", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, filepath.Base(filepath.Dir(f)))
	}
	if !slices.Contains(out, "api-gateway") || !slices.Contains(out, "admin-api-gateway") {
		t.Fatalf("charts %v: want api-gateway and admin-api-gateway", out)
	}
	return out
}

// environments are the environments of a chart, from its values-<env>.yaml files.
func environments(t *testing.T, chart string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoDir, chart, "values-*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "values-"), ".yaml"))
	}
	for _, want := range append(slices.Clone(argoEnvironments), "test") {
		if !slices.Contains(out, want) {
			t.Errorf("%s has no values-%s.yaml (it has %v)", chart, want, out)
		}
	}
	return out
}

// namespaceOf is where an environment runs: the namespace of its Argo CD Applications.
func namespaceOf(env string) string { return "gateway-" + env }

func valuesFiles(chart, env string) []string {
	return []string{filepath.Join(repoDir, chart, "values.yaml"), filepath.Join(repoDir, chart, "values-"+env+".yaml")}
}

// release is a chart rendered for one environment, decoded.
type release struct {
	chart, env, namespace string
	raw                   []byte
	kinds                 []string // kind/name of every document, in order
	rollout               *v1alpha1.Rollout
	services              map[string]*corev1.Service
	templates             map[string]*v1alpha1.AnalysisTemplate
	hpa                   *autoscalingv2.HorizontalPodAutoscaler
	ingress               *networkingv1.Ingress
}

func (r *release) String() string { return r.chart + " with values-" + r.env + ".yaml" }

// render renders a chart as Argo CD does (release name = chart name), with the strict
// template engine, and decodes every document strictly: an unknown field of any kind
// fails, as it would on the API server with fieldValidation=Strict.
func render(t *testing.T, chart, env, namespace string, files []string) *release {
	t.Helper()
	if files == nil {
		files = valuesFiles(chart, env)
	}
	raw, err := helmchart.RenderStrict(filepath.Join(repoDir, chart), chart, namespace, files, nil)
	if err != nil {
		t.Fatalf("%s with values-%s.yaml: %v", chart, env, err)
	}
	r := &release{chart: chart, env: env, namespace: namespace, raw: raw,
		services: map[string]*corev1.Service{}, templates: map[string]*v1alpha1.AnalysisTemplate{}}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		chunk, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		data, err := yaml.YAMLToJSONStrict(chunk)
		if err != nil {
			t.Fatalf("%s renders invalid YAML: %v\n%s", r, err, chunk)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &head); err != nil || head.Kind == "" {
			t.Errorf("%s renders a document that is not a Kubernetes object:\n%s", r, chunk)
			continue
		}
		name := head.Metadata.Name
		r.kinds = append(r.kinds, head.Kind+"/"+name)
		// helm lint checks the names too: DNS-1123 subdomains, and labels for Services.
		check := validation.IsDNS1123Subdomain
		if head.Kind == "Service" {
			check = validation.IsDNS1035Label
		}
		for _, msg := range check(name) {
			t.Errorf("%s: %s %q: %s", r, head.Kind, name, msg)
		}
		var into any
		switch head.APIVersion + " " + head.Kind {
		case "rollouts.bluegreen.dev/v1alpha1 Rollout":
			if r.rollout != nil {
				t.Errorf("%s renders two Rollouts", r)
			}
			r.rollout = &v1alpha1.Rollout{}
			into = r.rollout
		case "rollouts.bluegreen.dev/v1alpha1 AnalysisTemplate":
			tpl := &v1alpha1.AnalysisTemplate{}
			r.templates[name], into = tpl, tpl
		case "v1 Service":
			svc := &corev1.Service{}
			r.services[name], into = svc, svc
		case "autoscaling/v2 HorizontalPodAutoscaler":
			r.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
			into = r.hpa
		case "networking.k8s.io/v1 Ingress":
			r.ingress = &networkingv1.Ingress{}
			into = r.ingress
		default:
			t.Errorf("%s renders %s %s, which this test does not check: add it here", r, head.APIVersion, head.Kind)
			continue
		}
		strict, err := kjson.UnmarshalStrict(data, into, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
		if err != nil {
			t.Fatalf("%s: %s %s: %v", r, head.Kind, name, err)
		}
		for _, e := range strict {
			t.Errorf("%s: %s %s: %v", r, head.Kind, name, e)
		}
	}
	if r.rollout == nil {
		t.Fatalf("%s renders no Rollout; it renders %v", r, r.kinds)
	}
	return r
}

// renderEnv renders a chart with values.yaml and values-<env>.yaml, in the
// environment's namespace.
func renderEnv(t *testing.T, chart, env string) *release {
	t.Helper()
	return render(t, chart, env, namespaceOf(env), nil)
}

// TestChartsPassLint renders every chart with every environment's values file and runs
// the output through the checks of `kubectl bluegreen lint`.
func TestChartsPassLint(t *testing.T) {
	for _, chart := range charts(t) {
		for _, env := range environments(t, chart) {
			t.Run(chart+"/"+env, func(t *testing.T) {
				r := renderEnv(t, chart, env)
				report, err := cli.Lint(bytes.NewReader(r.raw))
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range report.Findings {
					t.Errorf("kubectl bluegreen lint: %s", f)
				}
				if report.Checked["Rollout"] != 1 || report.Checked["Service"] != 2 {
					t.Errorf("lint checked %v, want 1 Rollout and 2 Services", report.Checked)
				}
				if got, want := report.Checked["AnalysisTemplate"], len(r.templates); got != want {
					t.Errorf("lint checked %d AnalysisTemplates, the chart renders %d", got, want)
				}
				if strings.Contains(string(r.raw), "\t") {
					t.Error("the output holds tabs")
				}
			})
		}
	}
}

// TestEnvironmentChoices checks what each environment's values file promises.
func TestEnvironmentChoices(t *testing.T) {
	for _, chart := range charts(t) {
		for _, env := range environments(t, chart) {
			t.Run(chart+"/"+env, func(t *testing.T) {
				r := renderEnv(t, chart, env)
				checkCommon(t, r)
				bg := r.rollout.Spec.Strategy.BlueGreen
				switch env {
				case "dev":
					if !autoPromotes(bg) {
						t.Error("dev must promote by itself")
					}
					if bg.PostPromotionAnalysis != nil {
						t.Error("dev runs a post-promotion analysis; at most a pre-promotion one")
					}
					if d := bg.ScaleDownDelaySeconds; d == nil || *d > 30 {
						t.Errorf("dev keeps the previous revision %v s after the switch, want a short delay", deref(d))
					}
				case "qa", "staging":
					if !autoPromotes(bg) {
						t.Errorf("%s must promote by itself", env)
					}
					if bg.PrePromotionAnalysis == nil {
						t.Errorf("%s must analyse the preview before the switch", env)
					}
				case "prod":
					if bg.AutoPromotionEnabled == nil || *bg.AutoPromotionEnabled {
						t.Error("prod must wait for a person: autoPromotionEnabled false")
					}
					if bg.PrePromotionAnalysis == nil || bg.PostPromotionAnalysis == nil {
						t.Error("prod must analyse before and after the switch")
					}
					if chart == "api-gateway" {
						if r.hpa == nil {
							t.Error("api-gateway in prod has no HorizontalPodAutoscaler")
						}
						if r.ingress == nil {
							t.Error("api-gateway in prod has no Ingress")
						}
					}
					if !slices.Contains(channels(t, r, notify.OnRolloutAborted), "alerts-prod") {
						t.Error("aborts in prod do not go to #alerts-prod")
					}
				case "test":
					if r.hpa != nil || r.ingress != nil {
						t.Error("the test environment has no metrics-server and no ingress controller: no HPA, no Ingress")
					}
				}
				if env != "prod" {
					for _, trigger := range notify.Triggers() {
						if got := channels(t, r, trigger); slices.Contains(got, "alerts-prod") {
							t.Errorf("%s sends %s to #alerts-prod", env, trigger)
						}
					}
				}
			})
		}
	}
}

// TestAdminGatewayIsSmallerAndInternal checks how the two charts differ: the admin API
// never has more pods than the public one, no HPA, and no public Ingress.
func TestAdminGatewayIsSmallerAndInternal(t *testing.T) {
	for _, env := range environments(t, "admin-api-gateway") {
		admin := renderEnv(t, "admin-api-gateway", env)
		public := renderEnv(t, "api-gateway", env)
		if a, p := deref(admin.rollout.Spec.Replicas), deref(public.rollout.Spec.Replicas); a > p {
			t.Errorf("%s: admin-api-gateway has %d replicas, more than api-gateway's %d", env, a, p)
		}
		if admin.hpa != nil {
			t.Errorf("%s: admin-api-gateway has an HPA", env)
		}
		if ing := admin.ingress; ing != nil {
			if class := deref(ing.Spec.IngressClassName); !strings.Contains(class, "internal") {
				t.Errorf("%s: admin-api-gateway's Ingress has class %q, want an internal one", env, class)
			}
			if ing.Annotations["nginx.ingress.kubernetes.io/whitelist-source-range"] == "" {
				t.Errorf("%s: admin-api-gateway's Ingress accepts any source", env)
			}
			for _, rule := range ing.Spec.Rules {
				if !strings.Contains(rule.Host, ".internal.") {
					t.Errorf("%s: admin-api-gateway's Ingress serves %s, not an internal host", env, rule.Host)
				}
			}
		}
	}
}

func autoPromotes(bg *v1alpha1.BlueGreenStrategy) bool {
	return bg.AutoPromotionEnabled == nil || *bg.AutoPromotionEnabled // the CRD's default is true
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// channels are the Slack channels a trigger of the Rollout goes to, as the operator
// reads its annotations.
func channels(t *testing.T, r *release, trigger notify.Trigger) []string {
	t.Helper()
	subs, err := notify.ParseAnnotations(r.rollout.Annotations)
	if err != nil {
		t.Fatalf("%s: the operator refuses the Rollout's subscriptions: %v", r, err)
	}
	var out []string
	for _, d := range notify.Destinations(trigger, r.namespace, r.rollout.Labels, subs, nil) {
		out = append(out, d.Recipient)
	}
	return out
}

// checkCommon checks what every environment of every chart must hold.
func checkCommon(t *testing.T, r *release) {
	t.Helper()
	ro, bg := r.rollout, r.rollout.Spec.Strategy.BlueGreen
	if ro.Name != r.chart || bg.ActiveService != r.chart || bg.PreviewService != r.chart+"-standby" {
		t.Errorf("Rollout %s with active Service %s and preview Service %s, want %[4]s, %[4]s and %[4]s-standby",
			ro.Name, bg.ActiveService, bg.PreviewService, r.chart)
	}
	labels := ro.Spec.Template.Labels
	if labels["app.kubernetes.io/name"] != r.chart || labels["app"] != r.chart {
		t.Errorf("pod labels %v, want app.kubernetes.io/name and app %s", labels, r.chart)
	}
	for _, name := range []string{bg.ActiveService, bg.PreviewService} {
		svc := r.services[name]
		if svc == nil {
			t.Errorf("no Service %s; the chart renders %v", name, r.kinds)
			continue
		}
		if _, ok := svc.Spec.Selector[v1alpha1.PodTemplateHashLabel]; ok {
			t.Errorf("Service %s selects %s itself; the operator sets it", name, v1alpha1.PodTemplateHashLabel)
		}
	}
	if len(ro.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(ro.Spec.Template.Spec.Containers))
	}
	c := ro.Spec.Template.Spec.Containers[0]
	if want := "registry.example.com/" + r.chart + ":" + tagOf(t, r.chart, r.env); c.Image != want {
		t.Errorf("image %s, want %s (image.tag of values-%s.yaml)", c.Image, want, r.env)
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
		t.Errorf("readinessProbe %+v, want GET /healthz", p)
	}
	if r.hpa != nil {
		ref := r.hpa.Spec.ScaleTargetRef
		if ref.APIVersion != v1alpha1.GroupVersion.String() || ref.Kind != "Rollout" || ref.Name != ro.Name {
			t.Errorf("the HPA scales %s %s %s, want the Rollout %s", ref.APIVersion, ref.Kind, ref.Name, ro.Name)
		}
	}
	if r.ingress != nil {
		for _, rule := range r.ingress.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				if s := p.Backend.Service; s == nil || s.Name != bg.ActiveService {
					t.Errorf("the Ingress routes %s%s to %+v, want the active Service %s", rule.Host, p.Path, s, bg.ActiveService)
				}
			}
		}
	}
	for gate, a := range map[string]*v1alpha1.RolloutAnalysis{"prePromotionAnalysis": bg.PrePromotionAnalysis, "postPromotionAnalysis": bg.PostPromotionAnalysis} {
		if a != nil {
			checkAnalysis(t, r, gate, a)
		}
	}
	want := "deploys-" + r.env
	for _, trigger := range notify.Triggers() {
		if got := channels(t, r, trigger); !slices.Contains(got, want) {
			t.Errorf("%s goes to %v, want #%s", trigger, got, want)
		}
	}
}

// checkAnalysis runs an analysis gate as the controller would start it, for a revision
// with hash "5d8f7c9b": its templates are in the chart, its arguments resolve, the
// metrics prepare, the query measures that revision in this namespace, and the condition
// passes below maxErrorRatio and fails above it.
func checkAnalysis(t *testing.T, r *release, gate string, a *v1alpha1.RolloutAnalysis) {
	t.Helper()
	const hash = "5d8f7c9b"
	args := map[string]string{}
	for _, arg := range a.Args {
		v, from, err := analysis.RolloutArgument(r.rollout, hash, arg)
		if err != nil || from != nil || v == nil {
			t.Errorf("%s: argument %s does not resolve: %v", gate, arg.Name, err)
			continue
		}
		args[arg.Name] = *v
	}
	if args["hash"] != hash {
		t.Errorf("%s: argument hash is %q, want the new revision's pod template hash", gate, args["hash"])
	}
	maxRatio := maxErrorRatio(t, r)
	for _, ref := range a.Templates {
		tpl := r.templates[ref.TemplateName]
		if ref.ClusterScope || tpl == nil {
			t.Errorf("%s uses template %s, which the chart does not render (it renders %v)", gate, ref.TemplateName, r.kinds)
			continue
		}
		metrics, err := analysis.Prepare(v1alpha1.AnalysisRunSpec{Metrics: tpl.Spec.Metrics, Args: tpl.Spec.Args},
			analysis.NewArgs(args), analysis.Options{PrometheusAddress: "http://prometheus.test:9090"})
		if err != nil {
			t.Errorf("%s: template %s cannot run: %v", gate, ref.TemplateName, err)
			continue
		}
		for _, m := range metrics {
			q := m.Spec.Provider.Prometheus
			if q == nil {
				t.Errorf("metric %s is not a Prometheus query", m.Spec.Name)
				continue
			}
			for _, want := range []string{`namespace="` + r.namespace + `"`, `app="` + r.chart + `"`, `rollouts_pod_template_hash="` + hash + `"`} {
				if strings.Count(q.Query, want) != 2 {
					t.Errorf("metric %s: query %q does not select %s in both terms of the ratio", m.Spec.Name, q.Query, want)
				}
			}
			for result, want := range map[float64]v1alpha1.AnalysisPhase{0: v1alpha1.AnalysisPhaseSuccessful, maxRatio / 2: v1alpha1.AnalysisPhaseSuccessful, maxRatio: v1alpha1.AnalysisPhaseFailed, 1: v1alpha1.AnalysisPhaseFailed} {
				if got, err := m.Conditions.Evaluate([]float64{result}); got != want || err != nil {
					t.Errorf("metric %s with an error ratio of %v: %s (%v), want %s", m.Spec.Name, result, got, err, want)
				}
			}
		}
	}
}

// envValues reads values.yaml and values-<env>.yaml of a chart, merged as helm does.
func envValues(t *testing.T, chart, env string) map[string]any {
	t.Helper()
	vals, err := helmchart.Values(valuesFiles(chart, env), nil)
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

func maxErrorRatio(t *testing.T, r *release) float64 {
	t.Helper()
	a, _ := envValues(t, r.chart, r.env)["analysis"].(map[string]any)
	f, ok := a["maxErrorRatio"].(float64)
	if !ok || f <= 0 || f >= 1 {
		t.Fatalf("analysis.maxErrorRatio = %v, want a ratio between 0 and 1", a["maxErrorRatio"])
	}
	return f
}

// tagLine is how an environment's values file holds its image tag: one quoted
// "  tag:" line, under "image:". CI rewrites that line.
var tagLine = regexp.MustCompile(`(?m)^  tag: "([^"]+)"$`)

// tagOf is image.tag of values-<env>.yaml, which must be set there (not only in
// values.yaml) as a quoted string on its own line.
func tagOf(t *testing.T, chart, env string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoDir, chart, "values-"+env+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := tagLine.FindAllSubmatch(data, -1)
	if len(m) != 1 {
		t.Fatalf("values-%s.yaml of %s has %d quoted `  tag: \"…\"` lines, want exactly one, image.tag", env, chart, len(m))
	}
	var vals struct {
		Image struct {
			Tag any `json:"tag"`
		} `json:"image"`
	}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		t.Fatal(err)
	}
	if vals.Image.Tag != string(m[0][1]) {
		t.Fatalf("values-%s.yaml of %s: the tag line %q is not image.tag (%v)", env, chart, m[0][0], vals.Image.Tag)
	}
	return string(m[0][1])
}

// TestTestEnvironmentContract pins what the demo and its test rely on when they install
// api-gateway with values.yaml and values-test.yaml into a local cluster.
func TestTestEnvironmentContract(t *testing.T) {
	const ns = "demo"
	r := render(t, "api-gateway", "test", ns, nil)
	ro := r.rollout
	bg := ro.Spec.Strategy.BlueGreen
	if got := deref(ro.Spec.Replicas); got != 2 {
		t.Errorf("replicas %d, want 2", got)
	}
	if !autoPromotes(bg) || bg.AutoPromotionSeconds != 0 {
		t.Errorf("autoPromotionEnabled %v, autoPromotionSeconds %d: want promotion as soon as the analysis passes",
			deref(bg.AutoPromotionEnabled), bg.AutoPromotionSeconds)
	}
	if deref(bg.ScaleDownDelaySeconds) != 10 || deref(bg.AbortScaleDownDelaySeconds) != 10 {
		t.Errorf("scaleDownDelaySeconds %d, abortScaleDownDelaySeconds %d: want 10 and 10",
			deref(bg.ScaleDownDelaySeconds), deref(bg.AbortScaleDownDelaySeconds))
	}
	if bg.PreviewReplicaCount != nil || bg.PostPromotionAnalysis != nil {
		t.Error("the test environment previews at full size and has no post-promotion analysis")
	}
	if c := ro.Spec.Template.Spec.Containers[0]; c.Image != "registry.example.com/api-gateway:1.4.2" {
		t.Errorf("image %s", c.Image)
	}
	if r.hpa != nil || r.ingress != nil {
		t.Errorf("the test environment renders %v: no HPA, no Ingress", r.kinds)
	}
	labels := ro.Spec.Template.Labels
	for _, name := range []string{"api-gateway", "api-gateway-standby"} {
		svc := r.services[name]
		if svc == nil {
			t.Fatalf("no Service %s in %v", name, r.kinds)
		}
		for k, v := range svc.Spec.Selector {
			if labels[k] != v {
				t.Errorf("Service %s selects %s=%s, which the pods do not have (%v)", name, k, v, labels)
			}
		}
	}

	pre := bg.PrePromotionAnalysis
	if pre == nil || len(pre.Templates) != 1 || pre.Templates[0].TemplateName != "api-gateway-error-rate" || pre.Templates[0].ClusterScope {
		t.Fatalf("prePromotionAnalysis %+v, want the template api-gateway-error-rate", pre)
	}
	if len(pre.Args) != 1 || pre.Args[0].Name != "hash" || pre.Args[0].ValueFrom == nil ||
		deref(pre.Args[0].ValueFrom.PodTemplateHashValue) != v1alpha1.Latest {
		t.Errorf("prePromotionAnalysis args %+v, want hash from podTemplateHashValue Latest", pre.Args)
	}
	tpl := r.templates["api-gateway-error-rate"]
	if tpl == nil || len(tpl.Spec.Metrics) != 1 {
		t.Fatalf("no AnalysisTemplate api-gateway-error-rate with one metric in %v", r.kinds)
	}
	m := tpl.Spec.Metrics[0]
	if m.Count == nil || m.FailureLimit == nil {
		t.Fatalf("metric count %v, failureLimit %v: want both set", m.Count, m.FailureLimit)
	}
	if m.Interval != "2s" || m.Count.String() != "3" || m.FailureLimit.String() != "0" {
		t.Errorf("metric interval %q, count %v, failureLimit %v: want 2s, 3, 0", m.Interval, m.Count, m.FailureLimit)
	}
	if m.SuccessCondition != "result[0] < 0.05" || m.FailureCondition != "" {
		t.Errorf("successCondition %q, failureCondition %q: want `result[0] < 0.05` only", m.SuccessCondition, m.FailureCondition)
	}
	p := m.Provider.Prometheus
	if p == nil {
		t.Fatal("the metric is not a Prometheus query")
	}
	if p.Address != "" {
		t.Errorf("prometheus.address %q, want none, so that the operator's --prometheus-address applies", p.Address)
	}
	sel := `namespace="demo",app="api-gateway",rollouts_pod_template_hash="{{args.hash}}"`
	want := `sum(rate(http_requests_total{` + sel + `,code=~"5.."}[30s])) / sum(rate(http_requests_total{` + sel + `}[30s]))`
	if got := strings.Join(strings.Fields(p.Query), " "); got != want {
		t.Errorf("query\n%s\nwant\n%s", got, want)
	}

	for _, trigger := range []notify.Trigger{notify.OnRolloutUpdated, notify.OnRolloutPaused, notify.OnRolloutPromoted,
		notify.OnRolloutCompleted, notify.OnRolloutAborted, notify.OnAnalysisRunFailed} {
		if got := channels(t, r, trigger); !slices.Equal(got, []string{"deploys-test"}) {
			t.Errorf("%s goes to %v, want [deploys-test]", trigger, got)
		}
	}
}

// TestNewTagChangesOnlyTheImage is the CI flow: CI rewrites the tag line of
// values-<env>.yaml, and the rendered manifests differ in the image of the Rollout's
// pod template and nowhere else (no label or name follows the tag, so Services and
// selectors stay put and the new revision is the only change).
func TestNewTagChangesOnlyTheImage(t *testing.T) {
	const newTag = "9.9.9-rc.1"
	for _, chart := range charts(t) {
		for _, env := range environments(t, chart) {
			t.Run(chart+"/"+env, func(t *testing.T) {
				before := renderEnv(t, chart, env)
				path := filepath.Join(repoDir, chart, "values-"+env+".yaml")
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				tagOf(t, chart, env) // exactly one tag line, which is image.tag
				edited := filepath.Join(t.TempDir(), filepath.Base(path))
				if err := os.WriteFile(edited, tagLine.ReplaceAll(data, []byte(`  tag: "`+newTag+`"`)), 0o644); err != nil {
					t.Fatal(err)
				}
				after := render(t, chart, env, namespaceOf(env), []string{filepath.Join(repoDir, chart, "values.yaml"), edited})
				a, b := strings.Split(string(before.raw), "\n"), strings.Split(string(after.raw), "\n")
				if len(a) != len(b) {
					t.Fatalf("the new tag changes the number of lines: %d, then %d", len(a), len(b))
				}
				var changed []string
				for i := range a {
					if a[i] != b[i] {
						changed = append(changed, b[i])
					}
				}
				want := `          image: "registry.example.com/` + chart + `:` + newTag + `"`
				if len(changed) != 1 || changed[0] != want {
					t.Errorf("the new tag changes %q, want only %q", changed, want)
				}
				if got := after.rollout.Spec.Template.Spec.Containers[0].Image; !strings.HasSuffix(got, ":"+newTag) {
					t.Errorf("the Rollout's image is %s after the change", got)
				}
			})
		}
	}
}

// application is the part of an Argo CD Application this test reads.
type application struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Project string `json:"project"`
		Source  struct {
			RepoURL        string `json:"repoURL"`
			TargetRevision string `json:"targetRevision"`
			Path           string `json:"path"`
			Helm           struct {
				ReleaseName string   `json:"releaseName"`
				ValueFiles  []string `json:"valueFiles"`
			} `json:"helm"`
		} `json:"source"`
		Destination struct {
			Server    string `json:"server"`
			Namespace string `json:"namespace"`
		} `json:"destination"`
		SyncPolicy struct {
			Automated *struct {
				Prune    bool `json:"prune"`
				SelfHeal bool `json:"selfHeal"`
			} `json:"automated"`
			SyncOptions []string `json:"syncOptions"`
		} `json:"syncPolicy"`
		IgnoreDifferences []struct {
			Group        string   `json:"group"`
			Kind         string   `json:"kind"`
			Name         string   `json:"name"`
			JSONPointers []string `json:"jsonPointers"`
		} `json:"ignoreDifferences"`
	} `json:"spec"`
	file string
}

// ignores reports whether the Application ignores a field of an object.
func (a *application) ignores(group, kind, name, pointer string) bool {
	for _, d := range a.Spec.IgnoreDifferences {
		if d.Group == group && d.Kind == kind && (d.Name == "" || d.Name == name) && slices.Contains(d.JSONPointers, pointer) {
			return true
		}
	}
	return false
}

type appProject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		SourceRepos  []string `json:"sourceRepos"`
		Destinations []struct {
			Server    string `json:"server"`
			Namespace string `json:"namespace"`
		} `json:"destinations"`
		NamespaceResourceWhitelist []struct {
			Group string `json:"group"`
			Kind  string `json:"kind"`
		} `json:"namespaceResourceWhitelist"`
	} `json:"spec"`
}

// argoObjects reads every document under examples/argocd.
func argoObjects(t *testing.T) ([]*application, map[string]*appProject) {
	t.Helper()
	var apps []*application
	projects := map[string]*appProject{}
	err := filepath.WalkDir(argocdDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			chunk, err := reader.Read()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(chunk, &head); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if head.APIVersion == "" && head.Kind == "" {
				continue // only comments
			}
			if head.APIVersion != "argoproj.io/v1alpha1" {
				t.Errorf("%s: apiVersion %q, want argoproj.io/v1alpha1", path, head.APIVersion)
				continue
			}
			switch head.Kind {
			case "Application":
				app := &application{file: path}
				if err := yaml.Unmarshal(chunk, app); err != nil {
					return err
				}
				apps = append(apps, app)
			case "AppProject":
				p := &appProject{}
				if err := yaml.Unmarshal(chunk, p); err != nil {
					return err
				}
				projects[p.Metadata.Name] = p
			default:
				t.Errorf("%s: unexpected kind %s", path, head.Kind)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].file < apps[j].file })
	return apps, projects
}

var valueFileEnv = regexp.MustCompile(`^values-([a-z0-9-]+)\.yaml$`)

// TestArgoCDApplications checks that every Application deploys an existing chart with
// existing values files from its environment's branch, and that what it deploys is
// what the tests above render, with the differences the operator makes ignored.
func TestArgoCDApplications(t *testing.T) {
	apps, projects := argoObjects(t)
	seen := map[string]string{}
	for _, app := range apps {
		t.Run(app.file, func(t *testing.T) {
			src := app.Spec.Source
			chart := src.Path
			if _, err := os.Stat(filepath.Join(repoDir, chart, "Chart.yaml")); chart == "" || err != nil {
				t.Fatalf("path %q is not a chart of the manifest repository", chart)
			}
			if src.RepoURL != repoURL {
				t.Errorf("repoURL %s, want %s", src.RepoURL, repoURL)
			}
			files := src.Helm.ValueFiles
			if len(files) != 2 || files[0] != "values.yaml" {
				t.Fatalf("valueFiles %v, want [values.yaml values-<env>.yaml]", files)
			}
			m := valueFileEnv.FindStringSubmatch(files[1])
			if m == nil {
				t.Fatalf("valueFiles %v: the second is not values-<env>.yaml", files)
			}
			env := m[1]
			for _, f := range files {
				if _, err := os.Stat(filepath.Join(repoDir, chart, f)); err != nil {
					t.Errorf("values file %s does not exist in %s", f, chart)
				}
			}
			if !slices.Contains(argoEnvironments, env) {
				t.Errorf("environment %s is not one of %v", env, argoEnvironments)
			}
			if src.TargetRevision != env {
				t.Errorf("targetRevision %q, want the branch %s", src.TargetRevision, env)
			}
			if app.Metadata.Labels["environment"] != env || filepath.Base(filepath.Dir(app.file)) != env {
				t.Errorf("environment label %q, directory %s, want %s", app.Metadata.Labels["environment"], filepath.Dir(app.file), env)
			}
			if want := chart + "-" + env; app.Metadata.Name != want {
				t.Errorf("name %s, want %s", app.Metadata.Name, want)
			}
			if src.Helm.ReleaseName != chart {
				t.Errorf("releaseName %q, want %s: it names the Rollout and its Services", src.Helm.ReleaseName, chart)
			}
			if ns := app.Spec.Destination.Namespace; ns != namespaceOf(env) {
				t.Errorf("destination namespace %q, want %s", ns, namespaceOf(env))
			}
			key := chart + "/" + env
			if other, dup := seen[key]; dup {
				t.Errorf("%s is deployed by %s too", key, other)
			}
			seen[key] = app.file

			auto := app.Spec.SyncPolicy.Automated
			if env == "prod" && auto != nil {
				t.Error("prod is synced by itself; a person syncs production")
			}
			if env != "prod" && (auto == nil || !auto.Prune || !auto.SelfHeal) {
				t.Errorf("%s: automated sync with prune and selfHeal, got %+v", env, auto)
			}
			if !slices.Contains(app.Spec.SyncPolicy.SyncOptions, "RespectIgnoreDifferences=true") {
				t.Error("syncOptions lack RespectIgnoreDifferences=true: a sync would take back the operator's changes")
			}

			// What Argo CD deploys: the chart with these values files, in this namespace.
			var paths []string
			for _, f := range files {
				paths = append(paths, filepath.Join(repoDir, chart, f))
			}
			r := render(t, chart, env, app.Spec.Destination.Namespace, paths)
			bg := r.rollout.Spec.Strategy.BlueGreen
			for _, svc := range []string{bg.ActiveService, bg.PreviewService} {
				if !app.ignores("", "Service", svc, "/spec/selector/"+v1alpha1.PodTemplateHashLabel) {
					t.Errorf("ignoreDifferences lacks the selector key the operator sets on Service %s", svc)
				}
			}
			if hpaManaged := r.hpa != nil; hpaManaged != app.ignores(v1alpha1.GroupVersion.Group, "Rollout", r.rollout.Name, "/spec/replicas") {
				t.Errorf("an HPA manages the Rollout: %v, but ignoreDifferences of its spec.replicas: %v", hpaManaged, !hpaManaged)
			}

			project := projects[app.Spec.Project]
			if project == nil {
				t.Fatalf("project %q is not in %s", app.Spec.Project, argocdDir)
			}
			if !slices.Contains(project.Spec.SourceRepos, src.RepoURL) {
				t.Errorf("project %s does not allow %s", project.Metadata.Name, src.RepoURL)
			}
			allowed := false
			for _, d := range project.Spec.Destinations {
				allowed = allowed || d.Server == app.Spec.Destination.Server && d.Namespace == app.Spec.Destination.Namespace
			}
			if !allowed {
				t.Errorf("project %s does not allow %+v", project.Metadata.Name, app.Spec.Destination)
			}
			for _, k := range r.kinds {
				kind := strings.SplitN(k, "/", 2)[0]
				ok := false
				for _, w := range project.Spec.NamespaceResourceWhitelist {
					ok = ok || w.Kind == kind
				}
				if !ok {
					t.Errorf("project %s does not allow kind %s", project.Metadata.Name, kind)
				}
			}
		})
	}
	for _, chart := range charts(t) {
		for _, env := range argoEnvironments {
			if seen[chart+"/"+env] == "" {
				t.Errorf("no Application deploys %s to %s", chart, env)
			}
		}
	}
}
