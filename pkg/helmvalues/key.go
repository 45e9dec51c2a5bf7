package helmvalues

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// segment is one step of a key: a mapping key, or a list index (index >= 0).
type segment struct {
	key   string
	index int
}

// parseKey reads a key in the notation of helm --set: keys separated by dots, [N] for
// list items, a backslash before a character that is part of a key (\. \[ \] \\).
func parseKey(s string) ([]segment, error) {
	if s == "" {
		return nil, errors.New("the key is empty: give a dotted path such as image.tag")
	}
	if !utf8.ValidString(s) {
		return nil, errors.New("the key is not UTF-8 text")
	}
	bad := func(why string) error {
		return fmt.Errorf("key %q: %s (keys are dotted paths such as image.tag or sidecars[0].tag; write \\. for a dot inside a key)", s, why)
	}
	var segs []segment
	for i := 0; ; {
		var name strings.Builder
		for i < len(s) && s[i] != '.' && s[i] != '[' {
			switch s[i] {
			case '\\':
				if i+1 == len(s) {
					return nil, bad("it ends with a backslash")
				}
				_, w := utf8.DecodeRuneInString(s[i+1:])
				name.WriteString(s[i+1 : i+1+w])
				i += 1 + w
				continue
			case ']':
				return nil, bad("a ] without [")
			}
			name.WriteByte(s[i])
			i++
		}
		if name.Len() == 0 {
			return nil, bad("an empty key between dots")
		}
		segs = append(segs, segment{key: name.String(), index: -1})
		for i < len(s) && s[i] == '[' {
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, bad("a [ without ]")
			}
			digits := s[i+1 : i+j]
			n, err := strconv.Atoi(digits)
			if err != nil || n < 0 || digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
				return nil, bad(fmt.Sprintf("[%s] is not a list index", digits))
			}
			segs = append(segs, segment{index: n})
			i += j + 1
		}
		if i == len(s) {
			return segs, nil
		}
		if s[i] != '.' {
			return nil, bad("a list index must be followed by . or [")
		}
		i++
		if i == len(s) {
			return nil, bad("it ends with a dot")
		}
	}
}

// formatKey writes segs back in the notation parseKey reads.
func formatKey(segs []segment) string {
	var b strings.Builder
	for i, s := range segs {
		if s.index >= 0 {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		for _, r := range s.key {
			if r == '.' || r == '[' || r == ']' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
