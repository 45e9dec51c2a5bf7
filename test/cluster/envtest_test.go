package cluster_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen-dev/bluegreen/test/cluster"
)

// TestEnvtestStoresObjects checks that envtest runs a real kube-apiserver:
// an object written through it can be read back, and the CRDs given are
// served and validate their objects.
func TestEnvtestStoresObjects(t *testing.T) {
	t.Parallel()
	e := cluster.NewEnvtestForTest(t, cluster.EnvtestOptions{CRDDirectoryPaths: []string{"testdata/crds"}})
	client, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "greeting", Namespace: metav1.NamespaceDefault},
		Data:       map[string]string{"hello": "world"},
	}
	if _, err := client.CoreV1().ConfigMaps(cm.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := client.CoreV1().ConfigMaps(cm.Namespace).Get(ctx, cm.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["hello"] != "world" || got.UID == "" || got.ResourceVersion == "" {
		t.Errorf("read back ConfigMap %+v, want data hello=world stored with a UID and resourceVersion", got)
	}
	checkWidgets(t, e.Config, metav1.NamespaceDefault)
}
