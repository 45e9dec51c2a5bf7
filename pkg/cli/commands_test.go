package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

// api is the envtest API server of the command tests: no controller runs, so each test
// writes the status the controller would have written and checks what the CLI writes.
var api struct {
	k8s        client.Client
	kubeconfig string
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getenv("BLUEGREEN_SKIP_CLUSTER") == "1" || !needsCluster() {
		return m.Run()
	}
	env, err := cluster.StartEnvtest(cluster.EnvtestOptions{CRDDirectoryPaths: []string{filepath.Join("..", "..", "config", "crd", "bases")}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	dir, err := os.MkdirTemp("", "bluegreen-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	api.kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(api.kubeconfig, env.Environment.KubeConfig, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if api.k8s, err = client.New(env.Config, client.Options{Scheme: Scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// needsCluster is false when -run selects only the offline tests.
func needsCluster() bool {
	for _, arg := range os.Args {
		if v, ok := strings.CutPrefix(arg, "-test.run="); ok {
			return v == "" || strings.Contains(v, "Cluster")
		}
	}
	return true
}

// fixture is a namespace with a Rollout at revision 2 in preview (paused), revision 1
// stable and active.
type fixture struct {
	t  *testing.T
	ns string
}

const (
	hash1 = "5d8b9c7f4"
	hash2 = "7c9f8d6b5"
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if api.k8s == nil {
		t.Skip("no API server (BLUEGREEN_SKIP_CLUSTER=1)")
	}
	t.Parallel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "cli-"}}
	if err := api.k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ns: ns.Name}
}

func (f *fixture) ctx() context.Context { return context.Background() }

func template(image string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}, {Name: "proxy", Image: "envoy:1"}}},
	}
}

// rollout creates Rollout name in the given phase, with ReplicaSets for revisions 1 and 2.
func (f *fixture) rollout(name string, phase v1alpha1.RolloutPhase) *v1alpha1.Rollout {
	f.t.Helper()
	ro := &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: template("web:2"),
			Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{ActiveService: name, PreviewService: name + "-preview",
				ActiveMetadata: &v1alpha1.PodTemplateMetadata{Labels: map[string]string{"role": "active"}}}},
		},
	}
	if err := api.k8s.Create(f.ctx(), ro); err != nil {
		f.t.Fatal(err)
	}
	for i, h := range []string{hash1, hash2} {
		tpl := template(fmt.Sprintf("web:%d", i+1))
		tpl.Labels[v1alpha1.PodTemplateHashLabel] = h
		tpl.Labels["role"] = "active"
		rs := &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-" + h, Namespace: f.ns,
				Labels:      map[string]string{"app": "web", v1alpha1.PodTemplateHashLabel: h},
				Annotations: map[string]string{v1alpha1.RevisionAnnotation: fmt.Sprint(i + 1)},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Rollout", Name: name, UID: ro.UID,
					Controller: ptr.To(true)}}},
			Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](2),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", v1alpha1.PodTemplateHashLabel: h}},
				Template: *tpl},
		}
		if err := api.k8s.Create(f.ctx(), rs); err != nil {
			f.t.Fatal(err)
		}
	}
	ro.Status = v1alpha1.RolloutStatus{ObservedGeneration: ro.Generation, Phase: phase, CurrentPodHash: hash2, StableRS: hash1,
		BlueGreen: v1alpha1.BlueGreenStatus{ActiveSelector: hash1, PreviewSelector: hash2}}
	switch phase {
	case v1alpha1.PhaseHealthy:
		ro.Status.StableRS, ro.Status.BlueGreen.ActiveSelector = hash2, hash2
		ro.Status.Message = "revision 2 (" + hash2 + ") is active and fully available"
	case v1alpha1.PhasePaused:
		ro.Status.Message = "waiting for promotion"
	case v1alpha1.PhaseDegraded:
		ro.Status.Message = "revision 2 was aborted by User: a user asked for the abort"
		ro.Status.Abort = &v1alpha1.AbortStatus{Revision: hash2, By: v1alpha1.AbortByUser, Message: "a user asked for the abort", AbortedAt: metav1.Now()}
	}
	if err := api.k8s.Status().Update(f.ctx(), ro); err != nil {
		f.t.Fatal(err)
	}
	return ro
}

// eventually polls check until it reports done or the timeout passes.
func (f *fixture) eventually(timeout time.Duration, what string, check func() (bool, string)) {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, last := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond) // poll interval, not a wait for state
	}
}

func (f *fixture) get(name string) *v1alpha1.Rollout {
	f.t.Helper()
	var ro v1alpha1.Rollout
	if err := api.k8s.Get(f.ctx(), client.ObjectKey{Namespace: f.ns, Name: name}, &ro); err != nil {
		f.t.Fatal(err)
	}
	return &ro
}

