package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
	"github.com/bluegreen-dev/bluegreen/pkg/analysis"
	"github.com/bluegreen-dev/bluegreen/pkg/planner"
)

// AnalysisRunBuilder turns an analysis gate of a Rollout into an AnalysisRun: the metrics
// of its templates, with the Rollout's arguments applied.
type AnalysisRunBuilder struct {
	Client client.Reader
}

// Build reads the templates of the gate and returns the AnalysisRun to create, owned by
// the Rollout and labelled with its name, revision and gate.
func (b *AnalysisRunBuilder) Build(ctx context.Context, ro *v1alpha1.Rollout, start planner.StartAnalysisRun) (*v1alpha1.AnalysisRun, error) {
	spec := v1alpha1.AnalysisRunSpec{}
	declared := map[string]int{} // argument name → index in spec.Args
	seen := map[string]string{}  // metric name → template
	for _, ref := range start.Analysis.Templates {
		tmpl, err := b.template(ctx, ro.Namespace, ref)
		if err != nil {
			return nil, err
		}
		for _, m := range tmpl.Metrics {
			if other, dup := seen[m.Name]; dup {
				return nil, fmt.Errorf("metric %q is defined by both %s and %s: rename one of them", m.Name, other, ref.TemplateName)
			}
			seen[m.Name] = ref.TemplateName
			spec.Metrics = append(spec.Metrics, *m.DeepCopy())
		}
		for _, arg := range tmpl.Args {
			if i, dup := declared[arg.Name]; dup {
				// Two templates may share an argument; a value given by one wins over none.
				if spec.Args[i].Value == nil && spec.Args[i].ValueFrom == nil {
					spec.Args[i] = *arg.DeepCopy()
				}
				continue
			}
			declared[arg.Name] = len(spec.Args)
			spec.Args = append(spec.Args, *arg.DeepCopy())
		}
		spec.DryRun = append(spec.DryRun, tmpl.DryRun...)
	}
	spec.DryRun = append(spec.DryRun, start.Analysis.DryRun...)

	for _, arg := range start.Analysis.Args {
		i, ok := declared[arg.Name]
		if !ok {
			return nil, fmt.Errorf("argument %q is not declared by the templates of the %s analysis: remove it or declare it in the template's args", arg.Name, start.Type)
		}
		value, from, err := analysis.RolloutArgument(ro, start.Revision, arg)
		if err != nil {
			return nil, fmt.Errorf("spec.strategy.blueGreen.%sAnalysis.args %q: %w", gateField(start.Type), arg.Name, err)
		}
		spec.Args[i].Value, spec.Args[i].ValueFrom = value, from
	}
	for i, arg := range spec.Args {
		if arg.Value == nil && arg.ValueFrom == nil {
			return nil, fmt.Errorf("argument %q of the %s analysis has no value: give it in spec.strategy.blueGreen.%sAnalysis.args", arg.Name, start.Type, gateField(start.Type))
		}
		// A template's own fieldRef is a field of this Rollout: resolved now, as the run
		// does not know the Rollout.
		resolved, err := analysis.TemplateArgument(ro, arg)
		if err != nil {
			return nil, fmt.Errorf("argument %q of the %s analysis: %w", arg.Name, start.Type, err)
		}
		spec.Args[i] = resolved
	}

	return &v1alpha1.AnalysisRun{
		ObjectMeta: metav1.ObjectMeta{
			Name:      start.Name,
			Namespace: ro.Namespace,
			Labels: map[string]string{
				v1alpha1.RolloutLabel:         ro.Name,
				v1alpha1.PodTemplateHashLabel: start.Revision,
				v1alpha1.AnalysisTypeLabel:    start.Type,
			},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ro, v1alpha1.GroupVersion.WithKind("Rollout"))},
		},
		Spec: spec,
	}, nil
}

func gateField(analysisType string) string {
	if analysisType == v1alpha1.AnalysisTypePostPromotion {
		return "postPromotion"
	}
	return "prePromotion"
}

func (b *AnalysisRunBuilder) template(ctx context.Context, namespace string, ref v1alpha1.AnalysisTemplateRef) (*v1alpha1.AnalysisTemplateSpec, error) {
	var (
		obj  client.Object
		spec *v1alpha1.AnalysisTemplateSpec
		kind = "AnalysisTemplate"
	)
	if ref.ClusterScope {
		t := &v1alpha1.ClusterAnalysisTemplate{}
		obj, spec, kind = t, &t.Spec, "ClusterAnalysisTemplate"
	} else {
		t := &v1alpha1.AnalysisTemplate{}
		obj, spec = t, &t.Spec
	}
	key := client.ObjectKey{Name: ref.TemplateName}
	if !ref.ClusterScope {
		key.Namespace = namespace
	}
	if err := b.Client.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, apierrors.NewNotFound(schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: kind}, ref.TemplateName)
		}
		return nil, err
	}
	return spec, nil
}
