// Command demo carries the example application api-gateway of
// examples/manifest-repo through a good release and a bad one on a local cluster,
// the way a team that keeps its manifests in Git would see it:
//
//   - a local control plane (etcd, kube-apiserver, kube-controller-manager,
//     kube-scheduler, kwok nodes), a Prometheus, a local stand-in for Slack (or real
//     Slack when SLACK_TOKEN and SLACK_CHANNEL are set) and the operator, run from bin/;
//   - api-gateway rendered from its Helm chart with values.yaml and values-test.yaml and
//     applied, as Argo CD would;
//   - release 1.5.0: CI sets the tag with `kubectl bluegreen values set`, the new
//     revision comes up behind the preview Service, its analysis passes, the active
//     Service switches and the old revision is scaled down after its delay;
//   - release 1.6.0: its error ratio is 12%, analysis fails, the release is aborted and
//     the active Service never leaves 1.5.0;
//
// printing `kubectl bluegreen get rollout` at each step and the Slack messages at the
// end. Everything it starts is stopped before it exits; with -keep it waits for Ctrl-C
// instead, so that the cluster can be explored with the printed KUBECONFIG.
//
//	make demo
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	keep := flag.Bool("keep", false, "keep everything running until Ctrl-C after the scenario")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := defaultConfig(os.Stdout)
	if err == nil {
		cfg.keep = *keep
		_, err = run(ctx, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