// run runs the CLI against the API server in the fixture's namespace.
func (f *fixture) run(args ...string) (string, string, int) {
	f.t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), append([]string{"--kubeconfig", api.kubeconfig, "-n", f.ns}, args...), Options{
		Streams:      genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Now:          func() time.Time { return now },
		PollInterval: 50 * time.Millisecond,
	})
	return out.String(), errOut.String(), code
}

// expect runs the CLI and checks the exit code and that the output (stdout and stderr) holds want.
func (f *fixture) expect(code int, want string, args ...string) {
	f.t.Helper()
	out, errOut, got := f.run(args...)
	if got != code || !strings.Contains(out+errOut, want) {
		f.t.Errorf("kubectl bluegreen %s: exit %d, want %d; output must contain %q:\n%s%s", strings.Join(args, " "), got, code, want, out, errOut)
	}
}

func TestClusterPromote(t *testing.T) {
	f := newFixture(t)
	f.rollout("web", v1alpha1.PhasePaused)
	f.expect(ExitOK, `requested promotion of revision 2 (`+hash2+`)`, "promote", "web")
	if got := f.get("web").Annotations[v1alpha1.PromoteAnnotation]; got != hash2 {
		t.Errorf("promote annotation %q, want %q", got, hash2)
	}
	f.expect(ExitOK, "requested full promotion", "promote", "web", "--full")
	if got := f.get("web").Annotations[v1alpha1.PromoteFullAnnotation]; got != hash2 {
		t.Errorf("promote-full annotation %q, want %q", got, hash2)
	}

	f.rollout("done", v1alpha1.PhaseHealthy)
	f.expect(ExitFailed, `error: rollout "done" has no revision in preview: nothing to promote (it is Healthy at revision 2 (`+hash2+`))`, "promote", "done")
	f.rollout("aborted", v1alpha1.PhaseDegraded)
	f.expect(ExitFailed, "run `kubectl bluegreen retry aborted` first", "promote", "aborted")
	f.expect(ExitFailed, `error: rollout "nope" not found in namespace "`+f.ns+`"`, "promote", "nope")
	f.expect(ExitFailed, "promote needs the name of one rollout", "promote")
}

func TestClusterAbortRetry(t *testing.T) {
	f := newFixture(t)
	f.rollout("web", v1alpha1.PhasePaused)
	f.expect(ExitFailed, `rollout "web" is not aborted (it is Paused): nothing to retry`, "retry", "web")
	f.expect(ExitOK, "requested abort of revision 2", "abort", "web")
	if got := f.get("web").Annotations[v1alpha1.AbortAnnotation]; got != hash2 {
		t.Errorf("abort annotation %q, want %q", got, hash2)
	}
	f.rollout("done", v1alpha1.PhaseHealthy)
	f.expect(ExitFailed, `rollout "done" has no revision in flight: nothing to abort (it is Healthy at revision 2`, "abort", "done")
	f.rollout("aborted", v1alpha1.PhaseDegraded)
	f.expect(ExitFailed, "is aborted already", "abort", "aborted")
	f.expect(ExitOK, "requested retry of revision 2", "retry", "aborted")
	if got := f.get("aborted").Annotations[v1alpha1.RetryAnnotation]; got != hash2 {
		t.Errorf("retry annotation %q, want %q", got, hash2)
	}
}

func TestClusterPauseResumeRestart(t *testing.T) {
	f := newFixture(t)
	f.rollout("web", v1alpha1.PhaseHealthy)
	f.expect(ExitOK, `rollout "web" paused`, "pause", "web")
	if !f.get("web").Spec.Paused {
		t.Error("spec.paused is false after pause")
	}
	f.expect(ExitOK, `rollout "web" resumed`, "resume", "web")
	if f.get("web").Spec.Paused {
		t.Error("spec.paused is true after resume")
	}
	f.expect(ExitOK, "pods restart at 2026-11-29T13:00:00Z", "restart", "web", "--in", "1h")
	if got := f.get("web").Spec.RestartAt; got == nil || !got.Time.Equal(now.Add(time.Hour)) {
		t.Errorf("spec.restartAt %v, want %v", got, now.Add(time.Hour))
	}
	f.expect(ExitFailed, `rollout "nope" not found`, "pause", "nope")
}

