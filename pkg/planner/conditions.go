package planner

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// setConditions sets every condition from the verdict. Ready, Reconciling and Stalled
// follow kstatus: Ready when Healthy, or paused by spec.paused with nothing on its way and
// the stable revision fully available (so that Flux or kubectl wait on a Rollout paused in
// Git do not wait forever); Reconciling while a revision is on its way; Stalled when
// Degraded (invalid spec, abort, progress deadline).
func (p *planner) setConditions(v verdict) {
	healthy := v.phase == v1alpha1.PhaseHealthy
	p.setCondition(v1alpha1.ConditionReady, healthy || (p.cfg.paused && v.phase == v1alpha1.PhasePaused && p.healthy()), v.reason, v.message)
	reconciling := v.phase == v1alpha1.PhaseProgressing || (v.phase == v1alpha1.PhasePaused && p.inFlight())
	p.setCondition(v1alpha1.ConditionReconciling, reconciling, v.reason, v.message)
	p.setCondition(v1alpha1.ConditionStalled, v.phase == v1alpha1.PhaseDegraded, v.reason, v.message)
	p.setProgressing(v)
	p.setAvailable()

	switch {
	case p.cfg.paused:
		p.setCondition(v1alpha1.ConditionPaused, true, v1alpha1.ReasonPausedBySpec, "spec.paused is true")
	case p.pausedFor(v1alpha1.PauseReasonInconclusiveAnalysis):
		p.setCondition(v1alpha1.ConditionPaused, true, v1alpha1.ReasonInconclusiveAnalysis, v.message)
	case p.pausedFor(v1alpha1.PauseReasonBlueGreenPause):
		p.setCondition(v1alpha1.ConditionPaused, true, v1alpha1.ReasonWaitingForPromotion, v.message)
	default:
		p.setCondition(v1alpha1.ConditionPaused, false, v1alpha1.ReasonNotPaused, "not waiting for promotion")
	}

	if healthy {
		p.setCondition(v1alpha1.ConditionCompleted, true, v1alpha1.ReasonRolloutCompleted, v.message)
	} else {
		p.setCondition(v1alpha1.ConditionCompleted, false, v.reason, v.message)
	}

	if p.invalid != "" {
		p.setCondition(v1alpha1.ConditionInvalidSpec, true, v1alpha1.ReasonInvalidSpec, p.invalid)
	} else {
		p.setCondition(v1alpha1.ConditionInvalidSpec, false, v1alpha1.ReasonValid, "the spec is valid")
	}
}

// setProgressing sets the Progressing condition, which also keeps the progress deadline's
// bookkeeping (see progressMark).
func (p *planner) setProgressing(v verdict) {
	const t = v1alpha1.ConditionProgressing
	switch {
	case p.invalid != "":
		p.setConditionStatus(t, metav1.ConditionFalse, v1alpha1.ReasonInvalidSpec, v.message)
	case p.aborted():
		p.setConditionStatus(t, metav1.ConditionFalse, v1alpha1.ReasonRolloutAborted, v.message)
	case p.progress != nil && p.progress.exceeded:
		p.setConditionStatus(t, metav1.ConditionFalse, v1alpha1.ReasonProgressDeadlineExceeded, p.progress.message())
	case v.phase == v1alpha1.PhasePaused:
		p.setConditionStatus(t, metav1.ConditionUnknown, v1alpha1.ReasonRolloutPaused, v.message)
	case p.progress != nil:
		p.setConditionStatus(t, metav1.ConditionTrue, v1alpha1.ReasonReplicaSetUpdated, p.progress.message())
		meta.FindStatusCondition(p.status.Conditions, t).LastTransitionTime = metav1.NewTime(p.progress.since)
	default:
		p.setConditionStatus(t, metav1.ConditionTrue, v1alpha1.ReasonNewReplicaSetAvailable, v.message)
	}
}

// setAvailable: the active Service selects a revision with at least spec.replicas
// available pods.
func (p *planner) setAvailable() {
	rs := p.rsByHash[p.activeHash]
	if p.activeHash == "" || rs == nil {
		p.setCondition(v1alpha1.ConditionAvailable, false, v1alpha1.ReasonNotAvailable, "the active Service selects no revision of this Rollout yet")
		return
	}
	msg := fmt.Sprintf("the active Service selects %s, with %d of %d pods available", p.describe(p.activeHash), p.available(rs), p.cfg.replicas)
	ok, reason := p.available(rs) >= p.cfg.replicas, v1alpha1.ReasonAvailable
	if !ok {
		reason = v1alpha1.ReasonNotAvailable
	}
	p.setCondition(v1alpha1.ConditionAvailable, ok, reason, msg)
}

func (p *planner) setCondition(t string, ok bool, reason, message string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	p.setConditionStatus(t, status, reason, message)
}

func (p *planner) setConditionStatus(t string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&p.status.Conditions, metav1.Condition{
		Type:               t,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: p.ro.Generation,
		LastTransitionTime: p.nowTime(),
	})
}

func findCondition(conditions []metav1.Condition, t string) *metav1.Condition {
	return meta.FindStatusCondition(conditions, t)
}
