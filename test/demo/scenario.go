package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
	"github.com/bluegreen-dev/bluegreen/test/helmchart"
	"github.com/bluegreen-dev/bluegreen/test/prometheus"
	slacktest "github.com/bluegreen-dev/bluegreen/test/slack"
)

const (
	app       = "api-gateway"
	namespace = "api-gateway-test"
	// The tags of the scenario, and the error ratio each simulated build answers with.
	firstTag, goodTag, badTag = "1.4.2", "1.5.0", "1.6.0"
	// The operator's namespace, which holds the notifications configuration.
	systemNamespace = "bluegreen-system"
	// waitLimit bounds every wait of the scenario.
	waitLimit = 3 * time.Minute
)

// errorRatios is how often each build of api-gateway answers with a 5xx.
var errorRatios = map[string]float64{firstTag: 0.002, goodTag: 0.004, badTag: 0.12}

// config is what a run needs from outside.
type config struct {
	out io.Writer
	// root is the module root: the chart is read from examples/manifest-repo.
	root string
	// tools holds kubectl and prometheus (make controlplane prometheus); bin holds
	// manager and kubectl-bluegreen (make build). They are the same directory for make demo.
	tools, bin string
	// keep waits for Ctrl-C before stopping everything.
	keep bool
	// slackToken and slackChannel send the messages to real Slack instead of the stand-in.
	slackToken, slackChannel string
}

func defaultConfig(out io.Writer) (config, error) {
	root, err := cluster.ModuleRoot()
	if err != nil {
		return config{}, err
	}
	bin, err := cluster.BinDir()
	if err != nil {
		return config{}, err
	}
	return config{out: out, root: root, tools: bin, bin: bin,
		slackToken: os.Getenv("SLACK_TOKEN"), slackChannel: os.Getenv("SLACK_CHANNEL")}, nil
}

// result is what a run saw, for its test.
type result struct {
	// Hashes of the three revisions.
	first, good, bad string
	// activeDuringBad holds every selector the active Service had from the bad release's
	// sync until it was aborted and back to the stable revision.
	activeDuringBad []string
	// abort is the bad release's status.abort.
	abort *v1alpha1.AbortStatus
	// messages are the Slack messages the stand-in received (none with real Slack).
	messages []slacktest.Message
	// statusExit is the exit code of `kubectl bluegreen status` after the abort.
	statusExit int
}

// demo is one run.
type demo struct {
	config
	began    time.Time
	cluster  *cluster.Cluster
	k8s      client.Client
	cs       kubernetes.Interface
	manifest string // the temporary checkout of the manifest repository
	slack    *slacktest.Server
	result   result
}