func TestClusterSetImageAndUndo(t *testing.T) {
	f := newFixture(t)
	f.rollout("web", v1alpha1.PhaseHealthy)
	f.expect(ExitOK, "image updated: app=web:3", "set", "image", "web", "app=web:3")
	if got := f.get("web").Spec.Template.Spec.Containers[0].Image; got != "web:3" {
		t.Errorf("image %q after set image", got)
	}
	f.expect(ExitOK, "app=web:4 proxy=web:4", "set", "image", "web", "*=web:4")
	f.expect(ExitFailed, `rollout "web" has no container "db": its containers are app, proxy`, "set", "image", "web", "db=pg:16")

	// The current revision is 2: undo goes back to revision 1's template, without the
	// hash label and the active role's label.
	f.expect(ExitOK, "rolled back to revision 1 ("+hash1+")", "undo", "web")
	got := f.get("web").Spec.Template
	if got.Spec.Containers[0].Image != "web:1" || len(got.Labels) != 1 || got.Labels["app"] != "web" {
		t.Errorf("template after undo: image %s labels %v", got.Spec.Containers[0].Image, got.Labels)
	}
	f.expect(ExitFailed, "has no revision 7: its revisions are 2, 1", "undo", "web", "--to-revision", "7")
}

func TestClusterSetImageWorkloadRef(t *testing.T) {
	f := newFixture(t)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: f.ns},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: *template("web:1")},
	}
	if err := api.k8s.Create(f.ctx(), dep); err != nil {
		t.Fatal(err)
	}
	ro := &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: f.ns},
		Spec: v1alpha1.RolloutSpec{WorkloadRef: &v1alpha1.ObjectRef{Kind: "Deployment", Name: "web"},
			Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{ActiveService: "web"}}},
	}
	if err := api.k8s.Create(f.ctx(), ro); err != nil {
		t.Fatal(err)
	}
	f.expect(ExitOK, `in deployment "web"`, "set", "image", "web", "app=web:2")
	if err := api.k8s.Get(f.ctx(), client.ObjectKeyFromObject(dep), dep); err != nil {
		t.Fatal(err)
	}
	if got := dep.Spec.Template.Spec.Containers[0].Image; got != "web:2" {
		t.Errorf("deployment image %q, want web:2", got)
	}
}

