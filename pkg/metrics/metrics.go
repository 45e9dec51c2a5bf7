// Package metrics holds the operator's own Prometheus metrics, registered on
// controller-runtime's registry so that the manager's /metrics endpoint serves them.
//
// Labels are bounded: namespace and name of a Rollout, a gate (pre-promotion or
// post-promotion), a metric name from its template, a phase, an abort source. Revision
// hashes, run names and free text never become labels. A Rollout's series are removed
// when it is deleted.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

var (
	rolloutInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "rollout_info",
		Help: "A Rollout and its phase: 1 for the current phase.",
	}, []string{"namespace", "name", "phase"})

	replicasDesired = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "rollout_replicas_desired",
		Help: "spec.replicas of a Rollout.",
	}, []string{"namespace", "name"})

	replicasAvailable = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "rollout_replicas_available",
		Help: "Available pods of every revision of a Rollout.",
	}, []string{"namespace", "name"})

	replicasUpdated = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "rollout_replicas_updated",
		Help: "Pods of the newest revision of a Rollout.",
	}, []string{"namespace", "name"})

	promotions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rollout_promotions_total",
		Help: "Revisions promoted: the active Service switched to a new revision.",
	}, []string{"namespace", "name"})

	aborts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rollout_aborts_total",
		Help: "Revisions aborted, by who aborted them: User, Analysis or ProgressDeadline.",
	}, []string{"namespace", "name", "reason"})

	promotionSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "rollout_promotion_duration_seconds",
		Help:    "Time from a new revision's ReplicaSet to the active Service switching to it.",
		Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600},
	}, []string{"namespace", "name"})

	metricPhase = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "analysis_run_metric_phase",
		Help: "The phase of each metric of a Rollout's current AnalysisRuns: 1 for the current phase.",
	}, []string{"namespace", "rollout", "type", "metric", "phase"})

	metricValue = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "analysis_run_metric_value",
		Help: "The last measured value of each numeric metric of a Rollout's current AnalysisRuns.",
	}, []string{"namespace", "rollout", "type", "metric"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(rolloutInfo, replicasDesired, replicasAvailable, replicasUpdated,
		promotions, aborts, promotionSeconds, metricPhase, metricValue)
}

var phases = []v1alpha1.RolloutPhase{v1alpha1.PhaseHealthy, v1alpha1.PhaseProgressing, v1alpha1.PhasePaused, v1alpha1.PhaseDegraded}

var analysisPhases = []v1alpha1.AnalysisPhase{v1alpha1.AnalysisPhasePending, v1alpha1.AnalysisPhaseRunning,
	v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseError, v1alpha1.AnalysisPhaseInconclusive}

// ObserveRollout sets the gauges of a Rollout from its status.
func ObserveRollout(ro *v1alpha1.Rollout) {
	ns, name := ro.Namespace, ro.Name
	for _, p := range phases {
		v := 0.0
		if ro.Status.Phase == p {
			v = 1
		}
		rolloutInfo.WithLabelValues(ns, name, string(p)).Set(v)
	}
	if ro.Spec.Replicas != nil {
		replicasDesired.WithLabelValues(ns, name).Set(float64(*ro.Spec.Replicas))
	}
	replicasAvailable.WithLabelValues(ns, name).Set(float64(ro.Status.AvailableReplicas))
	replicasUpdated.WithLabelValues(ns, name).Set(float64(ro.Status.UpdatedReplicas))
}

// Promoted counts a promotion and how long the revision took from its ReplicaSet to it.
func Promoted(namespace, name string, took time.Duration) {
	promotions.WithLabelValues(namespace, name).Inc()
	if took > 0 {
		promotionSeconds.WithLabelValues(namespace, name).Observe(took.Seconds())
	}
}

// Aborted counts an abort by its source.
func Aborted(namespace, name string, by v1alpha1.AbortSource) {
	aborts.WithLabelValues(namespace, name, string(by)).Inc()
}

// ObserveAnalysis sets the phase and last value of each metric of a Rollout's gate run.
func ObserveAnalysis(namespace, rollout, gate string, run *v1alpha1.AnalysisRun, lastValue func(v1alpha1.MetricResult) (float64, bool)) {
	for _, m := range run.Status.MetricResults {
		for _, p := range analysisPhases {
			v := 0.0
			if m.Phase == p {
				v = 1
			}
			metricPhase.WithLabelValues(namespace, rollout, gate, m.Name, string(p)).Set(v)
		}
		if value, ok := lastValue(m); ok {
			metricValue.WithLabelValues(namespace, rollout, gate, m.Name).Set(value)
		}
	}
}

// Forget removes every series of a deleted Rollout.
func Forget(namespace, name string) {
	byRollout := prometheus.Labels{"namespace": namespace, "name": name}
	for _, v := range []*prometheus.GaugeVec{rolloutInfo, replicasDesired, replicasAvailable, replicasUpdated} {
		v.DeletePartialMatch(byRollout)
	}
	promotions.DeletePartialMatch(byRollout)
	aborts.DeletePartialMatch(byRollout)
	promotionSeconds.DeletePartialMatch(byRollout)
	byRun := prometheus.Labels{"namespace": namespace, "rollout": name}
	metricPhase.DeletePartialMatch(byRun)
	metricValue.DeletePartialMatch(byRun)
}
