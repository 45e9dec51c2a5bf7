package main

import (
	"context"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/test/prometheus"
)

// requestsPerPod is how many requests a second each ready pod answers.
const requestsPerPod = 20

// traffic stands in for api-gateway's pods, which kwok never runs: it counts the
// requests each ready pod would answer, and the 5xx among them by the error ratio of
// the pod's image tag, as the counter http_requests_total{namespace, app,
// rollouts_pod_template_hash, code} that Prometheus scrapes from it.
type traffic struct {
	exporter  *prometheus.Exporter
	cs        kubernetes.Interface
	namespace string
	app       string
	ratios    map[string]float64

	mu     sync.Mutex
	counts map[string]*[2]float64 // hash → {ok, errors}
}

func newTraffic(cs kubernetes.Interface, namespace, app string, ratios map[string]float64) *traffic {
	return &traffic{exporter: prometheus.NewExporter(), cs: cs, namespace: namespace, app: app,
		ratios: ratios, counts: map[string]*[2]float64{}}
}

// Target is the host:port Prometheus scrapes.
func (t *traffic) Target() string { return t.exporter.Target() }

// Close stops serving the counters.
func (t *traffic) Close() { t.exporter.Close() }

// Run counts a tick of requests every 500 ms until ctx ends.
func (t *traffic) Run(ctx context.Context) {
	const tick = 500 * time.Millisecond
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			t.count(ctx, requestsPerPod*tick.Seconds())
		}
	}
}

func (t *traffic) count(ctx context.Context, perPod float64) {
	pods, err := t.cs.CoreV1().Pods(t.namespace).List(ctx, metav1.ListOptions{
		LabelSelector: "app=" + t.app,
		FieldSelector: fields.OneTermEqualSelector("status.phase", string(corev1.PodRunning)).String(),
	})
	if err != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, pod := range pods.Items {
		hash := pod.Labels[v1alpha1.PodTemplateHashLabel]
		if hash == "" || !ready(&pod) || len(pod.Spec.Containers) == 0 {
			continue
		}
		image := pod.Spec.Containers[0].Image
		ratio := t.ratios[image[strings.LastIndexByte(image, ':')+1:]]
		c := t.counts[hash]
		if c == nil {
			c = &[2]float64{}
			t.counts[hash] = c
		}
		c[0] += perPod * (1 - ratio)
		c[1] += perPod * ratio
		labels := map[string]string{"namespace": t.namespace, "app": t.app, "rollouts_pod_template_hash": hash}
		labels["code"] = "200"
		t.exporter.Set("http_requests_total", labels, c[0])
		labels["code"] = "500"
		t.exporter.Set("http_requests_total", labels, c[1])
	}
}

func ready(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
