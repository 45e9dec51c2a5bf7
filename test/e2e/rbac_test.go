package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

// generatedRole reads the ClusterRole that controller-gen makes from the RBAC markers.
func generatedRole(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	root, err := cluster.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The ClusterRole is the first document.
	first, err := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data))).Read()
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(first, &role); err != nil || role.Kind != "ClusterRole" {
		t.Fatalf("config/rbac/role.yaml: want a ClusterRole first: %v", err)
	}
	return &role
}

// TestOperatorNeedsOnlyItsGeneratedRole runs the operator as a ServiceAccount bound to
// nothing but the generated role, carries a rollout through, and checks that the account
// can do no more than it needs.
func TestOperatorNeedsOnlyItsGeneratedRole(t *testing.T) {
	e := newEnv(t)
	e.stop()
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(e.c.Config)

	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bluegreen", Namespace: e.ns}}
	if _, err := admin.CoreV1().ServiceAccounts(e.ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role := generatedRole(t)
	role.ObjectMeta = metav1.ObjectMeta{Name: "bluegreen-manager-" + e.ns}
	if _, err := admin.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bluegreen-manager-" + e.ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: e.ns}},
	}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.RbacV1().ClusterRoleBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
		_ = admin.RbacV1().ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{})
	})
	token, err := admin.CoreV1().ServiceAccounts(e.ns).CreateToken(ctx, sa.Name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	asOperator := rest.AnonymousClientConfig(e.c.Config)
	asOperator.BearerToken = token.Status.Token
	asOperator.QPS, asOperator.Burst = e.c.Config.QPS, e.c.Config.Burst

	// What the account must not be able to do.
	operator := kubernetes.NewForConfigOrDie(asOperator)
	for _, attrs := range []authorizationv1.ResourceAttributes{
		{Verb: "list", Resource: "secrets"},
		{Verb: "create", Group: "apps", Resource: "deployments", Namespace: e.ns},
		{Verb: "delete", Resource: "services", Namespace: e.ns},
		{Verb: "update", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
		{Verb: "delete", Resource: "namespaces"},
	} {
		review, err := operator.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx,
			&authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if review.Status.Allowed {
			t.Errorf("the generated role allows %s %s/%s in %q: wider than the operator needs", attrs.Verb, attrs.Group, attrs.Resource, attrs.Namespace)
		}
	}

	e.config = asOperator
	e.start()
	e.services("least")
	ro := e.rollout("least", "least:1", 2)
	ro.Spec.Strategy.BlueGreen.AutoPromotionEnabled = ptr.To(false)
	e.create(ro)
	e.waitPhase("least", v1alpha1.PhaseHealthy, settle)
	e.setImage("least", "least:2")
	e.waitPhase("least", v1alpha1.PhasePaused, settle)
	hash := e.annotate("least", v1alpha1.PromoteAnnotation)
	got := e.waitPhase("least", v1alpha1.PhaseHealthy, settle)
	if got.Status.StableRS != hash || e.selector("least") != hash {
		t.Fatalf("as its ServiceAccount the operator did not carry the rollout through: stable %s, active %s, want %s",
			got.Status.StableRS, e.selector("least"), hash)
	}
	if reasons := e.eventReasons("least"); len(reasons) == 0 {
		t.Fatal("the operator recorded no events as its ServiceAccount")
	} else {
		t.Log(fmt.Sprint("events: ", reasons))
	}
}
