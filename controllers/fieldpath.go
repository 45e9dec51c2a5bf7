package controllers

import (
	"bytes"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/jsonpath"
)

// fieldValue reads a field of obj by a fieldRef path such as metadata.name or
// metadata.labels['app.kubernetes.io/name'].
func fieldValue(obj runtime.Object, path string) (string, error) {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return "", err
	}
	jp := jsonpath.New("fieldRef")
	if err := jp.Parse("{." + strings.TrimPrefix(path, ".") + "}"); err != nil {
		return "", fmt.Errorf("fieldPath %q: %w", path, err)
	}
	var out bytes.Buffer
	if err := jp.Execute(&out, content); err != nil {
		return "", fmt.Errorf("fieldPath %q: %w", path, err)
	}
	return out.String(), nil
}
