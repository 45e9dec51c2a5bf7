package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// updateTemplate changes the Rollout's pod template, or the referenced Deployment's when
// the Rollout has a workloadRef, retrying on conflicts. change returns a description of
// what it changed, or an error to stop.
func updateTemplate(ctx context.Context, t *Target, name string, change func(ro *v1alpha1.Rollout, tpl *corev1.PodTemplateSpec) (string, error)) (string, error) {
	var what string
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ro, err := t.GetRollout(ctx, name)
		if err != nil {
			return err
		}
		if ref := ro.Spec.WorkloadRef; ref != nil {
			var dep appsv1.Deployment
			if err := t.Client.Get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: ref.Name}, &dep); err != nil {
				return fmt.Errorf("rollout %q takes its pod template from %s: %w", name, ref.Name, t.explain(err, "deployment", ref.Name))
			}
			if what, err = change(ro, &dep.Spec.Template); err != nil {
				return err
			}
			what = fmt.Sprintf("%s (in deployment %q, the rollout's workloadRef)", what, ref.Name)
			return t.Client.Update(ctx, &dep)
		}
		if ro.Spec.Template == nil {
			return fmt.Errorf("rollout %q has neither spec.template nor spec.workloadRef: fix its spec", name)
		}
		if what, err = change(ro, ro.Spec.Template); err != nil {
			return err
		}
		return t.Client.Update(ctx, ro)
	})
	return what, err
}

