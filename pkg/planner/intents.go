package planner

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Reason recorded in status.abort when a user asked for the abort.
const reasonAbortRequested = "AbortRequested"

// intentOrder is the order in which requests found together are answered: an abort and a
// retry found together retry the revision.
var intentOrder = []struct{ key, verb string }{
	{v1alpha1.AbortAnnotation, "abort"},
	{v1alpha1.RetryAnnotation, "retry"},
	{v1alpha1.PromoteFullAnnotation, "promote-full"},
	{v1alpha1.PromoteAnnotation, "promote"},
}

// answerIntents carries out the requests written on the Rollout for the current revision,
// and ignores, with a warning, those that name another revision. Every request is removed
// once answered, at the end of the decision.
func (p *planner) answerIntents() {
	for _, intent := range intentOrder {
		revision, ok := p.ro.Annotations[intent.key]
		if !ok {
			continue
		}
		p.tail = append(p.tail, RemoveAnnotation{Key: intent.key})
		if p.answered(intent.key, revision) {
			// The status records the answer already: a cache that has not seen the request's
			// removal yet shows it again. Remove it without a word.
			p.note("the %s request for revision %s was answered already", intent.verb, revision)
			continue
		}
		if revision != p.hash {
			p.ignore(intent.verb, revision, fmt.Sprintf("the current revision is %s", p.hash))
			continue
		}
		switch intent.key {
		case v1alpha1.AbortAnnotation:
			switch {
			case !p.inFlight():
				p.ignore(intent.verb, revision, "it is the stable revision: there is nothing to abort")
			case p.aborted():
				p.ignore(intent.verb, revision, "it is aborted already")
			default:
				p.abort(v1alpha1.AbortByUser, reasonAbortRequested, "a user asked for the abort", nil)
			}
		case v1alpha1.RetryAnnotation:
			if !p.aborted() {
				p.ignore(intent.verb, revision, "it is not aborted")
				continue
			}
			p.retry()
		default:
			switch {
			case !p.inFlight():
				p.ignore(intent.verb, revision, "it is the stable revision already")
			case p.aborted():
				p.ignore(intent.verb, revision, "it is aborted: retry it first")
			default:
				full := intent.key == v1alpha1.PromoteFullAnnotation || p.fullyPromoted()
				p.promote(full, "a user asked for it")
			}
		}
	}
}

// answered reports whether the status as read records the answer to a request.
func (p *planner) answered(key, revision string) bool {
	switch key {
	case v1alpha1.PromoteAnnotation, v1alpha1.PromoteFullAnnotation:
		pr := p.old.Promotion
		return pr != nil && pr.Revision == revision && (pr.Full || key == v1alpha1.PromoteAnnotation)
	case v1alpha1.AbortAnnotation:
		a := p.old.Abort
		return a != nil && a.Revision == revision && a.By == v1alpha1.AbortByUser
	}
	return false
}

func (p *planner) ignore(verb, revision, why string) {
	p.warning(v1alpha1.EventStaleRequestIgnored, "Ignored the %s request for revision %s: %s", verb, revision, why)
	p.note("ignore the %s request for revision %s: %s", verb, revision, why)
}

// retry clears the abort and starts the revision again: fresh analysis, and a new promotion
// where one is needed.
func (p *planner) retry() {
	p.status.Abort = nil
	p.status.BlueGreen.PrePromotionAnalysisRunStatus = nil
	p.status.BlueGreen.PostPromotionAnalysisRunStatus = nil
	if p.promotion() != nil {
		p.status.Promotion = nil
	}
	p.normal(v1alpha1.EventRolloutRetried, "Retrying %s", p.describe(p.hash))
	p.note("retry %s: the abort is cleared and the revision starts again with fresh analysis", p.describe(p.hash))
}

// promote acknowledges a promotion of the current revision in status. It ends a pause
// waiting for promotion, or skips the one to come; full also skips remaining analysis.
func (p *planner) promote(full bool, why string) {
	p.status.Promotion = &v1alpha1.PromotionStatus{Revision: p.hash, Full: full, PromotedAt: p.nowTime()}
	kind := "Promote request accepted for"
	if full {
		kind = "Full promote request accepted for"
	}
	p.normal(v1alpha1.EventRolloutResumed, "%s %s: %s", kind, p.describe(p.hash), why)
	p.note("promote %s (full: %t): %s", p.describe(p.hash), full, why)
}

// pauseGate holds the revision before the switch when autoPromotionEnabled is false, until a
// promote request, or for autoPromotionSeconds from the start of the pause.
func (p *planner) pauseGate() bool {
	if p.promotion() != nil || !p.cfg.pausesBeforeSwitch() {
		return true
	}
	start := p.pause(v1alpha1.PauseReasonBlueGreenPause)
	if p.cfg.autoPromotion {
		at := start.Add(p.cfg.autoPromotionDelay)
		if !p.now.Before(at) {
			p.unpause(v1alpha1.PauseReasonBlueGreenPause)
			p.promote(false, fmt.Sprintf("autoPromotionSeconds (%s) passed since the pause began", p.cfg.autoPromotionDelay))
			return true
		}
		p.requeueAt(at)
		p.wait("paused: %s is promoted at %s (autoPromotionSeconds), or earlier by a promote request", p.hash, at.UTC().Format(time.RFC3339))
		return false
	}
	p.wait("paused: waiting for a promote request for %s (autoPromotionEnabled is false)", p.hash)
	return false
}

// pause adds a pause condition, keeping the start time of one that already held, and
// returns that start time.
func (p *planner) pause(reason v1alpha1.PauseReason) time.Time {
	start, held := p.now, false
	if !p.revisionIsNew {
		for _, c := range p.old.PauseConditions {
			if c.Reason == reason {
				start, held = c.StartTime.Time, true
			}
		}
	}
	p.status.PauseConditions = append(p.status.PauseConditions, v1alpha1.PauseCondition{Reason: reason, StartTime: metav1.NewTime(start)})
	if !held {
		p.normal(v1alpha1.EventRolloutPaused, "Paused %s: %s", p.describe(p.hash), reason)
		p.note("pause %s: %s", p.describe(p.hash), reason)
	}
	return start
}

func (p *planner) unpause(reason v1alpha1.PauseReason) {
	kept := p.status.PauseConditions[:0]
	for _, c := range p.status.PauseConditions {
		if c.Reason != reason {
			kept = append(kept, c)
		}
	}
	p.status.PauseConditions = kept
}

func (p *planner) pausedFor(reason v1alpha1.PauseReason) bool {
	for _, c := range p.status.PauseConditions {
		if c.Reason == reason {
			return true
		}
	}
	return false
}
