package planner

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/diff"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// t0 is when every scenario starts.
var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// world is a fake cluster for one Rollout: it applies a Decision's actions the way the
// controller would, and moves forward the way ReplicaSets, pods and AnalysisRuns would.
type world struct {
	t        *testing.T
	now      time.Time
	rollout  *v1alpha1.Rollout
	rss      map[string]*appsv1.ReplicaSet
	services map[string]*corev1.Service
	runs     map[string]*v1alpha1.AnalysisRun
	pods     map[string]*corev1.Pod
	// availableCap limits the available pods of a revision, by image: pods that never
	// become ready, or crash-loop. Absent: every pod becomes available.
	availableCap map[string]int32
	// images maps each pod template hash seen to its image, for the legend of the trace.
	images map[string]string
	// replicasChanged is set by a step that changes spec.replicas: until the planner scales
	// the active revision, it may have fewer available pods than replicas.
	replicasChanged bool
	// activeSlice is the active Service's EndpointSlice; endpointsLag keeps it as it is,
	// as an endpoint controller that has not caught up with a switch would.
	activeSlice  *discoveryv1.EndpointSlice
	endpointsLag bool
}

func newWorld(t *testing.T, opts ...func(*v1alpha1.Rollout)) *world {
	ro := &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "default", UID: "uid-demo", Generation: 1},
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "demo"}},
			Template: podTemplate("demo:v1"),
			Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{
				ActiveService:  "demo-active",
				PreviewService: "demo-preview",
			}},
		},
	}
	for _, o := range opts {
		o(ro)
	}
	w := &world{
		t: t, now: t0, rollout: ro,
		rss: map[string]*appsv1.ReplicaSet{}, services: map[string]*corev1.Service{},
		runs: map[string]*v1alpha1.AnalysisRun{}, pods: map[string]*corev1.Pod{},
		availableCap: map[string]int32{}, images: map[string]string{},
	}
	for _, name := range []string{"demo-active", "demo-preview"} {
		w.services[name] = &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "demo"}},
		}
	}
	return w
}

func podTemplate(image string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "demo"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: image,
			Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
		}}},
	}
}

func imageOf(t *corev1.PodTemplateSpec) string { return t.Spec.Containers[0].Image }

// input gathers the Input as the controller would, from copies of the world's objects.
func (w *world) input() Input {
	in := Input{
		Rollout:  w.rollout.DeepCopy(),
		Template: w.rollout.Spec.Template.DeepCopy(),
		Now:      w.now,
	}
	if w.rollout.Spec.WorkloadRef != nil {
		in.Template, in.WorkloadMissing = nil, "spec.workloadRef: Deployment \"demo\" not found in namespace \"default\": create it or fix the name"
	}
	for _, name := range sortedKeys(w.rss) {
		in.ReplicaSets = append(in.ReplicaSets, w.rss[name].DeepCopy())
	}
	bg := w.rollout.Spec.Strategy.BlueGreen
	if svc := w.services[bg.ActiveService]; svc != nil {
		in.ActiveService = svc.DeepCopy()
	}
	if svc := w.services[bg.PreviewService]; svc != nil && bg.PreviewService != "" {
		in.PreviewService = svc.DeepCopy()
	}
	for _, name := range sortedKeys(w.runs) {
		in.AnalysisRuns = append(in.AnalysisRuns, w.runs[name].DeepCopy())
	}
	for _, name := range sortedKeys(w.pods) {
		in.Pods = append(in.Pods, w.pods[name].DeepCopy())
	}
	if w.activeSlice != nil {
		in.ActiveEndpointSlices = []*discoveryv1.EndpointSlice{w.activeSlice.DeepCopy()}
	}
	return in
}

// plan runs Plan and checks that it did not modify its Input.
func (w *world) plan() Decision {
	w.t.Helper()
	in := w.input()
	before := copyInput(in)
	d := Plan(in)
	if !reflect.DeepEqual(copyInput(in), before) {
		w.t.Fatalf("Plan modified its input:\n%s", diff.Diff(before, copyInput(in)))
	}
	return d
}

