package analysis_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/pkg/analysis"
	"github.com/bluegreen-dev/bluegreen/test/prometheus"
)

// TestPrometheusProviderAgainstARealPrometheus queries a real Prometheus that scrapes an
// exporter the test controls every second: a query that passes, one that fails, one with
// no data, a NaN, and a Prometheus that is down. No data, NaN and an outage are errors,
// never a pass.
func TestPrometheusProviderAgainstARealPrometheus(t *testing.T) {
	exporter := prometheus.NewExporterForTest(t)
	exporter.Set("error_ratio", map[string]string{"hash": "good"}, 0.01)
	exporter.Set("error_ratio", map[string]string{"hash": "bad"}, 0.2)
	server := prometheus.NewForTest(t, prometheus.Options{Targets: []string{exporter.Target()}})
	provider := analysis.NewPrometheus(server.URL, nil, nil)

	measure := func(query, success string) v1alpha1.Measurement {
		t.Helper()
		spec := v1alpha1.Metric{Name: "error-ratio", SuccessCondition: success,
			Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Query: query, Timeout: new(int64(5))}}}
		ms, err := analysis.Prepare(v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{spec}}, analysis.NewArgs(nil), analysis.Options{PrometheusAddress: server.URL})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		return analysis.Judge(ms[0], provider.Measure(context.Background(), &v1alpha1.AnalysisRun{}, ms[0], nil), now, time.Now())
	}

	// The first scrape comes within a second or two of the start.
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := measure(`count(error_ratio)`, "")
		if m.Phase == v1alpha1.AnalysisPhaseSuccessful && m.Value == "[2]" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the exporter's series never reached Prometheus; last measurement %+v", m)
		}
		time.Sleep(200 * time.Millisecond) // poll interval
	}

	cases := []struct {
		name      string
		query     string
		success   string
		phase     v1alpha1.AnalysisPhase
		value     string
		inMessage string
	}{
		{"passing", `max(error_ratio{hash="good"})`, "result[0] < 0.05", v1alpha1.AnalysisPhaseSuccessful, "[0.01]", ""},
		{"failing", `max(error_ratio{hash="bad"})`, "result[0] < 0.05", v1alpha1.AnalysisPhaseFailed, "[0.2]", `successCondition "result[0] < 0.05" does not hold`},
		{"no data", `max(error_ratio{hash="none"})`, "len(result) == 0 || result[0] < 0.05", v1alpha1.AnalysisPhaseError, "[]",
			`query returned no data: max(error_ratio{hash="none"})`},
		{"scalar", `scalar(max(error_ratio{hash="good"}))`, "result < 0.05", v1alpha1.AnalysisPhaseSuccessful, "0.01", ""},
		{"NaN", `scalar(max(error_ratio{hash="none"}))`, "result < 0.05", v1alpha1.AnalysisPhaseError, "NaN", "query returned NaN: scalar("},
		{"all of a vector", `error_ratio`, "all(result, {# < 0.05})", v1alpha1.AnalysisPhaseFailed, "", ""},
		{"a query that does not parse", `max(error_ratio`, "result[0] < 0.05", v1alpha1.AnalysisPhaseError, "", "bad_data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := measure(tc.query, tc.success)
			if got.Phase != tc.phase || (tc.value != "" && got.Value != tc.value) || !strings.Contains(got.Message, tc.inMessage) {
				t.Errorf("measurement %+v, want phase %s value %q message containing %q", got, tc.phase, tc.value, tc.inMessage)
			}
		})
	}

	t.Run("Prometheus down", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		down := "http://" + l.Addr().String()
		l.Close()
		spec := v1alpha1.Metric{Name: "m", SuccessCondition: "true",
			Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Address: down, Query: "up"}}}
		ms, err := analysis.Prepare(v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{spec}}, analysis.NewArgs(nil), analysis.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := analysis.Judge(ms[0], provider.Measure(context.Background(), &v1alpha1.AnalysisRun{}, ms[0], nil), time.Now(), time.Now())
		if got.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(got.Message, "query failed at "+down) {
			t.Errorf("measurement against a Prometheus that is down: %+v", got)
		}
	})
}
