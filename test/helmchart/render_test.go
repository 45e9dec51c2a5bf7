package helmchart

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const shop = "testdata/shop"

func valuesFile(name string) string { return filepath.Join("testdata", "values", name) }

// TestRenderIsHelmTemplate pins the whole output for a chart with every case helm
// template handles: install order by kind (ConfigMap, Service, then an unknown kind),
// documents of one file in their order, an empty document, a template that renders
// nothing, NOTES.txt, a partial and a hook (last).
func TestRenderIsHelmTemplate(t *testing.T) {
	out, err := Render(shop, "r1", "", []string{valuesFile("a.yaml"), valuesFile("b.yaml")}, map[string]any{"replicas": 3})
	if err != nil {
		t.Fatal(err)
	}
	want := `---
# Source: shop/templates/configmap.yaml
# Two documents and an empty one, in this order.
apiVersion: v1
kind: ConfigMap
metadata:
  name: b-config
data:
  greeting: "hi"
  image: "registry.example.com/shop:3.0"
  pullPolicy: IfNotPresent
  kube: "` + KubeVersion.Version + `"
---
# Source: shop/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a-config
data:
  replicas: "3"
---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: r1-shop
  namespace: default
spec:
  ports:
    - port: 8080
    - port: 8443
---
# Source: shop/templates/widget.yaml
apiVersion: example.com/v1
kind: Widget
metadata:
  name: widget
---
# Source: shop/templates/hook.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    helm.sh/hook: pre-install
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: registry.example.com/migrate
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	again, err := Render(shop, "r1", "", []string{valuesFile("a.yaml"), valuesFile("b.yaml")}, map[string]any{"replicas": 3})
	if err != nil || string(again) != string(out) {
		t.Errorf("a second render differs (%v)", err)
	}
}

func configMapData(t *testing.T, out []byte, key string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(key) + `: (.*)$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no %s in\n%s", key, out)
	}
	return string(m[1])
}

// TestValuesPrecedence: chart defaults < first file < second file < overrides; maps are
// merged key by key, lists replaced; override keys are --set paths.
func TestValuesPrecedence(t *testing.T) {
	cases := []struct {
		name      string
		files     []string
		overrides map[string]any
		key, want string
	}{
		{"chart default", nil, nil, "image", `"registry.example.com/shop:1.0"`},
		{"first file", []string{valuesFile("a.yaml")}, nil, "image", `"registry.example.com/shop:2.0"`},
		{"later file wins", []string{valuesFile("a.yaml"), valuesFile("b.yaml")}, nil, "image", `"registry.example.com/shop:3.0"`},
		{"earlier file kept where the later is silent", []string{valuesFile("a.yaml"), valuesFile("b.yaml")}, nil, "greeting", `"hi"`},
		{"override path", []string{valuesFile("b.yaml")}, map[string]any{"image.tag": "4.0"}, "image", `"registry.example.com/shop:4.0"`},
		{"override map is merged", []string{valuesFile("b.yaml")}, map[string]any{"image": map[string]any{"tag": "5.0"}}, "image", `"registry.example.com/shop:5.0"`},
		{"override map keeps the rest", nil, map[string]any{"image": map[string]any{"tag": "5.0"}}, "pullPolicy", `IfNotPresent`},
		{"override number", nil, map[string]any{"replicas": 7}, "replicas", `"7"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := Render(shop, "r1", "shop", c.files, c.overrides)
			if err != nil {
				t.Fatal(err)
			}
			if got := configMapData(t, out, c.key); got != c.want {
				t.Errorf("%s = %s, want %s", c.key, got, c.want)
			}
		})
	}
	out, err := Render(shop, "r1", "shop", []string{valuesFile("a.yaml")}, map[string]any{"ports": []int{9090}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "    - port: 9090\n") || strings.Contains(string(out), "port: 8080") {
		t.Errorf("a list override does not replace the list:\n%s", out)
	}
	if !strings.Contains(string(out), "  namespace: shop\n") {
		t.Errorf("the namespace is not .Release.Namespace:\n%s", out)
	}
	out, err = Render(shop, "r1", "shop", nil, map[string]any{"extra": true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "kind: Secret") {
		t.Errorf("a conditional template does not follow its value:\n%s", out)
	}
}

// TestRenderStrict: a template reading a value set nowhere fails with RenderStrict only.
func TestRenderStrict(t *testing.T) {
	over := map[string]any{"readMissing": true}
	if _, err := Render(shop, "r1", "", nil, over); err != nil {
		t.Errorf("Render fails on a missing value: %v", err)
	}
	_, err := RenderStrict(shop, "r1", "", nil, over)
	if err == nil || !strings.Contains(err.Error(), "digest") {
		t.Errorf("RenderStrict with a missing value: %v, want an error naming it", err)
	}
	if _, err := RenderStrict(shop, "r1", "", nil, nil); err != nil {
		t.Errorf("RenderStrict fails on a chart whose values are all set: %v", err)
	}
}

func TestRenderErrors(t *testing.T) {
	cases := []struct {
		name, chart, release string
		files                []string
		want                 string
	}{
		{"no chart", "testdata/none", "r1", nil, "testdata/none"},
		{"no release name", shop, "", nil, "release name"},
		{"missing values file", shop, "r1", []string{valuesFile("none.yaml")}, "none.yaml"},
		{"broken values file", shop, "r1", []string{valuesFile("broken.yaml")}, "broken.yaml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Render(c.chart, c.release, "", c.files, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one naming %q", err, c.want)
			}
		})
	}
	// The chart asks for Kubernetes >= 1.30: an older KubeVersion refuses it, as helm does.
	saved := KubeVersion
	defer func() { KubeVersion = saved }()
	KubeVersion.Version, KubeVersion.Minor = "v1.29.0", "29"
	if _, err := Render(shop, "r1", "", nil, nil); err == nil || !strings.Contains(err.Error(), "kubeVersion") {
		t.Errorf("rendering for Kubernetes 1.29 a chart that needs 1.30: %v, want a kubeVersion error", err)
	}
}

// TestKubeVersionFollowsGoMod: KubeVersion is that of the Kubernetes libraries the
// module builds with.
func TestKubeVersionFollowsGoMod(t *testing.T) {
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*k8s\.io/client-go v0\.(\d+)\.`).FindSubmatch(data)
	if m == nil {
		t.Fatal("no k8s.io/client-go in go.mod")
	}
	if got := KubeVersion.Minor; got != string(m[1]) || KubeVersion.Version != "v1."+got+".0" || KubeVersion.Major != "1" {
		t.Errorf("KubeVersion is %+v, but go.mod has k8s.io/client-go v0.%s: set v1.%[2]s.0", KubeVersion, m[1])
	}
}
