package planner

import v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"

// stillServing reports whether the active Service's EndpointSlices still route to pods of
// an old revision: the endpoint controller has not caught up with a switch yet (it can lag
// by seconds on a busy control plane). Scaling that revision down now would take endpoints
// out of production traffic before their replacements are in, so it waits; the slices'
// next update wakes the Rollout again.
func (p *planner) stillServing(hash string) bool {
	if hash == "" || hash == p.activeHash || len(p.in.ActiveEndpointSlices) == 0 {
		return false
	}
	podHash := make(map[string]string, len(p.in.Pods))
	for _, pod := range p.in.Pods {
		podHash[pod.Name] = pod.Labels[v1alpha1.PodTemplateHashLabel]
	}
	for _, slice := range p.in.ActiveEndpointSlices {
		for _, ep := range slice.Endpoints {
			if ep.TargetRef != nil && ep.TargetRef.Kind == "Pod" && podHash[ep.TargetRef.Name] == hash {
				return true
			}
		}
	}
	return false
}

// keepWhileServing reports whether rs must stay up because the active Service's endpoints
// still route to it, and says so in a note.
func (p *planner) keepWhileServing(name, hash string) bool {
	if !p.stillServing(hash) {
		return false
	}
	p.note("ReplicaSet %s is kept up: the active Service's EndpointSlices still list its pods, so the switch has not reached the endpoints yet", name)
	return true
}
