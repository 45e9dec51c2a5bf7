package analysis

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Record puts a measurement into a metric's result. A Running measurement (a Job) is
// appended, or replaces the Running one it continues; a finished one is counted (errors
// apart from Count, as in Argo Rollouts, so that an outage never completes a count). The
// history keeps the last MeasurementHistoryLimit measurements; Record returns those it
// dropped, whose resources (Jobs) the caller releases.
func Record(res *v1alpha1.MetricResult, m v1alpha1.Measurement) (dropped []v1alpha1.Measurement) {
	if n := len(res.Measurements); n > 0 && res.Measurements[n-1].Phase == v1alpha1.AnalysisPhaseRunning {
		res.Measurements[n-1] = m
	} else {
		res.Measurements = append(res.Measurements, m)
	}
	switch m.Phase {
	case v1alpha1.AnalysisPhaseSuccessful:
		res.Count++
		res.Successful++
		res.ConsecutiveError = 0
	case v1alpha1.AnalysisPhaseFailed:
		res.Count++
		res.Failed++
		res.ConsecutiveError = 0
	case v1alpha1.AnalysisPhaseInconclusive:
		res.Count++
		res.Inconclusive++
		res.ConsecutiveError = 0
	case v1alpha1.AnalysisPhaseError:
		res.Error++
		res.ConsecutiveError++
	}
	if over := len(res.Measurements) - MeasurementHistoryLimit; over > 0 {
		dropped = append(dropped, res.Measurements[:over]...)
		res.Measurements = append([]v1alpha1.Measurement(nil), res.Measurements[over:]...)
	}
	return dropped
}

// Running returns the measurement of a result that is still going on (a Job), or nil.
func Running(res *v1alpha1.MetricResult) *v1alpha1.Measurement {
	if n := len(res.Measurements); n > 0 && res.Measurements[n-1].Phase == v1alpha1.AnalysisPhaseRunning {
		return &res.Measurements[n-1]
	}
	return nil
}

// AssessMetric gives a metric's phase and a message from its counts: Failed once more
// measurements failed than failureLimit, Inconclusive once more were inconclusive than
// inconclusiveLimit, Error once more errors came in a row than consecutiveErrorLimit;
// Successful once count measurements were taken (one without count and interval), or
// when the run is terminated; Running or Pending otherwise.
func AssessMetric(m *Metric, res *v1alpha1.MetricResult, terminated bool) (v1alpha1.AnalysisPhase, string) {
	switch {
	case res.Failed > m.FailureLimit:
		return v1alpha1.AnalysisPhaseFailed, fmt.Sprintf("%d of %d measurements failed, more than failureLimit %d%s",
			res.Failed, res.Count, m.FailureLimit, m.lastValue(res))
	case res.Inconclusive > m.InconclusiveLimit:
		return v1alpha1.AnalysisPhaseInconclusive, fmt.Sprintf("%d of %d measurements were inconclusive, more than inconclusiveLimit %d%s",
			res.Inconclusive, res.Count, m.InconclusiveLimit, m.lastValue(res))
	case res.ConsecutiveError > m.ConsecutiveErrorLimit:
		msg := fmt.Sprintf("%d errors in a row, more than consecutiveErrorLimit %d", res.ConsecutiveError, m.ConsecutiveErrorLimit)
		if n := len(res.Measurements); n > 0 && res.Measurements[n-1].Message != "" {
			msg += ": " + res.Measurements[n-1].Message
		}
		return v1alpha1.AnalysisPhaseError, msg
	case Running(res) != nil && !terminated:
		return v1alpha1.AnalysisPhaseRunning, ""
	case m.countReached(res):
		return v1alpha1.AnalysisPhaseSuccessful, fmt.Sprintf("%d of %d measurements successful", res.Successful, res.Count)
	case terminated:
		return v1alpha1.AnalysisPhaseSuccessful, fmt.Sprintf("terminated after %d measurements, %d successful", res.Count, res.Successful)
	case len(res.Measurements) == 0 && res.Count == 0 && res.Error == 0:
		return v1alpha1.AnalysisPhasePending, ""
	}
	return v1alpha1.AnalysisPhaseRunning, ""
}

func (m *Metric) countReached(res *v1alpha1.MetricResult) bool {
	switch {
	case m.Count > 0:
		return res.Count >= m.Count
	case m.Interval == 0:
		return res.Count >= 1
	}
	return false // measured until terminated
}

