package cli

// values set: change one value of a Helm values file in place, byte for byte. Package
// helmvalues makes and verifies the edit; the command reads the file, writes it back
// atomically and says what changed.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluegreen-dev/bluegreen/pkg/helmvalues"
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
		var ve *helmvalues.Error
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
	out, res, err := helmvalues.Set(data, key, value)
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
