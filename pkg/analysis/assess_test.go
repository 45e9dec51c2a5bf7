package analysis

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func measured(phase v1alpha1.AnalysisPhase, at time.Time) v1alpha1.Measurement {
	return v1alpha1.Measurement{Phase: phase, StartedAt: &metav1.Time{Time: at}, FinishedAt: &metav1.Time{Time: at}}
}

// record puts the phases into a fresh result, one per second from t0.
func record(phases ...v1alpha1.AnalysisPhase) *v1alpha1.MetricResult {
	res := &v1alpha1.MetricResult{Name: "m"}
	for i, p := range phases {
		Record(res, measured(p, t0.Add(time.Duration(i)*time.Second)))
	}
	return res
}

const (
	S = v1alpha1.AnalysisPhaseSuccessful
	F = v1alpha1.AnalysisPhaseFailed
	I = v1alpha1.AnalysisPhaseInconclusive
	E = v1alpha1.AnalysisPhaseError
	R = v1alpha1.AnalysisPhaseRunning
)

func TestAssessMetricLimits(t *testing.T) {
	cases := []struct {
		name       string
		metric     Metric
		phases     []v1alpha1.AnalysisPhase
		terminated bool
		want       v1alpha1.AnalysisPhase
		wantMsg    string
	}{
		{"nothing measured yet", Metric{Count: 3, Interval: time.Second}, nil, false, v1alpha1.AnalysisPhasePending, ""},
		{"once without count or interval", Metric{}, []v1alpha1.AnalysisPhase{S}, false, S, "1 of 1"},
		{"count not reached", Metric{Count: 3, Interval: time.Second}, []v1alpha1.AnalysisPhase{S, S}, false, R, ""},
		{"count reached", Metric{Count: 3, Interval: time.Second}, []v1alpha1.AnalysisPhase{S, S, S}, false, S, "3 of 3"},
		{"failureLimit 0: one failure fails", Metric{Count: 3, Interval: time.Second}, []v1alpha1.AnalysisPhase{F}, false, F, "more than failureLimit 0"},
		{"failureLimit 1 tolerates one", Metric{Count: 3, Interval: time.Second, FailureLimit: 1}, []v1alpha1.AnalysisPhase{F, S, S}, false, S, ""},
		{"failureLimit 1: two fail", Metric{Count: 3, Interval: time.Second, FailureLimit: 1}, []v1alpha1.AnalysisPhase{F, S, F}, false, F, "2 of 3"},
		{"inconclusiveLimit 0", Metric{Count: 3, Interval: time.Second}, []v1alpha1.AnalysisPhase{S, I}, false, I, "inconclusiveLimit 0"},
		{"inconclusiveLimit 1 tolerates one", Metric{Count: 2, Interval: time.Second, InconclusiveLimit: 1}, []v1alpha1.AnalysisPhase{I, S}, false, S, ""},
		{"errors within consecutiveErrorLimit do not count", Metric{Count: 1, ConsecutiveErrorLimit: 4}, []v1alpha1.AnalysisPhase{E, E, E, E}, false, R, ""},
		{"consecutiveErrorLimit exceeded", Metric{Count: 1, ConsecutiveErrorLimit: 4}, []v1alpha1.AnalysisPhase{E, E, E, E, E}, false, E, "5 errors in a row, more than consecutiveErrorLimit 4"},
		{"a success resets the errors in a row", Metric{Count: 5, Interval: time.Second, ConsecutiveErrorLimit: 2}, []v1alpha1.AnalysisPhase{E, E, S, E, E}, false, R, ""},
		{"consecutiveErrorLimit 0", Metric{Count: 5, Interval: time.Second}, []v1alpha1.AnalysisPhase{E}, false, E, ""},
		{"an outage never completes a count", Metric{ConsecutiveErrorLimit: 4}, []v1alpha1.AnalysisPhase{E}, false, R, ""},
		{"indefinite until terminated", Metric{Interval: time.Second}, []v1alpha1.AnalysisPhase{S, S, S, S}, false, R, ""},
		{"terminated", Metric{Interval: time.Second}, []v1alpha1.AnalysisPhase{S, S}, true, S, "terminated after 2"},
		{"terminated with too many failures", Metric{Interval: time.Second}, []v1alpha1.AnalysisPhase{F}, true, F, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := record(tc.phases...)
			got, msg := AssessMetric(&tc.metric, res, tc.terminated)
			if got != tc.want || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("AssessMetric = %s %q, want %s containing %q (counts %+v)", got, msg, tc.want, tc.wantMsg, res)
			}
		})
	}
}

