package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// StatusOptions say how long status waits and what it prints.
type StatusOptions struct {
	// Watch prints a line each time the status line changes, until the Rollout is Healthy
	// or Degraded.
	Watch bool
	// Timeout bounds the wait; 0 without Watch means look once, 0 with Watch means no bound.
	Timeout time.Duration
	// Interval is how often to look.
	Interval time.Duration
}

// Status reports a Rollout's status for CI: nil when Healthy; an ExitError with ExitFailed
// when Degraded or aborted, with ExitTimeout when it is neither after the timeout (or at
// once, when neither waiting nor watching).
func Status(ctx context.Context, t *Target, name string, opts StatusOptions, out io.Writer) error {
	wait := opts.Watch || opts.Timeout > 0
	var deadline <-chan time.Time
	if opts.Timeout > 0 {
		timer := time.NewTimer(opts.Timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	ticker := time.NewTicker(opts.Interval)
	defer ticker.Stop()
	printed := ""
	for {
		ro, err := t.GetRollout(ctx, name)
		if err != nil {
			return err
		}
		outcome, line := Assess(ro)
		if line != printed && (opts.Watch || outcome != OutcomePending || !wait) {
			fmt.Fprintln(out, line)
			printed = line
		}
		switch outcome {
		case OutcomeHealthy:
			return nil
		case OutcomeDegraded:
			// The status line just printed says it all; no error line repeats it.
			return &ExitError{Code: ExitFailed, Quiet: true, Err: fmt.Errorf("rollout %q is Degraded: %s", name, strings.TrimPrefix(line, "Degraded - "))}
		}
		if !wait {
			return &ExitError{Code: ExitTimeout, Err: fmt.Errorf("rollout %q is not Healthy yet (%s): wait with --watch or --timeout", name, ro.Status.Phase)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return &ExitError{Code: ExitTimeout, Err: fmt.Errorf("rollout %q did not become Healthy within %s; last: %s", name, opts.Timeout, line)}
		case <-ticker.C:
		}
	}
}

func (a *app) statusCommand() *cobra.Command {
	opts := StatusOptions{}
	var output string
	cmd := &cobra.Command{
		Use:   "status ROLLOUT",
		Short: "Show whether a Rollout is Healthy; wait for it in CI",
		Long: `Print the Rollout's phase and message, and exit with a code a CI job can use:
  0  Healthy (the controller has observed the latest spec, and it is fully released)
  1  Degraded or aborted; the reason is printed
  2  timed out (--timeout), or without --watch and --timeout: not finished yet (Progressing or Paused)
With --watch, a line is printed each time the status changes, until Healthy or Degraded.`,
		Example: "  kubectl bluegreen status web\n  kubectl bluegreen status web --watch --timeout 10m",
		Args:    exactlyOneRollout,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := a.target()
			if err != nil {
				return err
			}
			if output != "" {
				ro, err := t.GetRollout(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return printObject(a.out(), output, ro)
			}
			opts.Interval = a.opts.PollInterval
			return Status(cmd.Context(), t, args[0], opts, a.out())
		},
		ValidArgsFunction: a.completeRollouts,
	}
	cmd.Flags().BoolVarP(&opts.Watch, "watch", "w", false, "Print each change until Healthy or Degraded")
	cmd.Flags().DurationVarP(&opts.Timeout, "timeout", "t", 0, "Give up (exit 2) after this long, e.g. 10m; 0 waits forever with --watch")
	addOutputFlag(cmd, &output)
	return cmd
}

func (a *app) getCommand() *cobra.Command {
	get := &cobra.Command{
		Use:   "get",
		Short: "Show a Rollout as a tree of revisions, ReplicaSets, pods and analysis",
	}
	var watch bool
	var output string
	rollout := &cobra.Command{
		Use:     "rollout ROLLOUT",
		Aliases: []string{"rollouts", "ro"},
		Short:   "Show a Rollout as a tree of revisions, ReplicaSets, pods and AnalysisRuns",
		Long: `Show a Rollout: its phase and images, then a tree of its revisions, newest first, each with
its ReplicaSet and pods (ready, restarts, age) and its AnalysisRuns with each metric's last
value; the stable, active and preview revisions are marked. With --watch the tree is redrawn
in place until interrupted.`,
		Example:           "  kubectl bluegreen get rollout web\n  kubectl bluegreen get rollout web --watch\n  kubectl bluegreen get rollout web -o yaml",
		Args:              exactlyOneRollout,
		ValidArgsFunction: a.completeRollouts,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := a.target()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			color := a.useColor(a.out())
			var previous []byte
			for {
				snap, err := t.Load(ctx, args[0])
				if err != nil {
					if watch && errors.Is(ctx.Err(), context.Canceled) {
						return nil // interrupted (Ctrl-C) while reading
					}
					return err
				}
				if output != "" {
					return printObject(a.out(), output, snap.Rollout)
				}
				var buf bytes.Buffer
				RenderRollout(&buf, snap, a.opts.Now(), color)
				if !watch {
					_, err := a.out().Write(buf.Bytes())
					return err
				}
				if !bytes.Equal(buf.Bytes(), previous) {
					switch {
					case color: // redraw in place on a terminal: home the cursor, clear the screen
						fmt.Fprint(a.out(), "\x1b[H\x1b[2J")
					case previous != nil:
						fmt.Fprintln(a.out())
					}
					_, _ = a.out().Write(buf.Bytes())
					previous = buf.Bytes()
				}
				select {
				case <-ctx.Done():
					if errors.Is(ctx.Err(), context.Canceled) {
						return nil
					}
					return ctx.Err()
				case <-time.After(a.opts.PollInterval):
				}
			}
		},
	}
	rollout.Flags().BoolVarP(&watch, "watch", "w", false, "Redraw the tree as it changes, until interrupted")
	addOutputFlag(rollout, &output)
	get.AddCommand(rollout)
	return get
}

func addOutputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", "", "Print the object instead: yaml or json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"yaml", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// printObject prints an object as YAML or JSON, with its apiVersion and kind.
func printObject(w io.Writer, format string, obj runtime.Object) error {
	if gvks, _, err := Scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
		obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
	if ro, ok := obj.(*v1alpha1.Rollout); ok {
		ro.ManagedFields = nil
	}
	switch format {
	case "yaml":
		return (&printers.YAMLPrinter{}).PrintObj(obj, w)
	case "json":
		return (&printers.JSONPrinter{}).PrintObj(obj, w)
	}
	return usageError("unknown output format %q: use -o yaml or -o json", format)
}
