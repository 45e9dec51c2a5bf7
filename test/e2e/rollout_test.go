package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

const settle = 60 * time.Second // how long a step of a rollout may take on a busy 2-core machine

// kubectl runs bin/kubectl against the test cluster in the test's namespace.
func (e *env) kubectl(args ...string) (string, error) {
	bin, err := cluster.BinDir()
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "kubectl"), append([]string{"--kubeconfig", e.c.KubeconfigPath, "-n", e.ns}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// containsInOrder reports whether want appears in got as a subsequence.
func containsInOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestUpdateSwitchesActiveAndEmitsEvents(t *testing.T) {
	e := newEnv(t)
	e.services("web")
	e.create(e.rollout("web", "app:1", 2))
	first := e.waitPhase("web", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash
	if got := e.selector("web"); got != first {
		t.Fatalf("active Service selects %q after the first deploy, want %q", got, first)
	}

	e.setImage("web", "app:2")
	ro := e.waitPhase("web", v1alpha1.PhaseHealthy, settle)
	second := ro.Status.CurrentPodHash
	e.assertHealth("web", "Healthy", "Current")
	if second == first || ro.Status.StableRS != second {
		t.Fatalf("after the update: current %s stable %s, first %s", second, ro.Status.StableRS, first)
	}
	if got := e.selector("web"); got != second {
		t.Fatalf("active Service selects %q, want the new revision %q", got, second)
	}
	if got := e.selector("web-preview"); got != second {
		t.Fatalf("preview Service selects %q, want the new revision %q", got, second)
	}
	e.eventually(settle, "the old revision to be scaled down after its delay", func() (bool, string) {
		rs := e.replicaSets("web")
		return rs[first] == 0 && rs[second] == 2, fmt.Sprint(rs)
	})
	want := []string{v1alpha1.EventNewReplicaSetCreated, v1alpha1.EventSwitchService, v1alpha1.EventRolloutCompleted,
		v1alpha1.EventRolloutUpdated, v1alpha1.EventNewReplicaSetCreated, v1alpha1.EventSwitchService, v1alpha1.EventRolloutPromoted,
		v1alpha1.EventRolloutCompleted}
	e.eventually(10*time.Second, "the event sequence", func() (bool, string) {
		got := e.eventReasons("web")
		return containsInOrder(got, want), strings.Join(got, ",")
	})
}

func TestPreviewReplicaCountThenPromote(t *testing.T) {
	e := newEnv(t)
	e.services("api")
	ro := e.rollout("api", "api:1", 3)
	ro.Spec.Strategy.BlueGreen.AutoPromotionEnabled = ptr.To(false)
	ro.Spec.Strategy.BlueGreen.PreviewReplicaCount = ptr.To[int32](1)
	e.create(ro)
	first := e.waitPhase("api", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash

	e.setImage("api", "api:2")
	paused := e.waitPhase("api", v1alpha1.PhasePaused, settle)
	e.assertHealth("api", "Suspended", "InProgress")
	second := paused.Status.CurrentPodHash
	if out, err := e.kubectl("wait", "--for=condition=Paused", "rollout/api", "--timeout=30s"); err != nil {
		t.Fatalf("kubectl wait --for=condition=Paused: %v: %s", err, out)
	}
	if rs := e.replicaSets("api"); rs[second] != 1 || rs[first] != 3 {
		t.Fatalf("in preview: ReplicaSets %v, want the new one at previewReplicaCount 1 and the stable one at 3", rs)
	}
	if e.selector("api") != first || e.selector("api-preview") != second {
		t.Fatalf("in preview: active selects %s (want %s), preview %s (want %s)", e.selector("api"), first, e.selector("api-preview"), second)
	}

	e.annotate("api", v1alpha1.PromoteAnnotation)
	done := e.waitPhase("api", v1alpha1.PhaseHealthy, settle)
	if done.Status.Promotion == nil || done.Status.Promotion.Revision != second {
		t.Fatalf("promotion not acknowledged for %s: %+v", second, done.Status.Promotion)
	}
	if _, ok := done.Annotations[v1alpha1.PromoteAnnotation]; ok {
		t.Fatalf("the promote request was not removed once answered")
	}
	if e.selector("api") != second {
		t.Fatalf("after promote: active selects %s, want %s", e.selector("api"), second)
	}
	if rs := e.replicaSets("api"); rs[second] != 3 {
		t.Fatalf("after promote: ReplicaSets %v, want the new one at 3", rs)
	}
	if out, err := e.kubectl("wait", "--for=condition=Ready", "rollout/api", "--timeout=30s"); err != nil {
		t.Fatalf("kubectl wait --for=condition=Ready: %v: %s", err, out)
	}
}

func TestFullPromoteSkipsThePause(t *testing.T) {
	e := newEnv(t)
	e.services("full")
	ro := e.rollout("full", "full:1", 2)
	ro.Spec.Strategy.BlueGreen.AutoPromotionEnabled = ptr.To(false)
	e.create(ro)
	e.waitPhase("full", v1alpha1.PhaseHealthy, settle)
	e.setImage("full", "full:2")
	e.waitPhase("full", v1alpha1.PhasePaused, settle)
	hash := e.annotate("full", v1alpha1.PromoteFullAnnotation)
	done := e.waitPhase("full", v1alpha1.PhaseHealthy, settle)
	if done.Status.Promotion == nil || !done.Status.Promotion.Full || done.Status.Promotion.Revision != hash {
		t.Fatalf("full promotion not acknowledged for %s: %+v", hash, done.Status.Promotion)
	}
	if e.selector("full") != hash {
		t.Fatalf("active selects %s, want %s", e.selector("full"), hash)
	}
}

func TestStalePromoteIsIgnored(t *testing.T) {
	e := newEnv(t)
	e.services("stale")
	ro := e.rollout("stale", "stale:1", 1)
	ro.Spec.Strategy.BlueGreen.AutoPromotionEnabled = ptr.To(false)
	e.create(ro)
	first := e.waitPhase("stale", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash
	e.setImage("stale", "stale:2")
	e.waitPhase("stale", v1alpha1.PhasePaused, settle)
	// A promote for a revision that is not in preview, as a CI job that raced a newer commit would send.
	e.update("stale", func(ro *v1alpha1.Rollout) {
		ro.Annotations = map[string]string{v1alpha1.PromoteAnnotation: first + "x"}
	})
	e.eventually(settle, "the stale request to be answered", func() (bool, string) {
		ro := e.get("stale")
		_, pending := ro.Annotations[v1alpha1.PromoteAnnotation]
		return !pending, fmt.Sprint(ro.Annotations)
	})
	ro = e.waitPhase("stale", v1alpha1.PhasePaused, settle)
	if e.selector("stale") != first {
		t.Fatalf("a stale promote moved traffic: active selects %s, want %s", e.selector("stale"), first)
	}
	if !slices.Contains(e.eventReasons("stale"), v1alpha1.EventStaleRequestIgnored) {
		t.Fatalf("no %s event: %v", v1alpha1.EventStaleRequestIgnored, e.eventReasons("stale"))
	}
}

func TestUnreadyRevisionHitsTheProgressDeadline(t *testing.T) {
	for _, abort := range []bool{false, true} {
		t.Run(fmt.Sprintf("progressDeadlineAbort=%v", abort), func(t *testing.T) {
			e := newEnv(t)
			e.services("slow")
			ro := e.rollout("slow", "slow:1", 2)
			ro.Spec.ProgressDeadlineSeconds = ptr.To[int32](5)
			ro.Spec.ProgressDeadlineAbort = abort
			ro.Spec.Strategy.BlueGreen.AbortScaleDownDelaySeconds = ptr.To[int32](2)
			e.create(ro)
			first := e.waitPhase("slow", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash

			e.update("slow", func(ro *v1alpha1.Rollout) {
				ro.Spec.Template.Labels[cluster.BehaviourLabel] = cluster.BehaviourUnready
			})
			e.assertHealth("slow", "Progressing", "InProgress")
			got := e.waitPhase("slow", v1alpha1.PhaseDegraded, settle)
			e.assertHealth("slow", "Degraded", "Failed")
			// The deadline, or the abort it caused, is what Progressing says.
			wantReason := v1alpha1.ReasonProgressDeadlineExceeded
			if abort {
				wantReason = v1alpha1.ReasonRolloutAborted
			}
			cond := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionProgressing)
			if cond == nil || cond.Status != metav1.ConditionFalse || cond.Reason != wantReason || !strings.Contains(cond.Message, "progressDeadlineSeconds") {
				t.Fatalf("Progressing condition %+v, want False/%s naming progressDeadlineSeconds", cond, wantReason)
			}
			if e.selector("slow") != first {
				t.Fatalf("active selects %s, want the stable %s", e.selector("slow"), first)
			}
			second := got.Status.CurrentPodHash
			if abort {
				if got.Status.Abort == nil || got.Status.Abort.By != v1alpha1.AbortByProgressDeadline {
					t.Fatalf("status.abort %+v, want by ProgressDeadline", got.Status.Abort)
				}
				e.eventually(settle, "the aborted revision to be scaled down after abortScaleDownDelaySeconds", func() (bool, string) {
					rs := e.replicaSets("slow")
					return rs[second] == 0 && rs[first] == 2, fmt.Sprint(rs)
				})
			} else {
				if got.Status.Abort != nil {
					t.Fatalf("status.abort %+v without progressDeadlineAbort", got.Status.Abort)
				}
				if rs := e.replicaSets("slow"); rs[second] != 2 {
					t.Fatalf("without progressDeadlineAbort the new revision stays up: %v", rs)
				}
			}
		})
	}
}

func TestAbortThenRetry(t *testing.T) {
	e := newEnv(t)
	e.services("ab")
	ro := e.rollout("ab", "ab:1", 2)
	ro.Spec.Strategy.BlueGreen.AutoPromotionEnabled = ptr.To(false)
	ro.Spec.Strategy.BlueGreen.AbortScaleDownDelaySeconds = ptr.To[int32](2)
	e.create(ro)
	first := e.waitPhase("ab", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash
	e.setImage("ab", "ab:2")
	second := e.waitPhase("ab", v1alpha1.PhasePaused, settle).Status.CurrentPodHash

	e.annotate("ab", v1alpha1.AbortAnnotation)
	got := e.waitPhase("ab", v1alpha1.PhaseDegraded, settle)
	e.assertHealth("ab", "Degraded", "Failed")
	if got.Status.Abort == nil || got.Status.Abort.By != v1alpha1.AbortByUser || got.Status.Abort.Revision != second {
		t.Fatalf("status.abort %+v, want by User for %s", got.Status.Abort, second)
	}
	if e.selector("ab") != first || e.selector("ab-preview") != second {
		t.Fatalf("after abort: active %s (want %s) preview %s (want %s)", e.selector("ab"), first, e.selector("ab-preview"), second)
	}
	e.eventually(settle, "the aborted revision to be scaled down", func() (bool, string) {
		rs := e.replicaSets("ab")
		return rs[second] == 0 && rs[first] == 2, fmt.Sprint(rs)
	})
	if got.Spec.Template.Spec.Containers[0].Image != "ab:2" {
		t.Fatalf("abort changed spec.template: image %s", got.Spec.Template.Spec.Containers[0].Image)
	}

	e.annotate("ab", v1alpha1.RetryAnnotation)
	e.waitPhase("ab", v1alpha1.PhasePaused, settle)
	e.assertHealth("ab", "Suspended", "InProgress")
	if got := e.get("ab"); got.Status.Abort != nil {
		t.Fatalf("retry did not clear the abort: %+v", got.Status.Abort)
	}
	if rs := e.replicaSets("ab"); rs[second] != 2 {
		t.Fatalf("after retry the revision is back in preview: %v", rs)
	}
}

func TestScaleSubresourceDuringRollout(t *testing.T) {
	e := newEnv(t)
	e.services("hpa")
	ro := e.rollout("hpa", "hpa:1", 2)
	ro.Spec.Strategy.BlueGreen.AutoPromotionEnabled = ptr.To(false)
	e.create(ro)
	first := e.waitPhase("hpa", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash
	e.setImage("hpa", "hpa:2")
	second := e.waitPhase("hpa", v1alpha1.PhasePaused, settle).Status.CurrentPodHash

	// What an HorizontalPodAutoscaler does: write the scale subresource.
	scale := &autoscalingv1.Scale{}
	if err := e.k8s.SubResource("scale").Get(e.ctx(), e.get("hpa"), scale); err != nil {
		t.Fatal(err)
	}
	if scale.Status.Selector == "" || !strings.Contains(scale.Status.Selector, first) {
		t.Fatalf("scale selector %q does not select the active revision %s", scale.Status.Selector, first)
	}
	scale.Spec.Replicas = 4
	if err := e.k8s.SubResource("scale").Update(e.ctx(), e.get("hpa"), client.WithSubResourceBody(scale)); err != nil {
		t.Fatal(err)
	}
	e.eventually(settle, "both revisions to follow the new size", func() (bool, string) {
		rs := e.replicaSets("hpa")
		return rs[first] == 4 && rs[second] == 4, fmt.Sprint(rs)
	})
	e.eventually(settle, "HPAReplicas to count the active pods", func() (bool, string) {
		ro := e.get("hpa")
		return ro.Status.HPAReplicas == 4 && ro.Status.CurrentPodHash == second, fmt.Sprintf("HPAReplicas %d current %s", ro.Status.HPAReplicas, ro.Status.CurrentPodHash)
	})
}

func TestRoleMetadataIsPatchedOntoRunningPods(t *testing.T) {
	e := newEnv(t)
	e.services("meta")
	ro := e.rollout("meta", "meta:1", 2)
	ro.Spec.Strategy.BlueGreen.AutoPromotionEnabled = ptr.To(false)
	ro.Spec.Strategy.BlueGreen.ActiveMetadata = &v1alpha1.PodTemplateMetadata{Labels: map[string]string{"role": "active"}}
	ro.Spec.Strategy.BlueGreen.PreviewMetadata = &v1alpha1.PodTemplateMetadata{Labels: map[string]string{"role": "preview"}}
	e.create(ro)
	first := e.waitPhase("meta", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash
	e.setImage("meta", "meta:2")
	second := e.waitPhase("meta", v1alpha1.PhasePaused, settle).Status.CurrentPodHash
	roles := func() map[string]string {
		var pods corev1.PodList
		if err := e.k8s.List(e.ctx(), &pods, client.InNamespace(e.ns), client.MatchingLabels{"app": "meta"}); err != nil {
			e.t.Fatal(err)
		}
		out := map[string]string{}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				continue
			}
			h := p.Labels[v1alpha1.PodTemplateHashLabel]
			if prev, ok := out[h]; ok && prev != p.Labels["role"] {
				out[h] = "mixed"
				continue
			}
			out[h] = p.Labels["role"]
		}
		return out
	}
	e.eventually(settle, "pods labelled by role in preview", func() (bool, string) {
		r := roles()
		return r[first] == "active" && r[second] == "preview", fmt.Sprint(r)
	})
	e.annotate("meta", v1alpha1.PromoteAnnotation)
	e.waitPhase("meta", v1alpha1.PhaseHealthy, settle)
	e.eventually(settle, "the promoted pods relabelled active", func() (bool, string) {
		r := roles()
		return r[second] == "active", fmt.Sprint(r)
	})
}

func TestWorkloadRef(t *testing.T) {
	for _, mode := range []string{v1alpha1.ScaleDownNever, v1alpha1.ScaleDownOnSuccess, v1alpha1.ScaleDownProgressively} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			e.services("wl")
			base := e.rollout("wl", "wl:1", 2)
			d := &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: "wl", Namespace: e.ns},
				Spec: appsv1.DeploymentSpec{
					Replicas: ptr.To[int32](2),
					Selector: base.Spec.Selector,
					Template: *base.Spec.Template,
				},
			}
			e.create(d)
			ro := base.DeepCopy()
			ro.Spec.Template = nil
			ro.Spec.WorkloadRef = &v1alpha1.ObjectRef{Kind: "Deployment", Name: "wl", ScaleDown: mode}
			e.create(ro)
			e.waitPhase("wl", v1alpha1.PhaseHealthy, settle)
			want := int32(0)
			if mode == v1alpha1.ScaleDownNever {
				want = 2
			}
			e.eventually(settle, "the Deployment to be scaled as "+mode+" says", func() (bool, string) {
				var got appsv1.Deployment
				if err := e.k8s.Get(e.ctx(), client.ObjectKeyFromObject(d), &got); err != nil {
					return false, err.Error()
				}
				return ptr.Deref(got.Spec.Replicas, 0) == want, fmt.Sprintf("deployment replicas %d", ptr.Deref(got.Spec.Replicas, 0))
			})
			// A new image in the Deployment's template is a new revision of the Rollout.
			first := e.get("wl").Status.CurrentPodHash
			e.eventually(10*time.Second, "updating the Deployment's image", func() (bool, string) {
				var got appsv1.Deployment
				if err := e.k8s.Get(e.ctx(), client.ObjectKeyFromObject(d), &got); err != nil {
					return false, err.Error()
				}
				got.Spec.Template.Spec.Containers[0].Image = "wl:2"
				if err := e.k8s.Update(e.ctx(), &got); err != nil {
					return false, err.Error()
				}
				return true, ""
			})
			e.eventually(settle, "the new revision to become active", func() (bool, string) {
				ro := e.get("wl")
				return ro.Status.CurrentPodHash != first && ro.Status.Phase == v1alpha1.PhaseHealthy && e.selector("wl") == ro.Status.CurrentPodHash,
					fmt.Sprintf("current %s phase %s active %s", ro.Status.CurrentPodHash, ro.Status.Phase, e.selector("wl"))
			})
		})
	}
}

func TestScaleDownDelayWithRevisionLimit(t *testing.T) {
	e := newEnv(t)
	e.services("lim")
	ro := e.rollout("lim", "lim:1", 1)
	ro.Spec.Strategy.BlueGreen.ScaleDownDelaySeconds = ptr.To[int32](600)
	ro.Spec.Strategy.BlueGreen.ScaleDownDelayRevisionLimit = ptr.To[int32](1)
	e.create(ro)
	hashes := []string{e.waitPhase("lim", v1alpha1.PhaseHealthy, settle).Status.CurrentPodHash}
	for _, image := range []string{"lim:2", "lim:3"} {
		e.setImage("lim", image)
		e.eventually(settle, "revision "+image+" to be stable", func() (bool, string) {
			ro := e.get("lim")
			return ro.Status.Phase == v1alpha1.PhaseHealthy && ro.Status.ObservedGeneration == ro.Generation && !slices.Contains(hashes, ro.Status.StableRS),
				fmt.Sprintf("phase %s stable %s", ro.Status.Phase, ro.Status.StableRS)
		})
		hashes = append(hashes, e.get("lim").Status.StableRS)
	}
	// Within a 600 s delay and a limit of 1: the previous revision stays up, the one before it goes.
	e.eventually(settle, "only one old revision kept up", func() (bool, string) {
		rs := e.replicaSets("lim")
		return rs[hashes[0]] == 0 && rs[hashes[1]] == 1 && rs[hashes[2]] == 1, fmt.Sprint(rs, hashes)
	})
}
