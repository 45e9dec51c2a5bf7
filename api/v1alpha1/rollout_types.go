package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Rollout replaces a Deployment: every new pod template becomes a new ReplicaSet behind
// the preview Service, while the active Service keeps serving the stable one until the
// new revision is promoted.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=bgro,categories=bluegreen
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.HPAReplicas,selectorpath=.status.selector
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="Current",type=integer,JSONPath=`.status.replicas`
// +kubebuilder:printcolumn:name="Up-to-date",type=integer,JSONPath=`.status.updatedReplicas`
// +kubebuilder:printcolumn:name="Available",type=integer,JSONPath=`.status.availableReplicas`
// +kubebuilder:printcolumn:name="Active",type=string,JSONPath=`.status.blueGreen.activeSelector`
// +kubebuilder:printcolumn:name="Preview",type=string,JSONPath=`.status.blueGreen.previewSelector`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Rollout struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state: the pod template and how a new revision of it is released.
	// +required
	Spec RolloutSpec `json:"spec"`

	// status is what the controller last observed and did.
	// +optional
	Status RolloutStatus `json:"status,omitempty"`
}

// RolloutSpec is the desired state of a Rollout.
//
// +kubebuilder:validation:XValidation:rule="has(self.workloadRef) || has(self.selector)",message="spec.selector is required unless spec.workloadRef is set: add a selector whose matchLabels are among spec.template.metadata.labels"
// +kubebuilder:validation:XValidation:rule="has(self.workloadRef) || has(self.template)",message="spec.template is required unless spec.workloadRef is set: add the pod template, or reference a Deployment with spec.workloadRef"
// +kubebuilder:validation:XValidation:rule="!has(self.workloadRef) || !has(self.template)",message="spec.template must be empty when spec.workloadRef is set: remove spec.template; the pod template is taken from the referenced Deployment"
// +kubebuilder:validation:XValidation:rule="!has(self.strategy.blueGreen.scaleDownDelayRevisionLimit) || self.strategy.blueGreen.scaleDownDelayRevisionLimit <= (has(self.revisionHistoryLimit) ? self.revisionHistoryLimit : 10)",message="spec.strategy.blueGreen.scaleDownDelayRevisionLimit must not exceed spec.revisionHistoryLimit: lower it, or raise revisionHistoryLimit"
// +kubebuilder:validation:XValidation:rule="!has(self.progressDeadlineSeconds) || !has(self.minReadySeconds) || self.progressDeadlineSeconds > self.minReadySeconds",message="spec.progressDeadlineSeconds must be greater than spec.minReadySeconds: raise progressDeadlineSeconds"
type RolloutSpec struct {
	// replicas is the number of pods of the active revision. An HorizontalPodAutoscaler
	// can drive it through the scale subresource.
	// +kubebuilder:default=1
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="spec.replicas must not be negative: set 0 or more"
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// selector selects the pods of this Rollout; it must match spec.template.metadata.labels.
	// Required unless workloadRef is set, and immutable.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.selector is immutable: create a new Rollout to change it"
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`

	// template is the pod template. Each change of it is a new revision, released as a new
	// ReplicaSet. Must be empty when workloadRef is set.
	// +optional
	Template *corev1.PodTemplateSpec `json:"template,omitempty"`

	// workloadRef takes the pod template and selector from an existing Deployment instead
	// of spec.template, so that a Deployment can be moved under a Rollout without rewriting it.
	// +optional
	WorkloadRef *ObjectRef `json:"workloadRef,omitempty"`

	// minReadySeconds is how long a new pod must be ready, without any container crashing,
	// before it counts as available.
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="spec.minReadySeconds must not be negative: set 0 or more"
	// +optional
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`

	// revisionHistoryLimit is how many old ReplicaSets are kept (scaled to 0) for rollback.
	// +kubebuilder:default=10
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="spec.revisionHistoryLimit must not be negative: set 0 or more"
	// +optional
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`

	// paused stops promotion and Service switches; ReplicaSets still follow spec.replicas.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// strategy says how a new revision is released.
	// +required
	Strategy RolloutStrategy `json:"strategy"`

	// progressDeadlineSeconds is how long a revision may go without progress (more available
	// pods of it) before the Rollout is Degraded with reason ProgressDeadlineExceeded.
	// Pods that crash-loop do not count as progress. Not counted while paused.
	// +kubebuilder:default=600
	// +kubebuilder:validation:XValidation:rule="self >= 1",message="spec.progressDeadlineSeconds must be at least 1: set a number of seconds"
	// +optional
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`

	// progressDeadlineAbort aborts the revision when its progress deadline is exceeded,
	// instead of only reporting it.
	// +optional
	ProgressDeadlineAbort bool `json:"progressDeadlineAbort,omitempty"`

	// restartAt asks for every pod of the active revision started before this time to be
	// restarted, one at a time.
	// +optional
	RestartAt *metav1.Time `json:"restartAt,omitempty"`

	// rollbackWindow lets a change back to one of the last N revisions skip pause and
	// analysis, as a fast rollback.
	// +optional
	RollbackWindow *RollbackWindowSpec `json:"rollbackWindow,omitempty"`

	// analysis bounds how many finished AnalysisRuns are kept.
	// +optional
	Analysis *AnalysisRunStrategy `json:"analysis,omitempty"`
}

