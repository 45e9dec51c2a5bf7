package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/pkg/planner"
)

// sendTimeout bounds one attempt to deliver a message.
const sendTimeout = 30 * time.Second

// Options configures a Dispatcher. Zero values take the defaults in brackets.
type Options struct {
	// Namespace, ConfigMap and Secret locate the configuration
	// [bluegreen-system, bluegreen-notifications-cm, bluegreen-notifications-secret].
	Namespace string
	ConfigMap string
	Secret    string
	// QueueSize bounds the notifications waiting for delivery; beyond it they are dropped,
	// counted and logged [1000].
	QueueSize int
	// Workers is how many Rollouts are notified at once; one Rollout's notifications are
	// delivered in order, so that its thread starts with its first message [4].
	Workers int
	// InitialBackoff and MaxBackoff bound the wait between attempts, doubling [2s, 2m];
	// a rate limit waits for Slack's Retry-After instead.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// MaxAttempts gives a delivery up after this many attempts, with an event and a
	// metric [10].
	MaxAttempts int
	// Settle is how long to wait for the status written by the reconcile that recorded the
	// event, so that the message shows it (e.g. status.abort) [2s].
	Settle time.Duration
	// ConfigTTL is how long the configuration read from the API server is reused [30s].
	ConfigTTL time.Duration
	// Clock is the time source [the real clock].
	Clock clock.WithTicker
	// HTTPClient sends the requests to Slack [30s timeout].
	HTTPClient *http.Client
	// NewSender builds the Sender of a configuration [slack-go].
	NewSender func(SlackConfig, *http.Client) Sender
	// Logger [ctrl.Log.WithName("notifications")].
	Logger *logr.Logger
}

func (o *Options) defaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.Namespace, "bluegreen-system")
	def(&o.ConfigMap, "bluegreen-notifications-cm")
	def(&o.Secret, "bluegreen-notifications-secret")
	defInt := func(i *int, v int) {
		if *i <= 0 {
			*i = v
		}
	}
	defInt(&o.QueueSize, 1000)
	defInt(&o.Workers, 4)
	defInt(&o.MaxAttempts, 10)
	defDur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defDur(&o.InitialBackoff, 2*time.Second)
	defDur(&o.MaxBackoff, 2*time.Minute)
	defDur(&o.ConfigTTL, 30*time.Second)
	if o.Settle == 0 {
		o.Settle = 2 * time.Second
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.NewSender == nil {
		o.NewSender = func(c SlackConfig, h *http.Client) Sender { return newSlackSender(c, h) }
	}
}

// notification is an event that maps to a trigger, waiting for delivery.
type notification struct {
	key        types.NamespacedName
	uid        types.UID
	generation int64
	// resourceVersion is the Rollout's as the reconcile that recorded the event read it.
	resourceVersion string
	// revision is the pod template hash of the Rollout's template at the event; "" with a
	// workloadRef, whose template is the Deployment's.
	revision string
	trigger  Trigger
	event    EventData
}

// Dispatcher turns Rollout events into Slack notifications. Its Recorder decorates the
// controller's event recorder and never blocks; the Dispatcher itself is a manager
// Runnable that runs on the leader only.
type Dispatcher struct {
	opts     Options
	client   client.Client
	reader   client.Reader
	recorder events.EventRecorder
	log      logr.Logger

	queue   chan notification
	pending atomic.Int64
	sem     chan struct{}

	mu       sync.Mutex
	lanes    map[types.NamespacedName][]notification
	records  map[types.UID]Record
	reported map[string]bool
	// ownVersions holds the resourceVersion of each Rollout's last record write, which
	// does not show the outcome of any event.
	ownVersions map[types.UID]string
	notBefore   time.Time

	cfgMu       sync.Mutex
	cfg         *Config
	sender      Sender
	cfgErr      error
	cfgReadAt   time.Time
	cfgReported string
}

// New returns a Dispatcher. Bind gives it its clients before the manager starts.
func New(opts Options) *Dispatcher {
	opts.defaults()
	d := &Dispatcher{
		opts:        opts,
		queue:       make(chan notification, opts.QueueSize),
		sem:         make(chan struct{}, opts.Workers),
		lanes:       map[types.NamespacedName][]notification{},
		records:     map[types.UID]Record{},
		ownVersions: map[types.UID]string{},
		reported:    map[string]bool{},
		log:         ctrl.Log.WithName("notifications"),
	}
	if opts.Logger != nil {
		d.log = *opts.Logger
	}
	return d
}

