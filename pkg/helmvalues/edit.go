package helmvalues

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// An edit replaces src[start:end] by text.
type edit struct {
	start, end int
	text       string
}

// A candidate is one way to make the change: edits of the file.
type candidate struct {
	edits []edit
}

// applyEdits is src with the edits made.
func applyEdits(src []byte, edits []edit) []byte {
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var out bytes.Buffer
	at := 0
	for _, e := range edits {
		out.Write(src[at:e.start])
		out.WriteString(e.text)
		at = e.end
	}
	out.Write(src[at:])
	return out.Bytes()
}

// edits returns the ways to make the change, best first; double writes the value
// double-quoted whatever its style.
func (s *setter) edits(double bool) ([]candidate, error) {
	if t := s.target; t != nil {
		p, err := s.offset(t.Line, t.Column)
		if err != nil {
			return nil, err
		}
		if t.Tag == "!!null" && t.Value == "" && t.Style&yaml.TaggedStyle == 0 {
			// key: with nothing after it (but perhaps an anchor): the value goes after it.
			if t.Anchor != "" {
				for p < len(s.src) && !isYAMLSpace(s.src[p]) && s.breakWidth(p) == 0 && strings.IndexByte(",]}", s.src[p]) < 0 {
					p++
				}
			}
			text := doubleQuoted(s.value)
			if p > 0 && !isYAMLSpace(s.src[p-1]) {
				text = " " + text
			}
			return []candidate{{edits: []edit{{p, p, text}}}}, nil
		}
		start, end, err := s.scalarSpan(t, p)
		if err != nil {
			return nil, err
		}
		var text string
		switch {
		case double || t.Style&yaml.DoubleQuotedStyle != 0:
			text = doubleQuoted(s.value)
		case t.Style&yaml.SingleQuotedStyle != 0:
			text = singleQuoted(s.value)
		case plainIsString(s.value, s.flow, false):
			text = s.value
		default:
			text = doubleQuoted(s.value)
		}
		return []candidate{{edits: []edit{{start, end, text}}}}, nil
	}
	// The key is missing.
	switch {
	case s.parent != nil && s.parent.Style&yaml.FlowStyle != 0:
		at, sep, err := s.flowInsertPoint(s.parent)
		if err != nil {
			return nil, err
		}
		return []candidate{{edits: []edit{{at, at, sep + s.flowText(s.rest)}}}}, nil
	case s.parent != nil:
		indent := s.parent.Content[0].Column - 1
		last := s.parent.Content[len(s.parent.Content)-2]
		var out []candidate
		for _, at := range s.blockEnds(last.Line, indent) {
			out = append(out, s.blockInsert(at, indent))
		}
		return out, nil
	case s.null != nil:
		var edits []edit
		endLine := s.null.Line
		if s.null.Value != "" {
			p, err := s.offset(s.null.Line, s.null.Column)
			if err != nil {
				return nil, err
			}
			start, end, err := s.scalarSpan(s.null, p)
			if err != nil {
				return nil, err
			}
			if s.flow {
				return []candidate{{edits: []edit{{start, end, s.flowText(s.rest)}}}}, nil
			}
			for start > 0 && isYAMLSpace(s.src[start-1]) {
				start--
			}
			edits = append(edits, edit{start, end, ""})
			endLine = s.lineOf(end)
		} else if s.flow {
			return nil, errorAt(s.null.Line, "%s is empty in a flow mapping; write {} or a value there first", s.keyName(len(s.segs)-len(s.rest)))
		}
		c := s.blockInsert(s.lineEndOffset(endLine), s.nullKey.Column-1+s.indentStep())
		c.edits = append(edits, c.edits...)
		return []candidate{c}, nil
	default: // empty document
		return []candidate{s.blockInsert(len(s.src), 0)}, nil
	}
}

// blockEnds are the places to add a key at the end of a block mapping whose last key is on
// line keyLine and whose keys are indented by indent: after the last line of the last
// value, or else after the comments and blank lines that follow it.
func (s *setter) blockEnds(keyLine, indent int) []int {
	end, after := keyLine, keyLine
	for l := keyLine + 1; l <= len(s.lines); l++ {
		text := s.lineText(l)
		n := len(text) - len(bytes.TrimLeft(text, " "))
		rest := bytes.TrimLeft(text, " \t")
		switch {
		case len(rest) == 0:
			after = l
			continue
		case n > indent:
		case n == indent && rest[0] == '-' && (len(rest) == 1 || rest[1] == ' ' || rest[1] == '\t'):
		case rest[0] == '#':
			after = l
			continue
		default:
			l = len(s.lines) + 1
			continue
		}
		end, after = l, l
	}
	ends := []int{s.lineEndOffset(end)}
	if after != end {
		ends = append(ends, s.lineEndOffset(after))
	}
	return ends
}

