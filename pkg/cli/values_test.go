package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// valuesFile is the name the tests give the copy of a testdata file.
const valuesFile = "values-prod.yaml"

// runValuesSet copies testdata/values/file to values-prod.yaml in a temporary directory,
// makes that the working directory and runs `values set values-prod.yaml args...`.
func runValuesSet(t *testing.T, file string, args ...string) (in, out, stdout, stderr string, code int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "values", file))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, valuesFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	stdout, stderr, code = runOffline(t, "", append([]string{"values", "set", valuesFile}, args...)...)
	got, err := os.ReadFile(valuesFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(data), string(got), stdout, stderr, code
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
	segs, err := parseValuesKey(key)
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
// value's bytes changed, and reads back, as Helm reads it, as the string.
func TestValuesSetChanges(t *testing.T) {
	for _, c := range []struct {
		name, file, key, value string
		line                   int
		from, to               string
		stdout                 string
	}{
		{"image tag among other tags and a commented tag", "api-gateway.yaml", "", "1.4.3",
			8, "tag: 1.4.2  # bumped by CI", "tag: 1.4.3  # bumped by CI", `values-prod.yaml: image.tag "1.4.2" -> "1.4.3"`},
		{"sidecar in a list", "api-gateway.yaml", "sidecars[1].image.tag", "1.4.3",
			19, "1.4.2", "1.4.3", `values-prod.yaml: sidecars[1].image.tag "1.4.2" -> "1.4.3"`},
		{"init container", "api-gateway.yaml", "initContainers[0].image.tag", "1.5.0",
			25, "1.4.2", "1.5.0", `values-prod.yaml: initContainers[0].image.tag "1.4.2" -> "1.5.0"`},
		{"escaped dot in a key", "api-gateway.yaml", `podAnnotations.example\.com/tag`, "1.4.3",
			28, `"1.4.2"`, `"1.4.3"`, `values-prod.yaml: podAnnotations.example\.com/tag "1.4.2" -> "1.4.3"`},
		{"a tag that would read as a number is quoted", "api-gateway.yaml", "", "1.10",
			8, "tag: 1.4.2  #", `tag: "1.10"  #`, `values-prod.yaml: image.tag "1.4.2" -> "1.10"`},
		{"a number becomes a string", "styles.yaml", "number.tag", "1.10",
			8, "1.10", `"1.10"`, `values-prod.yaml: number.tag 1.10 -> "1.10"`},
		{"plain yes is a boolean to Helm", "styles.yaml", "boolean.tag", "yes",
			10, "yes", `"yes"`, `values-prod.yaml: boolean.tag yes -> "yes"`},
		{"single-quoted stays single-quoted", "styles.yaml", "single.tag", "it's 1.4.3",
			4, "'1.4.2'", "'it''s 1.4.3'", `values-prod.yaml: single.tag "1.4.2" -> "it's 1.4.3"`},
		{"double-quoted stays double-quoted", "styles.yaml", "double.tag", `say "hi"\`,
			6, `"1.4.2"`, `"say \"hi\"\\"`, `values-prod.yaml: double.tag "1.4.2" -> "say \"hi\"\\"`},
		{"empty value", "styles.yaml", "empty.tag", "1.4.3",
			12, "tag:", `tag: "1.4.3"`, `values-prod.yaml: empty.tag null -> "1.4.3"`},
		{"tilde", "styles.yaml", "nulled.tag", "1.4.3",
			14, "~", "1.4.3", `values-prod.yaml: nulled.tag ~ -> "1.4.3"`},
		{"explicit !!str tag is kept", "styles.yaml", "tagged.tag", "1.4.3",
			16, "!!str 1.4.2", "!!str 1.4.3", `values-prod.yaml: tagged.tag "1.4.2" -> "1.4.3"`},
		{"flow mapping", "styles.yaml", "flow.tag", "1.4.3",
			17, "{tag: 1.4.2,", "{tag: 1.4.3,", `values-prod.yaml: flow.tag "1.4.2" -> "1.4.3"`},
		{"comma in a flow mapping is quoted", "styles.yaml", "flow.tag", "a,b",
			17, "{tag: 1.4.2,", `{tag: "a,b",`, `values-prod.yaml: flow.tag "1.4.2" -> "a,b"`},
		{"anchored value keeps its anchor", "anchors.yaml", "defaults.tag", "1.4.3",
			2, "&tag 1.4.2", "&tag 1.4.3", `values-prod.yaml: defaults.tag "1.4.2" -> "1.4.3"`},
		{"tab after the colon and UTF-8 before the value", "columns.yaml", "café.étiquette", "1.4.3",
			2, "\t1.4.2\t#", "\t1.4.3\t#", `values-prod.yaml: café.étiquette "1.4.2" -> "1.4.3"`},
		{"tab and a double-quoted value", "columns.yaml", "café.tag", "1.4.3",
			3, `"1.4.2"`, `"1.4.3"`, `values-prod.yaml: café.tag "1.4.2" -> "1.4.3"`},
		{"UTF-8 before the value in a flow mapping", "columns.yaml", "image.tag", "1.4.3",
			4, "tag: 1.4.2}", "tag: 1.4.3}", `values-prod.yaml: image.tag "1.4.2" -> "1.4.3"`},
		{"CRLF line endings", "crlf.yaml", "", "1.4.3",
			3, `"1.4.2"`, `"1.4.3"`, `values-prod.yaml: image.tag "1.4.2" -> "1.4.3"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{c.value}
			key := c.key
			if key != "" {
				args = append(args, "--key", key)
			} else {
				key = DefaultValuesKey
			}
			in, out, stdout, stderr, code := runValuesSet(t, c.file, args...)
			if code != ExitOK {
				t.Fatalf("exit %d, want %d; stderr: %s", code, ExitOK, stderr)
			}
			if stdout != c.stdout+"\n" {
				t.Errorf("stdout %q, want %q", stdout, c.stdout+"\n")
			}
			if want := replaceOnLine(t, in, c.line, c.from, c.to); out != want {
				t.Errorf("file:\n%s\nwant:\n%s", out, want)
			}
			if got := readValue(t, out, key); got != c.value {
				t.Errorf("Helm reads %s as %#v, want the string %q", key, got, c.value)
			}
		})
	}
}

// TestValuesSetQuoting writes values that plain YAML would read as something else, into
// a plain, a single-quoted and a double-quoted value.
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
				in, err := os.ReadFile(filepath.Join("testdata", "values", "styles.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				out, _, err := SetValue(in, style.key, c.value)
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
			in, out, stdout, stderr, code := runValuesSet(t, c.file, "1.4.3", "--key", c.key)
			if code != ExitOK {
				t.Fatalf("exit %d, want 0; stderr: %s", code, stderr)
			}
			if want := fmt.Sprintf("values-prod.yaml: %s (not set) -> \"1.4.3\"\n", c.key); stdout != want {
				t.Errorf("stdout %q, want %q", stdout, want)
			}
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
			if out != want {
				t.Errorf("file:\n%s\nwant:\n%s", out, want)
			}
			if got := readValue(t, out, c.key); got != "1.4.3" {
				t.Errorf("Helm reads %s as %#v, want the string \"1.4.3\"", c.key, got)
			}
		})
	}
}