// Bind gives the Dispatcher a client for Rollouts and ReplicaSets (the manager's cached
// client), a reader for the ConfigMap and Secret (the API reader: no cluster-wide cache of
// Secrets), and the recorder of its own events (not decorated). It returns the decorated
// recorder for the reconcilers.
func (d *Dispatcher) Bind(c client.Client, reader client.Reader, recorder events.EventRecorder) events.EventRecorder {
	d.client, d.reader, d.recorder = c, reader, recorder
	return &Recorder{base: recorder, dispatcher: d}
}

// NeedLeaderElection makes the Dispatcher run on the leader only.
func (d *Dispatcher) NeedLeaderElection() bool { return true }

// Pending is the number of notifications accepted and not yet done with.
func (d *Dispatcher) Pending() int { return int(d.pending.Load()) }

// Recorder records events through its base recorder and hands those that map to a trigger
// to the Dispatcher, without blocking.
type Recorder struct {
	base       events.EventRecorder
	dispatcher *Dispatcher
}

// Eventf records the event and enqueues its notification.
func (r *Recorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	r.base.Eventf(regarding, related, eventtype, reason, action, note, args...)
	r.dispatcher.Enqueue(regarding, eventtype, reason, fmt.Sprintf(note, args...))
}

// AnnotatedEventf records the event with annotations and enqueues its notification.
func (r *Recorder) AnnotatedEventf(regarding, related runtime.Object, annotations map[string]string, eventtype, reason, action, note string, args ...any) {
	if a, ok := r.base.(events.AnnotatedEventRecorder); ok {
		a.AnnotatedEventf(regarding, related, annotations, eventtype, reason, action, note, args...)
	} else {
		r.base.Eventf(regarding, related, eventtype, reason, action, note, args...)
	}
	r.dispatcher.Enqueue(regarding, eventtype, reason, fmt.Sprintf(note, args...))
}

// Enqueue accepts an event about a Rollout whose reason maps to a trigger. It never
// blocks: when the queue is full the notification is dropped, counted and logged.
func (d *Dispatcher) Enqueue(regarding runtime.Object, eventtype, reason, message string) {
	ro, ok := regarding.(*v1alpha1.Rollout)
	if !ok {
		return
	}
	trigger, ok := TriggerFor(reason)
	if !ok {
		return
	}
	n := notification{
		key: types.NamespacedName{Namespace: ro.Namespace, Name: ro.Name}, uid: ro.UID,
		generation: ro.Generation, resourceVersion: ro.ResourceVersion,
		trigger: trigger,
		event:   EventData{Reason: reason, Type: eventtype, Message: message, Time: d.opts.Clock.Now()},
	}
	if ro.Spec.Template != nil && ro.Spec.WorkloadRef == nil {
		n.revision = planner.ComputeHash(ro.Spec.Template, ro.Status.CollisionCount)
	}
	if d.pending.Add(1) > int64(d.opts.QueueSize) {
		d.pending.Add(-1)
		d.dropped(n, "the notification queue is full")
		return
	}
	select {
	case d.queue <- n:
	default:
		d.pending.Add(-1)
		d.dropped(n, "the notification queue is full")
	}
}

func (d *Dispatcher) dropped(n notification, why string) {
	failedTotal.WithLabelValues(string(n.trigger), "none").Inc()
	d.log.Info("Dropped a notification: "+why, "rollout", n.key, "trigger", n.trigger, "queueSize", d.opts.QueueSize)
}

// Start delivers notifications until ctx is done.
func (d *Dispatcher) Start(ctx context.Context) error {
	if d.client == nil {
		return errors.New("notifications: Bind was not called")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-d.queue:
			d.mu.Lock()
			lane, running := d.lanes[n.key]
			d.lanes[n.key] = append(lane, n)
			d.mu.Unlock()
			if !running {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d.runLane(ctx, n.key)
				}()
			}
		}
	}
}

// runLane delivers one Rollout's notifications in order, then ends.
func (d *Dispatcher) runLane(ctx context.Context, key types.NamespacedName) {
	select {
	case d.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-d.sem }()
	for {
		d.mu.Lock()
		lane := d.lanes[key]
		if len(lane) == 0 || ctx.Err() != nil {
			delete(d.lanes, key)
			d.mu.Unlock()
			return
		}
		n := lane[0]
		d.lanes[key] = lane[1:]
		d.mu.Unlock()
		d.process(ctx, n)
		d.pending.Add(-1)
	}
}

