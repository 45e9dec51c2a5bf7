package controllers_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/controllers"
	"github.com/bluegreen-dev/bluegreen/pkg/planner"
)

// TestBuildResolvesTheGatesArguments: the run gets the templates' metrics, the Rollout's
// values for the arguments (the revision's hash, a field of the Rollout), a Secret as a
// reference only, and labels and an owner that tie it to the Rollout and the revision.
func TestBuildResolvesTheGatesArguments(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	tmpl := &v1alpha1.AnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "errors", Namespace: ns},
		Spec: v1alpha1.AnalysisTemplateSpec{
			Args: []v1alpha1.Argument{
				{Name: "hash"}, {Name: "stable"}, {Name: "token"},
				{Name: "app", ValueFrom: &v1alpha1.ValueFrom{FieldRef: &v1alpha1.FieldRef{FieldPath: "metadata.labels['app.kubernetes.io/name']"}}},
				{Name: "window", Value: ptr.To("5m")},
			},
			Metrics: []v1alpha1.Metric{{Name: "error-ratio", SuccessCondition: "result[0] < 0.05",
				Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Address: "http://prom:9090",
					Query: `sum(rate(errors{app="{{args.app}}",hash="{{args.hash}}"}[{{args.window}}]))`}}}},
		},
	}
	if err := k8s.Create(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	ro := rollout(ns, "shop")
	ro.UID = "0b6c3f4e-0000-4000-8000-000000000001"
	ro.Labels = map[string]string{"app.kubernetes.io/name": "shop"}
	ro.Status.StableRS = "old1"
	latest, stable := v1alpha1.Latest, v1alpha1.Stable
	gate := &v1alpha1.RolloutAnalysis{
		Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "errors"}},
		Args: []v1alpha1.AnalysisRunArgument{
			{Name: "hash", ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: &latest}},
			{Name: "stable", ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: &stable}},
			{Name: "token", ValueFrom: &v1alpha1.ArgumentValueFrom{SecretKeyRef: &v1alpha1.SecretKeyRef{Name: "api", Key: "token"}}},
		},
	}
	b := &controllers.AnalysisRunBuilder{Client: k8s}
	run, err := b.Build(ctx, ro, planner.StartAnalysisRun{Name: "shop-new2-pre-1", Type: v1alpha1.AnalysisTypePrePromotion, Revision: "new2", Analysis: gate})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, a := range run.Spec.Args {
		if a.Value != nil {
			values[a.Name] = *a.Value
		} else if a.ValueFrom != nil && a.ValueFrom.SecretKeyRef != nil {
			values[a.Name] = "secret:" + a.ValueFrom.SecretKeyRef.Name
		}
	}
	want := map[string]string{"hash": "new2", "stable": "old1", "token": "secret:api", "app": "shop", "window": "5m"}
	for k, v := range want {
		if values[k] != v {
			t.Errorf("argument %s = %q, want %q (all: %v)", k, values[k], v, values)
		}
	}
	if run.Labels[v1alpha1.RolloutLabel] != "shop" || run.Labels[v1alpha1.PodTemplateHashLabel] != "new2" ||
		run.Labels[v1alpha1.AnalysisTypeLabel] != v1alpha1.AnalysisTypePrePromotion || !metav1.IsControlledBy(run, ro) {
		t.Errorf("run labels %v owner %v", run.Labels, run.OwnerReferences)
	}

	// Bad input names the field and the fix.
	bad := gate.DeepCopy()
	bad.Args = append(bad.Args, v1alpha1.AnalysisRunArgument{Name: "typo", Value: ptr.To("x")})
	if _, err := b.Build(ctx, ro, planner.StartAnalysisRun{Name: "x", Type: v1alpha1.AnalysisTypePrePromotion, Revision: "new2", Analysis: bad}); err == nil ||
		!strings.Contains(err.Error(), `argument "typo" is not declared`) {
		t.Errorf("undeclared argument: %v", err)
	}
	missing := gate.DeepCopy()
	missing.Args = missing.Args[:1]
	if _, err := b.Build(ctx, ro, planner.StartAnalysisRun{Name: "x", Type: v1alpha1.AnalysisTypePostPromotion, Revision: "new2", Analysis: missing}); err == nil ||
		!strings.Contains(err.Error(), "spec.strategy.blueGreen.postPromotionAnalysis.args") {
		t.Errorf("argument without a value: %v", err)
	}
}
