// Package v1alpha1 holds the rollouts.bluegreen.dev/v1alpha1 API: Rollout,
// AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun. The blue-green field
// names are those of Argo Rollouts, so that an argoproj.io/v1alpha1 Rollout moves
// over by changing its apiVersion.
//
// +kubebuilder:object:generate=true
// +groupName=rollouts.bluegreen.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "rollouts.bluegreen.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
