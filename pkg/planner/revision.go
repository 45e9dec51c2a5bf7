package planner

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// reconcileRevision moves the current revision through its lifecycle as far as the world
// allows in one decision: create, preview, pre-promotion analysis, pause, scale up, switch,
// post-promotion analysis, complete; or, once aborted, back to the stable revision.
func (p *planner) reconcileRevision() {
	p.status.PauseConditions = nil // the gates add back the pauses that still hold
	p.keepServingRevisionsUp()
	switch {
	case p.aborted():
		p.reconcileAborted()
	case p.stable == nil:
		p.reconcileFirstDeploy()
	case p.hash == p.stableHash():
		p.reconcileStable()
	default:
		p.reconcileNewRevision()
	}
}

// keepServingRevisionsUp keeps the stable revision and the revision the active Service
// selects at spec.replicas: they carry production traffic, or are the way back to it.
func (p *planner) keepServingRevisionsUp() {
	for _, h := range []string{p.stableHash(), p.activeHash} {
		if rs := p.rsByHash[h]; rs != nil && h != p.hash {
			p.scaleTo(rs, p.cfg.replicas, "it serves production traffic or is the way back to it, so it follows spec.replicas")
		}
	}
}

// reconcileFirstDeploy releases the first revision: no pause, no analysis; the Services
// select it once it is fully available.
func (p *planner) reconcileFirstDeploy() {
	rs := p.ensureReplicaSet(p.cfg.replicas, RoleActive)
	if rs == nil {
		return
	}
	p.scaleTo(rs, p.cfg.replicas, "the first revision runs at spec.replicas")
	if !p.saturated(rs, p.cfg.replicas) {
		p.wait("first deploy: ReplicaSet %s has %d of %d pods available", rs.Name, p.available(rs), p.cfg.replicas)
		p.trackProgress(rs, p.cfg.replicas)
		return
	}
	if p.cfg.paused {
		p.wait("spec.paused: the Services are pointed at the first revision once the Rollout is resumed")
		return
	}
	p.switchService(RoleActive, p.hash, "the first revision is fully available")
	p.switchService(RolePreview, p.hash, "the first revision is fully available")
	p.complete()
}

// reconcileStable keeps the stable revision at spec.replicas and the Services on it. When
// the template went back to the stable revision while another was in flight, that is a
// fast rollback: the active Service goes back at once, since the stable revision is
// saturated.
func (p *planner) reconcileStable() {
	// A restart (spec.restartAt) runs one pod more than spec.replicas until it is done.
	restart := p.podsToRestart()
	size := p.cfg.replicas
	if len(restart) > 0 {
		size++
	}
	rs := p.ensureReplicaSet(size, RoleActive)
	if len(restart) > 0 {
		p.scaleTo(rs, size, "restart: one pod more than spec.replicas, so that an old pod can be deleted while spec.replicas stay available")
	} else {
		p.scaleTo(rs, size, "the stable revision follows spec.replicas")
	}
	if p.activeHash != p.hash || (p.cfg.previewService != "" && p.previewHash != p.hash) {
		if p.cfg.paused {
			p.wait("spec.paused: the Services go back to the stable revision %s once the Rollout is resumed", p.hash)
			return
		}
		if p.activeHash != p.hash {
			if !p.saturated(rs, size) {
				p.wait("ReplicaSet %s of the stable revision has %d of %d pods available", rs.Name, p.available(rs), size)
				p.trackProgress(rs, size)
				return
			}
			p.normal(v1alpha1.EventRolloutPromoted, "Promoted %s back: the template is the stable revision's again (fast rollback)", p.describe(p.hash))
			p.switchService(RoleActive, p.hash, "the template is back to the stable revision, which is fully available: fast rollback")
		}
		p.switchService(RolePreview, p.hash, "the template is back to the stable revision")
	}
	if !p.saturated(rs, size) && len(restart) == 0 {
		p.wait("scaling: ReplicaSet %s has %d of %d pods available", rs.Name, p.available(rs), size)
		p.trackProgress(rs, size)
	}
	p.restartPods(rs, restart, size)
}

