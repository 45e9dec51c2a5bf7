package controllers

import (
	"context"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/pkg/analysis"
	"github.com/bluegreen-dev/bluegreen/pkg/notify"
)

// Options configures the controllers.
type Options struct {
	// RolloutWorkers is the number of Rollouts reconciled at once.
	RolloutWorkers int
	// Clock is the time source; nil means the real clock.
	Clock clock.PassiveClock
	// AnalysisWorkers is the number of AnalysisRuns measured at once.
	AnalysisWorkers int
	// PrometheusAddress is the Prometheus server of metrics that name none.
	PrometheusAddress string
	// Notifications, when set, turns the Rollouts' events into Slack notifications.
	Notifications *notify.Dispatcher
}

// Setup registers every controller with the manager: what cmd/manager runs, and what the
// integration and end-to-end tests run.
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	recorder, err := setupNotifications(mgr, opts.Notifications, mgr.GetEventRecorder(v1alpha1.FieldOwner))
	if err != nil {
		return err
	}
	rollouts := &RolloutReconciler{
		Client:                  mgr.GetClient(),
		Recorder:                recorder,
		Clock:                   opts.Clock,
		Analysis:                &AnalysisRunBuilder{Client: mgr.GetClient()},
		MaxConcurrentReconciles: opts.RolloutWorkers,
	}
	if err := rollouts.SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	runs := NewAnalysisRunReconciler(mgr, opts.Clock, analysis.Options{PrometheusAddress: opts.PrometheusAddress}, opts.AnalysisWorkers)
	return runs.SetupWithManager(mgr)
}