// ObjectRef points at the workload whose pod template a Rollout uses.
type ObjectRef struct {
	// apiVersion of the referenced workload.
	// +kubebuilder:validation:Enum=apps/v1
	// +kubebuilder:default="apps/v1"
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// kind of the referenced workload.
	// +kubebuilder:validation:Enum=Deployment
	// +required
	Kind string `json:"kind"`

	// name of the referenced workload, in the Rollout's namespace.
	// +kubebuilder:validation:MinLength=1
	// +required
	Name string `json:"name"`

	// scaleDown says what happens to the referenced Deployment: "never" leaves it as it is;
	// "onsuccess" scales it to 0 once the Rollout is Healthy; "progressively" scales it down
	// as the Rollout's pods become available.
	// +kubebuilder:validation:Enum=never;onsuccess;progressively
	// +optional
	ScaleDown string `json:"scaleDown,omitempty"`
}

// Values of ObjectRef.ScaleDown.
const (
	ScaleDownNever         = "never"
	ScaleDownOnSuccess     = "onsuccess"
	ScaleDownProgressively = "progressively"
)

// RollbackWindowSpec bounds the fast rollback.
type RollbackWindowSpec struct {
	// revisions is how many of the most recent revisions a fast rollback may go back to.
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="spec.rollbackWindow.revisions must not be negative: set 0 or more"
	// +optional
	Revisions int32 `json:"revisions,omitempty"`
}

// AnalysisRunStrategy bounds the AnalysisRuns kept for a Rollout.
type AnalysisRunStrategy struct {
	// successfulRunHistoryLimit is how many successful AnalysisRuns are kept (default 5).
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="spec.analysis.successfulRunHistoryLimit must not be negative: set 0 or more"
	// +optional
	SuccessfulRunHistoryLimit *int32 `json:"successfulRunHistoryLimit,omitempty"`

	// unsuccessfulRunHistoryLimit is how many failed, errored or inconclusive AnalysisRuns
	// are kept (default 5).
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="spec.analysis.unsuccessfulRunHistoryLimit must not be negative: set 0 or more"
	// +optional
	UnsuccessfulRunHistoryLimit *int32 `json:"unsuccessfulRunHistoryLimit,omitempty"`
}

// RolloutStrategy says how a new revision is released. Only blue-green is supported.
type RolloutStrategy struct {
	// blueGreen releases each revision beside the stable one, behind the preview Service,
	// and switches the active Service to it when it is promoted.
	// +required
	BlueGreen *BlueGreenStrategy `json:"blueGreen"`
}