// reconcileNewRevision releases a revision beside the stable one.
func (p *planner) reconcileNewRevision() {
	if p.revisionIsNew {
		p.decideFastRollback()
	}
	full := p.fullyPromoted()
	previewSize := min(p.cfg.previewReplicas, p.cfg.replicas)
	size, role := previewSize, RolePreview
	if full {
		size = p.cfg.replicas
	}
	rs := p.ensureReplicaSet(size, role)
	if rs == nil {
		return
	}
	if p.cfg.paused {
		p.note("spec.paused: the preview Service is not switched to %s until the Rollout is resumed", p.hash)
	} else {
		p.switchService(RolePreview, p.hash, "a new revision goes to preview at once")
	}

	// Before promotion the revision runs at its preview size. When that is smaller than
	// spec.replicas and the ReplicaSet runs more, it was promoted: its size is the durable
	// record of that (the HPA never scales a revision in preview beyond it).
	beyondPreview := previewSize < p.cfg.replicas && p.replicas[rs.Name] > previewSize && !p.created
	if !full && !beyondPreview {
		p.scaleTo(rs, previewSize, "a revision in preview runs at previewReplicaCount (default spec.replicas)")
		if !p.reachedAtLeast(rs, previewSize) && !p.gatesStarted() {
			p.wait("ReplicaSet %s has %d of %d pods available for preview", rs.Name, p.available(rs), previewSize)
			if p.trackProgress(rs, previewSize) {
				p.reconcileAborted()
			}
			return
		}
		if !p.preGate() {
			if p.aborted() {
				p.reconcileAborted()
			}
			return
		}
		if p.cfg.paused {
			p.wait("spec.paused: revision %s is promoted once the Rollout is resumed", p.hash)
			return
		}
		if !p.pauseGate() {
			return
		}
	}

	p.scaleTo(rs, p.cfg.replicas, "promoted: the revision runs at spec.replicas before the active Service is switched to it")
	if !p.saturated(rs, p.cfg.replicas) {
		p.wait("waiting to switch: ReplicaSet %s has %d of %d pods available", rs.Name, p.available(rs), p.cfg.replicas)
		if p.trackProgress(rs, p.cfg.replicas) {
			p.reconcileAborted()
		}
		return
	}
	if p.cfg.paused {
		p.wait("spec.paused: the active Service is switched to %s once the Rollout is resumed", p.hash)
		return
	}
	if p.activeHash != p.hash {
		p.normal(v1alpha1.EventRolloutPromoted, "Promoted %s: the active Service %s selects it now", p.describe(p.hash), p.cfg.activeService)
	}
	p.switchService(RoleActive, p.hash, fmt.Sprintf("ReplicaSet %s is saturated: %d of %d pods available", rs.Name, p.available(rs), p.cfg.replicas))
	if !full && !p.postGate() {
		if p.aborted() {
			p.reconcileAborted()
		}
		return
	}
	p.complete()
}

// reachedAtLeast reports whether the ReplicaSet runs at least n pods, all available.
func (p *planner) reachedAtLeast(rs *appsv1.ReplicaSet, n int32) bool {
	return p.caughtUp(rs) && p.replicas[rs.Name] >= n && rs.Status.AvailableReplicas >= n
}

// gatesStarted reports whether the revision already reached its preview size once: its
// analysis started or it paused. Pods lost after that do not send it back.
func (p *planner) gatesStarted() bool {
	if p.status.BlueGreen.PrePromotionAnalysisRunStatus != nil {
		return true
	}
	return !p.revisionIsNew && len(p.old.PauseConditions) > 0
}

