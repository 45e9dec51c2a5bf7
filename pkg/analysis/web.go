package analysis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"k8s.io/client-go/util/jsonpath"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

const (
	// DefaultWebTimeout bounds a request without web.timeoutSeconds.
	DefaultWebTimeout = 10 * time.Second
	// maxWebBody bounds how much of a response is read.
	maxWebBody = 1 << 20
	// bodyExcerpt is how much of a body an error message shows.
	bodyExcerpt = 256
)

// Web calls an HTTP endpoint and reads a JSON value from the response.
type Web struct {
	client   *http.Client
	insecure *http.Client
}

// NewWeb returns the web provider, sending requests through transport (nil: a clone of
// http.DefaultTransport).
func NewWeb(transport http.RoundTripper) *Web {
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	w := &Web{client: &http.Client{Transport: transport}}
	if t := insecureTransport(transport); t != nil {
		w.insecure = &http.Client{Transport: t}
	}
	return w
}

// Measure sends the request; a 2xx response's JSON value at jsonPath is the result.
func (w *Web) Measure(ctx context.Context, _ *v1alpha1.AnalysisRun, metric *Metric, _ *v1alpha1.Measurement) Outcome {
	spec := metric.Spec.Provider.Web
	method := string(spec.Method)
	if method == "" {
		method = http.MethodGet
	}
	timeout := DefaultWebTimeout
	if spec.TimeoutSeconds > 0 {
		timeout = time.Duration(spec.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if spec.Body != "" && method != http.MethodGet {
		body = strings.NewReader(spec.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, spec.URL, body)
	if err != nil {
		return errorf("%s %s: %v", method, spec.URL, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range spec.Headers {
		req.Header.Set(h.Key, h.Value)
	}
	client := w.client
	if spec.Insecure {
		if client = w.insecure; client == nil {
			return errorf("web.insecure needs an *http.Transport")
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return errorf("%s %s timed out after %s", method, spec.URL, timeout)
		}
		return errorf("%s %s: %v", method, spec.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxWebBody+1))
	if err != nil {
		return errorf("%s %s: reading the response: %v", method, spec.URL, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errorf("%s %s returned HTTP %s: %s", method, spec.URL, resp.Status, excerpt(string(data), bodyExcerpt))
	}
	if len(data) > maxWebBody {
		return errorf("%s %s: the response is larger than %d bytes", method, spec.URL, maxWebBody)
	}
	result, text, err := JSONPathResult(spec.JSONPath, data)
	if err != nil {
		return Outcome{Phase: v1alpha1.AnalysisPhaseError, Message: fmt.Sprintf("%s %s: %v", method, spec.URL, err)}
	}
	return Outcome{Result: result, Value: text}
}

// Release holds nothing.
func (w *Web) Release(context.Context, *v1alpha1.AnalysisRun, *v1alpha1.Measurement) error {
	return nil
}

// parseJSONPath parses a jsonPath such as {$.data.ok} or $.data.ok (braces optional).
func parseJSONPath(path string) (*jsonpath.JSONPath, error) {
	if path == "" {
		return nil, nil
	}
	if !strings.Contains(path, "{") {
		path = "{" + path + "}"
	}
	jp := jsonpath.New("web")
	if err := jp.Parse(path); err != nil {
		return nil, err
	}
	return jp, nil
}

// JSONPathResult parses a JSON body and returns the value at path (the whole body without
// a path): a single match is that value, several a list. Numbers are float64, as
// conditions compare them. No match, or a body that is not JSON, is an error showing an
// excerpt of the body.
func JSONPathResult(path string, body []byte) (any, string, error) {
	var data any
	if err := json.Unmarshal(body, &data); err != nil {
		return nil, "", fmt.Errorf("the response is not JSON (%v): %s", err, excerpt(string(body), bodyExcerpt))
	}
	jp, err := parseJSONPath(path)
	if err != nil {
		return nil, "", fmt.Errorf("jsonPath %q: %w", path, err)
	}
	if jp == nil {
		return data, excerpt(string(bytes.TrimSpace(body)), maxValueLength), nil
	}
	found, err := jp.FindResults(data)
	if err != nil {
		return nil, "", fmt.Errorf("jsonPath %q: %v in the response: %s", path, err, excerpt(string(body), bodyExcerpt))
	}
	var values []any
	for _, set := range found {
		for _, v := range set {
			values = append(values, valueOf(v))
		}
	}
	var result any
	switch len(values) {
	case 0:
		return nil, "", fmt.Errorf("jsonPath %q matched nothing in the response: %s", path, excerpt(string(body), bodyExcerpt))
	case 1:
		result = values[0]
	default:
		result = values
	}
	text, err := json.Marshal(result)
	if err != nil {
		return nil, "", err
	}
	return result, string(text), nil
}

func valueOf(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if v.Kind() == reflect.Interface && v.IsNil() {
		return nil
	}
	return v.Interface()
}