// TestValuesSetRefuses checks each refusal: exit 1, the file untouched, and stderr naming
// the file, the line, the key and the fix.
func TestValuesSetRefuses(t *testing.T) {
	for _, c := range []struct {
		name, file string
		args       []string
		stderr     string
	}{
		{"alias", "anchors.yaml", []string{"1.4.3"},
			"values-prod.yaml:9: image.tag is the alias *tag of the anchor &tag at line 2; changing it would change every use of the anchor: set the anchored value instead (--key defaults.tag)"},
		{"under an alias", "anchors.yaml", []string{"1.4.3", "--key", "worker.image.tag"},
			"values-prod.yaml:12: worker.image is the alias *image of the anchor &image at line 3; changing it would change every use of the anchor: set the anchored value instead (--key defaults.image.tag)"},
		{"block scalar", "refused.yaml", []string{"1.4.3", "--key", "block.tag"},
			"values-prod.yaml:2: block.tag is a block scalar (| or >); values set changes one-line values only"},
		{"folded scalar", "refused.yaml", []string{"1.4.3", "--key", "folded.tag"},
			"values-prod.yaml:5: folded.tag is a block scalar"},
		{"value over two lines", "refused.yaml", []string{"1.4.3", "--key", "multiline.tag"},
			"values-prod.yaml:8: multiline.tag is written over several lines"},
		{"mapping where a value was expected", "refused.yaml", []string{"1.4.3", "--key", "mapping.tag"},
			"values-prod.yaml:11: mapping.tag is a mapping, not a single value"},
		{"list where a value was expected", "refused.yaml", []string{"1.4.3", "--key", "list.tag"},
			"values-prod.yaml:14: list.tag is a list, not a single value"},
		{"string where a mapping was expected", "refused.yaml", []string{"1.4.3", "--key", "string.image.tag"},
			`values-prod.yaml:16: string.image is the string "nginx:1.4.2", not a mapping, so it has no key "tag": to replace the whole value, use --key string.image`},
		{"explicit tag", "refused.yaml", []string{"1.4.3", "--key", "typed.tag"},
			"values-prod.yaml:18: typed.tag has the explicit tag !!int"},
		{"duplicate key", "refused.yaml", []string{"1.4.3", "--key", "duplicate.tag"},
			"values-prod.yaml:21: duplicate.tag is in the file twice (lines 20 and 21)"},
		{"list index out of range", "refused.yaml", []string{"1.4.3", "--key", "top[1]"},
			"values-prod.yaml:22: top has 1 item(s), so top[1] does not exist; values set does not add list items"},
		{"key of a list", "refused.yaml", []string{"1.4.3", "--key", "top.name"},
			"values-prod.yaml:22: top is a list, not a mapping, so it has no key \"name\": name a list item, as in --key top[0].name"},
		{"missing list", "api-gateway.yaml", []string{"1.4.3", "--key", "jobs[0].tag"},
			"values-prod.yaml: jobs is not in the file, and values set does not create lists"},
		{"two documents", "multi-doc.yaml", []string{"1.4.3"},
			"values-prod.yaml:3: a second YAML document starts here"},
		{"invalid YAML", "invalid.yaml", []string{"1.4.3"},
			"values-prod.yaml:6: not valid YAML: did not find expected '-' indicator; fix the file first"},
		{"invalid key", "api-gateway.yaml", []string{"1.4.3", "--key", "image..tag"},
			`values-prod.yaml: key "image..tag": an empty key between dots`},
		{"missing argument", "api-gateway.yaml", nil,
			"values set takes a FILE and a VALUE, got 1 argument(s)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, out, stdout, stderr, code := runValuesSet(t, c.file, c.args...)
			if code != ExitFailed {
				t.Errorf("exit %d, want %d", code, ExitFailed)
			}
			if !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr:\n%s\nwant it to contain:\n%s", stderr, c.stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if out != in {
				t.Errorf("the file changed:\n%s", out)
			}
		})
	}
}

