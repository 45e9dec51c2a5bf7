package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/config/argocd"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

// healthTimeout bounds how long a health assertion waits for a status write that races
// the fetch: callers assert a state the scenario has reached already.
const healthTimeout = 15 * time.Second

// fetch reads an object of ours as unstructured content, straight from the API server, as
// Argo CD and kstatus see it.
func (e *env) fetch(kind, name string) *unstructured.Unstructured {
	e.t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(kind))
	if err := e.k8s.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: name}, u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// assertHealth checks what Argo CD, with the health check of config/argocd, and kstatus
// say of a Rollout once the controller has observed its spec, and that the message says
// what happened and what to do: an InvalidSpec condition's field and fix, an abort's cause
// (metric and value) and the retry command, the promote command of a pause, the progress
// deadline.
func (e *env) assertHealth(name, argo string, want kstatus.Status) {
	e.t.Helper()
	checkArgoStatus(e.t, argo)
	switch want {
	case kstatus.CurrentStatus, kstatus.InProgressStatus, kstatus.FailedStatus:
	default:
		e.t.Fatalf("assertHealth: kstatus %q is none of Current, InProgress, Failed", want)
	}
	var (
		ro     v1alpha1.Rollout
		health argocd.Health
		ks     *kstatus.Result
	)
	e.eventually(healthTimeout, fmt.Sprintf("rollout %s to be %s for Argo CD and %s for kstatus", name, argo, want), func() (bool, string) {
		u := e.fetch("Rollout", name)
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ro); err != nil {
			e.t.Fatal(err)
		}
		if ro.Status.ObservedGeneration != ro.Generation {
			return false, fmt.Sprintf("generation %d not observed yet (observed %d)", ro.Generation, ro.Status.ObservedGeneration)
		}
		var err error
		if health, err = argocd.Evaluate(argocd.RolloutHealth, u.Object); err != nil {
			e.t.Fatalf("Argo CD's health check of rollout %s: %v", name, err)
		}
		if ks, err = kstatus.Compute(u); err != nil {
			e.t.Fatalf("kstatus of rollout %s: %v", name, err)
		}
		return health.Status == argo && ks.Status == want, fmt.Sprintf("phase %s (%s): Argo CD %s (%s), kstatus %s (%s)",
			ro.Status.Phase, ro.Status.Message, health.Status, health.Message, ks.Status, ks.Message)
	})

	e.t.Logf("rollout %s: Argo CD %s: %s; kstatus %s: %s", name, health.Status, health.Message, ks.Status, ks.Message)
	says := func(what, text string) {
		e.t.Helper()
		if text == "" || !strings.Contains(health.Message, text) {
			e.t.Errorf("rollout %s is %s: Argo CD's message %q does not give %s %q", name, argo, health.Message, what, text)
		}
	}
	command := func(verb string) string { return fmt.Sprintf("`kubectl bluegreen %s %s -n %s`", verb, name, e.ns) }
	invalid := meta.FindStatusCondition(ro.Status.Conditions, v1alpha1.ConditionInvalidSpec)
	progressing := meta.FindStatusCondition(ro.Status.Conditions, v1alpha1.ConditionProgressing)
	paused := meta.FindStatusCondition(ro.Status.Conditions, v1alpha1.ConditionPaused)
	switch {
	case argo == argocd.Degraded && invalid != nil && invalid.Status == metav1.ConditionTrue:
		says("the InvalidSpec condition's message", invalid.Message)
	case argo == argocd.Degraded && ro.Status.Abort != nil:
		a := ro.Status.Abort
		says("who aborted", string(a.By))
		says("the abort's message", a.Message)
		if a.Analysis != nil {
			says("the metric", a.Analysis.MetricName)
			says("the measured value", a.Analysis.Value)
		}
		says("the retry command", command("retry"))
	case argo == argocd.Degraded:
		if progressing == nil || progressing.Reason != v1alpha1.ReasonProgressDeadlineExceeded {
			e.t.Errorf("rollout %s is Degraded, neither invalid nor aborted, and its Progressing condition is %+v", name, progressing)
			break
		}
		says("the progress deadline", progressing.Message)
		says("the abort command", command("abort"))
	case argo == argocd.Suspended && paused != nil && paused.Reason != v1alpha1.ReasonPausedBySpec:
		says("why it waits", ro.Status.Message)
		says("the promote command", command("promote"))
		says("the abort command", command("abort"))
	case argo == argocd.Suspended:
		says("why it waits", ro.Status.Message)
		says("how to resume", "spec.paused to false")
		says("the resume command", command("resume"))
	default:
		says("the status message", ro.Status.Message)
	}
	// kstatus's message is the one of the condition it read.
	stalled := meta.FindStatusCondition(ro.Status.Conditions, v1alpha1.ConditionStalled)
	if want == kstatus.FailedStatus && (stalled == nil || ks.Message != stalled.Message || ks.Message == "") {
		e.t.Errorf("rollout %s is Failed for kstatus with message %q; its Stalled condition is %+v", name, ks.Message, stalled)
	}
}

