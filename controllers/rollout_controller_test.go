package controllers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/controllers"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

// These tests run the operator against a real kube-apiserver and etcd (envtest). No
// ReplicaSet controller runs there, so the tests play its part by writing ReplicaSet
// status themselves.

var k8s client.Client

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if os.Getenv("BLUEGREEN_SKIP_CLUSTER") == "1" {
		fmt.Println("BLUEGREEN_SKIP_CLUSTER=1: skipping the API server tests")
		return 0
	}
	env, err := cluster.StartEnvtest(cluster.EnvtestOptions{
		CRDDirectoryPaths: []string{filepath.Join("..", "config", "crd", "bases")},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  controllers.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := controllers.Setup(ctx, mgr, controllers.Options{RolloutWorkers: 4}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	if k8s, err = client.New(env.Config, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func namespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "it-"}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

func eventually(t *testing.T, timeout time.Duration, what string, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, last := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
}

func service(ns, name string, selector map[string]string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       corev1.ServiceSpec{Selector: selector, Ports: []corev1.ServicePort{{Port: 80}}},
	}
}

func rollout(ns, name string) *v1alpha1.Rollout {
	labels := map[string]string{"app": name}
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.RolloutSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
			},
			Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{
				ActiveService: name, PreviewService: name + "-preview",
			}},
		},
	}
}

// makeAvailable plays the ReplicaSet controller: every ReplicaSet of the namespace reports
// its spec replicas as ready and available.
func makeAvailable(t *testing.T, ns string) {
	t.Helper()
	var list appsv1.ReplicaSetList
	if err := k8s.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, rs := range list.Items {
		n := ptr.Deref(rs.Spec.Replicas, 0)
		if rs.Status.AvailableReplicas == n && rs.Status.ObservedGeneration == rs.Generation {
			continue
		}
		rs.Status = appsv1.ReplicaSetStatus{Replicas: n, FullyLabeledReplicas: n, ReadyReplicas: n, AvailableReplicas: n, ObservedGeneration: rs.Generation}
		if err := k8s.Status().Update(context.Background(), &rs); err != nil && !strings.Contains(err.Error(), "modified") {
			t.Fatal(err)
		}
	}
}

func TestFirstDeployAndUpdateSwitchServicesAndOwnReplicaSets(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	for _, name := range []string{"web", "web-preview"} {
		if err := k8s.Create(ctx, service(ns, name, map[string]string{"app": "web"})); err != nil {
			t.Fatal(err)
		}
	}
	ro := rollout(ns, "web")
	if err := k8s.Create(ctx, ro); err != nil {
		t.Fatal(err)
	}

	var first string
	eventually(t, 20*time.Second, "the first revision to be active", func() (bool, string) {
		makeAvailable(t, ns)
		var got v1alpha1.Rollout
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ro), &got); err != nil {
			return false, err.Error()
		}
		first = got.Status.CurrentPodHash
		var active corev1.Service
		_ = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &active)
		return got.Status.Phase == v1alpha1.PhaseHealthy && first != "" && active.Spec.Selector[v1alpha1.PodTemplateHashLabel] == first,
			fmt.Sprintf("phase %s hash %s active selector %v: %s", got.Status.Phase, first, active.Spec.Selector, got.Status.Message)
	})

	var list appsv1.ReplicaSetList
	if err := k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("want 1 ReplicaSet, got %d", len(list.Items))
	}
	rs := list.Items[0]
	if ref := metav1.GetControllerOf(&rs); ref == nil || ref.Kind != "Rollout" || ref.Name != "web" {
		t.Errorf("ReplicaSet %s is controlled by %v, want Rollout web", rs.Name, ref)
	}
	if rs.Labels[v1alpha1.PodTemplateHashLabel] != first || rs.Spec.Selector.MatchLabels[v1alpha1.PodTemplateHashLabel] != first ||
		rs.Spec.Template.Labels[v1alpha1.PodTemplateHashLabel] != first {
		t.Errorf("ReplicaSet %s does not carry its hash %s in labels, selector and template", rs.Name, first)
	}
	var svc corev1.Service
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &svc); err != nil {
		t.Fatal(err)
	}
	if svc.Annotations[v1alpha1.ManagedByAnnotation] != "web" || svc.Spec.Selector["app"] != "web" {
		t.Errorf("active Service after the first switch: annotations %v selector %v", svc.Annotations, svc.Spec.Selector)
	}

	// A new template: preview first, then active once available.
	var cur v1alpha1.Rollout
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(ro), &cur); err != nil {
		t.Fatal(err)
	}
	cur.Spec.Template.Spec.Containers[0].Image = "app:2"
	if err := k8s.Update(ctx, &cur); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the second revision to be active and stable", func() (bool, string) {
		makeAvailable(t, ns)
		var got v1alpha1.Rollout
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(ro), &got)
		return got.Status.Phase == v1alpha1.PhaseHealthy && got.Status.StableRS != first && got.Status.StableRS == got.Status.CurrentPodHash &&
				got.Status.BlueGreen.ActiveSelector == got.Status.CurrentPodHash,
			fmt.Sprintf("phase %s stable %s current %s active %s", got.Status.Phase, got.Status.StableRS, got.Status.CurrentPodHash, got.Status.BlueGreen.ActiveSelector)
	})

	// Deleting the Rollout gives the Services back.
	if err := k8s.Delete(ctx, &cur); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the Services to be released", func() (bool, string) {
		var svcs corev1.ServiceList
		_ = k8s.List(ctx, &svcs, client.InNamespace(ns))
		for _, s := range svcs.Items {
			if _, ok := s.Spec.Selector[v1alpha1.PodTemplateHashLabel]; ok || s.Annotations[v1alpha1.ManagedByAnnotation] != "" || s.Labels[v1alpha1.RolloutLabel] != "" {
				return false, fmt.Sprintf("%s: selector %v annotations %v", s.Name, s.Spec.Selector, s.Annotations)
			}
		}
		return true, ""
	})
}

