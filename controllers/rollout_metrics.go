package controllers

import (
	"strconv"
	"time"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/pkg/metrics"
	"github.com/bluegreen-dev/bluegreen/pkg/planner"
)

// observe updates the operator's metrics once a decision was applied and its status
// written: the Rollout's gauges, the promotions and aborts it made, and the phases and last
// values of its current analysis gates.
func (r *RolloutReconciler) observe(in *planner.Input, ro *v1alpha1.Rollout, decision planner.Decision) {
	metrics.ObserveRollout(ro)
	for _, action := range decision.Actions {
		event, ok := action.(planner.RecordEvent)
		if !ok {
			continue
		}
		switch event.Reason {
		case v1alpha1.EventRolloutPromoted:
			var took time.Duration
			for _, rs := range in.ReplicaSets {
				if rs.Labels[v1alpha1.PodTemplateHashLabel] == decision.Status.CurrentPodHash {
					took = in.Now.Sub(rs.CreationTimestamp.Time)
				}
			}
			metrics.Promoted(ro.Namespace, ro.Name, took)
		case v1alpha1.EventRolloutAborted:
			if a := decision.Status.Abort; a != nil {
				metrics.Aborted(ro.Namespace, ro.Name, a.By)
			}
		}
	}
	gates := map[string]*v1alpha1.RolloutAnalysisRunStatus{
		v1alpha1.AnalysisTypePrePromotion:  decision.Status.BlueGreen.PrePromotionAnalysisRunStatus,
		v1alpha1.AnalysisTypePostPromotion: decision.Status.BlueGreen.PostPromotionAnalysisRunStatus,
	}
	for gate, ref := range gates {
		if ref == nil {
			continue
		}
		for _, run := range in.AnalysisRuns {
			if run.Name == ref.Name {
				metrics.ObserveAnalysis(ro.Namespace, ro.Name, gate, run, lastNumericValue)
			}
		}
	}
}

// lastNumericValue is the metric's last measured value when it is a number (a one-element
// list, as a Prometheus vector gives, counts as its element).
func lastNumericValue(m v1alpha1.MetricResult) (float64, bool) {
	if len(m.Measurements) == 0 {
		return 0, false
	}
	v := m.Measurements[len(m.Measurements)-1].Value
	if len(v) > 2 && v[0] == '[' && v[len(v)-1] == ']' {
		v = v[1 : len(v)-1]
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}
