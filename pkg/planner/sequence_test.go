package planner

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/diff"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the traces of this run")

// step is one turn of a sequence: the clock moves on, something happens in the world (a
// user edits the Rollout, an AnalysisRun finishes, pods crash), the world settles
// (ReplicaSets run their pods), and the planner decides.
type step struct {
	name    string
	advance time.Duration
	do      []func(*world)
}

type scenario struct {
	name  string
	spec  []func(*v1alpha1.Rollout)
	setup []func(*world) // before the first step
	steps []step
}

// runSequence plays a scenario, checks the invariant and idempotence at every step, and
// compares the trace with testdata/<name>.golden.
func runSequence(t *testing.T, sc scenario) {
	w := newWorld(t, sc.spec...)
	for _, f := range sc.setup {
		f(w)
	}
	var trace strings.Builder
	fmt.Fprintf(&trace, "# %s\n", sc.name)
	for i, st := range sc.steps {
		w.now = w.now.Add(st.advance)
		w.replicasChanged = false
		for _, f := range st.do {
			f(w)
		}
		w.settle()
		when := fmt.Sprintf("step %d (%s)", i+1, st.name)
		w.checkInvariant(when)

		d := w.plan()
		w.checkSwitches(d)
		w.apply(d)
		w.checkIdempotent(d, when)

		fmt.Fprintf(&trace, "\n== %d. %s: %s\n", i+1, offset(w.now), st.name)
		trace.WriteString("  actions:\n")
		if len(d.Actions) == 0 {
			trace.WriteString("    (none)\n")
		}
		for _, a := range d.Actions {
			fmt.Fprintf(&trace, "    %s\n", a)
		}
		trace.WriteString("  notes:\n")
		for _, n := range d.Notes {
			fmt.Fprintf(&trace, "    - %s\n", n)
		}
		trace.WriteString("  status:\n")
		trace.WriteString(describeStatus(d.Status))
		if d.RequeueAfter > 0 {
			fmt.Fprintf(&trace, "  requeue after %s\n", d.RequeueAfter)
		}
		trace.WriteString("  world:\n")
		trace.WriteString(w.describeWorld())
	}
	trace.WriteString("\nrevisions:\n")
	for _, h := range sortedKeys(w.images) {
		fmt.Fprintf(&trace, "  %s = %s\n", h, w.images[h])
	}
	got := relative(trace.String())

	path := filepath.Join("testdata", sc.name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/planner -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("trace differs from %s (go test ./pkg/planner -update rewrites it; review the diff):\n%s", path, diff.Diff(strings.Split(string(want), "\n"), strings.Split(got, "\n")))
	}
}

// Spec options.

func manualPromotion(ro *v1alpha1.Rollout) {
	ro.Spec.Strategy.BlueGreen.AutoPromotionEnabled = ptr(false)
}

func autoPromotionSeconds(n int32) func(*v1alpha1.Rollout) {
	return func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.BlueGreen.AutoPromotionSeconds = n }
}

func previewReplicaCount(n int32) func(*v1alpha1.Rollout) {
	return func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.BlueGreen.PreviewReplicaCount = ptr(n) }
}

func scaleDownDelay(n int32) func(*v1alpha1.Rollout) {
	return func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.BlueGreen.ScaleDownDelaySeconds = ptr(n) }
}

func scaleDownDelayRevisionLimit(n int32) func(*v1alpha1.Rollout) {
	return func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.BlueGreen.ScaleDownDelayRevisionLimit = ptr(n) }
}

func abortScaleDownDelay(n int32) func(*v1alpha1.Rollout) {
	return func(ro *v1alpha1.Rollout) { ro.Spec.Strategy.BlueGreen.AbortScaleDownDelaySeconds = ptr(n) }
}

func rollbackWindow(n int32) func(*v1alpha1.Rollout) {
	return func(ro *v1alpha1.Rollout) { ro.Spec.RollbackWindow = &v1alpha1.RollbackWindowSpec{Revisions: n} }
}

func revisionHistoryLimit(n int32) func(*v1alpha1.Rollout) {
	return func(ro *v1alpha1.Rollout) { ro.Spec.RevisionHistoryLimit = ptr(n) }
}

