package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/config/crd"
	"github.com/bluegreen-dev/bluegreen/pkg/planner"
)

// Finding is one problem lint found.
type Finding struct {
	// Document names the YAML document: its position, kind and name, and the Helm source.
	Document string
	// Field is the path of the field, when one is at fault.
	Field string
	// Message says what is wrong and how to fix it.
	Message string

	index int // of the document, to keep findings in document order
}

func (f Finding) String() string {
	if f.Field == "" {
		return f.Document + ": " + f.Message
	}
	return f.Document + ": " + f.Field + ": " + f.Message
}

// LintReport is what Lint found in a stream of documents.
type LintReport struct {
	Findings []Finding
	// Checked counts the documents checked, by kind.
	Checked map[string]int
}

// document is one parsed YAML document of the stream.
type document struct {
	index  int
	source string // "# Source:" comment written by helm template
	object map[string]any
	raw    []byte // JSON
	gvk    schema.GroupVersionKind
	name   string
	ns     string
}

func (d *document) String() string {
	s := fmt.Sprintf("document %d", d.index)
	if d.gvk.Kind != "" {
		s += fmt.Sprintf(" (%s %s", d.gvk.Kind, orUnnamed(d.name))
		if d.source != "" {
			s += ", " + d.source
		}
		s += ")"
	} else if d.source != "" {
		s += " (" + d.source + ")"
	}
	return s
}

func orUnnamed(name string) string {
	if name == "" {
		return "<unnamed>"
	}
	return name
}

var sourceComment = regexp.MustCompile(`(?m)^# Source: (.+)$`)

// Lint checks a multi-document YAML stream offline, as the API server and the controller
// would: strict decoding, the CRDs' OpenAPI schemas and CEL rules, and the controller's
// checks that need the Services (and workloadRef Deployments) of the same stream.
func Lint(r io.Reader) (*LintReport, error) {
	report := &LintReport{Checked: map[string]int{}}
	docs, err := readDocuments(r, report)
	if err != nil {
		return nil, err
	}
	validators, err := crdValidators()
	if err != nil {
		return nil, err
	}
	var rollouts []*document
	for _, d := range docs {
		add := func(fld, msg string) {
			report.Findings = append(report.Findings, Finding{Document: d.String(), Field: fld, Message: msg, index: d.index})
		}
		switch {
		case d.gvk.Group == v1alpha1.GroupVersion.Group:
			v, ok := validators[d.gvk.Kind]
			if !ok {
				add("kind", fmt.Sprintf("%s is not a kind of %s: use Rollout, AnalysisTemplate, ClusterAnalysisTemplate or AnalysisRun", d.gvk.Kind, d.gvk.Group))
				continue
			}
			if d.gvk.Version != v1alpha1.GroupVersion.Version {
				add("apiVersion", fmt.Sprintf("%s is not served: use %s", d.gvk.GroupVersion(), v1alpha1.GroupVersion))
				continue
			}
			report.Checked[d.gvk.Kind]++
			for _, f := range v.validate(d) {
				add(f.Field, f.Message)
			}
			if d.gvk.Kind == "Rollout" {
				rollouts = append(rollouts, d)
			}
		case d.gvk.Group == "argoproj.io":
			add("apiVersion", fmt.Sprintf("%s is an Argo Rollouts object: convert it with `kubectl bluegreen convert -f FILE`", d.gvk.GroupVersion()))
		case d.gvk == corev1.SchemeGroupVersion.WithKind("Service"):
			report.Checked["Service"]++
			for _, f := range strictDecode(d, &corev1.Service{}) {
				add(f.Field, f.Message)
			}
		case d.gvk == appsv1.SchemeGroupVersion.WithKind("Deployment"):
			report.Checked["Deployment"]++
			for _, f := range strictDecode(d, &appsv1.Deployment{}) {
				add(f.Field, f.Message)
			}
		}
	}
	for _, d := range rollouts {
		for _, msg := range crossCheck(d, docs) {
			report.Findings = append(report.Findings, Finding{Document: d.String(), Message: msg, index: d.index})
		}
	}
	sort.SliceStable(report.Findings, func(i, j int) bool { return report.Findings[i].index < report.Findings[j].index })
	return report, nil
}

