// Command kubectl-bluegreen is the kubectl plugin for bluegreen Rollouts: with the binary
// on PATH, `kubectl bluegreen …` works. The commands live in pkg/cli.
package main

import (
	"os"

	"github.com/bluegreen-dev/bluegreen/pkg/cli"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise the module
// version from the build info is used.
var version = ""

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Options{Version: version}))
}
