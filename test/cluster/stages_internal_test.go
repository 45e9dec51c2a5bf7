package cluster

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// stage is the part of kwok's Stage (sigs.k8s.io/kwok/pkg/apis/v1alpha1)
// that these tests look at.
type stage struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		ResourceRef struct {
			Kind string `json:"kind"`
		} `json:"resourceRef"`
		Selector struct {
			MatchExpressions []struct {
				Key      string   `json:"key"`
				Operator string   `json:"operator"`
				Values   []string `json:"values"`
			} `json:"matchExpressions"`
		} `json:"selector"`
		Next *struct {
			StatusTemplate string `json:"statusTemplate"`
			Delete         bool   `json:"delete"`
		} `json:"next"`
	} `json:"spec"`
}

// TestStages checks the stage bundle against the constants of this package:
// the standard pod stages leave pods with BehaviourLabel alone, and each
// behaviour has stages of its own.
func TestStages(t *testing.T) {
	byName := map[string]stage{}
	for _, doc := range strings.Split(stagesYAML(), "\n---\n") {
		var s stage
		if err := yaml.Unmarshal([]byte(doc), &s); err != nil {
			t.Fatalf("stage does not parse: %v\n%s", err, doc)
		}
		if s.APIVersion != "kwok.x-k8s.io/v1alpha1" || s.Kind != "Stage" || s.Metadata.Name == "" || s.Spec.Next == nil {
			t.Fatalf("not a kwok Stage with a name and a next step:\n%s", doc)
		}
		if _, dup := byName[s.Metadata.Name]; dup {
			t.Fatalf("two stages named %s", s.Metadata.Name)
		}
		byName[s.Metadata.Name] = s
	}

	labelKey := fmt.Sprintf(`.metadata.labels[%q]`, BehaviourLabel)
	selects := func(s stage, op string, values ...string) bool {
		for _, e := range s.Spec.Selector.MatchExpressions {
			if e.Key == labelKey && e.Operator == op && slices.Equal(e.Values, values) {
				return true
			}
		}
		return false
	}
	for _, name := range []string{"pod-ready", "pod-complete"} {
		if !selects(byName[name], "DoesNotExist") {
			t.Errorf("stage %s does not require the absence of label %s", name, BehaviourLabel)
		}
	}
	for behaviour, stages := range map[string][]string{
		BehaviourUnready: {"pod-behaviour-unready"},
		BehaviourFlap:    {"pod-behaviour-flap-up", "pod-behaviour-flap-down"},
		BehaviourFail:    {"pod-behaviour-fail"},
	} {
		for _, name := range stages {
			if !selects(byName[name], "In", behaviour) {
				t.Errorf("stage %s does not select pods labelled %s=%s", name, BehaviourLabel, behaviour)
			}
		}
	}
	for _, name := range []string{"node-initialize", "node-heartbeat-with-lease", "pod-delete"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("standard stage %s is missing", name)
		}
	}
}
