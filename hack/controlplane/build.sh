#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok) from the pinned modules into bin/. A stamp made from
# the pins lets a later run skip the build when bin/ already has them. Built binaries
# are also kept in the user's cache ($BLUEGREEN_CACHE_DIR, default
# ~/.cache/bluegreen), so that a fresh clone on the same machine copies them instead
# of linking them again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../bin}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
stamp=$(cat "$here/go.mod" "$here/go.sum" "$here/kwok/go.mod" "$here/kwok/go.sum" "$here/etcd/main.go" "$here/build.sh" |
	sha256sum | cut -c1-16)
cache=${BLUEGREEN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/bluegreen}/controlplane-$stamp

complete() { # DIR: has every binary of this stamp
	for b in "${bins[@]}"; do [ -x "$1/$b" ] || return 1; done
	[ "$(cat "$1/.controlplane-stamp" 2>/dev/null)" = "$stamp" ]
}

if complete "$out"; then
	echo "control plane binaries up to date in $out"
	exit 0
fi
if complete "$cache"; then
	for b in "${bins[@]}" .controlplane-stamp; do cp -f "$cache/$b" "$out/$b"; done
	echo "control plane binaries copied from $cache"
	exit 0
fi

start=$(date +%s)
export CGO_ENABLED=0
flags=(-trimpath "-ldflags=-s -w")
# Kubernetes' own build stamps the version; without it the servers report v0.0.0-master.
kube=$(cd "$here" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
v=k8s.io/component-base/version
kubeflags=(-trimpath "-ldflags=-s -w -X $v.gitVersion=$kube -X $v.gitMajor=$(echo "${kube#v}" | cut -d. -f1) -X $v.gitMinor=$(echo "$kube" | cut -d. -f2) -X $v.gitTreeState=clean -X $v.buildDate=1970-01-01T00:00:00Z")
cat <<MSG
building the local control plane into $out: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kubectl from k8s.io/kubernetes $kube, and kwok, from their Go modules
(pinned in hack/controlplane). The integration and end-to-end tests and make demo run a real
cluster on this machine. This happens once per machine (the binaries are kept in $cache);
it takes about 15 to 20 minutes on 2 cores, most of it compiling kube-apiserver.
MSG
(cd "$here" && go build "${flags[@]}" -o "$out/etcd" ./etcd)
(cd "$here" && go build "${kubeflags[@]}" -o "$out/" \
	k8s.io/kubernetes/cmd/kube-apiserver \
	k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler \
	k8s.io/kubernetes/cmd/kubectl)
(cd "$here/kwok" && go build "${flags[@]}" -o "$out/kwok" sigs.k8s.io/kwok/cmd/kwok)
echo "$stamp" >"$out/.controlplane-stamp"
if mkdir -p "$cache" 2>/dev/null; then
	for b in "${bins[@]}" .controlplane-stamp; do cp -f "$out/$b" "$cache/$b"; done
fi
echo "control plane built in $(($(date +%s) - start))s"
