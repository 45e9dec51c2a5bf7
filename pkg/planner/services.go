package planner

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// validate checks what the CRD cannot check alone because it needs other objects: the
// pod template, the selector and the Services. It returns every problem, each naming the
// field and the fix, or "" when the spec is valid.
func (p *planner) validate() string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	switch {
	case p.in.Template == nil && p.in.WorkloadMissing != "":
		add("%s", p.in.WorkloadMissing)
	case p.in.Template == nil:
		add("spec.template is empty: add the pod template, or reference a Deployment with spec.workloadRef")
	case p.selector == nil:
		add("spec.selector is empty: add a selector whose matchLabels are among spec.template.metadata.labels")
	default:
		sel, err := metav1.LabelSelectorAsSelector(p.selector)
		switch {
		case err != nil:
			add("spec.selector is invalid (%v): fix the selector", err)
		case sel.Empty():
			add("spec.selector selects every pod: add matchLabels that only this Rollout's pods carry")
		case !sel.Matches(labels.Set(p.in.Template.Labels)):
			add("spec.selector does not select spec.template.metadata.labels: add the selector's labels to the template")
		}
	}

	services := []struct {
		field, name string
		svc         *corev1.Service
	}{
		{"spec.strategy.blueGreen.activeService", p.cfg.activeService, p.in.ActiveService},
		{"spec.strategy.blueGreen.previewService", p.cfg.previewService, p.in.PreviewService},
	}
	for _, s := range services {
		switch {
		case s.name == "" && s.field == services[0].field:
			add("%s is empty: name the Service that carries production traffic", s.field)
		case s.name == "":
		case s.svc == nil:
			add("%s: Service %q not found in namespace %q: create it or fix the name", s.field, s.name, p.ro.Namespace)
		default:
			if owner := s.svc.Annotations[v1alpha1.ManagedByAnnotation]; owner != "" && owner != p.ro.Name {
				add("%s: Service %q is managed by Rollout %q: give this Rollout its own Service", s.field, s.name, owner)
			}
			if p.in.Template != nil {
				problems = append(problems, selectorProblems(s.field, s.svc, p.in.Template.Labels)...)
			}
		}
	}
	return strings.Join(problems, "; ")
}

// selectorProblems lists the Service selector keys, other than the pod template hash, that
// the template's labels lack or disagree with: such a Service would select no pod.
func selectorProblems(field string, svc *corev1.Service, templateLabels map[string]string) []string {
	keys := make([]string, 0, len(svc.Spec.Selector))
	for k := range svc.Spec.Selector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var problems []string
	for _, k := range keys {
		if k == v1alpha1.PodTemplateHashLabel {
			continue
		}
		want := svc.Spec.Selector[k]
		got, ok := templateLabels[k]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: Service %q selects %s=%s but spec.template.metadata.labels has no %s: add the label to the template or remove it from the Service's selector", field, svc.Name, k, want, k))
		case got != want:
			problems = append(problems, fmt.Sprintf("%s: Service %q selects %s=%s but spec.template.metadata.labels has %s=%s: make them agree", field, svc.Name, k, want, k, got))
		}
	}
	return problems
}

// invalidSpec reports an invalid spec and touches nothing: no Service, no ReplicaSet, no
// AnalysisRun, and intents stay until the spec is fixed.
func (p *planner) invalidSpec(problem string) {
	p.invalid = problem
	p.note("the spec is invalid, so no Service or ReplicaSet is touched: %s", problem)
	if old := findCondition(p.old.Conditions, v1alpha1.ConditionInvalidSpec); old == nil || old.Status != metav1.ConditionTrue || old.Message != problem {
		p.warning(v1alpha1.EventInvalidSpec, "%s", problem)
	}
	p.hash = p.old.CurrentPodHash
	p.current = p.rsByHash[p.hash]
	p.stable = p.rsByHash[p.stableHash()]
	p.syncStatus()
}

// switchService points a Service at a revision, if it does not select it already.
func (p *planner) switchService(role Role, hash, why string) {
	name, selected := p.cfg.activeService, &p.activeHash
	if role == RolePreview {
		name, selected = p.cfg.previewService, &p.previewHash
	}
	if name == "" || *selected == hash {
		return
	}
	from := *selected
	*selected = hash
	p.act(SwitchService{Service: name, Role: role, Hash: hash})
	if from == "" {
		p.normal(v1alpha1.EventSwitchService, "Switched %s Service %s to %s", role, name, p.describe(hash))
	} else {
		p.normal(v1alpha1.EventSwitchService, "Switched %s Service %s from %s to %s", role, name, from, p.describe(hash))
	}
	p.note("%s Service %s now selects %s: %s", role, name, hash, why)
}