// lastValue describes the last measurement and the query, for a failed metric's message.
func (m *Metric) lastValue(res *v1alpha1.MetricResult) string {
	var b strings.Builder
	if n := len(res.Measurements); n > 0 {
		last := res.Measurements[n-1]
		if last.Value != "" {
			fmt.Fprintf(&b, "; last measured %s", last.Value)
		}
		if d := m.Conditions.Describe(last.Phase); d != "" {
			fmt.Fprintf(&b, ": %s", d)
		}
	}
	if q := Query(m.Spec.Provider); q != "" {
		fmt.Fprintf(&b, "; query: %s", q)
	}
	return b.String()
}

// Query is what a provider asks, for messages: the PromQL query, the web request, the Job.
func Query(p v1alpha1.MetricProvider) string {
	switch {
	case p.Prometheus != nil:
		return p.Prometheus.Query
	case p.Web != nil:
		method := string(p.Web.Method)
		if method == "" {
			method = "GET"
		}
		return method + " " + p.Web.URL
	}
	return ""
}

// worse orders the final phases: Failed is worst, then Error, Inconclusive, Successful.
var worse = map[v1alpha1.AnalysisPhase]int{
	v1alpha1.AnalysisPhaseSuccessful:   1,
	v1alpha1.AnalysisPhaseInconclusive: 2,
	v1alpha1.AnalysisPhaseError:        3,
	v1alpha1.AnalysisPhaseFailed:       4,
}

// AssessRun gives a run's phase and message from its metrics' phases (results in the
// order of metrics). A Failed or Error metric decides at once; otherwise the run is
// complete when every metric is, with its worst metric's phase. Dry-run metrics are
// recorded and mentioned but never decide. A terminated run is complete at once.
func AssessRun(metrics []*Metric, results []v1alpha1.MetricResult, terminated bool) (v1alpha1.AnalysisPhase, string) {
	worst, worstMsg := v1alpha1.AnalysisPhase(""), ""
	allDone, started := true, false
	var dryRun []string
	for i, m := range metrics {
		res := results[i]
		if res.Phase != v1alpha1.AnalysisPhasePending && res.Phase != "" {
			started = true
		}
		if !res.Phase.Completed() {
			allDone = false
			continue
		}
		if m.DryRun {
			if res.Phase != v1alpha1.AnalysisPhaseSuccessful {
				dryRun = append(dryRun, fmt.Sprintf("%s is %s", m.Spec.Name, res.Phase))
			}
			continue
		}
		if worse[res.Phase] > worse[worst] {
			worst, worstMsg = res.Phase, fmt.Sprintf("metric %s is %s: %s", m.Spec.Name, res.Phase, res.Message)
		}
	}
	note := ""
	if len(dryRun) > 0 {
		note = " (dry run, not deciding: " + strings.Join(dryRun, ", ") + ")"
	}
	switch {
	case worst == v1alpha1.AnalysisPhaseFailed || worst == v1alpha1.AnalysisPhaseError:
		return worst, worstMsg + note
	case allDone || terminated:
		if worst == "" || worst == v1alpha1.AnalysisPhaseSuccessful {
			msg := fmt.Sprintf("%d metrics successful", len(metrics)-len(dryRun))
			if terminated && !allDone {
				msg = "terminated before every metric was measured to its count"
			}
			return v1alpha1.AnalysisPhaseSuccessful, msg + note
		}
		return worst, worstMsg + note
	case !started:
		return v1alpha1.AnalysisPhasePending, ""
	}
	return v1alpha1.AnalysisPhaseRunning, note
}

// NextMeasurement says when a metric is due to be measured, given the run's start: after
// initialDelay first, then every interval (after an error, every interval or
// DefaultErrorRetryInterval); without an interval, back to back until count is reached. ok is
// false when no measurement is due: the metric is complete, or a measurement is running
// (a Job, whose changes wake the controller).
func NextMeasurement(m *Metric, res *v1alpha1.MetricResult, started time.Time) (at time.Time, ok bool) {
	if res.Phase.Completed() || Running(res) != nil {
		return time.Time{}, false
	}
	n := len(res.Measurements)
	if n == 0 {
		return started.Add(m.InitialDelay), true
	}
	last := res.Measurements[n-1]
	finished := started
	if last.FinishedAt != nil {
		finished = last.FinishedAt.Time
	} else if last.StartedAt != nil {
		finished = last.StartedAt.Time
	}
	// Status times are cut to the second: a time read back from the API server may be up
	// to a second early, and a measurement is never taken before its interval has passed.
	backToBack := finished
	if finished.Nanosecond() == 0 {
		finished = finished.Add(time.Second - time.Nanosecond)
	}
	switch {
	case m.Interval > 0:
		return finished.Add(m.Interval), true
	case last.Phase == v1alpha1.AnalysisPhaseError:
		return finished.Add(DefaultErrorRetryInterval), true
	}
	return backToBack, true
}

// Now is a measurement timestamp: status times have a resolution of one second.
func Now(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t)
	return &mt
}