func TestValuesSetFileNotFound(t *testing.T) {
	t.Chdir(t.TempDir())
	stdout, stderr, code := runOffline(t, "", "values", "set", "api-gateway/values-prod.yaml", "1.4.3")
	if code != ExitFailed || stdout != "" || !strings.Contains(stderr, "api-gateway/values-prod.yaml: no such file") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestValuesSetUnchanged: a file that already has the value is not written at all.
func TestValuesSetUnchanged(t *testing.T) {
	for _, c := range []struct{ file, key, value string }{
		{"api-gateway.yaml", "image.tag", "1.4.2"},
		{"styles.yaml", "single.tag", "1.4.2"},
		{"styles.yaml", "tagged.tag", "1.4.2"},
		{"crlf.yaml", "image.tag", "1.4.2"},
	} {
		t.Run(c.file+"/"+c.key, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "values", c.file))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, valuesFile)
			if err := os.WriteFile(path, data, 0o640); err != nil {
				t.Fatal(err)
			}
			old := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			for _, dry := range []bool{false, true} {
				args := []string{"values", "set", valuesFile, c.value, "--key", c.key}
				if dry {
					args = append(args, "--dry-run")
				}
				stdout, stderr, code := runOffline(t, "", args...)
				if code != ExitUnchanged {
					t.Errorf("exit %d, want %d; stderr %s", code, ExitUnchanged, stderr)
				}
				if want := fmt.Sprintf("values-prod.yaml: %s is already %q\n", c.key, c.value); stdout != want {
					t.Errorf("stdout %q, want %q", stdout, want)
				}
				// Not an error: nothing on stderr, so a CI log does not show one.
				if stderr != "" {
					t.Errorf("stderr %q, want nothing", stderr)
				}
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if !info.ModTime().Equal(old) {
				t.Errorf("mtime %s, want %s: the file was written", info.ModTime(), old)
			}
			if got, _ := os.ReadFile(path); string(got) != string(data) {
				t.Errorf("the file changed")
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("the directory has %d files, want 1 (no temporary file left)", len(entries))
			}
		})
	}
}

func TestValuesSetDryRun(t *testing.T) {
	in, out, stdout, stderr, code := runValuesSet(t, "api-gateway.yaml", "1.4.3", "--dry-run")
	if code != ExitOK || stderr != "" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if want := "values-prod.yaml: image.tag \"1.4.2\" -> \"1.4.3\" (dry run: not written)\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	if out != in {
		t.Errorf("--dry-run wrote the file")
	}
}

