// Command bench measures the operator on a full local control plane with kwok nodes: N
// blue-green Rollouts of 2 replicas with auto promotion are updated at once, and it
// reports, from watches outside the operator, how long each active Service took to
// switch once its new ReplicaSet was fully available, how long each update took to its
// switch and until all were Healthy, the operator's CPU seconds and peak resident memory
// (from /proc), and the API requests it made per rollout update (from its client
// metrics). It prints one table and writes the same figures as JSON.
//
//	make bench                      # N = 100, 500, 1000
//	go run ./test/bench -n 100 -json bench.json
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

// Result is the figures of one size.
type Result struct {
	N                   int     `json:"n"`
	RolloutsInCluster   int     `json:"rolloutsInCluster"`
	SwitchAfterReadyP50 float64 `json:"switchAfterAvailableP50Ms"`
	SwitchAfterReadyP90 float64 `json:"switchAfterAvailableP90Ms"`
	SwitchAfterReadyP99 float64 `json:"switchAfterAvailableP99Ms"`
	SwitchAfterReadyMax float64 `json:"switchAfterAvailableMaxMs"`
	UpdateToSwitchP50   float64 `json:"updateToSwitchP50Ms"`
	UpdateToSwitchP99   float64 `json:"updateToSwitchP99Ms"`
	UpdateToSwitchMax   float64 `json:"updateToSwitchMaxMs"`
	AllHealthySeconds   float64 `json:"allHealthySeconds"`
	CPUSeconds          float64 `json:"operatorCPUSeconds"`
	CPUPerUpdateMs      float64 `json:"operatorCPUPerUpdateMs"`
	PeakRSSMiB          float64 `json:"operatorPeakRSSMiB"`
	RequestsPerUpdate   float64 `json:"apiRequestsPerUpdate"`
	ThrottledRequests   float64 `json:"clientThrottledSeconds"`
	ReconcilesPerUpdate float64 `json:"reconcilesPerUpdate"`
	ReconcileMeanMs     float64 `json:"reconcileMeanMs"`
	ReconcileErrors     float64 `json:"reconcileErrors"`
	QueueWaitMeanMs     float64 `json:"queueWaitMeanMs"`
	// QueueWaitP99Ms is the upper bound of the histogram bucket that holds the 99th percentile.
	QueueWaitP99Ms     float64 `json:"queueWaitP99Ms"`
	MachineBusyPercent float64 `json:"machineBusyPercent"`
}

func main() {
	sizes := flag.String("n", "100,500,1000", "comma-separated numbers of Rollouts updated at once")
	out := flag.String("json", "bench.json", "file the figures are written to as JSON")
	idle := flag.Int("idle", 200, "Rollouts that stay in the cluster untouched, beside those updated (the memory target is with 700 in all at N=500)")
	timeout := flag.Duration("timeout", 20*time.Minute, "bound on each size")
	flag.StringVar(&managerFlags, "manager-flags", "", "extra flags of the manager, space-separated, such as --rollout-workers=16")
	flag.StringVar(&profileDir, "profile", "", "directory to write the operator's CPU profile of each update (cpu-N.pprof) and heap profile after it (heap-N.pprof); empty: none")
	flag.DurationVar(&profileFor, "profile-for", 20*time.Second, "length of each CPU profile, such as 30s")
	flag.Parse()
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fail(fmt.Errorf("-n: %q is not a positive number", s))
		}
		ns = append(ns, n)
	}
	results, err := run(ns, *idle, *timeout)
	if len(results) > 0 {
		printTable(os.Stdout, results)
		data, _ := json.MarshalIndent(results, "", "  ")
		if werr := os.WriteFile(*out, append(data, '\n'), 0o644); werr != nil {
			fail(werr)
		}
		fmt.Printf("\nfigures written to %s\n", *out)
	}
	if err != nil {
		fail(err)
	}
}

// profileDir and profileFor are the -profile and -profile-seconds flags.
var (
	profileDir string
	profileFor time.Duration
	// managerFlags is the -manager-flags flag.
	managerFlags string
)

