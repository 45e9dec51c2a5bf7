// Package helmchart renders a Helm chart offline, as `helm template` does, for tests and
// the demo: no cluster, no helm binary.
package helmchart

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// KubeVersion is the Kubernetes version templates see as .Capabilities.KubeVersion and
// that a chart's kubeVersion constraint is checked against: the version of the
// Kubernetes libraries in go.mod (k8s.io/client-go v0.N is Kubernetes v1.N), as a helm
// binary built with them reports it. Helm's own default, without its build flags, is
// v1.20.
var KubeVersion = chartutil.KubeVersion{Version: "v1.37.0", Major: "1", Minor: "37"}

// Render renders the chart in chartDir as
//
//	helm template RELEASE CHARTDIR -n NAMESPACE -f valuesFiles[0] -f valuesFiles[1] … --set-json …
//
// would: the values files are merged in order (a later file wins, maps are merged key by
// key), then the overrides, then the result is coalesced with the chart's own values.yaml
// and checked against its values.schema.json, if any.
//
// Each key of overrides is a --set path, such as "image.tag" or "ingress.hosts[0]" (escape
// a dot inside a key as `\.`); its value is any JSON-encodable value. A map value is
// merged into the map already there; any other value, a list included, replaces it.
// Overrides are applied in the order of their keys.
//
// The output is one multi-document YAML stream: each manifest preceded by "---" and
// "# Source: <chart>/templates/<file>", in helm's install order (by kind, then by file
// name, then by position in the file), followed by hooks, as `helm template` prints them.
// NOTES.txt, partials (templates/_*), empty documents and the chart's crds/ directory are
// left out. An empty namespace means "default", as for helm.
func Render(chartDir, releaseName, namespace string, valuesFiles []string, overrides map[string]any) ([]byte, error) {
	return render(chartDir, releaseName, namespace, valuesFiles, overrides, false)
}

// RenderStrict is Render with a stricter template engine: a template that reads a value
// that is not set anywhere (a misspelt .Values key, for example) is an error instead of
// rendering as nothing.
func RenderStrict(chartDir, releaseName, namespace string, valuesFiles []string, overrides map[string]any) ([]byte, error) {
	return render(chartDir, releaseName, namespace, valuesFiles, overrides, true)
}

func render(chartDir, releaseName, namespace string, valuesFiles []string, overrides map[string]any, strict bool) ([]byte, error) {
	if releaseName == "" {
		return nil, fmt.Errorf("rendering %s: no release name", chartDir)
	}
	if namespace == "" {
		namespace = "default"
	}
	ch, err := loader.Load(chartDir)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", chartDir, err)
	}
	if ch.Metadata.Type == "library" {
		return nil, fmt.Errorf("chart %s is a library chart: it cannot be rendered on its own", ch.Name())
	}
	vals, err := Values(valuesFiles, overrides)
	if err != nil {
		return nil, err
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return nil, fmt.Errorf("chart %s: %w", ch.Name(), err)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = KubeVersion
	if ch.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart %s requires kubeVersion %s, which is incompatible with Kubernetes %s",
			ch.Name(), ch.Metadata.KubeVersion, caps.KubeVersion.String())
	}
	top, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{
		Name: releaseName, Namespace: namespace, Revision: 1, IsInstall: true,
	}, caps)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", ch.Name(), err)
	}
	files, err := engine.Engine{Strict: strict}.Render(ch, top)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", ch.Name(), err)
	}
	return assemble(ch, files)
}

// Values merges values files and overrides as helm's -f and --set-json flags do, before
// the chart's own defaults are added.
func Values(valuesFiles []string, overrides map[string]any) (map[string]any, error) {
	base := map[string]any{}
	for _, f := range valuesFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading values file: %w", err)
		}
		current := map[string]any{}
		if err := yaml.Unmarshal(data, &current); err != nil {
			return nil, fmt.Errorf("parsing values file %s: %w", f, err)
		}
		base = mergeMaps(base, current)
	}
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		value, err := json.Marshal(overrides[k])
		if err != nil {
			return nil, fmt.Errorf("override %s: %w", k, err)
		}
		set := map[string]any{}
		if err := strvals.ParseJSON(k+"="+string(value), set); err != nil {
			return nil, fmt.Errorf("override %s: %w", k, err)
		}
		base = mergeMaps(base, set)
	}
	return base, nil
}

// mergeMaps is helm's merge of values files: b wins, maps are merged key by key.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// assemble orders the rendered files as helm template prints them.
func assemble(ch *chart.Chart, files map[string]string) ([]byte, error) {
	for name := range files {
		if path.Base(name) == "NOTES.txt" {
			delete(files, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, fmt.Errorf("chart %s renders invalid YAML: %w", ch.Name(), err)
	}
	var b bytes.Buffer
	write := func(source, content string) error {
		var v any
		if err := yaml.Unmarshal([]byte(content), &v); err != nil {
			return fmt.Errorf("%s renders invalid YAML: %w", source, err)
		}
		if v == nil {
			return nil // only comments or whitespace
		}
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", source, strings.TrimRight(content, "\n"))
		return nil
	}
	for _, m := range manifests {
		if err := write(m.Name, m.Content); err != nil {
			return nil, err
		}
	}
	for _, h := range hooks {
		if err := write(h.Path, h.Manifest); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}
