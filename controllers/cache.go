package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// CacheOptions restricts the informer caches to the objects of Rollouts: ReplicaSets and
// pods carrying a pod template hash label, the EndpointSlices of managed Services and the
// Jobs of analysis runs, so
// that memory does not grow with unrelated workloads; managed fields are dropped from
// everything cached.
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.ReplicaSet{}: {Label: hasLabel(v1alpha1.PodTemplateHashLabel)},
			&corev1.Pod{}:        {Label: hasLabel(v1alpha1.PodTemplateHashLabel), Transform: slimPod},
			// The slices of the Services the operator switched (they copy the Service's labels).
			&discoveryv1.EndpointSlice{}: {Label: hasLabel(v1alpha1.RolloutLabel)},
			// The Jobs of job metrics.
			&batchv1.Job{}: {Label: hasLabel(v1alpha1.AnalysisRunLabel)},
		},
	}
}

// slimPod keeps of a pod what the controller reads: its metadata (without managed fields),
// phase and conditions. The spec and container statuses are most of a pod's size, and
// the cache holds every pod of every Rollout.
func slimPod(in any) (any, error) {
	pod, ok := in.(*corev1.Pod)
	if !ok {
		return in, nil
	}
	meta := pod.ObjectMeta
	meta.ManagedFields = nil
	return &corev1.Pod{TypeMeta: pod.TypeMeta, ObjectMeta: meta,
		Status: corev1.PodStatus{Phase: pod.Status.Phase, Conditions: pod.Status.Conditions}}, nil
}

// hasLabel selects the objects that carry the label, whatever its value.
func hasLabel(key string) labels.Selector {
	req, err := labels.NewRequirement(key, selection.Exists, nil)
	if err != nil {
		panic(err) // the keys are constants of the API package
	}
	return labels.NewSelector().Add(*req)
}
