package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

// endpointWatcher watches the EndpointSlices of a Service, as production traffic would see
// them, and records every moment the ready endpoints break the invariant: fewer than
// replicas, or a pod of a revision that was not fully available.
type endpointWatcher struct {
	e        *env
	service  string
	replicas int

	mu         sync.Mutex
	violations []string
	events     int
	history    []string // what each event showed, for a failure message
	stop       context.CancelFunc
	done       chan struct{}
}

func (e *env) watchEndpoints(service string, replicas int) *endpointWatcher {
	e.t.Helper()
	wc, err := client.NewWithWatch(e.c.Config, client.Options{Scheme: scheme})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &endpointWatcher{e: e, service: service, replicas: replicas, stop: cancel, done: make(chan struct{})}
	watcher, err := wc.Watch(ctx, &discoveryv1.EndpointSliceList{}, client.InNamespace(e.ns),
		client.MatchingLabels{discoveryv1.LabelServiceName: service})
	if err != nil {
		e.t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		defer watcher.Stop()
		slices := map[string]*discoveryv1.EndpointSlice{}
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-watcher.ResultChan():
				if !ok {
					w.record("the EndpointSlice watch closed early")
					return
				}
				slice, isSlice := ev.Object.(*discoveryv1.EndpointSlice)
				if !isSlice {
					continue
				}
				switch ev.Type {
				case watch.Deleted:
					delete(slices, slice.Name)
				case watch.Added, watch.Modified:
					slices[slice.Name] = slice
				}
				w.check(ctx, slices)
			}
		}
	}()
	e.t.Cleanup(w.close)
	return w
}

// check verifies the ready endpoints of all slices now.
func (w *endpointWatcher) check(ctx context.Context, slices map[string]*discoveryv1.EndpointSlice) {
	w.mu.Lock()
	w.events++
	w.mu.Unlock()
	ready := map[string]string{} // pod → hash
	var seen []string
	for _, s := range slices {
		for _, ep := range s.Endpoints {
			if ep.TargetRef == nil {
				continue
			}
			seen = append(seen, fmt.Sprintf("%s/%s ready=%v", s.Name, ep.TargetRef.Name, ptr.Deref(ep.Conditions.Ready, false)))
			if ptr.Deref(ep.Conditions.Ready, false) {
				ready[ep.TargetRef.Name] = ""
			}
		}
	}
	w.mu.Lock()
	w.history = append(w.history, fmt.Sprintf("%s %v", time.Now().Format("15:04:05.000"), seen))
	w.mu.Unlock()
	if len(ready) < w.replicas {
		w.record(fmt.Sprintf("%s: %d ready endpoints, want at least %d", time.Now().Format("15:04:05.000"), len(ready), w.replicas))
		return
	}
	hashes := map[string]bool{}
	for pod := range ready {
		var p corev1.Pod
		if err := w.e.k8s.Get(ctx, client.ObjectKey{Namespace: w.e.ns, Name: pod}, &p); err == nil {
			hashes[p.Labels[v1alpha1.PodTemplateHashLabel]] = true
		}
	}
	var rss appsv1.ReplicaSetList
	var ro v1alpha1.Rollout
	if w.e.k8s.List(ctx, &rss, client.InNamespace(w.e.ns)) != nil ||
		w.e.k8s.Get(ctx, client.ObjectKey{Namespace: w.e.ns, Name: w.service}, &ro) != nil {
		return
	}
	for _, rs := range rss.Items {
		// The stable revision may be short while an abort brings it back; any other must be full.
		if hashes[rs.Labels[v1alpha1.PodTemplateHashLabel]] && int(rs.Status.AvailableReplicas) < w.replicas &&
			rs.Labels[v1alpha1.PodTemplateHashLabel] != ro.Status.StableRS {
			w.record(fmt.Sprintf("%s: ready endpoints include revision %s with only %d available pods",
				time.Now().Format("15:04:05.000"), rs.Labels[v1alpha1.PodTemplateHashLabel], rs.Status.AvailableReplicas))
		}
	}
}

