package cluster_test

import (
	"context"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

// TestDeploymentBacksService checks the whole chain on the real control
// plane: Deployment → ReplicaSet → pods scheduled on kwok nodes → Ready →
// EndpointSlices of a Service, with an unready pod (BehaviourUnready) that
// the Service also selects listed as a not-ready endpoint only.
func TestDeploymentBacksService(t *testing.T) {
	t.Parallel()
	c := shared.Get(t)
	client := clientFor(t, c)
	ns := newNamespace(t, client)
	ctx := t.Context()
	// The Service selects app=web, the Deployment also track=stable: a
	// ReplicaSet would adopt the unready pod if its selector matched it.
	labels := map[string]string{"app": "web", "track": "stable"}

	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       podSpec(corev1.RestartPolicyAlways),
			},
		},
	}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, deploy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	if _, err := client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	unready := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:   "web-unready",
			Labels: map[string]string{"app": "web", cluster.BehaviourLabel: cluster.BehaviourUnready},
		},
		Spec: podSpec(corev1.RestartPolicyAlways),
	}
	if _, err := client.CoreV1().Pods(ns).Create(ctx, unready, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	eventually(t, 60*time.Second, "3 ready pods of Deployment web backing Service web, and web-unready not ready",
		func(ctx context.Context) (bool, string) {
			d, err := client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if d.Status.ReadyReplicas != 3 || d.Status.UpdatedReplicas != 3 {
				return false, fmt.Sprintf("deployment: %d updated, %d ready", d.Status.UpdatedReplicas, d.Status.ReadyReplicas)
			}
			pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
			if err != nil {
				return false, err.Error()
			}
			wantReady := map[string]string{} // pod name → IP
			var unreadyPod *corev1.Pod
			for i := range pods.Items {
				p := &pods.Items[i]
				if !slices.Contains(c.Nodes, p.Spec.NodeName) {
					return false, fmt.Sprintf("pod %s is on node %q, not a kwok node %v", p.Name, p.Spec.NodeName, c.Nodes)
				}
				if p.Name == "web-unready" {
					unreadyPod = p
					continue
				}
				if p.Status.Phase != corev1.PodRunning || !podReady(p) || p.Status.PodIP == "" {
					return false, fmt.Sprintf("pod %s: phase %s, ready %t, IP %q", p.Name, p.Status.Phase, podReady(p), p.Status.PodIP)
				}
				wantReady[p.Name] = p.Status.PodIP
			}
			if len(wantReady) != 3 || unreadyPod == nil {
				return false, fmt.Sprintf("%d deployment pods, unready pod found: %t", len(wantReady), unreadyPod != nil)
			}
			if unreadyPod.Status.Phase != corev1.PodRunning || podReady(unreadyPod) || unreadyPod.Status.PodIP == "" {
				return false, fmt.Sprintf("web-unready: phase %s, ready %t, IP %q (want Running, not ready, with an IP)",
					unreadyPod.Status.Phase, podReady(unreadyPod), unreadyPod.Status.PodIP)
			}

			ready, notReady, err := endpoints(ctx, client, ns, "web")
			if err != nil {
				return false, err.Error()
			}
			if !maps.Equal(ready, wantReady) {
				return false, fmt.Sprintf("ready endpoints %v, want %v", ready, wantReady)
			}
			if notReady["web-unready"] != unreadyPod.Status.PodIP {
				return false, fmt.Sprintf("not-ready endpoints %v, want web-unready=%s", notReady, unreadyPod.Status.PodIP)
			}
			return true, ""
		})

	for _, name := range c.Nodes {
		node, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if node.Labels[cluster.NodeTypeLabel] != cluster.NodeTypeKwok || node.Annotations[cluster.KwokNodeAnnotation] != "fake" {
			t.Errorf("node %s: labels %v, annotations %v; want a kwok node", name, node.Labels, node.Annotations)
		}
	}
}

