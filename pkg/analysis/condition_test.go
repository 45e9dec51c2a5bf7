package analysis

import (
	"math"
	"strings"
	"testing"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

func conditions(t *testing.T, success, failure string) Conditions {
	t.Helper()
	var c Conditions
	var err error
	if success != "" {
		if c.Success, err = CompileCondition(success); err != nil {
			t.Fatal(err)
		}
	}
	if failure != "" {
		if c.Failure, err = CompileCondition(failure); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestEvaluateTruthTable: neither condition passes; one condition decides both ways;
// with both, failure wins and neither true is inconclusive; a condition that cannot be
// evaluated on the result is an error naming it.
func TestEvaluateTruthTable(t *testing.T) {
	const good, bad = "result[0] >= 0.95", "result[0] < 0.5"
	cases := []struct {
		name             string
		success, failure string
		result           any
		want             v1alpha1.AnalysisPhase
		wantErr          string
	}{
		{"neither condition", "", "", []float64{0.1}, v1alpha1.AnalysisPhaseSuccessful, ""},
		{"success only, holds", good, "", []float64{0.99}, v1alpha1.AnalysisPhaseSuccessful, ""},
		{"success only, does not hold", good, "", []float64{0.9}, v1alpha1.AnalysisPhaseFailed, ""},
		{"failure only, holds", "", bad, []float64{0.1}, v1alpha1.AnalysisPhaseFailed, ""},
		{"failure only, does not hold", "", bad, []float64{0.9}, v1alpha1.AnalysisPhaseSuccessful, ""},
		{"both, success holds", good, bad, []float64{0.99}, v1alpha1.AnalysisPhaseSuccessful, ""},
		{"both, failure holds", good, bad, []float64{0.1}, v1alpha1.AnalysisPhaseFailed, ""},
		{"both hold: failure wins", "result[0] > 0", "result[0] > 0", []float64{1}, v1alpha1.AnalysisPhaseFailed, ""},
		{"both, neither holds", good, bad, []float64{0.7}, v1alpha1.AnalysisPhaseInconclusive, ""},
		{"error: index out of range", good, "", []float64{}, v1alpha1.AnalysisPhaseError, `successCondition "result[0] >= 0.95": index out of range`},
		{"error: failure condition on a string", "", "result > 1", "text", v1alpha1.AnalysisPhaseError, `failureCondition "result > 1"`},
		{"empty list handled by the condition", "len(result) == 0 || result[0] < 5", "", []float64{}, v1alpha1.AnalysisPhaseSuccessful, ""},
		{"len guard, value", "len(result) == 0 || result[0] < 5", "", []float64{7}, v1alpha1.AnalysisPhaseFailed, ""},
		{"all", "all(result, {# > 0.9})", "", []float64{0.95, 0.99}, v1alpha1.AnalysisPhaseSuccessful, ""},
		{"all, one below", "all(result, {# > 0.9})", "", []float64{0.95, 0.5}, v1alpha1.AnalysisPhaseFailed, ""},
		{"scalar", "result >= 0.95", "", 0.97, v1alpha1.AnalysisPhaseSuccessful, ""},
		{"isNaN", "", "isNaN(result)", math.NaN(), v1alpha1.AnalysisPhaseFailed, ""},
		{"isInf", "", "isInf(result[0])", []float64{math.Inf(1)}, v1alpha1.AnalysisPhaseFailed, ""},
		{"asInt of a string", "asInt(result) == 3", "", "3", v1alpha1.AnalysisPhaseSuccessful, ""},
		{"asFloat of a string", "asFloat(result) > 0.5", "", "0.75", v1alpha1.AnalysisPhaseSuccessful, ""},
		{"default of nil", "default(result, 0) == 0", "", nil, v1alpha1.AnalysisPhaseSuccessful, ""},
		{"default of a value", "default(result, 0) == 2", "", 2.0, v1alpha1.AnalysisPhaseSuccessful, ""},
		{"JSON object", "result.ok == true && result.ratio < 0.1", "", map[string]any{"ok": true, "ratio": 0.01}, v1alpha1.AnalysisPhaseSuccessful, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := conditions(t, tc.success, tc.failure).Evaluate(tc.result)
			if got != tc.want {
				t.Errorf("phase %s, want %s (err %v)", got, tc.want, err)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestCompileConditionReportsTheCompilersMessage(t *testing.T) {
	cases := map[string]string{
		"result[0] >=":   "unexpected token EOF (1:12)",
		"reslt[0] > 0.9": "unknown name reslt (1:1)",
		"1 + 1":          "expected bool, but got int",
	}
	for src, want := range cases {
		_, err := CompileCondition(src)
		if err == nil || err.Error() != want {
			t.Errorf("CompileCondition(%q) = %v, want %q", src, err, want)
		}
	}
}
