package planner

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// ComputeHash returns the pod template hash of a revision: fnv32a over the template's JSON
// (without the hash label) and the collision count, encoded like Kubernetes' ComputeHash so
// that it is a valid label value. activeMetadata and previewMetadata are not part of it:
// changing them does not make a new revision.
func ComputeHash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	t := template.DeepCopy()
	delete(t.Labels, v1alpha1.PodTemplateHashLabel)
	data, err := json.Marshal(t)
	if err != nil {
		// A PodTemplateSpec always marshals; this cannot happen.
		panic(fmt.Sprintf("marshal pod template: %v", err))
	}
	hasher := fnv.New32a()
	hasher.Write(data)
	if collisionCount != nil {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(*collisionCount))
		hasher.Write(b[:])
	}
	return rand.SafeEncodeString(fmt.Sprint(hasher.Sum32()))
}

// templateMatches reports whether a ReplicaSet's pod template is the desired template.
// The live template carries what the API server defaulted and what the controller added
// (the hash label, role metadata, anti-affinity), none of which the desired template has,
// so it matches when every field set in the desired template has the same value in the
// live one; role metadata keys are ignored.
func templateMatches(live, desired *corev1.PodTemplateSpec, roleKeys roleKeys) bool {
	d := desired.DeepCopy()
	delete(d.Labels, v1alpha1.PodTemplateHashLabel)
	for k := range roleKeys.labels {
		delete(d.Labels, k)
	}
	for k := range roleKeys.annotations {
		delete(d.Annotations, k)
	}
	var l, w any
	if !roundTrip(live, &l) || !roundTrip(d, &w) {
		return false
	}
	return isSubset(w, l)
}

func roundTrip(in any, out *any) bool {
	data, err := json.Marshal(in)
	return err == nil && json.Unmarshal(data, out) == nil
}

// isSubset reports whether every value set in want is equal in have. Lists must have the
// same length and match element by element.
func isSubset(want, have any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !isSubset(v, h[k]) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !isSubset(w[i], h[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(want, have)
	}
}
