package controllers

import (
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/bluegreen-dev/bluegreen/pkg/notify"
)

// The notification dispatcher reads its ConfigMap and Secret with direct gets (no cache,
// so no cluster-wide watch of ConfigMaps and Secrets), only those two names; it records
// what it sent on the Rollout (rollouts patch, which the reconciler has already). The rule
// stays in the one generated ClusterRole, which the kustomize and Helm bindings use; a
// deployment that renames them (flags of cmd/manager) adjusts it.
// +kubebuilder:rbac:groups="",resources=configmaps,resourceNames=bluegreen-notifications-cm,verbs=get
// +kubebuilder:rbac:groups="",resources=secrets,resourceNames=bluegreen-notifications-secret,verbs=get

// setupNotifications decorates the event recorder with the notification dispatcher and
// runs the dispatcher on the leader; without a dispatcher it returns the recorder as is.
func setupNotifications(mgr ctrl.Manager, d *notify.Dispatcher, recorder events.EventRecorder) (events.EventRecorder, error) {
	if d == nil {
		return recorder, nil
	}
	decorated := d.Bind(mgr.GetClient(), mgr.GetAPIReader(), recorder)
	return decorated, mgr.Add(d)
}