func readDocuments(r io.Reader, report *LintReport) ([]*document, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var docs []*document
	for i := 1; ; i++ {
		chunk, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading YAML document %d: %w", i, err)
		}
		d := &document{index: i}
		if m := sourceComment.FindSubmatch(chunk); m != nil {
			d.source = string(bytes.TrimSpace(m[1]))
		}
		raw, err := yaml.YAMLToJSONStrict(chunk)
		if err != nil {
			report.Findings = append(report.Findings, Finding{Document: d.String(), Message: "not valid YAML: " + cleanYAMLError(err), index: i})
			continue
		}
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			i--
			continue // an empty document, as between two "---"
		}
		var obj map[string]any
		if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &obj); err != nil {
			report.Findings = append(report.Findings, Finding{Document: d.String(), Message: "not a Kubernetes object (a YAML mapping with apiVersion and kind): " + err.Error(), index: i})
			continue
		}
		d.object, d.raw = obj, raw
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		_ = kjson.UnmarshalCaseSensitivePreserveInts(raw, &tm)
		gv, _ := schema.ParseGroupVersion(tm.APIVersion)
		d.gvk, d.name, d.ns = gv.WithKind(tm.Kind), tm.Metadata.Name, tm.Metadata.Namespace
		if tm.APIVersion == "" || tm.Kind == "" {
			report.Findings = append(report.Findings, Finding{Document: d.String(), Message: "apiVersion and kind are required: add them", index: i})
			continue
		}
		docs = append(docs, d)
	}
}

func cleanYAMLError(err error) string {
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "), "yaml: ")
}

// strictDecode decodes a document into a typed object, reporting unknown and duplicate
// fields as the API server does with fieldValidation=Strict.
func strictDecode(d *document, into any) []Finding {
	strict, err := kjson.UnmarshalStrict(d.raw, into, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return []Finding{{Message: "cannot be decoded: " + err.Error()}}
	}
	var out []Finding
	for _, e := range strict {
		msg := e.Error()
		if path, ok := quoted(msg, "unknown field "); ok {
			out = append(out, Finding{Field: path, Message: "unknown field: remove it, or check its spelling and indentation"})
			continue
		}
		if path, ok := quoted(msg, "duplicate field "); ok {
			out = append(out, Finding{Field: path, Message: "set twice: keep one"})
			continue
		}
		out = append(out, Finding{Message: msg})
	}
	return out
}

func quoted(msg, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, prefix)
	if !ok {
		return "", false
	}
	return strings.Trim(rest, `"`), true
}

// crdValidator validates objects of one kind as the API server does for its CRD.
type crdValidator struct {
	kind       string
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaCreateValidator
	cel        *cel.Validator
	suggest    func(path string) string
}

var (
	validatorsOnce   sync.Once
	validatorsByKind map[string]*crdValidator
	validatorsErr    error
)

// crdValidators builds, once, a validator per kind from the embedded CRDs.
func crdValidators() (map[string]*crdValidator, error) {
	validatorsOnce.Do(func() {
		validatorsByKind, validatorsErr = loadValidators()
	})
	return validatorsByKind, validatorsErr
}

func loadValidators() (map[string]*crdValidator, error) {
	files, err := crd.Bases.ReadDir("bases")
	if err != nil {
		return nil, err
	}
	out := map[string]*crdValidator{}
	for _, f := range files {
		data, err := crd.Bases.ReadFile("bases/" + f.Name())
		if err != nil {
			return nil, err
		}
		var def apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(data, &def); err != nil {
			return nil, fmt.Errorf("embedded CRD %s: %w", f.Name(), err)
		}
		for _, v := range def.Spec.Versions {
			if v.Name != v1alpha1.GroupVersion.Version || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			var internal apiextensions.JSONSchemaProps
			if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
				return nil, fmt.Errorf("embedded CRD %s: %w", f.Name(), err)
			}
			structural, err := structuralschema.NewStructural(&internal)
			if err != nil {
				return nil, fmt.Errorf("embedded CRD %s: %w", f.Name(), err)
			}
			validator, _, err := apiservervalidation.NewSchemaValidator(&internal)
			if err != nil {
				return nil, fmt.Errorf("embedded CRD %s: %w", f.Name(), err)
			}
			out[def.Spec.Names.Kind] = &crdValidator{
				kind:       def.Spec.Names.Kind,
				structural: structural,
				schema:     validator,
				cel:        cel.NewValidator(structural, true, celconfig.PerCallLimit),
			}
		}
	}
	return out, nil
}

