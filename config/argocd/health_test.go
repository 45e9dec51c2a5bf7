package argocd_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/strvals"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/bluegreen-dev/bluegreen/config/argocd"
)

const (
	rolloutKey     = "resource.customizations.health.rollouts.bluegreen.dev_Rollout"
	analysisRunKey = "resource.customizations.health.rollouts.bluegreen.dev_AnalysisRun"
)

// scripts are the .lua files by argocd-cm key.
func scripts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for key, file := range map[string]string{rolloutKey: "rollout-health.lua", analysisRunKey: "analysisrun-health.lua"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out[key] = string(b)
	}
	return out
}

// checkData checks that data holds the two health checks exactly as in the .lua files.
func checkData(t *testing.T, what string, data map[string]string) {
	t.Helper()
	for key, want := range scripts(t) {
		got, ok := data[key]
		switch {
		case !ok:
			t.Errorf("%s has no key %s", what, key)
		case got != want:
			t.Errorf("%s: %s differs from its .lua file at byte %d: copy the file into it, indented by 4 spaces", what, key, firstDifference(got, want))
		}
	}
}

func firstDifference(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestConfigMapHoldsTheLuaFiles(t *testing.T) {
	b, err := os.ReadFile("argocd-cm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(b, &cm); err != nil {
		t.Fatalf("argocd-cm.yaml: %v", err)
	}
	if cm.Kind != "ConfigMap" || cm.Name != "argocd-cm" || cm.Namespace != "" {
		t.Errorf("argocd-cm.yaml is %s %s in namespace %q: want ConfigMap argocd-cm without a namespace, so that it patches Argo CD's wherever it is installed", cm.Kind, cm.Name, cm.Namespace)
	}
	if len(cm.Data) != 2 {
		t.Errorf("argocd-cm.yaml has keys %v: want only the two health checks, so that merging it changes nothing else", keys(cm.Data))
	}
	checkData(t, "argocd-cm.yaml", cm.Data)
	s := scripts(t)
	if argocd.RolloutHealth != s[rolloutKey] || argocd.AnalysisRunHealth != s[analysisRunKey] {
		t.Error("the embedded scripts are not the .lua files")
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestKustomizeComponentMergesIntoArgoCD builds what README.md shows: Argo CD's install
// (whose argocd-cm has no namespace and settings of its own) with this directory as a
// component.
func TestKustomizeComponentMergesIntoArgoCD(t *testing.T) {
	fs := filesys.MakeFsInMemory()
	for _, name := range []string{"kustomization.yaml", "argocd-cm.yaml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := fs.WriteFile(filepath.Join("/bluegreen/config/argocd", name), b); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"/gitops/install.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
data:
  url: https://argocd.example.com
`,
		"/gitops/kustomization.yaml": `namespace: argocd
resources:
- install.yaml
components:
- ../bluegreen/config/argocd
`,
	}
	for name, content := range files {
		if err := fs.WriteFile(name, []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/gitops")
	if err != nil {
		t.Fatal(err)
	}
	out, err := resources.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(out, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Namespace != "argocd" || cm.Data["url"] != "https://argocd.example.com" {
		t.Errorf("the component replaced Argo CD's settings instead of adding to them:\n%s", out)
	}
	checkData(t, "the kustomized argocd-cm", cm.Data)
}

// TestHelmSetFileKeys reads the --set-file arguments of README.md as Helm does: they must
// put each file, whole, under one key of configs.cm.
func TestHelmSetFileKeys(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	args := regexp.MustCompile(`--set-file '([^']+)'`).FindAllStringSubmatch(string(readme), -1)
	if len(args) != 2 {
		t.Fatalf("README.md has %d --set-file arguments, want 2", len(args))
	}
	values := map[string]any{}
	for _, arg := range args {
		read := func(rs []rune) (any, error) {
			b, err := os.ReadFile(filepath.Join("..", "..", string(rs)))
			return string(b), err
		}
		if err := strvals.ParseIntoFile(arg[1], values, read); err != nil {
			t.Fatalf("--set-file %q: %v", arg[1], err)
		}
	}
	configs, _ := values["configs"].(map[string]any)
	cm, _ := configs["cm"].(map[string]any)
	data := map[string]string{}
	for k, v := range cm {
		data[k], _ = v.(string)
	}
	if len(values) != 1 || len(configs) != 1 || len(data) != 2 {
		t.Errorf("the --set-file arguments give the values %v: want two keys under configs.cm", keys(data))
	}
	checkData(t, "the Helm values", data)
}

// object decodes a JSON object as the API machinery does: whole numbers as int64.
func object(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		t.Fatal(err)
	}
	return toInt64(obj).(map[string]any)
}

func toInt64(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, item := range v {
			v[k] = toInt64(item)
		}
	case []any:
		for i, item := range v {
			v[i] = toInt64(item)
		}
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	}
	return v
}

