// Command demo starts a local control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok nodes), installs the CRDs and
// applies the samples of config/samples, showing how the API server accepts and
// defaults them. It stops everything it started before it exits; with -keep it waits
// for Ctrl-C instead, so that the cluster can be explored with the printed KUBECONFIG.
//
//	make demo
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

func main() {
	keep := flag.Bool("keep", false, "keep the cluster running until Ctrl-C")
	flag.Parse()
	if err := run(*keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(keep bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := cluster.ModuleRoot()
	if err != nil {
		return err
	}
	bin, err := cluster.BinDir()
	if err != nil {
		return err
	}

	step("Starting a local control plane with 2 kwok nodes")
	began := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{
		Nodes:             2,
		CRDDirectoryPaths: []string{filepath.Join(root, "config", "crd", "bases")},
	})
	if err != nil {
		return err
	}
	defer func() {
		step("Stopping the control plane")
		if err := c.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
		}
	}()
	fmt.Printf("ready in %s; nodes %v; kubeconfig %s\n", time.Since(began).Round(100*time.Millisecond), c.Nodes, c.KubeconfigPath)

	kubectl := func(args ...string) error {
		fmt.Printf("$ kubectl %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "kubectl"), append([]string{"--kubeconfig", c.KubeconfigPath}, args...)...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		return cmd.Run()
	}

	step("The CRDs are installed")
	if err := kubectl("get", "crd", "-o", "custom-columns=NAME:.metadata.name,SHORT:.spec.names.shortNames,SCOPE:.spec.scope"); err != nil {
		return err
	}

	step("Applying config/samples")
	if err := kubectl("apply", "-k", filepath.Join(root, "config", "samples")); err != nil {
		return err
	}
	if err := kubectl("get", "bluegreen"); err != nil {
		return err
	}

	step("The API server filled in the documented defaults")
	if err := kubectl("get", "rollout", "api-gateway", "-o",
		`jsonpath=revisionHistoryLimit={.spec.revisionHistoryLimit} progressDeadlineSeconds={.spec.progressDeadlineSeconds} scaleDownDelaySeconds={.spec.strategy.blueGreen.scaleDownDelaySeconds} abortScaleDownDelaySeconds={.spec.strategy.blueGreen.abortScaleDownDelaySeconds}{"\n"}`); err != nil {
		return err
	}

	step("An invalid Rollout is refused with the field and the fix")
	bad := filepath.Join(c.Dir, "bad-rollout.yaml")
	if err := os.WriteFile(bad, []byte(badRollout), 0o600); err != nil {
		return err
	}
	if err := kubectl("apply", "-f", bad); err == nil {
		return fmt.Errorf("the API server accepted a Rollout whose preview Service is its active Service")
	}

	if keep {
		step("The cluster keeps running; press Ctrl-C to stop it")
		fmt.Printf("export KUBECONFIG=%s\n", c.KubeconfigPath)
		<-ctx.Done()
	}
	return nil
}

const badRollout = `apiVersion: rollouts.bluegreen.dev/v1alpha1
kind: Rollout
metadata:
  name: broken
spec:
  selector:
    matchLabels: {app: broken}
  template:
    metadata:
      labels: {app: broken}
    spec:
      containers: [{name: app, image: app:1}]
  strategy:
    blueGreen:
      activeService: broken
      previewService: broken
`

func step(s string) { fmt.Printf("\n== %s\n", s) }
