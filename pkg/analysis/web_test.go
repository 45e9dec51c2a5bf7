package analysis

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

func TestJSONPathResult(t *testing.T) {
	body := []byte(`{"data":{"ok":true,"ratio":0.02,"items":[{"v":1},{"v":2}],"none":null},"name":"x"}`)
	cases := []struct {
		path    string
		want    any
		text    string
		wantErr string
	}{
		{"{$.data.ok}", true, "true", ""},
		{"$.data.ratio", 0.02, "0.02", ""},
		{"{.name}", "x", `"x"`, ""},
		{"{$.data.items[*].v}", []any{1.0, 2.0}, "[1,2]", ""},
		{"{$.data.none}", nil, "null", ""},
		{"", map[string]any{"data": map[string]any{"ok": true, "ratio": 0.02, "items": []any{map[string]any{"v": 1.0}, map[string]any{"v": 2.0}}, "none": nil}, "name": "x"}, "", ""},
		{"{$.data.missing}", nil, "", `jsonPath "{$.data.missing}"`},
		{"{$.data[}", nil, "", `jsonPath "{$.data[}"`},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			got, text, err := JSONPathResult(tc.path, body)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) || (tc.text != "" && text != tc.text) {
				t.Errorf("JSONPathResult = %#v %q %v, want %#v %q", got, text, err, tc.want, tc.text)
			}
		})
	}
	if _, _, err := JSONPathResult("", []byte("<html>oops</html>")); err == nil || !strings.Contains(err.Error(), "not JSON") || !strings.Contains(err.Error(), "<html>oops") {
		t.Errorf("non-JSON body: %v", err)
	}
}

func TestWebProvider(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			if r.Header.Get("Authorization") != "Bearer t" {
				http.Error(w, "no token", http.StatusUnauthorized)
				return
			}
			_, _ = io.WriteString(w, `{"ratio":0.01}`)
		case "/echo":
			body, _ := io.ReadAll(r.Body)
			_, _ = io.WriteString(w, `{"method":"`+r.Method+`","body":`+string(body)+`}`)
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "backend down "+strings.Repeat("x", 2000))
		}
	}))
	defer srv.Close()
	web := NewWeb(nil)
	measure := func(spec v1alpha1.WebMetric, success string) v1alpha1.Measurement {
		m := &Metric{Spec: v1alpha1.Metric{Name: "w", Provider: v1alpha1.MetricProvider{Web: &spec}}}
		m.Conditions = conditions(t, success, "")
		return Judge(m, web.Measure(context.Background(), &v1alpha1.AnalysisRun{}, m, nil), time.Now(), time.Now())
	}

	got := measure(v1alpha1.WebMetric{URL: srv.URL + "/ok", JSONPath: "{$.ratio}", Headers: []v1alpha1.WebMetricHeader{{Key: "Authorization", Value: "Bearer t"}}}, "result < 0.05")
	if got.Phase != v1alpha1.AnalysisPhaseSuccessful || got.Value != "0.01" {
		t.Errorf("passing request: %+v", got)
	}
	got = measure(v1alpha1.WebMetric{URL: srv.URL + "/echo", Method: "POST", Body: `{"q":1}`, JSONPath: "{$.body.q}"}, "result == 1")
	if got.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Errorf("POST with a body: %+v", got)
	}
	got = measure(v1alpha1.WebMetric{URL: srv.URL + "/down"}, "")
	if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "503 Service Unavailable") ||
		!strings.Contains(got.Message, "backend down") || len(got.Message) > 600 {
		t.Errorf("non-2xx: %d bytes: %+v", len(got.Message), got)
	}
	got = measure(v1alpha1.WebMetric{URL: srv.URL + "/slow", TimeoutSeconds: 1}, "")
	if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "timed out after 1s") {
		t.Errorf("timeout: %+v", got)
	}
}

func TestPrometheusResultShapes(t *testing.T) {
	sample := func(v float64, hash string) *model.Sample {
		return &model.Sample{Metric: model.Metric{"hash": model.LabelValue(hash)}, Value: model.SampleValue(v)}
	}
	cases := []struct {
		name    string
		value   model.Value
		want    any
		text    string
		wantErr string
	}{
		{"scalar", &model.Scalar{Value: 0.97}, 0.97, "0.97", ""},
		{"scalar NaN", &model.Scalar{Value: model.SampleValue(math.NaN())}, nil, "", "query returned NaN"},
		{"vector", model.Vector{sample(0.5, "a"), sample(0.25, "b")}, []float64{0.5, 0.25}, "[0.5,0.25]", ""},
		// A ratio shown as people would write it; the condition gets the exact value.
		{"ratio", model.Vector{sample(0.12000000000000004, "a")}, []float64{0.12000000000000004}, "[0.12]", ""},
		{"large", &model.Scalar{Value: 1234567}, 1234567.0, "1234567", ""},
		{"empty vector", model.Vector{}, nil, "", "query returned no data"},
		{"vector with NaN", model.Vector{sample(math.NaN(), "a")}, nil, "", `query returned NaN for {hash="a"}`},
		{"matrix", model.Matrix{&model.SampleStream{Metric: model.Metric{}, Values: []model.SamplePair{{Value: 1}}}}, nil, "", "range vector (matrix)"},
		{"string", &model.String{Value: "x"}, nil, "", "query returned a string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, text, err := PrometheusResult(tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				if got != nil {
					t.Errorf("an error gave a result %v a condition could pass", got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) || text != tc.text {
				t.Errorf("PrometheusResult = %#v %q %v, want %#v %q", got, text, err, tc.want, tc.text)
			}
		})
	}
}

func TestJobName(t *testing.T) {
	if got := JobName("web-abc-pre-1", "smoke", 2); got != "web-abc-pre-1-smoke-2" {
		t.Errorf("JobName = %q", got)
	}
	long := JobName(strings.Repeat("r", 60), "Smoke_Test", 12)
	if len(long) > 63 || !strings.HasSuffix(long, "-12") || strings.ContainsAny(long, "_S") {
		t.Errorf("JobName of a long name = %q (%d)", long, len(long))
	}
	if JobName(strings.Repeat("r", 60), "a", 1) == JobName(strings.Repeat("r", 60), "b", 1) {
		t.Errorf("long names of different metrics collide")
	}
}