func run(ctx context.Context, cfg config) (_ *result, err error) {
	d := &demo{config: cfg, began: time.Now()}
	ctrllog.SetLogger(logr.Discard()) // the clients' own logging; the operator logs to its file
	var stack []func()
	defer func() {
		if len(stack) > 0 {
			d.heading("Stopping everything")
		}
		for i := len(stack) - 1; i >= 0; i-- {
			stack[i]()
		}
		if err == nil {
			fmt.Fprintf(d.out, "\nThe demo took %s.\n", d.since(d.began))
		}
	}()
	onExit := func(f func()) { stack = append(stack, f) }
	fmt.Fprintf(d.out, `bluegreen releases a new version of an application next to the one serving users, checks it,
and only then switches production traffic to it. This demo shows it on a local cluster with
api-gateway, an application of the example GitOps repository (examples/manifest-repo):
a good build (%s) that is promoted once its error rate is checked, then a bad one (%s)
whose check fails, so it is aborted while users stay on %s all along.
`, goodTag, badTag, goodTag)

	for _, f := range []string{filepath.Join(cfg.tools, "kubectl"), filepath.Join(cfg.tools, "prometheus"),
		filepath.Join(cfg.bin, "manager"), filepath.Join(cfg.bin, "kubectl-bluegreen")} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%s is missing: run `make demo`, which builds it (make controlplane prometheus build)", f)
		}
	}

	if err := d.phase("Start a local Kubernetes control plane with 2 simulated (kwok) nodes", func() error {
		c, err := cluster.Start(ctx, cluster.Options{Nodes: 2,
			CRDDirectoryPaths: []string{filepath.Join(cfg.root, "config", "crd", "bases")}})
		if err != nil {
			return err
		}
		onExit(func() { logErr(d.out, "control plane", c.Close()) })
		d.cluster = c
		scheme := runtime.NewScheme()
		for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme} {
			if err := add(scheme); err != nil {
				return err
			}
		}
		if d.k8s, err = client.New(c.Config, client.Options{Scheme: scheme}); err != nil {
			return err
		}
		if d.cs, err = kubernetes.NewForConfig(c.Config); err != nil {
			return err
		}
		fmt.Fprintf(d.out, "kube-apiserver %s, nodes %s; the Rollout CRDs are installed\n", c.Config.Host, strings.Join(c.Nodes, ", "))
		return nil
	}); err != nil {
		return nil, err
	}

	var prom *prometheus.Server
	if err := d.phase("Start Prometheus, scraping api-gateway's simulated traffic", func() error {
		traffic := newTraffic(d.cs, namespace, app, errorRatios)
		tctx, stopTraffic := context.WithCancel(ctx)
		onExit(func() { stopTraffic(); traffic.Close() })
		var err error
		prom, err = prometheus.Start(ctx, prometheus.Options{Targets: []string{traffic.Target()}})
		if err != nil {
			return err
		}
		onExit(func() { logErr(d.out, "prometheus", prom.Close()) })
		go traffic.Run(tctx)
		fmt.Fprintf(d.out, "Prometheus %s. Every ready pod of api-gateway answers 20 requests a second;\n", prom.URL)
		fmt.Fprintf(d.out, "build %s fails %.1f%% of them, %s %.1f%%, %s %.0f%%.\n",
			firstTag, 100*errorRatios[firstTag], goodTag, 100*errorRatios[goodTag], badTag, 100*errorRatios[badTag])
		return nil
	}); err != nil {
		return nil, err
	}

	if err := d.phase("Run the operator", func() error {
		if err := d.configureSlack(ctx); err != nil {
			return err
		}
		if d.slack != nil {
			onExit(d.slack.Close)
		}
		stop, err := d.startOperator(ctx, prom.URL)
		if err != nil {
			return err
		}
		onExit(stop)
		return nil
	}); err != nil {
		return nil, err
	}

	if err := d.phase("Install api-gateway from the manifest repository (tag "+firstTag+")", func() error {
		if err := d.checkout(); err != nil {
			return err
		}
		if err := d.sync(ctx); err != nil {
			return err
		}
		ro, err := d.waitRollout(ctx, "the first revision is Healthy", func(ro *v1alpha1.Rollout) bool {
			return ro.Status.Phase == v1alpha1.PhaseHealthy && ro.Status.StableRS != ""
		})
		if err != nil {
			return err
		}
		d.result.first = ro.Status.StableRS
		fmt.Fprintln(d.out, "A first revision goes straight to the active Service: there is nothing to compare it with.")
		return d.tree(ctx)
	}); err != nil {
		return nil, err
	}

	if err := d.phase("A good release: CI commits tag "+goodTag, func() error { return d.goodRelease(ctx) }); err != nil {
		return nil, err
	}
	if err := d.phase("A bad release: CI commits tag "+badTag, func() error { return d.badRelease(ctx) }); err != nil {
		return nil, err
	}
	if err := d.phase("What the team saw in Slack", func() error { return d.showSlack(ctx) }); err != nil {
		return nil, err
	}

	if cfg.keep {
		d.heading("Everything keeps running; press Ctrl-C to stop it")
		fmt.Fprintf(d.out, "export KUBECONFIG=%s\nexport PATH=%s:$PATH\nkubectl bluegreen get rollout %s -n %s\n",
			d.cluster.KubeconfigPath, cfg.bin, app, namespace)
		<-ctx.Done()
	}
	return &d.result, nil
}

