package analysis

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// conditionEnv is what a condition sees: the measured result. Its type is unknown to the
// compiler, so `result[0]`, `len(result)` and `result.data.ok` all compile and are
// checked against the value when the condition runs.
type conditionEnv struct {
	Result any `expr:"result"`
}

// Helpers available to conditions, as in Argo Rollouts.
var conditionFunctions = []expr.Option{
	expr.Function("isNaN", func(args ...any) (any, error) {
		f, ok := toFloat(args[0])
		return ok && math.IsNaN(f), nil
	}, new(func(any) bool)),
	expr.Function("isInf", func(args ...any) (any, error) {
		f, ok := toFloat(args[0])
		return ok && math.IsInf(f, 0), nil
	}, new(func(any) bool)),
	expr.Function("asInt", func(args ...any) (any, error) { return asInt(args[0]) }, new(func(any) int64)),
	expr.Function("asFloat", func(args ...any) (any, error) { return asFloat(args[0]) }, new(func(any) float64)),
	// default(result, 0) is result, or 0 when result is nil (JSON null, or nothing at a
	// web metric's jsonPath) or NaN.
	expr.Function("default", func(args ...any) (any, error) {
		v := args[0]
		if f, ok := v.(float64); v == nil || ok && math.IsNaN(f) {
			return args[1], nil
		}
		return v, nil
	}, new(func(any, any) any)),
}

// Condition is a compiled successCondition or failureCondition.
type Condition struct {
	// Source is the expression as written.
	Source  string
	program *vm.Program
}

// CompileCondition compiles an expression over result that must give a boolean. The error
// is the compiler's message with the position, such as `unexpected token EOF (1:9)`.
func CompileCondition(source string) (*Condition, error) {
	opts := append([]expr.Option{expr.Env(conditionEnv{}), expr.AsBool()}, conditionFunctions...)
	program, err := expr.Compile(source, opts...)
	if err != nil {
		return nil, exprError(err)
	}
	return &Condition{Source: source, program: program}, nil
}

// Eval runs the condition on a result.
func (c *Condition) Eval(result any) (bool, error) {
	out, err := expr.Run(c.program, conditionEnv{Result: result})
	if err != nil {
		return false, exprError(err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("gives %T, not a boolean", out)
	}
	return b, nil
}

// exprError drops the source snippet (two more lines) from an expr error, keeping the
// message and the position.
func exprError(err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		if fe.Snippet == "" {
			return errors.New(fe.Message)
		}
		return fmt.Errorf("%s (%d:%d)", fe.Message, fe.Line, fe.Column+1)
	}
	return err
}

// Conditions are the compiled conditions of a metric; either may be nil.
type Conditions struct {
	Success *Condition
	Failure *Condition
}

// Evaluate judges a result as Argo Rollouts does:
//   - neither condition: Successful;
//   - only successCondition: Successful when it holds, else Failed;
//   - only failureCondition: Failed when it holds, else Successful;
//   - both: Failed when failureCondition holds (it wins), Successful when only
//     successCondition holds, Inconclusive when neither does.
//
// A condition that cannot be evaluated on the result (an index out of range, a string
// compared with a number) is an Error, whose message names the condition.
func (c Conditions) Evaluate(result any) (v1alpha1.AnalysisPhase, error) {
	var success, failure bool
	var err error
	if c.Success != nil {
		if success, err = c.Success.Eval(result); err != nil {
			return v1alpha1.AnalysisPhaseError, fmt.Errorf("successCondition %q: %w", c.Success.Source, err)
		}
	}
	if c.Failure != nil {
		if failure, err = c.Failure.Eval(result); err != nil {
			return v1alpha1.AnalysisPhaseError, fmt.Errorf("failureCondition %q: %w", c.Failure.Source, err)
		}
	}
	switch {
	case c.Success == nil && c.Failure == nil:
		return v1alpha1.AnalysisPhaseSuccessful, nil
	case c.Failure == nil:
		failure = !success
	case c.Success == nil:
		success = !failure
	}
	switch {
	case failure:
		return v1alpha1.AnalysisPhaseFailed, nil
	case success:
		return v1alpha1.AnalysisPhaseSuccessful, nil
	default:
		return v1alpha1.AnalysisPhaseInconclusive, nil
	}
}

// Describe says in words which condition decided a phase, for a measurement's message.
func (c Conditions) Describe(phase v1alpha1.AnalysisPhase) string {
	switch {
	case phase == v1alpha1.AnalysisPhaseFailed && c.Failure != nil:
		return fmt.Sprintf("failureCondition %q holds", c.Failure.Source)
	case phase == v1alpha1.AnalysisPhaseFailed && c.Success != nil:
		return fmt.Sprintf("successCondition %q does not hold", c.Success.Source)
	case phase == v1alpha1.AnalysisPhaseInconclusive && c.Success != nil && c.Failure != nil:
		return fmt.Sprintf("neither successCondition %q nor failureCondition %q holds", c.Success.Source, c.Failure.Source)
	}
	return ""
}

func toFloat(v any) (float64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), true
	}
	return 0, false
}

func asFloat(v any) (float64, error) {
	if f, ok := toFloat(v); ok {
		return f, nil
	}
	if s, ok := v.(string); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, fmt.Errorf("asFloat(%q): not a number", s)
		}
		return f, nil
	}
	return 0, fmt.Errorf("asFloat: %T is not a number", v)
}

func asInt(v any) (int64, error) {
	if s, ok := v.(string); ok {
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("asInt(%q): not an integer", s)
		}
		return i, nil
	}
	f, ok := toFloat(v)
	if !ok {
		return 0, fmt.Errorf("asInt: %T is not a number", v)
	}
	return int64(f), nil
}
