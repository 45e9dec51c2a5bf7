package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/pkg/analysis"
)

// These tests run AnalysisRuns on the API server, measured by the operator that TestMain
// starts, against local HTTP servers. No Job controller runs in envtest: the Job tests
// play its part by writing the Job's status.

func webMetric(name, url, success string) v1alpha1.Metric {
	return v1alpha1.Metric{Name: name, SuccessCondition: success,
		Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: url, JSONPath: "{$.ratio}"}}}
}

func createRun(t *testing.T, ns, name string, spec v1alpha1.AnalysisRunSpec) *v1alpha1.AnalysisRun {
	t.Helper()
	run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := k8s.Create(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	return run
}

// waitRun waits until the run is in a final phase and returns it.
func waitRun(t *testing.T, run *v1alpha1.AnalysisRun, timeout time.Duration) *v1alpha1.AnalysisRun {
	t.Helper()
	var got v1alpha1.AnalysisRun
	eventually(t, timeout, "AnalysisRun "+run.Name+" to complete", func() (bool, string) {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(run), &got); err != nil {
			return false, err.Error()
		}
		return got.Status.Phase.Completed(), fmt.Sprintf("phase %s: %s", got.Status.Phase, got.Status.Message)
	})
	return &got
}

func ratioServer(t *testing.T, ratio *atomic.Value) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			http.Error(w, "backend down", http.StatusInternalServerError)
			return
		}
		_, _ = fmt.Fprintf(w, `{"ratio": %v}`, ratio.Load())
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAnalysisRunMeasuresAtIntervalForCount(t *testing.T) {
	ns := namespace(t)
	var ratio atomic.Value
	ratio.Store(0.01)
	srv := ratioServer(t, &ratio)
	m := webMetric("ratio", srv.URL, "result < 0.05")
	m.Interval, m.Count = "1s", ptr.To(intstr.FromInt32(3))
	begin := time.Now()
	run := waitRun(t, createRun(t, ns, "count", v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{m}}), 30*time.Second)
	took := time.Since(begin)

	if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || run.Status.StartedAt == nil || run.Status.CompletedAt == nil {
		t.Fatalf("run %s: %+v", run.Status.Phase, run.Status)
	}
	res := run.Status.MetricResults[0]
	if res.Phase != v1alpha1.AnalysisPhaseSuccessful || res.Count != 3 || res.Successful != 3 || len(res.Measurements) != 3 {
		t.Fatalf("metric result %+v", res)
	}
	for _, meas := range res.Measurements {
		if meas.Value != "0.01" || meas.StartedAt == nil || meas.FinishedAt == nil || meas.Phase != v1alpha1.AnalysisPhaseSuccessful {
			t.Errorf("measurement %+v", meas)
		}
	}
	// Three measurements one interval apart: about two seconds (status times round to the second).
	if took < time.Second {
		t.Errorf("3 measurements at a 1s interval took %s", took)
	}
}

func TestAnalysisRunWithABadConditionFailsAtOnce(t *testing.T) {
	ns := namespace(t)
	m := webMetric("ratio", "http://127.0.0.1:1/", "result[0] >=")
	m.Interval = "1m" // a run that would otherwise measure for minutes
	run := waitRun(t, createRun(t, ns, "bad-condition", v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{m}}), 10*time.Second)
	if run.Status.Phase != v1alpha1.AnalysisPhaseError {
		t.Fatalf("phase %s, want Error", run.Status.Phase)
	}
	for _, want := range []string{v1alpha1.AnalysisRunInvalidSpecPrefix, `metrics[0] "ratio"`, `successCondition "result[0] >="`, "unexpected token EOF", "fix the expression"} {
		if !strings.Contains(run.Status.Message, want) {
			t.Errorf("message %q does not contain %q", run.Status.Message, want)
		}
	}
	if res := run.Status.MetricResults[0]; res.Phase != v1alpha1.AnalysisPhaseError || len(res.Measurements) != 0 {
		t.Errorf("metric result %+v: want Error without a measurement", res)
	}
}