// TestFlappingPod checks that a BehaviourFlap pod keeps alternating between
// Ready and not Ready, with a growing restart count.
func TestFlappingPod(t *testing.T) {
	t.Parallel()
	c := shared.Get(t)
	client := clientFor(t, c)
	ns := newNamespace(t, client)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "flappy", Labels: map[string]string{cluster.BehaviourLabel: cluster.BehaviourFlap}},
		Spec:       podSpec(corev1.RestartPolicyAlways),
	}
	if _, err := client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Record each change of readiness; want Ready, not Ready, Ready again.
	var seen []string
	eventually(t, 45*time.Second, "pod flappy to turn Ready, not Ready and Ready again with restarts",
		func(ctx context.Context) (bool, string) {
			p, err := client.CoreV1().Pods(ns).Get(ctx, "flappy", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if p.Status.Phase != corev1.PodRunning {
				return false, fmt.Sprintf("phase %s", p.Status.Phase)
			}
			restarts := int32(0)
			for _, cs := range p.Status.ContainerStatuses {
				restarts = cs.RestartCount
			}
			state := fmt.Sprintf("ready=%t", podReady(p))
			if len(seen) == 0 || !strings.HasPrefix(seen[len(seen)-1], state) {
				if podReady(p) || len(seen) > 0 { // the history starts at the first Ready
					seen = append(seen, fmt.Sprintf("%s(restarts=%d)", state, restarts))
				}
			}
			history := strings.Join(seen, " → ")
			if len(seen) >= 3 && restarts >= 1 && slices.Contains(c.Nodes, p.Spec.NodeName) && p.Status.PodIP != "" {
				t.Logf("pod flappy: %s", history)
				return true, ""
			}
			return false, fmt.Sprintf("history %s; now restarts=%d node=%q ip=%q", history, restarts, p.Spec.NodeName, p.Status.PodIP)
		})
}

// TestJobs checks that a Job's pod completes (the standard pod-complete stage)
// unless its template carries BehaviourFail, in which case the Job fails.
func TestJobs(t *testing.T) {
	t.Parallel()
	c := shared.Get(t)
	client := clientFor(t, c)
	ns := newNamespace(t, client)

	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   batchv1.JobConditionType
	}{
		{"succeeds", nil, batchv1.JobComplete},
		{"fails", map[string]string{cluster.BehaviourLabel: cluster.BehaviourFail}, batchv1.JobFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			job := &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: tc.name},
				Spec: batchv1.JobSpec{
					BackoffLimit: ptr.To[int32](0),
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: tc.labels},
						Spec:       podSpec(corev1.RestartPolicyNever),
					},
				},
			}
			if _, err := client.BatchV1().Jobs(ns).Create(t.Context(), job, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			eventually(t, 60*time.Second, fmt.Sprintf("Job %s to be %s", tc.name, tc.want), func(ctx context.Context) (bool, string) {
				j, err := client.BatchV1().Jobs(ns).Get(ctx, tc.name, metav1.GetOptions{})
				if err != nil {
					return false, err.Error()
				}
				var conds []string
				for _, cond := range j.Status.Conditions {
					if cond.Status != corev1.ConditionTrue {
						continue
					}
					if cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed {
						if cond.Type != tc.want {
							t.Fatalf("Job %s is %s (%s: %s), want %s", tc.name, cond.Type, cond.Reason, cond.Message, tc.want)
						}
						wantSucceeded, wantFailed := int32(1), int32(0)
						if tc.want == batchv1.JobFailed {
							wantSucceeded, wantFailed = 0, 1
						}
						if j.Status.Succeeded != wantSucceeded || j.Status.Failed != wantFailed {
							t.Fatalf("Job %s is %s with %d succeeded and %d failed pods, want %d and %d",
								tc.name, cond.Type, j.Status.Succeeded, j.Status.Failed, wantSucceeded, wantFailed)
						}
						return true, ""
					}
					conds = append(conds, string(cond.Type))
				}
				return false, fmt.Sprintf("active=%d succeeded=%d failed=%d conditions=%v",
					j.Status.Active, j.Status.Succeeded, j.Status.Failed, conds)
			})
		})
	}
}