// validate runs, on one document, what the API server runs on a create: strict decoding,
// defaulting, the OpenAPI schema, embedded metadata, list types and CEL rules.
func (v *crdValidator) validate(d *document) []Finding {
	var into any
	switch v.kind {
	case "Rollout":
		into = &v1alpha1.Rollout{}
	case "AnalysisTemplate":
		into = &v1alpha1.AnalysisTemplate{}
	case "ClusterAnalysisTemplate":
		into = &v1alpha1.ClusterAnalysisTemplate{}
	case "AnalysisRun":
		into = &v1alpha1.AnalysisRun{}
	default:
		into = &map[string]any{}
	}
	out := strictDecode(d, into)
	for i := range out {
		if out[i].Field != "" && strings.HasPrefix(out[i].Message, "unknown field") {
			if s := suggestField(v.structural, out[i].Field); s != "" {
				out[i].Message = fmt.Sprintf("unknown field: did you mean %s?", s)
			}
		}
	}
	if d.name == "" {
		out = append(out, Finding{Field: "metadata.name", Message: "required: give the object a name"})
	}
	for _, msg := range validation.IsDNS1123Subdomain(d.name) {
		if d.name != "" {
			out = append(out, Finding{Field: "metadata.name", Message: msg})
		}
	}
	obj := deepCopyJSON(d.object)
	defaulting.Default(obj, v.structural)
	var errs field.ErrorList
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, v.schema)...)
	errs = append(errs, objectmeta.Validate(context.Background(), nil, obj, v.structural, false)...)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, v.structural, obj)...)
	blocked := hasBlocking(errs)
	if !blocked {
		celErrs, _ := v.cel.Validate(context.Background(), nil, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	for _, e := range errs {
		out = append(out, fieldFinding(e))
	}
	if blocked {
		out = append(out, Finding{Message: "the CEL rules (x-kubernetes-validations) were not checked because of the errors above: fix them and lint again"})
	}
	return out
}

// hasBlocking mirrors the API server (hasBlockingErr in apiextensions-apiserver's
// registry/customresource/strategy.go): CEL rules are not run when the schema already
// failed in a way that would make them misleading.
func hasBlocking(errs field.ErrorList) bool {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

func fieldFinding(e *field.Error) Finding {
	var msg string
	switch e.Type {
	case field.ErrorTypeRequired:
		msg = "required: add it"
		if e.Detail != "" {
			msg = "required: " + e.Detail
		}
	case field.ErrorTypeNotSupported, field.ErrorTypeTypeInvalid:
		msg = strings.TrimPrefix(e.ErrorBody(), e.Type.String()+": ")
		msg = fmt.Sprintf("%s: %s", strings.ToLower(e.Type.String()), msg)
	default:
		msg = e.Detail
		if msg == "" {
			msg = e.ErrorBody()
		}
		// Our CEL messages start with the field they are about, deeper than the field the
		// rule sits on: name that field once.
		if path, rest, ok := strings.Cut(msg, " "); ok && strings.HasPrefix(path, e.Field+".") {
			return Finding{Field: path, Message: rest}
		}
	}
	return Finding{Field: e.Field, Message: msg}
}

func deepCopyJSON(in map[string]any) map[string]any {
	var out map[string]any
	raw, _ := yaml.Marshal(in)
	_ = yaml.Unmarshal(raw, &out)
	// yaml.Unmarshal turns numbers into float64; the schema wants int64 for integers.
	return normalizeNumbers(out).(map[string]any)
}

func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = normalizeNumbers(val)
		}
		return x
	case []any:
		for i := range x {
			x[i] = normalizeNumbers(x[i])
		}
		return x
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	}
	return v
}

