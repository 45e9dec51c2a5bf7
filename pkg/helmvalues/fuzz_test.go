package helmvalues

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// FuzzValuesSet sets a key of arbitrary files and checks, without trusting Set's own
// check: the result parses; the key reads back as the string VALUE, in yaml.v3 and as Helm
// reads it; every other scalar is as it was; the bytes changed on one line only, unless
// lines were added; and a file that already has the value comes back as it was.
func FuzzValuesSet(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	keys := []string{"image.tag", "sidecars[1].image.tag", "defaults.tag", "flow.tag", "single.tag", "double.tag",
		"worker.image.tag", "service.tag", "café.étiquette", "a.b", "cron.image.tag", `podAnnotations.example\.com/tag`}
	values := []string{"1.4.3", "1.10", "true", "", "a: b", "it's", `q"\`, "x\ny", "*x", "{a}", " sp ", "ü"}
	for i, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for j := range 3 {
			f.Add(string(data), keys[(i+j)%len(keys)], values[(i*3+j)%len(values)])
		}
	}
	f.Add("a: {b: [1, {c: 'x'}]}\n", "a.b[1].c", "1.4.3")
	f.Add("a:\n- b: 1\n  c: 2\nd: 3\n", "a[0].e", "v")
	f.Add("a: &x\n  b: 1\nc: *x\n", "a.b", "2")
	for seed := range int64(6) {
		g := &valuesGen{r: rand.New(rand.NewSource(seed)), eol: "\n", step: 2}
		g.mapping(0, "", "", 0, false)
		for _, key := range g.settable[:min(2, len(g.settable))] {
			f.Add(g.b.String(), key, values[int(seed)%len(values)])
		}
	}
	// Found by the fuzzer.
	f.Add("", "\x80", "0") // a key that is not UTF-8
	f.Fuzz(func(t *testing.T, doc, key, value string) { checkValuesSet(t, doc, key, value) })
}

// checkValuesSet runs Set and checks its result without trusting Set's own
// check; it says whether Set changed the file.
func checkValuesSet(t testing.TB, doc, key, value string) bool {
	t.Helper()
	out, res, err := Set([]byte(doc), key, value)
	if err != nil {
		var ve *Error
		if errors.As(err, &ve) && ve.unverified {
			t.Fatalf("Set made an edit it could not verify: %v\ninput: %q", err, doc)
		}
		return false
	}
	if !res.Changed && string(out) != doc {
		t.Fatalf("unchanged, but the bytes differ")
	}
	segs, _ := parseKey(key)
	// The key reads back as the string, in yaml.v3 and in Helm's YAML, unless the
	// input could not be read that way in the first place.
	for _, parser := range []struct {
		name      string
		unmarshal func([]byte, any) error
	}{
		{"yaml.v3", yaml.Unmarshal},
		{"Helm", func(b []byte, v any) error { return sigsyaml.Unmarshal(b, v) }},
	} {
		var before, after any
		if parser.unmarshal([]byte(doc), &before) != nil {
			continue
		}
		if err := parser.unmarshal(out, &after); err != nil {
			t.Fatalf("%s cannot read the result: %v\n%s", parser.name, err, out)
		}
		if got := lookupValue(after, segs); got != value {
			t.Fatalf("%s reads %s as %#v, want %q\n%s", parser.name, key, got, value, out)
		}
	}
	// Every other scalar is as it was, and in the same order.
	before, after := scalarsOf(t, []byte(doc)), scalarsOf(t, out)
	if !res.Added {
		changed := 0
		for i := range before {
			if i < len(after) && before[i] != after[i] {
				changed++
				if after[i].tag != "!!str" || after[i].value != value || after[i].anchor != before[i].anchor {
					t.Fatalf("scalar %d is %+v, was %+v\n%s", i, after[i], before[i], out)
				}
			}
		}
		if len(before) != len(after) || changed > 1 {
			t.Fatalf("%d of %d scalars changed, now %d scalars\n%s", changed, len(before), len(after), out)
		}
	} else if !addedOnly(before, after, segs, value) {
		t.Fatalf("scalars before:\n%v\nafter:\n%v\n%s", before, after, out)
	}
	// The bytes changed on one line, or lines were added.
	p := 0
	for p < len(doc) && p < len(out) && doc[p] == out[p] {
		p++
	}
	s := 0
	for s < len(doc)-p && s < len(out)-p && doc[len(doc)-1-s] == out[len(out)-1-s] {
		s++
	}
	if removed := doc[p : len(doc)-s]; strings.ContainsAny(removed, "\r\n") {
		t.Fatalf("removed %q, across lines", removed)
	}
	return res.Changed
}

// addedOnly says whether after is before (less perhaps one null, which became a mapping)
// with scalars added that are keys of segs or value.
func addedOnly(before, after []fuzzScalar, segs []segment, value string) bool {
	extra := func(s fuzzScalar) bool {
		if s.kind != "scalar" || s.tag != "!!str" || s.anchor != "" {
			return false
		}
		if s.value == value {
			return true
		}
		for _, seg := range segs {
			if seg.index < 0 && seg.key == s.value {
				return true
			}
		}
		return false
	}
	match := func(before []fuzzScalar) bool {
		i := 0
		for _, a := range after {
			switch {
			case i < len(before) && a == before[i]:
				i++
			case !extra(a):
				return false
			}
		}
		return i == len(before)
	}
	if match(before) {
		return true
	}
	for i, b := range before {
		if b.tag == "!!null" && match(append(append([]fuzzScalar{}, before[:i]...), before[i+1:]...)) {
			return true
		}
	}
	return false
}

func lookupValue(v any, segs []segment) any {
	for _, s := range segs {
		if s.index >= 0 {
			l, _ := v.([]any)
			if s.index >= len(l) {
				return nil
			}
			v = l[s.index]
			continue
		}
		switch m := v.(type) {
		case map[string]any:
			v = m[s.key]
		case map[any]any:
			v = nil
			for k, e := range m {
				if fmt.Sprint(k) == s.key {
					v = e
				}
			}
		default:
			return nil
		}
	}
	return v
}

type fuzzScalar struct {
	kind, tag, value, anchor string
	style                    yaml.Style
}

// scalarsOf lists the scalars and aliases of a file in order.
func scalarsOf(t testing.TB, data []byte) []fuzzScalar {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("does not parse: %v", err)
	}
	var out []fuzzScalar
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.ScalarNode:
			out = append(out, fuzzScalar{"scalar", n.Tag, n.Value, n.Anchor, n.Style})
		case yaml.AliasNode:
			out = append(out, fuzzScalar{"alias", "", n.Value, "", 0})
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(&doc)
	return out
}

// valuesGen writes a random values file, and the keys Set must be able to set in it.
type valuesGen struct {
	r        *rand.Rand
	b        strings.Builder
	eol      string
	step     int
	anchors  []string
	settable []string // keys of one-line values, empty values, and new keys of mappings
	others   []string // keys Set may refuse
}

var (
	genKeys   = []string{"image", "tag", "repository", "x.y", "é", "y", "1", "a b"}
	genValues = []string{"1.4.2", "v1", "1.10", "yes", "~", "a b", "x#y", "é", "it's", "sha256:ab"}
)

func (g *valuesGen) pick(l []string) string { return l[g.r.Intn(len(l))] }

// key writes k as a key and returns it in the --key notation, and whether Helm reads it as k.
func (g *valuesGen) key(k string) (string, bool) {
	switch g.r.Intn(4) {
	case 0:
		g.b.WriteString(doubleQuoted(k))
	case 1:
		g.b.WriteString(singleQuoted(k))
	default:
		if !plainIsString(k, false, true) && strings.ContainsAny(k, " ") {
			g.b.WriteString(doubleQuoted(k))
			break
		}
		g.b.WriteString(k)
		if !helmReadsKey(k, false) {
			return formatKey([]segment{{key: k, index: -1}}), false
		}
	}
	return formatKey([]segment{{key: k, index: -1}}), true
}

func (g *valuesGen) scalar() string {
	v := g.pick(genValues)
	switch g.r.Intn(3) {
	case 0:
		return doubleQuoted(v)
	case 1:
		return singleQuoted(v)
	}
	if v == "it's" || plainIsString(v, false, false) || v == "1.10" || v == "yes" || v == "~" {
		return v
	}
	return doubleQuoted(v)
}

func (g *valuesGen) comment() string {
	if g.r.Intn(3) == 0 {
		return "  # tag: 0.0.1"
	}
	return ""
}

// mapping writes a block mapping at indent; prefix starts its first line (a list dash);
// bad: Helm does not read one of the keys of path as written.
func (g *valuesGen) mapping(indent int, prefix, path string, depth int, bad bool) {
	keys := append([]string(nil), genKeys...)
	g.r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	for i := range 1 + g.r.Intn(4) {
		pad := strings.Repeat(" ", indent)
		if i == 0 && prefix != "" {
			pad = prefix
		} else if g.r.Intn(4) == 0 {
			g.b.WriteString(pad + "# a comment" + g.eol)
			if g.r.Intn(2) == 0 {
				g.b.WriteString(g.eol)
			}
		}
		g.b.WriteString(pad)
		k, ok := g.key(keys[i])
		ok = ok && !bad
		p := join(k)
		add := func(l *[]string, keys ...string) {
			if !ok {
				l = &g.others
			}
			*l = append(*l, keys...)
		}
		g.b.WriteString(":")
		switch c := g.r.Intn(10); {
		case c < 4 || depth > 2: // a one-line value
			sep := " "
			if g.r.Intn(5) == 0 {
				sep = "\t"
			}
			anchor := ""
			if g.r.Intn(5) == 0 {
				a := fmt.Sprintf("a%d", len(g.anchors))
				g.anchors = append(g.anchors, a)
				anchor = "&" + a + " "
			}
			g.b.WriteString(sep + anchor + g.scalar() + g.comment() + g.eol)
			add(&g.settable, p)
		case c == 4: // empty
			g.b.WriteString(g.comment() + g.eol)
			add(&g.settable, p, p+".new.tag")
		case c == 5: // flow mapping
			g.b.WriteString(" {tag: " + g.scalar() + ", repository: x}" + g.comment() + g.eol)
			add(&g.settable, p+".tag", p+".new")
		case c == 6 && len(g.anchors) > 0: // alias
			g.b.WriteString(" *" + g.pick(g.anchors) + g.eol)
			add(&g.others, p, p+".tag")
		case c == 6: // block scalar
			g.b.WriteString(" " + g.pick([]string{"|", ">-", "|+"}) + g.eol + strings.Repeat(" ", indent+g.step) + "1.4.2" + g.eol + g.eol)
			add(&g.others, p)
		case c == 7: // list of mappings, indented or not
			g.b.WriteString(g.eol)
			in := indent + g.step*g.r.Intn(2)
			for j := range 1 + g.r.Intn(2) {
				g.mapping(in+2, strings.Repeat(" ", in)+"- ", fmt.Sprintf("%s[%d]", p, j), depth+1, !ok)
			}
		default: // nested mapping
			g.b.WriteString(g.comment() + g.eol)
			g.mapping(indent+g.step, "", p, depth+1, !ok)
			add(&g.settable, p+".new")
		}
	}
	if path != "" && !bad {
		g.settable = append(g.settable, join("added"))
	}
}

// TestValuesSetGenerated sets keys of generated values files, checking each result as
// FuzzValuesSet does, and that the keys that can be set are.
func TestValuesSetGenerated(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	set, refused := 0, 0
	for i := range 150 {
		g := &valuesGen{r: r, eol: "\n", step: 2 + 2*r.Intn(2)}
		if r.Intn(4) == 0 {
			g.eol = "\r\n"
		}
		if r.Intn(4) == 0 {
			g.b.WriteString("---" + g.eol)
		}
		g.mapping(0, "", "", 0, false)
		doc := g.b.String()
		if r.Intn(5) == 0 {
			doc = strings.TrimSuffix(doc, g.eol)
		}
		if _, err := parseDocument([]byte(doc)); err != nil {
			t.Fatalf("generated %d does not parse: %v\n%s", i, err, doc)
		}
		g.settable = append(g.settable, "added.tag")
		for _, key := range g.settable {
			value := genValues[r.Intn(len(genValues))]
			if _, _, err := Set([]byte(doc), key, value); err != nil {
				t.Errorf("generated %d: set %s: %v\n%s", i, key, err, doc)
				continue
			}
			checkValuesSet(t, doc, key, value)
			set++
		}
		for _, key := range g.others {
			if _, _, err := Set([]byte(doc), key, "1.4.3"); err != nil {
				refused++
				continue
			}
			checkValuesSet(t, doc, key, "1.4.3")
		}
	}
	t.Logf("set %d keys, %d refused", set, refused)
}