// TestKubeconfigWorksWithKubectl checks that bin/kubectl can use the
// cluster's kubeconfig.
func TestKubeconfigWorksWithKubectl(t *testing.T) {
	t.Parallel()
	c := shared.Get(t)
	dir, err := cluster.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), filepath.Join(dir, "kubectl"),
		"--kubeconfig", c.KubeconfigPath, "get", "nodes", "-o", "name").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get nodes: %v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	var want []string
	for _, n := range c.Nodes {
		want = append(want, "node/"+n)
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("kubectl get nodes -o name = %v, want %v", got, want)
	}
}

// TestCRDsInstalled checks that Start installed the CRDs of
// Options.CRDDirectoryPaths: their objects can be created and are validated.
func TestCRDsInstalled(t *testing.T) {
	t.Parallel()
	c := shared.Get(t)
	ns := newNamespace(t, clientFor(t, c))
	checkWidgets(t, c.Config, ns)
}

// checkWidgets checks that the Widget CRD of testdata/crds is served at cfg:
// a valid Widget is stored, an invalid one rejected by its schema.
func checkWidgets(t *testing.T, cfg *rest.Config, ns string) {
	t.Helper()
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	widgets := client.Resource(schema.GroupVersionResource{Group: "test.bluegreen.dev", Version: "v1", Resource: "widgets"}).Namespace(ns)
	widget := func(name string, size int64) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "test.bluegreen.dev/v1",
			"kind":       "Widget",
			"metadata":   map[string]any{"name": name},
			"spec":       map[string]any{"size": size},
		}}
	}
	if _, err := widgets.Create(t.Context(), widget("good", 3), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a valid Widget: %v", err)
	}
	if _, err := widgets.Create(t.Context(), widget("bad", 0), metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("creating a Widget of size 0: got %v, want an Invalid error from the CRD schema (minimum 1)", err)
	}
}

// eventually polls check every 100 ms until it reports done, and fails t
// with what check last reported if that takes longer than timeout.
func eventually(t *testing.T, timeout time.Duration, what string, check func(ctx context.Context) (done bool, seen string)) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		done, seen := check(ctx)
		last = seen
		return done, nil
	})
	if err != nil {
		t.Fatalf("gave up after %s waiting for %s; last seen: %s", timeout, what, last)
	}
}

func clientFor(t *testing.T, c *cluster.Cluster) kubernetes.Interface {
	t.Helper()
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// newNamespace creates a namespace for t, waits until pods can be created in
// it (its default ServiceAccount exists) and deletes it when t ends.
func newNamespace(t *testing.T, client kubernetes.Interface) string {
	t.Helper()
	ns, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "test-" + strings.ToLower(t.Name()) + "-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	eventually(t, 30*time.Second, "ServiceAccount default in "+ns.Name, func(ctx context.Context) (bool, string) {
		_, err := client.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	return ns.Name
}

func podSpec(restart corev1.RestartPolicy) corev1.PodSpec {
	return corev1.PodSpec{
		RestartPolicy: restart,
		Containers: []corev1.Container{{
			Name:  "app",
			Image: "registry.invalid/app:1", // never pulled: kwok runs no containers
			Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
		}},
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// endpoints returns the ready and the not-ready endpoints (pod name → IP) of
// the EndpointSlices of a Service.
func endpoints(ctx context.Context, client kubernetes.Interface, ns, service string) (ready, notReady map[string]string, err error) {
	slices, err := client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + service,
	})
	if err != nil {
		return nil, nil, err
	}
	ready, notReady = map[string]string{}, map[string]string{}
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			if e.TargetRef == nil || e.TargetRef.Kind != "Pod" || len(e.Addresses) != 1 {
				return nil, nil, fmt.Errorf("unexpected endpoint %+v in EndpointSlice %s", e, s.Name)
			}
			if ptr.Deref(e.Conditions.Ready, false) {
				ready[e.TargetRef.Name] = e.Addresses[0]
			} else {
				notReady[e.TargetRef.Name] = e.Addresses[0]
			}
		}
	}
	return ready, notReady, nil
}
