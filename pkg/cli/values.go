package cli

// values set: change one value of a Helm values file in place, byte for byte. The file is
// parsed into a yaml.Node tree only to find where the value is; the new value is spliced
// into the original bytes, so comments, order, indentation and line endings stay as they
// are. Every edit is checked before it is written: the new file must read, in yaml.v3 and
// as Helm reads it (sigs.k8s.io/yaml), exactly like the old one except for the one key.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// ExitUnchanged: values set found the key already at the value; the file was not written.
const ExitUnchanged = 3

// DefaultValuesKey is the key values set changes unless --key says otherwise.
const DefaultValuesKey = "image.tag"

func (a *app) valuesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "values",
		Short: "Set the image tag (or another value) in a Helm values file, keeping every other byte",
		Long: `Change Helm values files the way a person would: one value, with every other byte
of the file (comments, order, indentation, line endings) left as it is.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(a.valuesSetCommand())
	return cmd
}

func (a *app) valuesSetCommand() *cobra.Command {
	var key string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "set FILE VALUE [--key image.tag]",
		Short: "Set one value (image.tag by default) of a Helm values file, leaving every other byte as it is",
		Long: `Set one key of a Helm values file to the string VALUE, in place. Only the bytes of that
value change: comments (also on the same line), key order, indentation, blank lines, line
endings (CRLF stays CRLF), document markers and every other "tag:" of the file stay as
they are. It replaces sed -i 's/tag:.*/tag: 1.4.3/' in CI, which also rewrites sidecar
tags, init container tags and comments.

The key (--key, default image.tag) is a dotted path in the notation of helm --set:
  image.tag                          key "tag" of the mapping "image"
  sidecars[0].image.tag              item 0 of the list "sidecars"
  podAnnotations.example\.com/sha    a backslash makes the next character literal

