package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const (
	// ModulePath is the module whose bin/ directory holds the control-plane binaries.
	ModulePath = "github.com/bluegreen-dev/bluegreen"
	// BinDirEnv names the environment variable that overrides where the
	// control-plane binaries are looked up.
	BinDirEnv = "BLUEGREEN_BIN_DIR"
	// SkipEnv names the environment variable that, set to "1", makes the
	// test helpers of this package skip tests instead of starting (or failing
	// to start) a control plane.
	SkipEnv = "BLUEGREEN_SKIP_CLUSTER"
	// KeepLogsEnv names the environment variable that, when set to a
	// directory, makes failing tests copy the component logs there.
	KeepLogsEnv = "BLUEGREEN_KEEP_LOGS"
)

// buildHint tells how to get the binaries; it ends every "not found" error.
const buildHint = "build them with `make controlplane` (hack/controlplane/build.sh) " +
	"or point " + BinDirEnv + " at a directory that has them"

// BinDir returns the directory holding the control-plane binaries (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok):
// $BLUEGREEN_BIN_DIR if set, else the bin/ directory of the module root found
// by walking up from the working directory.
func BinDir() (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("%s=%q: %w", BinDirEnv, dir, err)
		}
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("%s=%q is not a directory; unset it or %s", BinDirEnv, dir, buildHint)
		}
		return abs, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("locating the control-plane binaries: %w; or set %s", err, BinDirEnv)
	}
	dir := filepath.Join(root, "bin")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("control-plane binaries not found: %s does not exist; %s", dir, buildHint)
	}
	return dir, nil
}

// ModuleRoot returns the directory of the go.mod that declares ModulePath,
// walking up from the working directory. Tests use it to build paths such as
// the CRD directory independent of the package they run in.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if declaresModule(filepath.Join(dir, "go.mod"), ModulePath) {
			return dir, nil
		}
		if parent := filepath.Dir(dir); parent == dir {
			return "", fmt.Errorf("no go.mod declaring module %s in %s or any parent directory", ModulePath, wd)
		}
	}
}

// declaresModule reports whether the go.mod at path declares module mod.
func declaresModule(path, mod string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == mod
		}
	}
	return false
}

// binaries returns the paths of the named binaries in BinDir, or an error
// naming every missing one.
func binaries(names ...string) (map[string]string, error) {
	dir, err := BinDir()
	if err != nil {
		return nil, err
	}
	paths := make(map[string]string, len(names))
	var missing []string
	for _, name := range names {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, name)
			continue
		}
		paths[name] = p
	}
	if len(missing) > 0 {
		return nil, errors.New("control-plane binaries missing from " + dir + ": " +
			strings.Join(missing, ", ") + "; " + buildHint)
	}
	return paths, nil
}
