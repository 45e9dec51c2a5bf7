package planner

import (
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// podsToRestart returns the pods of the stable revision that spec.restartAt asks to
// restart: started before it, not yet deleted. A restart only runs in steady state (the
// stable revision is current and active, the Rollout not paused); a restartAt in the
// future asks to decide again then.
func (p *planner) podsToRestart() []*corev1.Pod {
	at := p.ro.Spec.RestartAt
	if at == nil || p.cfg.paused || p.activeHash != p.hash {
		return nil
	}
	if done := p.status.RestartedAt; done != nil && !done.Before(at) {
		return nil
	}
	if at.Time.After(p.now) {
		p.requeueAt(at.Time)
		return nil
	}
	var old []*corev1.Pod
	for _, pod := range p.in.Pods {
		if pod.DeletionTimestamp == nil && pod.Labels[v1alpha1.PodTemplateHashLabel] == p.hash && pod.CreationTimestamp.Before(at) {
			old = append(old, pod)
		}
	}
	sort.Slice(old, func(i, j int) bool { return old[i].Name < old[j].Name })
	return old
}

// restartPods takes one step of a restart: with one extra pod running (size is
// spec.replicas + 1) and all of them available, it deletes the first old pod, so that the
// active Service never has fewer than spec.replicas ready pods. When no old pod is left,
// the restart is recorded in status.restartedAt and the ReplicaSet goes back to
// spec.replicas.
func (p *planner) restartPods(rs *appsv1.ReplicaSet, old []*corev1.Pod, size int32) {
	at := p.ro.Spec.RestartAt
	if len(old) == 0 {
		// No pod was older than restartAt to begin with.
		if at != nil && p.activeHash == p.hash && !p.cfg.paused && !at.Time.After(p.now) &&
			(p.status.RestartedAt == nil || p.status.RestartedAt.Before(at)) {
			p.finishRestart()
		}
		return
	}
	// The pods themselves, not only the ReplicaSet's status, must show size ready: a
	// status that has not caught up with the last deletion must not delete a second pod.
	if ready := p.readyPods(p.hash); !p.saturated(rs, size) || ready < size {
		p.note("restart: %d of %d pods of ReplicaSet %s are ready; an old pod is deleted only when one more than spec.replicas are", ready, size, rs.Name)
		p.wait("restart: %d pods of %s started before spec.restartAt are left", len(old), p.describe(p.hash))
		return
	}
	p.act(DeletePod{Name: old[0].Name})
	p.note("restart: delete pod %s, started before spec.restartAt; %d pods stay available meanwhile", old[0].Name, size-1)
	if len(old) > 1 {
		p.wait("restart: %d pods of %s started before spec.restartAt are left", len(old)-1, p.describe(p.hash))
		return
	}
	// The last old pod is going: the spec.replicas pods left are all new and ready.
	p.scaleTo(rs, p.cfg.replicas, "the restart is done: the stable revision follows spec.replicas again")
	p.finishRestart()
	if !p.saturated(rs, p.cfg.replicas) {
		p.wait("scaling: ReplicaSet %s has %d of %d pods available", rs.Name, p.available(rs), p.cfg.replicas)
		p.trackProgress(rs, p.cfg.replicas)
	}
}

// finishRestart records that spec.restartAt was carried out.
func (p *planner) finishRestart() {
	at := p.ro.Spec.RestartAt
	p.status.RestartedAt = at.DeepCopy()
	p.normal(v1alpha1.EventRolloutRestarted, "Restarted every pod of %s started before %s", p.describe(p.hash), at.UTC().Format("2006-01-02T15:04:05Z"))
	p.note("the restart asked by spec.restartAt is done")
}

// readyPods counts the pods of a revision that are Ready and not being deleted.
func (p *planner) readyPods(hash string) int32 {
	var n int32
	for _, pod := range p.in.Pods {
		if pod.DeletionTimestamp != nil || pod.Labels[v1alpha1.PodTemplateHashLabel] != hash {
			continue
		}
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				n++
			}
		}
	}
	return n
}
