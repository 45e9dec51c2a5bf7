// Package notify delivers Slack notifications of Rollout events: it maps event reasons to
// triggers, finds the subscriptions of a Rollout (its annotations and the defaults of the
// notifications ConfigMap), renders templates and delivers through slack-go with retries.
//
// The Dispatcher decorates the controller's event recorder: recording an event never
// blocks, and everything else happens on the leader, in the background.
package notify

import (
	"slices"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Trigger names a kind of notification, as in Argo CD notifications.
type Trigger string

// The triggers. Each maps from one or more event reasons (see TriggerFor).
const (
	OnRolloutUpdated    Trigger = "on-rollout-updated"
	OnRolloutPaused     Trigger = "on-rollout-paused"
	OnRolloutPromoted   Trigger = "on-rollout-promoted"
	OnRolloutCompleted  Trigger = "on-rollout-completed"
	OnRolloutAborted    Trigger = "on-rollout-aborted"
	OnRolloutDegraded   Trigger = "on-rollout-degraded"
	OnAnalysisRunFailed Trigger = "on-analysis-run-failed"
	OnAnalysisRunError  Trigger = "on-analysis-run-error"
)

// reasonTriggers maps the event reasons of the planner to triggers.
var reasonTriggers = map[string]Trigger{
	v1alpha1.EventRolloutUpdated:    OnRolloutUpdated,
	v1alpha1.EventRolloutPaused:     OnRolloutPaused,
	v1alpha1.EventRolloutPromoted:   OnRolloutPromoted,
	v1alpha1.EventRolloutCompleted:  OnRolloutCompleted,
	v1alpha1.EventRolloutAborted:    OnRolloutAborted,
	v1alpha1.EventProgressDeadline:  OnRolloutDegraded,
	v1alpha1.EventInvalidSpec:       OnRolloutDegraded,
	v1alpha1.EventRolloutDegraded:   OnRolloutDegraded,
	v1alpha1.EventAnalysisRunFailed: OnAnalysisRunFailed,
	v1alpha1.EventAnalysisRunError:  OnAnalysisRunError,
}

// TriggerFor returns the trigger of an event reason; false when the reason triggers nothing
// (ScalingReplicaSet, SwitchService, …).
func TriggerFor(reason string) (Trigger, bool) {
	t, ok := reasonTriggers[reason]
	return t, ok
}

// Triggers lists every trigger, sorted.
func Triggers() []Trigger {
	seen := map[Trigger]bool{}
	var out []Trigger
	for _, t := range reasonTriggers {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// Known reports whether t is a trigger.
func (t Trigger) Known() bool { return slices.Contains(Triggers(), t) }
