package v1alpha1

// Labels the controller puts on the objects it manages.
const (
	// PodTemplateHashLabel carries a revision's pod template hash on its ReplicaSet, the
	// ReplicaSet's selector, its pods and the selector of the Services pointed at it.
	PodTemplateHashLabel = "rollouts-pod-template-hash"
	// RolloutLabel names the Rollout that an AnalysisRun or analysis Job belongs to.
	RolloutLabel = "rollouts.bluegreen.dev/rollout"
	// AnalysisTypeLabel says which gate an AnalysisRun is: AnalysisTypePrePromotion or AnalysisTypePostPromotion.
	AnalysisTypeLabel = "rollouts.bluegreen.dev/analysis-type"
	// AnalysisRunLabel names the AnalysisRun that created a Job.
	AnalysisRunLabel = "rollouts.bluegreen.dev/analysis-run"
	// MetricLabel names the metric that created a Job.
	MetricLabel = "rollouts.bluegreen.dev/metric"
)

// Values of AnalysisTypeLabel.
const (
	AnalysisTypePrePromotion  = "pre-promotion"
	AnalysisTypePostPromotion = "post-promotion"
)

// Annotations the controller writes and reads.
const (
	// RevisionAnnotation holds a ReplicaSet's revision number (1, 2, …) as a decimal string.
	RevisionAnnotation = "rollouts.bluegreen.dev/revision"
	// ScaleDownDeadlineAnnotation holds, in RFC 3339, the time at which an old ReplicaSet is scaled to 0.
	ScaleDownDeadlineAnnotation = "rollouts.bluegreen.dev/scale-down-deadline"
	// ManagedByAnnotation, on a Service, names the Rollout that switches its selector.
	ManagedByAnnotation = "rollouts.bluegreen.dev/managed-by"
)

// Intent annotations: a person or the CLI writes one on a Rollout to ask for an action on
// one revision; the value is the pod template hash of that revision (status.currentPodHash).
// The controller carries out a request for the current revision, records it in status
// (status.promotion, status.abort), and then removes the annotation; a request that names
// another revision is removed unanswered, with a StaleRequestIgnored event, so that a stale
// promote can never promote a newer revision. Each is one JSON merge patch of the
// Rollout's metadata, for example:
//
//	kubectl patch rollout NAME --type merge //	  -p '{"metadata":{"annotations":{"rollouts.bluegreen.dev/promote":"HASH"}}}'
//
// A request is answered when the annotation is gone; status says how.
const (
	// PromoteAnnotation promotes the revision in preview: it ends a pause waiting for
	// promotion. Analysis still runs.
	//
	//	kubectl annotate rollout NAME rollouts.bluegreen.dev/promote=$(kubectl get rollout NAME -o jsonpath='{.status.currentPodHash}')
	PromoteAnnotation = "rollouts.bluegreen.dev/promote"
	// PromoteFullAnnotation promotes the revision at once: remaining analysis and pauses are skipped.
	//
	//	kubectl annotate rollout NAME rollouts.bluegreen.dev/promote-full=HASH
	PromoteFullAnnotation = "rollouts.bluegreen.dev/promote-full"
	// AbortAnnotation aborts the revision: the active Service goes back to the stable revision.
	//
	//	kubectl annotate rollout NAME rollouts.bluegreen.dev/abort=HASH
	AbortAnnotation = "rollouts.bluegreen.dev/abort"
	// RetryAnnotation clears an abort of the revision and starts it again with fresh analysis.
	//
	//	kubectl annotate rollout NAME rollouts.bluegreen.dev/retry=HASH
	RetryAnnotation = "rollouts.bluegreen.dev/retry"
)

// FieldOwner is the field manager of every write the controller makes.
const FieldOwner = "bluegreen-controller"

// Condition types of a Rollout. Ready, Reconciling and Stalled follow kstatus, so that
// `kubectl wait --for=condition=Ready` and GitOps health checks understand a Rollout.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
	ConditionProgressing = "Progressing"
	ConditionAvailable   = "Available"
	ConditionPaused      = "Paused"
	ConditionCompleted   = "Completed"
	ConditionInvalidSpec = "InvalidSpec"
)

// Condition reasons.
const (
	ReasonNewReplicaSetCreated     = "NewReplicaSetCreated"
	ReasonReplicaSetUpdated        = "ReplicaSetUpdated"
	ReasonNewReplicaSetAvailable   = "NewReplicaSetAvailable"
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	ReasonRolloutAborted           = "RolloutAborted"
	ReasonRolloutPaused            = "RolloutPaused"
	ReasonRolloutCompleted         = "RolloutCompleted"
	ReasonRolloutHealthy           = "RolloutHealthy"
	ReasonAvailable                = "AvailableReason"
	ReasonNotAvailable             = "NotAvailable"
	ReasonInvalidSpec              = "InvalidSpec"
	ReasonValid                    = "Valid"
	ReasonWaitingForPromotion      = "WaitingForPromotion"
	ReasonInconclusiveAnalysis     = "InconclusiveAnalysis"
	ReasonPausedBySpec             = "PausedBySpec"
	ReasonNotPaused                = "NotPaused"
)

// Event reasons. They are stable: notification triggers and users rely on them.
const (
	EventRolloutUpdated          = "RolloutUpdated"
	EventNewReplicaSetCreated    = "NewReplicaSetCreated"
	EventScalingReplicaSet       = "ScalingReplicaSet"
	EventSwitchService           = "SwitchService"
	EventRolloutPaused           = "RolloutPaused"
	EventRolloutResumed          = "RolloutResumed"
	EventRolloutPromoted         = "RolloutPromoted"
	EventRolloutCompleted        = "RolloutCompleted"
	EventRolloutAborted          = "RolloutAborted"
	EventRolloutRetried          = "RolloutRetried"
	EventRolloutRestarted        = "RolloutRestarted"
	EventFastRollback            = "FastRollback"
	EventRolloutDegraded         = "RolloutDegraded"
	EventInvalidSpec             = "InvalidSpec"
	EventProgressDeadline        = "ProgressDeadlineExceeded"
	EventStaleRequestIgnored     = "StaleRequestIgnored"
	EventAnalysisRunStarted      = "AnalysisRunStarted"
	EventAnalysisRunSuccessful   = "AnalysisRunSuccessful"
	EventAnalysisRunFailed       = "AnalysisRunFailed"
	EventAnalysisRunError        = "AnalysisRunError"
	EventAnalysisRunInconclusive = "AnalysisRunInconclusive"
)
