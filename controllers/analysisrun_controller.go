package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/pkg/analysis"
)

// The AnalysisRun controller reads the Secrets that arguments refer to, one by name, when
// it measures: get only, no list or watch, so that no Secret is cached.
//
// +kubebuilder:rbac:groups=rollouts.bluegreen.dev,resources=analysisruns,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=rollouts.bluegreen.dev,resources=analysisruns/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// AnalysisRunReconciler measures the metrics of AnalysisRuns: each at its interval, for
// its count, after its initial delay; it records every measurement, assesses each metric
// against its limits and gives the run its worst metric's phase. A terminated run stops
// measuring and its running Jobs are deleted.
type AnalysisRunReconciler struct {
	Client client.Client
	// SecretReader reads the Secrets of secretKeyRef arguments, uncached (the manager's
	// API reader).
	SecretReader client.Reader
	Clock        clock.PassiveClock
	// Providers measure, by kind of metric.
	Prometheus analysis.Provider
	Web        analysis.Provider
	Job        analysis.Provider
	// Options are the controller-wide defaults, such as the Prometheus address.
	Options analysis.Options
	// MaxConcurrentReconciles is the number of AnalysisRuns measured at once.
	MaxConcurrentReconciles int
}

// NewAnalysisRunReconciler wires the reconciler and its providers from a manager.
func NewAnalysisRunReconciler(mgr ctrl.Manager, clk clock.PassiveClock, opts analysis.Options, workers int) *AnalysisRunReconciler {
	return &AnalysisRunReconciler{
		Client:                  mgr.GetClient(),
		SecretReader:            mgr.GetAPIReader(),
		Clock:                   clk,
		Prometheus:              analysis.NewPrometheus(opts.PrometheusAddress, nil, nil),
		Web:                     analysis.NewWeb(nil),
		Job:                     analysis.NewJob(mgr.GetClient(), mgr.GetAPIReader()),
		Options:                 opts,
		MaxConcurrentReconciles: workers,
	}
}

// SetupWithManager watches AnalysisRuns and the Jobs they own. Status writes come back as
// events too: the next reconcile then sees its own write and only computes when to
// measure next.
func (r *AnalysisRunReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.AnalysisRun{}).
		Owns(&batchv1.Job{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Complete(r)
}

// Reconcile takes the measurements that are due and writes the status once.
func (r *AnalysisRunReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var run v1alpha1.AnalysisRun
	if err := r.Client.Get(ctx, req.NamespacedName, &run); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !run.DeletionTimestamp.IsZero() || run.Status.Phase.Completed() {
		return ctrl.Result{}, nil // owned Jobs go with the run; a finished run measures nothing
	}
	logger := log.FromContext(ctx)
	now := r.Clock.Now()
	work := run.DeepCopy()
	st := &work.Status
	if st.StartedAt == nil {
		st.StartedAt = analysis.Now(now)
	}

	args, err := analysis.ResolveArgs(ctx, run.Spec.Args, r.readSecret(run.Namespace))
	var metrics []*analysis.Metric
	if err == nil {
		metrics, err = analysis.Prepare(run.Spec, args, r.Options)
	}
	if err == nil {
		err = r.validate(ctx, work, metrics)
	}
	if err != nil {
		// Found when the run starts, not after minutes of measuring: the run is an Error
		// that names the metric, the field and the fix.
		r.invalid(work, err, args, now)
		logger.Info("AnalysisRun cannot be measured as written", "analysisRun", klog.KObj(&run), "reason", st.Message)
		return ctrl.Result{}, r.writeStatus(ctx, &run, work)
	}

	results := make([]v1alpha1.MetricResult, len(metrics))
	for i, m := range metrics {
		results[i] = v1alpha1.MetricResult{Name: m.Spec.Name, Phase: v1alpha1.AnalysisPhasePending, DryRun: m.DryRun}
		for _, old := range st.MetricResults {
			if old.Name == m.Spec.Name {
				results[i] = *old.DeepCopy()
				results[i].DryRun = m.DryRun
			}
		}
	}
	st.MetricResults = results

	terminated := run.Spec.Terminate
	if !terminated {
		for i, m := range metrics {
			if err := r.measure(ctx, work, m, &st.MetricResults[i], args, now); err != nil {
				return ctrl.Result{}, err
			}
		}
	}
	for i, m := range metrics {
		st.MetricResults[i].Phase, st.MetricResults[i].Message = analysis.AssessMetric(m, &st.MetricResults[i], terminated)
		st.MetricResults[i].Message = args.Mask(st.MetricResults[i].Message)
	}
	st.Phase, st.Message = analysis.AssessRun(metrics, st.MetricResults, terminated)
	if terminated {
		st.Message = "terminated: " + st.Message
	}
	st.Message = args.Mask(st.Message)

	var next time.Duration
	if st.Phase.Completed() {
		st.CompletedAt = analysis.Now(now)
		// Measurements still going on (the Jobs of other metrics) stop with the run.
		for i := range metrics {
			if err := r.stopRunning(ctx, work, &st.MetricResults[i], now); err != nil {
				return ctrl.Result{}, err
			}
		}
		if err := r.deleteUnfinishedJobs(ctx, work); err != nil {
			return ctrl.Result{}, err
		}
		logger.Info("AnalysisRun completed", "analysisRun", klog.KObj(&run), "phase", st.Phase, "message", st.Message)
	} else {
		next = nextMeasurement(metrics, st, now)
	}
	if err := r.writeStatus(ctx, &run, work); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: next}, nil
}

