#!/usr/bin/env bash
# Builds Prometheus from the module pinned in this directory's go.mod into bin/, for the
# analysis integration tests (test/prometheus) and the demo. A stamp made from the pins
# lets a later run skip the build when bin/ already has it. The built binary is also
# kept in the user's cache ($BLUEGREEN_CACHE_DIR, default ~/.cache/bluegreen), so that a
# fresh clone on the same machine copies it instead of linking it again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../bin}
mkdir -p "$out"
out=$(cd "$out" && pwd)
stamp=$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)
cache=${BLUEGREEN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/bluegreen}/prometheus-$stamp

complete() { # DIR: has the binary of this stamp
	[ -x "$1/prometheus" ] && [ "$(cat "$1/.prometheus-stamp" 2>/dev/null)" = "$stamp" ]
}

if complete "$out"; then
	echo "prometheus up to date in $out"
	exit 0
fi
if complete "$cache"; then
	cp -f "$cache/prometheus" "$out/prometheus"
	cp -f "$cache/.prometheus-stamp" "$out/.prometheus-stamp"
	echo "prometheus copied from $cache"
	exit 0
fi

start=$(date +%s)
export CGO_ENABLED=0
version=$(cd "$here" && go list -m -f '{{.Version}}' github.com/prometheus/prometheus)
v=github.com/prometheus/common/version
cat <<MSG
building Prometheus $version from its Go module into $out: the analysis tests and make demo
query a real Prometheus. This happens once per machine (the binary is kept in $cache);
it takes about 5 minutes on 2 cores, most of it downloading and compiling its modules.
MSG
# The web UI's assets are not embedded (no builtinassets tag): tests and the demo use
# the HTTP API only. remove_all_sd leaves out the cloud service discoveries (AWS, Azure,
# GCE, Kubernetes, …) and their SDKs: scrape targets here are static_configs.
(cd "$here" && go build -trimpath -tags remove_all_sd "-ldflags=-s -w -X $v.Version=$version -X $v.Branch=HEAD -X $v.Revision=module" \
	-o "$out/prometheus" github.com/prometheus/prometheus/cmd/prometheus)
echo "$stamp" >"$out/.prometheus-stamp"
if mkdir -p "$cache" 2>/dev/null; then
	cp -f "$out/prometheus" "$out/.prometheus-stamp" "$cache/"
fi
echo "prometheus built in $(($(date +%s) - start))s"
