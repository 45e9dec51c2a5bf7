package planner

import v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"

// scaleWorkload scales down the Deployment of spec.workloadRef as its scaleDown says, once
// the Rollout's pods can take its place: "onsuccess" to 0 when the Rollout is Healthy,
// "progressively" by as many pods as the active revision has available. It never scales
// the Deployment up: a Deployment moved under a Rollout only ever gives way.
func (p *planner) scaleWorkload() {
	ref := p.ro.Spec.WorkloadRef
	if ref == nil || p.in.WorkloadReplicas == nil || p.invalid != "" {
		return
	}
	current := *p.in.WorkloadReplicas
	target := current
	switch ref.ScaleDown {
	case v1alpha1.ScaleDownOnSuccess:
		if p.status.Phase == v1alpha1.PhaseHealthy {
			target = 0
		}
	case v1alpha1.ScaleDownProgressively:
		target = max(0, p.cfg.replicas-p.status.HPAReplicas)
	default: // never
		return
	}
	if target >= current {
		return
	}
	p.act(ScaleWorkload{Name: ref.Name, Replicas: target})
	p.note("scale Deployment %s down to %d: workloadRef.scaleDown is %s and the Rollout has %d of %d pods available",
		ref.Name, target, ref.ScaleDown, p.status.HPAReplicas, p.cfg.replicas)
	p.normal(v1alpha1.EventScalingReplicaSet, "Scaled Deployment %s down to %d (workloadRef.scaleDown: %s)", ref.Name, target, ref.ScaleDown)
}
