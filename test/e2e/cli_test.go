package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/pkg/cli"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

// bluegreen runs `kubectl bluegreen` (the CLI's code, in the test process) against the
// test's namespace, and returns its output (stdout then stderr) and exit code.
func (e *env) bluegreen(args ...string) (string, int) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*settle)
	defer cancel()
	code := cli.Run(ctx, append([]string{"--kubeconfig", e.c.KubeconfigPath, "-n", e.ns}, args...), cli.Options{
		Streams:      genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		PollInterval: 200 * time.Millisecond,
	})
	return out.String() + errOut.String(), code
}

// mustBluegreen runs the CLI and fails the test unless it exits with code.
func (e *env) mustBluegreen(code int, args ...string) string {
	e.t.Helper()
	out, got := e.bluegreen(args...)
	if got != code {
		e.t.Fatalf("kubectl bluegreen %s: exit %d, want %d:\n%s", strings.Join(args, " "), got, code, out)
	}
	e.t.Logf("kubectl bluegreen %s (exit %d):\n%s", strings.Join(args, " "), got, out)
	return out
}

// waitStatus polls `kubectl bluegreen status` until its line starts with phase.
func (e *env) waitStatus(name string, phase v1alpha1.RolloutPhase) {
	e.t.Helper()
	e.eventually(settle, "kubectl bluegreen status "+name+" to show "+string(phase), func() (bool, string) {
		out, _ := e.bluegreen("status", name)
		return strings.HasPrefix(out, string(phase)+" - "), out
	})
}

func (e *env) manualRollout(name string) {
	e.t.Helper()
	e.services(name)
	ro := e.rollout(name, "app:1", 2)
	ro.Spec.Strategy.BlueGreen.AutoPromotionEnabled = ptr.To(false)
	e.create(ro)
}

func TestCLIManualPromotion(t *testing.T) {
	e := newEnv(t)
	e.manualRollout("web")
	e.mustBluegreen(cli.ExitOK, "status", "web", "--watch", "--timeout", settle.String())
	first := e.get("web").Status.CurrentPodHash

	e.mustBluegreen(cli.ExitOK, "set", "image", "web", "app=app:2")
	e.waitStatus("web", v1alpha1.PhasePaused)
	if got := e.selector("web"); got != first {
		t.Fatalf("active Service selects %q while paused, want the stable revision %q", got, first)
	}
	tree := e.mustBluegreen(cli.ExitOK, "get", "rollout", "web")
	if !strings.Contains(tree, "preview") || !strings.Contains(tree, "stable,active") {
		t.Errorf("get rollout does not mark the preview and stable revisions:\n%s", tree)
	}

	e.mustBluegreen(cli.ExitOK, "promote", "web")
	out := e.mustBluegreen(cli.ExitOK, "status", "web", "--watch", "--timeout", settle.String())
	if !strings.Contains(out, "Healthy - ") {
		t.Errorf("status --watch did not end with Healthy:\n%s", out)
	}
	ro := e.get("web")
	if ro.Status.CurrentPodHash == first || e.selector("web") != ro.Status.CurrentPodHash {
		t.Fatalf("after promote: active selects %s, current %s, first %s", e.selector("web"), ro.Status.CurrentPodHash, first)
	}
	// Nothing is in preview any more: a second promote is a clear error.
	out, code := e.bluegreen("promote", "web")
	if code != cli.ExitFailed || !strings.Contains(out, "has no revision in preview: nothing to promote (it is Healthy") {
		t.Errorf("promote of a Healthy rollout: exit %d:\n%s", code, out)
	}
}

func TestCLIAbortThenRetry(t *testing.T) {
	e := newEnv(t)
	e.manualRollout("web")
	e.mustBluegreen(cli.ExitOK, "status", "web", "--watch", "--timeout", settle.String())
	first := e.get("web").Status.CurrentPodHash

	e.mustBluegreen(cli.ExitOK, "set", "image", "web", "*=app:2")
	e.waitStatus("web", v1alpha1.PhasePaused)
	e.mustBluegreen(cli.ExitOK, "abort", "web")
	out := e.mustBluegreen(cli.ExitFailed, "status", "web", "--watch", "--timeout", settle.String())
	if !strings.Contains(out, "aborted by User") {
		t.Errorf("status after abort does not say who aborted:\n%s", out)
	}
	if got := e.selector("web"); got != first {
		t.Fatalf("active Service selects %q after the abort, want the stable revision %q", got, first)
	}
	out, code := e.bluegreen("abort", "web")
	if code != cli.ExitFailed || !strings.Contains(out, "is aborted already") {
		t.Errorf("second abort: exit %d:\n%s", code, out)
	}

	e.mustBluegreen(cli.ExitOK, "retry", "web")
	e.waitStatus("web", v1alpha1.PhasePaused)
	e.mustBluegreen(cli.ExitOK, "promote", "web")
	e.mustBluegreen(cli.ExitOK, "status", "web", "--watch", "--timeout", settle.String())
	if ro := e.get("web"); e.selector("web") != ro.Status.CurrentPodHash || ro.Status.CurrentPodHash == first {
		t.Fatalf("after retry and promote: active selects %s, current %s", e.selector("web"), ro.Status.CurrentPodHash)
	}
}

// TestCLIAsKubectlPlugin builds the binary and runs it the way users do: as a kubectl
// plugin found on PATH.
func TestCLIAsKubectlPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: skipped with -short")
	}
	e := newEnv(t)
	root, err := cluster.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "kubectl-bluegreen"), "./cmd/kubectl-bluegreen")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/kubectl-bluegreen: %v\n%s", err, out)
	}
	e.manualRollout("web")
	e.waitPhase("web", v1alpha1.PhaseHealthy, settle)
	bin, err := cluster.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	// kubectl finds a plugin only when its name comes before any flag.
	cmd := exec.Command(filepath.Join(bin, "kubectl"), "bluegreen", "list", "--kubeconfig", e.c.KubeconfigPath, "-n", e.ns)
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "web") || !strings.Contains(string(out), "Healthy") {
		t.Fatalf("kubectl bluegreen list: %v\n%s", err, out)
	}
}
