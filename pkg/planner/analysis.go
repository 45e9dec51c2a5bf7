package planner

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// gate is one analysis gate of the current revision.
type gate struct {
	kind     string // v1alpha1.AnalysisTypePrePromotion or AnalysisTypePostPromotion
	short    string // "pre" or "post", in run names
	analysis *v1alpha1.RolloutAnalysis
	ref      **v1alpha1.RolloutAnalysisRunStatus // in the status being built
	oldRef   *v1alpha1.RolloutAnalysisRunStatus  // in the status as read
}

func (p *planner) preGate() bool {
	return p.analysisGate(gate{
		kind: v1alpha1.AnalysisTypePrePromotion, short: "pre", analysis: p.cfg.pre,
		ref: &p.status.BlueGreen.PrePromotionAnalysisRunStatus, oldRef: p.old.BlueGreen.PrePromotionAnalysisRunStatus,
	})
}

func (p *planner) postGate() bool {
	return p.analysisGate(gate{
		kind: v1alpha1.AnalysisTypePostPromotion, short: "post", analysis: p.cfg.post,
		ref: &p.status.BlueGreen.PostPromotionAnalysisRunStatus, oldRef: p.old.BlueGreen.PostPromotionAnalysisRunStatus,
	})
}

// analysisGate starts the gate's AnalysisRun, or reads its phase back, and reports whether
// the gate is passed. Failed or Error aborts the revision; Inconclusive pauses it until a
// promote (acknowledged after the run began) or an abort.
func (p *planner) analysisGate(g gate) bool {
	if g.analysis == nil {
		return true
	}
	ref := *g.ref
	if ref == nil {
		if run := p.adoptableRun(g); run != nil {
			ref = &v1alpha1.RolloutAnalysisRunStatus{Name: run.Name}
			p.note("%s AnalysisRun %s of this revision is running: it is the gate's run", g.kind, run.Name)
		} else {
			if p.cfg.paused {
				p.wait("spec.paused: %s analysis of %s starts once the Rollout is resumed", g.kind, p.hash)
				return false
			}
			name := p.nextRunName(g)
			p.startRun(g, name)
			p.normal(v1alpha1.EventAnalysisRunStarted, "Started %s AnalysisRun %s for %s", g.kind, name, p.describe(p.hash))
			p.note("start %s analysis of %s as AnalysisRun %s", g.kind, p.describe(p.hash), name)
			*g.ref = &v1alpha1.RolloutAnalysisRunStatus{Name: name, Status: v1alpha1.AnalysisPhasePending}
			p.wait("%s AnalysisRun %s is Pending", g.kind, name)
			return false
		}
		*g.ref = ref
	}

	run := p.runs[ref.Name]
	switch {
	case run != nil:
		ref.Status, ref.Message = phaseOf(run), run.Status.Message
	case !ref.Status.Completed():
		p.startRun(g, ref.Name)
		p.note("AnalysisRun %s, which the status refers to, is missing: start it again", ref.Name)
		ref.Status, ref.Message = v1alpha1.AnalysisPhasePending, ""
	}
	if old := g.oldRef; old == nil || old.Name != ref.Name || old.Status != ref.Status {
		p.analysisEvent(g, ref)
	}

	switch ref.Status {
	case v1alpha1.AnalysisPhaseSuccessful:
		return true
	case v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseError:
		p.abortByAnalysis(g, ref, run)
		return false
	case v1alpha1.AnalysisPhaseInconclusive:
		if pr := p.promotion(); pr != nil && (run == nil || !pr.PromotedAt.Before(&run.CreationTimestamp)) {
			p.note("%s AnalysisRun %s is inconclusive, and %s was promoted after it began: the gate is passed", g.kind, ref.Name, p.hash)
			return true
		}
		p.pause(v1alpha1.PauseReasonInconclusiveAnalysis)
		p.wait("%s AnalysisRun %s is inconclusive: promote or abort revision %s", g.kind, ref.Name, p.hash)
		return false
	default:
		p.wait("%s AnalysisRun %s is %s", g.kind, ref.Name, ref.Status)
		return false
	}
}

func (p *planner) startRun(g gate, name string) {
	p.act(StartAnalysisRun{Name: name, Type: g.kind, Revision: p.hash, Analysis: g.analysis})
}

// analysisEvent records a gate run reaching a final phase.
func (p *planner) analysisEvent(g gate, ref *v1alpha1.RolloutAnalysisRunStatus) {
	msg := fmt.Sprintf("%s AnalysisRun %s is %s", g.kind, ref.Name, ref.Status)
	if ref.Message != "" {
		msg += ": " + ref.Message
	}
	switch ref.Status {
	case v1alpha1.AnalysisPhaseSuccessful:
		p.normal(v1alpha1.EventAnalysisRunSuccessful, "%s", msg)
	case v1alpha1.AnalysisPhaseFailed:
		p.warning(v1alpha1.EventAnalysisRunFailed, "%s", msg)
	case v1alpha1.AnalysisPhaseError:
		p.warning(v1alpha1.EventAnalysisRunError, "%s", msg)
	case v1alpha1.AnalysisPhaseInconclusive:
		p.warning(v1alpha1.EventAnalysisRunInconclusive, "%s", msg)
	}
}

