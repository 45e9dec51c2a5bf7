package cluster

import (
	"strings"
	"testing"
	"time"
)

// TestStartReportsComponentThatExited checks that Start fails at once, naming
// the component and quoting its log, when a component exits during startup.
func TestStartReportsComponentThatExited(t *testing.T) {
	skipIfRequested(t)
	t.Parallel()
	if _, err := binaries(string(Etcd), string(APIServer)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c, err := Start(t.Context(), Options{
		StartTimeout: time.Minute,
		ExtraArgs:    map[Component][]string{APIServer: {"--no-such-flag"}},
	})
	if err == nil {
		_ = c.Close()
		t.Fatal("Start succeeded with a kube-apiserver flag that does not exist")
	}
	t.Logf("Start failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	for _, want := range []string{"kube-apiserver exited", "unknown flag: --no-such-flag"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error does not mention %q", want)
		}
	}
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Errorf("Start took %s to notice that kube-apiserver exited", elapsed)
	}
}
