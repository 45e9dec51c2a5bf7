package planner

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// verdict summarises the Rollout: its phase, a reason for the conditions and a message.
type verdict struct {
	phase   v1alpha1.RolloutPhase
	reason  string
	message string
}

// syncStatus fills in what the status observes: counts, selectors and the verdict.
func (p *planner) syncStatus() {
	s := &p.status
	s.ObservedGeneration = p.ro.Generation
	if p.invalid == "" {
		s.CurrentPodHash = p.hash
	}
	s.BlueGreen.ActiveSelector = p.activeHash
	s.BlueGreen.PreviewSelector = p.previewHash
	s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas = 0, 0, 0, 0
	for _, rs := range p.live {
		if p.created && rs == p.current {
			continue
		}
		s.Replicas += rs.Status.Replicas
		s.ReadyReplicas += rs.Status.ReadyReplicas
		s.AvailableReplicas += rs.Status.AvailableReplicas
		if rs == p.current {
			s.UpdatedReplicas = rs.Status.Replicas
		}
	}
	// The scale subresource describes the active pods only; before the first switch, the
	// pods that are about to become active.
	podsHash := p.activeHash
	if podsHash == "" {
		podsHash = p.hash
	}
	s.HPAReplicas = p.available(p.rsByHash[podsHash])
	if sel := p.podSelector(podsHash); sel != "" {
		s.Selector = sel
	}
	if len(s.PauseConditions) == 0 {
		s.PauseConditions = nil
	}
	v := p.verdict()
	s.Phase, s.Message = v.phase, v.message
	p.setConditions(v)
}

// podSelector is the label selector, as a string, of a revision's pods.
func (p *planner) podSelector(hash string) string {
	if p.selector == nil || hash == "" {
		return ""
	}
	sel := p.selector.DeepCopy()
	sel.MatchLabels = withLabel(sel.MatchLabels, v1alpha1.PodTemplateHashLabel, hash)
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return ""
	}
	return s.String()
}

func (p *planner) verdict() verdict {
	switch {
	case p.invalid != "":
		return verdict{v1alpha1.PhaseDegraded, v1alpha1.ReasonInvalidSpec, "invalid spec: " + p.invalid}
	case p.aborted():
		a := p.status.Abort
		return verdict{v1alpha1.PhaseDegraded, v1alpha1.ReasonRolloutAborted, fmt.Sprintf("%s was aborted by %s: %s", p.describe(p.hash), a.By, a.Message)}
	case p.progress != nil && p.progress.exceeded:
		return verdict{v1alpha1.PhaseDegraded, v1alpha1.ReasonProgressDeadlineExceeded, p.progress.message()}
	case p.cfg.paused:
		msg := "spec.paused: nothing is promoted or switched until the Rollout is resumed"
		if p.waiting != "" && !strings.HasPrefix(p.waiting, "spec.paused") {
			msg = "spec.paused: " + p.waiting
		} else if p.waiting != "" {
			msg = p.waiting
		}
		return verdict{v1alpha1.PhasePaused, v1alpha1.ReasonPausedBySpec, msg}
	case p.pausedFor(v1alpha1.PauseReasonInconclusiveAnalysis):
		return verdict{v1alpha1.PhasePaused, v1alpha1.ReasonInconclusiveAnalysis, p.waiting}
	case p.pausedFor(v1alpha1.PauseReasonBlueGreenPause):
		return verdict{v1alpha1.PhasePaused, v1alpha1.ReasonWaitingForPromotion, p.waiting}
	case p.healthy():
		return verdict{v1alpha1.PhaseHealthy, v1alpha1.ReasonRolloutHealthy, fmt.Sprintf("%s is active and fully available", p.describe(p.hash))}
	}
	msg := p.waiting
	if msg == "" {
		msg = fmt.Sprintf("releasing %s", p.describe(p.hash))
	}
	if p.progress != nil {
		return verdict{v1alpha1.PhaseProgressing, v1alpha1.ReasonReplicaSetUpdated, msg}
	}
	return verdict{v1alpha1.PhaseProgressing, v1alpha1.ReasonNewReplicaSetAvailable, msg}
}

// healthy: the current revision is stable, fully available, and both Services select it.
func (p *planner) healthy() bool {
	return !p.inFlight() && p.activeHash == p.hash &&
		(p.cfg.previewService == "" || p.previewHash == p.hash) &&
		p.saturated(p.current, p.cfg.replicas)
}