// process delivers one notification to every destination subscribed to its trigger that
// has not had it for this revision.
func (d *Dispatcher) process(ctx context.Context, n notification) {
	log := d.log.WithValues("rollout", n.key, "trigger", n.trigger)
	ro, err := d.settledRollout(ctx, n)
	if err != nil {
		if !apierrors.IsNotFound(err) && ctx.Err() == nil {
			log.Error(err, "Reading the Rollout of a notification")
		}
		return
	}
	if ro.UID != n.uid {
		return
	}
	revision := n.revision
	if revision == "" {
		revision = ro.Status.CurrentPodHash
	}
	if revision == "" {
		return
	}
	if revision != ro.Status.CurrentPodHash && ro.Generation != n.generation {
		log.V(1).Info("Skipped a notification about a revision the Rollout moved on from", "revision", revision, "current", ro.Status.CurrentPodHash)
		return
	}

	subs, subErr := ParseAnnotations(ro.Annotations)
	if subErr != nil {
		d.reportOnce(ro, string(ro.UID)+subErr.Error(), v1alpha1.EventNotificationSubscriptionInvalid,
			fmt.Sprintf("Invalid notification subscription: %v", subErr))
	}
	cfg, sender, cfgErr := d.config(ctx)
	if cfgErr != nil {
		if len(subs) > 0 {
			failedTotal.WithLabelValues(string(n.trigger), "none").Inc()
		}
		return
	}
	dests := Destinations(n.trigger, ro.Namespace, ro.Labels, subs, cfg.Subscriptions)
	if len(dests) == 0 {
		return
	}

	data := NewData(n.trigger, ro, revision, d.replicaSet(ctx, ro, revision), n.event, cfg.Context)
	msg, err := cfg.Templates[n.trigger].Render(data)
	if err != nil {
		d.reportOnce(ro, "template"+err.Error(), v1alpha1.EventNotificationFailed,
			fmt.Sprintf("Cannot render the %s notification: %v", n.trigger, err))
		failedTotal.WithLabelValues(string(n.trigger), cfg.DestinationType()).Add(float64(len(dests)))
		return
	}

	for _, dest := range dests {
		rec := d.record(ro).For(revision)
		if rec.WasSent(n.trigger, dest) {
			log.V(1).Info("Skipped a notification sent before", "revision", revision, "destination", dest.String())
			continue
		}
		thread := ""
		if cfg.Slack.Token != "" {
			thread = rec.Threads[dest.Recipient]
		}
		ts, attempts, err := d.deliver(ctx, sender, dest.Recipient, msg, thread)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failedTotal.WithLabelValues(string(n.trigger), cfg.DestinationType()).Inc()
			note := fmt.Sprintf("Gave up the %s notification of revision %s to %s after %d attempts: %v", n.trigger, revision, dest, attempts, err)
			log.Info(note)
			d.recorder.Eventf(ro, nil, corev1.EventTypeWarning, v1alpha1.EventNotificationFailed, "Notify", "%s", note)
			if isAuthError(err) {
				d.reportConfig(fmt.Errorf("slack refused the credentials: %w", err))
			}
			continue
		}
		sentTotal.WithLabelValues(string(n.trigger), cfg.DestinationType()).Inc()
		if thread != "" {
			ts = ""
		}
		rec = rec.MarkSent(n.trigger, dest, ts)
		d.mu.Lock()
		d.records[ro.UID] = rec
		d.mu.Unlock()
		// A shutdown (leadership lost, SIGTERM) waits for the record of a message sent:
		// without it, the next leader would send the message again.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = d.writeRecord(wctx, ro, rec)
		cancel()
		if err != nil {
			log.Error(err, "Recording a delivered notification on the Rollout; it is remembered until the controller restarts")
		}
	}
}

// settledRollout reads the Rollout once the reconcile that recorded the event wrote its
// status (its resourceVersion moved on), or Settle after the event.
func (d *Dispatcher) settledRollout(ctx context.Context, n notification) (*v1alpha1.Rollout, error) {
	for {
		var ro v1alpha1.Rollout
		if err := d.client.Get(ctx, n.key, &ro); err != nil {
			return nil, err
		}
		if d.opts.Settle < 0 || d.opts.Clock.Since(n.event.Time) >= d.opts.Settle || d.settled(n, &ro) {
			return &ro, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-d.opts.Clock.After(50 * time.Millisecond):
		}
	}
}

