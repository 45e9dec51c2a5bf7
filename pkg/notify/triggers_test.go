package notify

import (
	"testing"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

func TestTriggerFor(t *testing.T) {
	cases := map[string]Trigger{
		v1alpha1.EventRolloutUpdated:    OnRolloutUpdated,
		v1alpha1.EventRolloutPaused:     OnRolloutPaused,
		v1alpha1.EventRolloutPromoted:   OnRolloutPromoted,
		v1alpha1.EventRolloutCompleted:  OnRolloutCompleted,
		v1alpha1.EventRolloutAborted:    OnRolloutAborted,
		v1alpha1.EventProgressDeadline:  OnRolloutDegraded,
		v1alpha1.EventInvalidSpec:       OnRolloutDegraded,
		v1alpha1.EventAnalysisRunFailed: OnAnalysisRunFailed,
		v1alpha1.EventAnalysisRunError:  OnAnalysisRunError,
	}
	for reason, want := range cases {
		if got, ok := TriggerFor(reason); !ok || got != want {
			t.Errorf("TriggerFor(%s) = %q, %t; want %q", reason, got, ok, want)
		}
	}
	for _, reason := range []string{v1alpha1.EventScalingReplicaSet, v1alpha1.EventSwitchService, v1alpha1.EventNewReplicaSetCreated,
		v1alpha1.EventAnalysisRunStarted, v1alpha1.EventNotificationFailed, ""} {
		if got, ok := TriggerFor(reason); ok {
			t.Errorf("TriggerFor(%s) = %q, want no trigger", reason, got)
		}
	}
	if n := len(Triggers()); n != 8 {
		t.Errorf("Triggers() has %d triggers, want 8: %v", n, Triggers())
	}
	for tr := range DefaultTemplates() {
		if !tr.Known() {
			t.Errorf("default template for unknown trigger %s", tr)
		}
	}
	if len(DefaultTemplates()) != len(Triggers()) {
		t.Errorf("%d default templates for %d triggers", len(DefaultTemplates()), len(Triggers()))
	}
}
