package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// ConvertResult is a converted stream: the documents, in order, and what was said about them.
type ConvertResult struct {
	// Documents are YAML documents: converted objects, and every other document unchanged.
	Documents [][]byte
	// Objects are the documents as JSON objects, for -o json.
	Objects []json.RawMessage
	// Warnings name each field dropped because bluegreen does not support it.
	Warnings []Finding
	// Errors name what cannot be converted at all, such as a canary strategy.
	Errors []Finding
}

// Convert turns the argoproj.io/v1alpha1 Rollouts, AnalysisTemplates and
// ClusterAnalysisTemplates of a multi-document YAML stream into rollouts.bluegreen.dev
// objects. Fields follow Argo's names, so a conversion keeps every field we know and
// drops, with a warning, each one we do not.
func Convert(r io.Reader) (*ConvertResult, error) {
	res := &ConvertResult{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for i := 1; ; i++ {
		chunk, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading YAML document %d: %w", i, err)
		}
		raw, err := yaml.YAMLToJSON(chunk)
		if err != nil {
			return nil, fmt.Errorf("document %d is not valid YAML: %s", i, cleanYAMLError(err))
		}
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			i--
			continue
		}
		d := &document{index: i, raw: raw}
		var obj map[string]any
		if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &obj); err != nil {
			return nil, fmt.Errorf("document %d is not a Kubernetes object: %w", i, err)
		}
		d.object = obj
		apiVersion, _ := obj["apiVersion"].(string)
		kind, _ := obj["kind"].(string)
		if meta, ok := obj["metadata"].(map[string]any); ok {
			d.name, _ = meta["name"].(string)
		}
		d.gvk.Kind = kind
		if !strings.HasPrefix(apiVersion, "argoproj.io/") {
			res.Documents = append(res.Documents, bytes.TrimSpace(chunk))
			res.Objects = append(res.Objects, raw)
			continue
		}
		out, warnings, errs := convertObject(d, apiVersion, kind)
		for _, w := range warnings {
			res.Warnings = append(res.Warnings, Finding{Document: d.String(), Field: w.Field, Message: w.Message})
		}
		for _, e := range errs {
			res.Errors = append(res.Errors, Finding{Document: d.String(), Field: e.Field, Message: e.Message})
		}
		if out == nil {
			continue
		}
		js, err := json.Marshal(out)
		if err != nil {
			return nil, err
		}
		y, err := yaml.JSONToYAML(js)
		if err != nil {
			return nil, err
		}
		res.Documents = append(res.Documents, bytes.TrimSpace(y))
		res.Objects = append(res.Objects, js)
	}
}

// convertObject converts one Argo object: it decodes it strictly into our type, so that
// every field we do not have shows up as an unknown field, and turns those into warnings
// (or errors, for what changes the meaning: a canary strategy, an unsupported provider).
func convertObject(d *document, apiVersion, kind string) (map[string]any, []Finding, []Finding) {
	if apiVersion != "argoproj.io/v1alpha1" {
		return nil, nil, []Finding{{Field: "apiVersion", Message: fmt.Sprintf("%s is not supported: only argoproj.io/v1alpha1 converts", apiVersion)}}
	}
	var into any
	switch kind {
	case "Rollout":
		into = &v1alpha1.Rollout{}
	case "AnalysisTemplate":
		into = &v1alpha1.AnalysisTemplate{}
	case "ClusterAnalysisTemplate":
		into = &v1alpha1.ClusterAnalysisTemplate{}
	default:
		return nil, nil, []Finding{{Field: "kind", Message: fmt.Sprintf("an Argo %s has no bluegreen equivalent: only Rollout, AnalysisTemplate and ClusterAnalysisTemplate convert", kind)}}
	}
	obj := d.object
	delete(obj, "status")
	if meta, ok := obj["metadata"].(map[string]any); ok {
		for _, k := range []string{"creationTimestamp", "resourceVersion", "uid", "generation", "managedFields", "selfLink"} {
			delete(meta, k)
		}
	}
	var warnings, errs []Finding
	if kind == "Rollout" {
		spec, _ := obj["spec"].(map[string]any)
		strategy, _ := spec["strategy"].(map[string]any)
		if _, canary := strategy["canary"]; canary {
			return nil, nil, []Finding{{Field: "spec.strategy.canary", Message: "a canary strategy cannot be converted: bluegreen only does blue-green; rewrite it as spec.strategy.blueGreen with an activeService and a previewService"}}
		}
		if _, ok := strategy["blueGreen"]; !ok {
			return nil, nil, []Finding{{Field: "spec.strategy.blueGreen", Message: "required: the Rollout has no blue-green strategy to convert"}}
		}
		if bg, ok := strategy["blueGreen"].(map[string]any); ok {
			if v, ok := bg["scaleDownDelaySeconds"]; ok && fmt.Sprint(v) == "0" {
				warnings = append(warnings, Finding{Field: "spec.strategy.blueGreen.scaleDownDelaySeconds", Message: "0 now scales the previous revision down at once (Argo kept it up forever): set a delay to keep it for rollback"})
			}
		}
	}
	obj["apiVersion"] = v1alpha1.GroupVersion.String()
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, []Finding{{Message: err.Error()}}
	}
	strict, err := kjson.UnmarshalStrict(raw, into, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, nil, []Finding{{Message: "cannot be decoded: " + err.Error()}}
	}
	for _, e := range strict {
		path, ok := quoted(e.Error(), "unknown field ")
		if !ok {
			continue
		}
		if i := strings.Index(path, ".provider."); i >= 0 {
			provider := strings.SplitN(path[i+len(".provider."):], ".", 2)[0]
			errs = append(errs, Finding{Field: path[:i+len(".provider.")] + provider, Message: fmt.Sprintf("the %s metric provider is not supported: use prometheus, web or job", provider)})
			continue
		}
		warnings = append(warnings, Finding{Field: path, Message: "not supported by bluegreen: dropped"})
	}
	if len(errs) > 0 {
		return nil, warnings, dedupe(errs)
	}
	js, err := json.Marshal(into)
	if err != nil {
		return nil, nil, []Finding{{Message: err.Error()}}
	}
	var out map[string]any
	if err := json.Unmarshal(js, &out); err != nil {
		return nil, nil, []Finding{{Message: err.Error()}}
	}
	delete(out, "status")
	if meta, ok := out["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	stripNullTimestamps(out)
	return out, warnings, nil
}

