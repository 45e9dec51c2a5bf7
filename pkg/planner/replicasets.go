package planner

import (
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// maxCollisions bounds the search for a free pod template hash; each step is a hash
// collision, which fnv32 makes rare.
const maxCollisions = 100

// resolveRevision finds the current revision (the hash of the effective template, past any
// collision), its ReplicaSet, and the stable revision.
func (p *planner) resolveRevision() {
	count := p.status.CollisionCount
	for range maxCollisions {
		h := ComputeHash(p.in.Template, count)
		rs := p.rsByHash[h]
		if rs == nil {
			rs = p.liveByName(p.ro.Name + "-" + h)
		}
		if rs == nil || (hashOf(rs) == h && templateMatches(&rs.Spec.Template, p.in.Template, p.roleKeys())) {
			p.hash = h
			break
		}
		next := int32(1)
		if count != nil {
			next = *count + 1
		}
		p.note("pod template hash %s is taken by ReplicaSet %s, whose template differs: collisionCount %d makes a new hash", h, rs.Name, next)
		count = &next
	}
	p.status.CollisionCount = count
	p.current = p.rsByHash[p.hash]

	p.revisionIsNew = p.old.CurrentPodHash != p.hash
	if p.revisionIsNew {
		// Pauses, analysis and an abort belong to one revision.
		p.status.BlueGreen.PrePromotionAnalysisRunStatus = nil
		p.status.BlueGreen.PostPromotionAnalysisRunStatus = nil
		p.status.PauseConditions = nil
		if a := p.status.Abort; a != nil && a.Revision != p.hash {
			p.status.Abort = nil
		}
		if p.old.CurrentPodHash != "" {
			p.normal(v1alpha1.EventRolloutUpdated, "Pod template changed: revision %s replaces %s", p.hash, p.old.CurrentPodHash)
			p.note("the pod template changed: %s is the current revision, %s is superseded", p.hash, p.old.CurrentPodHash)
		}
	}

	stable := p.old.StableRS
	if stable != "" && p.rsByHash[stable] == nil {
		p.note("the ReplicaSet of stable revision %s is gone", stable)
		stable = ""
	}
	if stable == "" && p.activeHash != "" && p.rsByHash[p.activeHash] != nil {
		stable = p.activeHash
		p.note("the stable revision is taken from the active Service's selector: %s", stable)
	}
	p.status.StableRS = stable
	p.stable = p.rsByHash[stable]
}

func (p *planner) liveByName(name string) *appsv1.ReplicaSet {
	for _, rs := range p.live {
		if rs.Name == name {
			return rs
		}
	}
	return nil
}

// ensureReplicaSet returns the current revision's ReplicaSet, creating it at size when it
// does not exist. The current revision always has the highest revision number, so a
// rollback to an existing ReplicaSet gives it a new one, and it never carries a scale-down
// deadline unless it is aborted.
func (p *planner) ensureReplicaSet(size int32, role Role) *appsv1.ReplicaSet {
	if rs := p.current; rs != nil {
		patch := map[string]*string{}
		if top := p.maxRevision(rs); p.revision[rs.Name] <= top {
			p.revision[rs.Name] = top + 1
			patch[v1alpha1.RevisionAnnotation] = ptr(strconv.FormatInt(top+1, 10))
			p.note("ReplicaSet %s is the current revision again: it becomes revision %d", rs.Name, top+1)
		}
		if _, ok := rs.Annotations[v1alpha1.ScaleDownDeadlineAnnotation]; ok && !p.aborted() {
			patch[v1alpha1.ScaleDownDeadlineAnnotation] = nil
			p.note("ReplicaSet %s is the current revision: its scale-down deadline is removed", rs.Name)
		}
		if len(patch) > 0 {
			p.act(AnnotateReplicaSet{Name: rs.Name, Annotations: patch})
		}
		return rs
	}
	name := p.ro.Name + "-" + p.hash
	if p.cfg.paused {
		p.wait("spec.paused: ReplicaSet %s of the new revision is created once the Rollout is resumed", name)
		p.note("spec.paused: the new revision's ReplicaSet %s is not created until the Rollout is resumed", name)
		return nil
	}
	for _, rs := range p.in.ReplicaSets {
		if rs.Name == name && rs.DeletionTimestamp != nil {
			p.wait("waiting for the old ReplicaSet %s to be deleted before creating it again", name)
			p.note("ReplicaSet %s is being deleted: it is created again once it is gone", name)
			return nil
		}
	}
	rs := p.newReplicaSet(name, size, role)
	p.current, p.created = rs, true
	p.live = append(p.live, rs)
	p.rsByHash[p.hash] = rs
	p.replicas[name] = size
	p.revision[name] = revisionOf(rs)
	p.act(CreateReplicaSet{ReplicaSet: rs})
	p.normal(v1alpha1.EventNewReplicaSetCreated, "Created ReplicaSet %s (revision %d) with %d replicas", name, p.revision[name], size)
	p.note("create ReplicaSet %s for revision %s directly at %d replicas, its %s size (no need to create it at 0 and scale it)", name, p.hash, size, role)
	return rs
}

// maxRevision is the highest revision number of the live ReplicaSets other than except.
func (p *planner) maxRevision(except *appsv1.ReplicaSet) int64 {
	var top int64
	for _, rs := range p.live {
		if rs != except && p.revision[rs.Name] > top {
			top = p.revision[rs.Name]
		}
	}
	return top
}

// newReplicaSet builds the ReplicaSet of the current revision: the template with the hash
// label, the metadata of its first role and, when a stable revision exists and
// antiAffinity is set, a pod anti-affinity against the stable revision's pods.
func (p *planner) newReplicaSet(name string, size int32, role Role) *appsv1.ReplicaSet {
	tpl := p.in.Template.DeepCopy()
	tpl.Labels = withLabel(tpl.Labels, v1alpha1.PodTemplateHashLabel, p.hash)
	p.applyRoleMetadata(&tpl.ObjectMeta, role)
	if p.cfg.antiAffinity != nil && p.stable != nil {
		injectAntiAffinity(&tpl.Spec, p.cfg.antiAffinity, p.stableHash())
	}
	selector := p.selector.DeepCopy()
	selector.MatchLabels = withLabel(selector.MatchLabels, v1alpha1.PodTemplateHashLabel, p.hash)
	rsLabels := withLabel(p.in.Template.Labels, v1alpha1.PodTemplateHashLabel, p.hash)
	return &appsv1.ReplicaSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   p.ro.Namespace,
			Labels:      rsLabels,
			Annotations: map[string]string{v1alpha1.RevisionAnnotation: strconv.FormatInt(p.maxRevision(nil)+1, 10)},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         v1alpha1.GroupVersion.String(),
				Kind:               "Rollout",
				Name:               p.ro.Name,
				UID:                p.ro.UID,
				Controller:         ptr(true),
				BlockOwnerDeletion: ptr(true),
			}},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        ptr(size),
			MinReadySeconds: p.ro.Spec.MinReadySeconds,
			Selector:        selector,
			Template:        *tpl,
		},
	}
}