func (d *demo) goodRelease(ctx context.Context) error {
	if err := d.release(ctx, goodTag); err != nil {
		return err
	}
	ro, err := d.waitRollout(ctx, "the new revision runs behind the preview Service and is being analysed", func(ro *v1alpha1.Rollout) bool {
		run := ro.Status.BlueGreen.PrePromotionAnalysisRunStatus
		return ro.Status.CurrentPodHash != d.result.first && run != nil && run.Status == v1alpha1.AnalysisPhaseRunning
	})
	if err != nil {
		return err
	}
	d.result.good = ro.Status.CurrentPodHash
	fmt.Fprintf(d.out, "The preview Service %s-standby selects %s; the active Service still selects %s.\n", app, d.result.good, d.result.first)
	if err := d.tree(ctx); err != nil {
		return err
	}
	if _, err := d.waitRollout(ctx, "the analysis passes and the active Service switches to the new revision", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.BlueGreen.ActiveSelector == d.result.good
	}); err != nil {
		return err
	}
	if err := d.tree(ctx); err != nil {
		return err
	}
	if _, err := d.waitRollout(ctx, "the old revision is scaled down after scaleDownDelaySeconds", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Phase == v1alpha1.PhaseHealthy && ro.Status.StableRS == d.result.good && d.replicas(ctx, d.result.first) == 0
	}); err != nil {
		return err
	}
	return d.tree(ctx)
}

func (d *demo) badRelease(ctx context.Context) error {
	active := watchSelector(ctx, d.cs, namespace, app)
	defer active()
	if err := d.release(ctx, badTag); err != nil {
		return err
	}
	ro, err := d.waitRollout(ctx, "the analysis fails and the release is aborted", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.CurrentPodHash != d.result.good && ro.Status.Abort != nil && ro.Status.Phase == v1alpha1.PhaseDegraded
	})
	if err != nil {
		return err
	}
	d.result.bad, d.result.abort = ro.Status.CurrentPodHash, ro.Status.Abort
	if err := d.tree(ctx); err != nil {
		return err
	}
	if _, err := d.waitRollout(ctx, "the aborted revision is scaled down after abortScaleDownDelaySeconds", func(ro *v1alpha1.Rollout) bool {
		return d.replicas(ctx, d.result.bad) == 0
	}); err != nil {
		return err
	}
	d.result.activeDuringBad = active()
	fmt.Fprintf(d.out, "The active Service selected %s throughout (every selector it had: %s).\n",
		d.result.good, strings.Join(d.result.activeDuringBad, ", "))
	code, err := d.plugin(ctx, "status", app, "-n", namespace)
	d.result.statusExit = code
	if err != nil && code != 1 {
		return err
	}
	fmt.Fprintf(d.out, "(exit status %d: a CI job that waits with `kubectl bluegreen status --watch` fails here)\n", code)
	return nil
}

// release does what CI and Argo CD do for a new build: set the tag in the values file,
// then render the chart and apply it.
func (d *demo) release(ctx context.Context, tag string) error {
	values := filepath.Join(d.manifest, app, "values-test.yaml")
	before, err := os.ReadFile(values)
	if err != nil {
		return err
	}
	if code, err := d.plugin(ctx, "values", "set", filepath.Join(app, "values-test.yaml"), tag); err != nil || code != 0 {
		return fmt.Errorf("kubectl bluegreen values set: exit %d: %v", code, err)
	}
	after, err := os.ReadFile(values)
	if err != nil {
		return err
	}
	showDiff(d.out, before, after)
	fmt.Fprintln(d.out, "CI commits this one line; Argo CD sees the commit and syncs:")
	return d.sync(ctx)
}

// checkout copies the example manifest repository, which the releases then change.
func (d *demo) checkout() error {
	dir := filepath.Join(d.cluster.Dir, "manifests")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(d.root, "examples", "manifest-repo"))); err != nil {
		return err
	}
	d.manifest = dir
	fmt.Fprintf(d.out, "A checkout of examples/manifest-repo in %s\n", dir)
	return nil
}