// stripNullTimestamps removes the "creationTimestamp: null" and "resources: {}" that Go's
// encoding of a pod template leaves behind.
func stripNullTimestamps(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if m, ok := val.(map[string]any); ok && k == "resources" && len(m) == 0 {
				delete(x, k)
				continue
			}
			if k == "creationTimestamp" && val == nil {
				delete(x, k)
				continue
			}
			stripNullTimestamps(val)
		}
	case []any:
		for _, val := range x {
			stripNullTimestamps(val)
		}
	}
}

func dedupe(fs []Finding) []Finding {
	seen := map[string]bool{}
	var out []Finding
	for _, f := range fs {
		if !seen[f.String()] {
			seen[f.String()] = true
			out = append(out, f)
		}
	}
	return out
}

// WriteConverted writes the converted documents as YAML (or as JSON, one object or a List).
func WriteConverted(w io.Writer, res *ConvertResult, format string) error {
	switch format {
	case "", "yaml":
		for i, doc := range res.Documents {
			if i > 0 {
				fmt.Fprintln(w, "---")
			}
			fmt.Fprintf(w, "%s\n", doc)
		}
		return nil
	case "json":
		var v any = res.Objects
		if len(res.Objects) == 1 {
			v = res.Objects[0]
		} else {
			v = map[string]any{"apiVersion": "v1", "kind": "List", "items": res.Objects}
		}
		js, err := json.MarshalIndent(v, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", js)
		return err
	}
	return usageError("unknown output format %q: use -o yaml or -o json", format)
}

func (a *app) convertCommand() *cobra.Command {
	var file, output string
	cmd := &cobra.Command{
		Use:   "convert -f FILE|-",
		Short: "Convert Argo Rollouts manifests (argoproj.io/v1alpha1) to bluegreen",
		Long: `Convert the argoproj.io/v1alpha1 Rollouts, AnalysisTemplates and ClusterAnalysisTemplates of
a multi-document YAML stream into rollouts.bluegreen.dev/v1alpha1, and pass every other
document through unchanged. Field names are Argo's, so most manifests only change their
apiVersion; each field bluegreen does not support is dropped with a warning on stderr.
A canary strategy, or a metric provider other than prometheus, web or job, is an error.`,
		Example: "  kubectl bluegreen convert -f argo-rollout.yaml > rollout.yaml\n  helm template ./chart | kubectl bluegreen convert -f - | kubectl bluegreen lint -f -",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, name, err := a.open(file)
			if err != nil {
				return err
			}
			defer r.Close()
			res, err := Convert(r)
			if err != nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(a.errOut(), "warning: %s: %s\n", name, w)
			}
			for _, e := range res.Errors {
				fmt.Fprintf(a.errOut(), "%s: %s\n", name, e)
			}
			if n := len(res.Errors); n > 0 {
				return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s: %d object(s) cannot be converted; nothing was written", name, n)}
			}
			return WriteConverted(a.out(), res, output)
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "File to convert, or - for standard input")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "Output format: yaml or json")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}
