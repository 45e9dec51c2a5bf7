package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Scheme knows the built-in kinds and ours.
var Scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// Target is a client and the namespace the command acts in.
type Target struct {
	Client    client.Client
	Namespace string
}

// target builds the client from the kubectl flags (--kubeconfig, --context, -n, …).
func (a *app) target() (*Target, error) {
	cfg, err := a.kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	ns, _, err := a.kube.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: Scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	return &Target{Client: c, Namespace: ns}, nil
}

// GetRollout reads a Rollout, with an error that says what to do when it is not there.
func (t *Target) GetRollout(ctx context.Context, name string) (*v1alpha1.Rollout, error) {
	var ro v1alpha1.Rollout
	if err := t.Client.Get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: name}, &ro); err != nil {
		return nil, t.explain(err, "rollout", name)
	}
	return &ro, nil
}

// explain turns an API error into one line that says what to do.
func (t *Target) explain(err error, kind, name string) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s %q not found in namespace %q: check the name, or pass -n NAMESPACE (kubectl bluegreen list -A shows every rollout)", kind, name, t.Namespace)
	case meta.IsNoMatchError(err) || runtime.IsNotRegisteredError(err):
		return fmt.Errorf("the cluster does not know %ss of rollouts.bluegreen.dev: install the bluegreen CRDs (config/crd) first", kind)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("not allowed to read %s %q in namespace %q: %v", kind, name, t.Namespace, apierrors.ReasonForError(err))
	}
	return fmt.Errorf("reading %s %q: %w", kind, name, err)
}

// Snapshot is a Rollout and what it owns, as the renderers need it.
type Snapshot struct {
	Rollout      *v1alpha1.Rollout
	ReplicaSets  []appsv1.ReplicaSet
	Pods         []corev1.Pod
	AnalysisRuns []v1alpha1.AnalysisRun
}

// Load reads a Rollout with its ReplicaSets, their pods and its AnalysisRuns.
func (t *Target) Load(ctx context.Context, name string) (*Snapshot, error) {
	ro, err := t.GetRollout(ctx, name)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Rollout: ro}
	var rss appsv1.ReplicaSetList
	if err := t.Client.List(ctx, &rss, client.InNamespace(t.Namespace)); err != nil {
		return nil, fmt.Errorf("listing the ReplicaSets of rollout %q: %w", name, err)
	}
	owned := map[string]bool{}
	for _, rs := range rss.Items {
		if ownedBy(rs.OwnerReferences, ro) {
			snap.ReplicaSets = append(snap.ReplicaSets, rs)
			owned[rs.Name] = true
		}
	}
	if len(owned) > 0 {
		var pods corev1.PodList
		if err := t.Client.List(ctx, &pods, client.InNamespace(t.Namespace), client.HasLabels{v1alpha1.PodTemplateHashLabel}); err != nil {
			return nil, fmt.Errorf("listing the pods of rollout %q: %w", name, err)
		}
		for _, pod := range pods.Items {
			if ref := controllerReplicaSet(pod.OwnerReferences); ref != "" && owned[ref] {
				snap.Pods = append(snap.Pods, pod)
			}
		}
	}
	var runs v1alpha1.AnalysisRunList
	if err := t.Client.List(ctx, &runs, client.InNamespace(t.Namespace), client.MatchingLabels{v1alpha1.RolloutLabel: name}); err != nil && !meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("listing the AnalysisRuns of rollout %q: %w", name, err)
	}
	snap.AnalysisRuns = runs.Items
	return snap, nil
}

func ownedBy(refs []metav1.OwnerReference, ro *v1alpha1.Rollout) bool {
	for _, ref := range refs {
		if ref.Kind == "Rollout" && ref.Name == ro.Name && (ro.UID == "" || ref.UID == ro.UID) {
			return true
		}
	}
	return false
}

func controllerReplicaSet(refs []metav1.OwnerReference) string {
	for _, ref := range refs {
		if ref.Kind == "ReplicaSet" && ref.Controller != nil && *ref.Controller {
			return ref.Name
		}
	}
	return ""
}

// revisionOf is a ReplicaSet's revision number, 0 when it has none.
func revisionOf(rs *appsv1.ReplicaSet) int64 {
	n, _ := strconv.ParseInt(rs.Annotations[v1alpha1.RevisionAnnotation], 10, 64)
	return n
}

// hashOf is a ReplicaSet's pod template hash.
func hashOf(rs *appsv1.ReplicaSet) string { return rs.Labels[v1alpha1.PodTemplateHashLabel] }

// byRevision sorts ReplicaSets newest revision first.
func byRevision(rss []appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	out := make([]*appsv1.ReplicaSet, len(rss))
	for i := range rss {
		out[i] = &rss[i]
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := revisionOf(out[i]), revisionOf(out[j]); a != b {
			return a > b
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// replicaSetOf returns the ReplicaSet of a revision hash, or nil.
func (s *Snapshot) replicaSetOf(hash string) *appsv1.ReplicaSet {
	for i := range s.ReplicaSets {
		if hash != "" && hashOf(&s.ReplicaSets[i]) == hash {
			return &s.ReplicaSets[i]
		}
	}
	return nil
}

// describeRevision names a revision as "revision 3 (abc123)", or the hash alone.
func (s *Snapshot) describeRevision(hash string) string {
	if rs := s.replicaSetOf(hash); rs != nil && revisionOf(rs) > 0 {
		return fmt.Sprintf("revision %d (%s)", revisionOf(rs), hash)
	}
	return "revision " + hash
}