// SetImage sets container images: images maps a container name (or "*" for all) to an image.
func SetImage(ctx context.Context, t *Target, name string, images map[string]string) (string, error) {
	what, err := updateTemplate(ctx, t, name, func(_ *v1alpha1.Rollout, tpl *corev1.PodTemplateSpec) (string, error) {
		var changed, names []string
		found := map[string]bool{}
		for _, list := range [][]corev1.Container{tpl.Spec.InitContainers, tpl.Spec.Containers} {
			for i := range list {
				c := &list[i]
				names = append(names, c.Name)
				image, ok := images[c.Name]
				if !ok {
					image, ok = images["*"]
				}
				if !ok {
					continue
				}
				found[c.Name] = true
				if c.Image != image {
					c.Image = image
					changed = append(changed, c.Name+"="+image)
				}
			}
		}
		for c := range images {
			if c != "*" && !found[c] {
				return "", fmt.Errorf("rollout %q has no container %q: its containers are %s", name, c, strings.Join(names, ", "))
			}
		}
		if len(changed) == 0 {
			return "images unchanged", nil
		}
		sort.Strings(changed)
		return "image updated: " + strings.Join(changed, " "), nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("rollout %q %s", name, what), nil
}

// Undo puts the pod template of a previous revision back: toRevision, or when 0 the
// revision before the current one. The controller then rolls back as it would for any
// template change (fast, when the revision is still up or inside its rollback window).
func Undo(ctx context.Context, t *Target, name string, toRevision int64) (string, error) {
	snap, err := t.Load(ctx, name)
	if err != nil {
		return "", err
	}
	rss := byRevision(snap.ReplicaSets)
	current := snap.replicaSetOf(snap.Rollout.Status.CurrentPodHash)
	var target *appsv1.ReplicaSet
	var revisions []string
	for _, rs := range rss {
		rev := revisionOf(rs)
		revisions = append(revisions, fmt.Sprint(rev))
		switch {
		case toRevision > 0 && rev == toRevision:
			target = rs
		case toRevision == 0 && target == nil && rs != current && (current == nil || rev < revisionOf(current)):
			target = rs
		}
	}
	switch {
	case target == nil && toRevision > 0:
		return "", fmt.Errorf("rollout %q has no revision %d: its revisions are %s", name, toRevision, strings.Join(revisions, ", "))
	case target == nil:
		return "", fmt.Errorf("rollout %q has no previous revision to go back to", name)
	case target == current:
		return "", fmt.Errorf("rollout %q is at revision %d already: nothing to undo", name, toRevision)
	}
	tpl := templateOf(snap.Rollout, target)
	what, err := updateTemplate(ctx, t, name, func(_ *v1alpha1.Rollout, live *corev1.PodTemplateSpec) (string, error) {
		*live = *tpl.DeepCopy()
		return fmt.Sprintf("rolled back to %s", snap.describeRevision(hashOf(target))), nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("rollout %q %s", name, what), nil
}

// templateOf is the pod template a ReplicaSet was made from: without the hash label, the
// role metadata (activeMetadata, previewMetadata) and the anti-affinity the controller adds.
func templateOf(ro *v1alpha1.Rollout, rs *appsv1.ReplicaSet) *corev1.PodTemplateSpec {
	tpl := rs.Spec.Template.DeepCopy()
	delete(tpl.Labels, v1alpha1.PodTemplateHashLabel)
	var selectorLabels map[string]string
	if ro.Spec.Selector != nil {
		selectorLabels = ro.Spec.Selector.MatchLabels
	}
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		for _, m := range []*v1alpha1.PodTemplateMetadata{bg.ActiveMetadata, bg.PreviewMetadata} {
			if m == nil {
				continue
			}
			for k := range m.Labels {
				if _, keep := selectorLabels[k]; !keep {
					delete(tpl.Labels, k)
				}
			}
			for k := range m.Annotations {
				delete(tpl.Annotations, k)
			}
		}
	}
	if len(tpl.Labels) == 0 {
		tpl.Labels = nil
	}
	if len(tpl.Annotations) == 0 {
		tpl.Annotations = nil
	}
	stripAntiAffinity(&tpl.Spec)
	return tpl
}

// stripAntiAffinity removes the terms that select pods by pod template hash alone: the
// controller adds them for spec.strategy.blueGreen.antiAffinity.
func stripAntiAffinity(spec *corev1.PodSpec) {
	if spec.Affinity == nil || spec.Affinity.PodAntiAffinity == nil {
		return
	}
	byHash := func(term corev1.PodAffinityTerm) bool {
		sel := term.LabelSelector
		return sel != nil && len(sel.MatchLabels) == 1 && len(sel.MatchExpressions) == 0 && sel.MatchLabels[v1alpha1.PodTemplateHashLabel] != ""
	}
	anti := spec.Affinity.PodAntiAffinity
	var preferred []corev1.WeightedPodAffinityTerm
	for _, w := range anti.PreferredDuringSchedulingIgnoredDuringExecution {
		if !byHash(w.PodAffinityTerm) {
			preferred = append(preferred, w)
		}
	}
	var required []corev1.PodAffinityTerm
	for _, term := range anti.RequiredDuringSchedulingIgnoredDuringExecution {
		if !byHash(term) {
			required = append(required, term)
		}
	}
	anti.PreferredDuringSchedulingIgnoredDuringExecution, anti.RequiredDuringSchedulingIgnoredDuringExecution = preferred, required
	if len(preferred) == 0 && len(required) == 0 {
		spec.Affinity.PodAntiAffinity = nil
	}
	if *spec.Affinity == (corev1.Affinity{}) {
		spec.Affinity = nil
	}
}

func (a *app) setCommand() *cobra.Command {
	set := &cobra.Command{
		Use:   "set",
		Short: "Change a Rollout's pod template (set image)",
	}
	set.AddCommand(&cobra.Command{
		Use:   "image ROLLOUT CONTAINER=IMAGE [CONTAINER=IMAGE...]",
		Short: "Set container images: a new revision",
		Long: `Set the image of one or more containers ("*" for every container). This changes the pod
template, which starts a new revision behind the preview Service. With spec.workloadRef the
referenced Deployment's template is changed.`,
		Example:           "  kubectl bluegreen set image web app=registry.example.com/web:1.4.2\n  kubectl bluegreen set image web '*=registry.example.com/web:1.4.2'",
		Args:              cobra.MinimumNArgs(2),
		ValidArgsFunction: a.completeRollouts,
		RunE: func(cmd *cobra.Command, args []string) error {
			images := map[string]string{}
			for _, arg := range args[1:] {
				c, image, ok := strings.Cut(arg, "=")
				if !ok || c == "" || image == "" {
					return usageError("%q is not CONTAINER=IMAGE: write e.g. app=registry.example.com/web:1.4.2, or *=IMAGE for every container", arg)
				}
				images[c] = image
			}
			t, err := a.target()
			if err != nil {
				return err
			}
			msg, err := SetImage(cmd.Context(), t, args[0], images)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.out(), msg)
			return err
		},
	})
	return set
}

func (a *app) undoCommand() *cobra.Command {
	var to int64
	cmd := a.intentCommand("undo", "Roll back to a previous revision's pod template",
		`Put back the pod template of the previous revision (or of --to-revision N, as shown by
kubectl bluegreen get rollout). The rollback is a template change like any other; it skips
pause and analysis when the revision is still up or inside spec.rollbackWindow.`,
		"  kubectl bluegreen undo web\n  kubectl bluegreen undo web --to-revision 3",
		func(ctx context.Context, t *Target, name string) (string, error) { return Undo(ctx, t, name, to) })
	cmd.Flags().Int64Var(&to, "to-revision", 0, "Revision to go back to (default: the one before the current)")
	return cmd
}
