// Package prometheus runs a real Prometheus server for tests and the demo, from the binary
// that hack/prometheus/build.sh (`make prometheus`) puts in bin/, and a small exporter
// whose series the caller sets. Prometheus listens on a free port of 127.0.0.1, keeps its
// data in a temporary directory and scrapes its targets every second by default.
//
// Environment variables:
//
//   - BLUEGREEN_BIN_DIR: where the binary is (default: bin/ of the module).
//   - BLUEGREEN_SKIP_PROMETHEUS=1: NewForTest skips the test instead of failing when
//     Prometheus cannot start.
package prometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

// SkipEnv names the environment variable that, set to "1", makes NewForTest skip.
const SkipEnv = "BLUEGREEN_SKIP_PROMETHEUS"

const buildHint = "build it with `make prometheus` (hack/prometheus/build.sh) or point " + cluster.BinDirEnv + " at a directory that has it"

// Options configures a Prometheus server.
type Options struct {
	// Targets are host:port addresses scraped at /metrics.
	Targets []string
	// ScrapeInterval is how often the targets are scraped (default 1s).
	ScrapeInterval time.Duration
}

// Server is a running Prometheus.
type Server struct {
	// URL is the server's address, such as http://127.0.0.1:41234.
	URL string
	// LogPath is the file that holds the server's output.
	LogPath string

	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts Prometheus and waits until it is ready and has scraped every target once.
func Start(ctx context.Context, opts Options) (_ *Server, err error) {
	bin, err := cluster.BinDir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(bin, "prometheus")
	if fi, err := os.Stat(path); err != nil || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("prometheus not found at %s: %s", path, buildHint)
	}
	if opts.ScrapeInterval == 0 {
		opts.ScrapeInterval = time.Second
	}
	dir, err := os.MkdirTemp("", "bluegreen-prometheus-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, LogPath: filepath.Join(dir, "prometheus.log"), done: make(chan struct{})}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n--- prometheus log (last lines) ---\n%s", err, s.LogTail(30))
			_ = s.Close()
		}
	}()
	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, []byte(configYAML(opts)), 0o644); err != nil {
		return nil, err
	}
	ports, err := cluster.FreePorts(1)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	s.URL = "http://" + addr
	logFile, err := os.Create(s.LogPath)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(path,
		"--config.file="+config,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting prometheus: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	last := ""
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("prometheus exited while starting: %v", s.err)
		default:
		}
		ok, state := httpOK(s.URL + "/-/ready")
		if ok {
			// Ready is not yet scraping: target discovery first reports after about 5 s.
			ok, state = s.scraped(len(opts.Targets))
		}
		if ok {
			return s, nil
		}
		last = state
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("prometheus at %s not ready after 60s; last seen: %s", s.URL, last)
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
}

// scraped reports whether n targets have been scraped successfully.
func (s *Server) scraped(n int) (bool, string) {
	if n == 0 {
		return true, ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/query?query="+url.QueryEscape("count(up == 1)"), nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return false, err.Error()
	}
	if len(body.Data.Result) == 0 || len(body.Data.Result[0].Value) != 2 {
		return false, "no target scraped yet"
	}
	up, _ := body.Data.Result[0].Value[1].(string)
	return up == strconv.Itoa(n), fmt.Sprintf("%s of %d targets scraped", up, n)
}

func configYAML(opts Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  evaluation_interval: %s\n", opts.ScrapeInterval, opts.ScrapeInterval)
	b.WriteString("scrape_configs:\n  - job_name: targets\n    static_configs:\n      - targets: [")
	for i, t := range opts.Targets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", t)
	}
	b.WriteString("]\n")
	return b.String()
}

// Close stops Prometheus and removes its data.
func (s *Server) Close() error {
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.done
				err = errors.New("prometheus did not stop within 10s of SIGTERM and was killed")
			}
		}
	}
	if rmErr := os.RemoveAll(s.dir); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}

// LogTail returns the last n lines of the server's output.
func (s *Server) LogTail(n int) string {
	data, err := os.ReadFile(s.LogPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// NewForTest starts Prometheus for t and stops it when t ends, logging the end of its
// output first if t failed. It fails t when Prometheus cannot start, or skips t when
// $BLUEGREEN_SKIP_PROMETHEUS is 1.
func NewForTest(t testing.TB, opts Options) *Server {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("%s=1: skipping a test that needs Prometheus", SkipEnv)
	}
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("prometheus log (last lines):\n%s", s.LogTail(40))
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func httpOK(url string) (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode == http.StatusOK, fmt.Sprintf("%s: %s", resp.Status, body)
}
