package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

func testRollout() *v1alpha1.Rollout {
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "uid-1", Labels: map[string]string{"app.kubernetes.io/name": "web"}},
		Spec: v1alpha1.RolloutSpec{
			Template: &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry/web:2.0"}}}},
			Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{ActiveService: "web", PreviewService: "web-preview"}},
		},
		Status: v1alpha1.RolloutStatus{Phase: v1alpha1.PhaseDegraded, CurrentPodHash: "5d8f7c9b", StableRS: "6b5c4d7f",
			Abort: &v1alpha1.AbortStatus{Revision: "5d8f7c9b", By: v1alpha1.AbortByAnalysis, Reason: "AnalysisRunFailed",
				Message: "metric error-rate failed", Analysis: &v1alpha1.AbortAnalysis{RunName: "web-5d8f7c9b-post-1", Phase: v1alpha1.AnalysisPhaseFailed,
					MetricName: "error-rate", Value: "[0.12]", Condition: "result[0] < 0.05", Query: `sum(rate(http_errors{app="web"}[5m]))`}}},
	}
}

func testReplicaSet() *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-5d8f7c9b", Annotations: map[string]string{v1alpha1.RevisionAnnotation: "3"}}}
	rs.Spec.Template.Spec.Containers = []corev1.Container{{Name: "app", Image: "registry/web:2.0"}}
	return rs
}

func testData(t Trigger) Data {
	ev := EventData{Reason: "RolloutAborted", Type: "Warning", Message: "Rollout aborted by Analysis: metric error-rate failed", Time: time.Unix(0, 0)}
	return NewData(t, testRollout(), "5d8f7c9b", testReplicaSet(), ev, map[string]string{"dashboard": "https://grafana.example.com/d/rollouts"})
}

func TestDefaultTemplates(t *testing.T) {
	cfg, err := ParseConfig(map[string]string{KeyServiceSlack: "token: xoxb-1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Trigger][]string{
		OnRolloutUpdated:   {"shop/web: revision 3 (5d8f7c9b) is rolling out (app=registry/web:2.0)."},
		OnRolloutPaused:    {"waiting for promotion", "`kubectl bluegreen promote web -n shop`", "`kubectl bluegreen abort web -n shop`"},
		OnRolloutPromoted:  {"the active Service web selects it now"},
		OnRolloutCompleted: {"revision 3 (5d8f7c9b) is stable"},
		OnRolloutAborted: {"aborted by Analysis: metric error-rate = [0.12]", "condition: result[0] < 0.05", "AnalysisRun web-5d8f7c9b-post-1 Failed",
			`query: sum(rate(http_errors{app="web"}[5m]))`, "stable revision 6b5c4d7f", "`kubectl bluegreen retry web -n shop`"},
		OnRolloutDegraded:   {"shop/web is Degraded: Rollout aborted by Analysis"},
		OnAnalysisRunFailed: {"analysis of revision 3 (5d8f7c9b) failed"},
		OnAnalysisRunError:  {"could not measure"},
	}
	for trigger, parts := range want {
		msg, err := cfg.Templates[trigger].Render(testData(trigger))
		if err != nil {
			t.Errorf("%s: %v", trigger, err)
			continue
		}
		for _, p := range parts {
			if !strings.Contains(msg.Text, p) {
				t.Errorf("%s: text %q does not contain %q", trigger, msg.Text, p)
			}
		}
		if len(msg.Blocks) < 3 {
			t.Errorf("%s: %d blocks, want at least 3", trigger, len(msg.Blocks))
		}
		blocks, _ := json.Marshal(msg.Blocks)
		for _, p := range []string{"5d8f7c9b", "shop/web", "registry/web:2.0"} {
			if !strings.Contains(string(blocks), p) {
				t.Errorf("%s: blocks do not contain %q: %s", trigger, p, blocks)
			}
		}
		switch trigger {
		case OnRolloutAborted:
			for _, p := range []string{"error-rate", "[0.12]", `result[0] \u0026lt; 0.05`, "http_errors", "kubectl bluegreen retry web -n shop"} {
				if !strings.Contains(string(blocks), p) {
					t.Errorf("%s: blocks do not contain %q: %s", trigger, p, blocks)
				}
			}
		case OnRolloutPaused:
			if !strings.Contains(string(blocks), "kubectl bluegreen promote web -n shop") {
				t.Errorf("%s: blocks have no promote command: %s", trigger, blocks)
			}
		}
	}
}

func TestTemplateOverrideAndErrors(t *testing.T) {
	tmpl, err := ParseTemplate("x", TemplateSource{Message: `{{ .Rollout.Name }} {{ upper .Revision.Hash }} {{ trunc 4 "abcdefgh" }} {{ default "none" .Rollout.Message }}`})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := tmpl.Render(testData(OnRolloutPaused))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Text != "web 5D8F7C9B abc… none" {
		t.Errorf("text = %q", msg.Text)
	}

	bad := TemplateSource{Message: "x"}
	bad.Slack.Blocks = `[{"type":"section","text":{{ .Rollout.Name }}}]`
	tmpl, err = ParseTemplate("bad-blocks", bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.Render(testData(OnRolloutPaused)); err == nil || !strings.Contains(err.Error(), "slack.blocks is not a JSON array of Block Kit blocks") {
		t.Errorf("bad blocks: %v", err)
	}
	tmpl, _ = ParseTemplate("missing", TemplateSource{Message: "{{ .Context.nope }}"})
	if _, err := tmpl.Render(testData(OnRolloutPaused)); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing context key: %v", err)
	}
	if _, err := ParseTemplate("empty", TemplateSource{}); err == nil {
		t.Error("an empty message is an error")
	}
}

func TestDataWithoutReplicaSetOrAbort(t *testing.T) {
	ro := testRollout()
	ro.Status.Abort.Revision = "other"
	d := NewData(OnRolloutUpdated, ro, "5d8f7c9b", nil, EventData{}, nil)
	if d.Abort != nil || d.Revision.Display != "5d8f7c9b" || d.Revision.Number != "" || len(d.Revision.Images) != 1 || d.Rollout.Application != "web" {
		t.Errorf("data = %+v", d)
	}
}
