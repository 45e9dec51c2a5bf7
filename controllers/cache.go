package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// CacheOptions restricts the informer caches to the objects of Rollouts: ReplicaSets and
// pods carrying a pod template hash label and the EndpointSlices of managed Services, so
// that memory does not grow with unrelated workloads; managed fields are dropped from
// everything cached.
func CacheOptions() cache.Options {
	ofRollouts := labels.NewSelector()
	if req, err := labels.NewRequirement(v1alpha1.PodTemplateHashLabel, selection.Exists, nil); err == nil {
		ofRollouts = ofRollouts.Add(*req)
	}
	managed := labels.NewSelector()
	if req, err := labels.NewRequirement(v1alpha1.RolloutLabel, selection.Exists, nil); err == nil {
		managed = managed.Add(*req)
	}
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.ReplicaSet{}: {Label: ofRollouts},
			&corev1.Pod{}:        {Label: ofRollouts},
			// The slices of the Services the operator switched (they copy the Service's labels).
			&discoveryv1.EndpointSlice{}: {Label: managed},
		},
	}
}