func copyInput(in Input) Input {
	out := in
	out.Rollout = in.Rollout.DeepCopy()
	out.Template = in.Template.DeepCopy()
	out.ReplicaSets = nil
	for _, rs := range in.ReplicaSets {
		out.ReplicaSets = append(out.ReplicaSets, rs.DeepCopy())
	}
	out.ActiveService, out.PreviewService = in.ActiveService.DeepCopy(), in.PreviewService.DeepCopy()
	out.AnalysisRuns, out.Pods, out.ActiveEndpointSlices = nil, nil, nil
	for _, s := range in.ActiveEndpointSlices {
		out.ActiveEndpointSlices = append(out.ActiveEndpointSlices, s.DeepCopy())
	}
	for _, r := range in.AnalysisRuns {
		out.AnalysisRuns = append(out.AnalysisRuns, r.DeepCopy())
	}
	for _, p := range in.Pods {
		out.Pods = append(out.Pods, p.DeepCopy())
	}
	return out
}

// apply carries out a Decision: every action, then the status.
func (w *world) apply(d Decision) {
	w.t.Helper()
	for _, a := range d.Actions {
		switch a := a.(type) {
		case CreateReplicaSet:
			if _, ok := w.rss[a.ReplicaSet.Name]; ok {
				w.t.Fatalf("%s: ReplicaSet exists", a)
			}
			rs := a.ReplicaSet.DeepCopy()
			rs.Generation = 1
			rs.CreationTimestamp = metav1.NewTime(w.now)
			w.rss[rs.Name] = rs
			w.images[hashOf(rs)] = imageOf(&rs.Spec.Template)
		case ScaleReplicaSet:
			rs := w.mustRS(a.Name)
			rs.Spec.Replicas = ptr(a.Replicas)
			rs.Generation++
		case AnnotateReplicaSet:
			rs := w.mustRS(a.Name)
			rs.Annotations = patchMap(rs.Annotations, a.Annotations)
		case PatchReplicaSetPodMetadata:
			rs := w.mustRS(a.Name)
			rs.Spec.Template.Labels = patchMap(rs.Spec.Template.Labels, a.Labels)
			rs.Spec.Template.Annotations = patchMap(rs.Spec.Template.Annotations, a.Annotations)
		case DeleteReplicaSet:
			rs := w.mustRS(a.Name)
			delete(w.rss, a.Name)
			for name, pod := range w.pods {
				if pod.Labels[v1alpha1.PodTemplateHashLabel] == hashOf(rs) {
					delete(w.pods, name)
				}
			}
		case SwitchService:
			svc := w.services[a.Service]
			if svc == nil {
				w.t.Fatalf("%s: no such Service", a)
			}
			svc.Spec.Selector = patchMap(svc.Spec.Selector, map[string]*string{v1alpha1.PodTemplateHashLabel: ptr(a.Hash)})
			svc.Annotations = patchMap(svc.Annotations, map[string]*string{v1alpha1.ManagedByAnnotation: ptr(w.rollout.Name)})
		case StartAnalysisRun:
			if _, ok := w.runs[a.Name]; ok {
				w.t.Fatalf("%s: AnalysisRun exists", a)
			}
			w.runs[a.Name] = &v1alpha1.AnalysisRun{
				ObjectMeta: metav1.ObjectMeta{Name: a.Name, Namespace: "default", CreationTimestamp: metav1.NewTime(w.now), Labels: map[string]string{
					v1alpha1.RolloutLabel: w.rollout.Name, v1alpha1.PodTemplateHashLabel: a.Revision, v1alpha1.AnalysisTypeLabel: a.Type,
				}},
				Spec: v1alpha1.AnalysisRunSpec{
					Args: []v1alpha1.Argument{{Name: "service", Value: ptr("demo-preview")}},
					Metrics: []v1alpha1.Metric{{
						Name: "success-rate", SuccessCondition: "result[0] >= 0.95",
						Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Query: `sum(rate(http_ok{service="{{args.service}}"}[1m]))`}},
					}},
				},
			}
		case TerminateAnalysisRun:
			w.mustRun(a.Name).Spec.Terminate = true
		case DeleteAnalysisRun:
			w.mustRun(a.Name)
			delete(w.runs, a.Name)
		case PatchPodMetadata:
			pod := w.pods[a.Pod]
			if pod == nil {
				w.t.Fatalf("%s: no such pod", a)
			}
			pod.Labels = patchMap(pod.Labels, a.Labels)
			pod.Annotations = patchMap(pod.Annotations, a.Annotations)
		case DeletePod:
			if w.pods[a.Name] == nil {
				w.t.Fatalf("%s: no such pod", a)
			}
			delete(w.pods, a.Name)
		case RemoveAnnotation:
			if _, ok := w.rollout.Annotations[a.Key]; !ok {
				w.t.Fatalf("%s: not there", a)
			}
			delete(w.rollout.Annotations, a.Key)
		case RecordEvent:
		default:
			w.t.Fatalf("unexpected action %s", a)
		}
	}
	w.rollout.Status = *d.Status.DeepCopy()
}