func TestAnalysisRunLimitsAndDryRun(t *testing.T) {
	ns := namespace(t)
	var ratio atomic.Value
	ratio.Store(0.2)
	srv := ratioServer(t, &ratio)

	t.Run("failureLimit", func(t *testing.T) {
		m := webMetric("ratio", srv.URL, "result < 0.05")
		m.Interval, m.Count, m.FailureLimit = "1s", ptr.To(intstr.FromInt32(5)), ptr.To(intstr.FromInt32(1))
		run := waitRun(t, createRun(t, ns, "failure-limit", v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{m}}), 30*time.Second)
		res := run.Status.MetricResults[0]
		if run.Status.Phase != v1alpha1.AnalysisPhaseFailed || res.Failed != 2 || res.Count != 2 {
			t.Fatalf("run %s %q, result %+v: want Failed after 2 failures", run.Status.Phase, run.Status.Message, res)
		}
		for _, want := range []string{"metric ratio is Failed", "more than failureLimit 1", "last measured 0.2"} {
			if !strings.Contains(run.Status.Message, want) {
				t.Errorf("message %q does not contain %q", run.Status.Message, want)
			}
		}
	})
	t.Run("consecutiveErrorLimit", func(t *testing.T) {
		m := webMetric("down", srv.URL+"/down", "result < 0.05")
		m.Interval, m.ConsecutiveErrorLimit = "1s", ptr.To(intstr.FromInt32(1))
		run := waitRun(t, createRun(t, ns, "errors", v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{m}}), 30*time.Second)
		res := run.Status.MetricResults[0]
		if run.Status.Phase != v1alpha1.AnalysisPhaseError || res.Error != 2 || res.Count != 0 ||
			!strings.Contains(run.Status.Message, "500 Internal Server Error: backend down") {
			t.Fatalf("run %s %q, result %+v: want Error after 2 errors in a row", run.Status.Phase, run.Status.Message, res)
		}
	})
	t.Run("dryRun", func(t *testing.T) {
		failing := webMetric("failing", srv.URL, "result < 0.05")
		passing := webMetric("passing", srv.URL, "result < 0.5")
		run := waitRun(t, createRun(t, ns, "dry-run", v1alpha1.AnalysisRunSpec{
			Metrics: []v1alpha1.Metric{failing, passing}, DryRun: []v1alpha1.DryRun{{MetricName: "failing"}},
		}), 30*time.Second)
		if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || !strings.Contains(run.Status.Message, "dry run, not deciding: failing is Failed") {
			t.Fatalf("run %s %q: want Successful, mentioning the dry-run failure", run.Status.Phase, run.Status.Message)
		}
		if res := run.Status.MetricResults[0]; !res.DryRun || res.Phase != v1alpha1.AnalysisPhaseFailed {
			t.Errorf("dry-run metric result %+v", res)
		}
	})
}

func TestAnalysisRunSecretsNeverReachStatus(t *testing.T) {
	ns := namespace(t)
	const token = "tok-3f9c1e"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A server that echoes what it was sent in its error, as many do.
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "bad credentials: "+r.Header.Get("Authorization")+" "+r.URL.RawQuery)
	}))
	t.Cleanup(srv.Close)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: ns}, StringData: map[string]string{"token": token}}
	if err := k8s.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	m := v1alpha1.Metric{Name: "authed", SuccessCondition: "result == true", ConsecutiveErrorLimit: ptr.To(intstr.FromInt32(0)),
		Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: srv.URL + "/?token={{args.token}}",
			Headers: []v1alpha1.WebMetricHeader{{Key: "Authorization", Value: "Bearer {{args.token}}"}}}}}
	run := waitRun(t, createRun(t, ns, "secret", v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{m},
		Args: []v1alpha1.Argument{{Name: "token", ValueFrom: &v1alpha1.ValueFrom{SecretKeyRef: &v1alpha1.SecretKeyRef{Name: "api", Key: "token"}}}},
	}), 30*time.Second)
	status, _ := json.Marshal(run.Status)
	if strings.Contains(string(status), token) {
		t.Fatalf("the secret reached the status: %s", status)
	}
	if run.Status.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(string(status), "bad credentials: Bearer "+analysis.Mask) {
		t.Fatalf("run %s: %s: want an Error showing the masked request", run.Status.Phase, status)
	}

	// A missing Secret is found when the run starts, with the fix.
	run = waitRun(t, createRun(t, ns, "no-secret", v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{m},
		Args: []v1alpha1.Argument{{Name: "token", ValueFrom: &v1alpha1.ValueFrom{SecretKeyRef: &v1alpha1.SecretKeyRef{Name: "nope", Key: "token"}}}},
	}), 10*time.Second)
	if run.Status.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(run.Status.Message, `Secret "nope" not found`) {
		t.Fatalf("run %s %q: want an Error naming the missing Secret", run.Status.Phase, run.Status.Message)
	}
}

