// Package analysis measures the metrics of an AnalysisRun and judges them.
//
// It holds the metric providers (Prometheus, web, Job) behind the small Provider
// interface, each given its dependencies in its constructor; the evaluation of success and
// failure conditions in the expr language, compatible with Argo Rollouts' templates; the
// assessment of measurements against failureLimit, inconclusiveLimit and
// consecutiveErrorLimit; and the resolution and substitution of arguments. Everything
// but the providers is pure: no client, no clock.
package analysis
