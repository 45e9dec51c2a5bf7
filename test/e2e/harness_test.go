// Package e2e carries Rollouts through their lifecycle on a full local control plane:
// real ReplicaSets make real Pod objects on kwok nodes, endpoint controllers follow the
// Services' selectors, and the operator runs in the test process as cmd/manager runs it.
package e2e

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/controllers"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

var (
	shared = &cluster.Shared{Options: cluster.Options{Nodes: 2, CRDDirectoryPaths: []string{crdDir()}}}
	scheme = runtime.NewScheme()
)

func crdDir() string {
	root, err := cluster.ModuleRoot()
	if err != nil {
		return filepath.Join("..", "..", "config", "crd", "bases")
	}
	return filepath.Join(root, "config", "crd", "bases")
}

func TestMain(m *testing.M) {
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapLevel())))
	os.Exit(shared.Run(m))
}

// env is one test's namespace on the shared cluster, with an operator watching only it.
type env struct {
	t   *testing.T
	c   *cluster.Cluster
	k8s client.Client
	ns  string

	stopOperator context.CancelFunc
	operatorDone chan struct{}

	// metricsAddr, when set before start, serves the operator's /metrics there; with
	// secureMetrics over HTTPS behind TokenReview and SubjectAccessReview, as cmd/manager does.
	metricsAddr   string
	secureMetrics bool
	// config, when set before start, is who the operator talks to the API server as;
	// the cluster's administrator otherwise.
	config *rest.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	t.Parallel() // each test has its own namespace and operator
	c := shared.Get(t)
	k8s, err := client.New(c.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: strings.ToLower(t.Name()) + "-"}}
	ns.GenerateName = sanitize(ns.GenerateName)
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, c: c, k8s: k8s, ns: ns.Name}
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			e.dumpState()
		}
		_ = k8s.Delete(context.Background(), ns)
	})
	e.start()
	return e
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s)
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// start runs the operator for the namespace, as cmd/manager does.
func (e *env) start() {
	e.t.Helper()
	opts := controllers.CacheOptions()
	opts.DefaultNamespaces = map[string]cache.Config{e.ns: {}}
	cfg := e.config
	if cfg == nil {
		cfg = e.c.Config
	}
	metricsOpts := metricsserver.Options{BindAddress: cmp.Or(e.metricsAddr, "0")}
	if e.secureMetrics {
		metricsOpts.SecureServing, metricsOpts.FilterProvider = true, filters.WithAuthenticationAndAuthorization
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  opts,
		Metrics:                metricsOpts,
		HealthProbeBindAddress: "0",
		Controller:             ctrlConfig(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := controllers.Setup(ctx, mgr, controllers.Options{RolloutWorkers: 4}); err != nil {
		cancel()
		e.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			e.t.Errorf("operator stopped: %v", err)
		}
	}()
	e.stopOperator, e.operatorDone = cancel, done
}

// stop stops the operator and waits until it has.
func (e *env) stop() {
	if e.stopOperator == nil {
		return
	}
	e.stopOperator()
	<-e.operatorDone
	e.stopOperator = nil
}

// restart stops the operator and starts a new one, as a crash and restart would.
func (e *env) restart() {
	e.stop()
	e.start()
}

// eventually polls check until it reports done or the timeout passes, then fails with
// what check last reported.
func (e *env) eventually(timeout time.Duration, what string, check func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		done, state := check()
		if done {
			return
		}
		last = state
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, last)
		}
		time.Sleep(100 * time.Millisecond) // poll interval, not a wait for state
	}
}

func (e *env) ctx() context.Context { return context.Background() }

// services creates the active and preview Services of a Rollout named name.
func (e *env) services(name string) {
	e.t.Helper()
	for _, svc := range []string{name, name + "-preview"} {
		s := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: e.ns},
			Spec: corev1.ServiceSpec{
				Selector: map[string]string{"app": name},
				Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
			},
		}
		if err := e.k8s.Create(e.ctx(), s); err != nil {
			e.t.Fatal(err)
		}
	}
}

// rollout returns a Rollout named name with its Services, not yet created.
func (e *env) rollout(name, image string, replicas int32) *v1alpha1.Rollout {
	labels := map[string]string{"app": name}
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
			},
			Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{
				ActiveService:         name,
				PreviewService:        name + "-preview",
				ScaleDownDelaySeconds: ptr.To[int32](2),
			}},
		},
	}
}

func (e *env) create(obj client.Object) {
	e.t.Helper()
	if err := e.k8s.Create(e.ctx(), obj); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) get(name string) *v1alpha1.Rollout {
	e.t.Helper()
	var ro v1alpha1.Rollout
	if err := e.k8s.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: name}, &ro); err != nil {
		e.t.Fatal(err)
	}
	return &ro
}