func TestAnalysisRunTerminateStopsMeasuring(t *testing.T) {
	ns := namespace(t)
	var ratio atomic.Value
	ratio.Store(0.01)
	srv := ratioServer(t, &ratio)
	m := webMetric("forever", srv.URL, "result < 0.05")
	m.Interval = "1s" // no count: until terminated
	run := createRun(t, ns, "terminate", v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{m}})
	eventually(t, 20*time.Second, "two measurements", func() (bool, string) {
		var got v1alpha1.AnalysisRun
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(run), &got)
		return len(got.Status.MetricResults) == 1 && got.Status.MetricResults[0].Count >= 2, fmt.Sprintf("%+v", got.Status)
	})
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"terminate":true}}`))
	if err := k8s.Patch(context.Background(), run, patch); err != nil {
		t.Fatal(err)
	}
	done := waitRun(t, run, 10*time.Second)
	if done.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || !strings.HasPrefix(done.Status.Message, "terminated") {
		t.Fatalf("terminated run %s %q", done.Status.Phase, done.Status.Message)
	}
	count := done.Status.MetricResults[0].Count
	// No measurement after the end: the status stays as it was for a few intervals.
	deadline := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(deadline) {
		var got v1alpha1.AnalysisRun
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(run), &got)
		if got.Status.MetricResults[0].Count != count {
			t.Fatalf("a terminated run measured again: %d then %d", count, got.Status.MetricResults[0].Count)
		}
		time.Sleep(250 * time.Millisecond) // poll interval
	}
}

func TestAnalysisRunJobMetric(t *testing.T) {
	ns := namespace(t)
	job := func(name string) v1alpha1.Metric {
		return v1alpha1.Metric{Name: name, Provider: v1alpha1.MetricProvider{Job: &v1alpha1.JobMetric{
			Metadata: v1alpha1.JobMetadata{Labels: map[string]string{"team": "web"}},
			Spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](0), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "smoke", Image: "smoke:1"}},
			}}},
		}}}
	}
	waitJob := func(run *v1alpha1.AnalysisRun, name string) *batchv1.Job {
		t.Helper()
		var j batchv1.Job
		eventually(t, 20*time.Second, "Job "+name, func() (bool, string) {
			err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &j)
			return err == nil, fmt.Sprint(err)
		})
		if !metav1.IsControlledBy(&j, run) || j.Labels[v1alpha1.AnalysisRunLabel] != run.Name || j.Labels[v1alpha1.MetricLabel] != "smoke" || j.Labels["team"] != "web" {
			t.Fatalf("Job %s: owner %v labels %v", name, j.OwnerReferences, j.Labels)
		}
		return &j
	}
	// finish plays the Job controller.
	finish := func(j *batchv1.Job, failed bool) {
		t.Helper()
		now := metav1.Now()
		j.Status.StartTime = &now
		if failed {
			j.Status.Failed = 1
			j.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
				{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
			}
		}
		if err := k8s.Status().Update(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}

	run := createRun(t, ns, "job-fails", v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{job("smoke")}})
	finish(waitJob(run, "job-fails-smoke-1"), true)
	done := waitRun(t, run, 20*time.Second)
	meas := done.Status.MetricResults[0].Measurements
	if done.Status.Phase != v1alpha1.AnalysisPhaseFailed || len(meas) != 1 || !strings.Contains(meas[0].Message, "BackoffLimitExceeded") ||
		meas[0].Metadata[analysis.JobNameKey] != "job-fails-smoke-1" {
		t.Fatalf("run %s %q, measurements %+v", done.Status.Phase, done.Status.Message, meas)
	}

	// A terminated run deletes the Job it is waiting for.
	run = createRun(t, ns, "job-terminated", v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{job("smoke")}})
	waitJob(run, "job-terminated-smoke-1")
	if err := k8s.Patch(context.Background(), run, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"terminate":true}}`))); err != nil {
		t.Fatal(err)
	}
	done = waitRun(t, run, 20*time.Second)
	if done.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || !strings.HasPrefix(done.Status.Message, "terminated") {
		t.Fatalf("terminated run %s %q", done.Status.Phase, done.Status.Message)
	}
	eventually(t, 10*time.Second, "the Job of the terminated run to be deleted", func() (bool, string) {
		var j batchv1.Job
		err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "job-terminated-smoke-1"}, &j)
		return apierrors.IsNotFound(err) || j.DeletionTimestamp != nil, fmt.Sprintf("%v finalizers %v status %+v", err, j.Finalizers, done.Status.MetricResults)
	})
}