// profile starts a CPU profile of the operator; the function it returns waits for it to
// end, then takes a heap profile. Nothing happens without -profile.
func (b *bench) profile(n int) func() {
	if profileDir == "" {
		return func() {}
	}
	fetch := func(path, file string) {
		resp, err := http.Get("http://" + b.pprofAddr + path)
		if err == nil {
			defer resp.Body.Close()
			var f *os.File
			if f, err = os.Create(filepath.Join(profileDir, file)); err == nil {
				_, err = io.Copy(f, resp.Body)
				err = errors.Join(err, f.Close())
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: profile %s: %v\n", file, err)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fetch(fmt.Sprintf("/debug/pprof/profile?seconds=%d", int(profileFor.Seconds())), fmt.Sprintf("cpu-%d.pprof", n))
	}()
	return func() {
		<-done
		fetch("/debug/pprof/heap?gc=1", fmt.Sprintf("heap-%d.pprof", n))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func run(sizes []int, idle int, timeout time.Duration) ([]Result, error) {
	ctx := context.Background()
	root, err := cluster.ModuleRoot()
	if err != nil {
		return nil, err
	}
	bin, err := cluster.BinDir()
	if err != nil {
		return nil, err
	}
	fmt.Println("starting the control plane (4 kwok nodes)")
	c, err := cluster.Start(ctx, cluster.Options{
		Nodes:             4,
		CRDDirectoryPaths: []string{filepath.Join(root, "config", "crd", "bases")},
		StartTimeout:      3 * time.Minute,
	})
	if err != nil {
		return nil, err
	}
	defer c.Close()

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	cfg := *c.Config
	cfg.QPS, cfg.Burst = 1000, 2000
	k8s, err := client.NewWithWatch(&cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}

	metricsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var pprofAddr string
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			return nil, err
		}
		if pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	op, err := startOperator(bin, root, c.KubeconfigPath, metricsAddr, pprofAddr, filepath.Join(c.Dir, "logs", "operator.log"))
	if err != nil {
		return nil, err
	}
	defer op.stop()

	b := &bench{k8s: k8s, op: op, metricsAddr: metricsAddr, pprofAddr: pprofAddr}
	if idle > 0 {
		fmt.Printf("creating %d idle Rollouts\n", idle)
		if err := b.createRollouts(ctx, "idle", idle, timeout); err != nil {
			return nil, err
		}
	}
	var results []Result
	for _, n := range sizes {
		r, err := b.measure(ctx, n, timeout)
		if err != nil {
			return results, fmt.Errorf("N=%d: %w (operator log: %s)", n, err, op.log)
		}
		results = append(results, *r)
	}
	return results, nil
}

// operator is the manager binary, run as a process of its own so that its CPU and memory
// are its own.
type operator struct {
	cmd *exec.Cmd
	log string
}

func startOperator(bin, root, kubeconfig, metricsAddr, pprofAddr, logPath string) (*operator, error) {
	manager := filepath.Join(bin, "manager")
	build := exec.Command("go", "build", "-o", manager, "./cmd/manager")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building the manager: %w", err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"--kubeconfig", kubeconfig, "--leader-elect=false",
		"--metrics-bind-address=" + metricsAddr, "--metrics-secure=false", "--health-probe-bind-address=0",
		"--pprof-bind-address=" + pprofAddr}, strings.Fields(managerFlags)...)
	cmd := exec.Command(manager, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &operator{cmd: cmd, log: logPath}, nil
}

func (o *operator) stop() {
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = o.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = o.cmd.Process.Kill()
	}
}

// cpuSeconds is the process's user and system CPU time, from /proc/PID/stat.
func (o *operator) cpuSeconds() (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", o.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100, nil // USER_HZ is 100 on Linux
}

// peakRSSMiB is the process's peak resident set size (VmHWM), from /proc/PID/status.
func (o *operator) peakRSSMiB() (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", o.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", o.cmd.Process.Pid)
}

type bench struct {
	k8s         client.WithWatch
	op          *operator
	metricsAddr string
	pprofAddr   string
	total       int
}

func (b *bench) createRollouts(ctx context.Context, ns string, n int, timeout time.Duration) error {
	if err := b.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	err := parallel(n, 32, func(i int) error {
		name := fmt.Sprintf("app-%04d", i)
		for _, svc := range []string{name, name + "-preview"} {
			if err := b.k8s.Create(ctx, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: ns},
				Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name},
					Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
			}); err != nil {
				return err
			}
		}
		return b.k8s.Create(ctx, rollout(ns, name, "app:1"))
	})
	if err != nil {
		return err
	}
	b.total += n
	return b.waitHealthy(ctx, ns, n, "", timeout)
}

func rollout(ns, name, image string) *v1alpha1.Rollout {
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
			Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{
				ActiveService: name, PreviewService: name + "-preview",
				ScaleDownDelaySeconds: ptr.To[int32](5),
			}},
		},
	}
}

