// Package install checks the two ways to install the operator, the kustomization in
// config/default and the Helm chart in charts/bluegreen, against what the code generates:
// the same CRDs, the same RBAC rules, and a manager that runs locked down.
package install

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/bluegreen-dev/bluegreen/pkg/notify"
	"github.com/bluegreen-dev/bluegreen/test/helmchart"
)

const root = "../.."

// decode splits a multi-document YAML stream into objects.
func decode(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	reader := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var obj map[string]any
		err := reader.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(obj) > 0 {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// generatedCRDs are config/crd/bases, by name.
func generatedCRDs(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "config/crd/bases/*.yaml"))
	if err != nil || len(files) != 4 {
		t.Fatalf("want the 4 generated CRDs, found %v (%v)", files, err)
	}
	out := map[string]*unstructured.Unstructured{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range decode(t, data) {
			out[obj.GetName()] = obj
		}
	}
	return out
}

// generatedRules are the rules of the ClusterRole that controller-gen makes from the markers.
func generatedRules(t *testing.T) []rbacv1.PolicyRule {
	t.Helper()
	for _, obj := range decode(t, readFile(t, "config/rbac/role.yaml")) {
		if obj.GetKind() == "ClusterRole" && obj.GetName() == "bluegreen-manager-role" {
			return rulesOf(t, obj)
		}
	}
	t.Fatal("config/rbac/role.yaml has no ClusterRole bluegreen-manager-role")
	return nil
}

func rulesOf(t *testing.T, obj *unstructured.Unstructured) []rbacv1.PolicyRule {
	t.Helper()
	var role rbacv1.ClusterRole
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &role); err != nil {
		t.Fatal(err)
	}
	return role.Rules
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

func kinds(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	sort.Strings(out)
	return out
}

// checkManager checks that the manager runs locked down, as its ServiceAccount.
func checkManager(t *testing.T, obj *unstructured.Unstructured, serviceAccount string) *appsv1.Deployment {
	t.Helper()
	if obj == nil {
		t.Fatal("no manager Deployment")
	}
	var d appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &d); err != nil {
		t.Fatal(err)
	}
	pod := d.Spec.Template.Spec
	if pod.ServiceAccountName != serviceAccount {
		t.Errorf("manager runs as ServiceAccount %q, want %q", pod.ServiceAccountName, serviceAccount)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("the manager pod does not require a non-root user")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Error("the manager container has no securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("the manager's root filesystem is writable")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("the manager may escalate privileges")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("the manager's capabilities are %+v, want all dropped", sc.Capabilities)
	}
	if c.LivenessProbe == nil || c.ReadinessProbe == nil {
		t.Error("the manager has no liveness or readiness probe")
	}
	return &d
}

func TestKustomizationMatchesGeneratedFiles(t *testing.T) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(root, "config/default"))
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	out, err := resources.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	objs := decode(t, out)

	for name, want := range generatedCRDs(t) {
		got := find(objs, "CustomResourceDefinition", name)
		if got == nil {
			t.Errorf("config/default lacks CRD %s; it has %v", name, kinds(objs))
			continue
		}
		if !equality.Semantic.DeepEqual(got.Object["spec"], want.Object["spec"]) {
			t.Errorf("CRD %s in config/default differs from config/crd/bases", name)
		}
	}
	role := find(objs, "ClusterRole", "bluegreen-manager-role")
	if role == nil {
		t.Fatalf("no ClusterRole bluegreen-manager-role in %v", kinds(objs))
	}
	if got, want := rulesOf(t, role), generatedRules(t); !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("the installed manager role differs from the generated one:\n got %v\nwant %v", got, want)
	}
	binding := find(objs, "ClusterRoleBinding", "bluegreen-manager-rolebinding")
	if binding == nil {
		t.Fatal("no ClusterRoleBinding for the manager role")
	}
	for _, name := range []string{"bluegreen-notifications-cm", "bluegreen-notifications-secret"} {
		if find(objs, "ConfigMap", name) == nil && find(objs, "Secret", name) == nil {
			t.Errorf("config/default lacks the notifications object %s that the manager reads by default", name)
		}
	}
	subjects, _, _ := unstructured.NestedSlice(binding.Object, "subjects")
	if len(subjects) != 1 || subjects[0].(map[string]any)["namespace"] != "bluegreen-system" ||
		subjects[0].(map[string]any)["name"] != "bluegreen-controller-manager" {
		t.Errorf("the manager role is bound to %v, want ServiceAccount bluegreen-system/bluegreen-controller-manager", subjects)
	}
	d := checkManager(t, find(objs, "Deployment", "bluegreen-controller-manager"), "bluegreen-controller-manager")
	if d.Namespace != "bluegreen-system" {
		t.Errorf("manager in namespace %q, want bluegreen-system", d.Namespace)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasPrefix(img, "ghcr.io/bluegreen-dev/bluegreen:") {
		t.Errorf("manager image %q", img)
	}
}