func (w *world) mustRS(name string) *appsv1.ReplicaSet {
	w.t.Helper()
	rs := w.rss[name]
	if rs == nil {
		w.t.Fatalf("no ReplicaSet %s", name)
	}
	return rs
}

func (w *world) mustRun(name string) *v1alpha1.AnalysisRun {
	w.t.Helper()
	run := w.runs[name]
	if run == nil {
		w.t.Fatalf("no AnalysisRun %s", name)
	}
	return run
}

func patchMap(m map[string]string, patch map[string]*string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// settle moves the world forward: each ReplicaSet catches up with its spec, runs that many
// pods, and all of them are available unless the revision's availability is capped.
func (w *world) settle() {
	for _, rs := range w.rss {
		n := *rs.Spec.Replicas
		h := hashOf(rs)
		for i := int32(0); i < n; i++ {
			name := fmt.Sprintf("%s-%d", rs.Name, i)
			if _, ok := w.pods[name]; !ok {
				w.pods[name] = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
					Name: name, Namespace: "default", CreationTimestamp: metav1.NewTime(w.now),
					Labels:      patchMap(rs.Spec.Template.Labels, nil),
					Annotations: patchMap(rs.Spec.Template.Annotations, nil),
				}}
			}
		}
		for name, pod := range w.pods {
			var i int32
			if pod.Labels[v1alpha1.PodTemplateHashLabel] != h {
				continue
			}
			if _, err := fmt.Sscanf(strings.TrimPrefix(name, rs.Name+"-"), "%d", &i); err == nil && i >= n {
				delete(w.pods, name)
			}
		}
		available := n
		if c, ok := w.availableCap[imageOf(&rs.Spec.Template)]; ok && c < available {
			available = c
		}
		for i := int32(0); i < n; i++ {
			pod := w.pods[fmt.Sprintf("%s-%d", rs.Name, i)]
			ready := corev1.ConditionFalse
			if i < available {
				ready = corev1.ConditionTrue
			}
			pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}}
		}
		rs.Status = appsv1.ReplicaSetStatus{
			Replicas: n, ReadyReplicas: available, AvailableReplicas: available, FullyLabeledReplicas: n,
			ObservedGeneration: rs.Generation,
		}
	}
	w.syncEndpoints()
}

