package analysis

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/jsonpath"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// RolloutArgument gives a run's argument the value a Rollout's analysis gate assigns it
// for revision: value as written, podTemplateHashValue (Latest: revision, Stable:
// status.stableRS), fieldRef (a field of the Rollout). A secretKeyRef stays a reference:
// the AnalysisRun controller reads the Secret when it measures, so that its value never
// lands in the run's spec.
func RolloutArgument(ro *v1alpha1.Rollout, revision string, arg v1alpha1.AnalysisRunArgument) (*string, *v1alpha1.ValueFrom, error) {
	if arg.Value != nil {
		v := *arg.Value
		return &v, nil, nil
	}
	from := arg.ValueFrom
	switch {
	case from == nil:
		return nil, nil, fmt.Errorf("needs value or valueFrom")
	case from.SecretKeyRef != nil:
		return nil, &v1alpha1.ValueFrom{SecretKeyRef: from.SecretKeyRef.DeepCopy()}, nil
	case from.PodTemplateHashValue != nil:
		switch *from.PodTemplateHashValue {
		case v1alpha1.Latest:
			return &revision, nil, nil
		case v1alpha1.Stable:
			if ro.Status.StableRS == "" {
				return nil, nil, fmt.Errorf("valueFrom.podTemplateHashValue Stable: the Rollout has no stable revision yet")
			}
			v := ro.Status.StableRS
			return &v, nil, nil
		}
		return nil, nil, fmt.Errorf("valueFrom.podTemplateHashValue %q: use Stable or Latest", *from.PodTemplateHashValue)
	case from.FieldRef != nil:
		v, err := FieldValue(ro, from.FieldRef.FieldPath)
		if err != nil {
			return nil, nil, fmt.Errorf("valueFrom.fieldRef: %w", err)
		}
		return &v, nil, nil
	}
	return nil, nil, fmt.Errorf("valueFrom is empty: give podTemplateHashValue, fieldRef or secretKeyRef")
}

// TemplateArgument resolves a template's own valueFrom.fieldRef against the Rollout that
// starts the run; other arguments are returned as they are.
func TemplateArgument(ro *v1alpha1.Rollout, arg v1alpha1.Argument) (v1alpha1.Argument, error) {
	if arg.ValueFrom == nil || arg.ValueFrom.FieldRef == nil {
		return arg, nil
	}
	v, err := FieldValue(ro, arg.ValueFrom.FieldRef.FieldPath)
	if err != nil {
		return arg, fmt.Errorf("valueFrom.fieldRef: %w", err)
	}
	return v1alpha1.Argument{Name: arg.Name, Value: &v}, nil
}

var bracketKey = regexp.MustCompile(`\[['"]([^'"]+)['"]\]`)

// FieldValue reads a field of obj by a fieldRef path such as metadata.name or
// metadata.labels['app.kubernetes.io/name']. A path to nothing is an error.
func FieldValue(obj runtime.Object, path string) (string, error) {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return "", err
	}
	// jsonpath reads ['a.b/c'] as fields a and b/c: write it as .a\.b/c.
	expr := bracketKey.ReplaceAllStringFunc(strings.TrimPrefix(path, "."), func(m string) string {
		key := bracketKey.FindStringSubmatch(m)[1]
		return "." + strings.ReplaceAll(key, ".", `\.`)
	})
	jp := jsonpath.New("fieldRef")
	if err := jp.Parse("{." + expr + "}"); err != nil {
		return "", fmt.Errorf("fieldPath %q: %w", path, err)
	}
	var out bytes.Buffer
	if err := jp.Execute(&out, content); err != nil {
		return "", fmt.Errorf("fieldPath %q: %w: fix the path, such as metadata.name or metadata.labels['app']", path, err)
	}
	return out.String(), nil
}
