// Package controllers holds the thin reconcilers: they gather the state of a Rollout or
// AnalysisRun, ask pkg/planner what to do, apply its actions and write status once.
package controllers

// The permissions the controllers need; controller-gen turns them into config/rbac/role.yaml.
//
// +kubebuilder:rbac:groups=rollouts.bluegreen.dev,resources=rollouts;analysisruns,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=rollouts.bluegreen.dev,resources=rollouts/status;analysisruns/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=rollouts.bluegreen.dev,resources=analysisruns,verbs=create;delete
// +kubebuilder:rbac:groups=rollouts.bluegreen.dev,resources=analysistemplates;clusteranalysistemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=replicasets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete
