package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// now is the fixed clock of the golden tests.
var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/cli -run %s -update to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; -update rewrites it):\n%s", path, diff)
	}
}

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

// pausedSnapshot is a Rollout waiting for promotion of revision 2, with a successful
// pre-promotion analysis, revision 1 stable and active, and an old revision scaled down.
func pausedSnapshot() *Snapshot {
	ro := &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: types.UID("ro-uid"), Generation: 3, CreationTimestamp: ago(72 * time.Hour)},
		Spec:       v1alpha1.RolloutSpec{Replicas: ptr.To[int32](2), Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{ActiveService: "web", PreviewService: "web-preview"}}},
		Status: v1alpha1.RolloutStatus{
			ObservedGeneration: 3, Phase: v1alpha1.PhasePaused,
			Message:        "revision 3 (7c9f8d6b5) is waiting for promotion: run kubectl bluegreen promote web",
			CurrentPodHash: "7c9f8d6b5", StableRS: "5d8b9c7f4",
			BlueGreen: v1alpha1.BlueGreenStatus{ActiveSelector: "5d8b9c7f4", PreviewSelector: "7c9f8d6b5"},
			Replicas:  4, UpdatedReplicas: 2, ReadyReplicas: 4, AvailableReplicas: 4,
		},
	}
	owner := []metav1.OwnerReference{{Kind: "Rollout", Name: "web", UID: "ro-uid", Controller: ptr.To(true)}}
	rs := func(name, hash, image string, revision string, replicas, available int32, created time.Duration) appsv1.ReplicaSet {
		return appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", OwnerReferences: owner, CreationTimestamp: ago(created),
				Labels:      map[string]string{"app": "web", v1alpha1.PodTemplateHashLabel: hash},
				Annotations: map[string]string{v1alpha1.RevisionAnnotation: revision}},
			Spec:   appsv1.ReplicaSetSpec{Replicas: ptr.To(replicas), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}}},
			Status: appsv1.ReplicaSetStatus{Replicas: available, ReadyReplicas: available, AvailableReplicas: available},
		}
	}
	pod := func(name, rsName string, ready bool, restarts int32, created time.Duration) corev1.Pod {
		p := corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", CreationTimestamp: ago(created),
				OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: rsName, Controller: ptr.To(true)}}},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: ready, RestartCount: restarts}}},
		}
		if !ready {
			p.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}
		}
		return p
	}
	run := v1alpha1.AnalysisRun{
		ObjectMeta: metav1.ObjectMeta{Name: "web-7c9f8d6b5-pre-1", Namespace: "shop", CreationTimestamp: ago(4 * time.Minute),
			Labels: map[string]string{v1alpha1.RolloutLabel: "web", v1alpha1.PodTemplateHashLabel: "7c9f8d6b5", v1alpha1.AnalysisTypeLabel: v1alpha1.AnalysisTypePrePromotion}},
		Status: v1alpha1.AnalysisRunStatus{Phase: v1alpha1.AnalysisPhaseSuccessful, MetricResults: []v1alpha1.MetricResult{
			{Name: "error-rate", Phase: v1alpha1.AnalysisPhaseSuccessful, Count: 3, Successful: 3, Measurements: []v1alpha1.Measurement{{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "[0.012]"}}},
			{Name: "latency-p99", Phase: v1alpha1.AnalysisPhaseSuccessful, Count: 1, Successful: 1, DryRun: true, Measurements: []v1alpha1.Measurement{{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: "0.31"}}},
		}},
	}
	return &Snapshot{
		Rollout: ro,
		ReplicaSets: []appsv1.ReplicaSet{
			rs("web-5d8b9c7f4", "5d8b9c7f4", "registry.example.com/web:1.4.1", "2", 2, 2, 48*time.Hour),
			rs("web-7c9f8d6b5", "7c9f8d6b5", "registry.example.com/web:1.4.2", "3", 2, 2, 5*time.Minute),
			rs("web-66f5d4c8b", "66f5d4c8b", "registry.example.com/web:1.4.0", "1", 0, 0, 72*time.Hour),
		},
		Pods: []corev1.Pod{
			pod("web-7c9f8d6b5-x2k9p", "web-7c9f8d6b5", true, 0, 5*time.Minute),
			pod("web-7c9f8d6b5-q8w3z", "web-7c9f8d6b5", false, 4, 5*time.Minute),
			pod("web-5d8b9c7f4-abcde", "web-5d8b9c7f4", true, 0, 48*time.Hour),
			pod("web-5d8b9c7f4-fghij", "web-5d8b9c7f4", true, 1, 47*time.Hour),
		},
		AnalysisRuns: []v1alpha1.AnalysisRun{run},
	}
}

func abortedRollout() *v1alpha1.Rollout {
	ro := pausedSnapshot().Rollout
	ro.Status.Phase = v1alpha1.PhaseDegraded
	ro.Status.Message = "revision 3 (7c9f8d6b5) was aborted by Analysis: metric error-rate failed"
	ro.Status.Abort = &v1alpha1.AbortStatus{Revision: "7c9f8d6b5", By: v1alpha1.AbortByAnalysis, Reason: "AnalysisFailed",
		Message: "metric error-rate failed", AbortedAt: ago(time.Minute),
		Analysis: &v1alpha1.AbortAnalysis{RunName: "web-7c9f8d6b5-post-1", Phase: v1alpha1.AnalysisPhaseFailed, MetricName: "error-rate",
			Value: "[0.21]", Condition: "result[0] < 0.05", Query: "sum(rate(errors[1m]))"}}
	return ro
}

