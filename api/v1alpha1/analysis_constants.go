package v1alpha1

// AnalysisRunInvalidSpecPrefix starts the message of an AnalysisRun that cannot be
// measured as written (a condition that does not compile, a bad duration, a missing
// argument or Secret): its phase is Error at once, and the message names the metric, the
// field and the fix.
const AnalysisRunInvalidSpecPrefix = "InvalidSpec: "
