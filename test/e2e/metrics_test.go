package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
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
	ports, err := cluster.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", ports[0])
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

// TestSecureMetricsNeedAnAuthorizedToken serves /metrics as cmd/manager does by default:
// over HTTPS, and only to a token whose account may get /metrics.
func TestSecureMetricsNeedAnAuthorizedToken(t *testing.T) {
	e := newEnv(t)
	e.stop()
	e.metricsAddr, e.secureMetrics = freeAddr(t), true
	e.start()
	ctx := e.ctx()
	admin := kubernetes.NewForConfigOrDie(e.c.Config)
	token := func(name string) string {
		if _, err := admin.CoreV1().ServiceAccounts(e.ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		tr, err := admin.CoreV1().ServiceAccounts(e.ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	reader, stranger := token("prometheus"), token("stranger")
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader-" + e.ns},
		Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader-" + e.ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: e.ns}}}
	if _, err := admin.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.RbacV1().ClusterRoleBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
		_ = admin.RbacV1().ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{})
	})

	// The serving certificate is self-signed, as on a cluster without cert-manager.
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test only
	get := func(bearer string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+e.metricsAddr+"/metrics", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := insecure.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, c := range []struct {
		who    string
		bearer string
		want   int
	}{{"no token", "", http.StatusUnauthorized}, {"a token without the role", stranger, http.StatusForbidden}, {"the metrics reader", reader, http.StatusOK}} {
		e.eventually(settle, "GET /metrics with "+c.who+" to answer "+http.StatusText(c.want), func() (bool, string) {
			code, body := get(c.bearer)
			if len(body) > 200 {
				body = body[:200]
			}
			return code == c.want, fmt.Sprintf("%d: %s", code, body)
		})
	}
	if code, body := get(reader); code != http.StatusOK || !strings.Contains(body, "rollout_") && !strings.Contains(body, "controller_runtime") {
		t.Fatalf("the metrics reader got %d without the operator's metrics", code)
	}
}