// settled reports whether the Rollout shows the outcome of the event: for the triggers
// whose outcome is in the status, that status; for the others, a resourceVersion written
// after the event by someone else than the dispatcher itself.
func (d *Dispatcher) settled(n notification, ro *v1alpha1.Rollout) bool {
	s := ro.Status
	revision := n.revision
	if revision == "" {
		revision = s.CurrentPodHash
	}
	switch n.trigger {
	case OnRolloutUpdated:
		return s.CurrentPodHash == revision
	case OnRolloutPaused:
		return s.CurrentPodHash == revision && len(s.PauseConditions) > 0
	case OnRolloutPromoted:
		return s.BlueGreen.ActiveSelector == revision
	case OnRolloutCompleted:
		return s.StableRS == revision
	case OnRolloutAborted:
		return s.Abort != nil && s.Abort.Revision == revision
	}
	d.mu.Lock()
	own := d.ownVersions[ro.UID]
	d.mu.Unlock()
	return ro.ResourceVersion != n.resourceVersion && ro.ResourceVersion != own
}

// replicaSet returns the ReplicaSet of a revision of the Rollout, or nil.
func (d *Dispatcher) replicaSet(ctx context.Context, ro *v1alpha1.Rollout, revision string) *appsv1.ReplicaSet {
	var list appsv1.ReplicaSetList
	if err := d.client.List(ctx, &list, client.InNamespace(ro.Namespace), client.MatchingLabels{v1alpha1.PodTemplateHashLabel: revision}); err != nil {
		return nil
	}
	for i := range list.Items {
		for _, ref := range list.Items[i].OwnerReferences {
			if ref.UID == ro.UID {
				return &list.Items[i]
			}
		}
	}
	return nil
}

// record returns what was sent for the Rollout: remembered since this process delivered
// for it, else read from its annotations (after a restart).
func (d *Dispatcher) record(ro *v1alpha1.Rollout) Record {
	d.mu.Lock()
	defer d.mu.Unlock()
	stored := ReadRecord(ro.Annotations)
	r, ok := d.records[ro.UID]
	if !ok {
		return stored
	}
	if equalAnnotations(r.Annotations(), stored.Annotations()) {
		// The cache shows the last write: the object is the memory again.
		delete(d.records, ro.UID)
	}
	return r
}

// writeRecord writes the record's annotations with a merge patch of exactly those keys,
// under the notifications' own field owner; the uid makes it fail on a recreated Rollout.
func (d *Dispatcher) writeRecord(ctx context.Context, ro *v1alpha1.Rollout, rec Record) error {
	values := rec.Annotations()
	ann := map[string]any{v1alpha1.NotificationsSentAnnotation: values[v1alpha1.NotificationsSentAnnotation]}
	if v, ok := values[v1alpha1.NotificationsThreadsAnnotation]; ok {
		ann[v1alpha1.NotificationsThreadsAnnotation] = v
	} else {
		ann[v1alpha1.NotificationsThreadsAnnotation] = nil
	}
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"uid": ro.UID, "annotations": ann}})
	if err != nil {
		return err
	}
	target := &v1alpha1.Rollout{}
	target.Namespace, target.Name = ro.Namespace, ro.Name
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		lastErr = d.client.Patch(ctx, target, client.RawPatch(types.MergePatchType, body), client.FieldOwner(v1alpha1.NotificationsFieldOwner))
		if lastErr == nil {
			d.mu.Lock()
			d.ownVersions[ro.UID] = target.ResourceVersion
			d.mu.Unlock()
		}
		if lastErr == nil || apierrors.IsNotFound(lastErr) || apierrors.IsConflict(lastErr) {
			return client.IgnoreNotFound(lastErr)
		}
	}
	return lastErr
}

// deliver sends with retries: exponential back-off, or Slack's Retry-After, which also
// holds back every other delivery until then. It gives up after MaxAttempts or at once on
// an error no retry can fix.
func (d *Dispatcher) deliver(ctx context.Context, sender Sender, channel string, msg Message, thread string) (string, int, error) {
	backoff := d.opts.InitialBackoff
	for attempt := 1; ; attempt++ {
		if err := d.waitRateLimit(ctx); err != nil {
			return "", attempt - 1, err
		}
		// An attempt under way is finished on shutdown, so that its outcome is known and
		// recorded; the waits between attempts are not.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		ts, err := sender.Send(sctx, channel, msg, thread)
		cancel()
		if err == nil {
			return ts, attempt, nil
		}
		var de *DeliveryError
		if !errors.As(err, &de) {
			de = &DeliveryError{msg: err.Error()}
		}
		if de.Permanent || attempt >= d.opts.MaxAttempts || ctx.Err() != nil {
			return "", attempt, err
		}
		wait := backoff
		backoff = min(2*backoff, d.opts.MaxBackoff)
		if de.RetryAfter > 0 {
			wait = de.RetryAfter
			d.mu.Lock()
			if until := d.opts.Clock.Now().Add(wait); until.After(d.notBefore) {
				d.notBefore = until
			}
			d.mu.Unlock()
		}
		d.log.V(1).Info("Slack delivery failed; retrying", "channel", channel, "attempt", attempt, "in", wait.String(), "error", err.Error())
		select {
		case <-ctx.Done():
			return "", attempt, ctx.Err()
		case <-d.opts.Clock.After(wait):
		}
	}
}

