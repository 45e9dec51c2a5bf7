package cluster

import (
	"fmt"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// EnvtestOptions configures StartEnvtest.
type EnvtestOptions struct {
	// CRDDirectoryPaths are directories or files with CustomResourceDefinitions
	// to install, e.g. <ModuleRoot>/config/crd/bases. When given, a missing
	// path is an error.
	CRDDirectoryPaths []string
}

// Envtest is a control plane of only etcd and kube-apiserver, as started by
// controller-runtime's envtest: objects are stored and validated, but no
// controller acts on them (no pods get scheduled or run).
type Envtest struct {
	// Config talks to the kube-apiserver as an administrator.
	Config *rest.Config
	// Environment is the underlying envtest environment.
	Environment *envtest.Environment
}

// StartEnvtest starts etcd and kube-apiserver from BinDir and installs the
// CRDs of opts. Call Stop when done.
func StartEnvtest(opts EnvtestOptions) (*Envtest, error) {
	bins, err := binaries("etcd", "kube-apiserver")
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     opts.CRDDirectoryPaths,
		ErrorIfCRDPathMissing: len(opts.CRDDirectoryPaths) > 0,
	}
	// Set the paths explicitly: envtest would otherwise prefer
	// $KUBEBUILDER_ASSETS over BinaryAssetsDirectory.
	env.BinaryAssetsDirectory, _ = BinDir()
	env.ControlPlane.GetAPIServer().Path = bins["kube-apiserver"]
	env.ControlPlane.Etcd = &envtest.Etcd{Path: bins["etcd"]}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("starting envtest (etcd and kube-apiserver from %s): %w", env.BinaryAssetsDirectory, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	return &Envtest{Config: cfg, Environment: env}, nil
}

// Stop stops kube-apiserver and etcd and removes their data.
func (e *Envtest) Stop() error {
	if err := e.Environment.Stop(); err != nil {
		return fmt.Errorf("stopping envtest: %w", err)
	}
	return nil
}

// NewEnvtestForTest starts an Envtest for t and stops it when t ends. It fails
// t if the control plane cannot start (e.g. the binaries are missing), or
// skips t if $BLUEGREEN_SKIP_CLUSTER is 1.
func NewEnvtestForTest(t testing.TB, opts EnvtestOptions) *Envtest {
	t.Helper()
	skipIfRequested(t)
	e, err := StartEnvtest(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Error(err)
		}
	})
	return e
}
