package cluster

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

// Pod behaviours: label a pod (or a pod template) with BehaviourLabel set to
// one of the Behaviour values to have kwok simulate that behaviour instead of
// a healthy container. Pods without the label become Running and Ready right
// away; those owned by a Job then complete with phase Succeeded.
const (
	// BehaviourLabel is the pod label that selects a simulated behaviour.
	BehaviourLabel = "kwok.bluegreen.dev/behaviour"
	// BehaviourUnready makes a pod Running, with an IP, but never Ready, like a
	// container whose readiness probe always fails.
	BehaviourUnready = "unready"
	// BehaviourFlap makes a pod crash-loop: it turns Ready, then every 1-2 s
	// alternates between not Ready (container waiting in CrashLoopBackOff,
	// restartCount increased) and Ready again.
	BehaviourFlap = "flap"
	// BehaviourFail makes a pod terminate with exit code 1 and phase Failed,
	// like a Job pod whose command fails.
	BehaviourFail = "fail"
)

// stageFiles are the kwok Stages the cluster's kwok runs with. The node-* and
// pod-delete stages are copied from sigs.k8s.io/kwok@v0.8.0
// (kustomize/stage/node/fast, node/heartbeat-with-lease, pod/fast); pod-ready
// and pod-complete are copied from there too but skip pods that carry
// BehaviourLabel; the pod-behaviour-* stages are ours. Each file says where it
// comes from.
//
//go:embed stages/*.yaml
var stageFiles embed.FS

// stagesYAML returns all stages as one multi-document YAML stream.
func stagesYAML() string {
	names, err := fs.Glob(stageFiles, "stages/*.yaml")
	if err != nil {
		panic(err) // the pattern is constant and valid
	}
	sort.Strings(names)
	docs := make([]string, 0, len(names))
	for _, name := range names {
		data, err := stageFiles.ReadFile(name)
		if err != nil {
			panic(err) // embedded files are always readable
		}
		docs = append(docs, strings.TrimSpace(string(data)))
	}
	return strings.Join(docs, "\n---\n") + "\n"
}
