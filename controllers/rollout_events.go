package controllers

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Which events reconcile a Rollout, and how urgently. When hundreds of Rollouts move at
// once the queue holds many of them; the events after which a reconcile moves traffic or
// answers a person jump ahead of the rest:
//
//   - a ReplicaSet that has just become fully available (the active Service may switch to it);
//   - an AnalysisRun that has just finished (promotion or abort);
//   - a Rollout whose annotations changed (a promote, abort or retry request).
//
// Everything else is queued at the default priority, and the informers' initial lists at
// a low one.

// urgent is the priority of the events above.
const urgent = 10

// rolloutChanged passes the Rollout updates a reconcile acts on: its spec (generation),
// labels or annotations. The controller's own status writes come back as updates too;
// they need no reconcile, because each reconcile plans until nothing is left to do and
// asks to be requeued for what is due later.
var rolloutChanged = predicate.Or(predicate.GenerationChangedPredicate{},
	predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{})

// enqueueRollout enqueues a Rollout, at the urgent priority when urgent is true.
func enqueueRollout(q workqueue.TypedRateLimitingInterface[reconcile.Request], req reconcile.Request, isUrgent bool) {
	if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok && isUrgent {
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(urgent)}, req)
		return
	}
	q.Add(req)
}

// requestAnnotations are the annotations by which people ask for something.
var requestAnnotations = []string{v1alpha1.PromoteAnnotation, v1alpha1.PromoteFullAnnotation,
	v1alpha1.AbortAnnotation, v1alpha1.RetryAnnotation}

// requested reports whether a request annotation was added or changed.
func requested(old, new map[string]string) bool {
	for _, key := range requestAnnotations {
		if v, ok := new[key]; ok && old[key] != v {
			return true
		}
	}
	return false
}

// rolloutFor enqueues the Rollout of a Rollout event, urgently when someone asked for
// something (other annotation changes, such as the notifications' record, are not urgent).
func rolloutFor() handler.TypedEventHandler[client.Object, reconcile.Request] {
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(e.Object)})
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueueRollout(q, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(e.ObjectNew)},
				requested(e.ObjectOld.GetAnnotations(), e.ObjectNew.GetAnnotations()))
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(e.Object)})
		},
	}
}

// ownerRollout enqueues the Rollout that controls a ReplicaSet or an AnalysisRun; done
// says when an update deserves the urgent priority.
func ownerRollout(done func(old, new client.Object) bool) handler.TypedEventHandler[client.Object, reconcile.Request] {
	owner := func(obj client.Object) (reconcile.Request, bool) {
		ref := metav1.GetControllerOf(obj)
		if ref == nil || ref.Kind != "Rollout" || ref.APIVersion != v1alpha1.GroupVersion.String() {
			return reconcile.Request{}, false
		}
		return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: ref.Name}}, true
	}
	add := func(obj client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		if req, ok := owner(obj); ok {
			q.Add(req)
		}
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			oldReq, oldOK := owner(e.ObjectOld)
			if req, ok := owner(e.ObjectNew); ok {
				enqueueRollout(q, req, done(e.ObjectOld, e.ObjectNew))
				if oldOK && oldReq != req {
					q.Add(oldReq)
				}
			} else if oldOK {
				q.Add(oldReq)
			}
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(e.Object, q)
		},
	}
}

// becameAvailable is true when a ReplicaSet has just become fully available.
func becameAvailable(old, new client.Object) bool {
	o, n := old.(*appsv1.ReplicaSet), new.(*appsv1.ReplicaSet)
	want := ptr.Deref(n.Spec.Replicas, 1)
	return want > 0 && n.Status.AvailableReplicas >= want && n.Status.ObservedGeneration == n.Generation &&
		(o.Status.AvailableReplicas < want || o.Status.ObservedGeneration != o.Generation)
}

// finished is true when an AnalysisRun has just reached a final phase (Inconclusive included).
func finished(old, new client.Object) bool {
	o, n := old.(*v1alpha1.AnalysisRun), new.(*v1alpha1.AnalysisRun)
	return o.Status.Phase != n.Status.Phase && n.Status.Phase.Completed()
}

// rolloutOfActiveSlice maps an EndpointSlice to its Rollout, only when it belongs to that
// Rollout's active Service: the controller waits on those slices before it scales a
// revision down, while the preview Service's slices change with every pod and matter to
// no decision.
func (r *RolloutReconciler) rolloutOfActiveSlice(ctx context.Context, obj client.Object) []reconcile.Request {
	name := obj.GetLabels()[v1alpha1.RolloutLabel]
	if name == "" {
		return nil
	}
	key := types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}
	var ro v1alpha1.Rollout
	if err := r.Client.Get(ctx, key, &ro); err == nil {
		if bg := ro.Spec.Strategy.BlueGreen; bg != nil && bg.ActiveService != obj.GetLabels()[discoveryv1.LabelServiceName] {
			return nil
		}
	}
	return []reconcile.Request{{NamespacedName: key}}
}
