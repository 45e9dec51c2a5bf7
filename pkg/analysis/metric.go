package analysis

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Defaults of a metric.
const (
	// DefaultConsecutiveErrorLimit is how many errors in a row a metric tolerates.
	DefaultConsecutiveErrorLimit = 4
	// DefaultErrorRetryInterval is how long after an error a metric without an interval
	// is measured again.
	DefaultErrorRetryInterval = 10 * time.Second
	// MeasurementHistoryLimit is how many measurements of a metric a run keeps; older ones
	// are dropped but still counted.
	MeasurementHistoryLimit = 10
)

// Metric is a metric of a run with its arguments substituted, its durations and limits
// parsed and its conditions compiled: ready to be measured.
type Metric struct {
	// Spec is the metric with {{args.NAME}} substituted. It may hold secret values and is
	// never stored.
	Spec         v1alpha1.Metric
	Interval     time.Duration // 0: none
	InitialDelay time.Duration
	// Count is how many measurements to take; 0 is unset: once without an interval,
	// until the run is terminated with one.
	Count                 int32
	FailureLimit          int32
	InconclusiveLimit     int32
	ConsecutiveErrorLimit int32
	Conditions            Conditions
	DryRun                bool
}

// Options are what the controller knows beyond the run.
type Options struct {
	// PrometheusAddress is the controller's --prometheus-address, used by Prometheus
	// metrics without an address.
	PrometheusAddress string
}

// Prepare substitutes the arguments into every metric of a run and checks it: durations,
// counts and limits, conditions (compiled, so that a typo is found when the template is
// used, not after minutes of measuring), provider fields, dry-run rules. The error names
// the metric, the field and the fix.
func Prepare(spec v1alpha1.AnalysisRunSpec, args Args, opts Options) ([]*Metric, error) {
	dry, err := dryRunMatcher(spec)
	if err != nil {
		return nil, err
	}
	out := make([]*Metric, 0, len(spec.Metrics))
	for i, raw := range spec.Metrics {
		m, err := prepareMetric(raw, args, opts)
		if err != nil {
			return nil, &MetricError{Index: i, Metric: raw.Name, Err: err}
		}
		m.DryRun = dry(raw.Name)
		out = append(out, m)
	}
	return out, nil
}

// MetricError is a metric that cannot be measured as written.
type MetricError struct {
	Index  int
	Metric string
	Err    error
}

func (e *MetricError) Error() string {
	return fmt.Sprintf("metrics[%d] %q: %v", e.Index, e.Metric, e.Err)
}

func (e *MetricError) Unwrap() error { return e.Err }

func prepareMetric(raw v1alpha1.Metric, args Args, opts Options) (*Metric, error) {
	spec, err := args.SubstituteMetric(raw)
	if err != nil {
		return nil, err
	}
	m := &Metric{Spec: spec}
	if m.Interval, err = duration("interval", spec.Interval, false); err != nil {
		return nil, err
	}
	if m.InitialDelay, err = duration("initialDelay", spec.InitialDelay, true); err != nil {
		return nil, err
	}
	if m.Count, err = count("count", spec.Count, 0); err != nil {
		return nil, err
	}
	if m.FailureLimit, err = count("failureLimit", spec.FailureLimit, 0); err != nil {
		return nil, err
	}
	if m.InconclusiveLimit, err = count("inconclusiveLimit", spec.InconclusiveLimit, 0); err != nil {
		return nil, err
	}
	if m.ConsecutiveErrorLimit, err = count("consecutiveErrorLimit", spec.ConsecutiveErrorLimit, DefaultConsecutiveErrorLimit); err != nil {
		return nil, err
	}
	if spec.SuccessCondition != "" {
		if m.Conditions.Success, err = CompileCondition(spec.SuccessCondition); err != nil {
			return nil, fmt.Errorf("successCondition %q does not compile: %v: fix the expression", spec.SuccessCondition, err)
		}
	}
	if spec.FailureCondition != "" {
		if m.Conditions.Failure, err = CompileCondition(spec.FailureCondition); err != nil {
			return nil, fmt.Errorf("failureCondition %q does not compile: %v: fix the expression", spec.FailureCondition, err)
		}
	}
	if err := checkProvider(spec.Provider, opts); err != nil {
		return nil, err
	}
	return m, nil
}

