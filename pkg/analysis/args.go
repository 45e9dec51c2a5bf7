package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Mask replaces a secret's value wherever it would be shown.
const Mask = "*****"

// SecretReader reads a key of a Secret in the run's namespace.
type SecretReader func(ctx context.Context, name, key string) (string, error)

// Args are a run's resolved arguments. Values read from Secrets are remembered so that
// they can be masked in everything the controller shows.
type Args struct {
	values  map[string]string
	secrets []string
}

// ResolveArgs gives every argument of a run its value: value as written, or the key of
// a Secret through read. An argument without either, or with a fieldRef (which only a
// Rollout can resolve, when it starts the run), is an error naming it and the fix.
func ResolveArgs(ctx context.Context, args []v1alpha1.Argument, read SecretReader) (Args, error) {
	out := Args{values: map[string]string{}}
	for i, a := range args {
		switch {
		case a.Value != nil:
			out.values[a.Name] = *a.Value
		case a.ValueFrom != nil && a.ValueFrom.SecretKeyRef != nil:
			ref := a.ValueFrom.SecretKeyRef
			if read == nil {
				return Args{}, fmt.Errorf("args[%d] %q: secretKeyRef cannot be read here", i, a.Name)
			}
			v, err := read(ctx, ref.Name, ref.Key)
			if err != nil {
				return Args{}, fmt.Errorf("args[%d] %q: valueFrom.secretKeyRef: %w", i, a.Name, err)
			}
			out.values[a.Name] = v
			if v != "" {
				out.secrets = append(out.secrets, v)
			}
		case a.ValueFrom != nil && a.ValueFrom.FieldRef != nil:
			return Args{}, fmt.Errorf("args[%d] %q: valueFrom.fieldRef %q is resolved only when a Rollout starts the run: give a value instead", i, a.Name, a.ValueFrom.FieldRef.FieldPath)
		default:
			return Args{}, fmt.Errorf("args[%d] %q has no value: give value or valueFrom", i, a.Name)
		}
	}
	// Longer secrets first, so that a secret containing another is masked whole.
	sort.Slice(out.secrets, func(i, j int) bool { return len(out.secrets[i]) > len(out.secrets[j]) })
	return out, nil
}

// NewArgs returns Args with plain values, for tests and callers that have no secrets.
func NewArgs(values map[string]string) Args { return Args{values: values} }

// argRef matches {{args.NAME}}, with optional spaces inside the braces.
var argRef = regexp.MustCompile(`\{\{\s*args\.([^{}\s]+)\s*\}\}`)

// Substitute replaces every {{args.NAME}} in s. A reference to an argument the run does
// not have is an error that names it.
func (a Args) Substitute(s string) (string, error) {
	var missing []string
	out := argRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := argRef.FindStringSubmatch(ref)[1]
		v, ok := a.values[name]
		if !ok {
			missing = append(missing, name)
			return ref
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("{{args.%s}} is not an argument of the run: declare it in the template's args", strings.Join(missing, "}}, {{args."))
	}
	return out, nil
}

// SubstituteMetric replaces {{args.NAME}} in every string field of a metric: provider
// fields, conditions, durations and counts. The result may hold secret values: it is
// never stored.
func (a Args) SubstituteMetric(m v1alpha1.Metric) (v1alpha1.Metric, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return m, err
	}
	var missing []string
	out := argRef.ReplaceAllFunc(raw, func(ref []byte) []byte {
		name := string(argRef.FindSubmatch(ref)[1])
		v, ok := a.values[name]
		if !ok {
			missing = append(missing, name)
			return ref
		}
		quoted, _ := json.Marshal(v)
		return quoted[1 : len(quoted)-1] // inside a JSON string already
	})
	if len(missing) > 0 {
		return m, fmt.Errorf("{{args.%s}} is not an argument of the run: declare it in the template's args", strings.Join(missing, "}}, {{args."))
	}
	var sub v1alpha1.Metric
	if err := json.Unmarshal(out, &sub); err != nil {
		return m, fmt.Errorf("after substituting the arguments: %w", err)
	}
	return sub, nil
}

// Mask replaces every secret value in s with Mask.
func (a Args) Mask(s string) string {
	for _, secret := range a.secrets {
		s = strings.ReplaceAll(s, secret, Mask)
	}
	return s
}

// MaskMeasurement masks secrets in the text fields of a measurement.
func (a Args) MaskMeasurement(m *v1alpha1.Measurement) {
	if len(a.secrets) == 0 {
		return
	}
	m.Message = a.Mask(m.Message)
	m.Value = a.Mask(m.Value)
	for k, v := range m.Metadata {
		m.Metadata[k] = a.Mask(v)
	}
}
