package notify

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Data is what a template sees. It is documented in the README; changing a field name
// breaks the templates of users.
type Data struct {
	// Trigger is the trigger, e.g. "on-rollout-aborted".
	Trigger Trigger
	// Rollout describes the Rollout as it is after the event.
	Rollout RolloutData
	// Revision is the revision the notification is about.
	Revision RevisionData
	// Event is the Kubernetes Event that triggered the notification.
	Event EventData
	// Abort is status.abort when it is about this revision; nil otherwise.
	Abort *AbortData
	// Commands are the kubectl commands that act on this revision.
	Commands CommandsData
	// Context holds the "context" map of the ConfigMap (e.g. a dashboard URL).
	Context map[string]string
}

// RolloutData describes the Rollout.
type RolloutData struct {
	Name      string
	Namespace string
	// Application is the label app.kubernetes.io/name, app.kubernetes.io/instance or app,
	// else the Rollout's name.
	Application string
	// Phase is status.phase: Healthy, Progressing, Paused or Degraded; Message says why.
	Phase   string
	Message string
	// StableRevision is the pod template hash of the stable revision (status.stableRS).
	StableRevision string
	ActiveService  string
	PreviewService string
	Labels         map[string]string
}

// RevisionData describes a revision.
type RevisionData struct {
	// Hash is the pod template hash.
	Hash string
	// Number is the revision number ("3"), when its ReplicaSet exists.
	Number string
	// Display is "3 (5d8f7c9b)" or the hash alone.
	Display string
	// Images lists the container images of the revision, "name=image".
	Images []string
}

// EventData is the triggering event.
type EventData struct {
	Reason  string
	Type    string
	Message string
	Time    time.Time
}

// AbortData is status.abort: who aborted and why; with analysis, the failing measurement.
type AbortData struct {
	By          string
	Reason      string
	Message     string
	AnalysisRun string
	Phase       string
	Metric      string
	Value       string
	Condition   string
	Query       string
}

// CommandsData are kubectl commands for the revision.
type CommandsData struct {
	Promote     string
	PromoteFull string
	Abort       string
	Retry       string
	Status      string
}

// NewData builds the data of a notification about revision of ro. rs is the revision's
// ReplicaSet, or nil when it does not exist (yet).
func NewData(trigger Trigger, ro *v1alpha1.Rollout, revision string, rs *appsv1.ReplicaSet, ev EventData, context map[string]string) Data {
	d := Data{
		Trigger: trigger,
		Rollout: RolloutData{
			Name: ro.Name, Namespace: ro.Namespace, Application: application(ro),
			Phase: string(ro.Status.Phase), Message: ro.Status.Message, StableRevision: ro.Status.StableRS,
			Labels: ro.Labels,
		},
		Revision: RevisionData{Hash: revision, Display: revision},
		Event:    ev,
		Context:  context,
	}
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		d.Rollout.ActiveService, d.Rollout.PreviewService = bg.ActiveService, bg.PreviewService
	}
	template := ro.Spec.Template
	if rs != nil {
		template = &rs.Spec.Template
		if n := rs.Annotations[v1alpha1.RevisionAnnotation]; n != "" {
			d.Revision.Number = n
			d.Revision.Display = fmt.Sprintf("%s (%s)", n, revision)
		}
	}
	if template != nil {
		for _, c := range template.Spec.Containers {
			d.Revision.Images = append(d.Revision.Images, containerImage(c))
		}
	}
	if a := ro.Status.Abort; a != nil && a.Revision == revision {
		d.Abort = &AbortData{By: string(a.By), Reason: a.Reason, Message: a.Message}
		if an := a.Analysis; an != nil {
			d.Abort.AnalysisRun, d.Abort.Phase = an.RunName, string(an.Phase)
			d.Abort.Metric, d.Abort.Value, d.Abort.Condition, d.Abort.Query = an.MetricName, an.Value, an.Condition, an.Query
		}
	}
	ns := " -n " + ro.Namespace
	d.Commands = CommandsData{
		Promote:     "kubectl bluegreen promote " + ro.Name + ns,
		PromoteFull: "kubectl bluegreen promote " + ro.Name + ns + " --full",
		Abort:       "kubectl bluegreen abort " + ro.Name + ns,
		Retry:       "kubectl bluegreen retry " + ro.Name + ns,
		Status:      "kubectl bluegreen status " + ro.Name + ns,
	}
	return d
}

func application(ro *v1alpha1.Rollout) string {
	for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app"} {
		if v := ro.Labels[k]; v != "" {
			return v
		}
	}
	return ro.Name
}

func containerImage(c corev1.Container) string { return c.Name + "=" + c.Image }