VALUE is always written as a string, the way Helm will read it. It keeps the quoting the
value has in the file (plain, 'single' or "double"), but is double-quoted where it would
otherwise read as another type or not parse: 1.10 (the number 1.1), true, yes, null, ~,
1e3, 0x1F, or text starting with * & ! { [ # @ or containing ": " or " #".

  - An anchored value (tag: &t 1.4.2) is replaced and keeps its anchor, so each alias (*t)
    reads the new value too; a note on stderr names them. A key whose value is an alias
    (tag: *t) is refused: set the anchored key instead.
  - A missing key is added, double-quoted, at the end of its mapping and with the
    mapping's indentation, with any missing parent mappings: without "image:", the file
    gets image:/tag: "1.4.3" at its end. In a flow mapping (image: {repository: x}) the
    key is added inside the braces. List items are never created.
  - Refused, with the line: a file of several YAML documents (a values file has one), a
    block scalar (| or >) or a value written over several lines, a mapping or list where
    a value was expected, a value with an explicit tag other than !!str.

The file is replaced atomically (a temporary file in the same directory, renamed over it)
and keeps its mode; a symbolic link is followed. --dry-run writes nothing. One line on
stdout says what changed:
  values-prod.yaml: image.tag "1.4.2" -> "1.4.3"
  values-prod.yaml: image.tag is already "1.4.3"

Exit codes:
  0  the file was changed (with --dry-run: would be)
  1  error, nothing was written: stderr names the file, the line and the key
  3  the key already had that value: the file was not written, not even its mtime changed

A shell with "set -e" stops at exit 3 as at exit 1, unless the command is the condition of
an "if" (or is followed by ||): in an "if", exit 1 also skips the "then" branch, so a
pipeline that must fail on errors checks the exit code as in the second example.`,
		Example: `  # CI of the manifest repository: bump the tag, commit and push only if the file changed
  if kubectl bluegreen values set api-gateway/values-prod.yaml "$TAG"; then git commit -am "api-gateway: $TAG to prod" && git push; fi

  # The same, but an error (exit 1) fails the job instead of looking like "no change" (3)
  rc=0; kubectl bluegreen values set api-gateway/values-prod.yaml "$TAG" || rc=$?
  case $rc in
    0) git commit -am "api-gateway: $TAG to prod" && git push ;;
    3) echo "prod already runs $TAG" ;;
    *) exit "$rc" ;;
  esac

  # Another key, a list item, a key with a dot in it; show what would change
  kubectl bluegreen values set values.yaml 2.1.0 --key 'sidecars[0].image.tag'
  kubectl bluegreen values set values.yaml "$GIT_SHA" --key 'podAnnotations.example\.com/sha' --dry-run`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError("values set takes a FILE and a VALUE, got %d argument(s): kubectl bluegreen values set values-prod.yaml 1.4.3 [--key image.tag]", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.valuesSet(args[0], args[1], key, dryRun)
		},
	}
	cmd.Flags().StringVar(&key, "key", DefaultValuesKey, `Dotted path of the value, as in helm --set: a.b, list[0].c, a\.b for a key with a dot`)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "Print what would change and exit as if, but do not write the file")
	return cmd
}

func (a *app) valuesSet(file, value, key string, dryRun bool) error {
	fail := func(err error) error {
		var ve *ValuesError
		if errors.As(err, &ve) && ve.Line > 0 {
			return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s:%d: %s", file, ve.Line, ve.Msg)}
		}
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s: %w", file, err)}
	}
	path, err := filepath.EvalSymlinks(file)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(errors.New("no such file (the path is relative to the current directory)"))
	}
	if err != nil {
		return fail(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return fail(err)
	}
	if !info.Mode().IsRegular() {
		return fail(errors.New("not a regular file"))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fail(err)
	}
	out, res, err := SetValue(data, key, value)
	if err != nil {
		return fail(err)
	}
	if !res.Changed {
		fmt.Fprintf(a.out(), "%s: %s is already %s\n", file, key, strconv.Quote(value))
		return &ExitError{Code: ExitUnchanged, Quiet: true, Err: fmt.Errorf("%s: %s is already %s: nothing to change, the file was not written (exit %d)", file, key, strconv.Quote(value), ExitUnchanged)}
	}
	old := res.Old
	if res.Added {
		old = "(not set)"
	}
	suffix := ""
	if dryRun {
		suffix = " (dry run: not written)"
	}
	fmt.Fprintf(a.out(), "%s: %s %s -> %s%s\n", file, key, old, strconv.Quote(value), suffix)
	if len(res.AliasLines) > 0 {
		lines := make([]string, len(res.AliasLines))
		for i, l := range res.AliasLines {
			lines[i] = strconv.Itoa(l)
		}
		fmt.Fprintf(a.errOut(), "note: %s: %s is under the anchor &%s, so the alias(es) at line %s read the new value too\n",
			file, key, res.Anchor, strings.Join(lines, ", "))
	}
	if dryRun {
		return nil
	}
	if err := writeFileAtomic(path, data, out, info); err != nil {
		return fail(err)
	}
	return nil
}

// writeFileAtomic replaces path with data through a temporary file in the same directory,
// keeping the mode of the old file. It refuses if the file changed since it was read.
func writeFileAtomic(path string, old, data []byte, info fs.FileInfo) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(info.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if now, err := os.ReadFile(path); err != nil || !bytes.Equal(now, old) {
		return errors.New("the file changed while values set was editing it; nothing was written: run it again")
	}
	return os.Rename(tmp.Name(), path)
}

// ValuesSetResult says what SetValue did.
type ValuesSetResult struct {
	// Changed is false when the key already had the value: the file is returned as it was.
	Changed bool
	// Added is true when the key was not in the file.
	Added bool
	// Old is the old value as the file has it: a quoted string, or the text of a number,
	// boolean or null.
	Old string
	// Anchor is the anchor the value is under, when there are aliases of it (AliasLines).
	Anchor     string
	AliasLines []int
}

// ValuesError is a values file that values set cannot change as asked, with the line.
type ValuesError struct {
	Line int // 0 when the error is about no particular line
	Msg  string
	// unverified: an edit was made but did not read back as intended. That is a bug of
	// values set, not of the file; the fuzz test fails on it.
	unverified bool
}

func (e *ValuesError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

func valuesErr(line int, format string, args ...any) *ValuesError {
	return &ValuesError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// valuesSeg is one step of a key: a mapping key, or a list index (index >= 0).
type valuesSeg struct {
	key   string
	index int
}

// parseValuesKey reads the --key notation: keys separated by dots, [N] for list items, a
// backslash before a character that is part of a key (\. \[ \] \\).
func parseValuesKey(s string) ([]valuesSeg, error) {
	if s == "" {
		return nil, errors.New("the key is empty: give a dotted path such as image.tag")
	}
	if !utf8.ValidString(s) {
		return nil, errors.New("the key is not UTF-8 text")
	}
	bad := func(why string) error {
		return fmt.Errorf("key %q: %s (keys are dotted paths such as image.tag or sidecars[0].tag; write \\. for a dot inside a key)", s, why)
	}
	var segs []valuesSeg
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
		segs = append(segs, valuesSeg{key: name.String(), index: -1})
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
			segs = append(segs, valuesSeg{index: n})
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

// formatValuesKey writes segs back in the --key notation.
func formatValuesKey(segs []valuesSeg) string {
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

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// SetValue returns data with the value at key (the --key notation) set to the string
// value, and what it did. The result is data itself when the key already has the value.
func SetValue(data []byte, key, value string) ([]byte, *ValuesSetResult, error) {
	segs, err := parseValuesKey(key)
	if err != nil {
		return nil, nil, err
	}
	if !utf8.ValidString(value) {
		return nil, nil, errors.New("the value is not UTF-8 text")
	}
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return nil, nil, errors.New("the file is UTF-16; values set edits UTF-8 files only")
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
		return nil, nil, valuesErr(1+bytes.Count(data[:bad], []byte("\n")), "not UTF-8 text; values set edits UTF-8 files only")
	}
	root, err := parseValuesDocument(data)
	if err != nil {
		return nil, nil, err
	}
	s := &valuesSetter{src: data, lines: yamlLineStarts(data), segs: segs, value: value, root: root}
	s.eol = "\n"
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 && data[i] == '\r' {
		s.eol = "\r"
		if i+1 < len(data) && data[i+1] == '\n' {
			s.eol = "\r\n"
		}
	}
	if err := s.walk(); err != nil {
		return nil, nil, err
	}
	if s.unchanged() {
		return data, &ValuesSetResult{Old: displayValue(s.target, s.flow)}, nil
	}
	var last error
	for _, double := range []bool{false, true} {
		candidates, err := s.edits(double)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range candidates {
			out := applyValuesEdits(data, c.edits)
			if err := s.verify(out); err != nil {
				last = err
				continue
			}
			res := &ValuesSetResult{Changed: true, Added: s.target == nil}
			if s.target != nil {
				res.Old = displayValue(s.target, s.flow)
			}
			res.Anchor, res.AliasLines = s.aliases()
			return out, res, nil
		}
	}
	return nil, nil, &ValuesError{unverified: true, Msg: fmt.Sprintf(
		"could not set %s without changing how the rest of the file reads (%v); nothing was written: set it by hand, and please report this as a bug of values set",
		formatValuesKey(segs), last)}
}

// parseValuesDocument parses the one document of a values file; nil when it has none.
func parseValuesDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, yamlSyntaxError(data, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlSyntaxError(data, err)
	default:
		return nil, valuesErr(next.Line, "a second YAML document starts here; values set edits files of one document, as a Helm values file is: remove the --- line or split the file")
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// yamlSyntaxError names the line of a YAML error. yaml.v3 reports no line for errors on
// the first line and, for parser errors, the line of the enclosing node: the first prefix
// of the file that fails with the same message has the line where the problem is.
func yamlSyntaxError(data []byte, err error) error {
	msg := func(err error) string { return yamlLineRE.ReplaceAllString(err.Error(), "") }
	want := msg(err)
	starts := yamlLineStarts(data)
	lineEnd := func(n int) int { // end of the first n lines
		if n < len(starts) {
			return starts[n]
		}
		return len(data)
	}
	fails := func(n int) bool {
		dec := yaml.NewDecoder(bytes.NewReader(data[:lineEnd(n)]))
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if err == nil {
				continue
			}
			return !errors.Is(err, io.EOF) && msg(err) == want
		}
	}
	line := sort.Search(len(starts), func(i int) bool { return fails(i + 1) }) + 1
	if line > len(starts) {
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil && m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		} else {
			line = 0
		}
	}
	return valuesErr(line, "not valid YAML: %s; fix the file first", want)
}

// valuesSetter is one SetValue: the file, the key, and where the walk along the key ended.
type valuesSetter struct {
	src   []byte
	lines []int // byte offset where each line starts; lines[0] is line 1
	eol   string
	segs  []valuesSeg
	value string
	root  *yaml.Node // top node of the document; nil for an empty file

	// The walk found the value: target, at flat path targetFlat.
	target     *yaml.Node
	targetFlat string
	// The walk found no value: rest are the keys to add, to parent (a mapping, at
	// parentFlat), or in place of null (the null value of nullKey in nullParent, at
	// parentFlat), or to the empty document (all three nil).
	parent     *yaml.Node
	null       *yaml.Node
	nullKey    *yaml.Node
	parentFlat string
	rest       []valuesSeg
	// flow: the target, or the mapping that gets the new key, is inside a flow collection.
	flow bool
	// path: the nodes from the top to the target or parent, for anchors.
	path []*yaml.Node
}

func (s *valuesSetter) keyName(n int) string { return formatValuesKey(s.segs[:n]) }

// walk follows the key through the document.
func (s *valuesSetter) walk() error {
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
		return valuesErr(cur.Line, "the top of the file is %s, not a mapping of values", describeNode(cur))
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
				return valuesErr(cur.Line, "%s is %s, not a list, so it has no item [%d]", s.keyName(i), describeNode(cur), seg.index)
			}
			if seg.index >= len(cur.Content) {
				return valuesErr(cur.Line, "%s has %d item(s), so %s does not exist; values set does not add list items",
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
				fix = fmt.Sprintf(": name a list item, as in --key %s[0].%s", s.keyName(i), formatValuesKey(s.segs[i:]))
			}
			if i == 0 {
				return valuesErr(cur.Line, "the top of the file is %s, not a mapping of values", describeNode(cur))
			}
			return valuesErr(cur.Line, "%s is %s, not a mapping, so it has no key %q%s", s.keyName(i), describeNode(cur), seg.key, fix)
		}
		found := -1
		for j := 0; j+1 < len(cur.Content); j += 2 {
			k := cur.Content[j]
			if k.Kind != yaml.ScalarNode || k.Value != seg.key {
				continue
			}
			if found >= 0 {
				return valuesErr(k.Line, "%s is in the file twice (lines %d and %d); Helm would read only the last one: remove one first",
					s.keyName(i+1), cur.Content[found].Line, k.Line)
			}
			found = j
		}
		if found < 0 {
			return s.missing(cur, nil, nil, flat, i)
		}
		if k := cur.Content[found]; k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.TaggedStyle) == 0 && !helmReadsKey(k.Value, s.flow || cur.Style&yaml.FlowStyle != 0) {
			return valuesErr(k.Line, "Helm does not read the key %s as the string %q (in YAML 1.1 a plain %s is not a string): quote it first, as in %q:",
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
		return valuesErr(line, "%s is %s, not a single value: give the key of a value inside it", key, describeNode(cur))
	case cur.Style&yaml.TaggedStyle != 0 && cur.Tag != "!!str":
		return valuesErr(cur.Line, "%s has the explicit tag %s; remove the tag first, or change the value by hand", key, cur.Tag)
	case cur.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return valuesErr(cur.Line, "%s is a block scalar (| or >); values set changes one-line values only: make it a one-line value first", key)
	}
	s.target, s.targetFlat = cur, flat
	return nil
}

// missing records that the key is not in the file from segs[i] on.
func (s *valuesSetter) missing(parent, null, nullKey *yaml.Node, flat string, i int) error {
	for j := i; j < len(s.segs); j++ {
		if s.segs[j].index >= 0 {
			return valuesErr(0, "%s is not in the file, and values set does not create lists: add the list by hand first", s.keyName(j))
		}
	}
	if null != nil && (null.Anchor != "" || null.Style&yaml.TaggedStyle != 0) {
		return valuesErr(null.Line, "%s is null with an anchor or tag; give it a mapping by hand first", s.keyName(i))
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
func (s *valuesSetter) aliasError(alias *yaml.Node, i int) error {
	key := s.keyName(i)
	fix := "replace the alias by a value by hand, or change the anchored value"
	if p := findValuesPath(s.root, alias.Alias); p != "" {
		rest := ""
		if i < len(s.segs) {
			rest = formatValuesKey(append([]valuesSeg{{key: "x", index: -1}}, s.segs[i:]...))[1:]
		}
		fix = fmt.Sprintf("set the anchored value instead (--key %s%s), or replace the alias by a value by hand", p, rest)
	}
	anchorLine := 0
	if alias.Alias != nil {
		anchorLine = alias.Alias.Line
	}
	return valuesErr(alias.Line, "%s is the alias *%s of the anchor &%s at line %d; changing it would change every use of the anchor: %s",
		key, alias.Value, alias.Value, anchorLine, fix)
}

// findValuesPath is the --key of node in the tree under root, or "" if it is not reachable
// without aliases.
func findValuesPath(root, node *yaml.Node) string {
	var segs []valuesSeg
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
				segs = append(segs, valuesSeg{key: n.Content[j].Value, index: -1})
				if find(n.Content[j+1]) {
					return true
				}
				segs = segs[:len(segs)-1]
			}
		case yaml.SequenceNode:
			for j, c := range n.Content {
				segs = append(segs, valuesSeg{index: j})
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
	return formatValuesKey(segs)
}

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

// displayValue is a scalar for the one-line report: strings quoted, others (as Helm
// reads them: a plain yes is a boolean) as written.
func displayValue(n *yaml.Node, flow bool) string {
	if n.Tag == "!!str" && (n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.TaggedStyle) != 0 || plainIsString(n.Value, flow, false)) {
		return strconv.Quote(n.Value)
	}
	if n.Tag == "!!null" && n.Value == "" {
		return "null"
	}
	return n.Value
}

// unchanged says whether the target already reads as the string value, in yaml.v3 and in
// Helm's YAML 1.1 (where a plain yes is a boolean).
func (s *valuesSetter) unchanged() bool {
	t := s.target
	if t == nil || t.Tag != "!!str" || t.Value != s.value {
		return false
	}
	return displayValue(t, s.flow) == strconv.Quote(s.value)
}

// aliases lists the aliases that read the target (or the mapping that got the key) through
// an anchor on the way to it.
func (s *valuesSetter) aliases() (string, []int) {
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

// A valuesEdit replaces src[start:end] by text.
type valuesEdit struct {
	start, end int
	text       string
}

// A valuesCandidate is one way to make the change: edits of the file.
type valuesCandidate struct {
	edits []valuesEdit
}

func applyValuesEdits(src []byte, edits []valuesEdit) []byte {
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
func (s *valuesSetter) edits(double bool) ([]valuesCandidate, error) {
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
			return []valuesCandidate{{edits: []valuesEdit{{p, p, text}}}}, nil
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
		return []valuesCandidate{{edits: []valuesEdit{{start, end, text}}}}, nil
	}
	// The key is missing.
	switch {
	case s.parent != nil && s.parent.Style&yaml.FlowStyle != 0:
		at, sep, err := s.flowInsertPoint(s.parent)
		if err != nil {
			return nil, err
		}
		return []valuesCandidate{{edits: []valuesEdit{{at, at, sep + s.flowText(s.rest)}}}}, nil
	case s.parent != nil:
		indent := s.parent.Content[0].Column - 1
		last := s.parent.Content[len(s.parent.Content)-2]
		var out []valuesCandidate
		for _, at := range s.blockEnds(last.Line, indent) {
			out = append(out, s.blockInsert(at, indent))
		}
		return out, nil
	case s.null != nil:
		var edits []valuesEdit
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
				return []valuesCandidate{{edits: []valuesEdit{{start, end, s.flowText(s.rest)}}}}, nil
			}
			for start > 0 && isYAMLSpace(s.src[start-1]) {
				start--
			}
			edits = append(edits, valuesEdit{start, end, ""})
			endLine = s.lineOf(end)
		} else if s.flow {
			return nil, valuesErr(s.null.Line, "%s is empty in a flow mapping; write {} or a value there first", s.keyName(len(s.segs)-len(s.rest)))
		}
		c := s.blockInsert(s.lineEndOffset(endLine), s.nullKey.Column-1+s.indentStep())
		c.edits = append(edits, c.edits...)
		return []valuesCandidate{c}, nil
	default: // empty document
		return []valuesCandidate{s.blockInsert(len(s.src), 0)}, nil
	}
}

// blockEnds are the places to add a key at the end of a block mapping whose last key is on
// line keyLine and whose keys are indented by indent: after the last line of the last
// value, or else after the comments and blank lines that follow it.
func (s *valuesSetter) blockEnds(keyLine, indent int) []int {
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
func (s *valuesSetter) blockInsert(at, indent int) valuesCandidate {
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
	return valuesCandidate{edits: []valuesEdit{{at, at, text}}}
}

func (s *valuesSetter) endsWithBreak() bool {
	n := len(s.src)
	return n > 0 && (s.src[n-1] == '\n' || s.src[n-1] == '\r' ||
		bytes.HasSuffix(s.src, []byte("\xc2\x85")) || bytes.HasSuffix(s.src, []byte("\xe2\x80\xa8")) || bytes.HasSuffix(s.src, []byte("\xe2\x80\xa9")))
}

// flowText is the missing keys as a flow mapping entry: a: {b: "value"}.
func (s *valuesSetter) flowText(rest []valuesSeg) string {
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
func (s *valuesSetter) indentStep() int {
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
func (s *valuesSetter) flowInsertPoint(m *yaml.Node) (int, string, error) {
	p, err := s.offset(m.Line, m.Column)
	if err != nil {
		return 0, "", err
	}
	p = s.skipProperties(p)
	if p >= len(s.src) || s.src[p] != '{' {
		return 0, "", valuesErr(m.Line, "cannot find the { of the flow mapping %s", s.keyName(len(s.segs)-len(s.rest)))
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
				return 0, "", valuesErr(m.Line, "cannot find the end of the flow mapping %s", s.keyName(len(s.segs)-len(s.rest)))
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
	return 0, "", valuesErr(m.Line, "cannot find the end of the flow mapping %s", s.keyName(len(s.segs)-len(s.rest)))
}

// verify checks that out reads like the old file except for the key, in yaml.v3 and in
// sigs.k8s.io/yaml, which Helm reads values with.
func (s *valuesSetter) verify(out []byte) error {
	root, err := parseValuesDocument(out)
	if err != nil {
		return fmt.Errorf("the result does not parse: %v", err)
	}
	before, after := map[string]flatNode{}, map[string]flatNode{}
	flattenValues(s.root, "", before)
	flattenValues(root, "", after)
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

// flattenValues records every node under n by its path: /i for the value of the i-th
// pair of a mapping, /ik for its key, [i] for a list item.
func flattenValues(n *yaml.Node, path string, out map[string]flatNode) {
	if n == nil {
		return
	}
	out[path] = flatNode{kind: n.Kind, tag: n.Tag, value: n.Value, anchor: n.Anchor, style: n.Style}
	switch n.Kind {
	case yaml.MappingNode:
		for j := 0; j+1 < len(n.Content); j += 2 {
			flattenValues(n.Content[j], fmt.Sprintf("%s/%dk", path, j/2), out)
			flattenValues(n.Content[j+1], fmt.Sprintf("%s/%d", path, j/2), out)
		}
	case yaml.SequenceNode:
		for j, c := range n.Content {
			flattenValues(c, fmt.Sprintf("%s[%d]", path, j), out)
		}
	}
}

// Positions. yaml.v3 counts lines at \n, \r\n, \r, NEL, LS and PS, and columns in
// characters from 1, after a byte order mark on the first line.

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

func (s *valuesSetter) breakWidth(i int) int { return breakWidthAt(s.src, i) }

func isYAMLSpace(c byte) bool { return c == ' ' || c == '\t' }

// offset is the byte offset of a yaml.v3 line and column.
func (s *valuesSetter) offset(line, col int) (int, error) {
	if line < 1 || line > len(s.lines) {
		return 0, valuesErr(line, "internal error: no line %d", line)
	}
	p := s.lines[line-1]
	for i := 1; i < col; i++ {
		if p >= len(s.src) || s.breakWidth(p) > 0 {
			return 0, valuesErr(line, "internal error: no column %d", col)
		}
		_, w := utf8.DecodeRune(s.src[p:])
		p += w
	}
	return p, nil
}

// lineOf is the line of byte offset p.
func (s *valuesSetter) lineOf(p int) int {
	return sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > p })
}

// lineText is line l without its line break.
func (s *valuesSetter) lineText(l int) []byte {
	start := s.lines[l-1]
	end := start
	for end < len(s.src) && s.breakWidth(end) == 0 {
		end++
	}
	return s.src[start:end]
}

// lineEndOffset is the offset after line l and its line break.
func (s *valuesSetter) lineEndOffset(l int) int {
	if l < len(s.lines) {
		return s.lines[l]
	}
	return len(s.src)
}

// skipProperties skips an anchor and a tag (and the spaces, comments and line breaks
// after them) from p, where a node starts.
func (s *valuesSetter) skipProperties(p int) int {
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
func (s *valuesSetter) scalarSpan(n *yaml.Node, p int) (int, int, error) {
	key := s.keyName(len(s.segs) - len(s.rest))
	multiline := valuesErr(n.Line, "%s is written over several lines; values set changes one-line values only: make it one line first", key)
	if n.Anchor != "" || n.Style&yaml.TaggedStyle != 0 {
		p = s.skipProperties(p)
	}
	if p >= len(s.src) {
		return 0, 0, valuesErr(n.Line, "internal error: value of %s not found", key)
	}
	switch c := s.src[p]; c {
	case '\'', '"':
		end, ok := s.quotedEnd(p, false)
		if !ok {
			return 0, 0, multiline
		}
		var v string
		if err := yaml.Unmarshal(s.src[p:end], &v); err != nil || v != n.Value {
			return 0, 0, valuesErr(n.Line, "internal error: cannot find the value of %s on its line", key)
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
func (s *valuesSetter) quotedEnd(p int, multiline bool) (int, bool) {
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

// Quoting.

// plainIsString says whether v, written plain as a value (or key) in block or flow
// context, reads back as the string v in YAML 1.2 (yaml.v3) and YAML 1.1 (Helm).
func plainIsString(v string, flow, key bool) bool {
	if v == "" || v != strings.TrimSpace(v) || strings.ContainsAny(v[:1], "-?:,[]{}#&*!|>'\"%@`") ||
		strings.Contains(v, ": ") || strings.Contains(v, " #") || strings.HasSuffix(v, ":") ||
		flow && strings.ContainsAny(v, ",[]{}") {
		return false
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7F || r >= 0x80 && r < 0xA0 || r == 0x2028 || r == 0x2029 || r == 0xFEFF || r >= 0xD800 && r < 0xE000 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	probe := "k: " + v
	if key {
		probe = v + ": k"
	}
	if flow {
		probe = "{" + probe + "}"
	}
	var doc yaml.Node
	if yaml.Unmarshal([]byte(probe), &doc) != nil || len(doc.Content) != 1 {
		return false
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode || len(m.Content) != 2 {
		return false
	}
	n := m.Content[1]
	if key {
		n = m.Content[0]
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || n.Value != v {
		return false
	}
	var helm map[string]any
	if sigsyaml.Unmarshal([]byte(probe), &helm) != nil || len(helm) != 1 {
		return false
	}
	if key {
		_, ok := helm[v]
		return ok
	}
	got, ok := helm["k"].(string)
	return ok && got == v
}

// helmReadsKey says whether Helm (sigs.k8s.io/yaml, YAML 1.1) reads the plain key k as
// the string k: a plain y or on is the boolean true, whose key is "true".
func helmReadsKey(k string, flow bool) bool {
	probe := k + ": x"
	if flow {
		probe = "{" + probe + "}"
	}
	var helm map[string]any
	if sigsyaml.Unmarshal([]byte(probe), &helm) != nil {
		return true // not something to judge in isolation; the edit is verified anyway
	}
	_, ok := helm[k]
	return ok
}

// yamlPrintable is what YAML allows unescaped in a quoted scalar (without line breaks,
// tabs and the byte order mark).
func yamlPrintable(r rune) bool {
	return r >= 0x20 && r <= 0x7E || r >= 0xA0 && r <= 0xD7FF && r != 0x2028 && r != 0x2029 ||
		r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF || r >= 0x10000 && r <= 0x10FFFF
}

func doubleQuoted(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == 0:
			b.WriteString(`\0`)
		case yamlPrintable(r):
			b.WriteRune(r)
		case r <= 0xFF:
			fmt.Fprintf(&b, `\x%02X`, r)
		case r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			fmt.Fprintf(&b, `\U%08X`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// singleQuoted writes v single-quoted, or double-quoted if it has characters that need
// an escape.
func singleQuoted(v string) string {
	for _, r := range v {
		if !yamlPrintable(r) {
			return doubleQuoted(v)
		}
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}