func phaseOf(run *v1alpha1.AnalysisRun) v1alpha1.AnalysisPhase {
	if run.Status.Phase == "" {
		return v1alpha1.AnalysisPhasePending
	}
	return run.Status.Phase
}

// runsOf lists the AnalysisRuns of a revision and gate, oldest first.
func (p *planner) runsOf(hash, kind string) []*v1alpha1.AnalysisRun {
	var out []*v1alpha1.AnalysisRun
	for _, run := range p.sortedRuns() {
		if run.Labels[v1alpha1.PodTemplateHashLabel] == hash && run.Labels[v1alpha1.AnalysisTypeLabel] == kind {
			out = append(out, run)
		}
	}
	return out
}

// adoptableRun is a running run of the gate that the status does not refer to, as after a
// status write that was lost: it is taken rather than started twice. Runs that finished or
// were terminated belong to an earlier attempt (before a retry) and are never taken.
func (p *planner) adoptableRun(g gate) *v1alpha1.AnalysisRun {
	runs := p.runsOf(p.hash, g.kind)
	for i := len(runs) - 1; i >= 0; i-- {
		if r := runs[i]; !r.Spec.Terminate && !phaseOf(r).Completed() && r.DeletionTimestamp == nil {
			return r
		}
	}
	return nil
}

var runNumber = regexp.MustCompile(`-(\d+)$`)

// nextRunName names a new run of a gate "<rollout>-<hash>-<pre|post>-<n>", n one more than
// any run of that gate and revision, so that a retry gets fresh runs.
func (p *planner) nextRunName(g gate) string {
	prefix := fmt.Sprintf("%s-%s-%s-", p.ro.Name, p.hash, g.short)
	n := 0
	for _, run := range p.in.AnalysisRuns {
		if !strings.HasPrefix(run.Name, prefix) {
			continue
		}
		if m := runNumber.FindStringSubmatch(run.Name); m != nil {
			if k, err := strconv.Atoi(m[1]); err == nil && k > n {
				n = k
			}
		}
	}
	return prefix + strconv.Itoa(n+1)
}

