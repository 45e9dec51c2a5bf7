package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Outcome is what status reports about a Rollout.
type Outcome int

// Outcomes of a Rollout, for status.
const (
	// OutcomePending: neither Healthy nor Degraded yet (Progressing, Paused, or not observed).
	OutcomePending Outcome = iota
	// OutcomeHealthy: the current generation is observed and Healthy.
	OutcomeHealthy
	// OutcomeDegraded: Degraded or aborted.
	OutcomeDegraded
)

// Assess says whether a Rollout has finished, and how, with one line that says why.
func Assess(ro *v1alpha1.Rollout) (Outcome, string) {
	st := ro.Status
	if st.ObservedGeneration < ro.Generation {
		return OutcomePending, fmt.Sprintf("Progressing - waiting for the controller to observe generation %d (observed %d)", ro.Generation, st.ObservedGeneration)
	}
	if a := st.Abort; a != nil && a.Revision == st.CurrentPodHash {
		return OutcomeDegraded, "Degraded - " + abortLine(a)
	}
	line := string(st.Phase)
	if line == "" {
		line = "Progressing"
	}
	if st.Message != "" {
		line += " - " + st.Message
	}
	switch st.Phase {
	case v1alpha1.PhaseHealthy:
		return OutcomeHealthy, line
	case v1alpha1.PhaseDegraded:
		return OutcomeDegraded, line
	}
	return OutcomePending, line
}

// abortLine says who aborted a revision and why, with the measurement when analysis did.
func abortLine(a *v1alpha1.AbortStatus) string {
	s := fmt.Sprintf("revision %s aborted by %s", a.Revision, a.By)
	if a.Message != "" {
		s += ": " + a.Message
	}
	if an := a.Analysis; an != nil {
		var parts []string
		if an.MetricName != "" {
			parts = append(parts, "metric "+an.MetricName)
		}
		if an.Value != "" {
			parts = append(parts, "value "+an.Value)
		}
		if an.Condition != "" {
			parts = append(parts, "condition "+an.Condition)
		}
		if an.Query != "" {
			parts = append(parts, "query "+an.Query)
		}
		if len(parts) > 0 {
			s += " (" + strings.Join(parts, ", ") + ")"
		}
	}
	return s
}

// colors paints text with ANSI colours, or not at all.
type colors struct{ on bool }

const (
	green  = "32"
	yellow = "33"
	red    = "31"
	blue   = "34"
	gray   = "90"
)

