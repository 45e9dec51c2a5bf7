package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
	"github.com/bluegreen-dev/bluegreen/test/prometheus"
)

// errorRatioQuery is the query of the analysis tests: the error ratio the exporter
// reports for one revision, by its pod template hash.
const errorRatioQuery = `max(error_ratio{hash="{{args.hash}}"})`

// errorRatioTemplate is an AnalysisTemplate that passes while the revision's error ratio
// stays below 5%, measured every second by the Prometheus at address.
func (e *env) errorRatioTemplate(name, address string, count int32) *v1alpha1.AnalysisTemplate {
	return &v1alpha1.AnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Spec: v1alpha1.AnalysisTemplateSpec{
			Args: []v1alpha1.Argument{{Name: "hash"}},
			Metrics: []v1alpha1.Metric{{
				Name:             "error-ratio",
				Interval:         "1s",
				Count:            ptr.To(intstr.FromInt32(count)),
				SuccessCondition: "result[0] < 0.05",
				Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{
					Address: address, Query: errorRatioQuery,
				}},
			}},
		},
	}
}

// latestHash is the gate argument hash: the revision under analysis.
func latestHash(template string) *v1alpha1.RolloutAnalysis {
	latest := v1alpha1.Latest
	return &v1alpha1.RolloutAnalysis{
		Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: template}},
		Args: []v1alpha1.AnalysisRunArgument{{Name: "hash",
			ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: &latest}}},
	}
}

// newRevision changes the image and returns the new revision's hash once the Rollout
// reports it.
func (e *env) newRevision(name, image, old string) string {
	e.t.Helper()
	e.setImage(name, image)
	var hash string
	e.eventually(settle, "the new revision's hash", func() (bool, string) {
		hash = e.get(name).Status.CurrentPodHash
		return hash != "" && hash != old, hash
	})
	return hash
}

// runs returns the AnalysisRuns of a Rollout's revision and gate.
func (e *env) runs(rollout, hash, gate string) []v1alpha1.AnalysisRun {
	e.t.Helper()
	var list v1alpha1.AnalysisRunList
	if err := e.k8s.List(e.ctx(), &list, client.InNamespace(e.ns), client.MatchingLabels{
		v1alpha1.RolloutLabel: rollout, v1alpha1.PodTemplateHashLabel: hash, v1alpha1.AnalysisTypeLabel: gate,
	}); err != nil {
		e.t.Fatal(err)
	}
	return list.Items
}

// eventMessages returns the notes of the events about a Rollout with a reason.
func (e *env) eventMessages(name, reason string) []string {
	e.t.Helper()
	var list eventsv1.EventList
	if err := e.k8s.List(e.ctx(), &list, client.InNamespace(e.ns)); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range list.Items {
		if ev.Regarding.Kind == "Rollout" && ev.Regarding.Name == name && ev.Reason == reason {
			out = append(out, ev.Note)
		}
	}
	return out
}

// checkAnalysisAbort checks that the Rollout is aborted by analysis, that its status names
// the run, the metric, the measured value, the condition and the query, and that an
// event carries the same.
func (e *env) checkAnalysisAbort(name, gate, hash, metric, value, condition string) {
	e.t.Helper()
	ro := e.waitPhase(name, v1alpha1.PhaseDegraded, settle)
	a := ro.Status.Abort
	if a == nil || a.By != v1alpha1.AbortByAnalysis || a.Revision != hash || a.Analysis == nil {
		e.t.Fatalf("status.abort %+v: want an abort of %s by Analysis", a, hash)
	}
	d := a.Analysis
	runs := e.runs(name, hash, gate)
	if len(runs) == 0 || d.RunName != runs[len(runs)-1].Name || d.Phase != v1alpha1.AnalysisPhaseFailed ||
		d.MetricName != metric || (value != "" && d.Value != value) || d.Condition != condition {
		e.t.Fatalf("status.abort.analysis %+v: want run of %s, metric %s, value %s, condition %s", d, gate, metric, value, condition)
	}
	if gate != "" && strings.Contains(condition, "result[0]") && !strings.Contains(d.Query, `hash="`+hash+`"`) {
		e.t.Fatalf("status.abort.analysis.query %q does not show the query with the revision's hash %s", d.Query, hash)
	}
	wants := []string{metric, value}
	if condition != "" {
		wants = append(wants, condition, "query: "+d.Query)
	}
	for _, want := range wants {
		if !strings.Contains(a.Message, want) {
			e.t.Errorf("status.abort.message %q does not name %q", a.Message, want)
		}
	}
	e.eventually(10*time.Second, "an event that names the metric, the value, the condition and the query", func() (bool, string) {
		msgs := append(e.eventMessages(name, v1alpha1.EventRolloutAborted), e.eventMessages(name, v1alpha1.EventAnalysisRunFailed)...)
		for _, msg := range msgs {
			all := true
			for _, want := range wants {
				all = all && strings.Contains(msg, want)
			}
			if all {
				return true, ""
			}
		}
		return false, strings.Join(msgs, " | ")
	})
}

