package planner

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// progressMark is the progress deadline's bookkeeping: the most available pods a
// ReplicaSet reached while counted, and since when. Progress means raising that number, so
// pods that crash-loop (available going up and down) do not reset the clock.
//
// It is kept in the Progressing condition, so that Plan stays pure: while counted the
// condition has reason ReplicaSetUpdated, its message is message() and its
// lastTransitionTime is since; past the deadline, reason ProgressDeadlineExceeded.
type progressMark struct {
	rs       string
	reached  int32
	target   int32
	since    time.Time
	exceeded bool
	deadline time.Duration
}

var progressPattern = regexp.MustCompile(`^ReplicaSet (\S+) reached (\d+) of (\d+) available pods`)

func (m *progressMark) message() string {
	msg := fmt.Sprintf("ReplicaSet %s reached %d of %d available pods", m.rs, m.reached, m.target)
	if m.exceeded {
		msg += fmt.Sprintf(", then made no progress for %s (progressDeadlineSeconds)", m.deadline)
	}
	return msg
}

// readProgressMark reads the mark back from the Progressing condition, if it holds one.
func readProgressMark(conditions []metav1.Condition) *progressMark {
	c := findCondition(conditions, v1alpha1.ConditionProgressing)
	if c == nil || (c.Reason != v1alpha1.ReasonReplicaSetUpdated && c.Reason != v1alpha1.ReasonProgressDeadlineExceeded) {
		return nil
	}
	m := progressPattern.FindStringSubmatch(c.Message)
	if m == nil {
		return nil
	}
	reached, err1 := strconv.ParseInt(m[2], 10, 32)
	target, err2 := strconv.ParseInt(m[3], 10, 32)
	if err1 != nil || err2 != nil {
		return nil
	}
	return &progressMark{
		rs: m[1], reached: int32(reached), target: int32(target),
		since: c.LastTransitionTime.Time, exceeded: c.Reason == v1alpha1.ReasonProgressDeadlineExceeded,
	}
}

// trackProgress counts a ReplicaSet that is below its target against the progress
// deadline (never while spec.paused). Past the deadline the Rollout is Degraded; with
// progressDeadlineAbort an in-flight revision is aborted, and trackProgress reports true.
func (p *planner) trackProgress(rs *appsv1.ReplicaSet, target int32) (aborted bool) {
	if p.cfg.paused {
		return false
	}
	mark := &progressMark{rs: rs.Name, reached: p.available(rs), target: target, since: p.now, deadline: p.cfg.progressDeadline}
	if prev := readProgressMark(p.old.Conditions); prev != nil && prev.rs == rs.Name && mark.reached <= prev.reached {
		mark.reached, mark.since, mark.exceeded = prev.reached, prev.since, prev.exceeded
	}
	p.progress = mark
	if !mark.exceeded {
		at := mark.since.Add(p.cfg.progressDeadline)
		if p.now.Before(at) {
			p.requeueAt(at)
			return false
		}
		mark.exceeded = true
		p.warning(v1alpha1.EventProgressDeadline, "%s", mark.message())
		p.note("progress deadline exceeded: %s", mark.message())
	}
	if p.cfg.progressDeadlineAbort && p.stable != nil && p.inFlight() && !p.aborted() {
		p.abort(v1alpha1.AbortByProgressDeadline, v1alpha1.ReasonProgressDeadlineExceeded, mark.message(), nil)
		return true
	}
	return false
}