// waitHealthy waits until n Rollouts of the namespace are Healthy (on image, when given).
// It follows a watch rather than listing again and again, so that waiting adds no load
// to the API server that is being measured.
func (b *bench) waitHealthy(ctx context.Context, ns string, n int, image string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var list v1alpha1.RolloutList
	if err := b.k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	healthy := map[string]bool{}
	note := func(ro *v1alpha1.Rollout) {
		healthy[ro.Name] = ro.Status.Phase == v1alpha1.PhaseHealthy && ro.Status.ObservedGeneration == ro.Generation &&
			(image == "" || ro.Spec.Template.Spec.Containers[0].Image == image)
	}
	count := func() (c int) {
		for _, h := range healthy {
			if h {
				c++
			}
		}
		return c
	}
	for i := range list.Items {
		note(&list.Items[i])
	}
	rv := list.ResourceVersion
	for count() < n {
		w, err := b.k8s.Watch(ctx, &v1alpha1.RolloutList{}, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%d of %d Rollouts in %s Healthy after %s", count(), n, ns, timeout)
			}
			return err
		}
		for ev := range w.ResultChan() {
			if ro, ok := ev.Object.(*v1alpha1.Rollout); ok {
				rv = ro.ResourceVersion
				note(ro)
				if count() >= n {
					break
				}
			}
		}
		w.Stop()
		if ctx.Err() != nil && count() < n {
			return fmt.Errorf("%d of %d Rollouts in %s Healthy after %s", count(), n, ns, timeout)
		}
	}
	return nil
}

// timeline records, from watches, when each rollout's new ReplicaSet became fully available
// and when its active Service switched to it.
type timeline struct {
	mu        sync.Mutex
	available map[string]time.Time // hash → first time fully available
	switched  map[string]time.Time // service → time its selector got a new hash
	hashOf    map[string]string    // service → hash switched to
}

func (b *bench) watch(ctx context.Context, ns string, tl *timeline) error {
	rsWatch, err := b.k8s.Watch(ctx, &appsv1.ReplicaSetList{}, client.InNamespace(ns))
	if err != nil {
		return err
	}
	svcWatch, err := b.k8s.Watch(ctx, &corev1.ServiceList{}, client.InNamespace(ns))
	if err != nil {
		return err
	}
	go drain(ctx, rsWatch, func(obj runtime.Object, now time.Time) {
		rs := obj.(*appsv1.ReplicaSet)
		if ptr.Deref(rs.Spec.Replicas, 0) == 2 && rs.Status.AvailableReplicas == 2 && rs.Status.ObservedGeneration == rs.Generation {
			tl.mu.Lock()
			if _, seen := tl.available[rs.Labels[v1alpha1.PodTemplateHashLabel]]; !seen {
				tl.available[rs.Labels[v1alpha1.PodTemplateHashLabel]] = now
			}
			tl.mu.Unlock()
		}
	})
	initial := map[string]string{}
	var svcs corev1.ServiceList
	if err := b.k8s.List(ctx, &svcs, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, s := range svcs.Items {
		initial[s.Name] = s.Spec.Selector[v1alpha1.PodTemplateHashLabel]
	}
	go drain(ctx, svcWatch, func(obj runtime.Object, now time.Time) {
		svc := obj.(*corev1.Service)
		h := svc.Spec.Selector[v1alpha1.PodTemplateHashLabel]
		if strings.HasSuffix(svc.Name, "-preview") || h == "" || h == initial[svc.Name] {
			return
		}
		tl.mu.Lock()
		if _, seen := tl.switched[svc.Name]; !seen {
			tl.switched[svc.Name], tl.hashOf[svc.Name] = now, h
		}
		tl.mu.Unlock()
	})
	return nil
}

func drain(ctx context.Context, w watch.Interface, on func(runtime.Object, time.Time)) {
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			if ev.Type == watch.Added || ev.Type == watch.Modified {
				on(ev.Object, time.Now())
			}
		}
	}
}