func duration(field string, s v1alpha1.DurationString, zeroOK bool) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(string(s))
	if err != nil || d < 0 || (d == 0 && !zeroOK) {
		return 0, fmt.Errorf("%s %q is not a positive duration: write it as 30s, 5m or 1h", field, s)
	}
	return d, nil
}

func count(field string, v *intstr.IntOrString, def int32) (int32, error) {
	if v == nil {
		return def, nil
	}
	n := int64(v.IntVal)
	if v.Type == intstr.String {
		var err error
		if n, err = strconv.ParseInt(strings.TrimSpace(v.StrVal), 10, 32); err != nil {
			return 0, fmt.Errorf("%s %q is not a whole number: give one such as 3", field, v.StrVal)
		}
	}
	if n < 0 {
		return 0, fmt.Errorf("%s %d is negative: give 0 or more", field, n)
	}
	return int32(n), nil
}

func checkProvider(p v1alpha1.MetricProvider, opts Options) error {
	n := 0
	for _, set := range []bool{p.Prometheus != nil, p.Web != nil, p.Job != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("provider has %d of prometheus, web and job: give exactly one", n)
	}
	switch {
	case p.Prometheus != nil:
		if strings.TrimSpace(p.Prometheus.Query) == "" {
			return fmt.Errorf("provider.prometheus.query is empty: give a PromQL query")
		}
		addr := p.Prometheus.Address
		field := "provider.prometheus.address"
		if addr == "" {
			if addr = opts.PrometheusAddress; addr == "" {
				return fmt.Errorf("provider.prometheus.address is empty and the controller has no --prometheus-address: set one of them")
			}
			field = "--prometheus-address"
		}
		if err := checkURL(addr); err != nil {
			return fmt.Errorf("%s %q: %v", field, addr, err)
		}
		if t := p.Prometheus.Timeout; t != nil && *t < 1 {
			return fmt.Errorf("provider.prometheus.timeout %d: give at least 1 (seconds)", *t)
		}
	case p.Web != nil:
		if err := checkURL(p.Web.URL); err != nil {
			return fmt.Errorf("provider.web.url %q: %v", p.Web.URL, err)
		}
		switch p.Web.Method {
		case "", "GET", "POST", "PUT":
		default:
			return fmt.Errorf("provider.web.method %q: use GET, POST or PUT", p.Web.Method)
		}
		if _, err := parseJSONPath(p.Web.JSONPath); err != nil {
			return fmt.Errorf("provider.web.jsonPath %q: %v: write it as {$.data.value}", p.Web.JSONPath, err)
		}
		if p.Web.TimeoutSeconds < 0 {
			return fmt.Errorf("provider.web.timeoutSeconds %d: give at least 1", p.Web.TimeoutSeconds)
		}
	case p.Job != nil:
		if len(p.Job.Spec.Template.Spec.Containers) == 0 {
			return fmt.Errorf("provider.job.spec.template.spec.containers is empty: give the Job's container")
		}
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("not an http(s) URL: write it as http://host:port/path")
	}
	return nil
}

// dryRunMatcher reports whether a metric is dry-run: dryRun[].metricName is a metric name
// or a regular expression matching whole names, such as ".*". A rule matching no metric is
// an error, since it is most likely a typo.
func dryRunMatcher(spec v1alpha1.AnalysisRunSpec) (func(string) bool, error) {
	var patterns []*regexp.Regexp
	for i, d := range spec.DryRun {
		re, err := regexp.Compile("^(?:" + d.MetricName + ")$")
		if err != nil {
			re = regexp.MustCompile("^" + regexp.QuoteMeta(d.MetricName) + "$")
		}
		matched := false
		for _, m := range spec.Metrics {
			if re.MatchString(m.Name) {
				matched = true
				break
			}
		}
		if !matched {
			return nil, fmt.Errorf("dryRun[%d].metricName %q matches no metric of the run: fix the name", i, d.MetricName)
		}
		patterns = append(patterns, re)
	}
	return func(name string) bool {
		for _, re := range patterns {
			if re.MatchString(name) {
				return true
			}
		}
		return false
	}, nil
}
