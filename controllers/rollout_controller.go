package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/pkg/metrics"
	"github.com/bluegreen-dev/bluegreen/pkg/planner"
)

// Field indexes the reconciler registers.
const (
	// indexOwner indexes ReplicaSets and AnalysisRuns by the name of the Rollout that controls them.
	indexOwner = ".metadata.controller"
	// indexServices indexes Rollouts by the Services they reference.
	indexServices = ".spec.strategy.blueGreen.services"
	// indexWorkload indexes Rollouts by the Deployment of spec.workloadRef.
	indexWorkload = ".spec.workloadRef.name"
	// indexPodOwner indexes pods by the ReplicaSet that controls them.
	indexPodOwner = ".metadata.controller.replicaset"
	// indexSliceService indexes EndpointSlices by their Service.
	indexSliceService = ".metadata.labels.service-name"
	// indexManagedBy indexes Services by the Rollout that manages their selector.
	indexManagedBy = ".metadata.annotations.managed-by"
)

// RolloutReconciler carries Rollouts through their blue-green lifecycle. It gathers the
// state, asks planner.Plan what to do, applies each action as one write and writes the
// status once when it changed.
type RolloutReconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	Clock    clock.PassiveClock
	// Analysis builds the AnalysisRun of an analysis gate.
	Analysis *AnalysisRunBuilder
	// MaxConcurrentReconciles is the number of Rollouts reconciled at once.
	MaxConcurrentReconciles int
}

// SetupWithManager registers the indexes and watches.
func (r *RolloutReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	idx := mgr.GetFieldIndexer()
	ownerName := func(obj client.Object) []string {
		if ref := metav1.GetControllerOf(obj); ref != nil && ref.Kind == "Rollout" && ref.APIVersion == v1alpha1.GroupVersion.String() {
			return []string{ref.Name}
		}
		return nil
	}
	if err := idx.IndexField(ctx, &appsv1.ReplicaSet{}, indexOwner, ownerName); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &v1alpha1.AnalysisRun{}, indexOwner, ownerName); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &v1alpha1.Rollout{}, indexServices, func(obj client.Object) []string {
		bg := obj.(*v1alpha1.Rollout).Spec.Strategy.BlueGreen
		if bg == nil {
			return nil
		}
		names := []string{bg.ActiveService}
		if bg.PreviewService != "" {
			names = append(names, bg.PreviewService)
		}
		return names
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &v1alpha1.Rollout{}, indexWorkload, func(obj client.Object) []string {
		if ref := obj.(*v1alpha1.Rollout).Spec.WorkloadRef; ref != nil {
			return []string{ref.Name}
		}
		return nil
	}); err != nil {
		return err
	}

	// Reconciles read pods and slices through these indexes, so that their cost does not grow
	// with the number of Rollouts in a namespace (a label selector scans the whole namespace).
	if err := idx.IndexField(ctx, &corev1.Pod{}, indexPodOwner, func(obj client.Object) []string {
		if ref := metav1.GetControllerOf(obj); ref != nil && ref.Kind == "ReplicaSet" {
			return []string{ref.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &discoveryv1.EndpointSlice{}, indexSliceService, func(obj client.Object) []string {
		if name := obj.GetLabels()[discoveryv1.LabelServiceName]; name != "" {
			return []string{name}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &corev1.Service{}, indexManagedBy, func(obj client.Object) []string {
		if owner := obj.GetAnnotations()[v1alpha1.ManagedByAnnotation]; owner != "" {
			return []string{owner}
		}
		return nil
	}); err != nil {
		return err
	}

	// rollout_events.go says which events reconcile a Rollout, and which jump the queue.
	return ctrl.NewControllerManagedBy(mgr).
		Named("rollout").
		Watches(&v1alpha1.Rollout{}, rolloutFor(), builder.WithPredicates(rolloutChanged)).
		Watches(&appsv1.ReplicaSet{}, ownerRollout(becameAvailable)).
		Watches(&v1alpha1.AnalysisRun{}, ownerRollout(finished)).
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(r.rolloutsOfService)).
		Watches(&discoveryv1.EndpointSlice{}, handler.EnqueueRequestsFromMapFunc(r.rolloutOfActiveSlice)).
		Watches(&appsv1.Deployment{}, handler.EnqueueRequestsFromMapFunc(r.rolloutsOfWorkload),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Complete(r)
}

// rolloutsOfService maps a Service to the Rollouts that reference it or manage it.
func (r *RolloutReconciler) rolloutsOfService(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.RolloutList
	if err := r.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{indexServices: obj.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "Listing the Rollouts of a Service", "service", klog.KObj(obj))
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items)+1)
	for _, ro := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&ro)})
	}
	if owner := obj.GetAnnotations()[v1alpha1.ManagedByAnnotation]; owner != "" {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: owner}})
	}
	return reqs
}

