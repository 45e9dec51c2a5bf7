package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

// TestDemo runs the scenario of make demo, with the operator and the plugin built from
// this checkout, and checks what its reader is told happened.
func TestDemo(t *testing.T) {
	root, err := cluster.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tools, err := cluster.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/manager", "./cmd/kubectl-bluegreen")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var out bytes.Buffer
	before := children()
	res, err := run(ctx, config{out: &out, root: root, tools: tools, bin: bin})
	if err != nil || t.Failed() {
		t.Logf("the demo's output:\n%s", out.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		t.Logf("the demo's output:\n%s", out.String())
	}

	if res.first == "" || res.good == "" || res.bad == "" || res.first == res.good || res.good == res.bad {
		t.Errorf("revisions: first %q, good %q, bad %q; want three different hashes", res.first, res.good, res.bad)
	}
	if want := []string{res.good}; !slices.Equal(res.activeDuringBad, want) {
		t.Errorf("the active Service selected %v during the bad release; want only the good revision %v", res.activeDuringBad, want)
	}
	if a := res.abort; a == nil || a.Revision != res.bad || a.Analysis == nil || a.Analysis.MetricName == "" || a.Analysis.Value == "" {
		t.Errorf("status.abort = %+v; want the bad revision %s aborted by analysis, naming the metric and its value", a, res.bad)
	} else if v := strings.Trim(a.Analysis.Value, "[]"); !near(v, 0.12) {
		t.Errorf("the abort reports the error ratio %s; want about 0.12 (the bad build's)", a.Analysis.Value)
	}
	if res.statusExit != 1 {
		t.Errorf("kubectl bluegreen status after the abort exited %d; want 1 (Degraded)", res.statusExit)
	}

	// Slack: one thread per release in #deploys-test, the abort with the metric's value.
	threads := map[string][]string{} // thread root TS → texts
	var roots []string
	for _, m := range res.messages {
		if m.Method == "chat.update" {
			continue
		}
		if m.Channel != "deploys-test" {
			t.Errorf("a message went to %q; want deploys-test: %s", m.Channel, m.Text)
		}
		if m.ThreadTS == "" {
			roots = append(roots, m.TS)
			threads[m.TS] = []string{m.Text}
		} else {
			threads[m.ThreadTS] = append(threads[m.ThreadTS], m.Text)
		}
	}
	hasThread := func(hash string, words ...string) bool {
		for _, ts := range roots {
			text := strings.ToLower(strings.Join(threads[ts], "\n"))
			if strings.Contains(threads[ts][0], hash) && all(text, words) {
				return true
			}
		}
		return false
	}
	if !hasThread(res.good, "is promoted", "is stable") {
		t.Errorf("no Slack thread for the good release %s that says it is promoted and stable; threads: %q", res.good, threads)
	}
	if res.abort != nil && res.abort.Analysis != nil && !hasThread(res.bad, "was aborted", strings.ToLower(res.abort.Analysis.MetricName), strings.ToLower(res.abort.Analysis.Value)) {
		t.Errorf("no Slack thread for the bad release %s that says aborted with metric %s and value %s; threads: %q",
			res.bad, res.abort.Analysis.MetricName, res.abort.Analysis.Value, threads)
	}

	// What the reader is told.
	for _, want := range []string{
		"values-test.yaml: image.tag",
		"kubectl bluegreen get rollout api-gateway",
		"✓ the analysis passes and the active Service switches to the new revision",
		"✓ the analysis fails and the release is aborted",
		"The demo took",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}

	// Nothing left running.
	if left := slices.DeleteFunc(children(), func(pid int) bool { return slices.Contains(before, pid) }); len(left) > 0 {
		t.Errorf("processes still running after the demo: %v", left)
	}
}

func all(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

func near(s string, want float64) bool {
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && v > want*0.8 && v < want*1.2
}

// children lists the processes whose parent is this test binary (Linux's /proc).
func children() []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so split after the last ')'.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(os.Getpid()) {
			pid, _ := strconv.Atoi(strings.Fields(s)[0])
			pids = append(pids, pid)
		}
	}
	return pids
}