func (p *planner) sortedRuns() []*v1alpha1.AnalysisRun {
	runs := append([]*v1alpha1.AnalysisRun(nil), p.in.AnalysisRuns...)
	sort.SliceStable(runs, func(i, j int) bool {
		a, b := runs[i], runs[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	return runs
}

// abortByAnalysis aborts the revision because a gate failed or errored, recording the
// measurement that decided.
func (p *planner) abortByAnalysis(g gate, ref *v1alpha1.RolloutAnalysisRunStatus, run *v1alpha1.AnalysisRun) {
	reason := v1alpha1.EventAnalysisRunFailed
	if ref.Status == v1alpha1.AnalysisPhaseError {
		reason = v1alpha1.EventAnalysisRunError
	}
	detail := abortAnalysis(ref, run)
	msg := fmt.Sprintf("%s AnalysisRun %s is %s", g.kind, ref.Name, ref.Status)
	if detail.MetricName != "" {
		msg += fmt.Sprintf(": metric %s", detail.MetricName)
		if detail.Value != "" {
			msg += fmt.Sprintf(" measured %s", detail.Value)
		}
		if detail.Condition != "" {
			msg += fmt.Sprintf(" (condition %s)", detail.Condition)
		}
		if detail.Message != "" {
			msg += ": " + detail.Message
		}
	} else if ref.Message != "" {
		msg += ": " + ref.Message
	}
	p.abort(v1alpha1.AbortByAnalysis, reason, msg, detail)
}

// abortAnalysis finds the metric that decided a failed or errored run: the first, in the
// run's order, whose phase is the run's (dry-run metrics never decide), and its last
// measurement.
func abortAnalysis(ref *v1alpha1.RolloutAnalysisRunStatus, run *v1alpha1.AnalysisRun) *v1alpha1.AbortAnalysis {
	out := &v1alpha1.AbortAnalysis{RunName: ref.Name, Phase: ref.Status, Message: ref.Message}
	if run == nil {
		return out
	}
	var decided *v1alpha1.MetricResult
	for i := range run.Status.MetricResults {
		mr := &run.Status.MetricResults[i]
		if mr.DryRun {
			continue
		}
		if mr.Phase == ref.Status {
			decided = mr
			break
		}
		if decided == nil && (mr.Phase == v1alpha1.AnalysisPhaseFailed || mr.Phase == v1alpha1.AnalysisPhaseError) {
			decided = mr
		}
	}
	if decided == nil {
		return out
	}
	out.MetricName = decided.Name
	if decided.Message != "" {
		out.Message = decided.Message
	}
	if n := len(decided.Measurements); n > 0 {
		last := decided.Measurements[n-1]
		out.Value = last.Value
		if last.Message != "" {
			out.Message = last.Message
		}
	}
	for _, m := range run.Spec.Metrics {
		if m.Name != decided.Name {
			continue
		}
		out.Condition = m.FailureCondition
		if out.Condition == "" || (decided.Phase == v1alpha1.AnalysisPhaseError && m.SuccessCondition != "") {
			out.Condition = m.SuccessCondition
		}
		out.Query = substituteArgs(queryOf(m.Provider), run.Spec.Args)
	}
	return out
}

func queryOf(pr v1alpha1.MetricProvider) string {
	switch {
	case pr.Prometheus != nil:
		return pr.Prometheus.Query
	case pr.Web != nil:
		method := string(pr.Web.Method)
		if method == "" {
			method = "GET"
		}
		return method + " " + pr.Web.URL
	}
	return ""
}

// substituteArgs replaces {{args.NAME}} with the run's argument values; secret values are
// masked, so that they never reach status, events or notifications.
func substituteArgs(s string, args []v1alpha1.Argument) string {
	for _, a := range args {
		v := "*****"
		if a.ValueFrom == nil || a.ValueFrom.SecretKeyRef == nil {
			if a.Value == nil {
				continue
			}
			v = *a.Value
		}
		s = strings.ReplaceAll(s, "{{args."+a.Name+"}}", v)
		s = strings.ReplaceAll(s, "{{ args."+a.Name+" }}", v)
	}
	return s
}

// terminateUnwantedRuns stops every running AnalysisRun that no gate waits for any more:
// those of superseded revisions, and those of the current revision once it is aborted or
// fully promoted.
func (p *planner) terminateUnwantedRuns() {
	wanted := map[string]bool{}
	if !p.aborted() && !p.fullyPromoted() && p.inFlight() {
		for _, ref := range []*v1alpha1.RolloutAnalysisRunStatus{p.status.BlueGreen.PrePromotionAnalysisRunStatus, p.status.BlueGreen.PostPromotionAnalysisRunStatus} {
			if ref != nil {
				wanted[ref.Name] = true
			}
		}
	}
	for _, run := range p.sortedRuns() {
		if wanted[run.Name] || run.Spec.Terminate || phaseOf(run).Completed() || run.DeletionTimestamp != nil {
			continue
		}
		why := "its revision is superseded"
		switch h := run.Labels[v1alpha1.PodTemplateHashLabel]; {
		case h == p.hash && p.aborted():
			why = "the revision is aborted"
		case h == p.hash && p.fullyPromoted():
			why = "the revision is fully promoted: remaining analysis is skipped"
		case h == p.hash:
			why = "no gate of the revision waits for it"
		}
		p.act(TerminateAnalysisRun{Name: run.Name})
		p.note("terminate AnalysisRun %s: %s", run.Name, why)
	}
}

// collectAnalysisRuns deletes the oldest finished runs beyond the successful and
// unsuccessful history limits; runs the status refers to are kept.
func (p *planner) collectAnalysisRuns(deleted map[string]bool) {
	keep := map[string]bool{}
	for _, ref := range []*v1alpha1.RolloutAnalysisRunStatus{p.status.BlueGreen.PrePromotionAnalysisRunStatus, p.status.BlueGreen.PostPromotionAnalysisRunStatus} {
		if ref != nil {
			keep[ref.Name] = true
		}
	}
	if a := p.status.Abort; a != nil && a.Analysis != nil {
		keep[a.Analysis.RunName] = true
	}
	var successful, unsuccessful []*v1alpha1.AnalysisRun
	runs := p.sortedRuns()
	for i := len(runs) - 1; i >= 0; i-- { // newest first
		run := runs[i]
		if deleted[run.Name] || run.DeletionTimestamp != nil || !phaseOf(run).Completed() {
			continue
		}
		if phaseOf(run) == v1alpha1.AnalysisPhaseSuccessful {
			successful = append(successful, run)
		} else {
			unsuccessful = append(unsuccessful, run)
		}
	}
	for _, group := range []struct {
		runs  []*v1alpha1.AnalysisRun
		limit int
		field string
	}{
		{successful, p.cfg.successfulRunLimit, "successfulRunHistoryLimit"},
		{unsuccessful, p.cfg.unsuccessfulRunLimit, "unsuccessfulRunHistoryLimit"},
	} {
		kept := 0
		for _, run := range group.runs {
			if keep[run.Name] || kept < group.limit {
				kept++
				continue
			}
			p.act(DeleteAnalysisRun{Name: run.Name})
			p.note("delete AnalysisRun %s: beyond spec.analysis.%s %d", run.Name, group.field, group.limit)
		}
	}
}
