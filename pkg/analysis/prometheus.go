package analysis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// DefaultPrometheusTimeout bounds a query without prometheus.timeout.
const DefaultPrometheusTimeout = 30 * time.Second

// Prometheus runs instant PromQL queries with github.com/prometheus/client_golang/api.
type Prometheus struct {
	defaultAddress string
	transport      http.RoundTripper
	insecure       http.RoundTripper
	now            func() time.Time
}

// NewPrometheus returns the Prometheus provider. defaultAddress serves metrics without an
// address (--prometheus-address); transport carries the queries (nil: a clone of
// http.DefaultTransport); now is the query time (nil: time.Now).
func NewPrometheus(defaultAddress string, transport http.RoundTripper, now func() time.Time) *Prometheus {
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if now == nil {
		now = time.Now
	}
	return &Prometheus{defaultAddress: defaultAddress, transport: transport, insecure: insecureTransport(transport), now: now}
}

// insecureTransport is transport without TLS verification, for insecure: true; nil when
// transport is not an *http.Transport.
func insecureTransport(transport http.RoundTripper) http.RoundTripper {
	t, ok := transport.(*http.Transport)
	if !ok {
		return nil
	}
	t = t.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // asked for by the metric's insecure: true
	return t
}

// Measure runs the query.
func (p *Prometheus) Measure(ctx context.Context, _ *v1alpha1.AnalysisRun, metric *Metric, _ *v1alpha1.Measurement) Outcome {
	spec := metric.Spec.Provider.Prometheus
	address := spec.Address
	if address == "" {
		address = p.defaultAddress
	}
	transport := p.transport
	if spec.Insecure {
		if transport = p.insecure; transport == nil {
			return errorf("prometheus.insecure needs an *http.Transport")
		}
	}
	if len(spec.Headers) > 0 {
		transport = headerTransport{headers: spec.Headers, next: transport}
	}
	client, err := api.NewClient(api.Config{Address: address, RoundTripper: transport})
	if err != nil {
		return errorf("prometheus.address %q: %v", address, err)
	}
	timeout := DefaultPrometheusTimeout
	if spec.Timeout != nil {
		timeout = time.Duration(*spec.Timeout) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	value, _, _, err := promv1.NewAPI(client).Query(ctx, spec.Query, p.now(), promv1.WithTimeout(timeout))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return errorf("query timed out after %s at %s: %s", timeout, address, spec.Query)
		}
		return errorf("query failed at %s: %v: %s", address, err, spec.Query)
	}
	result, text, err := PrometheusResult(value)
	if err != nil {
		return Outcome{Phase: v1alpha1.AnalysisPhaseError, Value: text, Message: fmt.Sprintf("%v: %s", err, spec.Query)}
	}
	return Outcome{Result: result, Value: text}
}

// Release holds nothing.
func (p *Prometheus) Release(context.Context, *v1alpha1.AnalysisRun, *v1alpha1.Measurement) error {
	return nil
}

// PrometheusResult turns a query's value into the result the conditions see: a scalar is
// a number, a vector a list of numbers. No data and NaN are errors that say so, never a
// value a condition could pass; a range vector (matrix) or a string is not supported.
func PrometheusResult(v model.Value) (any, string, error) {
	switch v := v.(type) {
	case *model.Scalar:
		f := float64(v.Value)
		if math.IsNaN(f) {
			return nil, "NaN", errors.New("query returned NaN")
		}
		return f, displayValue(f), nil
	case model.Vector:
		if len(v) == 0 {
			return nil, "[]", errors.New("query returned no data")
		}
		out := make([]float64, len(v))
		texts := make([]string, len(v))
		for i, s := range v {
			out[i], texts[i] = float64(s.Value), displayValue(float64(s.Value))
		}
		text := "[" + strings.Join(texts, ",") + "]"
		for i, s := range v {
			if math.IsNaN(out[i]) {
				return nil, text, fmt.Errorf("query returned NaN for %s", s.Metric)
			}
		}
		return out, text, nil
	case model.Matrix:
		return nil, "", errors.New("query returned a range vector (matrix): use an instant vector, such as sum(rate(x[5m]))")
	case nil:
		return nil, "", errors.New("query returned no data")
	}
	return nil, "", fmt.Errorf("query returned a %s: use a query that gives a number or an instant vector", v.Type())
}

// headerTransport adds a metric's headers to each request.
type headerTransport struct {
	headers []v1alpha1.WebMetricHeader
	next    http.RoundTripper
}

func (t headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for _, h := range t.headers {
		req.Header.Set(h.Key, h.Value)
	}
	return t.next.RoundTrip(req)
}

// displayValue writes a measured value for people, to 10 significant digits: a ratio
// computed as 0.12000000000000004 reads 0.12. The condition sees the exact value.
func displayValue(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	rounded, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 10, 64), 64)
	return strconv.FormatFloat(rounded, 'f', -1, 64)
}
