package notify

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/pkg/planner"
	slacktest "github.com/bluegreen-dev/bluegreen/test/slack"
)

const ns = "bluegreen-system"

// harness runs a Dispatcher over a fake client and the Slack stand-in.
type harness struct {
	t      *testing.T
	srv    *slacktest.Server
	client client.Client
	events *events.FakeRecorder
	logs   *logBuffer
	opts   Options
	d      *Dispatcher
	stop   func()
}

type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) add(prefix, args string) {
	b.mu.Lock()
	b.lines = append(b.lines, prefix+" "+args)
	b.mu.Unlock()
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

func (b *logBuffer) count(substr string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, l := range b.lines {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

func configObjects(service string) []client.Object {
	return []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bluegreen-notifications-cm"},
			Data: map[string]string{KeyServiceSlack: service}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bluegreen-notifications-secret"},
			Data: map[string][]byte{"slack-token": []byte(slacktest.Token)}},
	}
}

func newHarness(t *testing.T, opts Options, objs ...client.Object) *harness {
	t.Helper()
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	h := &harness{t: t, srv: slacktest.NewServer(), events: events.NewFakeRecorder(100), logs: &logBuffer{}}
	t.Cleanup(h.srv.Close)
	h.client = fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	if opts.Settle == 0 {
		opts.Settle = -1
	}
	if opts.InitialBackoff == 0 {
		opts.InitialBackoff, opts.MaxBackoff = time.Millisecond, 2*time.Millisecond
	}
	logger := funcr.New(h.logs.add, funcr.Options{Verbosity: 1})
	opts.Logger = &logger
	h.opts = opts
	h.start()
	return h
}

// start starts a new Dispatcher: a (re)started controller.
func (h *harness) start() {
	if h.stop != nil {
		h.stop()
	}
	h.d = New(h.opts)
	h.d.Bind(h.client, h.client, h.events)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := h.d.Start(ctx); err != nil {
			h.t.Error(err)
		}
	}()
	h.stop = func() { cancel(); <-done }
	h.t.Cleanup(func() { cancel(); <-done })
}

func (h *harness) rollout(name string) *v1alpha1.Rollout {
	h.t.Helper()
	var ro v1alpha1.Rollout
	if err := h.client.Get(context.Background(), client.ObjectKey{Namespace: "shop", Name: name}, &ro); err != nil {
		h.t.Fatal(err)
	}
	return &ro
}

// event records an event about the Rollout through the decorated recorder.
func (h *harness) event(name, eventtype, reason, note string) {
	h.t.Helper()
	rec := &Recorder{base: h.events, dispatcher: h.d}
	rec.Eventf(h.rollout(name), nil, eventtype, reason, "Reconcile", "%s", note)
}

// idle waits until the dispatcher is done with every notification.
func (h *harness) idle() {
	h.t.Helper()
	eventually(h.t, "the dispatcher to be idle", func() (bool, string) {
		return h.d.Pending() == 0, fmt.Sprintf("%d pending", h.d.Pending())
	})
}

func (h *harness) messages(n int) []slacktest.Message {
	h.t.Helper()
	eventually(h.t, fmt.Sprintf("%d Slack messages", n), func() (bool, string) {
		m := h.srv.Messages()
		return len(m) >= n, fmt.Sprintf("%d messages: %+v", len(m), m)
	})
	return h.srv.Messages()
}

func eventually(t *testing.T, what string, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, last := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last seen: %s", what, last)
		}
		time.Sleep(5 * time.Millisecond) // poll interval
	}
}

func newRollout(name, image string, annotations map[string]string) *v1alpha1.Rollout {
	ro := &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: "uid-" + "name", Annotations: annotations},
		Spec: v1alpha1.RolloutSpec{
			Template: &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}},
			Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{ActiveService: name}},
		},
	}
	ro.Status.CurrentPodHash = planner.ComputeHash(ro.Spec.Template, nil)
	ro.Status.Phase = v1alpha1.PhasePaused
	return ro
}

