package planner

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/diff"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

func TestComputeHash(t *testing.T) {
	base := ComputeHash(podTemplate("demo:v1"), nil)
	for _, tc := range []struct {
		name     string
		template *corev1.PodTemplateSpec
		count    *int32
		same     bool
	}{
		{"same template", podTemplate("demo:v1"), nil, true},
		{"hash label ignored", func() *corev1.PodTemplateSpec {
			t := podTemplate("demo:v1")
			t.Labels[v1alpha1.PodTemplateHashLabel] = "x"
			return t
		}(), nil, true},
		{"other image", podTemplate("demo:v2"), nil, false},
		{"collision count", podTemplate("demo:v1"), ptr(int32(1)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ComputeHash(tc.template, tc.count); (got == base) != tc.same {
				t.Errorf("ComputeHash = %s, base %s, want same=%t", got, base, tc.same)
			}
		})
	}
}

func TestTemplateMatches(t *testing.T) {
	desired := podTemplate("demo:v1")
	defaulted := podTemplate("demo:v1")
	defaulted.Labels[v1alpha1.PodTemplateHashLabel] = "abc"
	defaulted.Labels["role"] = "active"
	defaulted.Spec.RestartPolicy = corev1.RestartPolicyAlways
	defaulted.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
	defaulted.Spec.Containers[0].Ports[0].Protocol = corev1.ProtocolTCP
	injectAntiAffinity(&defaulted.Spec, &v1alpha1.AntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1alpha1.RequiredDuringSchedulingIgnoredDuringExecution{}}, "old")
	keys := roleKeys{labels: map[string]bool{"role": true}}
	if !templateMatches(defaulted, desired, keys) {
		t.Error("a defaulted, decorated copy of the template does not match it")
	}
	if templateMatches(podTemplate("other:v1"), desired, keys) {
		t.Error("another template matches")
	}
	sidecar := podTemplate("demo:v1")
	sidecar.Spec.Containers = append(sidecar.Spec.Containers, corev1.Container{Name: "sidecar", Image: "s"})
	if templateMatches(sidecar, desired, keys) {
		t.Error("a template with another container matches")
	}
}

func TestNewReplicaSet(t *testing.T) {
	w := newWorld(t, func(ro *v1alpha1.Rollout) {
		ro.Spec.MinReadySeconds = 5
		ro.Spec.Strategy.BlueGreen.AntiAffinity = &v1alpha1.AntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: &v1alpha1.PreferredDuringSchedulingIgnoredDuringExecution{Weight: 40},
		}
	})
	w.apply(w.plan())
	w.settle()
	w.apply(w.plan())
	setImage("demo:v2")(w)
	var created *CreateReplicaSet
	for _, a := range w.plan().Actions {
		if c, ok := a.(CreateReplicaSet); ok {
			created = &c
		}
	}
	if created == nil {
		t.Fatal("no ReplicaSet created for the new template")
	}
	rs := created.ReplicaSet
	stable := w.rollout.Status.StableRS
	h := hashOf(rs)
	if rs.Name != "demo-"+h || rs.Spec.Selector.MatchLabels[v1alpha1.PodTemplateHashLabel] != h || rs.Spec.Template.Labels[v1alpha1.PodTemplateHashLabel] != h {
		t.Errorf("name, selector or template labels lack the hash %s: %s %v %v", h, rs.Name, rs.Spec.Selector.MatchLabels, rs.Spec.Template.Labels)
	}
	if rs.Annotations[v1alpha1.RevisionAnnotation] != "2" || rs.Spec.MinReadySeconds != 5 {
		t.Errorf("revision %q, minReadySeconds %d", rs.Annotations[v1alpha1.RevisionAnnotation], rs.Spec.MinReadySeconds)
	}
	want := []metav1.OwnerReference{{APIVersion: "rollouts.bluegreen.dev/v1alpha1", Kind: "Rollout", Name: "demo", UID: "uid-demo", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}
	if d := diff.Diff(want, rs.OwnerReferences); d != "" {
		t.Errorf("ownerReferences:\n%s", d)
	}
	wantAffinity := &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
		Weight: 40,
		PodAffinityTerm: corev1.PodAffinityTerm{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{v1alpha1.PodTemplateHashLabel: stable}},
			TopologyKey:   corev1.LabelHostname,
		},
	}}}}
	if d := diff.Diff(wantAffinity, rs.Spec.Template.Spec.Affinity); d != "" {
		t.Errorf("anti-affinity against the stable revision:\n%s", d)
	}
}

func TestProgressMarkRoundTrip(t *testing.T) {
	since := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, m := range []progressMark{
		{rs: "demo-abc", reached: 2, target: 3, since: since, deadline: time.Minute},
		{rs: "demo-abc", reached: 0, target: 5, since: since, exceeded: true, deadline: time.Minute},
	} {
		reason := v1alpha1.ReasonReplicaSetUpdated
		if m.exceeded {
			reason = v1alpha1.ReasonProgressDeadlineExceeded
		}
		got := readProgressMark([]metav1.Condition{{Type: v1alpha1.ConditionProgressing, Reason: reason, Message: m.message(), LastTransitionTime: metav1.NewTime(since)}})
		if got == nil {
			t.Fatalf("mark %+v not read back from %q", m, m.message())
		}
		got.deadline = m.deadline
		if *got != m {
			t.Errorf("read back %+v, want %+v", *got, m)
		}
	}
	if readProgressMark([]metav1.Condition{{Type: v1alpha1.ConditionProgressing, Reason: v1alpha1.ReasonNewReplicaSetAvailable, Message: "ReplicaSet x reached 1 of 2 available pods"}}) != nil {
		t.Error("a mark is read from a condition that is not counting")
	}
}

func TestIntentForAnotherRevisionIsIgnored(t *testing.T) {
	w := newWorld(t)
	w.apply(w.plan())
	w.settle()
	w.apply(w.plan())
	requestFor(v1alpha1.AbortAnnotation, "nope")(w)
	d := w.plan()
	want := []string{
		"event Warning StaleRequestIgnored: Ignored the abort request for revision nope: the current revision is " + w.rollout.Status.CurrentPodHash,
		"remove annotation " + v1alpha1.AbortAnnotation,
	}
	var got []string
	for _, a := range d.Actions {
		got = append(got, a.String())
	}
	if d := diff.Diff(want, got); d != "" {
		t.Errorf("actions:\n%s", d)
	}
	if d.Status.Abort != nil {
		t.Errorf("abort recorded: %+v", d.Status.Abort)
	}
}

// A request the status already answers, shown again by a cache that has not seen its
// removal, is removed without a warning.
func TestAnsweredPromoteIsRemovedQuietly(t *testing.T) {
	w := newWorld(t, manualPromotion)
	for _, step := range []func(*world){nil, nil, setImage("demo:v2"), nil, request(v1alpha1.PromoteAnnotation), nil} {
		if step != nil {
			step(w)
		}
		w.settle()
		w.apply(w.plan())
	}
	if w.rollout.Status.StableRS != w.rollout.Status.CurrentPodHash {
		t.Fatalf("the promoted revision is not stable: %s", describeStatus(w.rollout.Status))
	}
	requestFor(v1alpha1.PromoteAnnotation, w.rollout.Status.CurrentPodHash)(w)
	d := w.plan()
	var got []string
	for _, a := range d.Actions {
		got = append(got, a.String())
	}
	if want := []string{"remove annotation " + v1alpha1.PromoteAnnotation}; diff.Diff(want, got) != "" {
		t.Errorf("actions:\n%s", diff.Diff(want, got))
	}
}