func TestClusterStatusExitCodes(t *testing.T) {
	f := newFixture(t)
	f.rollout("healthy", v1alpha1.PhaseHealthy)
	f.rollout("paused", v1alpha1.PhasePaused)
	f.rollout("aborted", v1alpha1.PhaseDegraded)
	f.expect(ExitOK, "Healthy - revision 2", "status", "healthy")
	f.expect(ExitTimeout, "Paused - waiting for promotion", "status", "paused")
	f.expect(ExitTimeout, `rollout "paused" did not become Healthy within 300ms`, "status", "paused", "--timeout", "300ms")
	f.expect(ExitFailed, "aborted by User: a user asked for the abort", "status", "aborted", "--watch")
	f.expect(ExitFailed, `rollout "nope" not found`, "status", "nope")
	f.expect(ExitOK, "currentPodHash: "+hash2, "status", "healthy", "-o", "yaml")

	// --watch prints a line per change and exits 0 when the Rollout becomes Healthy.
	done := make(chan struct{})
	var out string
	var code int
	go func() {
		defer close(done)
		out, _, code = f.run("status", "paused", "--watch", "--timeout", "30s")
	}()
	// Let the watch print Paused first (or not: either way it must end at Healthy).
	f.eventually(10*time.Second, "the status update", func() (bool, string) {
		ro := f.get("paused")
		ro.Status.Phase, ro.Status.Message, ro.Status.StableRS, ro.Status.BlueGreen.ActiveSelector = v1alpha1.PhaseHealthy, "revision 2 is active", hash2, hash2
		if err := api.k8s.Status().Update(f.ctx(), ro); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	<-done
	if code != ExitOK || !strings.Contains(out, "Healthy - revision 2 is active") {
		t.Errorf("status --watch: exit %d, output:\n%s", code, out)
	}
}

func TestClusterGetAndList(t *testing.T) {
	f := newFixture(t)
	f.rollout("web", v1alpha1.PhasePaused)
	f.expect(ExitOK, "⧉ web-"+hash2, "get", "rollout", "web", "--no-color")
	f.expect(ExitOK, "kind: Rollout", "get", "rollout", "web", "-o", "yaml")
	f.expect(ExitOK, "web    Paused", "list")
	f.expect(ExitOK, f.ns, "list", "-A")
	f.expect(ExitFailed, `rollout "nope" not found`, "get", "rollout", "nope")
}

// TestClusterLintAgreesWithAPIServer creates, as a strict dry run, each object that lint
// checks: the API server must reject exactly the objects lint finds a problem in, for the
// same fields and with the same messages.
func TestClusterLintAgreesWithAPIServer(t *testing.T) {
	f := newFixture(t)
	const rollout = `apiVersion: rollouts.bluegreen.dev/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: app:1
  strategy:
    blueGreen:
      activeService: web
`
	cases := map[string]string{
		"valid":            rollout,
		"unknown field":    rollout + "      autoPromotionEnable: false\n",
		"pod field":        strings.Replace(rollout, "image: app:1", "image: app:1\n        imagePullPolicyy: Always", 1),
		"same services":    rollout + "      previewService: web\n",
		"weight":           rollout + "      antiAffinity:\n        preferredDuringSchedulingIgnoredDuringExecution: {weight: 0}\n",
		"two antiAffinity": rollout + "      antiAffinity:\n        preferredDuringSchedulingIgnoredDuringExecution: {weight: 1}\n        requiredDuringSchedulingIgnoredDuringExecution: {}\n",
		"history limit":    rollout + "      scaleDownDelayRevisionLimit: 11\n",
		"deadline":         strings.Replace(rollout, "spec:\n  selector", "spec:\n  minReadySeconds: 30\n  progressDeadlineSeconds: 10\n  selector", 1),
		"scaleDown enum":   strings.Replace(rollout, "spec:\n  selector", "spec:\n  workloadRef: {kind: Deployment, name: web, scaleDown: sometimes}\n  selector", 1),
		"template":         "apiVersion: rollouts.bluegreen.dev/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\nspec:\n  metrics:\n  - name: m\n    provider: {}\n",
		"bad name":         strings.Replace(rollout, "name: web\n", "name: Web_1\n", 1),
		"metadata field":   strings.Replace(rollout, "name: web\n", "name: web\n  lables: {a: b}\n", 1),
		"valid template":   "apiVersion: rollouts.bluegreen.dev/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\nspec:\n  metrics:\n  - name: m\n    provider:\n      web: {url: 'http://example.com'}\n",
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			report, err := Lint(strings.NewReader(doc))
			if err != nil {
				t.Fatal(err)
			}
			var findings []Finding
			for _, fd := range report.Findings {
				if !strings.Contains(fd.Message, "not in the input") && !strings.Contains(fd.Message, "CEL rules") { // the controller's checks, and a note
					findings = append(findings, fd)
				}
			}
			obj := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
				t.Fatal(err)
			}
			obj.SetNamespace(f.ns)
			apiErr := api.k8s.Create(f.ctx(), obj, client.DryRunAll, client.FieldValidation("Strict"))
			switch {
			case apiErr == nil && len(findings) > 0:
				t.Errorf("the API server accepts the object, lint reports %v", findings)
			case apiErr != nil && len(findings) == 0:
				t.Errorf("the API server rejects the object (%v), lint reports nothing", apiErr)
			}
			for _, fd := range findings {
				want := fd.Field
				if !strings.HasPrefix(fd.Message, "unknown field") && !strings.HasPrefix(fd.Message, "required") && !strings.HasPrefix(fd.Message, "unsupported") {
					want = fd.Message
				}
				if apiErr == nil || !strings.Contains(apiErr.Error(), want) {
					t.Errorf("lint reports %q, the API server says: %v", fd, apiErr)
				}
			}
		})
	}
}

// syncBuffer is a bytes.Buffer that a test can read while a command writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestClusterGetWatchRedraws(t *testing.T) {
	f := newFixture(t)
	f.rollout("web", v1alpha1.PhasePaused)
	var out, errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"--kubeconfig", api.kubeconfig, "-n", f.ns, "get", "rollout", "web", "--watch"}, Options{
			Streams:      genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
			Now:          func() time.Time { return now },
			PollInterval: 50 * time.Millisecond,
			Color:        ptr.To(true),
		})
	}()
	f.eventually(10*time.Second, "the first drawing", func() (bool, string) { return strings.Contains(out.String(), "Paused"), out.String() })
	f.eventually(10*time.Second, "the rollout to be promoted", func() (bool, string) {
		ro := f.get("web")
		ro.Status.Phase, ro.Status.StableRS, ro.Status.BlueGreen.ActiveSelector = v1alpha1.PhaseHealthy, hash2, hash2
		if err := api.k8s.Status().Update(f.ctx(), ro); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	f.eventually(10*time.Second, "the watch to redraw at Healthy", func() (bool, string) {
		got := out.String()
		return strings.Count(got, "\x1b[H\x1b[2J") >= 2 && strings.Contains(got, "Healthy"), got
	})
	cancel() // as Ctrl-C does: the watch ends without an error
	if code := <-done; code != ExitOK {
		t.Fatalf("get rollout --watch ended with exit %d: %s", code, errOut.String())
	}
}