func renderChart(t *testing.T, values map[string]any) ([]*unstructured.Unstructured, [][]byte) {
	t.Helper()
	dir := filepath.Join(root, "charts/bluegreen")
	rendered, err := helmchart.Render(dir, "bluegreen", "bluegreen-system", nil, values)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	chart, err := loader.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var crds [][]byte
	for _, f := range chart.CRDObjects() {
		crds = append(crds, f.File.Data)
	}
	return decode(t, rendered), crds
}

func TestChartMatchesGeneratedFiles(t *testing.T) {
	objs, crds := renderChart(t, nil)
	want := generatedCRDs(t)
	if len(crds) != len(want) {
		t.Fatalf("the chart has %d CRDs, want %d", len(crds), len(want))
	}
	for _, data := range crds {
		for _, got := range decode(t, data) {
			if w := want[got.GetName()]; w == nil || !equality.Semantic.DeepEqual(got.Object, w.Object) {
				t.Errorf("chart CRD %s differs from config/crd/bases: run make manifests", got.GetName())
			}
		}
	}
	role := find(objs, "ClusterRole", "bluegreen-manager")
	if role == nil {
		t.Fatalf("no ClusterRole bluegreen-manager in %v", kinds(objs))
	}
	if got, want := rulesOf(t, role), generatedRules(t); !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("the chart's manager role differs from the generated one:\n got %v\nwant %v", got, want)
	}
	checkManager(t, find(objs, "Deployment", "bluegreen"), "bluegreen")
}

func TestChartNamespacedInstallHasNoClusterWideManagerRole(t *testing.T) {
	objs, _ := renderChart(t, map[string]any{"watchNamespaces": []any{"team-a", "team-b"}})
	if find(objs, "ClusterRole", "bluegreen-manager") != nil {
		t.Error("a namespaced install still has the cluster-wide manager role")
	}
	for _, o := range objs {
		if o.GetKind() != "ClusterRole" {
			continue
		}
		for _, rule := range rulesOf(t, o) {
			for _, r := range rule.Resources {
				if r != "clusteranalysistemplates" && r != "tokenreviews" && r != "subjectaccessreviews" {
					t.Errorf("ClusterRole %s of a namespaced install grants %v on %s", o.GetName(), rule.Verbs, r)
				}
			}
		}
	}
	var namespaces []string
	for _, o := range objs {
		if o.GetKind() == "Role" && o.GetName() == "bluegreen-manager" {
			namespaces = append(namespaces, o.GetNamespace())
			if got, want := rulesOf(t, o), generatedRules(t); !equality.Semantic.DeepEqual(got, want) {
				t.Errorf("Role in %s differs from the generated rules", o.GetNamespace())
			}
		}
	}
	sort.Strings(namespaces)
	if !slices.Equal(namespaces, []string{"team-a", "team-b"}) {
		t.Errorf("manager Roles in %v, want team-a and team-b", namespaces)
	}
	d := checkManager(t, find(objs, "Deployment", "bluegreen"), "bluegreen")
	if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--namespaces=team-a,team-b") {
		t.Errorf("manager args %v do not limit it to the namespaces", d.Spec.Template.Spec.Containers[0].Args)
	}
}

func TestChartRendersTheSlackConfiguration(t *testing.T) {
	objs, _ := renderChart(t, map[string]any{"slack": map[string]any{
		"token": "xoxb-test", "apiURL": "http://slack.local/api/",
		"subscriptions": []any{map[string]any{"recipients": []any{"slack:deploys"}, "namespaces": []any{"shop"}}},
	}})
	cm := find(objs, "ConfigMap", "bluegreen-notifications-cm")
	secret := find(objs, "Secret", "bluegreen-notifications-secret")
	if cm == nil || secret == nil {
		t.Fatalf("with a Slack token the chart renders %v, want the notifications ConfigMap and Secret", kinds(objs))
	}
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	for _, want := range []string{"token: $slack-token", "apiURL: http://slack.local/api/"} {
		if !strings.Contains(data["service.slack"], want) {
			t.Errorf("service.slack = %q, want it to hold %q", data["service.slack"], want)
		}
	}
	if !strings.Contains(data["subscriptions"], "slack:deploys") {
		t.Errorf("subscriptions = %q", data["subscriptions"])
	}
	if strings.Contains(data["service.slack"], "xoxb-test") {
		t.Error("the token is in the ConfigMap")
	}
	token, _, _ := unstructured.NestedString(secret.Object, "stringData", "slack-token")
	if token != "xoxb-test" {
		t.Errorf("the Secret holds token %q", token)
	}
	// The operator reads what the chart writes.
	if _, err := notify.ParseConfig(data, map[string][]byte{"slack-token": []byte(token)}); err != nil {
		t.Errorf("the operator refuses the chart's notifications configuration: %v", err)
	}
	plain, _ := renderChart(t, nil)
	if find(plain, "ConfigMap", "bluegreen-notifications-cm") != nil {
		t.Error("without Slack values the chart still renders a notifications ConfigMap")
	}
}
