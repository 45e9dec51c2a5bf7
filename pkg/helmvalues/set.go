package helmvalues

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// Result says what Set did.
type Result struct {
	// Changed is false when the key already had the value: the file is returned as it was.
	Changed bool
	// Added is true when the key was not in the file.
	Added bool
	// Old is the old value as the file has it: a quoted string, or the text of a number,
	// boolean or null.
	Old string
	// Anchor is the anchor the value is under, when there are aliases of it: the value
	// read through each of them changes too. AliasLines are the lines of those aliases.
	Anchor     string
	AliasLines []int
}

// Set returns data with the value at key set to the string value, and what it did. The
// key is a dotted path in the notation of helm --set: image.tag, sidecars[0].image.tag,
// and a backslash before a character that is part of a key (podAnnotations.example\.com/sha).
// The result is data itself when the key already has the value (Result.Changed is false).
// An error that concerns a line of the file is an *Error.
func Set(data []byte, key, value string) ([]byte, Result, error) {
	segs, err := parseKey(key)
	if err != nil {
		return nil, Result{}, err
	}
	if !utf8.ValidString(value) {
		return nil, Result{}, errors.New("the value is not UTF-8 text")
	}
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return nil, Result{}, errors.New("the file is UTF-16; values set edits UTF-8 files only")
	}
	if !utf8.Valid(data) {
		bad := 0
		for bad < len(data) {
			r, w := utf8.DecodeRune(data[bad:])
			if r == utf8.RuneError && w == 1 {
				break
			}
			bad += w
		}
		return nil, Result{}, errorAt(1+bytes.Count(data[:bad], []byte("\n")), "not UTF-8 text; values set edits UTF-8 files only")
	}
	root, err := parseDocument(data)
	if err != nil {
		return nil, Result{}, err
	}
	s := &setter{src: data, lines: yamlLineStarts(data), segs: segs, value: value, root: root}
	s.eol = "\n"
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 && data[i] == '\r' {
		s.eol = "\r"
		if i+1 < len(data) && data[i+1] == '\n' {
			s.eol = "\r\n"
		}
	}
	if err := s.walk(); err != nil {
		return nil, Result{}, err
	}
	if s.unchanged() {
		return data, Result{Old: displayValue(s.target, s.flow)}, nil
	}
	var last error
	for _, double := range []bool{false, true} {
		candidates, err := s.edits(double)
		if err != nil {
			return nil, Result{}, err
		}
		for _, c := range candidates {
			out := applyEdits(data, c.edits)
			if err := s.verify(out); err != nil {
				last = err
				continue
			}
			res := Result{Changed: true, Added: s.target == nil}
			if s.target != nil {
				res.Old = displayValue(s.target, s.flow)
			}
			res.Anchor, res.AliasLines = s.aliases()
			return out, res, nil
		}
	}
	return nil, Result{}, &Error{unverified: true, Msg: fmt.Sprintf(
		"could not set %s without changing how the rest of the file reads (%v); nothing was written: set it by hand, and please report this as a bug of values set",
		formatKey(segs), last)}
}

// setter is one Set: the file, the key, and where the walk along the key ended.
type setter struct {
	src   []byte
	lines []int // byte offset where each line starts; lines[0] is line 1
	eol   string
	segs  []segment
	value string
	root  *yaml.Node // top node of the document; nil for an empty file

	// The walk found the value: target, at flat path targetFlat.
	target     *yaml.Node
	targetFlat string
	// The walk found no value: rest are the keys to add, to parent (a mapping, at
	// parentFlat), or in place of null (the null value of nullKey, at
	// parentFlat), or to the empty document (all three nil).
	parent     *yaml.Node
	null       *yaml.Node
	nullKey    *yaml.Node
	parentFlat string
	rest       []segment
	// flow: the target, or the mapping that gets the new key, is inside a flow collection.
	flow bool
	// path: the nodes from the top to the target or parent, for anchors.
	path []*yaml.Node
}

func (s *setter) keyName(n int) string { return formatKey(s.segs[:n]) }

// unchanged says whether the target already reads as the string value, in yaml.v3 and in
// Helm's YAML 1.1 (where a plain yes is a boolean).
func (s *setter) unchanged() bool {
	t := s.target
	if t == nil || t.Tag != "!!str" || t.Value != s.value {
		return false
	}
	return displayValue(t, s.flow) == strconv.Quote(s.value)
}