// injectAntiAffinity makes new pods avoid the nodes of the stable revision's pods.
func injectAntiAffinity(spec *corev1.PodSpec, aa *v1alpha1.AntiAffinity, stableHash string) {
	term := corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{v1alpha1.PodTemplateHashLabel: stableHash}},
		TopologyKey:   corev1.LabelHostname,
	}
	if spec.Affinity == nil {
		spec.Affinity = &corev1.Affinity{}
	}
	if spec.Affinity.PodAntiAffinity == nil {
		spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{}
	}
	anti := spec.Affinity.PodAntiAffinity
	if pref := aa.PreferredDuringSchedulingIgnoredDuringExecution; pref != nil {
		anti.PreferredDuringSchedulingIgnoredDuringExecution = append(anti.PreferredDuringSchedulingIgnoredDuringExecution,
			corev1.WeightedPodAffinityTerm{Weight: pref.Weight, PodAffinityTerm: term})
		return
	}
	anti.RequiredDuringSchedulingIgnoredDuringExecution = append(anti.RequiredDuringSchedulingIgnoredDuringExecution, term)
}

func withLabel(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

// scaleTo sets a ReplicaSet's replicas, if it has not that many already.
func (p *planner) scaleTo(rs *appsv1.ReplicaSet, n int32, why string) {
	from := p.replicas[rs.Name]
	if from == n {
		return
	}
	p.replicas[rs.Name] = n
	p.act(ScaleReplicaSet{Name: rs.Name, Replicas: n})
	p.normal(v1alpha1.EventScalingReplicaSet, "Scaled ReplicaSet %s from %d to %d", rs.Name, from, n)
	p.note("scale ReplicaSet %s from %d to %d: %s", rs.Name, from, n, why)
}

// caughtUp reports whether the ReplicaSet's status describes its spec as it will be once
// this decision is applied.
func (p *planner) caughtUp(rs *appsv1.ReplicaSet) bool {
	return rs != nil && !(p.created && rs == p.current) &&
		p.replicas[rs.Name] == valueOr(rs.Spec.Replicas, 1) &&
		rs.Status.ObservedGeneration >= rs.Generation
}

// saturated reports whether the ReplicaSet runs exactly n replicas, all of them available
// (counting minReadySeconds): only then may the active Service select it.
func (p *planner) saturated(rs *appsv1.ReplicaSet, n int32) bool {
	return p.caughtUp(rs) && p.replicas[rs.Name] == n && rs.Status.AvailableReplicas >= n
}

// available is the number of available pods of a ReplicaSet (0 for one just created).
func (p *planner) available(rs *appsv1.ReplicaSet) int32 {
	if rs == nil || (p.created && rs == p.current) {
		return 0
	}
	return rs.Status.AvailableReplicas
}

// scaleDownDeadline reads a ReplicaSet's scale-down deadline annotation.
func scaleDownDeadline(rs *appsv1.ReplicaSet) (time.Time, bool) {
	v, ok := rs.Annotations[v1alpha1.ScaleDownDeadlineAnnotation]
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

// setScaleDownDeadline annotates a ReplicaSet with the time it is scaled to 0.
func (p *planner) setScaleDownDeadline(rs *appsv1.ReplicaSet, at time.Time, why string) {
	p.act(AnnotateReplicaSet{Name: rs.Name, Annotations: map[string]*string{
		v1alpha1.ScaleDownDeadlineAnnotation: ptr(at.UTC().Format(time.RFC3339)),
	}})
	p.note("ReplicaSet %s is scaled down at %s: %s", rs.Name, at.UTC().Format(time.RFC3339), why)
}

// referenced reports whether a Service selector or the status refers to a revision; such a
// revision is never scaled down by the old-revision rules, nor deleted.
func (p *planner) referenced(hash string) bool {
	return hash == p.hash || hash == p.stableHash() || hash == p.activeHash || hash == p.previewHash
}

// scaleDownOldReplicaSets scales down the revisions that are neither current, stable nor
// selected by a Service: each gets a deadline scaleDownDelaySeconds away (for draining and
// instant rollback) and is scaled to 0 when it passes; with scaleDownDelaySeconds 0 at once.
// At most scaleDownDelayRevisionLimit of them, the newest, stay up during their delay.
// replicas changes never scale them up.
func (p *planner) scaleDownOldReplicaSets() {
	if p.invalid != "" {
		return
	}
	kept := int32(0)
	for i := len(p.live) - 1; i >= 0; i-- { // newest first
		rs := p.live[i]
		h := hashOf(rs)
		if p.referenced(h) || p.replicas[rs.Name] == 0 {
			continue
		}
		deadline, ok := scaleDownDeadline(rs)
		if !ok {
			if p.cfg.scaleDownDelay == 0 {
				if !p.keepWhileServing(rs.Name, h) {
					p.scaleTo(rs, 0, "an old revision, and scaleDownDelaySeconds is 0")
				}
				continue
			}
			deadline = p.now.Add(p.cfg.scaleDownDelay)
			p.setScaleDownDeadline(rs, deadline, "an old revision stays up for scaleDownDelaySeconds, for draining and instant rollback")
		}
		switch {
		case !p.now.Before(deadline):
			if !p.keepWhileServing(rs.Name, h) {
				p.scaleTo(rs, 0, "its scale-down deadline has passed")
			}
		case p.cfg.scaleDownDelayRevisionLimit != nil && kept >= *p.cfg.scaleDownDelayRevisionLimit:
			if !p.keepWhileServing(rs.Name, h) {
				p.scaleTo(rs, 0, "scaleDownDelayRevisionLimit: newer old revisions already use the delay")
			}
		default:
			kept++
			p.requeueAt(deadline)
		}
	}
}

// collectGarbage deletes the oldest ReplicaSets beyond revisionHistoryLimit (only those
// scaled to 0 and referred to by nothing), with their AnalysisRuns, and the finished
// AnalysisRuns beyond the run history limits.
func (p *planner) collectGarbage() {
	var old, deletable []*appsv1.ReplicaSet
	for _, rs := range p.live { // oldest first
		h := hashOf(rs)
		if h == p.hash || h == p.stableHash() {
			continue
		}
		old = append(old, rs)
		if !p.referenced(h) && p.replicas[rs.Name] == 0 && rs.Status.Replicas == 0 && p.caughtUp(rs) {
			deletable = append(deletable, rs)
		}
	}
	deleted := map[string]bool{}
	for excess := len(old) - int(p.cfg.revisionHistoryLimit); excess > 0 && len(deletable) > 0; excess-- {
		rs := deletable[0]
		deletable = deletable[1:]
		p.act(DeleteReplicaSet{Name: rs.Name})
		p.note("delete ReplicaSet %s (revision %d): beyond revisionHistoryLimit %d", rs.Name, p.revision[rs.Name], p.cfg.revisionHistoryLimit)
		for _, run := range p.sortedRuns() {
			if run.Labels[v1alpha1.PodTemplateHashLabel] == hashOf(rs) && run.DeletionTimestamp == nil {
				deleted[run.Name] = true
				p.act(DeleteAnalysisRun{Name: run.Name})
				p.note("delete AnalysisRun %s with the ReplicaSet of its revision", run.Name)
			}
		}
	}
	p.collectAnalysisRuns(deleted)
}
