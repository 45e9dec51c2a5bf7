package helmvalues

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// readTestdata is the file testdata/name.
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// replaceOnLine is in with the first from on line n (from 1) replaced by to.
func replaceOnLine(t *testing.T, in string, n int, from, to string) string {
	t.Helper()
	lines := strings.SplitAfter(in, "\n")
	if n < 1 || n > len(lines) || !strings.Contains(lines[n-1], from) {
		t.Fatalf("line %d of the input does not contain %q", n, from)
	}
	lines[n-1] = strings.Replace(lines[n-1], from, to, 1)
	return strings.Join(lines, "")
}

// readValue is the value at key of a values file, as Helm reads it.
func readValue(t *testing.T, data, key string) any {
	t.Helper()
	segs, err := parseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := sigsyaml.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("Helm cannot read the result: %v\n%s", err, data)
	}
	for _, s := range segs {
		if s.index >= 0 {
			l, _ := v.([]any)
			if s.index >= len(l) {
				return nil
			}
			v = l[s.index]
			continue
		}
		m, _ := v.(map[string]any)
		v = m[s.key]
	}
	return v
}

// TestValuesSetChanges changes one value and checks the file is the input with only that
// value's bytes changed, reads back, as Helm reads it, as the string, and that the result
// gives the old value as the file had it.
func TestValuesSetChanges(t *testing.T) {
	for _, c := range []struct {
		name, file, key, value string
		line                   int
		from, to               string
		old                    string
	}{
		{"image tag among other tags and a commented tag", "api-gateway.yaml", "image.tag", "1.4.3",
			8, "tag: 1.4.2  # bumped by CI", "tag: 1.4.3  # bumped by CI", `"1.4.2"`},
		{"sidecar in a list", "api-gateway.yaml", "sidecars[1].image.tag", "1.4.3",
			19, "1.4.2", "1.4.3", `"1.4.2"`},
		{"init container", "api-gateway.yaml", "initContainers[0].image.tag", "1.5.0",
			25, "1.4.2", "1.5.0", `"1.4.2"`},
		{"escaped dot in a key", "api-gateway.yaml", `podAnnotations.example\.com/tag`, "1.4.3",
			28, `"1.4.2"`, `"1.4.3"`, `"1.4.2"`},
		{"a tag that would read as a number is quoted", "api-gateway.yaml", "image.tag", "1.10",
			8, "tag: 1.4.2  #", `tag: "1.10"  #`, `"1.4.2"`},
		{"a number becomes a string", "styles.yaml", "number.tag", "1.10",
			8, "1.10", `"1.10"`, `1.10`},
		{"plain yes is a boolean to Helm", "styles.yaml", "boolean.tag", "yes",
			10, "yes", `"yes"`, `yes`},
		{"single-quoted stays single-quoted", "styles.yaml", "single.tag", "it's 1.4.3",
			4, "'1.4.2'", "'it''s 1.4.3'", `"1.4.2"`},
		{"double-quoted stays double-quoted", "styles.yaml", "double.tag", `say "hi"\`,
			6, `"1.4.2"`, `"say \"hi\"\\"`, `"1.4.2"`},
		{"empty value", "styles.yaml", "empty.tag", "1.4.3",
			12, "tag:", `tag: "1.4.3"`, `null`},
		{"tilde", "styles.yaml", "nulled.tag", "1.4.3",
			14, "~", "1.4.3", `~`},
		{"explicit !!str tag is kept", "styles.yaml", "tagged.tag", "1.4.3",
			16, "!!str 1.4.2", "!!str 1.4.3", `"1.4.2"`},
		{"flow mapping", "styles.yaml", "flow.tag", "1.4.3",
			17, "{tag: 1.4.2,", "{tag: 1.4.3,", `"1.4.2"`},
		{"comma in a flow mapping is quoted", "styles.yaml", "flow.tag", "a,b",
			17, "{tag: 1.4.2,", `{tag: "a,b",`, `"1.4.2"`},
		{"anchored value keeps its anchor", "anchors.yaml", "defaults.tag", "1.4.3",
			2, "&tag 1.4.2", "&tag 1.4.3", `"1.4.2"`},
		{"tab after the colon and UTF-8 before the value", "columns.yaml", "café.étiquette", "1.4.3",
			2, "\t1.4.2\t#", "\t1.4.3\t#", `"1.4.2"`},
		{"tab and a double-quoted value", "columns.yaml", "café.tag", "1.4.3",
			3, `"1.4.2"`, `"1.4.3"`, `"1.4.2"`},
		{"UTF-8 before the value in a flow mapping", "columns.yaml", "image.tag", "1.4.3",
			4, "tag: 1.4.2}", "tag: 1.4.3}", `"1.4.2"`},
		{"CRLF line endings", "crlf.yaml", "image.tag", "1.4.3",
			3, `"1.4.2"`, `"1.4.3"`, `"1.4.2"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := readTestdata(t, c.file)
			out, res, err := Set(in, c.key, c.value)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Changed || res.Added || res.Old != c.old {
				t.Errorf("result %+v, want Changed, not Added, Old %s", res, c.old)
			}
			if want := replaceOnLine(t, string(in), c.line, c.from, c.to); string(out) != want {
				t.Errorf("file:\n%s\nwant:\n%s", out, want)
			}
			if got := readValue(t, string(out), c.key); got != c.value {
				t.Errorf("Helm reads %s as %#v, want the string %q", c.key, got, c.value)
			}
		})
	}
}

