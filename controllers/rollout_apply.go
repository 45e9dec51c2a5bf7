package controllers

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/pkg/planner"
)

// apply performs one action of a plan as one idempotent write under the controller's
// field owner: a merge patch of exactly the fields the action sets, a create that
// tolerates AlreadyExists, or a delete that tolerates NotFound.
func (r *RolloutReconciler) apply(ctx context.Context, ro *v1alpha1.Rollout, action planner.Action) error {
	owner := client.FieldOwner(v1alpha1.FieldOwner)
	ns := ro.Namespace
	switch a := action.(type) {
	case planner.CreateReplicaSet:
		err := r.Client.Create(ctx, a.ReplicaSet.DeepCopy(), owner)
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	case planner.ScaleReplicaSet:
		return r.patch(ctx, &appsv1.ReplicaSet{}, ns, a.Name, map[string]any{"spec": map[string]any{"replicas": a.Replicas}})
	case planner.AnnotateReplicaSet:
		return r.patch(ctx, &appsv1.ReplicaSet{}, ns, a.Name, map[string]any{"metadata": metadataPatch(nil, a.Annotations)})
	case planner.DeleteReplicaSet:
		return client.IgnoreNotFound(r.Client.Delete(ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: a.Name}},
			client.PropagationPolicy(metav1.DeletePropagationBackground)))
	case planner.SwitchService:
		// The label is copied by the endpoint controller onto the Service's EndpointSlices,
		// which lets the operator cache only the slices of the Services it manages.
		return r.patch(ctx, &corev1.Service{}, ns, a.Service, map[string]any{
			"metadata": map[string]any{
				"annotations": map[string]string{v1alpha1.ManagedByAnnotation: ro.Name},
				"labels":      map[string]string{v1alpha1.RolloutLabel: ro.Name},
			},
			"spec": map[string]any{"selector": map[string]string{v1alpha1.PodTemplateHashLabel: a.Hash}},
		})
	case planner.StartAnalysisRun:
		run, err := r.Analysis.Build(ctx, ro, a)
		if err != nil {
			return err
		}
		err = r.Client.Create(ctx, run, owner)
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	case planner.TerminateAnalysisRun:
		return r.patch(ctx, &v1alpha1.AnalysisRun{}, ns, a.Name, map[string]any{"spec": map[string]any{"terminate": true}})
	case planner.DeleteAnalysisRun:
		return client.IgnoreNotFound(r.Client.Delete(ctx, &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: a.Name}},
			client.PropagationPolicy(metav1.DeletePropagationBackground)))
	case planner.PatchPodMetadata:
		return r.patch(ctx, &corev1.Pod{}, ns, a.Pod, map[string]any{"metadata": metadataPatch(a.Labels, a.Annotations)})
	case planner.PatchReplicaSetPodMetadata:
		return r.patch(ctx, &appsv1.ReplicaSet{}, ns, a.Name, map[string]any{"spec": map[string]any{"template": map[string]any{
			"metadata": metadataPatch(a.Labels, a.Annotations)}}})
	case planner.DeletePod:
		return client.IgnoreNotFound(r.Client.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: a.Name}}))
	case planner.RemoveAnnotation:
		return r.patch(ctx, &v1alpha1.Rollout{}, ns, ro.Name, map[string]any{"metadata": map[string]any{"annotations": map[string]any{a.Key: nil}}})
	case planner.ScaleWorkload:
		return r.patch(ctx, &appsv1.Deployment{}, ns, a.Name, map[string]any{"spec": map[string]any{"replicas": a.Replicas}})
	case planner.RecordEvent:
		r.Recorder.Eventf(ro, nil, a.Type, a.Reason, a.Reason, "%s", a.Message)
		return nil
	default:
		return fmt.Errorf("unknown action %T", action)
	}
}

// patch sends a JSON merge patch; a nil value in a map removes that key. An object that is
// already gone is not an error: the next reconcile sees the world without it.
func (r *RolloutReconciler) patch(ctx context.Context, obj client.Object, namespace, name string, body map[string]any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	obj.SetNamespace(namespace)
	obj.SetName(name)
	return client.IgnoreNotFound(r.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, data), client.FieldOwner(v1alpha1.FieldOwner)))
}

// metadataPatch is the metadata part of a merge patch. An empty map is left out: a null
// "labels" would remove every label.
func metadataPatch(labels, annotations map[string]*string) map[string]any {
	m := map[string]any{}
	if len(labels) > 0 {
		m["labels"] = labels
	}
	if len(annotations) > 0 {
		m["annotations"] = annotations
	}
	return m
}