// BlueGreenStrategy releases a revision beside the stable one and switches traffic at once.
//
// +kubebuilder:validation:XValidation:rule="!has(self.previewService) || self.previewService != self.activeService",message="spec.strategy.blueGreen.previewService must differ from activeService: give the preview (standby) Service its own name"
// +kubebuilder:validation:XValidation:rule="!has(self.autoPromotionEnabled) || self.autoPromotionEnabled || !has(self.autoPromotionSeconds) || self.autoPromotionSeconds == 0",message="spec.strategy.blueGreen.autoPromotionSeconds promotes by itself while autoPromotionEnabled: false waits for a person: remove one of them"
type BlueGreenStrategy struct {
	// activeService is the Service that carries production traffic. Its selector gets
	// rollouts-pod-template-hash of the promoted revision.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	ActiveService string `json:"activeService"`

	// previewService is the Service pointed at the newest revision, before and after promotion.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	PreviewService string `json:"previewService,omitempty"`

	// previewReplicaCount is the size of a new revision before promotion (default: replicas).
	// It is scaled to replicas before the active Service is switched to it.
	// +kubebuilder:validation:XValidation:rule="self >= 1",message="spec.strategy.blueGreen.previewReplicaCount must be at least 1: leave it out to preview at full size"
	// +optional
	PreviewReplicaCount *int32 `json:"previewReplicaCount,omitempty"`

	// autoPromotionEnabled false pauses a new revision before the switch until it is promoted.
	// +kubebuilder:default=true
	// +optional
	AutoPromotionEnabled *bool `json:"autoPromotionEnabled,omitempty"`

	// autoPromotionSeconds pauses a new revision before the switch and promotes it by itself
	// this many seconds after the pause began.
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="spec.strategy.blueGreen.autoPromotionSeconds must not be negative: set 0 or more"
	// +optional
	AutoPromotionSeconds int32 `json:"autoPromotionSeconds,omitempty"`

	// scaleDownDelaySeconds is how long the previous revision stays at full size after the
	// switch, for draining and instant rollback. 0 scales it down at once.
	// +kubebuilder:default=30
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="spec.strategy.blueGreen.scaleDownDelaySeconds must not be negative: set 0 to scale down at once"
	// +optional
	ScaleDownDelaySeconds *int32 `json:"scaleDownDelaySeconds,omitempty"`

	// scaleDownDelayRevisionLimit is how many old revisions may stay up during their
	// scale-down delay; older ones are scaled down at once. Unset means no limit.
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="spec.strategy.blueGreen.scaleDownDelayRevisionLimit must not be negative: set 0 or more"
	// +optional
	ScaleDownDelayRevisionLimit *int32 `json:"scaleDownDelayRevisionLimit,omitempty"`

	// abortScaleDownDelaySeconds is how long after an abort the aborted revision is scaled
	// to 0, counted from when the stable revision is fully available again.
	// +kubebuilder:default=30
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="spec.strategy.blueGreen.abortScaleDownDelaySeconds must not be negative: set 0 or more"
	// +optional
	AbortScaleDownDelaySeconds *int32 `json:"abortScaleDownDelaySeconds,omitempty"`

	// prePromotionAnalysis runs when the new revision is available at its preview size,
	// before the switch. Failure or error aborts; inconclusive pauses.
	// +optional
	PrePromotionAnalysis *RolloutAnalysis `json:"prePromotionAnalysis,omitempty"`

	// postPromotionAnalysis runs after the switch. Failure or error aborts, which switches
	// the active Service back to the stable revision.
	// +optional
	PostPromotionAnalysis *RolloutAnalysis `json:"postPromotionAnalysis,omitempty"`

	// antiAffinity makes the pods of a new revision avoid the nodes of the stable revision's pods.
	// +optional
	AntiAffinity *AntiAffinity `json:"antiAffinity,omitempty"`

	// activeMetadata is put on the pods of the active revision, and patched onto running
	// pods when their revision becomes active.
	// +optional
	ActiveMetadata *PodTemplateMetadata `json:"activeMetadata,omitempty"`

	// previewMetadata is put on the pods of the revision in preview, and removed from them
	// when it becomes active.
	// +optional
	PreviewMetadata *PodTemplateMetadata `json:"previewMetadata,omitempty"`
}

// RolloutAnalysis is an analysis gate: the templates to run and their arguments.
type RolloutAnalysis struct {
	// templates are the AnalysisTemplates (or ClusterAnalysisTemplates) whose metrics are run
	// together as one AnalysisRun.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +required
	Templates []AnalysisTemplateRef `json:"templates"`

	// args are the values of the templates' arguments.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Args []AnalysisRunArgument `json:"args,omitempty"`

	// dryRun lists metrics that are measured and recorded but never decide the outcome.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	DryRun []DryRun `json:"dryRun,omitempty"`
}

