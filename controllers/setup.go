package controllers

import (
	"context"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Options configures the controllers.
type Options struct {
	// RolloutWorkers is the number of Rollouts reconciled at once.
	RolloutWorkers int
	// Clock is the time source; nil means the real clock.
	Clock clock.PassiveClock
}

// Setup registers every controller with the manager: what cmd/manager runs, and what the
// integration and end-to-end tests run.
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	rollouts := &RolloutReconciler{
		Client:                  mgr.GetClient(),
		Recorder:                mgr.GetEventRecorder(v1alpha1.FieldOwner),
		Clock:                   opts.Clock,
		Analysis:                &AnalysisRunBuilder{Client: mgr.GetClient()},
		MaxConcurrentReconciles: opts.RolloutWorkers,
	}
	return rollouts.SetupWithManager(ctx, mgr)
}