// waitRateLimit waits until Slack's last Retry-After has passed.
func (d *Dispatcher) waitRateLimit(ctx context.Context) error {
	d.mu.Lock()
	wait := d.notBefore.Sub(d.opts.Clock.Now())
	d.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-d.opts.Clock.After(wait):
		return nil
	}
}

// config returns the configuration, read at most every ConfigTTL. An error is reported
// once (until it changes); it never stops anything else.
func (d *Dispatcher) config(ctx context.Context) (*Config, Sender, error) {
	d.cfgMu.Lock()
	defer d.cfgMu.Unlock()
	if !d.cfgReadAt.IsZero() && d.opts.Clock.Since(d.cfgReadAt) < d.opts.ConfigTTL {
		return d.cfg, d.sender, d.cfgErr
	}
	cfg, err := d.readConfig(ctx)
	if err != nil && ctx.Err() != nil {
		return nil, nil, err
	}
	d.cfgReadAt = d.opts.Clock.Now()
	if err != nil {
		d.cfg, d.sender, d.cfgErr = nil, nil, err
		d.reportConfigLocked(err)
		return nil, nil, err
	}
	if d.cfg == nil || d.cfg.Slack != cfg.Slack {
		d.sender = d.opts.NewSender(cfg.Slack, d.opts.HTTPClient)
	}
	if d.cfgErr != nil || d.cfgReported != "" {
		d.log.Info("The notifications configuration is valid now", "configMap", klog.KRef(d.opts.Namespace, d.opts.ConfigMap))
		d.cfgReported = ""
	}
	d.cfg, d.cfgErr = cfg, nil
	return d.cfg, d.sender, nil
}

func (d *Dispatcher) readConfig(ctx context.Context) (*Config, error) {
	var cm corev1.ConfigMap
	if err := d.reader.Get(ctx, client.ObjectKey{Namespace: d.opts.Namespace, Name: d.opts.ConfigMap}, &cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("ConfigMap %s/%s not found: create it (see config/notifications/) to deliver the notifications that Rollouts subscribe to", d.opts.Namespace, d.opts.ConfigMap)
		}
		return nil, fmt.Errorf("reading ConfigMap %s/%s: %w", d.opts.Namespace, d.opts.ConfigMap, err)
	}
	var secret corev1.Secret
	secretMissing := false
	if err := d.reader.Get(ctx, client.ObjectKey{Namespace: d.opts.Namespace, Name: d.opts.Secret}, &secret); err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("reading Secret %s/%s: %w", d.opts.Namespace, d.opts.Secret, err)
		}
		secretMissing = true
	}
	cfg, err := ParseConfig(cm.Data, secret.Data)
	if err != nil {
		if secretMissing {
			err = fmt.Errorf("%w (Secret %s/%s not found)", err, d.opts.Namespace, d.opts.Secret)
		}
		return nil, fmt.Errorf("ConfigMap %s/%s: %w", d.opts.Namespace, d.opts.ConfigMap, err)
	}
	return cfg, nil
}

func (d *Dispatcher) reportConfig(err error) {
	d.cfgMu.Lock()
	defer d.cfgMu.Unlock()
	d.reportConfigLocked(err)
}

// reportConfigLocked logs a configuration error once, until it changes.
func (d *Dispatcher) reportConfigLocked(err error) {
	if err.Error() == d.cfgReported {
		return
	}
	d.cfgReported = err.Error()
	d.log.Error(err, "Notifications are not delivered until the configuration is fixed; rollouts go on")
}

// reportOnce records a warning event on the Rollout and logs it, once per key.
func (d *Dispatcher) reportOnce(ro *v1alpha1.Rollout, key, reason, note string) {
	d.mu.Lock()
	seen := d.reported[key]
	d.reported[key] = true
	d.mu.Unlock()
	if seen {
		return
	}
	d.log.Info(note, "rollout", klog.KObj(ro))
	d.recorder.Eventf(ro, nil, corev1.EventTypeWarning, reason, "Notify", "%s", note)
}

func equalAnnotations(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