func TestFailedMetricMessageNamesValueConditionAndQuery(t *testing.T) {
	m := &Metric{Spec: v1alpha1.Metric{Name: "errors", Provider: v1alpha1.MetricProvider{
		Prometheus: &v1alpha1.PrometheusMetric{Query: `max(error_ratio{hash="abc"})`}}}}
	m.Conditions = conditions(t, "result[0] < 0.05", "")
	res := &v1alpha1.MetricResult{}
	meas := measured(F, t0)
	meas.Value = "[0.2]"
	Record(res, meas)
	_, msg := AssessMetric(m, res, false)
	for _, want := range []string{"[0.2]", `successCondition "result[0] < 0.05" does not hold`, `query: max(error_ratio{hash="abc"})`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}
}

func TestRecordKeepsHistoryBoundedAndCounts(t *testing.T) {
	res := &v1alpha1.MetricResult{}
	var dropped int
	for i := range 25 {
		phase := S
		if i%5 == 4 {
			phase = E
		}
		dropped += len(Record(res, measured(phase, t0.Add(time.Duration(i)*time.Second))))
	}
	if len(res.Measurements) != MeasurementHistoryLimit || dropped != 25-MeasurementHistoryLimit {
		t.Fatalf("kept %d, dropped %d", len(res.Measurements), dropped)
	}
	if !res.Measurements[MeasurementHistoryLimit-1].StartedAt.Time.Equal(t0.Add(24 * time.Second)) {
		t.Errorf("the newest measurement is not last")
	}
	if res.Count != 20 || res.Successful != 20 || res.Error != 5 || res.ConsecutiveError != 1 {
		t.Errorf("counts %+v", res)
	}
	// A Running measurement (a Job) is replaced when it finishes, and counted once.
	res = &v1alpha1.MetricResult{}
	Record(res, v1alpha1.Measurement{Phase: R})
	Record(res, measured(F, t0))
	if len(res.Measurements) != 1 || res.Count != 1 || res.Failed != 1 {
		t.Errorf("after a running then failed measurement: %+v", res)
	}
}

func TestAssessRun(t *testing.T) {
	metric := func(name string, dry bool) *Metric {
		return &Metric{Spec: v1alpha1.Metric{Name: name}, DryRun: dry}
	}
	result := func(phase v1alpha1.AnalysisPhase) v1alpha1.MetricResult {
		return v1alpha1.MetricResult{Phase: phase, Message: "why"}
	}
	cases := []struct {
		name       string
		metrics    []*Metric
		results    []v1alpha1.MetricResult
		terminated bool
		want       v1alpha1.AnalysisPhase
		wantMsg    string
	}{
		{"pending", []*Metric{metric("a", false)}, []v1alpha1.MetricResult{result(v1alpha1.AnalysisPhasePending)}, false, v1alpha1.AnalysisPhasePending, ""},
		{"all successful", []*Metric{metric("a", false), metric("b", false)}, []v1alpha1.MetricResult{result(S), result(S)}, false, S, "2 metrics successful"},
		{"one still running", []*Metric{metric("a", false), metric("b", false)}, []v1alpha1.MetricResult{result(S), result(R)}, false, R, ""},
		{"a failure decides at once", []*Metric{metric("a", false), metric("b", false)}, []v1alpha1.MetricResult{result(R), result(F)}, false, F, "metric b is Failed"},
		{"an error decides at once", []*Metric{metric("a", false), metric("b", false)}, []v1alpha1.MetricResult{result(E), result(R)}, false, E, "metric a is Error"},
		{"failed is worse than error", []*Metric{metric("a", false), metric("b", false)}, []v1alpha1.MetricResult{result(E), result(F)}, false, F, "metric b"},
		{"inconclusive waits for the others", []*Metric{metric("a", false), metric("b", false)}, []v1alpha1.MetricResult{result(I), result(R)}, false, R, ""},
		{"inconclusive", []*Metric{metric("a", false), metric("b", false)}, []v1alpha1.MetricResult{result(I), result(S)}, false, I, "metric a is Inconclusive"},
		{"dry run never decides", []*Metric{metric("a", false), metric("b", true)}, []v1alpha1.MetricResult{result(S), result(F)}, false, S, "dry run, not deciding: b is Failed"},
		{"terminated", []*Metric{metric("a", false)}, []v1alpha1.MetricResult{result(R)}, true, S, "terminated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, msg := AssessRun(tc.metrics, tc.results, tc.terminated)
			if got != tc.want || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("AssessRun = %s %q, want %s containing %q", got, msg, tc.want, tc.wantMsg)
			}
		})
	}
}

