package planner

import (
	"sort"

	corev1 "k8s.io/api/core/v1"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// roleKeys are the label and annotation keys that activeMetadata and previewMetadata
// manage. The hash label and the selector's labels are never managed: changing them would
// orphan pods.
type roleKeys struct{ labels, annotations map[string]bool }

func (p *planner) roleKeys() roleKeys {
	keys := roleKeys{labels: map[string]bool{}, annotations: map[string]bool{}}
	for _, m := range []*v1alpha1.PodTemplateMetadata{p.cfg.activeMetadata, p.cfg.previewMetadata} {
		if m == nil {
			continue
		}
		for k := range m.Labels {
			if k == v1alpha1.PodTemplateHashLabel {
				continue
			}
			if _, inSelector := p.selectorLabels()[k]; inSelector {
				continue
			}
			keys.labels[k] = true
		}
		for k := range m.Annotations {
			keys.annotations[k] = true
		}
	}
	return keys
}

func (p *planner) selectorLabels() map[string]string {
	if p.selector == nil {
		return nil
	}
	return p.selector.MatchLabels
}

// roleOf is the role of a revision once this decision is applied: active when the active
// Service selects it, preview when it is the current revision and not active (whether or
// not a preview Service exists), none otherwise. A first revision is active from the start.
func (p *planner) roleOf(hash string) Role {
	switch {
	case hash == p.activeHash:
		return RoleActive
	case hash == p.hash && p.activeHash == "" && p.stable == nil:
		return RoleActive
	case hash == p.hash:
		return RolePreview
	}
	return ""
}

// roleMetadata is the managed metadata a pod of the role carries.
func (p *planner) roleMetadata(role Role) (labels, annotations map[string]string) {
	var m *v1alpha1.PodTemplateMetadata
	switch role {
	case RoleActive:
		m = p.cfg.activeMetadata
	case RolePreview:
		m = p.cfg.previewMetadata
	}
	labels, annotations = map[string]string{}, map[string]string{}
	if m == nil {
		return labels, annotations
	}
	keys := p.roleKeys()
	for k, v := range m.Labels {
		if keys.labels[k] {
			labels[k] = v
		}
	}
	for k, v := range m.Annotations {
		annotations[k] = v
	}
	return labels, annotations
}

// applyRoleMetadata puts a role's metadata on a new ReplicaSet's pod template.
func (p *planner) applyRoleMetadata(meta *metav1.ObjectMeta, role Role) {
	labels, annotations := p.roleMetadata(role)
	for k, v := range labels {
		meta.Labels = withLabel(meta.Labels, k, v)
	}
	for k, v := range annotations {
		meta.Annotations = withLabel(meta.Annotations, k, v)
	}
}

// roleMetadataPatch is what turns an object's managed metadata into the role's: set what
// the role has, remove the managed keys it has not.
func (p *planner) roleMetadataPatch(have metav1.ObjectMeta, role Role) (labels, annotations map[string]*string) {
	keys := p.roleKeys()
	wantLabels, wantAnnotations := p.roleMetadata(role)
	return managedPatch(have.Labels, wantLabels, keys.labels), managedPatch(have.Annotations, wantAnnotations, keys.annotations)
}

func managedPatch(have, want map[string]string, managed map[string]bool) map[string]*string {
	patch := map[string]*string{}
	for k := range managed {
		w, wanted := want[k]
		h, has := have[k]
		switch {
		case wanted && (!has || h != w):
			patch[k] = ptr(w)
		case !wanted && has:
			patch[k] = nil
		}
	}
	if len(patch) == 0 {
		return nil
	}
	return patch
}

// syncRoleMetadata patches the running pods whose role changed (activeMetadata on
// promotion, previewMetadata removed, …), and the pod templates of their ReplicaSets so that
// pods created later carry the right metadata too.
func (p *planner) syncRoleMetadata() {
	keys := p.roleKeys()
	if len(keys.labels) == 0 && len(keys.annotations) == 0 {
		return
	}
	for _, rs := range p.live {
		if (p.created && rs == p.current) || p.replicas[rs.Name] == 0 {
			continue
		}
		role := p.roleOf(hashOf(rs))
		labels, annotations := p.roleMetadataPatch(rs.Spec.Template.ObjectMeta, role)
		if labels != nil || annotations != nil {
			p.act(PatchReplicaSetPodMetadata{Name: rs.Name, Labels: labels, Annotations: annotations})
			p.note("ReplicaSet %s's pod template gets the metadata of its role (%s)", rs.Name, roleName(role))
		}
	}
	pods := append([]*corev1.Pod(nil), p.in.Pods...)
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	for _, pod := range pods {
		h := pod.Labels[v1alpha1.PodTemplateHashLabel]
		if pod.DeletionTimestamp != nil || h == "" || p.rsByHash[h] == nil {
			continue
		}
		role := p.roleOf(h)
		labels, annotations := p.roleMetadataPatch(pod.ObjectMeta, role)
		if labels != nil || annotations != nil {
			p.act(PatchPodMetadata{Pod: pod.Name, Labels: labels, Annotations: annotations})
			p.note("pod %s gets the metadata of its role (%s)", pod.Name, roleName(role))
		}
	}
}

func roleName(r Role) string {
	if r == "" {
		return "none"
	}
	return string(r)
}