// TestValuesSetWrite: the mode is kept, a symbolic link is followed, no temporary file is
// left, an anchored value's aliases are named on stderr, and no kubeconfig is needed.
func TestValuesSetWrite(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "no-such-kubeconfig"))
	t.Setenv("HOME", t.TempDir())
	data, err := os.ReadFile(filepath.Join("testdata", "values", "anchors.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "envs"), 0o755); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "envs", "prod.yaml")
	if err := os.WriteFile(real, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(real, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("envs", "prod.yaml"), filepath.Join(dir, valuesFile)); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	stdout, stderr, code := runOffline(t, "", "values", "set", valuesFile, "1.4.3", "--key", "defaults.tag")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if want := "values-prod.yaml: defaults.tag \"1.4.2\" -> \"1.4.3\"\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	if want := "note: values-prod.yaml: defaults.tag is under the anchor &tag, so the alias(es) at line 9 read the new value too\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	if info, err := os.Lstat(valuesFile); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced: %v", err)
	}
	info, err := os.Stat(real)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", info.Mode().Perm())
	}
	got, _ := os.ReadFile(real)
	if want := strings.Replace(string(data), "&tag 1.4.2", "&tag 1.4.3", 1); string(got) != want {
		t.Errorf("file:\n%s", got)
	}
	if v := readValue(t, string(got), "image.tag"); v != "1.4.3" {
		t.Errorf("the alias image.tag reads %#v", v)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "envs"))
	if len(entries) != 1 {
		t.Errorf("envs/ has %d files, want 1 (no temporary file left)", len(entries))
	}
}

func TestParseValuesKey(t *testing.T) {
	for _, c := range []struct {
		key  string
		want []valuesSeg
	}{
		{"image.tag", []valuesSeg{{"image", -1}, {"tag", -1}}},
		{`a\.b.c`, []valuesSeg{{"a.b", -1}, {"c", -1}}},
		{`a\\.b`, []valuesSeg{{`a\`, -1}, {"b", -1}}},
		{"list[0].x[12][3]", []valuesSeg{{"list", -1}, {"", 0}, {"x", -1}, {"", 12}, {"", 3}}},
		{`é\[1\]`, []valuesSeg{{"é[1]", -1}}},
	} {
		got, err := parseValuesKey(c.key)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q: %v, %v; want %v", c.key, got, err, c.want)
		}
		if back := formatValuesKey(got); back != c.key {
			t.Errorf("%q formats back as %q", c.key, back)
		}
	}
	for _, bad := range []string{"", ".a", "a.", "a..b", "a[", "a[x]", "a[-1]", "a[0]b", `a\`, "a]"} {
		if _, err := parseValuesKey(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzValuesSet sets a key of arbitrary files and checks, without trusting SetValue's own
// check: the result parses; the key reads back as the string VALUE, in yaml.v3 and as Helm
// reads it; every other scalar is as it was; the bytes changed on one line only, unless
// lines were added; and a file that already has the value comes back as it was.
func FuzzValuesSet(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "values", "*.yaml"))
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

// checkValuesSet runs SetValue and checks its result without trusting SetValue's own
// check; it says whether SetValue changed the file.
func checkValuesSet(t testing.TB, doc, key, value string) bool {
	t.Helper()
	out, res, err := SetValue([]byte(doc), key, value)
	if err != nil {
		var ve *ValuesError
		if errors.As(err, &ve) && ve.unverified {
			t.Fatalf("SetValue made an edit it could not verify: %v\ninput: %q", err, doc)
		}
		return false
	}
	if !res.Changed && string(out) != doc {
		t.Fatalf("unchanged, but the bytes differ")
	}
	segs, _ := parseValuesKey(key)
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
func addedOnly(before, after []fuzzScalar, segs []valuesSeg, value string) bool {
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

func lookupValue(v any, segs []valuesSeg) any {
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

// valuesGen writes a random values file, and the keys SetValue must be able to set in it.
type valuesGen struct {
	r        *rand.Rand
	b        strings.Builder
	eol      string
	step     int
	anchors  []string
	settable []string // keys of one-line values, empty values, and new keys of mappings
	others   []string // keys SetValue may refuse
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
			return formatValuesKey([]valuesSeg{{key: k, index: -1}}), false
		}
	}
	return formatValuesKey([]valuesSeg{{key: k, index: -1}}), true
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
		if _, err := parseValuesDocument([]byte(doc)); err != nil {
			t.Fatalf("generated %d does not parse: %v\n%s", i, err, doc)
		}
		g.settable = append(g.settable, "added.tag")
		for _, key := range g.settable {
			value := genValues[r.Intn(len(genValues))]
			if _, _, err := SetValue([]byte(doc), key, value); err != nil {
				t.Errorf("generated %d: set %s: %v\n%s", i, key, err, doc)
				continue
			}
			checkValuesSet(t, doc, key, value)
			set++
		}
		for _, key := range g.others {
			if _, _, err := SetValue([]byte(doc), key, "1.4.3"); err != nil {
				refused++
				continue
			}
			checkValuesSet(t, doc, key, "1.4.3")
		}
	}
	t.Logf("set %d keys, %d refused", set, refused)
}

func BenchmarkValuesSet(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "values", "api-gateway.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := SetValue(data, "image.tag", "1.4.3"); err != nil {
			b.Fatal(err)
		}
	}
}