// measure takes the metric's measurement if one is due, or checks on the running one.
func (r *AnalysisRunReconciler) measure(ctx context.Context, run *v1alpha1.AnalysisRun, m *analysis.Metric, res *v1alpha1.MetricResult, args analysis.Args, now time.Time) error {
	if res.Phase.Completed() {
		return nil
	}
	provider := r.provider(m)
	prior := analysis.Running(res)
	if prior == nil {
		at, due := analysis.NextMeasurement(m, res, run.Status.StartedAt.Time)
		if !due || at.After(now) {
			return nil
		}
	} else {
		prior = prior.DeepCopy()
	}
	started := now
	if prior != nil && prior.StartedAt != nil {
		started = prior.StartedAt.Time
	}
	outcome := provider.Measure(ctx, run, m, prior)
	measurement := analysis.Judge(m, outcome, started, r.Clock.Now())
	args.MaskMeasurement(&measurement)
	if measurement.Phase != v1alpha1.AnalysisPhaseRunning {
		log.FromContext(ctx).V(1).Info("Measured", "analysisRun", klog.KObj(run), "metric", m.Spec.Name,
			"phase", measurement.Phase, "value", measurement.Value, "message", measurement.Message)
	}
	for _, old := range analysis.Record(res, measurement) {
		if err := provider.Release(ctx, run, &old); err != nil {
			return fmt.Errorf("metric %s: releasing an old measurement: %w", m.Spec.Name, err)
		}
	}
	return nil
}

// stopRunning ends a measurement that is still going on when the run completes.
func (r *AnalysisRunReconciler) stopRunning(ctx context.Context, run *v1alpha1.AnalysisRun, res *v1alpha1.MetricResult, now time.Time) error {
	m := analysis.Running(res)
	if m == nil {
		return nil
	}
	if err := r.Job.Release(ctx, run, m); err != nil { // only Job measurements run on
		return fmt.Errorf("metric %s: stopping its running measurement: %w", res.Name, err)
	}
	// Not counted: the run ended before the measurement did.
	m.Phase = v1alpha1.AnalysisPhaseSuccessful
	m.Message = "the run ended before this measurement finished"
	if name := m.Metadata[analysis.JobNameKey]; name != "" {
		m.Message += ": Job " + name + " deleted"
	}
	m.FinishedAt = analysis.Now(now)
	return nil
}

// deleteUnfinishedJobs deletes the run's Jobs that have not finished, also one whose
// measurement a lost status write never recorded.
func (r *AnalysisRunReconciler) deleteUnfinishedJobs(ctx context.Context, run *v1alpha1.AnalysisRun) error {
	hasJobs := false
	for _, m := range run.Spec.Metrics {
		hasJobs = hasJobs || m.Provider.Job != nil
	}
	if !hasJobs {
		return nil
	}
	var jobs batchv1.JobList
	if err := r.Client.List(ctx, &jobs, client.InNamespace(run.Namespace),
		client.MatchingLabels{v1alpha1.AnalysisRunLabel: analysis.LabelValue(run.Name)}); err != nil {
		return err
	}
	for i := range jobs.Items {
		job := &jobs.Items[i]
		if !metav1.IsControlledBy(job, run) || job.DeletionTimestamp != nil || jobFinished(job) {
			continue
		}
		if err := r.Client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting Job %s of the completed run: %w", job.Name, err)
		}
	}
	return nil
}