func TestInvalidSpecTouchesNothing(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		services func(ns string) []client.Object
		setup    func(t *testing.T, ns string)
		want     []string // the message names the field and the fix
	}{
		{
			name: "missing active Service",
			services: func(ns string) []client.Object {
				return []client.Object{service(ns, "web-preview", map[string]string{"app": "web"})}
			},
			want: []string{"spec.strategy.blueGreen.activeService", `"web"`},
		},
		{
			name: "Service selector key the template lacks",
			services: func(ns string) []client.Object {
				return []client.Object{
					service(ns, "web", map[string]string{"app": "web", "tier": "frontend"}),
					service(ns, "web-preview", map[string]string{"app": "web"}),
				}
			},
			want: []string{"tier"},
		},
		{
			name: "Service managed by another Rollout",
			services: func(ns string) []client.Object {
				return []client.Object{
					service(ns, "web", map[string]string{"app": "web"}),
					service(ns, "web-preview", map[string]string{"app": "web"}),
					service(ns, "other-preview", map[string]string{"app": "web"}),
				}
			},
			// Rollout "other" takes the active Service "web" first.
			setup: func(t *testing.T, ns string) {
				other := rollout(ns, "other")
				other.Spec.Selector.MatchLabels = map[string]string{"app": "web"}
				other.Spec.Template.Labels = map[string]string{"app": "web"}
				other.Spec.Strategy.BlueGreen.ActiveService = "web"
				if err := k8s.Create(context.Background(), other); err != nil {
					t.Fatal(err)
				}
				// Settled: both its Services managed and Healthy, so that what changes after
				// this is the invalid Rollout's doing.
				eventually(t, 20*time.Second, "Rollout other to manage Services web and other-preview and be Healthy", func() (bool, string) {
					makeAvailable(t, ns)
					var active, preview corev1.Service
					var ro v1alpha1.Rollout
					_ = k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, &active)
					_ = k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "other-preview"}, &preview)
					_ = k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "other"}, &ro)
					return active.Annotations[v1alpha1.ManagedByAnnotation] == "other" && preview.Annotations[v1alpha1.ManagedByAnnotation] == "other" &&
							ro.Status.Phase == v1alpha1.PhaseHealthy,
						fmt.Sprintf("web %v, other-preview %v, phase %s", active.Annotations, preview.Annotations, ro.Status.Phase)
				})
			},
			want: []string{`managed by Rollout "other"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := namespace(t)
			for _, obj := range tc.services(ns) {
				if err := k8s.Create(ctx, obj); err != nil {
					t.Fatal(err)
				}
			}
			if tc.setup != nil {
				tc.setup(t, ns)
			}
			before := map[string]string{}
			var svcs corev1.ServiceList
			if err := k8s.List(ctx, &svcs, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			for _, svc := range svcs.Items {
				before[svc.Name] = svc.ResourceVersion
			}
			var existing appsv1.ReplicaSetList
			if err := k8s.List(ctx, &existing, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			ro := rollout(ns, "web")
			if err := k8s.Create(ctx, ro); err != nil {
				t.Fatal(err)
			}
			var got v1alpha1.Rollout
			eventually(t, 20*time.Second, "InvalidSpec", func() (bool, string) {
				_ = k8s.Get(ctx, client.ObjectKeyFromObject(ro), &got)
				cond := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionInvalidSpec)
				return cond != nil && cond.Status == metav1.ConditionTrue && got.Status.Phase == v1alpha1.PhaseDegraded,
					fmt.Sprintf("phase %s conditions %v", got.Status.Phase, got.Status.Conditions)
			})
			msg := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionInvalidSpec).Message
			for _, want := range tc.want {
				if !strings.Contains(msg, want) {
					t.Errorf("InvalidSpec message %q does not mention %q", msg, want)
				}
			}
			var rss appsv1.ReplicaSetList
			if err := k8s.List(ctx, &rss, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			if len(rss.Items) != len(existing.Items) {
				t.Errorf("an invalid Rollout created %d ReplicaSets", len(rss.Items)-len(existing.Items))
			}
			for name, rv := range before {
				var svc corev1.Service
				if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &svc); err != nil {
					t.Fatal(err)
				}
				if svc.ResourceVersion != rv {
					t.Errorf("an invalid Rollout changed Service %s: selector %v annotations %v", name, svc.Spec.Selector, svc.Annotations)
				}
			}
		})
	}
}

func TestServiceNoLongerReferencedIsReleased(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	for _, name := range []string{"web", "web-preview", "web-v2"} {
		if err := k8s.Create(ctx, service(ns, name, map[string]string{"app": "web"})); err != nil {
			t.Fatal(err)
		}
	}
	ro := rollout(ns, "web")
	if err := k8s.Create(ctx, ro); err != nil {
		t.Fatal(err)
	}
	managed := func(name string) (bool, string) {
		var svc corev1.Service
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &svc); err != nil {
			return false, err.Error()
		}
		_, hash := svc.Spec.Selector[v1alpha1.PodTemplateHashLabel]
		return hash && svc.Annotations[v1alpha1.ManagedByAnnotation] == "web" && svc.Labels[v1alpha1.RolloutLabel] == "web",
			fmt.Sprintf("%s: selector %v annotations %v labels %v", name, svc.Spec.Selector, svc.Annotations, svc.Labels)
	}
	eventually(t, 20*time.Second, "Service web to be managed", func() (bool, string) {
		makeAvailable(t, ns)
		return managed("web")
	})

	// The Rollout moves to another active Service: the old one is given back as it was.
	eventually(t, 10*time.Second, "the Rollout to move to Service web-v2", func() (bool, string) {
		var cur v1alpha1.Rollout
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ro), &cur); err != nil {
			return false, err.Error()
		}
		cur.Spec.Strategy.BlueGreen.ActiveService = "web-v2"
		err := k8s.Update(ctx, &cur)
		return err == nil, fmt.Sprint(err)
	})
	eventually(t, 20*time.Second, "Service web-v2 to be managed and web released", func() (bool, string) {
		makeAvailable(t, ns)
		if ok, state := managed("web-v2"); !ok {
			return false, state
		}
		var old corev1.Service
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &old); err != nil {
			return false, err.Error()
		}
		_, hash := old.Spec.Selector[v1alpha1.PodTemplateHashLabel]
		return !hash && old.Annotations[v1alpha1.ManagedByAnnotation] == "" && old.Labels[v1alpha1.RolloutLabel] == "" && old.Spec.Selector["app"] == "web",
			fmt.Sprintf("web: selector %v annotations %v labels %v", old.Spec.Selector, old.Annotations, old.Labels)
	})
}