// syncEndpoints plays the endpoint controller: the active Service's EndpointSlice lists the
// pods its selector matches, unless the world lets it lag behind a switch.
func (w *world) syncEndpoints() {
	if w.endpointsLag {
		return
	}
	svc := w.services[w.rollout.Spec.Strategy.BlueGreen.ActiveService]
	if svc == nil {
		w.activeSlice = nil
		return
	}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: svc.Name + "-abcde", Namespace: "default"}}
	for _, name := range sortedKeys(w.pods) {
		pod := w.pods[name]
		if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
				Addresses: []string{"10.0.0.1"}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: name}})
		}
	}
	w.activeSlice = slice
}

// activeRS is the ReplicaSet the active Service selects.
func (w *world) activeRS() *appsv1.ReplicaSet {
	h := w.services["demo-active"].Spec.Selector[v1alpha1.PodTemplateHashLabel]
	for _, rs := range w.rss {
		if h != "" && hashOf(rs) == h {
			return rs
		}
	}
	return nil
}

// checkInvariant: after the first deploy, the active Service selects only a revision with
// at least spec.replicas available pods, or the stable revision while aborting.
func (w *world) checkInvariant(when string) {
	w.t.Helper()
	st := w.rollout.Status
	if st.StableRS == "" || w.replicasChanged {
		return
	}
	rs := w.activeRS()
	if rs == nil {
		w.t.Fatalf("%s: the active Service selects no ReplicaSet after the first deploy", when)
	}
	aborting := st.Abort != nil && hashOf(rs) == st.StableRS
	if rs.Status.AvailableReplicas < *w.rollout.Spec.Replicas && !aborting {
		w.t.Fatalf("%s: the active Service selects %s with %d available pods, fewer than %d", when, rs.Name, rs.Status.AvailableReplicas, *w.rollout.Spec.Replicas)
	}
}

// checkSwitches: every switch of the active Service goes to a saturated revision, or back
// to the stable revision on an abort.
func (w *world) checkSwitches(d Decision) {
	w.t.Helper()
	for _, a := range d.Actions {
		sw, ok := a.(SwitchService)
		if !ok || sw.Role != RoleActive {
			continue
		}
		if d.Status.Abort != nil && sw.Hash == d.Status.StableRS {
			continue
		}
		for _, rs := range w.rss {
			if hashOf(rs) == sw.Hash && (rs.Status.AvailableReplicas < *w.rollout.Spec.Replicas || *rs.Spec.Replicas != *w.rollout.Spec.Replicas) {
				w.t.Fatalf("%s: ReplicaSet %s is not saturated (%d of %d available)", sw, rs.Name, rs.Status.AvailableReplicas, *w.rollout.Spec.Replicas)
			}
		}
	}
}

// checkIdempotent plans again on the world as the decision left it: no action, same status.
func (w *world) checkIdempotent(d Decision, when string) {
	w.t.Helper()
	again := w.plan()
	if len(again.Actions) > 0 {
		w.t.Fatalf("%s: not idempotent, planning again returned:\n%s\nnotes:\n%s", when, formatActions(again.Actions), strings.Join(again.Notes, "\n"))
	}
	if !equality.Semantic.DeepEqual(again.Status, d.Status) {
		w.t.Fatalf("%s: not idempotent, the status changed:\n%s", when, diff.Diff(d.Status, again.Status))
	}
	if again.RequeueAfter != d.RequeueAfter {
		w.t.Fatalf("%s: not idempotent, requeue %s then %s", when, d.RequeueAfter, again.RequeueAfter)
	}
}