func TestRenderRolloutGolden(t *testing.T) {
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		RenderRollout(&buf, pausedSnapshot(), now, color)
		name := "get-rollout-paused"
		if color {
			name += "-color"
		}
		golden(t, name, buf.String())
	}
}

func TestRenderListGolden(t *testing.T) {
	healthy := pausedSnapshot().Rollout.DeepCopy()
	healthy.Name, healthy.Namespace = "api", "payments"
	healthy.CreationTimestamp = ago(30 * 24 * time.Hour)
	healthy.Status = v1alpha1.RolloutStatus{ObservedGeneration: 3, Phase: v1alpha1.PhaseHealthy, CurrentPodHash: "6b7c8d9f0", StableRS: "6b7c8d9f0",
		BlueGreen: v1alpha1.BlueGreenStatus{ActiveSelector: "6b7c8d9f0", PreviewSelector: "6b7c8d9f0"}, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}
	fresh := healthy.DeepCopy()
	fresh.Name, fresh.Status = "new", v1alpha1.RolloutStatus{}
	fresh.CreationTimestamp = ago(10 * time.Second)
	items := []v1alpha1.Rollout{*pausedSnapshot().Rollout, *abortedRollout(), *healthy, *fresh}
	items[1].Name = "cart"
	for _, all := range []bool{false, true} {
		var buf bytes.Buffer
		if err := RenderList(&buf, items, all, now); err != nil {
			t.Fatal(err)
		}
		name := "list"
		if all {
			name += "-all-namespaces"
		}
		golden(t, name, buf.String())
	}
}

func TestStatusLineGolden(t *testing.T) {
	paused := pausedSnapshot().Rollout
	healthy := paused.DeepCopy()
	healthy.Status.Phase, healthy.Status.Message = v1alpha1.PhaseHealthy, "revision 3 (7c9f8d6b5) is active and fully available"
	stale := healthy.DeepCopy()
	stale.Generation = 4
	deadline := paused.DeepCopy()
	deadline.Status.Phase, deadline.Status.Message = v1alpha1.PhaseDegraded, "ReplicaSet web-7c9f8d6b5 made no progress for 600s: 1 of 2 pods available"
	var b strings.Builder
	for _, c := range []struct {
		name string
		ro   *v1alpha1.Rollout
	}{{"healthy", healthy}, {"paused", paused}, {"not observed", stale}, {"aborted", abortedRollout()}, {"deadline", deadline}} {
		outcome, line := Assess(c.ro)
		b.WriteString(c.name + ": outcome " + []string{"pending", "healthy", "degraded"}[outcome] + "\n  " + line + "\n")
	}
	golden(t, "status-lines", b.String())
}

// runOffline runs the command line without a cluster and returns stdout, stderr and the exit code.
func runOffline(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, Options{
		Streams: genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut},
		Now:     func() time.Time { return now },
		Version: "v0.0.0-test",
	})
	return out.String(), errOut.String(), code
}

func TestLintGolden(t *testing.T) {
	for _, c := range []struct {
		file string
		code int
	}{{"valid", ExitOK}, {"broken", ExitFailed}} {
		t.Run(c.file, func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join("testdata", "lint", c.file+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			out, errOut, code := runOffline(t, string(input), "lint", "-f", "-")
			if code != c.code {
				t.Errorf("exit code %d, want %d", code, c.code)
			}
			golden(t, "lint/"+c.file, out+"--- stderr\n"+errOut)
		})
	}
}

func TestConvertGolden(t *testing.T) {
	for _, c := range []struct {
		file string
		code int
	}{{"argo", ExitOK}, {"canary", ExitFailed}} {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", "convert", c.file+".yaml")
			out, errOut, code := runOffline(t, "", "convert", "-f", path)
			if code != c.code {
				t.Errorf("exit code %d, want %d", code, c.code)
			}
			golden(t, "convert/"+c.file, out+"--- stderr\n"+errOut)
			if code == ExitOK {
				// What convert writes passes lint, apart from the Services it does not invent.
				report, err := Lint(strings.NewReader(out))
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range report.Findings {
					if !strings.Contains(f.Message, "not in the input") {
						t.Errorf("converted output does not lint: %s", f)
					}
				}
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	out, _, code := runOffline(t, "", "version")
	if code != ExitOK || out != "kubectl-bluegreen v0.0.0-test\n" {
		t.Errorf("version: %q, exit %d", out, code)
	}
	out, _, code = runOffline(t, "", "--help")
	if code != ExitOK {
		t.Fatalf("--help exit %d", code)
	}
	// The default cache directory depends on $HOME.
	out = regexp.MustCompile(`\(default "[^"]*\.kube/cache"\)`).ReplaceAllString(out, `(default "$$HOME/.kube/cache")`)
	golden(t, "help", out)
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, _, code := runOffline(t, "", "completion", shell)
		if code != ExitOK || !strings.Contains(out, "kubectl-bluegreen") && !strings.Contains(out, "kubectl_bluegreen") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, len(out))
		}
	}
	_, errOut, code := runOffline(t, "", "set", "image", "web", "app")
	if code != ExitFailed || !strings.Contains(errOut, `"app" is not CONTAINER=IMAGE`) {
		t.Errorf("set image without =: exit %d, %q", code, errOut)
	}
}