func (w *endpointWatcher) record(v string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.violations = append(w.violations, v)
}

func (w *endpointWatcher) close() {
	w.stop()
	<-w.done
}

// verify fails the test with every violation seen so far.
func (w *endpointWatcher) verify() {
	w.e.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.events == 0 {
		w.e.t.Fatalf("the watcher saw no EndpointSlice of Service %s: it checked nothing", w.service)
	}
	for _, v := range w.violations {
		w.e.t.Errorf("invariant broken: %s", v)
	}
	if len(w.violations) > 0 {
		w.e.t.Logf("EndpointSlice history:\n%s", strings.Join(w.history, "\n"))
	}
}

func TestActiveServiceNeverDropsBelowReplicas(t *testing.T) {
	e := newEnv(t)
	e.services("inv")
	ro := e.rollout("inv", "inv:1", 3)
	ro.Spec.ProgressDeadlineSeconds = ptr.To[int32](10)
	ro.Spec.ProgressDeadlineAbort = true
	ro.Spec.Strategy.BlueGreen.ScaleDownDelaySeconds = ptr.To[int32](1)
	ro.Spec.Strategy.BlueGreen.AbortScaleDownDelaySeconds = ptr.To[int32](1)
	e.create(ro)
	e.waitPhase("inv", v1alpha1.PhaseHealthy, settle)
	w := e.watchEndpoints("inv", 3)

	// An update, with the operator restarted while the new revision comes up.
	e.setImage("inv", "inv:2")
	e.eventually(settle, "the new ReplicaSet", func() (bool, string) {
		return len(e.replicaSets("inv")) == 2, fmt.Sprint(e.replicaSets("inv"))
	})
	e.restart()
	e.waitPhase("inv", v1alpha1.PhaseHealthy, settle)

	// An update with the operator stopped while the new revision is created and restarted after.
	e.stop()
	e.setImage("inv", "inv:3")
	e.start()
	e.waitPhase("inv", v1alpha1.PhaseHealthy, settle)

	// A revision whose pods never become ready: aborted at its deadline, with a restart mid-way.
	stable := e.get("inv").Status.StableRS
	e.update("inv", func(ro *v1alpha1.Rollout) {
		ro.Spec.Template.Labels[cluster.BehaviourLabel] = cluster.BehaviourUnready
	})
	e.restart()
	got := e.waitPhase("inv", v1alpha1.PhaseDegraded, settle)
	if got.Status.Abort == nil {
		t.Fatalf("the unready revision was not aborted: %s", got.Status.Message)
	}
	if e.selector("inv") != stable {
		t.Fatalf("after the abort the active Service selects %s, want %s", e.selector("inv"), stable)
	}
	w.close()
	w.verify()
}

func TestRestartKeepsReplicasReady(t *testing.T) {
	e := newEnv(t)
	e.services("rs")
	e.create(e.rollout("rs", "rs:1", 3))
	e.waitPhase("rs", v1alpha1.PhaseHealthy, settle)
	w := e.watchEndpoints("rs", 3)
	at := metav1.NewTime(time.Now().Truncate(time.Second))
	e.update("rs", func(ro *v1alpha1.Rollout) { ro.Spec.RestartAt = &at })
	e.eventually(settle, "the restart to be recorded", func() (bool, string) {
		ro := e.get("rs")
		return ro.Status.RestartedAt != nil && !ro.Status.RestartedAt.Before(&at) && ro.Status.Phase == v1alpha1.PhaseHealthy,
			fmt.Sprintf("restartedAt %v phase %s: %s", ro.Status.RestartedAt, ro.Status.Phase, ro.Status.Message)
	})
	var pods corev1.PodList
	if err := e.k8s.List(e.ctx(), &pods, client.InNamespace(e.ns), client.MatchingLabels{"app": "rs"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.CreationTimestamp.Before(&at) {
			t.Errorf("pod %s started %s, before restartAt %s, still runs", p.Name, p.CreationTimestamp, at)
		}
	}
	w.close()
	w.verify()
}
