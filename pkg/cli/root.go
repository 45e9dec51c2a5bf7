// Package cli implements kubectl-bluegreen: each command is a function over a Kubernetes
// client, and status, get and list render from pure functions over the Rollout, its
// ReplicaSets, pods and AnalysisRuns (render.go, list.go), tested with golden output.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// Exit codes. CI scripts rely on them: keep them stable.
const (
	// ExitOK: the command did what was asked; for status, the Rollout is Healthy.
	ExitOK = 0
	// ExitFailed: the command failed, or for status, the Rollout is Degraded or aborted.
	ExitFailed = 1
	// ExitTimeout: status gave up waiting (or, without --watch or --timeout, the Rollout is
	// neither Healthy nor Degraded yet).
	ExitTimeout = 2
)

// ExitError is an error that ends the program with a given exit code.
type ExitError struct {
	Code int
	Err  error
	// Quiet: the command already said what happened on stdout; Run prints no error line.
	Quiet bool
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Options configure the command tree. The zero value is what the binary uses.
type Options struct {
	// Streams are stdin, stdout and stderr; default the process's.
	Streams genericiooptions.IOStreams
	// Now is the clock; default time.Now. Tests fix it for golden output.
	Now func() time.Time
	// PollInterval is how often status and get --watch look at the Rollout; default 1s.
	PollInterval time.Duration
	// Version is printed by `version`; default the module version from the build info.
	Version string
	// Color forces colour on (true) or off (false); nil detects a terminal.
	Color *bool
}

func (o *Options) defaults() {
	if o.Streams.In == nil {
		o.Streams = genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	if o.Version == "" {
		o.Version = "(devel)"
		if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
			o.Version = info.Main.Version
		}
	}
}

// Main runs the command line with args (without the program name) and returns the exit code.
func Main(args []string, opts Options) int {
	opts.defaults()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, opts)
}

// Run runs the command line with args and returns the exit code; errors are printed to
// the error stream as one line.
func Run(ctx context.Context, args []string, opts Options) int {
	opts.defaults()
	root := NewRootCommand(&opts)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		if !exit.Quiet {
			fmt.Fprintln(opts.Streams.ErrOut, "error:", err)
		}
		return exit.Code
	}
	fmt.Fprintln(opts.Streams.ErrOut, "error:", err)
	return ExitFailed
}

// app is what every command shares: the kubectl flags, streams and clock.
type app struct {
	opts    *Options
	kube    *genericclioptions.ConfigFlags
	noColor bool
}

func (a *app) out() io.Writer    { return a.opts.Streams.Out }
func (a *app) errOut() io.Writer { return a.opts.Streams.ErrOut }

// NewRootCommand returns the `kubectl bluegreen` command tree.
func NewRootCommand(opts *Options) *cobra.Command {
	opts.defaults()
	a := &app{opts: opts, kube: genericclioptions.NewConfigFlags(true)}
	root := &cobra.Command{
		Use:   "kubectl-bluegreen",
		Short: "Drive blue-green Rollouts (rollouts.bluegreen.dev): promote, abort, watch",
		Long: `kubectl bluegreen drives blue-green Rollouts of rollouts.bluegreen.dev, the way
kubectl argo rollouts drives Argo Rollouts: change the image, watch the new revision come up
behind the preview Service, promote it to the active Service, or abort it.

A promote, abort or retry names the revision it is meant for (status.currentPodHash), so
a request can never act on a newer revision than the one you looked at.

Exit codes: 0 success (status: Healthy), 1 failure (status: Degraded or aborted),
2 timeout (status: not Healthy or Degraded in time).`,
		Example: `  # Release a new image, watch it, promote it
  kubectl bluegreen set image web app=registry.example.com/web:1.4.2
  kubectl bluegreen get rollout web --watch
  kubectl bluegreen promote web

  # In CI: wait until the rollout is Healthy (exit 0), Degraded (1) or 10 minutes pass (2)
  kubectl bluegreen status web --watch --timeout 10m

  # Check a chart before it reaches Git
  helm template ./chart | kubectl bluegreen lint -f -`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl bluegreen"},
	}
	root.SetIn(opts.Streams.In)
	root.SetOut(opts.Streams.Out)
	root.SetErr(opts.Streams.ErrOut)
	a.kube.AddFlags(root.PersistentFlags())
	root.PersistentFlags().BoolVar(&a.noColor, "no-color", false, "Never colour the output (colour is used only on a terminal)")

	root.AddGroup(
		&cobra.Group{ID: "release", Title: "Release a revision:"},
		&cobra.Group{ID: "watch", Title: "Look at Rollouts:"},
		&cobra.Group{ID: "offline", Title: "Work on manifests (no cluster needed):"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("release", a.setCommand(), a.promoteCommand(), a.abortCommand(), a.retryCommand(),
		a.pauseCommand(), a.resumeCommand(), a.restartCommand(), a.undoCommand())
	add("watch", a.statusCommand(), a.getCommand(), a.listCommand())
	add("offline", a.lintCommand(), a.convertCommand(), a.valuesCommand())
	root.AddCommand(a.versionCommand())
	root.SetCompletionCommandGroupID("")
	return root
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(a.out(), "kubectl-bluegreen", a.opts.Version)
			return err
		},
	}
}

// usageError is an error in the command line itself.
func usageError(format string, args ...any) error {
	return &ExitError{Code: ExitFailed, Err: fmt.Errorf(format, args...)}
}
