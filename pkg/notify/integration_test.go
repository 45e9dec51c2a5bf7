package notify_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/controllers"
	"github.com/bluegreen-dev/bluegreen/pkg/notify"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
	slacktest "github.com/bluegreen-dev/bluegreen/test/slack"
)

// These tests run the operator, wired as cmd/manager wires it, on a real kube-apiserver
// (envtest) with the Slack stand-in. They start and stop managers themselves, to restart
// the controller, so they have their own control plane rather than the controllers
// package's shared one. No ReplicaSet controller runs: makeAvailable plays its part.

const configNamespace = "notifications-system"

type world struct {
	t      *testing.T
	cfg    *rest.Config
	scheme *runtime.Scheme
	k8s    client.Client
	srv    *slacktest.Server
}

func TestSlackNotificationsOnTheAPIServer(t *testing.T) {
	env := cluster.NewEnvtestForTest(t, cluster.EnvtestOptions{CRDDirectoryPaths: []string{filepath.Join("..", "..", "config", "crd", "bases")}})
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	k8s, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, cfg: env.Config, scheme: scheme, k8s: k8s, srv: slacktest.NewServer()}
	t.Cleanup(w.srv.Close)
	w.create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: configNamespace}})
	w.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: configNamespace, Name: "bluegreen-notifications-secret"},
		StringData: map[string]string{"slack-token": slacktest.Token}})
	w.create(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: configNamespace, Name: "bluegreen-notifications-cm"},
		Data: map[string]string{
			notify.KeyServiceSlack: "token: $slack-token\nusername: bluegreen\napiURL: " + w.srv.APIURL(),
			// Every release of namespace shop is announced in #releases.
			notify.KeySubscriptions: "- recipients: [slack:releases]\n  namespaces: [shop]\n  triggers: [on-rollout-completed]\n",
		}})

	t.Run("promotion, restart, abort", w.promotionRestartAbort)
	t.Run("a Slack outage does not slow the rollout", w.outage)
}

// start runs a manager with the notifications, as cmd/manager does; stop ends it.
func (w *world) start() (d *notify.Dispatcher, stop func()) {
	w.t.Helper()
	mgr, err := ctrl.NewManager(w.cfg, ctrl.Options{
		Scheme:                 w.scheme,
		Cache:                  controllers.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	d = notify.New(notify.Options{Namespace: configNamespace, InitialBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		MaxAttempts: 1000, Settle: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	if err := controllers.Setup(ctx, mgr, controllers.Options{RolloutWorkers: 2, Notifications: d}); err != nil {
		cancel()
		w.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			w.t.Error(err)
		}
	}()
	stop = func() { cancel(); <-done }
	w.t.Cleanup(stop)
	return d, stop
}

func (w *world) create(obj client.Object) {
	w.t.Helper()
	if err := w.k8s.Create(context.Background(), obj); err != nil {
		w.t.Fatal(err)
	}
}

// setup creates a namespace, the Services and a Rollout.
func (w *world) setup(ns, name string, autoPromotion bool, annotations map[string]string) {
	w.t.Helper()
	w.create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	for _, svc := range []string{name, name + "-preview"} {
		w.create(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svc},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 80}}}})
	}
	labels := map[string]string{"app": name}
	w.create(&v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: name + ":1"}}},
			},
			Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{
				ActiveService: name, PreviewService: name + "-preview", AutoPromotionEnabled: ptr.To(autoPromotion),
				ScaleDownDelaySeconds: ptr.To[int32](0),
			}},
		},
	})
}

func (w *world) rollout(ns, name string) *v1alpha1.Rollout {
	w.t.Helper()
	var ro v1alpha1.Rollout
	if err := w.k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &ro); err != nil {
		w.t.Fatal(err)
	}
	return &ro
}

// makeAvailable plays the ReplicaSet controller: every ReplicaSet of the namespace reports
// its spec replicas as available.
func (w *world) makeAvailable(ns string) {
	var list appsv1.ReplicaSetList
	if err := w.k8s.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		w.t.Fatal(err)
	}
	for _, rs := range list.Items {
		n := ptr.Deref(rs.Spec.Replicas, 0)
		if rs.Status.AvailableReplicas == n && rs.Status.ObservedGeneration == rs.Generation {
			continue
		}
		rs.Status = appsv1.ReplicaSetStatus{Replicas: n, FullyLabeledReplicas: n, ReadyReplicas: n, AvailableReplicas: n, ObservedGeneration: rs.Generation}
		if err := w.k8s.Status().Update(context.Background(), &rs); err != nil && !strings.Contains(err.Error(), "modified") {
			w.t.Fatal(err)
		}
	}
}

