package helmvalues

import (
	"fmt"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// walk follows the key through the document.
func (s *setter) walk() error {
	cur := s.root
	flat := ""
	var curKey *yaml.Node // the key whose value cur is, if any
	if cur != nil && cur.Kind == yaml.ScalarNode && cur.Tag == "!!null" && cur.Value == "" && cur.Anchor == "" {
		cur = nil // "---" and nothing else
	}
	if cur == nil {
		return s.missing(nil, nil, nil, "", 0)
	}
	if cur.Kind != yaml.MappingNode {
		return errorAt(cur.Line, "the top of the file is %s, not a mapping of values", describeNode(cur))
	}
	for i, seg := range s.segs {
		s.path = append(s.path, cur)
		if cur.Kind == yaml.AliasNode {
			return s.aliasError(cur, i)
		}
		if cur.Style&yaml.FlowStyle != 0 {
			s.flow = true
		}
		if seg.index >= 0 {
			if cur.Kind != yaml.SequenceNode {
				return errorAt(cur.Line, "%s is %s, not a list, so it has no item [%d]", s.keyName(i), describeNode(cur), seg.index)
			}
			if seg.index >= len(cur.Content) {
				return errorAt(cur.Line, "%s has %d item(s), so %s does not exist; values set does not add list items",
					s.keyName(i), len(cur.Content), s.keyName(i+1))
			}
			curKey = nil
			cur = cur.Content[seg.index]
			flat = fmt.Sprintf("%s[%d]", flat, seg.index)
			continue
		}
		if cur.Kind == yaml.ScalarNode && cur.Tag == "!!null" && curKey != nil {
			return s.missing(nil, cur, curKey, flat, i)
		}
		if cur.Kind != yaml.MappingNode {
			fix := ""
			if cur.Kind == yaml.ScalarNode {
				fix = fmt.Sprintf(": to replace the whole value, use --key %s", s.keyName(i))
			} else if cur.Kind == yaml.SequenceNode {
				fix = fmt.Sprintf(": name a list item, as in --key %s[0].%s", s.keyName(i), formatKey(s.segs[i:]))
			}
			if i == 0 {
				return errorAt(cur.Line, "the top of the file is %s, not a mapping of values", describeNode(cur))
			}
			return errorAt(cur.Line, "%s is %s, not a mapping, so it has no key %q%s", s.keyName(i), describeNode(cur), seg.key, fix)
		}
		found := -1
		for j := 0; j+1 < len(cur.Content); j += 2 {
			k := cur.Content[j]
			if k.Kind != yaml.ScalarNode || k.Value != seg.key {
				continue
			}
			if found >= 0 {
				return errorAt(k.Line, "%s is in the file twice (lines %d and %d); Helm would read only the last one: remove one first",
					s.keyName(i+1), cur.Content[found].Line, k.Line)
			}
			found = j
		}
		if found < 0 {
			return s.missing(cur, nil, nil, flat, i)
		}
		if k := cur.Content[found]; k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.TaggedStyle) == 0 && !helmReadsKey(k.Value, s.flow || cur.Style&yaml.FlowStyle != 0) {
			return errorAt(k.Line, "Helm does not read the key %s as the string %q (in YAML 1.1 a plain %s is not a string): quote it first, as in %q:",
				s.keyName(i+1), k.Value, k.Value, k.Value)
		}
		curKey = cur.Content[found]
		cur = cur.Content[found+1]
		flat = fmt.Sprintf("%s/%d", flat, found/2)
	}
	s.path = append(s.path, cur)
	if cur.Kind == yaml.AliasNode {
		return s.aliasError(cur, len(s.segs))
	}
	key := s.keyName(len(s.segs))
	switch {
	case cur.Kind != yaml.ScalarNode:
		line := cur.Line
		if curKey != nil {
			line = curKey.Line
		}
		return errorAt(line, "%s is %s, not a single value: give the key of a value inside it", key, describeNode(cur))
	case cur.Style&yaml.TaggedStyle != 0 && cur.Tag != "!!str":
		return errorAt(cur.Line, "%s has the explicit tag %s; remove the tag first, or change the value by hand", key, cur.Tag)
	case cur.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return errorAt(cur.Line, "%s is a block scalar (| or >); values set changes one-line values only: make it a one-line value first", key)
	}
	s.target, s.targetFlat = cur, flat
	return nil
}