// AnalysisTemplateRef names an AnalysisTemplate or ClusterAnalysisTemplate.
type AnalysisTemplateRef struct {
	// templateName is the name of the template.
	// +kubebuilder:validation:MinLength=1
	// +required
	TemplateName string `json:"templateName"`

	// clusterScope true refers to a ClusterAnalysisTemplate.
	// +optional
	ClusterScope bool `json:"clusterScope,omitempty"`
}

// AnalysisRunArgument gives a template argument its value.
//
// +kubebuilder:validation:XValidation:rule="has(self.value) != has(self.valueFrom)",message="an analysis argument needs exactly one of value or valueFrom"
type AnalysisRunArgument struct {
	// name of the argument, as declared in the template's args.
	// +kubebuilder:validation:MinLength=1
	// +required
	Name string `json:"name"`

	// value is the argument's value.
	// +optional
	Value *string `json:"value,omitempty"`

	// valueFrom takes the value from the Rollout.
	// +optional
	ValueFrom *ArgumentValueFrom `json:"valueFrom,omitempty"`
}

// ArgumentValueFrom takes an argument's value from the Rollout.
//
// +kubebuilder:validation:XValidation:rule="[has(self.podTemplateHashValue), has(self.fieldRef), has(self.secretKeyRef)].filter(x, x).size() == 1",message="valueFrom needs exactly one of podTemplateHashValue, fieldRef or secretKeyRef"
type ArgumentValueFrom struct {
	// podTemplateHashValue is the pod template hash of the Stable or the Latest revision.
	// +kubebuilder:validation:Enum=Stable;Latest
	// +optional
	PodTemplateHashValue *ValueFromPodTemplateHash `json:"podTemplateHashValue,omitempty"`

	// fieldRef is a field of the Rollout, such as metadata.name or metadata.labels['app'].
	// +optional
	FieldRef *FieldRef `json:"fieldRef,omitempty"`

	// secretKeyRef is a key of a Secret in the Rollout's namespace. Its value never
	// appears in status, events or logs.
	// +optional
	SecretKeyRef *SecretKeyRef `json:"secretKeyRef,omitempty"`
}

// ValueFromPodTemplateHash is Stable or Latest.
type ValueFromPodTemplateHash string

// Values of ValueFromPodTemplateHash.
const (
	Stable ValueFromPodTemplateHash = "Stable"
	Latest ValueFromPodTemplateHash = "Latest"
)

// FieldRef is a path to a field of the Rollout.
type FieldRef struct {
	// fieldPath is the path, such as metadata.name or metadata.labels['app'].
	// +kubebuilder:validation:MinLength=1
	// +required
	FieldPath string `json:"fieldPath"`
}

// DryRun names a metric whose result is recorded but never decides.
type DryRun struct {
	// metricName is the metric's name, or ".*" for every metric.
	// +kubebuilder:validation:MinLength=1
	// +required
	MetricName string `json:"metricName"`
}