func check(t *testing.T, script, obj string, want string, wantInMessage ...string) {
	t.Helper()
	h, err := argocd.Evaluate(script, object(t, obj))
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != want {
		t.Errorf("health %s (%s), want %s", h.Status, h.Message, want)
	}
	for _, w := range wantInMessage {
		if !strings.Contains(h.Message, w) {
			t.Errorf("message %q does not say %q", h.Message, w)
		}
	}
}

// The cases below are those the controller never leaves for long: the e2e tests check every
// state it settles in (test/e2e/health_test.go).

func TestRolloutWithoutStatusIsProgressing(t *testing.T) {
	check(t, argocd.RolloutHealth, `{"apiVersion": "rollouts.bluegreen.dev/v1alpha1", "kind": "Rollout",
		"metadata": {"name": "web", "namespace": "shop", "generation": 1},
		"spec": {"replicas": 2, "strategy": {"blueGreen": {"activeService": "web"}}}}`,
		argocd.Progressing, "controller")
}

func TestRolloutAheadOfItsObservedGenerationIsProgressing(t *testing.T) {
	// What the controller wrote for generation 2 (Healthy, even Degraded) says nothing of generation 3.
	for _, phase := range []string{"Healthy", "Degraded", "Paused"} {
		t.Run(phase, func(t *testing.T) {
			check(t, argocd.RolloutHealth, `{"apiVersion": "rollouts.bluegreen.dev/v1alpha1", "kind": "Rollout",
				"metadata": {"name": "web", "namespace": "shop", "generation": 3},
				"status": {"observedGeneration": 2, "phase": "`+phase+`", "message": "as of generation 2",
					"conditions": [{"type": "InvalidSpec", "status": "True", "reason": "InvalidSpec", "message": "spec.selector is empty"}]}}`,
				argocd.Progressing, "generation 3, observed 2")
		})
	}
}

func TestGenerationsAsJSONNumbers(t *testing.T) {
	// Argo CD turns a json.Number into a Lua string: the check compares numbers all the same.
	obj := map[string]any{
		"metadata": map[string]any{"name": "web", "generation": json.Number("10")},
		"status":   map[string]any{"observedGeneration": json.Number("9"), "phase": "Healthy"},
	}
	h, err := argocd.Evaluate(argocd.RolloutHealth, obj)
	if err != nil || h.Status != argocd.Progressing {
		t.Fatalf("observedGeneration \"9\" < generation \"10\": got %+v, %v; want Progressing", h, err)
	}
	obj["status"].(map[string]any)["observedGeneration"] = json.Number("10")
	if h, err := argocd.Evaluate(argocd.RolloutHealth, obj); err != nil || h.Status != argocd.Healthy {
		t.Fatalf("observedGeneration \"10\" = generation \"10\": got %+v, %v; want Healthy", h, err)
	}
}

func TestAnalysisRunWithoutStatusIsProgressing(t *testing.T) {
	check(t, argocd.AnalysisRunHealth, `{"apiVersion": "rollouts.bluegreen.dev/v1alpha1", "kind": "AnalysisRun",
		"metadata": {"name": "web-abc-pre-1", "namespace": "shop", "labels": {"rollouts.bluegreen.dev/rollout": "web"}},
		"spec": {"metrics": [{"name": "m", "provider": {"web": {"url": "http://x"}}}]}}`,
		argocd.Progressing)
}

func TestTerminatedRunStillMeasuringIsProgressing(t *testing.T) {
	check(t, argocd.AnalysisRunHealth, `{"apiVersion": "rollouts.bluegreen.dev/v1alpha1", "kind": "AnalysisRun",
		"metadata": {"name": "web-abc-pre-1", "namespace": "shop"},
		"spec": {"terminate": true, "metrics": [{"name": "m", "provider": {"web": {"url": "http://x"}}}]},
		"status": {"phase": "Running"}}`,
		argocd.Progressing, "Terminated")
}

func TestEvaluateOpensOnlyArgoCDsLibraries(t *testing.T) {
	// Argo CD opens no string library for a check from argocd-cm.
	if _, err := argocd.Evaluate(`return {status = string.upper("healthy")}`, map[string]any{}); err == nil {
		t.Error("a check that calls string.upper ran: Argo CD would fail it")
	}
	h, err := argocd.Evaluate(`return {status = "Fine", message = "x"}`, map[string]any{})
	if err != nil || h.Status != argocd.Unknown {
		t.Errorf("status Fine: got %+v, %v; want Unknown, as Argo CD says of a status it does not know", h, err)
	}
	if _, err := argocd.Evaluate(`return "Healthy"`, map[string]any{}); err == nil {
		t.Error("a check that returns a string, not a table, was accepted")
	}
}
