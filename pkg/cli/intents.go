package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Promote asks the controller to promote the revision in preview: it writes the promote
// (or, with full, promote-full) annotation valued with that revision's hash. It fails when
// no revision is in preview or the revision is aborted.
func Promote(ctx context.Context, t *Target, name string, full bool) (string, error) {
	snap, err := t.Load(ctx, name)
	if err != nil {
		return "", err
	}
	hash, err := inFlightRevision(snap, "promote")
	if err != nil {
		return "", err
	}
	if a := snap.Rollout.Status.Abort; a != nil && a.Revision == hash {
		return "", fmt.Errorf("rollout %q: %s was aborted, so it cannot be promoted: run `kubectl bluegreen retry %s` first", name, snap.describeRevision(hash), name)
	}
	key, how := v1alpha1.PromoteAnnotation, "promotion"
	if full {
		key, how = v1alpha1.PromoteFullAnnotation, "full promotion (skipping remaining analysis and pauses)"
	}
	if err := annotate(ctx, t, snap.Rollout, key, hash); err != nil {
		return "", err
	}
	return fmt.Sprintf("rollout %q: requested %s of %s", name, how, snap.describeRevision(hash)), nil
}

// Abort asks the controller to abort the revision in flight: the active Service goes back
// to the stable revision.
func Abort(ctx context.Context, t *Target, name string) (string, error) {
	snap, err := t.Load(ctx, name)
	if err != nil {
		return "", err
	}
	hash, err := inFlightRevision(snap, "abort")
	if err != nil {
		return "", err
	}
	if a := snap.Rollout.Status.Abort; a != nil && a.Revision == hash {
		return "", fmt.Errorf("rollout %q: %s is aborted already (by %s): run `kubectl bluegreen retry %s` to start it again, or change the template", name, snap.describeRevision(hash), a.By, name)
	}
	if err := annotate(ctx, t, snap.Rollout, v1alpha1.AbortAnnotation, hash); err != nil {
		return "", err
	}
	return fmt.Sprintf("rollout %q: requested abort of %s", name, snap.describeRevision(hash)), nil
}

// Retry asks the controller to clear the abort of the current revision and start it again.
func Retry(ctx context.Context, t *Target, name string) (string, error) {
	snap, err := t.Load(ctx, name)
	if err != nil {
		return "", err
	}
	st := snap.Rollout.Status
	if st.Abort == nil || st.Abort.Revision != st.CurrentPodHash || st.CurrentPodHash == "" {
		return "", fmt.Errorf("rollout %q is not aborted (it is %s): nothing to retry", name, phaseOf(snap.Rollout))
	}
	if err := annotate(ctx, t, snap.Rollout, v1alpha1.RetryAnnotation, st.CurrentPodHash); err != nil {
		return "", err
	}
	return fmt.Sprintf("rollout %q: requested retry of %s", name, snap.describeRevision(st.CurrentPodHash)), nil
}

// inFlightRevision returns the hash of the revision being released, or an error that says
// why there is none.
func inFlightRevision(snap *Snapshot, verb string) (string, error) {
	ro := snap.Rollout
	st := ro.Status
	switch {
	case st.ObservedGeneration < ro.Generation:
		return "", fmt.Errorf("rollout %q changed (generation %d) since the controller last saw it (generation %d): wait until it has, and run the command again; is the bluegreen controller running?", ro.Name, ro.Generation, st.ObservedGeneration)
	case st.CurrentPodHash == "":
		return "", fmt.Errorf("rollout %q has no revision yet: the controller has not reconciled it; is the bluegreen controller running?", ro.Name)
	case st.StableRS == "" || st.CurrentPodHash == st.StableRS:
		what := "nothing to " + verb
		if verb == "promote" {
			return "", fmt.Errorf("rollout %q has no revision in preview: %s (it is %s at %s)", ro.Name, what, phaseOf(ro), snap.describeRevision(st.CurrentPodHash))
		}
		return "", fmt.Errorf("rollout %q has no revision in flight: %s (it is %s at %s)", ro.Name, what, phaseOf(ro), snap.describeRevision(st.CurrentPodHash))
	}
	return st.CurrentPodHash, nil
}

func phaseOf(ro *v1alpha1.Rollout) string {
	if ro.Status.Phase == "" {
		return "not reconciled yet"
	}
	return string(ro.Status.Phase)
}

// annotate writes one intent annotation with a merge patch, so that it never conflicts
// with the controller's writes.
func annotate(ctx context.Context, t *Target, ro *v1alpha1.Rollout, key, value string) error {
	patch := map[string]any{"metadata": map[string]any{"annotations": map[string]string{key: value}}}
	return mergePatch(ctx, t, ro, patch)
}

func mergePatch(ctx context.Context, t *Target, obj client.Object, patch map[string]any) error {
	raw, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	if err := t.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, raw)); err != nil {
		return fmt.Errorf("updating %s %q: %w", kindOf(obj), obj.GetName(), err)
	}
	return nil
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *v1alpha1.Rollout:
		return "rollout"
	default:
		return "deployment"
	}
}