func (c colors) paint(code, s string) string {
	if !c.on || code == "" || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// useColor says whether to colour output written to w: only on a terminal, never with
// --no-color or $NO_COLOR.
func (a *app) useColor(w io.Writer) bool {
	if a.opts.Color != nil {
		return *a.opts.Color
	}
	if a.noColor || os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// cell is one column of a row: plain text and its colour.
type cell struct {
	text, color string
}

// writeColumns writes rows as aligned columns, two spaces apart, colouring after padding
// so that escape codes do not break the alignment.
func writeColumns(w io.Writer, c colors, rows [][]cell) {
	var widths []int
	for _, row := range rows {
		for i, cl := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cl.text))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cl := range row {
			text := cl.text
			if i < len(row)-1 {
				text += strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cl.text)+2)
			}
			b.WriteString(c.paint(cl.color, strings.TrimRight(text, " ")))
			b.WriteString(text[len(strings.TrimRight(text, " ")):])
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// Icons, as kubectl argo rollouts shows them.
const (
	iconRollout     = "⟳"
	iconRevision    = "#"
	iconReplicaSet  = "⧉"
	iconPod         = "□"
	iconAnalysisRun = "α"
	iconMetric      = "⎯"
)

func phaseCell(phase string) cell {
	switch phase {
	case "Healthy", "Successful", "Running", "Available":
		return cell{"✔ " + phase, green}
	case "Progressing", "Pending", "ContainerCreating", "Scaling":
		return cell{"◌ " + phase, blue}
	case "Paused", "Inconclusive", "ScaledDown":
		if phase == "ScaledDown" {
			return cell{"• " + phase, gray}
		}
		return cell{"॥ " + phase, yellow}
	case "Degraded", "Failed", "Error", "CrashLoopBackOff", "Terminating":
		return cell{"✖ " + phase, red}
	}
	return cell{phase, ""}
}

// RenderRollout writes the header and tree of `get rollout`.
func RenderRollout(w io.Writer, snap *Snapshot, now time.Time, color bool) {
	c := colors{on: color}
	ro := snap.Rollout
	st := ro.Status
	_, line := Assess(ro)
	phase := string(st.Phase)
	if phase == "" {
		phase = "Progressing"
	}
	header := [][]cell{
		{{"Name:", ""}, {ro.Name, ""}},
		{{"Namespace:", ""}, {ro.Namespace, ""}},
		{{"Status:", ""}, phaseCell(phase)},
	}
	if _, msg, ok := strings.Cut(line, " - "); ok {
		header = append(header, []cell{{"Message:", ""}, {msg, ""}})
	}
	header = append(header, []cell{{"Strategy:", ""}, {"BlueGreen", ""}})
	for i, img := range images(snap) {
		label := ""
		if i == 0 {
			label = "Images:"
		}
		header = append(header, []cell{{label, ""}, img})
	}
	header = append(header,
		[]cell{{"Replicas:", ""}},
		[]cell{{"  Desired:", ""}, {fmt.Sprint(ptr.Deref(ro.Spec.Replicas, 1)), ""}},
		[]cell{{"  Current:", ""}, {fmt.Sprint(st.Replicas), ""}},
		[]cell{{"  Updated:", ""}, {fmt.Sprint(st.UpdatedReplicas), ""}},
		[]cell{{"  Ready:", ""}, {fmt.Sprint(st.ReadyReplicas), ""}},
		[]cell{{"  Available:", ""}, {fmt.Sprint(st.AvailableReplicas), ""}},
	)
	writeColumns(w, c, header)
	fmt.Fprintln(w)
	writeColumns(w, c, treeRows(snap, now))
}

// images lists the images of the ReplicaSets that have pods or a role, with their roles.
func images(snap *Snapshot) []cell {
	type entry struct {
		roles []string
		order int
	}
	seen := map[string]*entry{}
	var order []string
	for i, rs := range byRevision(snap.ReplicaSets) {
		roles := rolesOf(snap, rs)
		if len(roles) == 0 && ptr.Deref(rs.Spec.Replicas, 0) == 0 {
			continue
		}
		for _, ctr := range rs.Spec.Template.Spec.Containers {
			e, ok := seen[ctr.Image]
			if !ok {
				e = &entry{order: i}
				seen[ctr.Image] = e
				order = append(order, ctr.Image)
			}
			for _, r := range roles {
				if !contains(e.roles, r) {
					e.roles = append(e.roles, r)
				}
			}
		}
	}
	var out []cell
	for _, img := range order {
		text := img
		if roles := seen[img].roles; len(roles) > 0 {
			text += " (" + strings.Join(roles, ", ") + ")"
		}
		out = append(out, cell{text, ""})
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// rolesOf says what a revision is: stable, active and/or preview.
func rolesOf(snap *Snapshot, rs *appsv1.ReplicaSet) []string {
	st := snap.Rollout.Status
	h := hashOf(rs)
	var roles []string
	if h == st.StableRS {
		roles = append(roles, "stable")
	}
	if h == st.BlueGreen.ActiveSelector {
		roles = append(roles, "active")
	}
	if h == st.BlueGreen.PreviewSelector && h != st.BlueGreen.ActiveSelector {
		roles = append(roles, "preview")
	}
	return roles
}

func treeRows(snap *Snapshot, now time.Time) [][]cell {
	ro := snap.Rollout
	phase := string(ro.Status.Phase)
	if phase == "" {
		phase = "Progressing"
	}
	rows := [][]cell{
		{{"NAME", ""}, {"KIND", ""}, {"STATUS", ""}, {"AGE", ""}, {"INFO", ""}},
		{{iconRollout + " " + ro.Name, ""}, {"Rollout", ""}, phaseCell(phase), {age(ro.CreationTimestamp, now), ""}, {"", ""}},
	}
	rss := byRevision(snap.ReplicaSets)
	for i, rs := range rss {
		last := i == len(rss)-1
		branch, indent := "├──", "│  "
		if last {
			branch, indent = "└──", "   "
		}
		rows = append(rows, []cell{{branch + iconRevision + " revision:" + fmt.Sprint(revisionOf(rs)), ""}})
		type child struct{ rows [][]cell }
		var children []child
		children = append(children, child{replicaSetRows(snap, rs, now)})
		for _, run := range runsOf(snap, hashOf(rs)) {
			children = append(children, child{analysisRunRows(run, now)})
		}
		for j, ch := range children {
			cb, ci := "├──", "│  "
			if j == len(children)-1 {
				cb, ci = "└──", "   "
			}
			for k, row := range ch.rows {
				prefix := indent + ci
				if k == 0 {
					prefix = indent + cb
				}
				row[0].text = prefix + row[0].text
				rows = append(rows, row)
			}
		}
	}
	return rows
}

// replicaSetRows are a ReplicaSet's row and its pods' rows, already indented under it.
func replicaSetRows(snap *Snapshot, rs *appsv1.ReplicaSet, now time.Time) [][]cell {
	status := "Healthy"
	switch want := ptr.Deref(rs.Spec.Replicas, 0); {
	case want == 0 && rs.Status.Replicas == 0:
		status = "ScaledDown"
	case rs.Status.AvailableReplicas < want || rs.Status.Replicas != want:
		status = "Progressing"
	}
	info := strings.Join(rolesOf(snap, rs), ",")
	rows := [][]cell{{{iconReplicaSet + " " + rs.Name, ""}, {"ReplicaSet", ""}, phaseCell(status), {age(rs.CreationTimestamp, now), ""}, {info, ""}}}
	pods := podsOf(snap, rs)
	for i, pod := range pods {
		b := "├──"
		if i == len(pods)-1 {
			b = "└──"
		}
		ready, total, restarts := 0, len(pod.Spec.Containers), int32(0)
		for _, cs := range pod.Status.ContainerStatuses {
			if cs.Ready {
				ready++
			}
			restarts += cs.RestartCount
		}
		info := fmt.Sprintf("ready:%d/%d", ready, total)
		if restarts > 0 {
			info += fmt.Sprintf(",restarts:%d", restarts)
		}
		rows = append(rows, []cell{{b + iconPod + " " + pod.Name, ""}, {"Pod", ""}, phaseCell(podStatus(pod)), {age(pod.CreationTimestamp, now), ""}, {info, ""}})
	}
	return rows
}

// podStatus is what kubectl get pods shows, simplified.
func podStatus(pod *corev1.Pod) string {
	if pod.DeletionTimestamp != nil {
		return "Terminating"
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason
		}
	}
	if pod.Status.Phase == "" {
		return "Pending"
	}
	return string(pod.Status.Phase)
}

func podsOf(snap *Snapshot, rs *appsv1.ReplicaSet) []*corev1.Pod {
	var out []*corev1.Pod
	for i := range snap.Pods {
		if controllerReplicaSet(snap.Pods[i].OwnerReferences) == rs.Name {
			out = append(out, &snap.Pods[i])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// runsOf are the AnalysisRuns of a revision, oldest first.
func runsOf(snap *Snapshot, hash string) []*v1alpha1.AnalysisRun {
	var out []*v1alpha1.AnalysisRun
	for i := range snap.AnalysisRuns {
		if snap.AnalysisRuns[i].Labels[v1alpha1.PodTemplateHashLabel] == hash {
			out = append(out, &snap.AnalysisRuns[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	return out
}

// analysisRunRows are a run's row and its metrics' rows with their last values.
func analysisRunRows(run *v1alpha1.AnalysisRun, now time.Time) [][]cell {
	phase := string(run.Status.Phase)
	if phase == "" {
		phase = "Pending"
	}
	var ok, bad int32
	for _, m := range run.Status.MetricResults {
		ok += m.Successful
		bad += m.Failed + m.Error
	}
	info := fmt.Sprintf("✔ %d,✖ %d", ok, bad)
	if t := run.Labels[v1alpha1.AnalysisTypeLabel]; t != "" {
		info = t + " " + info
	}
	rows := [][]cell{{{iconAnalysisRun + " " + run.Name, ""}, {"AnalysisRun", ""}, phaseCell(phase), {age(run.CreationTimestamp, now), ""}, {info, ""}}}
	results := run.Status.MetricResults
	for i, m := range results {
		b := "├──"
		if i == len(results)-1 {
			b = "└──"
		}
		mphase := string(m.Phase)
		if mphase == "" {
			mphase = "Pending"
		}
		info := "no measurement yet"
		if n := len(m.Measurements); n > 0 {
			last := m.Measurements[n-1]
			info = "last value " + last.Value
			if last.Value == "" {
				info = "last: " + string(last.Phase)
			}
			if last.Message != "" {
				info += ": " + last.Message
			}
		}
		if m.DryRun {
			info += " (dry run)"
		}
		rows = append(rows, []cell{{b + iconMetric + " " + m.Name, ""}, {"Metric", ""}, phaseCell(mphase), {"", ""}, {info, ""}})
	}
	return rows
}
