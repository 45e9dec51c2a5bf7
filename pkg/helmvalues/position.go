package helmvalues

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// Positions in the bytes of the file. yaml.v3 counts lines at \n, \r\n, \r, NEL, LS and
// PS, and columns in characters from 1, after a byte order mark on the first line.

// yamlLineStarts is the byte offset where each line of b starts, as yaml.v3 counts lines.
func yamlLineStarts(b []byte) []int {
	starts := []int{0}
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		starts[0] = 3
	}
	for i := starts[0]; i < len(b); {
		if w := breakWidthAt(b, i); w > 0 {
			i += w
			starts = append(starts, i)
			continue
		}
		i++
	}
	return starts
}

// breakWidthAt is the length of the line break at b[i], or 0.
func breakWidthAt(b []byte, i int) int {
	switch {
	case b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n':
		return 2
	case b[i] == '\r' || b[i] == '\n':
		return 1
	case b[i] == 0xC2 && i+1 < len(b) && b[i+1] == 0x85:
		return 2
	case b[i] == 0xE2 && i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9):
		return 3
	}
	return 0
}

func (s *setter) breakWidth(i int) int { return breakWidthAt(s.src, i) }

func isYAMLSpace(c byte) bool { return c == ' ' || c == '\t' }

// offset is the byte offset of a yaml.v3 line and column.
func (s *setter) offset(line, col int) (int, error) {
	if line < 1 || line > len(s.lines) {
		return 0, errorAt(line, "internal error: no line %d", line)
	}
	p := s.lines[line-1]
	for i := 1; i < col; i++ {
		if p >= len(s.src) || s.breakWidth(p) > 0 {
			return 0, errorAt(line, "internal error: no column %d", col)
		}
		_, w := utf8.DecodeRune(s.src[p:])
		p += w
	}
	return p, nil
}

// lineOf is the line of byte offset p.
func (s *setter) lineOf(p int) int {
	return sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > p })
}

// lineText is line l without its line break.
func (s *setter) lineText(l int) []byte {
	start := s.lines[l-1]
	end := start
	for end < len(s.src) && s.breakWidth(end) == 0 {
		end++
	}
	return s.src[start:end]
}

// lineEndOffset is the offset after line l and its line break.
func (s *setter) lineEndOffset(l int) int {
	if l < len(s.lines) {
		return s.lines[l]
	}
	return len(s.src)
}

// skipProperties skips an anchor and a tag (and the spaces, comments and line breaks
// after them) from p, where a node starts.
func (s *setter) skipProperties(p int) int {
	for p < len(s.src) {
		switch c := s.src[p]; {
		case c == '&' || c == '!':
			if c == '!' && p+1 < len(s.src) && s.src[p+1] == '<' {
				for p < len(s.src) && s.src[p] != '>' && s.breakWidth(p) == 0 {
					p++
				}
			}
			for p < len(s.src) && !isYAMLSpace(s.src[p]) && s.breakWidth(p) == 0 && strings.IndexByte(",[]{}", s.src[p]) < 0 {
				p++
			}
		case isYAMLSpace(c):
			p++
		case c == '#':
			for p < len(s.src) && s.breakWidth(p) == 0 {
				p++
			}
		default:
			if w := s.breakWidth(p); w > 0 {
				p += w
				continue
			}
			return p
		}
	}
	return p
}

// scalarSpan is the byte range of the text of the one-line scalar n, which starts (with
// its anchor and tag) at p.
func (s *setter) scalarSpan(n *yaml.Node, p int) (int, int, error) {
	key := s.keyName(len(s.segs) - len(s.rest))
	multiline := errorAt(n.Line, "%s is written over several lines; values set changes one-line values only: make it one line first", key)
	if n.Anchor != "" || n.Style&yaml.TaggedStyle != 0 {
		p = s.skipProperties(p)
	}
	if p >= len(s.src) {
		return 0, 0, errorAt(n.Line, "internal error: value of %s not found", key)
	}
	switch c := s.src[p]; c {
	case '\'', '"':
		end, ok := s.quotedEnd(p, false)
		if !ok {
			return 0, 0, multiline
		}
		var v string
		if err := yaml.Unmarshal(s.src[p:end], &v); err != nil || v != n.Value {
			return 0, 0, errorAt(n.Line, "internal error: cannot find the value of %s on its line", key)
		}
		return p, end, nil
	}
	end := p
	for q := p; q < len(s.src) && s.breakWidth(q) == 0; {
		c := s.src[q]
		next := byte(' ')
		if q+1 < len(s.src) && s.breakWidth(q+1) == 0 {
			next = s.src[q+1]
		}
		if isYAMLSpace(c) && next == '#' ||
			s.flow && strings.IndexByte(",[]{}", c) >= 0 ||
			c == ':' && (isYAMLSpace(next) || s.flow && strings.IndexByte(",[]{}", next) >= 0) {
			break
		}
		_, w := utf8.DecodeRune(s.src[q:])
		q += w
		if !isYAMLSpace(c) {
			end = q
		}
	}
	if string(s.src[p:end]) != n.Value {
		return 0, 0, multiline
	}
	return p, end, nil
}

// quotedEnd is the offset after the quoted scalar that starts at p; ok is false if it
// does not end on its line (unless multiline).
func (s *setter) quotedEnd(p int, multiline bool) (int, bool) {
	quote := s.src[p]
	for q := p + 1; q < len(s.src); {
		if w := s.breakWidth(q); w > 0 {
			if !multiline {
				return 0, false
			}
			q += w
			continue
		}
		c := s.src[q]
		switch {
		case quote == '\'' && c == '\'':
			if q+1 < len(s.src) && s.src[q+1] == '\'' {
				q += 2
				continue
			}
			return q + 1, true
		case quote == '"' && c == '"':
			return q + 1, true
		case quote == '"' && c == '\\':
			q++
			if q < len(s.src) && s.breakWidth(q) > 0 && !multiline {
				return 0, false
			}
		}
		if q < len(s.src) {
			_, w := utf8.DecodeRune(s.src[q:])
			q += w
		}
	}
	return 0, false
}
