package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// scrape reads the operator's /metrics as Prometheus would.
func scrape(t *testing.T, addr string) (map[string]*dto.MetricFamily, error) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET /metrics: %s: %s", resp.Status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// value finds the sample of family with exactly these labels (among others).
func value(families map[string]*dto.MetricFamily, family string, labels map[string]string) (float64, bool) {
	f := families[family]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			if got[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestMetricsAfterAPromotionAndAnAbort(t *testing.T) {
	e := newEnv(t)
	e.stop()
	e.metricsAddr = freeAddr(t)
	e.start()
	e.services("met")
	ro := e.rollout("met", "met:1", 2)
	ro.Spec.Strategy.BlueGreen.AutoPromotionEnabled = ptr.To(false)
	e.create(ro)
	e.waitPhase("met", v1alpha1.PhaseHealthy, settle)
	e.setImage("met", "met:2")
	e.waitPhase("met", v1alpha1.PhasePaused, settle)
	e.annotate("met", v1alpha1.PromoteAnnotation)
	e.waitPhase("met", v1alpha1.PhaseHealthy, settle)
	e.setImage("met", "met:3")
	e.waitPhase("met", v1alpha1.PhasePaused, settle)
	e.annotate("met", v1alpha1.AbortAnnotation)
	e.waitPhase("met", v1alpha1.PhaseDegraded, settle)

	ours := map[string]string{"namespace": e.ns, "name": "met"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range ours {
			m[a] = b
		}
		return m
	}
	want := []struct {
		family string
		labels map[string]string
		value  float64
	}{
		{"rollout_info", with("phase", "Degraded"), 1},
		{"rollout_info", with("phase", "Healthy"), 0},
		{"rollout_replicas_desired", ours, 2},
		{"rollout_promotions_total", ours, 1},
		{"rollout_aborts_total", with("reason", string(v1alpha1.AbortByUser)), 1},
		{"rollout_promotion_duration_seconds", ours, 1}, // one observation
	}
	e.eventually(settle, "the metrics of the rollout", func() (bool, string) {
		families, err := scrape(t, e.metricsAddr)
		if err != nil {
			return false, err.Error()
		}
		var wrong []string
		for _, w := range want {
			if got, ok := value(families, w.family, w.labels); !ok || got != w.value {
				wrong = append(wrong, fmt.Sprintf("%s%v = %v (found %v), want %v", w.family, w.labels, got, ok, w.value))
			}
		}
		return len(wrong) == 0, strings.Join(wrong, "; ")
	})
	families, err := scrape(t, e.metricsAddr)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range families {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if strings.Contains(l.GetValue(), e.get("met").Status.CurrentPodHash) {
					t.Errorf("%s has a revision hash in label %s=%s: unbounded cardinality", name, l.GetName(), l.GetValue())
				}
			}
		}
	}

	// Deleting the Rollout removes its series.
	if err := e.k8s.Delete(e.ctx(), e.get("met")); err != nil {
		t.Fatal(err)
	}
	e.eventually(settle, "the series of the deleted rollout to go", func() (bool, string) {
		families, err := scrape(t, e.metricsAddr)
		if err != nil {
			return false, err.Error()
		}
		_, found := value(families, "rollout_info", ours)
		return !found, "rollout_info still has the deleted rollout"
	})
}
