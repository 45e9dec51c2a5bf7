package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen/pkg/helmvalues"
)

// The tests of the edit itself (what changes in the file, quoting, refusals) are in
// package helmvalues; these test what the command adds: arguments, the lines it prints,
// exit codes, and how it reads and writes the file.

// valuesFile is the name the tests give the values file.
const valuesFile = "values-prod.yaml"

// prodValues is a values file as CI bumps it.
const prodValues = `# api-gateway values for prod.
image:
  repository: registry.example.com/api-gateway
  tag: 1.4.2  # bumped by CI
defaults:
  tag: &tag 1.4.2
sidecar:
  tag: *tag
replicas: 3
`

// runValuesSet writes data to values-prod.yaml in a temporary directory, makes that the
// working directory and runs `values set values-prod.yaml args...`.
func runValuesSet(t *testing.T, data string, args ...string) (out, stdout, stderr string, code int) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, valuesFile), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	stdout, stderr, code = runOffline(t, "", append([]string{"values", "set", valuesFile}, args...)...)
	got, err := os.ReadFile(valuesFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(got), stdout, stderr, code
}

// TestValuesSetWritesTheEdit: exit 0, the file holds what helmvalues.Set made of it, and
// one line on stdout says what changed (a note on stderr names the aliases of an anchor).
func TestValuesSetWritesTheEdit(t *testing.T) {
	for _, c := range []struct {
		name           string
		args           []string
		stdout, stderr string
	}{
		{"the default key, image.tag", []string{"1.4.3"},
			`values-prod.yaml: image.tag "1.4.2" -> "1.4.3"`, ""},
		{"a value that was not a string", []string{"1.4.3", "--key", "replicas"},
			`values-prod.yaml: replicas 3 -> "1.4.3"`, ""},
		{"a key that was not set", []string{"1.4.3", "--key", "image.digest"},
			`values-prod.yaml: image.digest (not set) -> "1.4.3"`, ""},
		{"an anchored value", []string{"1.4.3", "--key", "defaults.tag"},
			`values-prod.yaml: defaults.tag "1.4.2" -> "1.4.3"`,
			"note: values-prod.yaml: defaults.tag is under the anchor &tag, so the alias(es) at line 8 read the new value too\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stdout, stderr, code := runValuesSet(t, prodValues, c.args...)
			if code != ExitOK {
				t.Fatalf("exit %d, want %d; stderr: %s", code, ExitOK, stderr)
			}
			if stdout != c.stdout+"\n" {
				t.Errorf("stdout %q, want %q", stdout, c.stdout+"\n")
			}
			if stderr != c.stderr {
				t.Errorf("stderr %q, want %q", stderr, c.stderr)
			}
			key := DefaultValuesKey
			if len(c.args) == 3 {
				key = c.args[2]
			}
			want, _, err := helmvalues.Set([]byte(prodValues), key, c.args[0])
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("file:\n%s\nwant:\n%s", out, want)
			}
		})
	}
}

// TestValuesSetRefuses: exit 1, nothing on stdout, the file untouched, and stderr names
// the file and, when the error is about one, the line.
func TestValuesSetRefuses(t *testing.T) {
	for _, c := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"an error on a line", []string{"1.4.3", "--key", "sidecar.tag"},
			"error: values-prod.yaml:8: sidecar.tag is the alias *tag of the anchor &tag at line 6; changing it would change every use of the anchor: set the anchored value instead (--key defaults.tag), or replace the alias by a value by hand\n"},
		{"an error on no line", []string{"1.4.3", "--key", "jobs[0].tag"},
			"error: values-prod.yaml: jobs is not in the file, and values set does not create lists: add the list by hand first\n"},
		{"an invalid key", []string{"1.4.3", "--key", "image..tag"},
			`error: values-prod.yaml: key "image..tag": an empty key between dots (keys are dotted paths such as image.tag or sidecars[0].tag; write \. for a dot inside a key)` + "\n"},
		{"missing argument", nil,
			"values set takes a FILE and a VALUE, got 1 argument(s)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stdout, stderr, code := runValuesSet(t, prodValues, c.args...)
			if code != ExitFailed {
				t.Errorf("exit %d, want %d", code, ExitFailed)
			}
			if !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr:\n%s\nwant it to contain:\n%s", stderr, c.stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if out != prodValues {
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
	dir := t.TempDir()
	path := filepath.Join(dir, valuesFile)
	if err := os.WriteFile(path, []byte(prodValues), 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, dry := range []bool{false, true} {
		args := []string{"values", "set", valuesFile, "1.4.2", "--key", "image.tag"}
		if dry {
			args = append(args, "--dry-run")
		}
		stdout, stderr, code := runOffline(t, "", args...)
		if code != ExitUnchanged {
			t.Errorf("exit %d, want %d; stderr %s", code, ExitUnchanged, stderr)
		}
		if want := fmt.Sprintf("values-prod.yaml: image.tag is already %q\n", "1.4.2"); stdout != want {
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
	if got, _ := os.ReadFile(path); string(got) != prodValues {
		t.Errorf("the file changed")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory has %d files, want 1 (no temporary file left)", len(entries))
	}
}

func TestValuesSetDryRun(t *testing.T) {
	out, stdout, stderr, code := runValuesSet(t, prodValues, "1.4.3", "--dry-run")
	if code != ExitOK || stderr != "" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if want := "values-prod.yaml: image.tag \"1.4.2\" -> \"1.4.3\" (dry run: not written)\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	if out != prodValues {
		t.Errorf("--dry-run wrote the file")
	}
}

// TestValuesSetWrite: the mode is kept, a symbolic link is followed, no temporary file is
// left, and no kubeconfig is needed.
func TestValuesSetWrite(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "no-such-kubeconfig"))
	t.Setenv("HOME", t.TempDir())
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "envs"), 0o755); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "envs", "prod.yaml")
	if err := os.WriteFile(real, []byte(prodValues), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(real, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("envs", "prod.yaml"), filepath.Join(dir, valuesFile)); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	stdout, stderr, code := runOffline(t, "", "values", "set", valuesFile, "1.4.3")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if want := "values-prod.yaml: image.tag \"1.4.2\" -> \"1.4.3\"\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	if stderr != "" {
		t.Errorf("stderr %q, want nothing", stderr)
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
	if want := strings.Replace(prodValues, "tag: 1.4.2  #", "tag: 1.4.3  #", 1); string(got) != want {
		t.Errorf("file:\n%s", got)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "envs"))
	if len(entries) != 1 {
		t.Errorf("envs/ has %d files, want 1 (no temporary file left)", len(entries))
	}
}

// TestValuesSetFileChangedMeanwhile: when the file changes between the read and the
// write, nothing is written over the change and no temporary file is left.
func TestValuesSetFileChangedMeanwhile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, valuesFile)
	if err := os.WriteFile(path, []byte(prodValues), 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	theirs := strings.Replace(prodValues, "replicas: 3", "replicas: 5", 1)
	if err := os.WriteFile(path, []byte(theirs), 0o644); err != nil {
		t.Fatal(err)
	}
	ours := strings.Replace(prodValues, "tag: 1.4.2  #", "tag: 1.4.3  #", 1)
	err = writeFileAtomic(path, []byte(prodValues), []byte(ours), info)
	if want := "the file changed while values set was editing it; nothing was written: run it again"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if got, _ := os.ReadFile(path); string(got) != theirs {
		t.Errorf("the file is:\n%s\nwant the other writer's:\n%s", got, theirs)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory has %d files, want 1 (no temporary file left)", len(entries))
	}
}
