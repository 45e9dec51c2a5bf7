package v1alpha1

// Annotations of the Slack notifications. A Rollout subscribes a destination to a trigger
// in the form of Argo CD notifications, with this prefix:
//
//	notifications.bluegreen.dev/subscribe.on-rollout-aborted.slack: team-alerts;deploys
//	notifications.bluegreen.dev/subscribe.slack: deploys   # every trigger
const (
	// NotificationsAnnotationPrefix starts every annotation of the notifications.
	NotificationsAnnotationPrefix = "notifications.bluegreen.dev/"
	// SubscribeAnnotationPrefix starts a subscription annotation: subscribe.<trigger>.<service>
	// or subscribe.<service>, whose value is a list of recipients separated by ';'.
	SubscribeAnnotationPrefix = NotificationsAnnotationPrefix + "subscribe."
	// NotificationsSentAnnotation records, for the current revision, which (trigger,
	// destination) pairs were delivered, so that a restarted controller sends none twice:
	// "<hash> <trigger>/<destination> …". The notification dispatcher writes it.
	NotificationsSentAnnotation = NotificationsAnnotationPrefix + "sent"
	// NotificationsThreadsAnnotation records the Slack thread of the current revision in
	// each channel: "<hash> <channel>=<ts> …". The notification dispatcher writes it.
	NotificationsThreadsAnnotation = NotificationsAnnotationPrefix + "threads"
)

// NotificationsFieldOwner is the field manager of the notification dispatcher's writes.
const NotificationsFieldOwner = "bluegreen-notifications"

// Event reasons of the notifications.
const (
	// EventNotificationFailed: a notification was given up after its retries, or Slack
	// refused it for good.
	EventNotificationFailed = "NotificationFailed"
	// EventNotificationSubscriptionInvalid: a subscription annotation cannot be parsed.
	EventNotificationSubscriptionInvalid = "NotificationSubscriptionInvalid"
)