// rolloutsOfWorkload maps a Deployment to the Rollouts whose workloadRef names it.
func (r *RolloutReconciler) rolloutsOfWorkload(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.RolloutList
	if err := r.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{indexWorkload: obj.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "Listing the Rollouts of a Deployment", "deployment", klog.KObj(obj))
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, ro := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&ro)})
	}
	return reqs
}

// Reconcile gathers, plans, applies and writes status.
func (r *RolloutReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var ro v1alpha1.Rollout
	if err := r.Client.Get(ctx, req.NamespacedName, &ro); err != nil {
		if apierrors.IsNotFound(err) {
			// Deleted: give back the Services it switched, and forget its metrics.
			metrics.Forget(req.Namespace, req.Name)
			return ctrl.Result{}, r.releaseServices(ctx, req.Namespace, req.Name, nil)
		}
		return ctrl.Result{}, err
	}
	if !ro.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.releaseServices(ctx, ro.Namespace, ro.Name, nil)
	}

	in, err := r.gather(ctx, &ro)
	if err != nil {
		return ctrl.Result{}, err
	}
	decision := planner.Plan(*in)
	logger := log.FromContext(ctx)
	for _, note := range decision.Notes {
		logger.V(1).Info(note)
	}
	// Answered requests are removed only once the status that records the answer is
	// written, so that a failed status write cannot lose an abort.
	var answered []planner.Action
	for _, action := range decision.Actions {
		if _, ok := action.(planner.RemoveAnnotation); ok {
			answered = append(answered, action)
			continue
		}
		if err := r.apply(ctx, &ro, action); err != nil {
			return ctrl.Result{}, fmt.Errorf("%s: %w", action, err)
		}
	}
	if err := r.releaseServices(ctx, ro.Namespace, ro.Name, referencedServices(&ro)); err != nil {
		return ctrl.Result{}, err
	}
	if !equality.Semantic.DeepEqual(ro.Status, decision.Status) {
		patch := client.MergeFrom(ro.DeepCopy())
		ro.Status = decision.Status
		if err := r.Client.Status().Patch(ctx, &ro, patch, client.FieldOwner(v1alpha1.FieldOwner)); err != nil {
			return ctrl.Result{}, fmt.Errorf("writing status: %w", err)
		}
	}
	for _, action := range answered {
		if err := r.apply(ctx, &ro, action); err != nil {
			return ctrl.Result{}, fmt.Errorf("%s: %w", action, err)
		}
	}
	r.observe(in, &ro, decision)
	return ctrl.Result{RequeueAfter: decision.RequeueAfter}, nil
}

