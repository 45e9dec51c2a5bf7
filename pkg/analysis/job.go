package analysis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// JobNameKey is the measurement metadata key that names a Job measurement's Job.
const JobNameKey = "job-name"

// Job runs a Kubernetes Job per measurement: Successful when the Job succeeds, Failed
// when it fails. The Job is owned by the run and labelled with it, the metric and the
// Rollout, and is deleted when the run is terminated.
type Job struct {
	client client.Client
	// live reads a Job the cache does not have yet, so that a Job just created is not
	// taken for one that was deleted.
	live client.Reader
}

// NewJob returns the Job provider: c writes Jobs and reads them from the cache, live reads
// them from the API server.
func NewJob(c client.Client, live client.Reader) *Job {
	return &Job{client: c, live: live}
}

// Measure creates the measurement's Job, or checks on the Job of prior.
func (j *Job) Measure(ctx context.Context, run *v1alpha1.AnalysisRun, metric *Metric, prior *v1alpha1.Measurement) Outcome {
	if prior != nil && prior.Metadata[JobNameKey] != "" {
		return j.check(ctx, run, prior.Metadata[JobNameKey])
	}
	res := resultOf(run, metric.Spec.Name)
	n := 1
	if res != nil {
		n = int(res.Count+res.Error) + 1
	}
	job := j.newJob(run, metric, JobName(run.Name, metric.Spec.Name, n))
	err := j.client.Create(ctx, job, client.FieldOwner(v1alpha1.FieldOwner))
	switch {
	case apierrors.IsAlreadyExists(err):
		// Created by an earlier reconcile whose status write was lost: take it.
		return j.check(ctx, run, job.Name)
	case err != nil:
		return errorf("creating Job %s: %v", job.Name, err)
	}
	return Outcome{Phase: v1alpha1.AnalysisPhaseRunning, Metadata: map[string]string{JobNameKey: job.Name}}
}

func (j *Job) newJob(run *v1alpha1.AnalysisRun, metric *Metric, name string) *batchv1.Job {
	spec := metric.Spec.Provider.Job
	labels := map[string]string{}
	for k, v := range spec.Metadata.Labels {
		labels[k] = v
	}
	labels[v1alpha1.AnalysisRunLabel] = LabelValue(run.Name)
	labels[v1alpha1.MetricLabel] = LabelValue(metric.Spec.Name)
	if ro := run.Labels[v1alpha1.RolloutLabel]; ro != "" {
		labels[v1alpha1.RolloutLabel] = ro
	}
	annotations := map[string]string{}
	for k, v := range spec.Metadata.Annotations {
		annotations[k] = v
	}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       run.Namespace,
			Labels:          labels,
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(run, v1alpha1.GroupVersion.WithKind("AnalysisRun"))},
		},
		Spec: *spec.Spec.DeepCopy(),
	}
}

// check reads a Job and says how its measurement stands.
func (j *Job) check(ctx context.Context, run *v1alpha1.AnalysisRun, name string) Outcome {
	meta := map[string]string{JobNameKey: name}
	var job batchv1.Job
	key := client.ObjectKey{Namespace: run.Namespace, Name: name}
	err := j.client.Get(ctx, key, &job)
	if apierrors.IsNotFound(err) && j.live != nil {
		err = j.live.Get(ctx, key, &job)
	}
	switch {
	case apierrors.IsNotFound(err):
		return Outcome{Phase: v1alpha1.AnalysisPhaseError, Message: fmt.Sprintf("Job %s was deleted before it finished", name), Metadata: meta}
	case err != nil:
		return Outcome{Phase: v1alpha1.AnalysisPhaseError, Message: fmt.Sprintf("reading Job %s: %v", name, err), Metadata: meta}
	}
	if !metav1.IsControlledBy(&job, run) {
		return Outcome{Phase: v1alpha1.AnalysisPhaseError, Message: fmt.Sprintf("Job %s exists and does not belong to this run: delete or rename it", name), Metadata: meta}
	}
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return Outcome{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "succeeded", Message: fmt.Sprintf("Job %s succeeded", name), Metadata: meta}
		case batchv1.JobFailed:
			return Outcome{Phase: v1alpha1.AnalysisPhaseFailed, Value: "failed",
				Message: fmt.Sprintf("Job %s failed: %s: %s", name, c.Reason, c.Message), Metadata: meta}
		}
	}
	return Outcome{Phase: v1alpha1.AnalysisPhaseRunning, Metadata: meta}
}

// Release deletes the measurement's Job and its pods.
func (j *Job) Release(ctx context.Context, run *v1alpha1.AnalysisRun, m *v1alpha1.Measurement) error {
	name := m.Metadata[JobNameKey]
	if name == "" {
		return nil
	}
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: run.Namespace, Name: name}}
	return client.IgnoreNotFound(j.client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)))
}

// JobName names the n-th Job of a run's metric: "<run>-<metric>-<n>", shortened with a
// hash to fit a label value (63 characters), which the Job controller needs.
func JobName(run, metric string, n int) string {
	suffix := "-" + strconv.Itoa(n)
	name := strings.ToLower(run + "-" + metric)
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, name)
	if len(name)+len(suffix) <= validation.DNS1123LabelMaxLength && name == strings.ToLower(run+"-"+metric) {
		return name + suffix
	}
	sum := sha256.Sum256([]byte(run + "/" + metric))
	hash := hex.EncodeToString(sum[:])[:8]
	keep := validation.DNS1123LabelMaxLength - len(suffix) - len(hash) - 1
	if len(name) > keep {
		name = name[:keep]
	}
	return strings.TrimRight(name, "-") + "-" + hash + suffix
}

// LabelValue is s when it is a valid label value, else a shortened form with a hash.
func LabelValue(s string) string {
	if len(validation.IsValidLabelValue(s)) == 0 {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	hash := hex.EncodeToString(sum[:])[:8]
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, s)
	if len(clean) > validation.LabelValueMaxLength-9 {
		clean = clean[:validation.LabelValueMaxLength-9]
	}
	return strings.Trim(clean, "-_.") + "-" + hash
}

func resultOf(run *v1alpha1.AnalysisRun, metric string) *v1alpha1.MetricResult {
	for i := range run.Status.MetricResults {
		if run.Status.MetricResults[i].Name == metric {
			return &run.Status.MetricResults[i]
		}
	}
	return nil
}

// Validate has the API server check the metric's Job by a dry-run create, so that a Job
// spec it rejects is found when the run starts. Other errors are left to the measurement.
func (j *Job) Validate(ctx context.Context, run *v1alpha1.AnalysisRun, metric *Metric) error {
	job := j.newJob(run, metric, JobName(run.Name, metric.Spec.Name, 0))
	err := j.client.Create(ctx, job, client.DryRunAll, client.FieldOwner(v1alpha1.FieldOwner))
	if apierrors.IsInvalid(err) {
		return fmt.Errorf("provider.job.spec: the API server rejects the Job: %v: fix the Job spec", err)
	}
	return nil
}
