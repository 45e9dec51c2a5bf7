package planner

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Plan decides what a blue-green Rollout does next. It is pure: it reads only its Input,
// never modifies it, and returns the writes to make, the new status, when to decide again
// because of time, and notes that say why.
//
// Plan is idempotent: run again on the world after its actions and status were applied,
// and with nothing else changed, it returns no action and the same status.
func Plan(in Input) Decision {
	p := newPlanner(in)
	if problem := p.validate(); problem != "" {
		p.invalidSpec(problem)
		return p.decision()
	}
	p.resolveRevision()
	p.answerIntents()
	p.reconcileRevision()
	p.terminateUnwantedRuns()
	p.scaleDownOldReplicaSets()
	p.collectGarbage()
	p.syncRoleMetadata()
	p.syncStatus()
	p.scaleWorkload()
	return p.decision()
}

// planner holds one decision in the making.
type planner struct {
	in  Input
	ro  *v1alpha1.Rollout
	cfg settings
	// now is Input.Now to the second: every time Plan stores is RFC 3339 with seconds, so
	// that a decision made again on the stored status compares equal times.
	now time.Time

	old    *v1alpha1.RolloutStatus // status as read
	status v1alpha1.RolloutStatus  // status being built

	selector *metav1.LabelSelector // effective pod selector of the Rollout

	hash     string             // pod template hash of the current revision
	current  *appsv1.ReplicaSet // its ReplicaSet; nil until created
	created  bool               // current was created by this decision
	stable   *appsv1.ReplicaSet // ReplicaSet of status.stableRS; nil before the first deploy completes
	live     []*appsv1.ReplicaSet
	rsByHash map[string]*appsv1.ReplicaSet
	replicas map[string]int32 // spec replicas by ReplicaSet name, after this decision's scaling
	revision map[string]int64 // revision number by ReplicaSet name, after this decision's annotations

	activeHash, previewHash string // what the Services select once this decision is applied

	runs map[string]*v1alpha1.AnalysisRun // by name

	invalid       string        // why the spec is invalid; empty when valid
	waiting       string        // why the current revision is not done yet, in words
	progress      *progressMark // set while the current revision is counted against its progress deadline
	fastRollback  bool
	revisionIsNew bool // the current revision differs from status.currentPodHash

	actions []Action
	tail    []Action // RemoveAnnotation: applied after everything else
	notes   []string
	requeue time.Duration
}

func newPlanner(in Input) *planner {
	p := &planner{
		in:       in,
		ro:       in.Rollout,
		cfg:      resolveSettings(&in.Rollout.Spec),
		now:      in.Now.Truncate(time.Second),
		old:      &in.Rollout.Status,
		status:   *in.Rollout.Status.DeepCopy(),
		selector: in.Selector,
		rsByHash: map[string]*appsv1.ReplicaSet{},
		replicas: map[string]int32{},
		revision: map[string]int64{},
		runs:     map[string]*v1alpha1.AnalysisRun{},
	}
	if p.selector == nil {
		p.selector = in.Rollout.Spec.Selector
	}
	for _, rs := range in.ReplicaSets {
		if rs.DeletionTimestamp != nil {
			continue
		}
		p.live = append(p.live, rs)
		p.replicas[rs.Name] = valueOr(rs.Spec.Replicas, 1)
		p.revision[rs.Name] = revisionOf(rs)
		if h := hashOf(rs); h != "" {
			p.rsByHash[h] = rs
		}
	}
	// Oldest revision first, so that loops over ReplicaSets are deterministic.
	sort.SliceStable(p.live, func(i, j int) bool {
		if a, b := p.revision[p.live[i].Name], p.revision[p.live[j].Name]; a != b {
			return a < b
		}
		return p.live[i].Name < p.live[j].Name
	})
	for _, run := range in.AnalysisRuns {
		p.runs[run.Name] = run
	}
	p.activeHash = selectedHash(in.ActiveService)
	p.previewHash = selectedHash(in.PreviewService)
	return p
}

// decision returns what was decided.
func (p *planner) decision() Decision {
	return Decision{
		Actions:      append(p.actions, p.tail...),
		Status:       p.status,
		RequeueAfter: p.requeue,
		Notes:        p.notes,
	}
}

func (p *planner) act(a Action) { p.actions = append(p.actions, a) }

func (p *planner) note(format string, args ...any) {
	p.notes = append(p.notes, fmt.Sprintf(format, args...))
}

func (p *planner) event(eventType, reason, format string, args ...any) {
	p.act(RecordEvent{Type: eventType, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

func (p *planner) normal(reason, format string, args ...any) {
	p.event(corev1.EventTypeNormal, reason, format, args...)
}

func (p *planner) warning(reason, format string, args ...any) {
	p.event(corev1.EventTypeWarning, reason, format, args...)
}

// wait records why the current revision cannot move on yet; the last reason wins.
func (p *planner) wait(format string, args ...any) {
	p.waiting = fmt.Sprintf(format, args...)
}

// requeueAt asks to decide again at t, if t is in the future.
func (p *planner) requeueAt(t time.Time) {
	d := t.Sub(p.now)
	if d <= 0 {
		return
	}
	if p.requeue == 0 || d < p.requeue {
		p.requeue = d
	}
}

func (p *planner) stableHash() string { return p.status.StableRS }

// aborted reports whether the current revision is aborted.
func (p *planner) aborted() bool {
	return p.status.Abort != nil && p.status.Abort.Revision == p.hash
}

// inFlight reports whether the current revision is still being released.
func (p *planner) inFlight() bool { return p.stable == nil || p.hash != p.stableHash() }

// promotion returns the acknowledged promotion of the current revision, or nil.
func (p *planner) promotion() *v1alpha1.PromotionStatus {
	if pr := p.status.Promotion; pr != nil && pr.Revision == p.hash {
		return pr
	}
	return nil
}

func (p *planner) fullyPromoted() bool {
	pr := p.promotion()
	return pr != nil && pr.Full
}

func (p *planner) nowTime() metav1.Time { return metav1.NewTime(p.now) }

// describe names a revision for messages: "revision 3 (7c9d8f)".
func (p *planner) describe(hash string) string {
	if rs := p.rsByHash[hash]; rs != nil && p.revision[rs.Name] > 0 {
		return fmt.Sprintf("revision %d (%s)", p.revision[rs.Name], hash)
	}
	return hash
}

func hashOf(rs *appsv1.ReplicaSet) string {
	if h := rs.Labels[v1alpha1.PodTemplateHashLabel]; h != "" {
		return h
	}
	if rs.Spec.Selector != nil {
		return rs.Spec.Selector.MatchLabels[v1alpha1.PodTemplateHashLabel]
	}
	return ""
}

func revisionOf(rs *appsv1.ReplicaSet) int64 {
	n, err := strconv.ParseInt(rs.Annotations[v1alpha1.RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func selectedHash(svc *corev1.Service) string {
	if svc == nil {
		return ""
	}
	return svc.Spec.Selector[v1alpha1.PodTemplateHashLabel]
}