func jobFinished(job *batchv1.Job) bool {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func (r *AnalysisRunReconciler) provider(m *analysis.Metric) analysis.Provider {
	switch p := m.Spec.Provider; {
	case p.Prometheus != nil:
		return r.Prometheus
	case p.Web != nil:
		return r.Web
	default:
		return r.Job
	}
}

// validator is a provider that can check a metric with the API server before measuring,
// such as a Job spec by a dry-run create.
type validator interface {
	Validate(ctx context.Context, run *v1alpha1.AnalysisRun, m *analysis.Metric) error
}

func (r *AnalysisRunReconciler) validate(ctx context.Context, run *v1alpha1.AnalysisRun, metrics []*analysis.Metric) error {
	if len(run.Status.MetricResults) > 0 {
		return nil // checked when the run started
	}
	for i, m := range metrics {
		if v, ok := r.provider(m).(validator); ok {
			if err := v.Validate(ctx, run, m); err != nil {
				return &analysis.MetricError{Index: i, Metric: m.Spec.Name, Err: err}
			}
		}
	}
	return nil
}

// invalid ends a run that cannot be measured as written: phase Error, and the metric at
// fault in Error too with the same message, so that the Rollout's abort names it.
func (r *AnalysisRunReconciler) invalid(run *v1alpha1.AnalysisRun, err error, args analysis.Args, now time.Time) {
	st := &run.Status
	msg := args.Mask(err.Error())
	st.Phase = v1alpha1.AnalysisPhaseError
	st.Message = v1alpha1.AnalysisRunInvalidSpecPrefix + msg
	st.CompletedAt = analysis.Now(now)
	var me *analysis.MetricError
	faulty := ""
	if errors.As(err, &me) {
		faulty = me.Metric
	}
	results := make([]v1alpha1.MetricResult, 0, len(run.Spec.Metrics))
	for _, m := range run.Spec.Metrics {
		res := v1alpha1.MetricResult{Name: m.Name, Phase: v1alpha1.AnalysisPhasePending}
		for _, old := range st.MetricResults {
			if old.Name == m.Name {
				res = *old.DeepCopy()
			}
		}
		if m.Name == faulty {
			res.Phase, res.Message = v1alpha1.AnalysisPhaseError, args.Mask(me.Err.Error())
		}
		results = append(results, res)
	}
	st.MetricResults = results
}

// readSecret reads a key of a Secret of the namespace, uncached.
func (r *AnalysisRunReconciler) readSecret(namespace string) analysis.SecretReader {
	return func(ctx context.Context, name, key string) (string, error) {
		var secret corev1.Secret
		if err := r.SecretReader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &secret); err != nil {
			if apierrors.IsNotFound(err) {
				return "", fmt.Errorf("Secret %q not found in namespace %q: create it or fix the name", name, namespace)
			}
			return "", fmt.Errorf("reading Secret %q: %w", name, err)
		}
		v, ok := secret.Data[key]
		if !ok {
			return "", fmt.Errorf("Secret %q has no key %q: add it or fix the key", name, key)
		}
		return string(v), nil
	}
}

// nextMeasurement is how long until the next measurement is due: the only reason to
// requeue. Running Jobs wake the controller through their own events.
func nextMeasurement(metrics []*analysis.Metric, st *v1alpha1.AnalysisRunStatus, now time.Time) time.Duration {
	var next time.Duration
	for i, m := range metrics {
		at, due := analysis.NextMeasurement(m, &st.MetricResults[i], st.StartedAt.Time)
		if !due {
			continue
		}
		// Status times have a resolution of a second: never requeue for less than a
		// moment, so that a measurement due "now" is taken by the next reconcile.
		wait := max(at.Sub(now), 10*time.Millisecond)
		if next == 0 || wait < next {
			next = wait
		}
	}
	return next
}

// writeStatus writes the run's status once, when it changed. A conflict means the cache
// was behind this controller's own last write: the event for that write brings the run
// back, and what was measured here is taken again then.
func (r *AnalysisRunReconciler) writeStatus(ctx context.Context, run, work *v1alpha1.AnalysisRun) error {
	if equality.Semantic.DeepEqual(run.Status, work.Status) {
		return nil
	}
	patch := client.MergeFromWithOptions(run.DeepCopy(), client.MergeFromWithOptimisticLock{})
	run.Status = work.Status
	err := r.Client.Status().Patch(ctx, run, patch, client.FieldOwner(v1alpha1.FieldOwner))
	if apierrors.IsConflict(err) {
		log.FromContext(ctx).V(1).Info("AnalysisRun changed while it was measured: measuring again", "analysisRun", klog.KObj(run))
		return nil
	}
	if err != nil {
		return fmt.Errorf("writing the status of AnalysisRun %s: %w", run.Name, err)
	}
	return nil
}