// waitFor drives the ReplicaSets until the Rollout satisfies done.
func (w *world) waitFor(ns, name, what string, done func(*v1alpha1.Rollout) bool) *v1alpha1.Rollout {
	w.t.Helper()
	var ro *v1alpha1.Rollout
	eventually(w.t, 30*time.Second, what, func() (bool, string) {
		w.makeAvailable(ns)
		ro = w.rollout(ns, name)
		s := ro.Status
		return done(ro), fmt.Sprintf("phase %s current %s stable %s active %s abort %v: %s", s.Phase, s.CurrentPodHash, s.StableRS, s.BlueGreen.ActiveSelector, s.Abort != nil, s.Message)
	})
	return ro
}

func (w *world) setImage(ns, name, image string) {
	w.t.Helper()
	// The controller and the dispatcher write the Rollout too: retry on a conflict.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ro := w.rollout(ns, name)
		ro.Spec.Template.Spec.Containers[0].Image = image
		return w.k8s.Update(context.Background(), ro)
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) annotate(ns, name, key, value string) {
	w.t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value)
	if err := w.k8s.Patch(context.Background(), w.rollout(ns, name), client.RawPatch("application/merge-patch+json", []byte(patch))); err != nil {
		w.t.Fatal(err)
	}
}

func healthy(hash *string) func(*v1alpha1.Rollout) bool {
	return func(ro *v1alpha1.Rollout) bool {
		s := ro.Status
		ok := s.Phase == v1alpha1.PhaseHealthy && s.CurrentPodHash != "" && s.StableRS == s.CurrentPodHash && s.BlueGreen.ActiveSelector == s.CurrentPodHash
		if ok && hash != nil {
			*hash = s.CurrentPodHash
		}
		return ok
	}
}

// kinds maps the first word of the default messages to their trigger.
var kinds = []struct{ prefix, kind string }{
	{":arrows_counterclockwise:", "updated"}, {":double_vertical_bar:", "paused"}, {":large_blue_circle:", "promoted"},
	{":white_check_mark:", "completed"}, {":x:", "aborted"}, {":warning:", "degraded"},
}

// line describes a message: its kind, its revision and whether it is a reply in the
// thread of the first message of its revision in its channel.
func describe(msgs []slacktest.Message, hashes map[string]string) map[string][]string {
	out := map[string][]string{}
	parent := map[string]string{} // channel/revision -> ts
	for _, m := range msgs {
		kind := "?"
		for _, k := range kinds {
			if strings.HasPrefix(m.Text, k.prefix) {
				kind = k.kind
			}
		}
		rev := "?"
		for name, h := range hashes {
			if strings.Contains(m.Text, "("+h+")") || strings.Contains(m.Text, " "+h+" ") {
				rev = name
			}
		}
		where := "new thread"
		key := m.Channel + "/" + rev
		switch p, ok := parent[key]; {
		case !ok && m.ThreadTS == "":
			parent[key] = m.TS
		case ok && m.ThreadTS == p:
			where = "in thread"
		default:
			where = fmt.Sprintf("thread_ts %q", m.ThreadTS)
		}
		out[m.Channel] = append(out[m.Channel], fmt.Sprintf("%s %s %s", kind, rev, where))
	}
	return out
}