func counter(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

func receivedEvents(r *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func TestDeliverThreadedOnceAcrossRestart(t *testing.T) {
	ro := newRollout("web", "web:1", map[string]string{
		sub + "on-rollout-paused.slack":    "deploys;team",
		sub + "on-rollout-completed.slack": "deploys",
	})
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-" + ro.Status.CurrentPodHash,
		Labels:          map[string]string{v1alpha1.PodTemplateHashLabel: ro.Status.CurrentPodHash},
		Annotations:     map[string]string{v1alpha1.RevisionAnnotation: "2"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "rollouts.bluegreen.dev/v1alpha1", Kind: "Rollout", Name: "web", UID: ro.UID}}}}
	rs.Spec.Template = *ro.Spec.Template
	h := newHarness(t, Options{}, append(configObjects("token: $slack-token\napiURL: URL\nusername: bluegreen\nicon: \":rocket:\""), ro, rs)...)
	// The API URL is the stand-in's, known only now.
	h.setService(fmt.Sprintf("token: $slack-token\napiURL: %s\nusername: bluegreen\nicon: \":rocket:\"", h.srv.APIURL()))
	sentBefore := counter(sentTotal.WithLabelValues(string(OnRolloutPaused), "slack"))

	h.event("web", corev1.EventTypeNormal, v1alpha1.EventRolloutPaused, "Paused revision 2")
	h.event("web", corev1.EventTypeNormal, v1alpha1.EventScalingReplicaSet, "Scaled") // no trigger
	msgs := h.messages(2)
	for _, m := range msgs {
		if m.ThreadTS != "" || !strings.Contains(m.Text, "kubectl bluegreen promote web -n shop") || m.Username != "bluegreen" || m.IconEmoji != ":rocket:" || len(m.Blocks) == 0 {
			t.Errorf("first message of the revision: %+v", m)
		}
		if !strings.Contains(m.Text, "revision 2 ("+ro.Status.CurrentPodHash+")") {
			t.Errorf("message does not name the revision: %q", m.Text)
		}
	}
	h.idle()
	if got := counter(sentTotal.WithLabelValues(string(OnRolloutPaused), "slack")) - sentBefore; got != 2 {
		t.Errorf("notifications_sent_total{on-rollout-paused} grew by %v, want 2", got)
	}
	deploysTS := ""
	for _, m := range msgs {
		if m.Channel == "deploys" {
			deploysTS = m.TS
		}
	}

	// The same event again: nothing is sent twice.
	h.event("web", corev1.EventTypeNormal, v1alpha1.EventRolloutPaused, "Paused revision 2")
	h.idle()
	if n := len(h.srv.Messages()); n != 2 {
		t.Fatalf("%d messages after a repeated event, want 2", n)
	}

	// The next message of the revision goes into the thread of the first.
	h.event("web", corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted, "Rollout completed")
	msgs = h.messages(3)
	h.idle()
	if m := msgs[2]; m.Channel != "deploys" || m.ThreadTS != deploysTS || !strings.Contains(m.Text, "is stable") {
		t.Errorf("completed message: %+v, want a reply in thread %s", m, deploysTS)
	}
	stored := h.rollout("web").Annotations
	hash := ro.Status.CurrentPodHash
	if got, want := stored[v1alpha1.NotificationsSentAnnotation], hash+" on-rollout-paused/slack:deploys on-rollout-paused/slack:team on-rollout-completed/slack:deploys"; got != want {
		t.Errorf("sent annotation = %q, want %q", got, want)
	}
	if got := stored[v1alpha1.NotificationsThreadsAnnotation]; !strings.HasPrefix(got, hash+" deploys="+deploysTS+" team=") {
		t.Errorf("threads annotation = %q", got)
	}

	// A restarted controller, which remembers nothing, sends nothing twice either.
	h.start()
	h.event("web", corev1.EventTypeNormal, v1alpha1.EventRolloutPaused, "Paused revision 2")
	h.event("web", corev1.EventTypeNormal, v1alpha1.EventRolloutCompleted, "Rollout completed")
	h.idle()
	if n := len(h.srv.Messages()); n != 3 {
		t.Fatalf("%d messages after a restart, want 3: %+v", n, h.srv.Messages())
	}

	// A new revision starts a new thread, and the record holds only that revision.
	cur := h.rollout("web")
	cur.Spec.Template.Spec.Containers[0].Image = "web:2"
	cur.Status.CurrentPodHash = planner.ComputeHash(cur.Spec.Template, nil)
	if err := h.client.Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	h.event("web", corev1.EventTypeNormal, v1alpha1.EventRolloutPaused, "Paused revision 3")
	msgs = h.messages(5)
	h.idle()
	for _, m := range msgs[3:] {
		if m.ThreadTS != "" {
			t.Errorf("first message of a new revision is in a thread: %+v", m)
		}
	}
	if got := h.rollout("web").Annotations[v1alpha1.NotificationsSentAnnotation]; !strings.HasPrefix(got, cur.Status.CurrentPodHash+" ") || strings.Contains(got, hash) {
		t.Errorf("sent annotation after a new revision = %q", got)
	}
}

func (h *harness) setService(service string) {
	h.t.Helper()
	var cm corev1.ConfigMap
	if err := h.client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "bluegreen-notifications-cm"}, &cm); err != nil {
		h.t.Fatal(err)
	}
	cm.Data[KeyServiceSlack] = service
	if err := h.client.Update(context.Background(), &cm); err != nil {
		h.t.Fatal(err)
	}
}

