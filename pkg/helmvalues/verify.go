package helmvalues

import (
	"errors"
	"fmt"

	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// verify checks that out reads like the old file except for the key, in yaml.v3 and in
// sigs.k8s.io/yaml, which Helm reads values with.
func (s *setter) verify(out []byte) error {
	root, err := parseDocument(out)
	if err != nil {
		return fmt.Errorf("the result does not parse: %v", err)
	}
	before, after := map[string]flatNode{}, map[string]flatNode{}
	flatten(s.root, "", before)
	flatten(root, "", after)
	loose := map[string]bool{} // paths whose style may change
	str := flatNode{kind: yaml.ScalarNode, tag: "!!str"}
	if s.target != nil {
		n := before[s.targetFlat]
		n.tag, n.value = "!!str", s.value
		before[s.targetFlat] = n
		loose[s.targetFlat] = true
	} else {
		base := s.parentFlat
		if s.parent != nil {
			base = fmt.Sprintf("%s/%d", base, len(s.parent.Content)/2)
		} else {
			n := before[base]
			n.kind, n.tag, n.value = yaml.MappingNode, "!!map", ""
			before[base] = n
			loose[base] = true
			base += "/0"
		}
		for i, seg := range s.rest {
			k := str
			k.value = seg.key
			before[base+"k"], loose[base+"k"] = k, true
			v := flatNode{kind: yaml.MappingNode, tag: "!!map"}
			if i == len(s.rest)-1 {
				v = str
				v.value = s.value
			}
			before[base], loose[base] = v, true
			base += "/0"
		}
	}
	if len(before) != len(after) {
		return fmt.Errorf("%d nodes instead of %d", len(after), len(before))
	}
	for p, want := range before {
		got, ok := after[p]
		if loose[p] {
			want.style, got.style = 0, 0
		}
		if !ok || got != want {
			return fmt.Errorf("node %s reads %+v instead of %+v", p, got, want)
		}
	}
	// As Helm reads it.
	var old, helm any
	if sigsyaml.Unmarshal(s.src, &old) == nil {
		if err := sigsyaml.Unmarshal(out, &helm); err != nil {
			return fmt.Errorf("Helm cannot read the result: %v", err)
		}
		for _, seg := range s.segs {
			if seg.index >= 0 {
				l, ok := helm.([]any)
				if !ok || seg.index >= len(l) {
					return errors.New("Helm does not find the key")
				}
				helm = l[seg.index]
			} else {
				m, ok := helm.(map[string]any)
				if !ok {
					return errors.New("Helm does not find the key")
				}
				helm = m[seg.key]
			}
		}
		if got, ok := helm.(string); !ok || got != s.value {
			return fmt.Errorf("Helm reads %#v", helm)
		}
	}
	return nil
}

// flatNode is a node without its children, position or comments.
type flatNode struct {
	kind               yaml.Kind
	tag, value, anchor string
	style              yaml.Style
}

// flatten records every node under n by its path: /i for the value of the i-th
// pair of a mapping, /ik for its key, [i] for a list item.
func flatten(n *yaml.Node, path string, out map[string]flatNode) {
	if n == nil {
		return
	}
	out[path] = flatNode{kind: n.Kind, tag: n.Tag, value: n.Value, anchor: n.Anchor, style: n.Style}
	switch n.Kind {
	case yaml.MappingNode:
		for j := 0; j+1 < len(n.Content); j += 2 {
			flatten(n.Content[j], fmt.Sprintf("%s/%dk", path, j/2), out)
			flatten(n.Content[j+1], fmt.Sprintf("%s/%d", path, j/2), out)
		}
	case yaml.SequenceNode:
		for j, c := range n.Content {
			flatten(c, fmt.Sprintf("%s[%d]", path, j), out)
		}
	}
}
