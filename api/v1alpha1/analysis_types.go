package v1alpha1

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// AnalysisTemplate is a reusable set of metrics, in one namespace, that a Rollout runs as
// an AnalysisRun before or after promotion.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=bgat,categories=bluegreen
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AnalysisTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec holds the metrics and the arguments they take.
	// +required
	Spec AnalysisTemplateSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// AnalysisTemplateList is a list of AnalysisTemplates.
type AnalysisTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AnalysisTemplate `json:"items"`
}

// ClusterAnalysisTemplate is an AnalysisTemplate that every namespace can use
// (templates[].clusterScope: true).
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=bgcat,categories=bluegreen
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterAnalysisTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec holds the metrics and the arguments they take.
	// +required
	Spec AnalysisTemplateSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// ClusterAnalysisTemplateList is a list of ClusterAnalysisTemplates.
type ClusterAnalysisTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterAnalysisTemplate `json:"items"`
}

// AnalysisTemplateSpec holds metrics and the arguments they take.
type AnalysisTemplateSpec struct {
	// metrics are measured together; the run's phase is its worst metric's.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=25
	// +listType=map
	// +listMapKey=name
	// +required
	Metrics []Metric `json:"metrics"`

	// args are the arguments the metrics use as {{args.NAME}}.
	// +kubebuilder:validation:MaxItems=64
	// +listType=map
	// +listMapKey=name
	// +optional
	Args []Argument `json:"args,omitempty"`

	// dryRun lists metrics that are measured and recorded but never decide.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	DryRun []DryRun `json:"dryRun,omitempty"`
}

// Argument is a named value substituted into metrics as {{args.NAME}}.
//
// +kubebuilder:validation:XValidation:rule="!has(self.value) || !has(self.valueFrom)",message="an argument takes value or valueFrom, not both"
type Argument struct {
	// name of the argument.
	// +kubebuilder:validation:MinLength=1
	// +required
	Name string `json:"name"`

	// value is the default value; a Rollout's args override it. An argument with neither
	// value nor valueFrom must be given by the Rollout.
	// +optional
	Value *string `json:"value,omitempty"`

	// valueFrom reads the value from a Secret or a field of the Rollout.
	// +optional
	ValueFrom *ValueFrom `json:"valueFrom,omitempty"`
}

// ValueFrom reads an argument's value from elsewhere.
//
// +kubebuilder:validation:XValidation:rule="has(self.secretKeyRef) != has(self.fieldRef)",message="valueFrom needs exactly one of secretKeyRef or fieldRef"
type ValueFrom struct {
	// secretKeyRef is a key of a Secret in the run's namespace. Its value never appears in
	// status, events or logs.
	// +optional
	SecretKeyRef *SecretKeyRef `json:"secretKeyRef,omitempty"`

	// fieldRef is a field of the Rollout.
	// +optional
	FieldRef *FieldRef `json:"fieldRef,omitempty"`
}

// SecretKeyRef is a key of a Secret.
type SecretKeyRef struct {
	// name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +required
	Name string `json:"name"`
	// key in the Secret's data.
	// +kubebuilder:validation:MinLength=1
	// +required
	Key string `json:"key"`
}

// DurationString is a Go duration such as "30s", "5m" or "1h30m".
// +kubebuilder:validation:Pattern=`^(([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+|\{\{.+\}\})$`
type DurationString string

// Metric is one measurement, repeated at an interval, and the conditions that judge it.
type Metric struct {
	// name of the metric, unique in its template.
	// +kubebuilder:validation:MinLength=1
	// +required
	Name string `json:"name"`

	// interval between measurements, such as "30s". Without it the metric is measured once
	// (or count times back to back).
	// +optional
	Interval DurationString `json:"interval,omitempty"`

	// initialDelay is how long to wait before the first measurement.
	// +optional
	InitialDelay DurationString `json:"initialDelay,omitempty"`

	// count is how many measurements to take; unset means once without an interval and
	// until the run is terminated with one.
	// +kubebuilder:validation:XValidation:rule="type(self) != int || int(self) >= 0",message="count must not be negative"
	// +optional
	Count *intstr.IntOrString `json:"count,omitempty"`

	// successCondition is an expression over result that is true for a good measurement,
	// such as "result[0] >= 0.95".
	// +optional
	SuccessCondition string `json:"successCondition,omitempty"`

	// failureCondition is an expression over result that is true for a bad measurement,
	// such as "result[0] > 0.05". It wins when both conditions are true.
	// +optional
	FailureCondition string `json:"failureCondition,omitempty"`

	// failureLimit is how many failed measurements are tolerated; one more fails the metric.
	// +kubebuilder:validation:XValidation:rule="type(self) != int || int(self) >= 0",message="failureLimit must not be negative"
	// +optional
	FailureLimit *intstr.IntOrString `json:"failureLimit,omitempty"`

	// inconclusiveLimit is how many inconclusive measurements are tolerated; one more makes
	// the metric inconclusive.
	// +kubebuilder:validation:XValidation:rule="type(self) != int || int(self) >= 0",message="inconclusiveLimit must not be negative"
	// +optional
	InconclusiveLimit *intstr.IntOrString `json:"inconclusiveLimit,omitempty"`

	// consecutiveErrorLimit is how many errors in a row are tolerated (default 4); one more
	// makes the metric Error.
	// +kubebuilder:validation:XValidation:rule="type(self) != int || int(self) >= 0",message="consecutiveErrorLimit must not be negative"
	// +optional
	ConsecutiveErrorLimit *intstr.IntOrString `json:"consecutiveErrorLimit,omitempty"`

	// provider is where the measurement comes from: exactly one of prometheus, web or job.
	// +required
	Provider MetricProvider `json:"provider"`
}

