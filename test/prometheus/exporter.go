package prometheus

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Exporter serves series in the Prometheus text exposition format at /metrics; the
// caller sets and removes them while Prometheus scrapes.
type Exporter struct {
	server *httptest.Server
	mu     sync.Mutex
	series map[string]float64 // `name{labels}` → value
}

// NewExporter starts an exporter on a free port of 127.0.0.1.
func NewExporter() *Exporter {
	e := &Exporter{series: map[string]float64{}}
	e.server = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// NewExporterForTest starts an exporter that stops when t ends.
func NewExporterForTest(t testing.TB) *Exporter {
	e := NewExporter()
	t.Cleanup(e.Close)
	return e
}

// Target is the exporter's host:port, for Options.Targets.
func (e *Exporter) Target() string { return strings.TrimPrefix(e.server.URL, "http://") }

// Close stops the exporter.
func (e *Exporter) Close() { e.server.Close() }

// Set sets a gauge: Set("error_ratio", map[string]string{"hash": "abc"}, 0.2).
func (e *Exporter) Set(name string, labels map[string]string, value float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.series[seriesKey(name, labels)] = value
}

// Delete removes a series.
func (e *Exporter) Delete(name string, labels map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.series, seriesKey(name, labels))
}

func seriesKey(name string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%s", k, strconv.Quote(labels[k]))
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

func (e *Exporter) serve(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	keys := make([]string, 0, len(e.series))
	for k := range e.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	typed := map[string]bool{}
	for _, k := range keys {
		name := k[:strings.IndexByte(k, '{')]
		if !typed[name] {
			fmt.Fprintf(&b, "# TYPE %s gauge\n", name)
			typed[name] = true
		}
		fmt.Fprintf(&b, "%s %s\n", k, strconv.FormatFloat(e.series[k], 'g', -1, 64))
	}
	e.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte(b.String()))
}