func progressDeadline(n int32, abort bool) func(*v1alpha1.Rollout) {
	return func(ro *v1alpha1.Rollout) {
		ro.Spec.ProgressDeadlineSeconds = ptr(n)
		ro.Spec.ProgressDeadlineAbort = abort
	}
}

var analysis = &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "success-rate"}}}

func preAnalysis(ro *v1alpha1.Rollout)  { ro.Spec.Strategy.BlueGreen.PrePromotionAnalysis = analysis }
func postAnalysis(ro *v1alpha1.Rollout) { ro.Spec.Strategy.BlueGreen.PostPromotionAnalysis = analysis }

func runHistory(successful, unsuccessful int32) func(*v1alpha1.Rollout) {
	return func(ro *v1alpha1.Rollout) {
		ro.Spec.Analysis = &v1alpha1.AnalysisRunStrategy{SuccessfulRunHistoryLimit: ptr(successful), UnsuccessfulRunHistoryLimit: ptr(unsuccessful)}
	}
}

func roleMetadata(ro *v1alpha1.Rollout) {
	ro.Spec.Strategy.BlueGreen.ActiveMetadata = &v1alpha1.PodTemplateMetadata{Labels: map[string]string{"role": "active"}}
	ro.Spec.Strategy.BlueGreen.PreviewMetadata = &v1alpha1.PodTemplateMetadata{Labels: map[string]string{"role": "preview"}, Annotations: map[string]string{"preview": "true"}}
}

// World events.

// edit changes the Rollout's spec, as kubectl apply would: the generation moves on.
func edit(f func(*v1alpha1.Rollout)) func(*world) {
	return func(w *world) {
		f(w.rollout)
		w.rollout.Generation++
	}
}

func setImage(image string) func(*world) {
	return edit(func(ro *v1alpha1.Rollout) { ro.Spec.Template = podTemplate(image) })
}

func setReplicas(n int32) func(*world) {
	return func(w *world) {
		edit(func(ro *v1alpha1.Rollout) { ro.Spec.Replicas = ptr(n) })(w)
		w.replicasChanged = true
	}
}

// restartAt sets spec.restartAt to the world's time plus d.
func restartAt(d time.Duration) func(*world) {
	return func(w *world) {
		at := metav1.NewTime(w.now.Add(d))
		edit(func(ro *v1alpha1.Rollout) { ro.Spec.RestartAt = &at })(w)
	}
}

// lagEndpoints makes the endpoint controller stop (true) or catch up (false).
func lagEndpoints(lag bool) func(*world) { return func(w *world) { w.endpointsLag = lag } }

func setPaused(paused bool) func(*world) {
	return edit(func(ro *v1alpha1.Rollout) { ro.Spec.Paused = paused })
}

// request writes an intent annotation for the current revision, as the CLI does.
func request(key string) func(*world) {
	return func(w *world) { requestFor(key, w.rollout.Status.CurrentPodHash)(w) }
}

func requestFor(key, hash string) func(*world) {
	return func(w *world) {
		if w.rollout.Annotations == nil {
			w.rollout.Annotations = map[string]string{}
		}
		w.rollout.Annotations[key] = hash
	}
}

// requestForImage writes an intent for the revision of another template.
func requestForImage(key, image string) func(*world) {
	return func(w *world) { requestFor(key, ComputeHash(podTemplate(image), w.rollout.Status.CollisionCount))(w) }
}