func TestPrePromotionAnalysisFailureAborts(t *testing.T) {
	e := newEnv(t)
	exporter := prometheus.NewExporterForTest(t)
	prom := prometheus.NewForTest(t, prometheus.Options{Targets: []string{exporter.Target()}})
	e.create(e.errorRatioTemplate("error-ratio", prom.URL, 3))
	e.services("shop")
	ro := e.rollout("shop", "shop:1", 2)
	ro.Spec.Strategy.BlueGreen.PrePromotionAnalysis = latestHash("error-ratio")
	e.create(ro)
	first := e.waitPhase("shop", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash
	exporter.Set("error_ratio", map[string]string{"hash": first}, 0.01)

	// The new revision fails: its error ratio is above the threshold, the old one's is not.
	second := e.newRevision("shop", "shop:2", first)
	exporter.Set("error_ratio", map[string]string{"hash": second}, 0.3)

	e.checkAnalysisAbort("shop", v1alpha1.AnalysisTypePrePromotion, second, "error-ratio", "[0.3]", "result[0] < 0.05")
	e.assertHealth("shop", "Degraded", "Failed")
	if got := e.selector("shop"); got != first {
		t.Fatalf("active selects %s after the failed pre-promotion analysis, want the old revision %s", got, first)
	}
	if got := e.selector("shop-preview"); got != second {
		t.Fatalf("preview selects %s, want the new revision %s", got, second)
	}
	run := e.runs("shop", second, v1alpha1.AnalysisTypePrePromotion)[0]
	e.assertRunHealth(run.Name, "Degraded")
	if run.Status.Phase != v1alpha1.AnalysisPhaseFailed || metav1.GetControllerOf(&run).Name != "shop" ||
		run.Spec.Args[0].Value == nil || *run.Spec.Args[0].Value != second {
		t.Fatalf("AnalysisRun %s: phase %s, args %+v, owner %v", run.Name, run.Status.Phase, run.Spec.Args, run.OwnerReferences)
	}
}

// TestPostPromotionAnalysisFailureSwitchesBack measures how long the operator takes from
// the failing measurement to the active Service selecting the stable revision again, by
// watching the AnalysisRun and the Service.
func TestPostPromotionAnalysisFailureSwitchesBack(t *testing.T) {
	e := newEnv(t)
	exporter := prometheus.NewExporterForTest(t)
	prom := prometheus.NewForTest(t, prometheus.Options{Targets: []string{exporter.Target()}})
	e.create(e.errorRatioTemplate("error-ratio", prom.URL, 10))
	e.services("cart")
	ro := e.rollout("cart", "cart:1", 2)
	ro.Spec.Strategy.BlueGreen.PostPromotionAnalysis = latestHash("error-ratio")
	ro.Spec.Strategy.BlueGreen.ScaleDownDelaySeconds = ptr.To[int32](60)
	e.create(ro)
	first := e.waitPhase("cart", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash
	watcher := e.watchRollback("cart", first)

	second := e.newRevision("cart", "cart:2", first)
	exporter.Set("error_ratio", map[string]string{"hash": second}, 0.4)
	e.eventually(settle, "the active Service to switch to the new revision", func() (bool, string) {
		got := e.selector("cart")
		return got == second, got
	})

	e.checkAnalysisAbort("cart", v1alpha1.AnalysisTypePostPromotion, second, "error-ratio", "[0.4]", "result[0] < 0.05")
	e.eventually(settle, "the active Service back on the stable revision", func() (bool, string) {
		got := e.selector("cart")
		return got == first, got
	})
	if rs := e.replicaSets("cart"); rs[first] != 2 {
		t.Fatalf("ReplicaSets %v: the stable revision must stay at 2", rs)
	}
	failedAt, backAt := watcher.wait(t, settle)
	t.Logf("failing measurement recorded → active Service back on the stable revision %s: %s", first, backAt.Sub(failedAt).Round(time.Millisecond))
}

// rollbackWatcher records when a run of a Rollout first records a Failed measurement, and
// when the active Service next selects the stable revision after that.
type rollbackWatcher struct {
	mu       sync.Mutex
	failedAt time.Time
	backAt   time.Time
	done     chan struct{}
	stop     context.CancelFunc
}

func (e *env) watchRollback(name, stable string) *rollbackWatcher {
	e.t.Helper()
	wc, err := client.NewWithWatch(e.c.Config, client.Options{Scheme: scheme})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &rollbackWatcher{done: make(chan struct{}), stop: cancel}
	runs, err := wc.Watch(ctx, &v1alpha1.AnalysisRunList{}, client.InNamespace(e.ns), client.MatchingLabels{v1alpha1.RolloutLabel: name})
	if err != nil {
		e.t.Fatal(err)
	}
	svcs, err := wc.Watch(ctx, &corev1.ServiceList{}, client.InNamespace(e.ns))
	if err != nil {
		e.t.Fatal(err)
	}
	go func() {
		defer runs.Stop()
		defer svcs.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-runs.ResultChan():
				run, ok := ev.Object.(*v1alpha1.AnalysisRun)
				if !ok || ev.Type == watch.Deleted {
					continue
				}
				for _, res := range run.Status.MetricResults {
					if res.Failed > 0 {
						w.mu.Lock()
						if w.failedAt.IsZero() {
							w.failedAt = time.Now()
						}
						w.mu.Unlock()
					}
				}
			case ev := <-svcs.ResultChan():
				svc, ok := ev.Object.(*corev1.Service)
				if !ok || svc.Name != name || svc.Spec.Selector[v1alpha1.PodTemplateHashLabel] != stable {
					continue
				}
				w.mu.Lock()
				if !w.failedAt.IsZero() && w.backAt.IsZero() {
					w.backAt = time.Now()
					close(w.done)
				}
				w.mu.Unlock()
			}
		}
	}()
	e.t.Cleanup(cancel)
	return w
}