// MetricProvider is where a measurement comes from. Exactly one is set.
//
// +kubebuilder:validation:XValidation:rule="[has(self.prometheus), has(self.web), has(self.job)].filter(x, x).size() == 1",message="a metric's provider needs exactly one of prometheus, web or job"
type MetricProvider struct {
	// prometheus runs a PromQL query.
	// +optional
	Prometheus *PrometheusMetric `json:"prometheus,omitempty"`

	// web calls an HTTP endpoint and reads a JSON value from the response.
	// +optional
	Web *WebMetric `json:"web,omitempty"`

	// job runs a Kubernetes Job; the measurement succeeds when the Job does.
	// +optional
	Job *JobMetric `json:"job,omitempty"`
}

// PrometheusMetric runs a PromQL query: a scalar gives result as a number, a vector as a
// list of numbers. No data or NaN is an error, never a pass.
type PrometheusMetric struct {
	// address of the Prometheus server, such as http://prometheus.monitoring:9090. Defaults
	// to the controller's --prometheus-address.
	// +optional
	Address string `json:"address,omitempty"`

	// query is the PromQL query; {{args.NAME}} is substituted.
	// +kubebuilder:validation:MinLength=1
	// +required
	Query string `json:"query"`

	// timeout of the query in seconds (default 30).
	// +kubebuilder:validation:XValidation:rule="self >= 1",message="prometheus.timeout must be at least 1 second"
	// +optional
	Timeout *int64 `json:"timeout,omitempty"`

	// headers are sent with the query, such as Authorization.
	// +optional
	Headers []WebMetricHeader `json:"headers,omitempty"`

	// insecure skips TLS verification of the server.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
}

// WebMetricHeader is an HTTP header.
type WebMetricHeader struct {
	// key is the header name.
	// +kubebuilder:validation:MinLength=1
	// +required
	Key string `json:"key"`
	// value is the header value; {{args.NAME}} is substituted.
	// +required
	Value string `json:"value"`
}

// WebMetricMethod is an HTTP method.
// +kubebuilder:validation:Enum=GET;POST;PUT
type WebMetricMethod string

// WebMetric calls an HTTP endpoint; the JSON value at jsonPath is result.
type WebMetric struct {
	// method is GET (default), POST or PUT.
	// +optional
	Method WebMetricMethod `json:"method,omitempty"`

	// url to call; {{args.NAME}} is substituted.
	// +kubebuilder:validation:MinLength=1
	// +required
	URL string `json:"url"`

	// headers are sent with the request.
	// +optional
	Headers []WebMetricHeader `json:"headers,omitempty"`

	// body is sent with POST and PUT.
	// +optional
	Body string `json:"body,omitempty"`

	// jsonPath selects the result in the JSON response, such as "{$.data.ok}". Without it
	// the whole response is the result.
	// +optional
	JSONPath string `json:"jsonPath,omitempty"`

	// timeoutSeconds bounds the request (default 10).
	// +kubebuilder:validation:XValidation:rule="self >= 1",message="web.timeoutSeconds must be at least 1"
	// +optional
	TimeoutSeconds int64 `json:"timeoutSeconds,omitempty"`

	// insecure skips TLS verification of the server.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
}

// JobMetric runs a Kubernetes Job per measurement.
type JobMetric struct {
	// metadata (labels and annotations) for the Job.
	// +optional
	Metadata JobMetadata `json:"metadata,omitempty"`

	// spec of the Job, as in a batch/v1 Job. The API server checks it when the Job is
	// created for the first measurement; it is kept schemaless here so that the CRDs stay
	// small enough for a client-side kubectl apply.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	// +required
	Spec batchv1.JobSpec `json:"spec"`
}