func (b *bench) measure(ctx context.Context, n int, timeout time.Duration) (*Result, error) {
	ns := fmt.Sprintf("bench-%d", n)
	fmt.Printf("N=%d: creating %d Rollouts\n", n, n)
	if err := b.createRollouts(ctx, ns, n, timeout); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tl := &timeline{available: map[string]time.Time{}, switched: map[string]time.Time{}, hashOf: map[string]string{}}
	if err := b.watch(wctx, ns, tl); err != nil {
		return nil, err
	}
	cpu0, err := b.op.cpuSeconds()
	if err != nil {
		return nil, err
	}
	m0, err := b.scrape()
	if err != nil {
		return nil, err
	}
	busy0, total0, err := machineBusy()
	if err != nil {
		return nil, err
	}
	stopProfile := b.profile(n)

	fmt.Printf("N=%d: updating %d Rollouts at once\n", n, n)
	updated := make([]time.Time, n)
	start := time.Now()
	err = parallel(n, 64, func(i int) error {
		patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:2"}]}}}}`)
		ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("app-%04d", i)}}
		if err := b.k8s.Patch(ctx, ro, client.RawPatch("application/merge-patch+json", patch)); err != nil {
			return err
		}
		updated[i] = time.Now()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := b.waitHealthy(ctx, ns, n, "app:2", timeout); err != nil {
		return nil, err
	}
	allHealthy := time.Since(start)
	cpu1, err := b.op.cpuSeconds()
	if err != nil {
		return nil, err
	}
	stopProfile()
	m1, err := b.scrape()
	if err != nil {
		return nil, err
	}
	busy1, total1, err := machineBusy()
	if err != nil {
		return nil, err
	}
	queue := m1.queue.sub(m0.queue)
	peak, err := b.op.peakRSSMiB()
	if err != nil {
		return nil, err
	}

	tl.mu.Lock()
	defer tl.mu.Unlock()
	var afterAvailable, afterUpdate []float64
	for i := 0; i < n; i++ {
		svc := fmt.Sprintf("app-%04d", i)
		sw, ok := tl.switched[svc]
		if !ok {
			return nil, fmt.Errorf("no switch seen for %s", svc)
		}
		if av, ok := tl.available[tl.hashOf[svc]]; ok {
			afterAvailable = append(afterAvailable, ms(sw.Sub(av)))
		}
		afterUpdate = append(afterUpdate, ms(sw.Sub(updated[i])))
	}
	sort.Float64s(afterAvailable)
	sort.Float64s(afterUpdate)
	r := &Result{
		N: n, RolloutsInCluster: b.total,
		SwitchAfterReadyP50: pct(afterAvailable, 50), SwitchAfterReadyP90: pct(afterAvailable, 90),
		SwitchAfterReadyP99: pct(afterAvailable, 99), SwitchAfterReadyMax: pct(afterAvailable, 100),
		UpdateToSwitchP50: pct(afterUpdate, 50), UpdateToSwitchP99: pct(afterUpdate, 99), UpdateToSwitchMax: pct(afterUpdate, 100),
		AllHealthySeconds: allHealthy.Seconds(),
		CPUSeconds:        cpu1 - cpu0, CPUPerUpdateMs: (cpu1 - cpu0) * 1000 / float64(n),
		PeakRSSMiB:        peak,
		RequestsPerUpdate: (m1.requests - m0.requests) / float64(n), ThrottledRequests: m1.throttled - m0.throttled,
		ReconcilesPerUpdate: (m1.reconciles - m0.reconciles) / float64(n),
		ReconcileErrors:     m1.reconcileErrors - m0.reconcileErrors,
		ReconcileMeanMs:     1000 * (m1.reconcileSeconds - m0.reconcileSeconds) / max(1, m1.reconciles-m0.reconciles),
		QueueWaitMeanMs:     1000 * queue.sum / max(1, queue.count),
		QueueWaitP99Ms:      1000 * queue.quantile(0.99),
		MachineBusyPercent:  100 * (busy1 - busy0) / max(1, total1-total0),
	}
	return r, nil
}

// opMetrics is what the bench reads from the operator's /metrics.
type opMetrics struct {
	requests, throttled  float64 // API requests made; seconds spent waiting on the client's rate limiter
	reconciles           float64 // Rollout reconciles
	reconcileErrors      float64 // of which returned an error (and were retried with backoff)
	reconcileSeconds     float64 // their total duration
	apiCalls, apiSeconds float64 // API requests timed by the client, and their total latency
	queue                histogram
}

// histogram is a cumulative Prometheus histogram: upper bound → count.
type histogram struct {
	bounds []float64
	counts []float64
	sum    float64
	count  float64
}