func formatActions(actions []Action) string {
	var b strings.Builder
	for _, a := range actions {
		fmt.Fprintf(&b, "  %s\n", a)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

// relative rewrites the times in a trace as offsets from t0, which reads better.
func relative(s string) string {
	return rfc3339.ReplaceAllStringFunc(s, func(ts string) string {
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			return ts
		}
		return offset(t)
	})
}

func offset(t time.Time) string { return fmt.Sprintf("t0+%s", t.Sub(t0)) }

// describeWorld prints the ReplicaSets, Services and AnalysisRuns, one short line each.
func (w *world) describeWorld() string {
	var b strings.Builder
	for _, name := range sortedKeys(w.rss) {
		rs := w.rss[name]
		fmt.Fprintf(&b, "    rs %s rev %s %s: replicas %d, available %d", name, rs.Annotations[v1alpha1.RevisionAnnotation], w.images[hashOf(rs)], *rs.Spec.Replicas, rs.Status.AvailableReplicas)
		if d, ok := rs.Annotations[v1alpha1.ScaleDownDeadlineAnnotation]; ok {
			fmt.Fprintf(&b, ", scale down at %s", d)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "    services: active=%s preview=%s\n",
		w.services["demo-active"].Spec.Selector[v1alpha1.PodTemplateHashLabel], w.previewSelector())
	for _, name := range sortedKeys(w.runs) {
		run := w.runs[name]
		fmt.Fprintf(&b, "    run %s %s", name, phaseOf(run))
		if run.Spec.Terminate {
			b.WriteString(" (terminated)")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (w *world) previewSelector() string {
	if svc := w.services["demo-preview"]; svc != nil {
		return svc.Spec.Selector[v1alpha1.PodTemplateHashLabel]
	}
	return ""
}

// describeStatus prints the fields of the status a reviewer looks at.
func describeStatus(s v1alpha1.RolloutStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "    %s: %s\n", s.Phase, s.Message)
	fmt.Fprintf(&b, "    current=%s stable=%s active=%s preview=%s replicas=%d updated=%d available=%d hpa=%d selector=%q\n",
		s.CurrentPodHash, s.StableRS, s.BlueGreen.ActiveSelector, s.BlueGreen.PreviewSelector,
		s.Replicas, s.UpdatedReplicas, s.AvailableReplicas, s.HPAReplicas, s.Selector)
	var conds []string
	for _, c := range s.Conditions {
		if c.Type == v1alpha1.ConditionProgressing || (c.Type == v1alpha1.ConditionPaused && c.Status == metav1.ConditionTrue) {
			conds = append(conds, fmt.Sprintf("%s=%s(%s)", c.Type, c.Status, c.Reason))
		} else {
			conds = append(conds, fmt.Sprintf("%s=%s", c.Type, c.Status))
		}
	}
	fmt.Fprintf(&b, "    conditions: %s\n", strings.Join(conds, " "))
	var extra []string
	for _, pc := range s.PauseConditions {
		extra = append(extra, fmt.Sprintf("pause=%s since %s", pc.Reason, offset(pc.StartTime.Time)))
	}
	if pr := s.Promotion; pr != nil {
		extra = append(extra, fmt.Sprintf("promotion=%s full=%t at %s", pr.Revision, pr.Full, offset(pr.PromotedAt.Time)))
	}
	if a := s.Abort; a != nil {
		extra = append(extra, fmt.Sprintf("abort=%s by %s (%s) at %s", a.Revision, a.By, a.Reason, offset(a.AbortedAt.Time)))
		if an := a.Analysis; an != nil {
			extra = append(extra, fmt.Sprintf("abort.analysis={run %s phase %s metric %s value %q condition %q query %q message %q}",
				an.RunName, an.Phase, an.MetricName, an.Value, an.Condition, an.Query, an.Message))
		}
	}
	for _, ref := range []*v1alpha1.RolloutAnalysisRunStatus{s.BlueGreen.PrePromotionAnalysisRunStatus, s.BlueGreen.PostPromotionAnalysisRunStatus} {
		if ref != nil {
			extra = append(extra, fmt.Sprintf("run %s=%s", ref.Name, ref.Status))
		}
	}
	if s.CollisionCount != nil {
		extra = append(extra, fmt.Sprintf("collisionCount=%d", *s.CollisionCount))
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, "    %s\n", strings.Join(extra, "; "))
	}
	return b.String()
}
