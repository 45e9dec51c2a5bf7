// Command kubectl-bluegreen is the kubectl plugin for bluegreen Rollouts: with the binary
// on PATH, `kubectl bluegreen …` works.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise the module
// version from the build info is used.
var version = ""

func main() {
	if err := newRootCommand().Execute(); err != nil {
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "kubectl-bluegreen",
		Short:         "Promote, abort and watch bluegreen Rollouts",
		Long:          "kubectl bluegreen drives blue-green Rollouts of rollouts.bluegreen.dev: promote a revision in preview, abort it, and watch it become Healthy.",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "kubectl-bluegreen", buildVersion())
		},
	})
	return root
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
