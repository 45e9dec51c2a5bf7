package cluster

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
)

// NewForTest starts a Cluster for t and closes it when t ends; if t failed,
// the tails of the component logs are logged first (see DumpLogs). It fails t
// if the cluster cannot start (e.g. the binaries are missing), or skips t if
// $BLUEGREEN_SKIP_CLUSTER is 1. Tests that can share a cluster should use
// Shared instead: starting one takes several seconds.
func NewForTest(t testing.TB, opts Options) *Cluster {
	t.Helper()
	skipIfRequested(t)
	c, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.DumpLogs(t.Logf)
		}
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// Shared is one Cluster for all tests of a test binary, started on first use.
// Declare it at package level and run the tests through it from TestMain:
//
//	var shared = &cluster.Shared{Options: cluster.Options{Nodes: 2}}
//
//	func TestMain(m *testing.M) { os.Exit(shared.Run(m)) }
//
// and in each test that needs it: c := shared.Get(t). Tests sharing a
// cluster should work in namespaces of their own.
type Shared struct {
	// Options configures the cluster.
	Options Options

	once    sync.Once
	cluster *Cluster
	err     error
}

// Get returns the shared Cluster, starting it on the first call. It fails t
// if the cluster cannot start, or skips t if $BLUEGREEN_SKIP_CLUSTER is 1.
func (s *Shared) Get(t testing.TB) *Cluster {
	t.Helper()
	skipIfRequested(t)
	s.once.Do(func() { s.cluster, s.err = Start(context.Background(), s.Options) })
	if s.err != nil {
		t.Fatalf("starting the shared test cluster: %v", s.err)
	}
	return s.cluster
}

// Run runs the tests and then closes the cluster if one was started. When a
// test failed, it first writes the tails of the component logs to stderr (see
// DumpLogs). It returns the exit code for os.Exit.
func (s *Shared) Run(m *testing.M) int {
	code := m.Run()
	if s.cluster != nil {
		if code != 0 {
			s.cluster.DumpLogs(func(format string, args ...any) {
				fmt.Fprintf(os.Stderr, format+"\n", args...)
			})
		}
		if err := s.cluster.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// skipIfRequested skips t when $BLUEGREEN_SKIP_CLUSTER is 1.
func skipIfRequested(t testing.TB) {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("%s=1: skipping a test that needs a control plane", SkipEnv)
	}
}