func (w *world) promotionRestartAbort(t *testing.T) {
	w.t = t
	const ns, name = "shop", "web"
	w.setup(ns, name, false, map[string]string{
		v1alpha1.SubscribeAnnotationPrefix + "on-rollout-updated.slack":   "deploys",
		v1alpha1.SubscribeAnnotationPrefix + "on-rollout-paused.slack":    "deploys",
		v1alpha1.SubscribeAnnotationPrefix + "on-rollout-promoted.slack":  "deploys",
		v1alpha1.SubscribeAnnotationPrefix + "on-rollout-completed.slack": "deploys",
		v1alpha1.SubscribeAnnotationPrefix + "on-rollout-aborted.slack":   "deploys;alerts",
	})
	w.srv.Reset()
	_, stop := w.start()
	hashes := map[string]string{}
	var r1, r2, r3 string
	w.waitFor(ns, name, "the first revision to be stable", healthy(&r1))
	hashes["r1"] = r1

	begin := time.Now()
	w.setImage(ns, name, "web:2")
	ro := w.waitFor(ns, name, "revision 2 to pause for promotion", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.CurrentPodHash != r1 && ro.Status.Phase == v1alpha1.PhasePaused
	})
	r2 = ro.Status.CurrentPodHash
	hashes["r2"] = r2
	w.annotate(ns, name, v1alpha1.PromoteAnnotation, r2)
	w.waitFor(ns, name, "revision 2 to be stable", healthy(nil))
	eventually(t, 30*time.Second, "the messages of the promotion", func() (bool, string) {
		return len(w.srv.Messages()) == 7, fmt.Sprint(describe(w.srv.Messages(), hashes))
	})
	t.Logf("promotion of revision 2 and its 5 messages: %s", time.Since(begin).Round(time.Millisecond))

	// The controller restarts. The new one remembers nothing, but what was sent is recorded
	// on the Rollout: the events of revision 2, recorded again, send nothing.
	stop()
	d2, _ := w.start()
	cur := w.rollout(ns, name)
	if got := cur.Annotations[v1alpha1.NotificationsSentAnnotation]; !strings.HasPrefix(got, r2+" ") {
		t.Errorf("sent annotation = %q, want the record of revision %s", got, r2)
	}
	for _, reason := range []string{v1alpha1.EventRolloutPromoted, v1alpha1.EventRolloutCompleted, v1alpha1.EventRolloutPaused} {
		d2.Enqueue(cur, corev1.EventTypeNormal, reason, "replayed after the restart")
	}
	eventually(t, 30*time.Second, "the replayed events to be handled", func() (bool, string) {
		return d2.Pending() == 0, fmt.Sprintf("%d pending", d2.Pending())
	})
	if n := len(w.srv.Messages()); n != 7 {
		t.Fatalf("%d messages after the restart, want 7: %v", n, describe(w.srv.Messages(), hashes))
	}

	w.setImage(ns, name, "web:3")
	ro = w.waitFor(ns, name, "revision 3 to pause for promotion", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.CurrentPodHash != r2 && ro.Status.Phase == v1alpha1.PhasePaused
	})
	r3 = ro.Status.CurrentPodHash
	hashes["r3"] = r3
	w.annotate(ns, name, v1alpha1.AbortAnnotation, r3)
	w.waitFor(ns, name, "revision 3 to be aborted", func(ro *v1alpha1.Rollout) bool {
		return ro.Status.Abort != nil && ro.Status.BlueGreen.ActiveSelector == r2
	})
	eventually(t, 30*time.Second, "the messages of the abort", func() (bool, string) {
		return len(w.srv.Messages()) >= 11 && d2.Pending() == 0, fmt.Sprint(describe(w.srv.Messages(), hashes))
	})

	got := describe(w.srv.Messages(), hashes)
	want := map[string][]string{
		"deploys": {
			"completed r1 new thread",
			"updated r2 new thread", "paused r2 in thread", "promoted r2 in thread", "completed r2 in thread",
			"updated r3 new thread", "paused r3 in thread", "aborted r3 in thread",
		},
		"releases": {"completed r1 new thread", "completed r2 new thread"},
		"alerts":   {"aborted r3 new thread"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("messages per channel:\n got %v\nwant %v", got, want)
	}
	for _, m := range w.srv.Messages() {
		if strings.HasPrefix(m.Text, ":double_vertical_bar:") && !strings.Contains(m.Text, "`kubectl bluegreen promote web -n shop`") {
			t.Errorf("pause message without the promote command: %q", m.Text)
		}
		if strings.HasPrefix(m.Text, ":x:") && !strings.Contains(m.Text, "aborted by User") {
			t.Errorf("abort message does not say who aborted: %q", m.Text)
		}
	}
}

func (w *world) outage(t *testing.T) {
	w.t = t
	const ns, name = "outage", "api"
	w.srv.Reset()
	w.srv.SetDown(true)
	w.srv.SetLatency(500 * time.Millisecond)
	w.setup(ns, name, true, map[string]string{v1alpha1.SubscribeAnnotationPrefix + "slack": "outage-alerts"})
	d, _ := w.start()

	begin := time.Now()
	var r1 string
	w.waitFor(ns, name, "the first revision to be stable", healthy(&r1))
	w.setImage(ns, name, "api:2")
	w.waitFor(ns, name, "revision 2 to be stable", func(ro *v1alpha1.Rollout) bool {
		return healthy(nil)(ro) && ro.Status.StableRS != r1
	})
	took := time.Since(begin)
	t.Logf("first deploy and a promotion while Slack is down: %s, %d failed requests, %d notifications waiting", took.Round(time.Millisecond), w.srv.Requests(), d.Pending())
	if n := len(w.srv.Messages()); n != 0 {
		t.Fatalf("%d messages accepted while Slack is down", n)
	}
	if d.Pending() == 0 {
		t.Errorf("no notification is waiting for Slack to come back")
	}
	eventually(t, 30*time.Second, "the dispatcher to retry during the outage", func() (bool, string) {
		return w.srv.Requests() >= 3, fmt.Sprintf("%d failed requests, %d messages", w.srv.Requests(), len(w.srv.Messages()))
	})

	w.srv.SetLatency(0)
	w.srv.SetDown(false)
	hashes := map[string]string{"r1": r1, "r2": w.rollout(ns, name).Status.CurrentPodHash}
	eventually(t, 30*time.Second, "the delayed messages", func() (bool, string) {
		return d.Pending() == 0 && len(w.srv.Messages()) >= 4, fmt.Sprint(describe(w.srv.Messages(), hashes))
	})
	got := describe(w.srv.Messages(), hashes)
	want := map[string][]string{"outage-alerts": {"completed r1 new thread", "updated r2 new thread", "promoted r2 in thread", "completed r2 in thread"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("messages after the outage:\n got %v\nwant %v", got, want)
	}
}

func eventually(t *testing.T, timeout time.Duration, what string, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, last := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
}