// suggestField proposes the known field nearest to an unknown one, at the same place.
func suggestField(s *structuralschema.Structural, path string) string {
	parts := strings.Split(path, ".")
	node := s
	for _, p := range parts[:len(parts)-1] {
		p = strings.SplitN(p, "[", 2)[0]
		next, ok := node.Properties[p]
		if !ok {
			return ""
		}
		node = &next
		for node.Items != nil && strings.Contains(path, "[") {
			node = node.Items
		}
	}
	unknown := parts[len(parts)-1]
	best, bestDist := "", 4
	names := make([]string, 0, len(node.Properties))
	for name := range node.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if d := editDistance(strings.ToLower(unknown), strings.ToLower(name)); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// crossCheck runs the controller's checks that need other objects of the stream: the
// Services (and the workloadRef Deployment) must be there and agree with the template.
func crossCheck(d *document, docs []*document) []string {
	var ro v1alpha1.Rollout
	if _, err := kjson.UnmarshalStrict(d.raw, &ro); err != nil || ro.Spec.Strategy.BlueGreen == nil {
		return nil // already reported
	}
	sameNamespace := func(o *document) bool { return o.ns == "" || d.ns == "" || o.ns == d.ns }
	find := func(gvk schema.GroupVersionKind, name string) *document {
		for _, o := range docs {
			if o.gvk == gvk && o.name == name && name != "" && sameNamespace(o) {
				return o
			}
		}
		return nil
	}
	in := planner.Input{Rollout: &ro, Template: ro.Spec.Template}
	if ref := ro.Spec.WorkloadRef; ref != nil {
		if o := find(appsv1.SchemeGroupVersion.WithKind("Deployment"), ref.Name); o != nil {
			var dep appsv1.Deployment
			if _, err := kjson.UnmarshalStrict(o.raw, &dep); err == nil {
				in.Template = &dep.Spec.Template
				if ro.Spec.Selector == nil {
					in.Selector = dep.Spec.Selector
				}
			}
		} else {
			in.WorkloadMissing = fmt.Sprintf("spec.workloadRef: Deployment %q is not in the input: add it, or fix the name", ref.Name)
		}
	}
	service := func(name string) *corev1.Service {
		o := find(corev1.SchemeGroupVersion.WithKind("Service"), name)
		if o == nil {
			return nil
		}
		var svc corev1.Service
		if _, err := kjson.UnmarshalStrict(o.raw, &svc); err != nil {
			return nil
		}
		return &svc
	}
	bg := ro.Spec.Strategy.BlueGreen
	in.ActiveService, in.PreviewService = service(bg.ActiveService), service(bg.PreviewService)
	if ro.Namespace == "" {
		ro.Namespace = "default"
	}
	problems := planner.Validate(in)
	if problems == "" {
		return nil
	}
	out := strings.Split(problems, "; ")
	for i, p := range out {
		// The controller looks in the cluster; lint looks in its input.
		out[i] = strings.Replace(p, fmt.Sprintf("not found in namespace %q: create it", ro.Namespace), "not in the input: add it", 1)
	}
	return out
}

func (a *app) lintCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "lint -f FILE|-",
		Short: "Check Rollouts and analysis templates offline, as the API server and controller would",
		Long: `Check a multi-document YAML stream without a cluster: unknown fields are errors, and each
Rollout, AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun goes through the CRD's
OpenAPI schema and CEL rules exactly as the API server would. Rollouts are also checked
as the controller checks them against the other objects of the stream: the active and
preview Services must be there, and every key of their selectors (other than the pod
template hash) must match the pod template's labels.

Exit code 0 when everything is valid, 1 when a problem is found; each problem names the
document, the field and the fix.`,
		Example: "  kubectl bluegreen lint -f rollout.yaml\n  helm template ./chart | kubectl bluegreen lint -f -",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, name, err := a.open(file)
			if err != nil {
				return err
			}
			defer r.Close()
			report, err := Lint(r)
			if err != nil {
				return err
			}
			return writeLintReport(a.out(), name, report)
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "File to check, or - for standard input")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

// writeLintReport prints the findings, then a summary; it fails when there are findings.
func writeLintReport(w io.Writer, name string, report *LintReport) error {
	for _, f := range report.Findings {
		fmt.Fprintf(w, "%s: %s\n", name, f)
	}
	kinds := make([]string, 0, len(report.Checked))
	total := 0
	for k, n := range report.Checked {
		if n > 1 {
			k += "s"
		}
		kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
		total += n
	}
	sort.Strings(kinds)
	checked := "nothing to check"
	if total > 0 {
		checked = "checked " + strings.Join(kinds, ", ")
	}
	if n := len(report.Findings); n > 0 {
		plural := "s"
		if n == 1 {
			plural = ""
		}
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s: %d problem%s found (%s)", name, n, plural, checked)}
	}
	_, err := fmt.Fprintf(w, "%s: ok, %s\n", name, checked)
	return err
}

// open opens a file, or standard input for "-".
func (a *app) open(file string) (io.ReadCloser, string, error) {
	switch file {
	case "":
		return nil, "", usageError("no input: pass -f FILE, or -f - to read standard input")
	case "-":
		return io.NopCloser(a.opts.Streams.In), "<stdin>", nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, "", fmt.Errorf("cannot read %s: %w", file, errors.Unwrap(err))
	}
	return f, file, nil
}