// TestValuesSetAliases: a value under an anchor is set in place, every alias of the anchor
// reads the new value, and the result names the anchor and the lines of its aliases.
func TestValuesSetAliases(t *testing.T) {
	for _, c := range []struct {
		key, from, to string
		anchor        string
		aliasLines    []int
		aliasKey      string // reads the new value through an alias
	}{
		{"defaults.tag", "&tag 1.4.2", "&tag 1.4.3", "tag", []int{9}, "image.tag"},
		{"defaults.image.tag", "    tag: 1.4.2", "    tag: 1.4.3", "image", []int{12, 16}, "worker.image.tag"},
	} {
		t.Run(c.key, func(t *testing.T) {
			in := readTestdata(t, "anchors.yaml")
			out, res, err := Set(in, c.key, "1.4.3")
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Replace(string(in), c.from, c.to, 1); string(out) != want {
				t.Errorf("file:\n%s\nwant:\n%s", out, want)
			}
			if res.Anchor != c.anchor || !slices.Equal(res.AliasLines, c.aliasLines) {
				t.Errorf("anchor %q, aliases at lines %v; want %q, %v", res.Anchor, res.AliasLines, c.anchor, c.aliasLines)
			}
			if v := readValue(t, string(out), c.aliasKey); v != "1.4.3" {
				t.Errorf("the alias %s reads %#v", c.aliasKey, v)
			}
		})
	}
}

func TestValuesSetQuoting(t *testing.T) {
	for _, c := range []struct {
		value, plain, single, double string
	}{
		{"1.4.3", "1.4.3", "'1.4.3'", `"1.4.3"`},
		{"v1.4.3-rc.1+build.7", "v1.4.3-rc.1+build.7", "'v1.4.3-rc.1+build.7'", `"v1.4.3-rc.1+build.7"`},
		{"sha256:0f3a", "sha256:0f3a", "'sha256:0f3a'", `"sha256:0f3a"`},
		{"1.10", `"1.10"`, "'1.10'", `"1.10"`},
		{"10", `"10"`, "'10'", `"10"`},
		{"1e3", `"1e3"`, "'1e3'", `"1e3"`},
		{"0x1F", `"0x1F"`, "'0x1F'", `"0x1F"`},
		{"0o17", `"0o17"`, "'0o17'", `"0o17"`},
		{"1_000", `"1_000"`, "'1_000'", `"1_000"`},
		{".inf", `".inf"`, "'.inf'", `".inf"`},
		{"true", `"true"`, "'true'", `"true"`},
		{"on", `"on"`, "'on'", `"on"`},
		{"N", `"N"`, "'N'", `"N"`},
		{"null", `"null"`, "'null'", `"null"`},
		{"~", `"~"`, "'~'", `"~"`},
		{"2024-05-02", `"2024-05-02"`, "'2024-05-02'", `"2024-05-02"`},
		{"", `""`, "''", `""`},
		{"*latest", `"*latest"`, "'*latest'", `"*latest"`},
		{"&x", `"&x"`, "'&x'", `"&x"`},
		{"!x", `"!x"`, "'!x'", `"!x"`},
		{"{x}", `"{x}"`, "'{x}'", `"{x}"`},
		{"[x]", `"[x]"`, "'[x]'", `"[x]"`},
		{"#x", `"#x"`, "'#x'", `"#x"`},
		{"@x", `"@x"`, "'@x'", `"@x"`},
		{"`x`", "\"`x`\"", "'`x`'", "\"`x`\""},
		{"a: b", `"a: b"`, "'a: b'", `"a: b"`},
		{"a #b", `"a #b"`, "'a #b'", `"a #b"`},
		{"a:", `"a:"`, "'a:'", `"a:"`},
		{" padded ", `" padded "`, "' padded '", `" padded "`},
		{"<<", `"<<"`, "'<<'", `"<<"`},
		{"line\nbreak", `"line\nbreak"`, `"line\nbreak"`, `"line\nbreak"`},
		{"tab\there", `"tab\there"`, `"tab\there"`, `"tab\there"`},
		{"bell\a", `"bell\x07"`, `"bell\x07"`, `"bell\x07"`},
		{"ünïcödé", "ünïcödé", "'ünïcödé'", `"ünïcödé"`},
	} {
		for _, style := range []struct{ key, line, want string }{
			{"plain.tag", "  tag: 1.4.2\n", c.plain},
			{"single.tag", "  tag: '1.4.2'\n", c.single},
			{"double.tag", "  tag: \"1.4.2\"\n", c.double},
		} {
			t.Run(fmt.Sprintf("%s/%q", style.key, c.value), func(t *testing.T) {
				in := readTestdata(t, "styles.yaml")
				out, _, err := Set(in, style.key, c.value)
				if err != nil {
					t.Fatal(err)
				}
				wantLine := strings.Replace(style.line, style.line[strings.Index(style.line, ": ")+2:len(style.line)-1], style.want, 1)
				if want := strings.Replace(string(in), style.line, wantLine, 1); string(out) != want {
					t.Errorf("got:\n%s\nwant:\n%s", out, want)
				}
				if got := readValue(t, string(out), style.key); got != c.value {
					t.Errorf("Helm reads %#v, want the string %q", got, c.value)
				}
				var v3 struct{ Plain, Single, Double struct{ Tag any } }
				if err := yaml.Unmarshal(out, &v3); err != nil {
					t.Fatal(err)
				}
				got := map[string]any{"plain.tag": v3.Plain.Tag, "single.tag": v3.Single.Tag, "double.tag": v3.Double.Tag}[style.key]
				if got != c.value {
					t.Errorf("yaml.v3 reads %#v, want the string %q", got, c.value)
				}
			})
		}
	}
}