// decideFastRollback makes a change back to a recent revision skip pause and analysis: a
// revision older than the stable one whose ReplicaSet is still inside its scale-down delay,
// or within the last spec.rollbackWindow.revisions revisions. The decision is recorded as a
// full promotion, because the revision number it is based on changes once the revision is
// current.
func (p *planner) decideFastRollback() {
	rs, stable := p.current, p.stable
	if rs == nil || p.revision[rs.Name] >= p.revision[stable.Name] {
		return
	}
	why := ""
	if d, ok := scaleDownDeadline(rs); ok && p.replicas[rs.Name] > 0 && p.now.Before(d) {
		why = "its ReplicaSet is still inside its scale-down delay"
	} else if w := p.cfg.rollbackWindow; w > 0 {
		between := int32(0)
		for _, other := range p.live {
			if r := p.revision[other.Name]; r > p.revision[rs.Name] && r < p.revision[stable.Name] {
				between++
			}
		}
		if between < w {
			why = fmt.Sprintf("it is within spec.rollbackWindow.revisions (%d)", w)
		}
	}
	if why == "" {
		p.note("the template went back to %s, outside the scale-down delay and the rollback window: it is released like a new revision, with pause and analysis", p.describe(p.hash))
		return
	}
	p.fastRollback = true
	p.status.Promotion = &v1alpha1.PromotionStatus{Revision: p.hash, Full: true, PromotedAt: p.nowTime()}
	p.normal(v1alpha1.EventFastRollback, "Fast rollback to %s: pause and analysis are skipped", p.describe(p.hash))
	p.note("fast rollback to %s, because %s: pause and analysis are skipped, and the active Service is switched as soon as it is saturated", p.describe(p.hash), why)
}

// complete makes the current revision the stable one.
func (p *planner) complete() {
	p.status.StableRS = p.hash
	p.stable = p.current
	p.normal(v1alpha1.EventRolloutCompleted, "Rollout completed: %s is stable", p.describe(p.hash))
	p.note("%s is the stable revision now", p.describe(p.hash))
}

// abort records an abort of the current revision; reconcileAborted carries it out.
func (p *planner) abort(by v1alpha1.AbortSource, reason, message string, analysis *v1alpha1.AbortAnalysis) {
	p.status.Abort = &v1alpha1.AbortStatus{
		Revision:  p.hash,
		By:        by,
		Reason:    reason,
		Message:   message,
		AbortedAt: p.nowTime(),
		Analysis:  analysis,
	}
	p.warning(v1alpha1.EventRolloutAborted, "Rollout aborted by %s: %s", by, message)
	p.note("abort %s (by %s): %s", p.describe(p.hash), by, message)
}

// reconcileAborted sends production traffic back to the stable revision at once, even if
// the aborted revision is not saturated; the preview Service stays on the aborted revision.
// Its ReplicaSet is scaled to 0 abortScaleDownDelaySeconds after the stable revision is
// fully available. Nothing is deleted.
func (p *planner) reconcileAborted() {
	a := p.status.Abort
	p.progress = nil
	p.wait("%s was aborted by %s: %s", p.describe(p.hash), a.By, a.Message)
	rs := p.current
	if p.stable == nil {
		p.note("revision %s is aborted during the first deploy: there is no stable revision to go back to, so its ReplicaSet is kept", p.hash)
		return
	}
	p.switchService(RoleActive, p.stableHash(), "the revision is aborted: production traffic goes back to the stable revision at once")
	if rs == nil || p.replicas[rs.Name] == 0 {
		return
	}
	if !p.caughtUp(p.stable) || p.stable.Status.AvailableReplicas < p.cfg.replicas {
		p.note("aborted ReplicaSet %s is kept until the stable revision is fully available", rs.Name)
		return
	}
	deadline, ok := scaleDownDeadline(rs)
	if !ok {
		if p.cfg.abortScaleDownDelay == 0 {
			if !p.keepWhileServing(rs.Name, p.hash) {
				p.scaleTo(rs, 0, "the revision is aborted and abortScaleDownDelaySeconds is 0")
			}
			return
		}
		deadline = p.now.Add(p.cfg.abortScaleDownDelay)
		p.setScaleDownDeadline(rs, deadline, "an aborted revision is scaled down abortScaleDownDelaySeconds after the stable revision is fully available")
	}
	if !p.now.Before(deadline) {
		if !p.keepWhileServing(rs.Name, p.hash) {
			p.scaleTo(rs, 0, "the revision is aborted and its scale-down deadline has passed")
		}
		return
	}
	p.requeueAt(deadline)
}