// sync renders the chart with the test environment's values and applies the result.
func (d *demo) sync(ctx context.Context) error {
	chart := filepath.Join(d.manifest, app)
	overrides := map[string]any{}
	if d.slackChannel != "" {
		overrides["notifications.slackChannels"] = []string{d.slackChannel}
	}
	manifests, err := helmchart.Render(chart, app, namespace,
		[]string{filepath.Join(chart, "values.yaml"), filepath.Join(chart, "values-test.yaml")}, overrides)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "$ helm template %s %s -n %s -f values.yaml -f values-test.yaml | kubectl apply -n %s -f -\n", app, app, namespace, namespace)
	if err := d.ensureNamespace(ctx, namespace); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(d.tools, "kubectl"), "--kubeconfig", d.cluster.KubeconfigPath, "apply", "-n", namespace, "-f", "-")
	cmd.Stdin = bytes.NewReader(manifests)
	out := indent(d.out)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd.Run()
}

// tree prints kubectl bluegreen get rollout.
func (d *demo) tree(ctx context.Context) error {
	_, err := d.plugin(ctx, "get", "rollout", app, "-n", namespace)
	return err
}

// plugin runs kubectl-bluegreen and returns its exit code.
func (d *demo) plugin(ctx context.Context, args ...string) (int, error) {
	fmt.Fprintf(d.out, "$ kubectl bluegreen %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, filepath.Join(d.bin, "kubectl-bluegreen"), args...)
	cmd.Dir = d.manifest // the checkout of the manifest repository, as in CI
	cmd.Env = append(os.Environ(), "KUBECONFIG="+d.cluster.KubeconfigPath)
	out := indent(d.out)
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), err
	}
	return 0, err
}

// waitRollout prints what it waits for, then each new phase and message of the
// Rollout until done holds; it returns the Rollout that satisfied it.
func (d *demo) waitRollout(ctx context.Context, what string, done func(*v1alpha1.Rollout) bool) (*v1alpha1.Rollout, error) {
	fmt.Fprintf(d.out, "… waiting until %s\n", what)
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	var last string
	for {
		var ro v1alpha1.Rollout
		err := d.k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: app}, &ro)
		if err == nil {
			if line := fmt.Sprintf("%s: %s", ro.Status.Phase, ro.Status.Message); line != last && ro.Status.Phase != "" {
				fmt.Fprintf(d.out, "  %6s  %s\n", d.since(began), line)
				last = line
			}
			if done(&ro) {
				fmt.Fprintf(d.out, "✓ %s (%s)\n", what, d.since(began))
				return &ro, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: not after %s; last seen: %s (%v)", what, waitLimit, last, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// replicas is the number of pods of a revision's ReplicaSet (-1 if unknown).
func (d *demo) replicas(ctx context.Context, hash string) int32 {
	rs, err := d.cs.AppsV1().ReplicaSets(namespace).Get(ctx, app+"-"+hash, metav1.GetOptions{})
	if err != nil {
		return -1
	}
	return rs.Status.Replicas
}

func (d *demo) ensureNamespace(ctx context.Context, name string) error {
	err := d.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// phase runs one part of the scenario under a heading and says how long it took.
func (d *demo) phase(title string, f func() error) error {
	d.heading(title)
	began := time.Now()
	if err := f(); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "(%s)\n", d.since(began))
	return nil
}

func (d *demo) heading(title string) { fmt.Fprintf(d.out, "\n== %s\n", title) }

func (d *demo) since(t time.Time) string {
	return time.Since(t).Round(100 * time.Millisecond).String()
}

// showDiff prints the lines that differ between two versions of a file, as a diff would.
func showDiff(w io.Writer, before, after []byte) {
	a, b := strings.Split(string(before), "\n"), strings.Split(string(after), "\n")
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			fmt.Fprintf(w, "    - %s\n    + %s\n", a[i], b[i])
		}
	}
}

// indent writes what a command prints indented under it.
func indent(w io.Writer) io.Writer { return &indenter{w: w, start: true} }

type indenter struct {
	w     io.Writer
	start bool
}

func (i *indenter) Write(p []byte) (int, error) {
	var b bytes.Buffer
	for _, c := range p {
		if i.start {
			b.WriteString("    ")
		}
		b.WriteByte(c)
		i.start = c == '\n'
	}
	if _, err := i.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

func logErr(w io.Writer, what string, err error) {
	if err != nil {
		fmt.Fprintf(w, "stopping %s: %v\n", what, err)
	}
}
