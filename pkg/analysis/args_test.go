package analysis

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

func secrets(values map[string]string) SecretReader {
	return func(_ context.Context, name, key string) (string, error) {
		v, ok := values[name+"/"+key]
		if !ok {
			return "", errors.New("Secret " + name + " has no key " + key)
		}
		return v, nil
	}
}

func TestResolveArgsSubstitutesAndMasksSecrets(t *testing.T) {
	args, err := ResolveArgs(context.Background(), []v1alpha1.Argument{
		{Name: "service", Value: ptr.To("checkout")},
		{Name: "token", ValueFrom: &v1alpha1.ValueFrom{SecretKeyRef: &v1alpha1.SecretKeyRef{Name: "api", Key: "token"}}},
	}, secrets(map[string]string{"api/token": "s3cr3t"}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := args.Substitute(`rate(errors{service="{{args.service}}"}[1m]) {{ args.service }}`)
	if err != nil || got != `rate(errors{service="checkout"}[1m]) checkout` {
		t.Errorf("Substitute = %q, %v", got, err)
	}
	m, err := args.SubstituteMetric(v1alpha1.Metric{Name: "m", SuccessCondition: `result == "{{args.service}}"`,
		Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: "http://x/{{args.service}}",
			Headers: []v1alpha1.WebMetricHeader{{Key: "Authorization", Value: "Bearer {{args.token}}"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Provider.Web.URL != "http://x/checkout" || m.Provider.Web.Headers[0].Value != "Bearer s3cr3t" || m.SuccessCondition != `result == "checkout"` {
		t.Errorf("SubstituteMetric = %+v", m.Provider.Web)
	}
	if got := args.Mask("GET http://x/?t=s3cr3t failed"); got != "GET http://x/?t=***** failed" {
		t.Errorf("Mask = %q", got)
	}
	meas := v1alpha1.Measurement{Message: "401 for s3cr3t", Value: "s3cr3t"}
	args.MaskMeasurement(&meas)
	if strings.Contains(meas.Message+meas.Value, "s3cr3t") {
		t.Errorf("a secret reached the measurement: %+v", meas)
	}
	if _, err := args.Substitute("{{args.missing}}"); err == nil || !strings.Contains(err.Error(), "{{args.missing}} is not an argument of the run") {
		t.Errorf("missing argument: %v", err)
	}
}

func TestResolveArgsErrorsNameTheArgument(t *testing.T) {
	cases := []struct {
		arg  v1alpha1.Argument
		want string
	}{
		{v1alpha1.Argument{Name: "a"}, `args[0] "a" has no value: give value or valueFrom`},
		{v1alpha1.Argument{Name: "a", ValueFrom: &v1alpha1.ValueFrom{SecretKeyRef: &v1alpha1.SecretKeyRef{Name: "api", Key: "nope"}}},
			`args[0] "a": valueFrom.secretKeyRef: Secret api has no key nope`},
		{v1alpha1.Argument{Name: "a", ValueFrom: &v1alpha1.ValueFrom{FieldRef: &v1alpha1.FieldRef{FieldPath: "metadata.name"}}},
			"resolved only when a Rollout starts the run"},
	}
	for _, tc := range cases {
		_, err := ResolveArgs(context.Background(), []v1alpha1.Argument{tc.arg}, secrets(nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ResolveArgs(%+v) = %v, want %q", tc.arg, err, tc.want)
		}
	}
}

func TestRolloutArgument(t *testing.T) {
	ro := &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "checkout", Labels: map[string]string{"app.kubernetes.io/name": "shop"}},
		Status:     v1alpha1.RolloutStatus{StableRS: "stable1"},
	}
	hash := func(v v1alpha1.ValueFromPodTemplateHash) v1alpha1.AnalysisRunArgument {
		return v1alpha1.AnalysisRunArgument{Name: "h", ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: &v}}
	}
	field := func(path string) v1alpha1.AnalysisRunArgument {
		return v1alpha1.AnalysisRunArgument{Name: "f", ValueFrom: &v1alpha1.ArgumentValueFrom{FieldRef: &v1alpha1.FieldRef{FieldPath: path}}}
	}
	cases := []struct {
		name    string
		arg     v1alpha1.AnalysisRunArgument
		want    string
		wantErr string
	}{
		{"value", v1alpha1.AnalysisRunArgument{Name: "v", Value: ptr.To("x")}, "x", ""},
		{"Latest", hash(v1alpha1.Latest), "new2", ""},
		{"Stable", hash(v1alpha1.Stable), "stable1", ""},
		{"fieldRef name", field("metadata.name"), "checkout", ""},
		{"fieldRef label", field("metadata.labels['app.kubernetes.io/name']"), "shop", ""},
		{"fieldRef to nothing", field("metadata.labels['nope']"), "", `fieldPath "metadata.labels['nope']"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, from, err := RolloutArgument(ro, "new2", tc.arg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || from != nil || v == nil || *v != tc.want {
				t.Errorf("RolloutArgument = %v %v %v, want %q", v, from, err, tc.want)
			}
		})
	}
	// A secret stays a reference, so that its value never lands in the run's spec.
	v, from, err := RolloutArgument(ro, "new2", v1alpha1.AnalysisRunArgument{Name: "s",
		ValueFrom: &v1alpha1.ArgumentValueFrom{SecretKeyRef: &v1alpha1.SecretKeyRef{Name: "api", Key: "token"}}})
	if err != nil || v != nil || from == nil || from.SecretKeyRef.Name != "api" {
		t.Errorf("secretKeyRef: %v %+v %v", v, from, err)
	}
	// Stable before there is a stable revision is an error that says so.
	if _, _, err := RolloutArgument(&v1alpha1.Rollout{}, "new2", hash(v1alpha1.Stable)); err == nil || !strings.Contains(err.Error(), "no stable revision") {
		t.Errorf("Stable without a stable revision: %v", err)
	}
}