func TestNextMeasurement(t *testing.T) {
	cases := []struct {
		name   string
		metric Metric
		res    *v1alpha1.MetricResult
		want   time.Time
		due    bool
	}{
		{"first after initialDelay", Metric{InitialDelay: 5 * time.Second}, record(), t0.Add(5 * time.Second), true},
		// t0 reads as a time from the API server, cut to the second: it may really be up to
		// a second later, and the interval must have passed.
		{"next after interval", Metric{Interval: 30 * time.Second, Count: 3}, record(S), t0.Add(31*time.Second - time.Nanosecond), true},
		{"back to back without interval", Metric{Count: 3}, record(S), t0, true},
		{"error retried after the default", Metric{}, record(E), t0.Add(DefaultErrorRetryInterval + time.Second - time.Nanosecond), true},
		{"error retried after the interval", Metric{Interval: time.Second}, record(E), t0.Add(2*time.Second - time.Nanosecond), true},
		{"a precise time is taken as it is", Metric{Interval: time.Second}, &v1alpha1.MetricResult{Measurements: []v1alpha1.Measurement{
			measured(S, t0.Add(300*time.Millisecond))}}, t0.Add(1300 * time.Millisecond), true},
		{"running Job: not due", Metric{}, &v1alpha1.MetricResult{Measurements: []v1alpha1.Measurement{{Phase: R}}}, time.Time{}, false},
		{"complete: not due", Metric{}, &v1alpha1.MetricResult{Phase: S}, time.Time{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, due := NextMeasurement(&tc.metric, tc.res, t0)
			if due != tc.due || !got.Equal(tc.want) {
				t.Errorf("NextMeasurement = %v %v, want %v %v", got, due, tc.want, tc.due)
			}
		})
	}
}

func TestPrepareReportsTheFieldAndTheFix(t *testing.T) {
	web := v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: "http://127.0.0.1:1/{{args.path}}"}}
	prom := v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Query: "up"}}
	cases := []struct {
		name   string
		metric v1alpha1.Metric
		opts   Options
		want   string
	}{
		{"condition does not compile", v1alpha1.Metric{Name: "m", SuccessCondition: "result[0] >=", Provider: web},
			Options{}, `metrics[0] "m": successCondition "result[0] >=" does not compile: unexpected token EOF (1:12): fix the expression`},
		{"unknown argument", v1alpha1.Metric{Name: "m", Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: "http://x/{{args.nope}}"}}},
			Options{}, "{{args.nope}} is not an argument of the run"},
		{"bad interval", v1alpha1.Metric{Name: "m", Interval: "soon", Provider: web}, Options{}, `interval "soon" is not a positive duration`},
		{"count from an argument that is not a number", v1alpha1.Metric{Name: "m", Count: ptr.To(intstr.FromString("{{args.path}}")), Provider: web},
			Options{}, `count "health" is not a whole number`},
		{"no Prometheus address anywhere", v1alpha1.Metric{Name: "m", Provider: prom}, Options{}, "--prometheus-address"},
		{"web URL without scheme", v1alpha1.Metric{Name: "m", Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: "localhost/x"}}},
			Options{}, "not an http(s) URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Prepare(v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{tc.metric}}, NewArgs(map[string]string{"path": "health"}), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Prepare error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	ms, err := Prepare(v1alpha1.AnalysisRunSpec{
		Metrics: []v1alpha1.Metric{{Name: "m", Interval: "{{args.every}}", Count: ptr.To(intstr.FromString("{{args.n}}")), Provider: prom}},
		DryRun:  []v1alpha1.DryRun{{MetricName: ".*"}},
	}, NewArgs(map[string]string{"every": "2s", "n": "3"}), Options{PrometheusAddress: "http://127.0.0.1:9090"})
	if err != nil {
		t.Fatal(err)
	}
	if m := ms[0]; m.Interval != 2*time.Second || m.Count != 3 || !m.DryRun || m.ConsecutiveErrorLimit != DefaultConsecutiveErrorLimit {
		t.Errorf("prepared %+v", m)
	}
	if _, err := Prepare(v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{{Name: "m", Provider: web}}, DryRun: []v1alpha1.DryRun{{MetricName: "typo"}}},
		NewArgs(map[string]string{"path": "x"}), Options{}); err == nil || !strings.Contains(err.Error(), `dryRun[0].metricName "typo" matches no metric`) {
		t.Errorf("dry-run rule matching nothing: %v", err)
	}
}
