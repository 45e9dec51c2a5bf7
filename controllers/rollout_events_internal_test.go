package controllers

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// TestUrgentEvents: the update after which the active Service may switch (a ReplicaSet
// fully available), an analysis ends, or a person asked for something, is queued ahead
// of the rest; other updates are not.
func TestUrgentEvents(t *testing.T) {
	owner := []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Rollout", Name: "web", Controller: ptr.To(true)}}
	rs := func(spec, available int32, observed int64) *appsv1.ReplicaSet {
		return &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web-abc", Namespace: "shop", Generation: 2, OwnerReferences: owner},
			Spec:       appsv1.ReplicaSetSpec{Replicas: ptr.To(spec)},
			Status:     appsv1.ReplicaSetStatus{AvailableReplicas: available, ObservedGeneration: observed},
		}
	}
	run := func(phase v1alpha1.AnalysisPhase) *v1alpha1.AnalysisRun {
		return &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "web-abc-pre", Namespace: "shop", OwnerReferences: owner},
			Status: v1alpha1.AnalysisRunStatus{Phase: phase}}
	}
	rollout := func(annotations map[string]string, generation int64) *v1alpha1.Rollout {
		return &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: annotations, Generation: generation}}
	}
	for _, tc := range []struct {
		name       string
		old, new   any
		wantUrgent bool
	}{
		{"ReplicaSet becomes fully available", rs(3, 2, 2), rs(3, 3, 2), true},
		{"ReplicaSet gains a pod, not yet all", rs(3, 1, 2), rs(3, 2, 2), false},
		{"ReplicaSet stays available", rs(3, 3, 2), rs(3, 3, 2), false},
		{"ReplicaSet available but its new spec not observed", rs(3, 2, 1), rs(3, 3, 1), false},
		{"ReplicaSet scaled to zero", rs(3, 3, 2), rs(0, 0, 2), false},
		{"analysis fails", run(v1alpha1.AnalysisPhaseRunning), run(v1alpha1.AnalysisPhaseFailed), true},
		{"analysis is inconclusive", run(v1alpha1.AnalysisPhaseRunning), run(v1alpha1.AnalysisPhaseInconclusive), true},
		{"analysis takes a measurement", run(v1alpha1.AnalysisPhaseRunning), run(v1alpha1.AnalysisPhaseRunning), false},
		{"promote requested", rollout(nil, 1), rollout(map[string]string{v1alpha1.PromoteAnnotation: "abc"}, 1), true},
		{"abort requested for another revision", rollout(map[string]string{v1alpha1.AbortAnnotation: "abc"}, 1), rollout(map[string]string{v1alpha1.AbortAnnotation: "def"}, 1), true},
		{"request answered (annotation removed)", rollout(map[string]string{v1alpha1.PromoteAnnotation: "abc"}, 1), rollout(nil, 1), false},
		{"notification record written", rollout(nil, 1), rollout(map[string]string{v1alpha1.NotificationsSentAnnotation: "h1 on-rollout-updated/slack:a"}, 1), false},
		{"spec changed", rollout(nil, 1), rollout(nil, 2), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &recordingQueue{}
			e := event.UpdateEvent{}
			switch o := tc.old.(type) {
			case *appsv1.ReplicaSet:
				e.ObjectOld, e.ObjectNew = o, tc.new.(*appsv1.ReplicaSet)
				ownerRollout(becameAvailable).Update(context.Background(), e, q)
			case *v1alpha1.AnalysisRun:
				e.ObjectOld, e.ObjectNew = o, tc.new.(*v1alpha1.AnalysisRun)
				ownerRollout(finished).Update(context.Background(), e, q)
			case *v1alpha1.Rollout:
				e.ObjectOld, e.ObjectNew = o, tc.new.(*v1alpha1.Rollout)
				rolloutFor().Update(context.Background(), e, q)
			}
			want := reconcile.Request{}
			want.Namespace, want.Name = "shop", "web"
			if len(q.added) != 1 || q.added[0] != want {
				t.Fatalf("queued %v; want only %v", q.added, want)
			}
			if urgent := q.priority != nil && *q.priority == urgent; urgent != tc.wantUrgent {
				t.Errorf("urgent = %v; want %v", urgent, tc.wantUrgent)
			}
		})
	}
}

// TestSlimPod: the cache keeps what the controller reads of a pod and drops the rest.
func TestSlimPod(t *testing.T) {
	now := metav1.Now()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-abc-1", Labels: map[string]string{"a": "b"}, Annotations: map[string]string{"c": "d"},
			DeletionTimestamp: &now, ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "x"}},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-abc", Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "web:1"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: 3}}},
	}
	out, err := slimPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	slim := out.(*corev1.Pod)
	if slim.Name != pod.Name || slim.Labels["a"] != "b" || slim.Annotations["c"] != "d" || slim.DeletionTimestamp == nil ||
		metav1.GetControllerOf(slim) == nil || slim.Status.Phase != corev1.PodRunning || len(slim.Status.Conditions) != 1 {
		t.Errorf("slimPod lost what the controller reads: %+v", slim)
	}
	if len(slim.Spec.Containers) != 0 || len(slim.Status.ContainerStatuses) != 0 || len(slim.ManagedFields) != 0 {
		t.Errorf("slimPod kept the spec, container statuses or managed fields: %+v", slim)
	}
	if other, _ := slimPod("not a pod"); other != "not a pod" {
		t.Errorf("slimPod changed an object that is not a pod: %v", other)
	}
}

// recordingQueue is a priority queue that records what is added to it.
type recordingQueue struct {
	workqueue.TypedRateLimitingInterface[reconcile.Request]
	added    []reconcile.Request
	priority *int
}

func (q *recordingQueue) Add(item reconcile.Request) { q.added = append(q.added, item) }

func (q *recordingQueue) AddWithOpts(o priorityqueue.AddOpts, items ...reconcile.Request) {
	q.added = append(q.added, items...)
	q.priority = o.Priority
}

func (q *recordingQueue) GetWithPriority() (reconcile.Request, int, bool) {
	return reconcile.Request{}, 0, true
}

var _ priorityqueue.PriorityQueue[reconcile.Request] = &recordingQueue{}
