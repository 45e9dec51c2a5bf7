package cli

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// RenderList writes Rollouts as a table: name, phase, replica counts, the active and
// preview revisions and age; with allNamespaces, the namespace first.
func RenderList(w io.Writer, rollouts []v1alpha1.Rollout, allNamespaces bool, now time.Time) error {
	table := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string"},
		{Name: "Phase", Type: "string"},
		{Name: "Desired", Type: "integer"},
		{Name: "Current", Type: "integer"},
		{Name: "Updated", Type: "integer"},
		{Name: "Available", Type: "integer"},
		{Name: "Active", Type: "string"},
		{Name: "Preview", Type: "string"},
		{Name: "Age", Type: "string"},
	}}
	items := append([]v1alpha1.Rollout(nil), rollouts...)
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].Namespace != items[j].Namespace {
			return items[i].Namespace < items[j].Namespace
		}
		return items[i].Name < items[j].Name
	})
	for i := range items {
		ro := &items[i]
		st := ro.Status
		phase := string(st.Phase)
		if phase == "" {
			phase = "<pending>"
		}
		preview := st.BlueGreen.PreviewSelector
		if preview == st.BlueGreen.ActiveSelector {
			preview = "-"
		}
		table.Rows = append(table.Rows, metav1.TableRow{
			Cells: []any{ro.Name, phase, int64(ptr.Deref(ro.Spec.Replicas, 1)), int64(st.Replicas), int64(st.UpdatedReplicas),
				int64(st.AvailableReplicas), orDash(st.BlueGreen.ActiveSelector), orDash(preview), age(ro.CreationTimestamp, now)},
			Object: runtime.RawExtension{Object: ro},
		})
	}
	return printers.NewTablePrinter(printers.PrintOptions{WithNamespace: allNamespaces}).PrintObj(table, w)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *app) listCommand() *cobra.Command {
	var all bool
	var output string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List Rollouts with their phase, replicas and active and preview revisions",
		Example: "  kubectl bluegreen list\n  kubectl bluegreen list -A",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := a.target()
			if err != nil {
				return err
			}
			var opts []client.ListOption
			if !all {
				opts = append(opts, client.InNamespace(t.Namespace))
			}
			var list v1alpha1.RolloutList
			if err := t.Client.List(cmd.Context(), &list, opts...); err != nil {
				return t.explain(err, "rollout", "")
			}
			if output != "" {
				for i := range list.Items {
					list.Items[i].ManagedFields = nil
					list.Items[i].SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("Rollout"))
				}
				return printObject(a.out(), output, &list)
			}
			if len(list.Items) == 0 {
				where := fmt.Sprintf("in namespace %q", t.Namespace)
				if all {
					where = "in any namespace"
				}
				_, err := fmt.Fprintf(a.errOut(), "No rollouts found %s.\n", where)
				return err
			}
			return RenderList(a.out(), list.Items, all, a.opts.Now())
		},
	}
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "List the Rollouts of every namespace")
	addOutputFlag(cmd, &output)
	return cmd
}
