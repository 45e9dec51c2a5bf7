package cluster

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestZZDebug(t *testing.T) {
	if os.Getenv("ZZ_DEBUG") == "" {
		t.Skip()
	}
	os.RemoveAll("/tmp/scratch/c1")
	start := time.Now()
	c, err := Start(context.Background(), Options{Dir: "/tmp/scratch/c1", Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %s", time.Since(start))
	time.Sleep(45 * time.Second)
	start = time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("closed in %s", time.Since(start))
}