// blockInsert adds the missing keys as block lines at offset at (a line start or the end
// of the file), indented by indent.
func (s *setter) blockInsert(at, indent int) candidate {
	step := s.indentStep()
	lines := make([]string, len(s.rest))
	for i, seg := range s.rest {
		lines[i] = strings.Repeat(" ", indent+i*step) + keyText(seg.key, false) + ":"
	}
	lines[len(lines)-1] += " " + doubleQuoted(s.value)
	text := strings.Join(lines, s.eol)
	if at == len(s.src) && at > 0 && !s.endsWithBreak() {
		text = s.eol + text // the last line has no line break: the new lines do not get one either
	} else {
		text += s.eol
	}
	return candidate{edits: []edit{{at, at, text}}}
}

// endsWithBreak says whether the file ends with a line break.
func (s *setter) endsWithBreak() bool {
	n := len(s.src)
	return n > 0 && (s.src[n-1] == '\n' || s.src[n-1] == '\r' ||
		bytes.HasSuffix(s.src, []byte("\xc2\x85")) || bytes.HasSuffix(s.src, []byte("\xe2\x80\xa8")) || bytes.HasSuffix(s.src, []byte("\xe2\x80\xa9")))
}

// flowText is the missing keys as a flow mapping entry: a: {b: "value"}.
func (s *setter) flowText(rest []segment) string {
	text := doubleQuoted(s.value)
	for i := len(rest) - 1; i >= 0; i-- {
		if i < len(rest)-1 {
			text = "{" + text + "}"
		}
		text = keyText(rest[i].key, true) + ": " + text
	}
	if s.null != nil {
		text = "{" + text + "}"
	}
	return text
}

// keyText is a new key, plain if it reads as that string, else double-quoted.
func keyText(k string, flow bool) string {
	if plainIsString(k, flow, true) {
		return k
	}
	return doubleQuoted(k)
}

// indentStep is how many spaces the file indents a nested block mapping by (2 if it has none).
func (s *setter) indentStep() int {
	step := 0
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		if n == nil || step > 0 {
			return
		}
		if n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle == 0 {
			for j := 0; j+1 < len(n.Content); j += 2 {
				k, v := n.Content[j], n.Content[j+1]
				if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 && v.Content[0].Line > k.Line {
					if d := v.Content[0].Column - k.Column; d > 0 {
						step = d
						return
					}
				}
			}
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(s.root)
	if step == 0 {
		step = 2
	}
	return step
}

// flowInsertPoint is where a new entry of the flow mapping m goes (after its last entry)
// and what goes before it.
func (s *setter) flowInsertPoint(m *yaml.Node) (int, string, error) {
	p, err := s.offset(m.Line, m.Column)
	if err != nil {
		return 0, "", err
	}
	p = s.skipProperties(p)
	if p >= len(s.src) || s.src[p] != '{' {
		return 0, "", errorAt(m.Line, "cannot find the { of the flow mapping %s", s.keyName(len(s.segs)-len(s.rest)))
	}
	depth, last, lastChar, prev := 0, p, byte(0), byte(' ')
	for q := p; q < len(s.src); {
		c := s.src[q]
		if w := s.breakWidth(q); w > 0 {
			q, prev = q+w, ' '
			continue
		}
		switch {
		case c == '#' && isYAMLSpace(prev):
			for q < len(s.src) && s.breakWidth(q) == 0 {
				q++
			}
			continue
		case (c == '\'' || c == '"') && (isYAMLSpace(prev) || strings.IndexByte("{[,:", prev) >= 0):
			end, ok := s.quotedEnd(q, true)
			if !ok {
				return 0, "", errorAt(m.Line, "cannot find the end of the flow mapping %s", s.keyName(len(s.segs)-len(s.rest)))
			}
			q, last, lastChar, prev = end, end, c, c
			continue
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				switch lastChar {
				case '{':
					return last, "", nil
				case ',':
					return last, " ", nil
				}
				return last, ", ", nil
			}
		}
		_, w := utf8.DecodeRune(s.src[q:])
		if !isYAMLSpace(c) {
			last, lastChar = q+w, c
		}
		q, prev = q+w, c
	}
	return 0, "", errorAt(m.Line, "cannot find the end of the flow mapping %s", s.keyName(len(s.segs)-len(s.rest)))
}