// AntiAffinity makes new pods avoid the nodes of the stable revision's pods. Exactly one
// kind is set.
//
// +kubebuilder:validation:XValidation:rule="has(self.preferredDuringSchedulingIgnoredDuringExecution) != has(self.requiredDuringSchedulingIgnoredDuringExecution)",message="spec.strategy.blueGreen.antiAffinity needs exactly one of preferredDuringSchedulingIgnoredDuringExecution or requiredDuringSchedulingIgnoredDuringExecution"
type AntiAffinity struct {
	// preferredDuringSchedulingIgnoredDuringExecution prefers other nodes, with a weight.
	// +optional
	PreferredDuringSchedulingIgnoredDuringExecution *PreferredDuringSchedulingIgnoredDuringExecution `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`

	// requiredDuringSchedulingIgnoredDuringExecution requires other nodes.
	// +optional
	RequiredDuringSchedulingIgnoredDuringExecution *RequiredDuringSchedulingIgnoredDuringExecution `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// PreferredDuringSchedulingIgnoredDuringExecution is a soft anti-affinity.
type PreferredDuringSchedulingIgnoredDuringExecution struct {
	// weight of the preference, 1 to 100.
	// +kubebuilder:validation:XValidation:rule="self >= 1 && self <= 100",message="antiAffinity weight must be between 1 and 100"
	// +required
	Weight int32 `json:"weight"`
}

// RequiredDuringSchedulingIgnoredDuringExecution is a hard anti-affinity.
type RequiredDuringSchedulingIgnoredDuringExecution struct{}

// PodTemplateMetadata is labels and annotations for the pods of a role.
type PodTemplateMetadata struct {
	// labels to add.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// annotations to add.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// RolloutPhase summarises a Rollout.
// +kubebuilder:validation:Enum=Healthy;Progressing;Paused;Degraded
type RolloutPhase string

// Values of RolloutPhase.
const (
	// PhaseHealthy: the active revision is the newest one, fully available, and nothing is in flight.
	PhaseHealthy RolloutPhase = "Healthy"
	// PhaseProgressing: a revision is being released.
	PhaseProgressing RolloutPhase = "Progressing"
	// PhasePaused: waiting for promotion, or spec.paused.
	PhasePaused RolloutPhase = "Paused"
	// PhaseDegraded: aborted, invalid, or past the progress deadline.
	PhaseDegraded RolloutPhase = "Degraded"
)

// RolloutStatus is what the controller last observed and did.
type RolloutStatus struct {
	// observedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase summarises the Rollout: Healthy, Progressing, Paused or Degraded.
	// +optional
	Phase RolloutPhase `json:"phase,omitempty"`

	// message says, in words, why the Rollout is in its phase.
	// +optional
	Message string `json:"message,omitempty"`

	// currentPodHash is the pod template hash of the newest revision.
	// +optional
	CurrentPodHash string `json:"currentPodHash,omitempty"`

	// stableRS is the pod template hash of the last fully promoted revision.
	// +optional
	StableRS string `json:"stableRS,omitempty"`

	// blueGreen describes the Services and analysis of the blue-green strategy.
	// +optional
	BlueGreen BlueGreenStatus `json:"blueGreen,omitempty"`

	// replicas is the number of pods of every revision.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// updatedReplicas is the number of pods of the newest revision.
	// +optional
	UpdatedReplicas int32 `json:"updatedReplicas,omitempty"`

	// readyReplicas is the number of ready pods of every revision.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// availableReplicas is the number of available pods of every revision.
	// +optional
	AvailableReplicas int32 `json:"availableReplicas,omitempty"`

	// HPAReplicas is the number of available pods of the active revision: what the scale
	// subresource reports to an HorizontalPodAutoscaler.
	// +optional
	HPAReplicas int32 `json:"HPAReplicas,omitempty"`

	// selector selects the pods of the active revision, in label selector string form
	// (the scale subresource's selector).
	// +optional
	Selector string `json:"selector,omitempty"`

	// pauseConditions say why the Rollout is paused, and since when.
	// +optional
	// +listType=map
	// +listMapKey=reason
	PauseConditions []PauseCondition `json:"pauseConditions,omitempty"`

	// promotion acknowledges the last promotion: the revision promoted and how.
	// +optional
	Promotion *PromotionStatus `json:"promotion,omitempty"`

	// abort says who aborted the current revision, why, and with which measurement.
	// Empty when not aborted.
	// +optional
	Abort *AbortStatus `json:"abort,omitempty"`

	// collisionCount counts pod template hash collisions; it is mixed into the hash to
	// make a new one.
	// +optional
	CollisionCount *int32 `json:"collisionCount,omitempty"`

	// restartedAt is when the last restart asked by spec.restartAt finished.
	// +optional
	RestartedAt *metav1.Time `json:"restartedAt,omitempty"`

	// conditions are the standard conditions: Ready, Reconciling, Stalled (kstatus) and
	// Progressing, Available, Paused, Completed, InvalidSpec.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// BlueGreenStatus describes the Services and analysis of the blue-green strategy.
type BlueGreenStatus struct {
	// activeSelector is the pod template hash the active Service selects.
	// +optional
	ActiveSelector string `json:"activeSelector,omitempty"`

	// previewSelector is the pod template hash the preview Service selects.
	// +optional
	PreviewSelector string `json:"previewSelector,omitempty"`

	// prePromotionAnalysisRunStatus is the pre-promotion AnalysisRun of the current revision.
	// +optional
	PrePromotionAnalysisRunStatus *RolloutAnalysisRunStatus `json:"prePromotionAnalysisRunStatus,omitempty"`

	// postPromotionAnalysisRunStatus is the post-promotion AnalysisRun of the current revision.
	// +optional
	PostPromotionAnalysisRunStatus *RolloutAnalysisRunStatus `json:"postPromotionAnalysisRunStatus,omitempty"`
}

// RolloutAnalysisRunStatus refers to an AnalysisRun and its phase.
type RolloutAnalysisRunStatus struct {
	// name of the AnalysisRun.
	// +required
	Name string `json:"name"`
	// status is the AnalysisRun's phase.
	// +optional
	Status AnalysisPhase `json:"status,omitempty"`
	// message is the AnalysisRun's message.
	// +optional
	Message string `json:"message,omitempty"`
}

// PauseReason says why a Rollout is paused.
type PauseReason string

// Values of PauseReason.
const (
	// PauseReasonBlueGreenPause: waiting for promotion (autoPromotionEnabled false or autoPromotionSeconds).
	PauseReasonBlueGreenPause PauseReason = "BlueGreenPause"
	// PauseReasonInconclusiveAnalysis: an AnalysisRun was inconclusive; promote or abort.
	PauseReasonInconclusiveAnalysis PauseReason = "InconclusiveAnalysisRun"
)

// PauseCondition is one reason for a pause.
type PauseCondition struct {
	// reason for the pause.
	// +required
	Reason PauseReason `json:"reason"`
	// startTime is when the pause began; autoPromotionSeconds counts from it.
	// +required
	StartTime metav1.Time `json:"startTime"`
}

// PromotionStatus acknowledges a promotion.
type PromotionStatus struct {
	// revision is the pod template hash that was promoted.
	// +required
	Revision string `json:"revision"`
	// full is true when remaining analysis and pauses were skipped.
	// +optional
	Full bool `json:"full,omitempty"`
	// promotedAt is when the request was acknowledged.
	// +required
	PromotedAt metav1.Time `json:"promotedAt"`
}

// AbortSource says who aborted a revision.
// +kubebuilder:validation:Enum=User;Analysis;ProgressDeadline
type AbortSource string

// Values of AbortSource.
const (
	AbortByUser             AbortSource = "User"
	AbortByAnalysis         AbortSource = "Analysis"
	AbortByProgressDeadline AbortSource = "ProgressDeadline"
)

// AbortStatus says who aborted a revision and why.
type AbortStatus struct {
	// revision is the pod template hash of the aborted revision.
	// +required
	Revision string `json:"revision"`
	// by is who aborted: User, Analysis or ProgressDeadline.
	// +required
	By AbortSource `json:"by"`
	// reason is a stable UpperCamel word for the cause.
	// +optional
	Reason string `json:"reason,omitempty"`
	// message says what happened, in words.
	// +optional
	Message string `json:"message,omitempty"`
	// abortedAt is when the abort happened.
	// +required
	AbortedAt metav1.Time `json:"abortedAt"`
	// analysis is the measurement that caused the abort, when analysis caused it.
	// +optional
	Analysis *AbortAnalysis `json:"analysis,omitempty"`
}

// AbortAnalysis is the measurement that made analysis abort a revision.
type AbortAnalysis struct {
	// runName is the AnalysisRun.
	// +required
	RunName string `json:"runName"`
	// phase is the AnalysisRun's phase: Failed or Error.
	// +optional
	Phase AnalysisPhase `json:"phase,omitempty"`
	// metricName is the metric that decided.
	// +optional
	MetricName string `json:"metricName,omitempty"`
	// value is the last measured value of that metric.
	// +optional
	Value string `json:"value,omitempty"`
	// condition is the metric's failure or success condition.
	// +optional
	Condition string `json:"condition,omitempty"`
	// query is the provider's query or URL, with arguments substituted (secrets masked).
	// +optional
	Query string `json:"query,omitempty"`
	// message is the measurement's message, such as a provider error.
	// +optional
	Message string `json:"message,omitempty"`
}

// +kubebuilder:object:root=true

// RolloutList is a list of Rollouts.
type RolloutList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Rollout `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Rollout{}, &RolloutList{})
}