// newSimpleHarness has one Rollout subscribed to on-rollout-aborted in #alerts, and a
// configuration pointing at the stand-in.
func newSimpleHarness(t *testing.T, opts Options) *harness {
	ro := newRollout("web", "web:1", map[string]string{sub + "on-rollout-aborted.slack": "alerts"})
	h := newHarness(t, opts, append(configObjects("token: $slack-token"), ro)...)
	h.setService("token: $slack-token\napiURL: " + h.srv.APIURL())
	return h
}

func TestRetryAfterIsRespected(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Unix(1_700_000_000, 0))
	h := newSimpleHarness(t, Options{Clock: clk, InitialBackoff: 2 * time.Second, MaxBackoff: time.Minute})
	h.srv.RateLimit(1, 7*time.Second)
	h.event("web", corev1.EventTypeWarning, v1alpha1.EventRolloutAborted, "Rollout aborted by User")
	eventually(t, "a rate-limited attempt and a wait", func() (bool, string) {
		return h.srv.Requests() == 1 && clk.HasWaiters(), fmt.Sprintf("%d requests, waiters %t", h.srv.Requests(), clk.HasWaiters())
	})
	clk.Step(6 * time.Second) // the back-off (2s) would have retried by now; Retry-After says 7s
	if n := h.srv.Requests(); n != 1 {
		t.Fatalf("%d requests 6s after a Retry-After of 7s, want 1", n)
	}
	clk.Step(time.Second)
	if m := h.messages(1); m[0].Channel != "alerts" {
		t.Errorf("message = %+v", m[0])
	}

	// Plain failures back off exponentially: 2s, then 4s.
	h.srv.Reset()
	h.srv.Fail(2)
	ro := h.rollout("web")
	ro.Status.CurrentPodHash = "other" // a new revision, so that on-rollout-aborted is new
	ro.Spec.Template.Spec.Containers[0].Image = "web:2"
	ro.Status.CurrentPodHash = planner.ComputeHash(ro.Spec.Template, nil)
	if err := h.client.Update(context.Background(), ro); err != nil {
		t.Fatal(err)
	}
	h.event("web", corev1.EventTypeWarning, v1alpha1.EventRolloutAborted, "Rollout aborted by User")
	for i, step := range []time.Duration{2 * time.Second, 4 * time.Second} {
		eventually(t, fmt.Sprintf("failed attempt %d", i+1), func() (bool, string) {
			return h.srv.Requests() == i+1 && clk.HasWaiters(), fmt.Sprintf("%d requests", h.srv.Requests())
		})
		clk.Step(step - time.Millisecond)
		if n := h.srv.Requests(); n != i+1 {
			t.Fatalf("attempt %d came before its back-off of %s", i+2, step)
		}
		clk.Step(time.Millisecond)
	}
	h.messages(1)
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	h := newSimpleHarness(t, Options{MaxAttempts: 3})
	before := counter(failedTotal.WithLabelValues(string(OnRolloutAborted), "slack"))
	h.srv.SetDown(true)
	h.event("web", corev1.EventTypeWarning, v1alpha1.EventRolloutAborted, "Rollout aborted by User")
	h.idle()
	if n := h.srv.Requests(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	if got := counter(failedTotal.WithLabelValues(string(OnRolloutAborted), "slack")) - before; got != 1 {
		t.Errorf("notifications_failed_total grew by %v, want 1", got)
	}
	evs := strings.Join(receivedEvents(h.events), "\n")
	if !strings.Contains(evs, "Warning NotificationFailed Gave up the on-rollout-aborted notification") || !strings.Contains(evs, "after 3 attempts") {
		t.Errorf("events:\n%s", evs)
	}
	if _, ok := h.rollout("web").Annotations[v1alpha1.NotificationsSentAnnotation]; ok {
		t.Error("a notification given up is recorded as sent")
	}
}

func TestSecretsNeverShown(t *testing.T) {
	h := newSimpleHarness(t, Options{MaxAttempts: 2})
	h.srv.SetToken("xoxb-another-one")
	h.event("web", corev1.EventTypeWarning, v1alpha1.EventRolloutAborted, "Rollout aborted by User")
	h.idle()
	if n := h.srv.Requests(); n != 1 {
		t.Errorf("invalid_auth is retried: %d requests", n)
	}
	evs := strings.Join(receivedEvents(h.events), "\n")
	if !strings.Contains(evs, "invalid_auth") {
		t.Errorf("events do not say why: %s", evs)
	}
	if h.logs.count("slack refused the credentials") != 1 {
		t.Errorf("the refused token is not reported once:\n%s", h.logs)
	}

	// A webhook URL is a secret too: errors that show the URL are redacted.
	var secret corev1.Secret
	_ = h.client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "bluegreen-notifications-secret"}, &secret)
	secret.Data["hook"] = []byte("http://127.0.0.1:1/services/T000/B000/hook-secret-path")
	_ = h.client.Update(context.Background(), &secret)
	h.setService("webhookURL: $hook")
	h.opts.ConfigTTL = time.Nanosecond
	h.start()
	h.event("web", corev1.EventTypeWarning, v1alpha1.EventRolloutAborted, "Rollout aborted by User")
	h.idle()
	evs = strings.Join(receivedEvents(h.events), "\n")
	if !strings.Contains(evs, "[redacted]") {
		t.Errorf("events: %s", evs)
	}
	all := evs + h.logs.String()
	for _, s := range []string{slacktest.Token, "hook-secret-path"} {
		if strings.Contains(all, s) {
			t.Errorf("%q appears in the events or logs:\n%s", s, all)
		}
	}
}