// assertRunHealth checks what Argo CD, with the health check of config/argocd, says of an
// AnalysisRun, and that the message gives the run's own: the metric and the value of a
// failed run, the promote and abort commands of an inconclusive one, that a run was
// terminated. (kstatus has nothing to go on for an AnalysisRun, which has no conditions:
// it says Current of each.)
func (e *env) assertRunHealth(name, argo string) {
	e.t.Helper()
	checkArgoStatus(e.t, argo)
	var (
		run    v1alpha1.AnalysisRun
		health argocd.Health
	)
	e.eventually(healthTimeout, fmt.Sprintf("AnalysisRun %s to be %s for Argo CD", name, argo), func() (bool, string) {
		u := e.fetch("AnalysisRun", name)
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &run); err != nil {
			e.t.Fatal(err)
		}
		var err error
		if health, err = argocd.Evaluate(argocd.AnalysisRunHealth, u.Object); err != nil {
			e.t.Fatalf("Argo CD's health check of AnalysisRun %s: %v", name, err)
		}
		return health.Status == argo, fmt.Sprintf("phase %s (%s): Argo CD %s (%s)", run.Status.Phase, run.Status.Message, health.Status, health.Message)
	})
	e.t.Logf("AnalysisRun %s: Argo CD %s: %s", name, health.Status, health.Message)
	says := func(what, text string) {
		e.t.Helper()
		if text == "" || !strings.Contains(health.Message, text) {
			e.t.Errorf("AnalysisRun %s is %s: Argo CD's message %q does not give %s %q", name, argo, health.Message, what, text)
		}
	}
	if run.Status.Phase.Completed() {
		says("the run's message", run.Status.Message)
	}
	switch {
	case run.Status.Phase == v1alpha1.AnalysisPhaseInconclusive:
		rollout := run.Labels[v1alpha1.RolloutLabel]
		says("the promote command", fmt.Sprintf("`kubectl bluegreen promote %s -n %s`", rollout, e.ns))
		says("the abort command", fmt.Sprintf("`kubectl bluegreen abort %s -n %s`", rollout, e.ns))
	case run.Spec.Terminate:
		says("that the run was terminated", "terminated")
	}
}

func checkArgoStatus(t *testing.T, s string) {
	t.Helper()
	switch s {
	case argocd.Healthy, argocd.Progressing, argocd.Suspended, argocd.Degraded:
	default:
		t.Fatalf("%q is none of Argo CD's health statuses Healthy, Progressing, Suspended, Degraded", s)
	}
}

// waitRunning waits until a revision's pre-promotion AnalysisRun is Running, and returns its name.
func (e *env) waitRunning(rollout, hash string) string {
	e.t.Helper()
	var name string
	e.eventually(settle, "the pre-promotion AnalysisRun of "+hash+" to run", func() (bool, string) {
		runs := e.runs(rollout, hash, v1alpha1.AnalysisTypePrePromotion)
		if len(runs) == 0 {
			return false, "no run yet"
		}
		run := runs[len(runs)-1]
		name = run.Name
		return run.Status.Phase == v1alpha1.AnalysisPhaseRunning, fmt.Sprintf("%s is %s", run.Name, run.Status.Phase)
	})
	return name
}

