package analysis

import (
	"context"
	"fmt"
	"time"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Provider takes measurements of one kind of metric. Each is given its dependencies (an
// HTTP transport, a Kubernetes client) in its constructor, so that tests hand it local
// servers.
type Provider interface {
	// Measure takes a measurement of the metric. prior is nil for a new measurement, or the
	// measurement Measure last left Running (a Job still running), to check on.
	Measure(ctx context.Context, run *v1alpha1.AnalysisRun, metric *Metric, prior *v1alpha1.Measurement) Outcome
	// Release stops a Running measurement and frees what a measurement holds, such as its
	// Job. Providers that measure at once hold nothing.
	Release(ctx context.Context, run *v1alpha1.AnalysisRun, m *v1alpha1.Measurement) error
}

// Outcome is what a provider measured.
type Outcome struct {
	// Phase is Running while the measurement goes on, Error when it could not be taken,
	// Successful or Failed when the provider judges by itself (a Job), and empty when
	// Result is to be judged by the metric's conditions.
	Phase v1alpha1.AnalysisPhase
	// Result is what the conditions see as result: a number, a list, a JSON value.
	Result any
	// Value is Result as text, for status.
	Value string
	// Message says what went wrong, or how the measurement was judged.
	Message string
	// Metadata holds provider details, such as the name of a Job.
	Metadata map[string]string
}

// errorf is an Error outcome.
func errorf(format string, args ...any) Outcome {
	return Outcome{Phase: v1alpha1.AnalysisPhaseError, Message: fmt.Sprintf(format, args...)}
}

// maxValueLength bounds a measurement's value and message in status.
const maxValueLength = 512

// Judge turns an outcome into a measurement: a result is judged by the metric's
// conditions; the value and message are bounded.
func Judge(m *Metric, o Outcome, started, finished time.Time) v1alpha1.Measurement {
	out := v1alpha1.Measurement{
		Phase:     o.Phase,
		Value:     excerpt(o.Value, maxValueLength),
		Message:   excerpt(o.Message, maxValueLength),
		StartedAt: Now(started),
		Metadata:  o.Metadata,
	}
	if out.Phase == "" {
		phase, err := m.Conditions.Evaluate(o.Result)
		out.Phase = phase
		switch {
		case err != nil:
			out.Message = excerpt(err.Error(), maxValueLength)
		case phase != v1alpha1.AnalysisPhaseSuccessful:
			// The query goes with the verdict, so that an abort's message shows it.
			out.Message = m.Conditions.Describe(phase)
			if q := Query(m.Spec.Provider); q != "" {
				out.Message += "; query: " + q
			}
			out.Message = excerpt(out.Message, maxValueLength)
		}
	}
	if out.Phase != v1alpha1.AnalysisPhaseRunning {
		out.FinishedAt = Now(finished)
	}
	return out
}

// excerpt bounds s to n bytes, on a rune boundary, saying so when it cut.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… (truncated)"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