func TestConfigProblemsReportedOnce(t *testing.T) {
	ro := newRollout("web", "web:1", map[string]string{sub + "on-rollout-aborted.slack": "alerts", sub + "on-rollout-nope.slack": "x"})
	h := newHarness(t, Options{ConfigTTL: time.Nanosecond}, ro)
	for range 3 {
		h.event("web", corev1.EventTypeWarning, v1alpha1.EventRolloutAborted, "Rollout aborted by User")
	}
	h.idle()
	if n := h.logs.count("ConfigMap bluegreen-system/bluegreen-notifications-cm not found"); n != 1 {
		t.Errorf("the missing ConfigMap is reported %d times, want once:\n%s", n, h.logs)
	}
	evs := receivedEvents(h.events)
	invalid := 0
	for _, e := range evs {
		if strings.Contains(e, v1alpha1.EventNotificationSubscriptionInvalid) {
			invalid++
			if !strings.Contains(e, `unknown trigger "on-rollout-nope"`) {
				t.Errorf("event does not say what is wrong: %s", e)
			}
		}
	}
	if invalid != 1 {
		t.Errorf("%d NotificationSubscriptionInvalid events, want 1: %v", invalid, evs)
	}

	// Once the configuration exists, the valid subscription is served.
	for _, obj := range configObjects("token: $slack-token\napiURL: " + h.srv.APIURL()) {
		if err := h.client.Create(context.Background(), obj); err != nil {
			t.Fatal(err)
		}
	}
	h.event("web", corev1.EventTypeWarning, v1alpha1.EventRolloutAborted, "Rollout aborted by User")
	if m := h.messages(1); m[0].Channel != "alerts" {
		t.Errorf("message: %+v", m[0])
	}
	if h.logs.count("configuration is valid now") != 1 {
		t.Errorf("recovery not logged:\n%s", h.logs)
	}
}

func TestEnqueueNeverBlocks(t *testing.T) {
	d := New(Options{QueueSize: 2})
	logger := logr.Discard()
	d.log = logger
	before := counter(failedTotal.WithLabelValues(string(OnRolloutPaused), "none"))
	ro := newRollout("web", "web:1", nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 5 {
			d.Enqueue(ro, corev1.EventTypeNormal, v1alpha1.EventRolloutPaused, "Paused")
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Enqueue blocked on a full queue")
	}
	if d.Pending() != 2 {
		t.Errorf("pending = %d, want 2", d.Pending())
	}
	if got := counter(failedTotal.WithLabelValues(string(OnRolloutPaused), "none")) - before; got != 3 {
		t.Errorf("dropped notifications counted %v, want 3", got)
	}
}

func TestWebhook(t *testing.T) {
	h := newSimpleHarness(t, Options{})
	var secret corev1.Secret
	_ = h.client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "bluegreen-notifications-secret"}, &secret)
	secret.Data["hook"] = []byte(h.srv.WebhookURL())
	_ = h.client.Update(context.Background(), &secret)
	h.setService("webhookURL: $hook\nusername: bg")
	h.event("web", corev1.EventTypeWarning, v1alpha1.EventRolloutAborted, "Rollout aborted by User")
	m := h.messages(1)[0]
	if m.Method != "webhook" || m.Channel != "alerts" || m.Username != "bg" || len(m.Blocks) == 0 || !strings.Contains(m.Text, "was aborted") {
		t.Errorf("webhook message: %+v", m)
	}
	h.idle()
	ann := h.rollout("web").Annotations
	if !strings.HasSuffix(ann[v1alpha1.NotificationsSentAnnotation], " on-rollout-aborted/slack:alerts") {
		t.Errorf("sent annotation = %q", ann[v1alpha1.NotificationsSentAnnotation])
	}
	if _, ok := ann[v1alpha1.NotificationsThreadsAnnotation]; ok {
		t.Error("a webhook has no threads")
	}
}