// runEnds finishes the newest run of a gate of the current revision.
func runEnds(kind string, phase v1alpha1.AnalysisPhase) func(*world) {
	return func(w *world) {
		var run *v1alpha1.AnalysisRun
		for _, name := range sortedKeys(w.runs) {
			r := w.runs[name]
			if r.Labels[v1alpha1.PodTemplateHashLabel] == w.rollout.Status.CurrentPodHash && r.Labels[v1alpha1.AnalysisTypeLabel] == kind {
				if run == nil || r.CreationTimestamp.After(run.CreationTimestamp.Time) || (r.CreationTimestamp.Equal(&run.CreationTimestamp) && r.Name > run.Name) {
					run = r
				}
			}
		}
		if run == nil {
			w.t.Fatalf("no %s run of %s", kind, w.rollout.Status.CurrentPodHash)
		}
		run.Status.Phase = phase
		run.Status.CompletedAt = ptr(metav1.NewTime(w.now))
		result := v1alpha1.MetricResult{Name: "success-rate", Phase: phase, Count: 3}
		switch phase {
		case v1alpha1.AnalysisPhaseSuccessful:
			result.Successful = 3
			result.Measurements = []v1alpha1.Measurement{{Phase: phase, Value: "[0.99]"}}
		case v1alpha1.AnalysisPhaseFailed:
			result.Failed = 1
			result.Measurements = []v1alpha1.Measurement{{Phase: phase, Value: "[0.42]"}}
			run.Status.Message = "metric success-rate failed"
		case v1alpha1.AnalysisPhaseError:
			result.Error, result.ConsecutiveError = 5, 5
			result.Measurements = []v1alpha1.Measurement{{Phase: phase, Message: "query returned no data"}}
			run.Status.Message = "metric success-rate errored"
		case v1alpha1.AnalysisPhaseInconclusive:
			result.Inconclusive = 1
			result.Measurements = []v1alpha1.Measurement{{Phase: phase, Value: "[0.9]"}}
		}
		run.Status.MetricResults = []v1alpha1.MetricResult{result}
	}
}

func runsRunning(w *world) {
	for _, run := range w.runs {
		if run.Status.Phase == "" {
			run.Status.Phase = v1alpha1.AnalysisPhaseRunning
		}
	}
}

// capAvailable makes at most n pods of an image available (pods that are not ready).
func capAvailable(image string, n int32) func(*world) {
	return func(w *world) { w.availableCap[image] = n }
}

func uncap(image string) func(*world) {
	return func(w *world) { delete(w.availableCap, image) }
}

func deleteService(name string) func(*world) {
	return func(w *world) { delete(w.services, name) }
}

func setServiceSelector(name, key, value string) func(*world) {
	return func(w *world) { w.services[name].Spec.Selector[key] = value }
}

func setServiceAnnotation(name, key, value string) func(*world) {
	return func(w *world) {
		w.services[name].Annotations = patchMap(w.services[name].Annotations, map[string]*string{key: ptr(value)})
	}
}

// collide puts an owned ReplicaSet with the hash of image's template, but another
// template, in the world: a pod template hash collision.
func collide(image string) func(*world) {
	return func(w *world) {
		h := ComputeHash(podTemplate(image), w.rollout.Status.CollisionCount)
		other := podTemplate("other:v0")
		other.Labels[v1alpha1.PodTemplateHashLabel] = h
		w.rss["demo-"+h] = &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{
				Name: "demo-" + h, Namespace: "default", Generation: 1, CreationTimestamp: metav1.NewTime(w.now),
				Labels:          map[string]string{"app": "demo", v1alpha1.PodTemplateHashLabel: h},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Rollout", Name: "demo", UID: "uid-demo", Controller: ptr(true)}},
			},
			Spec: appsv1.ReplicaSetSpec{
				Replicas: ptr(int32(0)),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "demo", v1alpha1.PodTemplateHashLabel: h}},
				Template: *other,
			},
		}
		w.images[h] = "other:v0"
	}
}

func useWorkloadRef(w *world) {
	edit(func(ro *v1alpha1.Rollout) {
		ro.Spec.Template = nil
		ro.Spec.WorkloadRef = &v1alpha1.ObjectRef{Kind: "Deployment", Name: "demo"}
	})(w)
}

// on builds a step.
func on(name string, advance time.Duration, do ...func(*world)) step {
	return step{name: name, advance: advance, do: do}
}

// deployed is the steps that take a fresh world to a Healthy first revision.
func deployed() []step {
	return []step{
		on("the Rollout is created", 0),
		on("the first revision's pods are available", 10*time.Second),
	}
}

func steps(groups ...[]step) []step {
	var out []step
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