// update applies change to the Rollout, retrying on conflicts.
func (e *env) update(name string, change func(*v1alpha1.Rollout)) {
	e.t.Helper()
	e.eventually(10*time.Second, "updating rollout "+name, func() (bool, string) {
		ro := e.get(name)
		change(ro)
		if err := e.k8s.Update(e.ctx(), ro); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

// setImage changes the image of the first container: a new revision.
func (e *env) setImage(name, image string) {
	e.update(name, func(ro *v1alpha1.Rollout) { ro.Spec.Template.Spec.Containers[0].Image = image })
}

// annotate writes an intent annotation for the current revision.
func (e *env) annotate(name, key string) string {
	e.t.Helper()
	var hash string
	e.update(name, func(ro *v1alpha1.Rollout) {
		hash = ro.Status.CurrentPodHash
		if ro.Annotations == nil {
			ro.Annotations = map[string]string{}
		}
		ro.Annotations[key] = hash
	})
	return hash
}

// waitPhase waits until the Rollout has observed its spec and is in phase.
func (e *env) waitPhase(name string, phase v1alpha1.RolloutPhase, timeout time.Duration) *v1alpha1.Rollout {
	e.t.Helper()
	var ro *v1alpha1.Rollout
	e.eventually(timeout, fmt.Sprintf("rollout %s to be %s", name, phase), func() (bool, string) {
		ro = e.get(name)
		return ro.Status.ObservedGeneration == ro.Generation && ro.Status.Phase == phase,
			fmt.Sprintf("generation %d observed %d phase %s: %s", ro.Generation, ro.Status.ObservedGeneration, ro.Status.Phase, ro.Status.Message)
	})
	return ro
}

// selector returns the pod template hash a Service selects.
func (e *env) selector(service string) string {
	e.t.Helper()
	var svc corev1.Service
	if err := e.k8s.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: service}, &svc); err != nil {
		e.t.Fatal(err)
	}
	return svc.Spec.Selector[v1alpha1.PodTemplateHashLabel]
}

// replicaSets returns the Rollout's ReplicaSets by hash: spec replicas.
func (e *env) replicaSets(name string) map[string]int32 {
	e.t.Helper()
	var list appsv1.ReplicaSetList
	if err := e.k8s.List(e.ctx(), &list, client.InNamespace(e.ns), client.MatchingLabels{"app": name}); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int32{}
	for _, rs := range list.Items {
		out[rs.Labels[v1alpha1.PodTemplateHashLabel]] = ptr.Deref(rs.Spec.Replicas, 0)
	}
	return out
}

// eventReasons returns the reasons of the events about an object, oldest first.
func (e *env) eventReasons(name string) []string {
	e.t.Helper()
	var list eventsv1.EventList
	if err := e.k8s.List(e.ctx(), &list, client.InNamespace(e.ns)); err != nil {
		e.t.Fatal(err)
	}
	sort.SliceStable(list.Items, func(i, j int) bool {
		return list.Items[i].CreationTimestamp.Before(&list.Items[j].CreationTimestamp) ||
			list.Items[i].CreationTimestamp.Equal(&list.Items[j].CreationTimestamp) && list.Items[i].Name < list.Items[j].Name
	})
	var reasons []string
	for _, ev := range list.Items {
		if ev.Regarding.Kind == "Rollout" && ev.Regarding.Name == name {
			reasons = append(reasons, ev.Reason)
		}
	}
	return reasons
}

// dumpState logs the Rollouts, ReplicaSets and Services of the namespace for a failed test.
func (e *env) dumpState() {
	var ros v1alpha1.RolloutList
	_ = e.k8s.List(e.ctx(), &ros, client.InNamespace(e.ns))
	for _, ro := range ros.Items {
		e.t.Logf("rollout %s: phase %s, current %s, stable %s, active %s, preview %s: %s",
			ro.Name, ro.Status.Phase, ro.Status.CurrentPodHash, ro.Status.StableRS,
			ro.Status.BlueGreen.ActiveSelector, ro.Status.BlueGreen.PreviewSelector, ro.Status.Message)
	}
	var rss appsv1.ReplicaSetList
	_ = e.k8s.List(e.ctx(), &rss, client.InNamespace(e.ns))
	for _, rs := range rss.Items {
		e.t.Logf("replicaset %s: spec %d, ready %d, available %d, annotations %v", rs.Name, ptr.Deref(rs.Spec.Replicas, 0),
			rs.Status.ReadyReplicas, rs.Status.AvailableReplicas, rs.Annotations)
	}
	var svcs corev1.ServiceList
	_ = e.k8s.List(e.ctx(), &svcs, client.InNamespace(e.ns))
	for _, svc := range svcs.Items {
		e.t.Logf("service %s: selector %v", svc.Name, svc.Spec.Selector)
	}
}

// zapLevel keeps the operator's logs to errors unless BLUEGREEN_E2E_VERBOSE is set.
func zapLevel() zapcore.Level {
	if os.Getenv("BLUEGREEN_E2E_VERBOSE") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}

// ctrlConfig lets several operators, one per test, run in one process.
func ctrlConfig() config.Controller {
	return config.Controller{SkipNameValidation: ptr.To(true)}
}
