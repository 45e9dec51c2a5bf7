// Package planner decides, as a pure function, what a blue-green Rollout does next.
//
// The controller gathers everything a decision needs into an Input (the Rollout, the
// effective pod template, its ReplicaSets, Services, AnalysisRuns, pods and the time),
// calls Plan, applies the returned Decision's Actions one by one and writes its status
// once. Plan performs no I/O and never reads the clock, so whole rollouts can be played
// as sequences in tests (see testdata/*.golden).
package planner

import (
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Input is everything a decision needs.
type Input struct {
	// Rollout as read; Plan does not modify it.
	Rollout *v1alpha1.Rollout
	// Template is the effective pod template: spec.template, or the referenced
	// Deployment's template when spec.workloadRef is set. Nil when the Deployment is missing.
	Template *corev1.PodTemplateSpec
	// Selector is the effective pod selector: spec.selector, or the referenced Deployment's
	// selector when spec.workloadRef is set and spec.selector is empty. Nil means spec.selector.
	Selector *metav1.LabelSelector
	// WorkloadReplicas is spec.replicas of the workloadRef Deployment; nil without one.
	WorkloadReplicas *int32
	// WorkloadMissing explains why Template is nil for a workloadRef (empty otherwise).
	WorkloadMissing string
	// ReplicaSets owned by the Rollout (adopted or created by it).
	ReplicaSets []*appsv1.ReplicaSet
	// ActiveService and PreviewService as read; nil when missing.
	ActiveService, PreviewService *corev1.Service
	// ActiveEndpointSlices are the EndpointSlices of the active Service: what production
	// traffic reaches. An old revision is not scaled down while they still list its pods.
	ActiveEndpointSlices []*discoveryv1.EndpointSlice
	// AnalysisRuns owned by the Rollout.
	AnalysisRuns []*v1alpha1.AnalysisRun
	// Pods of the Rollout (carrying PodTemplateHashLabel), for role metadata.
	Pods []*corev1.Pod
	// Now is the time of the decision.
	Now time.Time
}

// Decision is the outcome of Plan. (It cannot be called Plan too: Go does not let a type
// and a function of one package share a name.)
type Decision struct {
	// Actions to apply, in order. Each is one idempotent API write.
	Actions []Action
	// Status is the Rollout's new status.
	Status v1alpha1.RolloutStatus
	// RequeueAfter is when to decide again because of time (a deadline, a pause); 0 means
	// only when something changes.
	RequeueAfter time.Duration
	// Notes say, in words, why each decision was taken.
	Notes []string
}

// Action is one write the controller performs.
type Action interface {
	fmt.Stringer
	isAction()
}

// Role is what a Service does.
type Role string

// Roles of a Service.
const (
	RoleActive  Role = "active"
	RolePreview Role = "preview"
)

// CreateReplicaSet creates a ReplicaSet for a new revision.
type CreateReplicaSet struct{ ReplicaSet *appsv1.ReplicaSet }

// ScaleReplicaSet sets a ReplicaSet's replicas.
type ScaleReplicaSet struct {
	Name     string
	Replicas int32
}

// AnnotateReplicaSet sets (non-nil value) or removes (nil) annotations of a ReplicaSet.
type AnnotateReplicaSet struct {
	Name        string
	Annotations map[string]*string
}

// DeleteReplicaSet deletes an old ReplicaSet beyond the history limit.
type DeleteReplicaSet struct{ Name string }

// SwitchService points a Service's selector at a revision and records the Rollout that
// manages it.
type SwitchService struct {
	Service string
	Role    Role
	Hash    string
}

// StartAnalysisRun starts an analysis gate for a revision; the controller resolves the
// templates and arguments and creates the AnalysisRun named Name.
type StartAnalysisRun struct {
	Name     string
	Type     string // v1alpha1.AnalysisTypePrePromotion or AnalysisTypePostPromotion
	Revision string // pod template hash
	Analysis *v1alpha1.RolloutAnalysis
}

// TerminateAnalysisRun stops a running AnalysisRun.
type TerminateAnalysisRun struct{ Name string }

// DeleteAnalysisRun deletes a finished AnalysisRun beyond the history limits.
type DeleteAnalysisRun struct{ Name string }

// PatchPodMetadata sets (non-nil) or removes (nil) labels and annotations of a pod.
type PatchPodMetadata struct {
	Pod         string
	Labels      map[string]*string
	Annotations map[string]*string
}

// PatchReplicaSetPodMetadata sets (non-nil) or removes (nil) labels and annotations of a
// ReplicaSet's pod template, so that the pods it creates later carry the metadata of the
// revision's current role (activeMetadata or previewMetadata). It does not restart pods.
type PatchReplicaSetPodMetadata struct {
	Name        string
	Labels      map[string]*string
	Annotations map[string]*string
}

// DeletePod deletes a pod, for a restart asked by spec.restartAt; its ReplicaSet replaces it.
type DeletePod struct{ Name string }

// RemoveAnnotation removes an intent annotation from the Rollout once it was answered.
// Plan lists these last: apply them after the status write has succeeded, so that a lost
// status write cannot lose the request (an abort, say) that the status records.
type RemoveAnnotation struct{ Key string }

// ScaleWorkload scales the Deployment of spec.workloadRef.
type ScaleWorkload struct {
	Name     string
	Replicas int32
}

// RecordEvent records a Kubernetes Event on the Rollout.
type RecordEvent struct {
	Type    string // corev1.EventTypeNormal or EventTypeWarning
	Reason  string
	Message string
}

func (CreateReplicaSet) isAction()           {}
func (ScaleReplicaSet) isAction()            {}
func (AnnotateReplicaSet) isAction()         {}
func (DeleteReplicaSet) isAction()           {}
func (SwitchService) isAction()              {}
func (StartAnalysisRun) isAction()           {}
func (TerminateAnalysisRun) isAction()       {}
func (DeleteAnalysisRun) isAction()          {}
func (PatchPodMetadata) isAction()           {}
func (PatchReplicaSetPodMetadata) isAction() {}
func (DeletePod) isAction()                  {}
func (RemoveAnnotation) isAction()           {}
func (ScaleWorkload) isAction()              {}
func (RecordEvent) isAction()                {}

func (a CreateReplicaSet) String() string {
	return fmt.Sprintf("create ReplicaSet %s (revision %s, replicas %d)", a.ReplicaSet.Name,
		a.ReplicaSet.Annotations[v1alpha1.RevisionAnnotation], deref(a.ReplicaSet.Spec.Replicas))
}
func (a ScaleReplicaSet) String() string {
	return fmt.Sprintf("scale ReplicaSet %s to %d", a.Name, a.Replicas)
}
func (a AnnotateReplicaSet) String() string {
	return fmt.Sprintf("annotate ReplicaSet %s %s", a.Name, formatPatch(a.Annotations))
}
func (a DeleteReplicaSet) String() string { return "delete ReplicaSet " + a.Name }
func (a SwitchService) String() string {
	return fmt.Sprintf("switch %s Service %s to %s", a.Role, a.Service, a.Hash)
}
func (a StartAnalysisRun) String() string {
	return fmt.Sprintf("start %s AnalysisRun %s for %s", a.Type, a.Name, a.Revision)
}
func (a TerminateAnalysisRun) String() string { return "terminate AnalysisRun " + a.Name }
func (a DeleteAnalysisRun) String() string    { return "delete AnalysisRun " + a.Name }
func (a PatchPodMetadata) String() string {
	return fmt.Sprintf("patch pod %s labels %s annotations %s", a.Pod, formatPatch(a.Labels), formatPatch(a.Annotations))
}
func (a PatchReplicaSetPodMetadata) String() string {
	return fmt.Sprintf("patch ReplicaSet %s pod template labels %s annotations %s", a.Name, formatPatch(a.Labels), formatPatch(a.Annotations))
}
func (a DeletePod) String() string        { return "delete pod " + a.Name }
func (a RemoveAnnotation) String() string { return "remove annotation " + a.Key }
func (a ScaleWorkload) String() string {
	return fmt.Sprintf("scale Deployment %s to %d", a.Name, a.Replicas)
}
func (a RecordEvent) String() string {
	return fmt.Sprintf("event %s %s: %s", a.Type, a.Reason, a.Message)
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// formatPatch prints a metadata patch in sorted order: key=value to set, key- to remove.
func formatPatch(m map[string]*string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := "{"
	for i, k := range keys {
		if i > 0 {
			out += " "
		}
		if m[k] == nil {
			out += k + "-"
		} else {
			out += k + "=" + *m[k]
		}
	}
	return out + "}"
}