// SetPaused sets spec.paused: while paused, the controller promotes nothing and switches no Service.
func SetPaused(ctx context.Context, t *Target, name string, paused bool) (string, error) {
	ro, err := t.GetRollout(ctx, name)
	if err != nil {
		return "", err
	}
	if ro.Spec.Paused == paused {
		if paused {
			return fmt.Sprintf("rollout %q is paused already", name), nil
		}
		return fmt.Sprintf("rollout %q is not paused", name), nil
	}
	if err := mergePatch(ctx, t, ro, map[string]any{"spec": map[string]any{"paused": paused}}); err != nil {
		return "", err
	}
	if paused {
		return fmt.Sprintf("rollout %q paused: no promotion or Service switch until `kubectl bluegreen resume %s`", name, name), nil
	}
	return fmt.Sprintf("rollout %q resumed", name), nil
}

// Restart sets spec.restartAt to at: the pods of the active revision started before it are
// restarted one at a time.
func Restart(ctx context.Context, t *Target, name string, at time.Time) (string, error) {
	ro, err := t.GetRollout(ctx, name)
	if err != nil {
		return "", err
	}
	at = at.UTC().Truncate(time.Second)
	if err := mergePatch(ctx, t, ro, map[string]any{"spec": map[string]any{"restartAt": at.Format(time.RFC3339)}}); err != nil {
		return "", err
	}
	return fmt.Sprintf("rollout %q: pods restart at %s", name, at.Format(time.RFC3339)), nil
}

func (a *app) intentCommand(use, short, long, example string, run func(ctx context.Context, t *Target, name string) (string, error)) *cobra.Command {
	return &cobra.Command{
		Use:               use + " ROLLOUT",
		Short:             short,
		Long:              long,
		Example:           example,
		Args:              exactlyOneRollout,
		ValidArgsFunction: a.completeRollouts,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := a.target()
			if err != nil {
				return err
			}
			msg, err := run(cmd.Context(), t, args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.out(), msg)
			return err
		},
	}
}

func (a *app) promoteCommand() *cobra.Command {
	var full bool
	cmd := a.intentCommand("promote", "Promote the revision in preview to active",
		`Promote the revision now in preview: end its pause so that the active Service switches to it
once it is fully available. Pre-promotion analysis still has to pass; with --full, remaining
analysis and pauses are skipped. The request names the revision (status.currentPodHash), so
it can never promote a newer revision than the one in preview now.`,
		"  kubectl bluegreen promote web\n  kubectl bluegreen promote web --full",
		func(ctx context.Context, t *Target, name string) (string, error) { return Promote(ctx, t, name, full) })
	cmd.Flags().BoolVar(&full, "full", false, "Skip remaining analysis and pauses")
	return cmd
}

func (a *app) abortCommand() *cobra.Command {
	return a.intentCommand("abort", "Abort the revision in flight and switch back to the stable one",
		`Abort the revision in flight: the active Service goes back to the stable revision at once,
running analysis is terminated, and the Rollout is Degraded until the template changes or
the revision is retried. Nothing is deleted: spec.template still holds the new version.`,
		"  kubectl bluegreen abort web",
		Abort)
}

func (a *app) retryCommand() *cobra.Command {
	return a.intentCommand("retry", "Start an aborted revision again",
		"Clear the abort of the current revision and start it again, with fresh analysis.",
		"  kubectl bluegreen retry web",
		Retry)
}

func (a *app) pauseCommand() *cobra.Command {
	return a.intentCommand("pause", "Pause a Rollout (spec.paused)",
		"Set spec.paused: no promotion and no Service switch until resumed; ReplicaSets still follow spec.replicas.",
		"  kubectl bluegreen pause web",
		func(ctx context.Context, t *Target, name string) (string, error) {
			return SetPaused(ctx, t, name, true)
		})
}

func (a *app) resumeCommand() *cobra.Command {
	return a.intentCommand("resume", "Resume a paused Rollout",
		"Clear spec.paused. A revision waiting for promotion still waits: use promote for that.",
		"  kubectl bluegreen resume web",
		func(ctx context.Context, t *Target, name string) (string, error) {
			return SetPaused(ctx, t, name, false)
		})
}

func (a *app) restartCommand() *cobra.Command {
	var in time.Duration
	cmd := a.intentCommand("restart", "Restart the pods of the active revision",
		"Set spec.restartAt to now (or now + --in): every pod of the active revision started before then is restarted, one at a time.",
		"  kubectl bluegreen restart web\n  kubectl bluegreen restart web --in 1h",
		func(ctx context.Context, t *Target, name string) (string, error) {
			return Restart(ctx, t, name, a.opts.Now().Add(in))
		})
	cmd.Flags().DurationVar(&in, "in", 0, "Restart this long from now, e.g. 30m")
	return cmd
}

func exactlyOneRollout(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError("%s needs the name of one rollout, e.g. `%s web`", cmd.Name(), cmd.CommandPath())
	}
	return nil
}

// completeRollouts completes the names of the Rollouts in the namespace.
func (a *app) completeRollouts(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	t, err := a.target()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var list v1alpha1.RolloutList
	if err := t.Client.List(cmd.Context(), &list, client.InNamespace(t.Namespace)); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	names := make([]string, 0, len(list.Items))
	for _, ro := range list.Items {
		names = append(names, ro.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