// TestHealthOfInvalidSpecAndAnalysis carries a Rollout through the states no other
// scenario settles in, checking what Argo CD and kstatus say of it and of its AnalysisRuns:
// an invalid spec, an analysis that keeps running, an inconclusive one, spec.paused, and
// an analysis that its Rollout terminates.
func TestHealthOfInvalidSpecAndAnalysis(t *testing.T) {
	e := newEnv(t)
	var ratio atomic.Value // what the web metric measures
	ratio.Store("0.01")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, `{"ratio": %s}`, ratio.Load())
	}))
	t.Cleanup(srv.Close)
	e.create(&v1alpha1.AnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "ratio", Namespace: e.ns},
		Spec: v1alpha1.AnalysisTemplateSpec{Metrics: []v1alpha1.Metric{{
			// No count: measured every second until inconclusive, failed, or terminated.
			Name: "ratio", Interval: "1s",
			SuccessCondition: "result < 0.05", FailureCondition: "result > 0.5",
			Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: srv.URL, JSONPath: "{$.ratio}"}},
		}}},
	})
	ro := e.rollout("gitops", "gitops:1", 1)
	ro.Spec.Strategy.BlueGreen.PrePromotionAnalysis = &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "ratio"}}}

	// Created before its Services: the spec is invalid until they exist.
	e.create(ro)
	e.waitPhase("gitops", v1alpha1.PhaseDegraded, settle)
	e.assertHealth("gitops", "Degraded", "Failed")
	e.services("gitops")
	first := e.waitPhase("gitops", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash
	e.assertHealth("gitops", "Healthy", "Current")

	// While the pre-promotion analysis runs, the Rollout is on its way.
	second := e.newRevision("gitops", "gitops:2", first)
	run := e.waitRunning("gitops", second)
	e.assertRunHealth(run, "Progressing")
	e.assertHealth("gitops", "Progressing", "InProgress")

	// An inconclusive measurement pauses the Rollout until a person decides.
	ratio.Store("0.2")
	e.waitPhase("gitops", v1alpha1.PhasePaused, settle)
	e.assertRunHealth(run, "Suspended")
	e.assertHealth("gitops", "Suspended", "InProgress")
	e.annotate("gitops", v1alpha1.PromoteAnnotation)
	e.waitPhase("gitops", v1alpha1.PhaseHealthy, settle)
	e.assertHealth("gitops", "Healthy", "Current")

	// spec.paused with nothing in flight: Suspended for Argo CD, Current for kstatus (Ready
	// True: the stable revision serves, and nothing is on its way), so that Flux or kubectl
	// wait on a Rollout paused in Git do not wait forever.
	e.update("gitops", func(ro *v1alpha1.Rollout) { ro.Spec.Paused = true })
	e.waitPhase("gitops", v1alpha1.PhasePaused, settle)
	e.assertHealth("gitops", "Suspended", "Current")
	e.update("gitops", func(ro *v1alpha1.Rollout) { ro.Spec.Paused = false })
	e.waitPhase("gitops", v1alpha1.PhaseHealthy, settle)

	// A full promotion skips the analysis: the Rollout terminates the run, which ends Successful.
	ratio.Store("0.01")
	third := e.newRevision("gitops", "gitops:3", second)
	run = e.waitRunning("gitops", third)
	e.annotate("gitops", v1alpha1.PromoteFullAnnotation)
	e.waitPhase("gitops", v1alpha1.PhaseHealthy, settle)
	e.assertRunHealth(run, "Healthy")
}

// TestArgoCDConfigMapPatch runs the kubectl patch of config/argocd/README.md on a ConfigMap
// like Argo CD's: the health checks are added, Argo CD's own settings kept.
func TestArgoCDConfigMapPatch(t *testing.T) {
	e := newEnv(t)
	e.create(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "argocd-cm", Namespace: e.ns},
		Data:       map[string]string{"url": "https://argocd.example.com"},
	})
	root, err := cluster.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "config", "argocd")
	if out, err := e.kubectl("patch", "configmap", "argocd-cm", "--patch-file", filepath.Join(dir, "argocd-cm.yaml")); err != nil {
		t.Fatalf("kubectl patch: %v: %s", err, out)
	}
	var cm corev1.ConfigMap
	if err := e.k8s.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: "argocd-cm"}, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data["url"] != "https://argocd.example.com" {
		t.Errorf("the patch dropped Argo CD's own settings: %v", cm.Data)
	}
	for key, file := range map[string]string{
		"resource.customizations.health.rollouts.bluegreen.dev_Rollout":     "rollout-health.lua",
		"resource.customizations.health.rollouts.bluegreen.dev_AnalysisRun": "analysisrun-health.lua",
	} {
		want, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data[key] != string(want) {
			t.Errorf("after the patch, %s is not %s", key, file)
		}
	}
}