func (w *rollbackWatcher) wait(t *testing.T, timeout time.Duration) (time.Time, time.Time) {
	t.Helper()
	select {
	case <-w.done:
	case <-time.After(timeout):
		t.Fatalf("the watch did not see a failed measurement followed by the switch back")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failedAt, w.backAt
}

func TestJobAnalysisWithAFailingPodAborts(t *testing.T) {
	e := newEnv(t)
	e.create(&v1alpha1.AnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke", Namespace: e.ns},
		Spec: v1alpha1.AnalysisTemplateSpec{Metrics: []v1alpha1.Metric{{
			Name: "smoke-test",
			Provider: v1alpha1.MetricProvider{Job: &v1alpha1.JobMetric{Spec: batchv1.JobSpec{
				BackoffLimit: ptr.To[int32](0),
				Template: corev1.PodTemplateSpec{
					// kwok makes this pod fail with exit code 1.
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{cluster.BehaviourLabel: cluster.BehaviourFail}},
					Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
						Containers: []corev1.Container{{Name: "smoke", Image: "smoke:1"}}},
				},
			}}},
		}}},
	})
	e.services("pay")
	ro := e.rollout("pay", "pay:1", 1)
	ro.Spec.Strategy.BlueGreen.PrePromotionAnalysis = &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "smoke"}}}
	e.create(ro)
	first := e.waitPhase("pay", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash
	second := e.newRevision("pay", "pay:2", first)

	e.checkAnalysisAbort("pay", v1alpha1.AnalysisTypePrePromotion, second, "smoke-test", "failed", "")
	if got := e.selector("pay"); got != first {
		t.Fatalf("active selects %s, want the stable %s", got, first)
	}
	run := e.runs("pay", second, v1alpha1.AnalysisTypePrePromotion)[0]
	var jobs batchv1.JobList
	if err := e.k8s.List(e.ctx(), &jobs, client.InNamespace(e.ns), client.MatchingLabels{v1alpha1.AnalysisRunLabel: run.Name}); err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 1 || !metav1.IsControlledBy(&jobs.Items[0], &run) || jobs.Items[0].Labels[v1alpha1.RolloutLabel] != "pay" {
		t.Fatalf("Jobs of run %s: %+v", run.Name, jobs.Items)
	}
	if msg := run.Status.MetricResults[0].Measurements[0].Message; !strings.Contains(msg, "failed") {
		t.Fatalf("the Job measurement's message %q does not say the Job failed", msg)
	}
}

func TestWebAnalysisPasses(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Query().Get("hash"))
		mu.Unlock()
		_, _ = fmt.Fprint(w, `{"status":"ok","checks":{"ratio":0.01}}`)
	}))
	t.Cleanup(srv.Close)
	e.create(&v1alpha1.AnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "health", Namespace: e.ns},
		Spec: v1alpha1.AnalysisTemplateSpec{
			Args: []v1alpha1.Argument{{Name: "hash"}},
			Metrics: []v1alpha1.Metric{{
				Name: "health", Interval: "1s", Count: ptr.To(intstr.FromInt32(2)),
				SuccessCondition: "result < 0.05",
				Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{
					URL: srv.URL + "/health?hash={{args.hash}}", JSONPath: "{$.checks.ratio}",
				}},
			}},
		},
	})
	e.services("web")
	ro := e.rollout("web", "web:1", 1)
	ro.Spec.Strategy.BlueGreen.PrePromotionAnalysis = latestHash("health")
	e.create(ro)
	first := e.waitPhase("web", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash
	second := e.newRevision("web", "web:2", first)

	done := e.waitPhase("web", v1alpha1.PhaseHealthy, settle)
	if done.Status.StableRS != second || e.selector("web") != second {
		t.Fatalf("after a passing web analysis: stable %s, active %s, want %s", done.Status.StableRS, e.selector("web"), second)
	}
	ref := done.Status.BlueGreen.PrePromotionAnalysisRunStatus
	if ref == nil || ref.Status != v1alpha1.AnalysisPhaseSuccessful {
		t.Fatalf("pre-promotion run %+v, want Successful", ref)
	}
	e.assertRunHealth(ref.Name, "Healthy")
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(asked, second) {
		t.Fatalf("the web metric asked for hashes %v, want %s", asked, second)
	}
}