// JobMetadata is the labels and annotations of a metric's Job.
type JobMetadata struct {
	// labels of the Job.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// annotations of the Job.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// AnalysisRun is one run of a Rollout's analysis gate: the metrics of its templates,
// measured for one revision.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=bgar,categories=bluegreen
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AnalysisRun struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec holds the metrics, with their arguments resolved.
	// +required
	Spec AnalysisRunSpec `json:"spec"`

	// status holds every measurement and the run's phase.
	// +optional
	Status AnalysisRunStatus `json:"status,omitempty"`
}

// AnalysisRunSpec is the metrics of a run.
type AnalysisRunSpec struct {
	// metrics to measure.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=25
	// +listType=map
	// +listMapKey=name
	// +required
	Metrics []Metric `json:"metrics"`

	// args are the resolved arguments.
	// +kubebuilder:validation:MaxItems=64
	// +listType=map
	// +listMapKey=name
	// +optional
	Args []Argument `json:"args,omitempty"`

	// dryRun lists metrics that are measured and recorded but never decide.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	DryRun []DryRun `json:"dryRun,omitempty"`

	// terminate stops the run: no further measurement is taken, running Jobs are deleted.
	// +optional
	Terminate bool `json:"terminate,omitempty"`
}

// AnalysisPhase is the phase of a run, a metric or a measurement.
// +kubebuilder:validation:Enum=Pending;Running;Successful;Failed;Error;Inconclusive
type AnalysisPhase string

// Values of AnalysisPhase.
const (
	AnalysisPhasePending      AnalysisPhase = "Pending"
	AnalysisPhaseRunning      AnalysisPhase = "Running"
	AnalysisPhaseSuccessful   AnalysisPhase = "Successful"
	AnalysisPhaseFailed       AnalysisPhase = "Failed"
	AnalysisPhaseError        AnalysisPhase = "Error"
	AnalysisPhaseInconclusive AnalysisPhase = "Inconclusive"
)

// Completed reports whether the phase is final.
func (p AnalysisPhase) Completed() bool {
	switch p {
	case AnalysisPhaseSuccessful, AnalysisPhaseFailed, AnalysisPhaseError, AnalysisPhaseInconclusive:
		return true
	}
	return false
}

// AnalysisRunStatus holds every measurement and the run's phase.
type AnalysisRunStatus struct {
	// phase of the run: its worst metric's.
	// +optional
	Phase AnalysisPhase `json:"phase,omitempty"`

	// message says why the run is in its phase.
	// +optional
	Message string `json:"message,omitempty"`

	// metricResults holds each metric's measurements and counts.
	// +optional
	// +listType=map
	// +listMapKey=name
	MetricResults []MetricResult `json:"metricResults,omitempty"`

	// startedAt is when the run began measuring.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`

	// completedAt is when the run reached a final phase.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
}

// MetricResult is a metric's measurements and counts.
type MetricResult struct {
	// name of the metric.
	// +required
	Name string `json:"name"`
	// phase of the metric.
	// +optional
	Phase AnalysisPhase `json:"phase,omitempty"`
	// message says why the metric is in its phase.
	// +optional
	Message string `json:"message,omitempty"`
	// measurements are the most recent measurements, oldest first; older ones are dropped
	// but still counted.
	// +optional
	Measurements []Measurement `json:"measurements,omitempty"`
	// count of measurements taken.
	// +optional
	Count int32 `json:"count,omitempty"`
	// successful measurements.
	// +optional
	Successful int32 `json:"successful,omitempty"`
	// failed measurements.
	// +optional
	Failed int32 `json:"failed,omitempty"`
	// inconclusive measurements.
	// +optional
	Inconclusive int32 `json:"inconclusive,omitempty"`
	// error measurements.
	// +optional
	Error int32 `json:"error,omitempty"`
	// consecutiveError is the number of errors in a row.
	// +optional
	ConsecutiveError int32 `json:"consecutiveError,omitempty"`
	// dryRun is true when the metric is recorded but never decides.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`
}

// Measurement is one measurement of a metric.
type Measurement struct {
	// phase of the measurement.
	// +required
	Phase AnalysisPhase `json:"phase"`
	// message, such as a provider error.
	// +optional
	Message string `json:"message,omitempty"`
	// value measured, as text.
	// +optional
	Value string `json:"value,omitempty"`
	// startedAt is when the measurement began.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// finishedAt is when it ended.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// metadata holds provider details, such as the name of a Job.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
}

// +kubebuilder:object:root=true

// AnalysisRunList is a list of AnalysisRuns.
type AnalysisRunList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AnalysisRun `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AnalysisTemplate{}, &AnalysisTemplateList{},
		&ClusterAnalysisTemplate{}, &ClusterAnalysisTemplateList{},
		&AnalysisRun{}, &AnalysisRunList{})
}