// TestValuesSetAdds adds a key that is not in the file.
func TestValuesSetAdds(t *testing.T) {
	for _, c := range []struct {
		name, file, key string
		// the input with insert put after the first occurrence of after ("" for the end)
		after, insert string
		// or with from replaced by to
		from, to string
	}{
		{"at the end of its mapping, with its indentation", "missing.yaml", "image.tag",
			"    pullPolicy: Always   # keep\n", "    tag: \"1.4.3\"\n", "", ""},
		{"nested, with the file's indentation step", "missing.yaml", "resources.limits.memory",
			"        cpu: 100m\n", "        memory: \"1.4.3\"\n", "", ""},
		{"with missing parents, at the end of the file", "missing.yaml", "ingress.annotations.example\\.com/tag",
			"", "ingress:\n    annotations:\n        example.com/tag: \"1.4.3\"\n", "", ""},
		{"into a flow mapping", "missing.yaml", "service.tag",
			"", "", "{type: ClusterIP, port: 80}", `{type: ClusterIP, port: 80, tag: "1.4.3"}`},
		{"under an empty key", "missing.yaml", "worker.image.tag",
			"worker:\n", "    image:\n        tag: \"1.4.3\"\n", "", ""},
		{"under a null", "missing.yaml", "sidecar.tag",
			"", "", "sidecar: null\n", "sidecar:\n    tag: \"1.4.3\"\n"},
		{"to a mapping that merges an anchored one (<<)", "anchors.yaml", "cron.image.tag",
			"    repository: registry.example.com/cron\n", "    tag: \"1.4.3\"\n", "", ""},
		{"to an empty file", "empty.yaml", "image.tag",
			"", "image:\n  tag: \"1.4.3\"\n", "", ""},
		{"to a file of comments", "comments-only.yaml", "image.tag",
			"", "image:\n  tag: \"1.4.3\"\n", "", ""},
		{"to a file without a final newline", "no-final-newline.yaml", "image.tag",
			"", "", "registry.example.com/web", "registry.example.com/web\n  tag: \"1.4.3\""},
		{"with CRLF line endings", "crlf.yaml", "service.tag",
			"    port: 80\r\n", "", "  port: 80\r\n", "  port: 80\r\n  tag: \"1.4.3\"\r\n"},
		{"to a flow mapping after UTF-8", "columns.yaml", "image.digest",
			"", "", `tag: 1.4.2}`, `tag: 1.4.2, digest: "1.4.3"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := readTestdata(t, c.file)
			out, res, err := Set(data, c.key, "1.4.3")
			if err != nil {
				t.Fatal(err)
			}
			if !res.Changed || !res.Added || res.Old != "" {
				t.Errorf("result %+v, want Changed and Added", res)
			}
			in := string(data)
			want := in
			switch {
			case c.from != "":
				if !strings.Contains(in, c.from) {
					t.Fatalf("input has no %q", c.from)
				}
				want = strings.Replace(in, c.from, c.to, 1)
			case c.after == "":
				want = in + c.insert
			default:
				i := strings.Index(in, c.after)
				if i < 0 {
					t.Fatalf("input has no %q", c.after)
				}
				i += len(c.after)
				want = in[:i] + c.insert + in[i:]
			}
			if string(out) != want {
				t.Errorf("file:\n%s\nwant:\n%s", out, want)
			}
			if got := readValue(t, string(out), c.key); got != "1.4.3" {
				t.Errorf("Helm reads %s as %#v, want the string \"1.4.3\"", c.key, got)
			}
		})
	}
}

// TestValuesSetRefuses checks each refusal: no result, and an error that names the line
// (0: none), the key and the fix.
func TestValuesSetRefuses(t *testing.T) {
	for _, c := range []struct {
		name, file, key string
		line            int
		msg             string // the start of the message
	}{
		{"alias", "anchors.yaml", "image.tag",
			9, "image.tag is the alias *tag of the anchor &tag at line 2; changing it would change every use of the anchor: set the anchored value instead (--key defaults.tag)"},
		{"under an alias", "anchors.yaml", "worker.image.tag",
			12, "worker.image is the alias *image of the anchor &image at line 3; changing it would change every use of the anchor: set the anchored value instead (--key defaults.image.tag)"},
		{"block scalar", "refused.yaml", "block.tag",
			2, "block.tag is a block scalar (| or >); values set changes one-line values only"},
		{"folded scalar", "refused.yaml", "folded.tag",
			5, "folded.tag is a block scalar"},
		{"value over two lines", "refused.yaml", "multiline.tag",
			8, "multiline.tag is written over several lines"},
		{"mapping where a value was expected", "refused.yaml", "mapping.tag",
			11, "mapping.tag is a mapping, not a single value"},
		{"list where a value was expected", "refused.yaml", "list.tag",
			14, "list.tag is a list, not a single value"},
		{"string where a mapping was expected", "refused.yaml", "string.image.tag",
			16, `string.image is the string "nginx:1.4.2", not a mapping, so it has no key "tag": to replace the whole value, use --key string.image`},
		{"explicit tag", "refused.yaml", "typed.tag",
			18, "typed.tag has the explicit tag !!int"},
		{"duplicate key", "refused.yaml", "duplicate.tag",
			21, "duplicate.tag is in the file twice (lines 20 and 21)"},
		{"list index out of range", "refused.yaml", "top[1]",
			22, "top has 1 item(s), so top[1] does not exist; values set does not add list items"},
		{"key of a list", "refused.yaml", "top.name",
			22, "top is a list, not a mapping, so it has no key \"name\": name a list item, as in --key top[0].name"},
		{"missing list", "api-gateway.yaml", "jobs[0].tag",
			0, "jobs is not in the file, and values set does not create lists"},
		{"two documents", "multi-doc.yaml", "image.tag",
			3, "a second YAML document starts here"},
		{"invalid YAML", "invalid.yaml", "image.tag",
			6, "not valid YAML: did not find expected '-' indicator; fix the file first"},
		{"invalid key", "api-gateway.yaml", "image..tag",
			0, `key "image..tag": an empty key between dots`},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, res, err := Set(readTestdata(t, c.file), c.key, "1.4.3")
			if err == nil {
				t.Fatalf("no error; result %+v:\n%s", res, out)
			}
			if out != nil || res.Changed {
				t.Errorf("an error, and a result %+v:\n%s", res, out)
			}
			line, msg := 0, err.Error()
			var e *Error
			if errors.As(err, &e) {
				line, msg = e.Line, e.Msg
			}
			if line != c.line || !strings.HasPrefix(msg, c.msg) {
				t.Errorf("line %d: %s\nwant line %d: %s", line, msg, c.line, c.msg)
			}
		})
	}
}

// TestValuesSetUnchanged: a file that already has the value comes back as it was, byte
// for byte, and the result says it did not change.
func TestValuesSetUnchanged(t *testing.T) {
	for _, c := range []struct{ file, key, value string }{
		{"api-gateway.yaml", "image.tag", "1.4.2"},
		{"styles.yaml", "single.tag", "1.4.2"},
		{"styles.yaml", "tagged.tag", "1.4.2"},
		{"crlf.yaml", "image.tag", "1.4.2"},
	} {
		t.Run(c.file+"/"+c.key, func(t *testing.T) {
			data := readTestdata(t, c.file)
			out, res, err := Set(data, c.key, c.value)
			if err != nil {
				t.Fatal(err)
			}
			if res.Changed || res.Added || res.Old != strconv.Quote(c.value) {
				t.Errorf("result %+v, want not Changed, Old %q", res, c.value)
			}
			if !bytes.Equal(out, data) {
				t.Errorf("the bytes changed:\n%s", out)
			}
		})
	}
}

func BenchmarkValuesSet(b *testing.B) {
	data := readTestdata(b, "api-gateway.yaml")
	for b.Loop() {
		if _, _, err := Set(data, "image.tag", "1.4.3"); err != nil {
			b.Fatal(err)
		}
	}
}