// gather reads everything the planner needs, from the cache.
func (r *RolloutReconciler) gather(ctx context.Context, ro *v1alpha1.Rollout) (*planner.Input, error) {
	in := &planner.Input{Rollout: ro, Template: ro.Spec.Template, Now: r.Clock.Now()}
	if ref := ro.Spec.WorkloadRef; ref != nil {
		var d appsv1.Deployment
		switch err := r.Client.Get(ctx, client.ObjectKey{Namespace: ro.Namespace, Name: ref.Name}, &d); {
		case apierrors.IsNotFound(err):
			in.WorkloadMissing = fmt.Sprintf("spec.workloadRef: Deployment %q not found in namespace %q: create it or fix the name", ref.Name, ro.Namespace)
		case err != nil:
			return nil, err
		default:
			in.Template = d.Spec.Template.DeepCopy()
			in.WorkloadReplicas = d.Spec.Replicas
			if ro.Spec.Selector == nil {
				in.Selector = d.Spec.Selector
			}
		}
	}

	var rsList appsv1.ReplicaSetList
	if err := r.Client.List(ctx, &rsList, client.InNamespace(ro.Namespace), client.MatchingFields{indexOwner: ro.Name}); err != nil {
		return nil, err
	}
	for i := range rsList.Items {
		if metav1.IsControlledBy(&rsList.Items[i], ro) {
			in.ReplicaSets = append(in.ReplicaSets, &rsList.Items[i])
		}
	}

	var err error
	bg := ro.Spec.Strategy.BlueGreen
	if in.ActiveService, err = r.service(ctx, ro.Namespace, bg.ActiveService); err != nil {
		return nil, err
	}
	if in.PreviewService, err = r.service(ctx, ro.Namespace, bg.PreviewService); err != nil {
		return nil, err
	}
	var slices discoveryv1.EndpointSliceList
	if err := r.Client.List(ctx, &slices, client.InNamespace(ro.Namespace), client.MatchingFields{indexSliceService: bg.ActiveService}); err != nil {
		return nil, err
	}
	for i := range slices.Items {
		if slices.Items[i].Labels[v1alpha1.RolloutLabel] == ro.Name {
			in.ActiveEndpointSlices = append(in.ActiveEndpointSlices, &slices.Items[i])
		}
	}

	var runs v1alpha1.AnalysisRunList
	if err := r.Client.List(ctx, &runs, client.InNamespace(ro.Namespace), client.MatchingFields{indexOwner: ro.Name}); err != nil {
		return nil, err
	}
	for i := range runs.Items {
		if metav1.IsControlledBy(&runs.Items[i], ro) {
			in.AnalysisRuns = append(in.AnalysisRuns, &runs.Items[i])
		}
	}

	for _, rs := range in.ReplicaSets {
		var pods corev1.PodList
		if err := r.Client.List(ctx, &pods, client.InNamespace(ro.Namespace), client.MatchingFields{indexPodOwner: rs.Name}); err != nil {
			return nil, err
		}
		for i := range pods.Items {
			in.Pods = append(in.Pods, &pods.Items[i])
		}
	}
	return in, nil
}

func (r *RolloutReconciler) service(ctx context.Context, namespace, name string) (*corev1.Service, error) {
	if name == "" {
		return nil, nil
	}
	var svc corev1.Service
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &svc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return &svc, nil
}

func referencedServices(ro *v1alpha1.Rollout) map[string]bool {
	bg := ro.Spec.Strategy.BlueGreen
	refs := map[string]bool{bg.ActiveService: true}
	if bg.PreviewService != "" {
		refs[bg.PreviewService] = true
	}
	return refs
}

// releaseServices gives back the Services of the namespace that the Rollout manages but no
// longer references (keep): the injected selector key and the managed-by annotation are
// removed, so the Service selects by its own selector again.
func (r *RolloutReconciler) releaseServices(ctx context.Context, namespace, rollout string, keep map[string]bool) error {
	var list corev1.ServiceList
	if err := r.Client.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{indexManagedBy: rollout}); err != nil {
		return err
	}
	for i := range list.Items {
		svc := &list.Items[i]
		if keep[svc.Name] {
			continue
		}
		patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:null},"labels":{%q:null}},"spec":{"selector":{%q:null}}}`,
			v1alpha1.ManagedByAnnotation, v1alpha1.RolloutLabel, v1alpha1.PodTemplateHashLabel))
		if err := r.Client.Patch(ctx, svc, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(v1alpha1.FieldOwner)); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("releasing Service %s: %w", svc.Name, err)
		}
		log.FromContext(ctx).Info("Released a Service the Rollout no longer references", "service", klog.KObj(svc))
	}
	return nil
}
