package notify

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Labels are bounded: a trigger (a handful) and a destination type (slack, slack-webhook).
var (
	sentTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "notifications_sent_total",
		Help: "Notifications delivered, by trigger and destination type.",
	}, []string{"trigger", "destination_type"})
	failedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "notifications_failed_total",
		Help: "Notifications given up, after their retries or refused for good, by trigger and destination type. " +
			"destination_type is \"none\" when the queue was full or the configuration was missing or invalid.",
	}, []string{"trigger", "destination_type"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(sentTotal, failedTotal)
}
