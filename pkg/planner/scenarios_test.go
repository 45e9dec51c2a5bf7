package planner

import (
	"testing"
	"time"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

const (
	pre  = v1alpha1.AnalysisTypePrePromotion
	post = v1alpha1.AnalysisTypePostPromotion
)

var (
	successful   = v1alpha1.AnalysisPhaseSuccessful
	failed       = v1alpha1.AnalysisPhaseFailed
	errored      = v1alpha1.AnalysisPhaseError
	inconclusive = v1alpha1.AnalysisPhaseInconclusive
)

func TestRolloutSequences(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) { runSequence(t, sc) })
	}
}

func scenarios() []scenario {
	sec := time.Second
	return []scenario{
		{
			name: "first-deploy",
			steps: []step{
				on("the Rollout is created", 0, capAvailable("demo:v1", 1)),
				on("one pod is available", 5*sec),
				on("every pod is available", 5*sec, uncap("demo:v1")),
				on("nothing to do", 60*sec),
			},
		},
		{
			name: "auto-promotion",
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available", 10*sec),
				on("before the scale-down deadline", 20*sec),
				on("the scale-down deadline passes", 10*sec),
				on("the old pods are gone", 5*sec),
			}),
		},
		{
			name: "manual-promotion",
			spec: []func(*v1alpha1.Rollout){manualPromotion},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available", 10*sec),
				on("still waiting", 300*sec),
				on("a user promotes the revision", 10*sec, request(v1alpha1.PromoteAnnotation)),
				on("the scale-down deadline passes", 30*sec),
			}),
		},
		{
			name: "auto-promotion-seconds",
			spec: []func(*v1alpha1.Rollout){autoPromotionSeconds(60)},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: the pause begins", 10*sec),
				on("the pause still holds", 30*sec),
				on("autoPromotionSeconds passed", 30*sec),
			}),
		},
		{
			name: "preview-replica-count-promote",
			spec: []func(*v1alpha1.Rollout){previewReplicaCount(1), manualPromotion},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the preview pod is available", 10*sec),
				on("a user promotes", 30*sec, request(v1alpha1.PromoteAnnotation)),
				on("the new revision is at full size", 10*sec),
			}),
		},
		{
			name: "preview-replica-count-promote-full",
			spec: []func(*v1alpha1.Rollout){previewReplicaCount(1), manualPromotion, preAnalysis, postAnalysis},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the preview pod is available: analysis starts", 10*sec),
				on("the analysis runs", 10*sec, runsRunning),
				on("a user promotes fully", 10*sec, request(v1alpha1.PromoteFullAnnotation)),
				on("the new revision is at full size: switch, no post-promotion analysis", 10*sec),
			}),
		},
		{
			name: "new-revision-while-in-preview",
			spec: []func(*v1alpha1.Rollout){manualPromotion, preAnalysis},
			steps: steps(deployed(), []step{
				on("the image changes to v2", 60*sec, setImage("demo:v2")),
				on("v2 is available: analysis starts", 10*sec),
				on("v2's analysis runs", 10*sec, runsRunning),
				on("the image changes to v3 while v2 is in preview", 10*sec, setImage("demo:v3")),
				on("v3 is available: its analysis starts", 10*sec),
				on("v2's scale-down deadline passes", 20*sec),
				on("v3's analysis succeeds: pause", 10*sec, runEnds(pre, successful)),
				on("a user promotes v3", 10*sec, request(v1alpha1.PromoteAnnotation)),
			}),
		},
		{
			name: "abort-before-switch",
			spec: []func(*v1alpha1.Rollout){manualPromotion},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: pause", 10*sec),
				on("a user aborts", 10*sec, request(v1alpha1.AbortAnnotation)),
				on("waiting for the abort scale-down deadline", 10*sec),
				on("the abort scale-down deadline passes", 30*sec),
				on("a stale promote for the aborted revision", 10*sec, request(v1alpha1.PromoteAnnotation)),
			}),
		},
		{
			name: "abort-after-switch",
			spec: []func(*v1alpha1.Rollout){postAnalysis, abortScaleDownDelay(0)},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: switch, post-promotion analysis starts", 10*sec),
				on("the analysis runs", 10*sec, runsRunning),
				on("a user aborts: active goes back to the stable revision at once", 10*sec, request(v1alpha1.AbortAnnotation)),
				on("abortScaleDownDelaySeconds is 0: scaled down at once", 10*sec),
			}),
		},
		{
			name:  "abort-unsaturated",
			setup: []func(*world){capAvailable("demo:v2", 1)},
			steps: steps(deployed(), []step{
				on("the image changes; only one new pod becomes ready", 60*sec, setImage("demo:v2")),
				on("one of three new pods is available", 10*sec),
				on("a user aborts while the new revision is not saturated", 10*sec, request(v1alpha1.AbortAnnotation)),
				on("the abort scale-down deadline passes", 30*sec),
			}),
		},
		{
			name: "retry",
			spec: []func(*v1alpha1.Rollout){preAnalysis, abortScaleDownDelay(10)},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: analysis starts", 10*sec),
				on("the analysis fails: abort", 10*sec, runEnds(pre, failed)),
				on("the abort scale-down deadline passes", 10*sec),
				on("a user retries", 60*sec, request(v1alpha1.RetryAnnotation)),
				on("the new pods are available again: fresh analysis", 10*sec),
				on("the fresh analysis succeeds", 10*sec, runEnds(pre, successful)),
			}),
		},
		{
			name: "fast-rollback-to-stable",
			spec: []func(*v1alpha1.Rollout){postAnalysis},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: switch, post-promotion analysis starts", 10*sec),
				on("the template goes back to v1: active goes back at once", 10*sec, setImage("demo:v1")),
				on("v2's scale-down deadline passes", 30*sec),
			}),
		},
		{
			name: "fast-rollback-inside-scale-down-delay",
			spec: []func(*v1alpha1.Rollout){preAnalysis, scaleDownDelay(300)},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: analysis starts", 10*sec),
				on("the analysis succeeds: switch", 10*sec, runEnds(pre, successful)),
				on("the template goes back to v1 inside v1's scale-down delay", 60*sec, setImage("demo:v1")),
				on("v2's scale-down deadline passes", 300*sec),
			}),
		},
		{
			name: "fast-rollback-inside-rollback-window",
			spec: []func(*v1alpha1.Rollout){preAnalysis, scaleDownDelay(0), rollbackWindow(2)},
			steps: steps(deployed(), []step{
				on("the image changes to v2", 60*sec, setImage("demo:v2")),
				on("v2 is available: analysis starts", 10*sec),
				on("v2's analysis succeeds: switch, v1 scaled down at once", 10*sec, runEnds(pre, successful)),
				on("the image changes to v3", 60*sec, setImage("demo:v3")),
				on("v3 is available: analysis starts", 10*sec),
				on("v3's analysis succeeds: switch", 10*sec, runEnds(pre, successful)),
				on("the template goes back to v1, two revisions back: inside the window", 60*sec, setImage("demo:v1")),
				on("v1 is available again: switch at once", 10*sec),
			}),
		},
		{
			name: "rollback-outside-rollback-window",
			spec: []func(*v1alpha1.Rollout){preAnalysis, scaleDownDelay(0), rollbackWindow(1)},
			steps: steps(deployed(), []step{
				on("the image changes to v2", 60*sec, setImage("demo:v2")),
				on("v2 is available: analysis starts", 10*sec),
				on("v2's analysis succeeds: switch", 10*sec, runEnds(pre, successful)),
				on("the image changes to v3", 60*sec, setImage("demo:v3")),
				on("v3 is available: analysis starts", 10*sec),
				on("v3's analysis succeeds: switch", 10*sec, runEnds(pre, successful)),
				on("the template goes back to v1, outside the window", 60*sec, setImage("demo:v1")),
				on("v1 is available: analysis starts as for a new revision", 10*sec),
			}),
		},
		{
			name: "scale-down-delay-zero",
			spec: []func(*v1alpha1.Rollout){scaleDownDelay(0)},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: switch, the old revision is scaled down at once", 10*sec),
			}),
		},
		{
			name: "scale-down-delay-revision-limit-lowered",
			spec: []func(*v1alpha1.Rollout){scaleDownDelay(600), scaleDownDelayRevisionLimit(2)},
			steps: steps(deployed(), []step{
				on("the image changes to v2", 60*sec, setImage("demo:v2")),
				on("v2 is available: switch", 10*sec),
				on("the image changes to v3", 10*sec, setImage("demo:v3")),
				on("v3 is available: switch; v1 and v2 stay up in their delay", 10*sec),
				on("scaleDownDelayRevisionLimit is lowered to 1: v1 is scaled down at once", 10*sec, edit(scaleDownDelayRevisionLimit(1))),
				on("v2's deadline passes", 600*sec),
			}),
		},
		{
			name: "revision-history-limit",
			spec: []func(*v1alpha1.Rollout){scaleDownDelay(0), revisionHistoryLimit(0), preAnalysis},
			steps: steps(deployed(), []step{
				on("the image changes to v2", 60*sec, setImage("demo:v2")),
				on("v2 is available: analysis starts", 10*sec),
				on("v2's analysis succeeds: switch, v1 scaled down", 10*sec, runEnds(pre, successful)),
				on("the image changes to v3", 10*sec, setImage("demo:v3")),
				on("v3 is available: analysis starts", 10*sec),
				on("v3's analysis succeeds: switch, v2 scaled down", 10*sec, runEnds(pre, successful)),
				on("v2's pods are gone: it is deleted with its AnalysisRun", 10*sec),
			}),
		},
		{
			name: "analysis-run-history-limit",
			spec: []func(*v1alpha1.Rollout){preAnalysis, runHistory(1, 1), scaleDownDelay(0)},
			steps: steps(deployed(), []step{
				on("the image changes to v2", 60*sec, setImage("demo:v2")),
				on("v2 is available: analysis starts", 10*sec),
				on("v2's analysis succeeds", 10*sec, runEnds(pre, successful)),
				on("the image changes to v3", 10*sec, setImage("demo:v3")),
				on("v3 is available: analysis starts", 10*sec),
				on("v3's analysis succeeds: v2's run is beyond the limit", 10*sec, runEnds(pre, successful)),
			}),
		},
		{
			name:  "progress-deadline",
			spec:  []func(*v1alpha1.Rollout){progressDeadline(120, false)},
			setup: []func(*world){capAvailable("demo:v2", 1)},
			steps: steps(deployed(), []step{
				on("the image changes; only one new pod becomes ready", 60*sec, setImage("demo:v2")),
				on("one pod is available: progress", 10*sec),
				on("no progress yet", 60*sec),
				on("the deadline passes", 60*sec),
				on("the pods recover: progress again", 60*sec, uncap("demo:v2")),
			}),
		},
		{
			name:  "progress-deadline-abort",
			spec:  []func(*v1alpha1.Rollout){progressDeadline(120, true)},
			setup: []func(*world){capAvailable("demo:v2", 0)},
			steps: steps(deployed(), []step{
				on("the image changes; no new pod becomes ready", 60*sec, setImage("demo:v2")),
				on("no progress", 60*sec),
				on("the deadline passes: abort", 60*sec),
				on("the abort scale-down deadline passes", 30*sec),
			}),
		},
		{
			name:  "progress-deadline-while-paused",
			spec:  []func(*v1alpha1.Rollout){progressDeadline(120, false)},
			setup: []func(*world){capAvailable("demo:v2", 0)},
			steps: steps(deployed(), []step{
				on("the image changes; no new pod becomes ready", 60*sec, setImage("demo:v2")),
				on("the Rollout is paused", 60*sec, setPaused(true)),
				on("long past the deadline, but paused", 600*sec),
				on("resumed: the clock starts again", 10*sec, setPaused(false)),
				on("the deadline passes", 120*sec),
			}),
		},
		{
			name:  "progress-deadline-crash-loop",
			spec:  []func(*v1alpha1.Rollout){progressDeadline(120, false)},
			setup: []func(*world){capAvailable("demo:v2", 0)},
			steps: steps(deployed(), []step{
				on("the image changes; the new pods crash-loop", 60*sec, setImage("demo:v2")),
				on("a pod is up for a moment: progress", 30*sec, capAvailable("demo:v2", 1)),
				on("it crashes", 30*sec, capAvailable("demo:v2", 0)),
				on("it is up again: not progress", 30*sec, capAvailable("demo:v2", 1)),
				on("it crashes again", 20*sec, capAvailable("demo:v2", 0)),
				on("the deadline passes, counted from the first time the pod was up", 40*sec),
			}),
		},
		{
			name: "endpoints-lag",
			spec: []func(*v1alpha1.Rollout){scaleDownDelay(0)},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: switch; the endpoints still list the old pods", 10*sec),
				on("the endpoint controller lags: the old revision stays up", 10*sec, lagEndpoints(true)),
				on("the endpoints catch up: the old revision is scaled down", 10*sec, lagEndpoints(false)),
			}),
		},
		{
			name: "restart",
			steps: steps(deployed(), []step{
				on("spec.restartAt is set a minute ahead: nothing yet", 60*sec, restartAt(60*sec)),
				on("restartAt is reached: one extra pod first", 60*sec),
				on("the extra pod is available: the first old pod goes", 10*sec),
				on("its replacement is available: the second goes", 10*sec),
				on("the third goes", 10*sec),
				on("no old pod is left: back to spec.replicas", 10*sec),
				on("nothing more to do", 10*sec),
			}),
		},
		{
			name: "spec-paused",
			steps: steps(deployed(), []step{
				on("the Rollout is paused", 60*sec, setPaused(true)),
				on("the image changes while paused: nothing is created", 10*sec, setImage("demo:v2")),
				on("replicas change while paused: the stable revision follows", 10*sec, setReplicas(4)),
				on("resumed: the new revision is released", 10*sec, setPaused(false)),
				on("the new pods are available: paused again before the switch", 10*sec, setPaused(true)),
				on("resumed: switch", 10*sec, setPaused(false)),
			}),
		},
		{
			name: "hpa-mid-rollout",
			spec: []func(*v1alpha1.Rollout){manualPromotion, scaleDownDelay(600)},
			steps: steps(deployed(), []step{
				on("the image changes to v2", 60*sec, setImage("demo:v2")),
				on("v2 is available: pause", 10*sec),
				on("a user promotes v2", 10*sec, request(v1alpha1.PromoteAnnotation)),
				on("the image changes to v3: v1 is in its scale-down delay", 10*sec, setImage("demo:v3")),
				on("v3 is available: pause", 10*sec),
				on("the HPA scales to 5: stable and preview follow, v1 does not", 10*sec, setReplicas(5)),
				on("the pods are available", 10*sec),
			}),
		},
		{
			name: "hash-collision",
			steps: steps(deployed(), []step{
				on("an owned ReplicaSet already has v2's hash, with another template", 60*sec, collide("demo:v2")),
				on("the image changes to v2: the hash collides", 0, setImage("demo:v2")),
				on("the new pods are available", 10*sec),
			}),
		},
		{
			name: "stale-promote",
			spec: []func(*v1alpha1.Rollout){manualPromotion},
			steps: steps(deployed(), []step{
				on("the image changes to v2", 60*sec, setImage("demo:v2")),
				on("v2 is available: pause", 10*sec),
				on("the image changes to v3", 10*sec, setImage("demo:v3")),
				on("a promote for v2 arrives late", 5*sec, requestForImage(v1alpha1.PromoteAnnotation, "demo:v2")),
				on("still waiting for a promote request for v3", 5*sec),
			}),
		},
		{
			name: "pre-analysis-failed",
			spec: []func(*v1alpha1.Rollout){preAnalysis},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: analysis starts", 10*sec),
				on("the analysis fails: abort", 10*sec, runEnds(pre, failed)),
			}),
		},
		{
			name: "pre-analysis-error",
			spec: []func(*v1alpha1.Rollout){preAnalysis},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: analysis starts", 10*sec),
				on("the analysis errors: abort", 10*sec, runEnds(pre, errored)),
			}),
		},
		{
			name: "pre-analysis-inconclusive",
			spec: []func(*v1alpha1.Rollout){preAnalysis},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: analysis starts", 10*sec),
				on("the analysis is inconclusive: pause", 10*sec, runEnds(pre, inconclusive)),
				on("a user promotes: the gate is passed", 60*sec, request(v1alpha1.PromoteAnnotation)),
			}),
		},
		{
			name: "post-analysis-failed",
			spec: []func(*v1alpha1.Rollout){postAnalysis},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: switch, analysis starts", 10*sec),
				on("the analysis fails: abort, active goes back", 10*sec, runEnds(post, failed)),
				on("the abort scale-down deadline passes", 30*sec),
			}),
		},
		{
			name: "post-analysis-inconclusive",
			spec: []func(*v1alpha1.Rollout){postAnalysis},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the new pods are available: switch, analysis starts", 10*sec),
				on("the analysis is inconclusive: pause", 10*sec, runEnds(post, inconclusive)),
				on("a user aborts", 60*sec, request(v1alpha1.AbortAnnotation)),
			}),
		},
		{
			name: "invalid-missing-service",
			steps: steps(deployed(), []step{
				on("the preview Service is deleted", 60*sec, deleteService("demo-preview")),
				on("the image changes: nothing is touched", 10*sec, setImage("demo:v2")),
				on("the preview Service is back", 10*sec, func(w *world) {
					w.services["demo-preview"] = w.services["demo-active"].DeepCopy()
					w.services["demo-preview"].Name = "demo-preview"
				}),
			}),
		},
		{
			name:  "invalid-selector-key",
			setup: []func(*world){setServiceSelector("demo-active", "tier", "web")},
			steps: []step{
				on("the active Service selects a label the template lacks", 0),
				on("a promote request waits for the fix", 10*sec, requestFor(v1alpha1.PromoteAnnotation, "x")),
			},
		},
		{
			name:  "invalid-managed-by-other",
			setup: []func(*world){setServiceAnnotation("demo-preview", v1alpha1.ManagedByAnnotation, "other")},
			steps: []step{
				on("the preview Service is managed by another Rollout", 0),
			},
		},
		{
			name: "invalid-workload-missing",
			steps: steps(deployed(), []step{
				on("the Rollout moves to a workloadRef whose Deployment is missing", 60*sec, useWorkloadRef),
			}),
		},
		{
			name: "role-metadata",
			spec: []func(*v1alpha1.Rollout){roleMetadata, previewReplicaCount(1)},
			steps: steps(deployed(), []step{
				on("the image changes", 60*sec, setImage("demo:v2")),
				on("the preview pod is available: scale up", 10*sec),
				on("the new pods are available: switch, roles change", 10*sec),
			}),
		},
	}
}