// sub is the histogram of the observations made between o and h.
func (h histogram) sub(o histogram) histogram {
	d := histogram{bounds: h.bounds, counts: make([]float64, len(h.counts)), sum: h.sum - o.sum, count: h.count - o.count}
	for i := range h.counts {
		d.counts[i] = h.counts[i]
		if i < len(o.counts) {
			d.counts[i] -= o.counts[i]
		}
	}
	return d
}

// quantile is the upper bound of the bucket that holds quantile q (a Prometheus
// histogram tells no more).
func (h histogram) quantile(q float64) float64 {
	for i, c := range h.counts {
		if c >= q*h.count {
			return h.bounds[i]
		}
	}
	return math.Inf(1)
}

// scrape reads the operator's client and controller metrics.
func (b *bench) scrape() (m opMetrics, err error) {
	resp, err := http.Get("http://" + b.metricsAddr + "/metrics")
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return m, err
	}
	label := func(metric *dto.Metric, name string) string {
		for _, l := range metric.GetLabel() {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
		return ""
	}
	for _, metric := range families["rest_client_requests_total"].GetMetric() {
		m.requests += metric.GetCounter().GetValue()
	}
	for _, metric := range families["rest_client_rate_limiter_duration_seconds"].GetMetric() {
		m.throttled += metric.GetHistogram().GetSampleSum()
	}
	for _, metric := range families["controller_runtime_reconcile_time_seconds"].GetMetric() {
		if label(metric, "controller") == "rollout" {
			m.reconciles += float64(metric.GetHistogram().GetSampleCount())
			m.reconcileSeconds += metric.GetHistogram().GetSampleSum()
		}
	}
	for _, metric := range families["controller_runtime_reconcile_total"].GetMetric() {
		if label(metric, "controller") == "rollout" && label(metric, "result") == "error" {
			m.reconcileErrors += metric.GetCounter().GetValue()
		}
	}
	for _, metric := range families["workqueue_queue_duration_seconds"].GetMetric() {
		if label(metric, "name") != "rollout" {
			continue
		}
		h := metric.GetHistogram()
		m.queue.sum, m.queue.count = h.GetSampleSum(), float64(h.GetSampleCount())
		for _, bucket := range h.GetBucket() {
			m.queue.bounds = append(m.queue.bounds, bucket.GetUpperBound())
			m.queue.counts = append(m.queue.counts, float64(bucket.GetCumulativeCount()))
		}
	}
	return m, nil
}

// machineBusy reads /proc/stat: CPU time spent busy and in all, in ticks.
func machineBusy() (busy, total float64, err error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)[1:] // user nice system idle iowait irq softirq steal …
	for i, f := range fields {
		v, _ := strconv.ParseFloat(f, 64)
		total += v
		if i != 3 && i != 4 {
			busy += v
		}
	}
	return busy, total, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(sorted []float64, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func parallel(n, workers int, f func(i int) error) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan int)
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return firstErr
}

// freeAddr is a free host:port of 127.0.0.1.
func freeAddr() (string, error) {
	ports, err := cluster.FreePorts(1)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", ports[0]), nil
}

func printTable(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tin cluster\tswitch after available p50/p90/p99/max (ms)\tupdate→switch p50/p99/max (ms)\tall Healthy (s)\tCPU (s)\tCPU/update (ms)\tpeak RSS (MiB)\trequests/update\tthrottled (s)\treconciles/update\treconcile errors\treconcile mean (ms)\tqueue wait mean/p99 (ms)\tmachine busy\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%d\t%d\t%.0f / %.0f / %.0f / %.0f\t%.0f / %.0f / %.0f\t%.1f\t%.2f\t%.2f\t%.1f\t%.1f\t%.2f\t%.1f\t%.0f\t%.1f\t%.0f / %.0f\t%.0f%%\t\n",
			r.N, r.RolloutsInCluster, r.SwitchAfterReadyP50, r.SwitchAfterReadyP90, r.SwitchAfterReadyP99, r.SwitchAfterReadyMax,
			r.UpdateToSwitchP50, r.UpdateToSwitchP99, r.UpdateToSwitchMax, r.AllHealthySeconds,
			r.CPUSeconds, r.CPUPerUpdateMs, r.PeakRSSMiB, r.RequestsPerUpdate, r.ThrottledRequests,
			r.ReconcilesPerUpdate, r.ReconcileErrors, r.ReconcileMeanMs, r.QueueWaitMeanMs, r.QueueWaitP99Ms, r.MachineBusyPercent)
	}
	_ = tw.Flush()
}