// missing records that the key is not in the file from segs[i] on.
func (s *setter) missing(parent, null, nullKey *yaml.Node, flat string, i int) error {
	for j := i; j < len(s.segs); j++ {
		if s.segs[j].index >= 0 {
			return errorAt(0, "%s is not in the file, and values set does not create lists: add the list by hand first", s.keyName(j))
		}
	}
	if null != nil && (null.Anchor != "" || null.Style&yaml.TaggedStyle != 0) {
		return errorAt(null.Line, "%s is null with an anchor or tag; give it a mapping by hand first", s.keyName(i))
	}
	s.parent, s.null, s.nullKey, s.parentFlat, s.rest = parent, null, nullKey, flat, s.segs[i:]
	if parent != nil {
		s.path = append(s.path, parent)
		if parent.Style&yaml.FlowStyle != 0 {
			s.flow = true
		}
	}
	return nil
}

// aliasError refuses to change a value that is an alias, or under one.
func (s *setter) aliasError(alias *yaml.Node, i int) error {
	key := s.keyName(i)
	fix := "replace the alias by a value by hand, or change the anchored value"
	if p := keyOf(s.root, alias.Alias); p != "" {
		rest := ""
		if i < len(s.segs) {
			rest = formatKey(append([]segment{{key: "x", index: -1}}, s.segs[i:]...))[1:]
		}
		fix = fmt.Sprintf("set the anchored value instead (--key %s%s), or replace the alias by a value by hand", p, rest)
	}
	anchorLine := 0
	if alias.Alias != nil {
		anchorLine = alias.Alias.Line
	}
	return errorAt(alias.Line, "%s is the alias *%s of the anchor &%s at line %d; changing it would change every use of the anchor: %s",
		key, alias.Value, alias.Value, anchorLine, fix)
}

// keyOf is the key of node in the tree under root, or "" if it is not reachable
// without aliases.
func keyOf(root, node *yaml.Node) string {
	var segs []segment
	var find func(n *yaml.Node) bool
	find = func(n *yaml.Node) bool {
		if n == node {
			return true
		}
		switch n.Kind {
		case yaml.MappingNode:
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Kind != yaml.ScalarNode {
					continue
				}
				segs = append(segs, segment{key: n.Content[j].Value, index: -1})
				if find(n.Content[j+1]) {
					return true
				}
				segs = segs[:len(segs)-1]
			}
		case yaml.SequenceNode:
			for j, c := range n.Content {
				segs = append(segs, segment{index: j})
				if find(c) {
					return true
				}
				segs = segs[:len(segs)-1]
			}
		}
		return false
	}
	if root == nil || node == nil || !find(root) || len(segs) == 0 || segs[0].index >= 0 {
		return ""
	}
	return formatKey(segs)
}

// describeNode is n in words, for error messages: a mapping, the string "x", 3 (int).
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias (*" + n.Value + ")"
	}
	if n.Tag == "!!null" {
		return "null"
	}
	if n.Tag == "!!str" {
		return "the string " + strconv.Quote(n.Value)
	}
	return fmt.Sprintf("%s (%s)", n.Value, strings.TrimPrefix(n.Tag, "!!"))
}

// aliases lists the aliases that read the target (or the mapping that got the key) through
// an anchor on the way to it.
func (s *setter) aliases() (string, []int) {
	anchored := map[*yaml.Node]bool{}
	anchor := ""
	for _, n := range s.path {
		if n != nil && n.Anchor != "" {
			anchored[n] = true
			anchor = n.Anchor
		}
	}
	if len(anchored) == 0 {
		return "", nil
	}
	var lines []int
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode && anchored[n.Alias] {
			lines = append(lines, n.Line)
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(s.root)
	if len(lines) == 0 {
		return "", nil
	}
	return anchor, lines
}
