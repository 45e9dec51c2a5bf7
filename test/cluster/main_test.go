package cluster_test

import (
	"os"
	"testing"

	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

// shared is the one cluster the tests of this package run on; tests work in
// namespaces of their own.
var shared = &cluster.Shared{Options: cluster.Options{
	Nodes:             2,
	CRDDirectoryPaths: []string{"testdata/crds"},
}}

func TestMain(m *testing.M) { os.Exit(shared.Run(m)) }
