#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok) from the pinned modules into bin/. A stamp made
# from the pins lets a later run skip the build when bin/ already has them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../bin}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
stamp=$(cat "$here/go.mod" "$here/go.sum" "$here/kwok/go.mod" "$here/kwok/go.sum" "$here/etcd/main.go" | sha256sum | cut -c1-16)

complete=1
for b in "${bins[@]}"; do [ -x "$out/$b" ] || complete=0; done
if [ $complete = 1 ] && [ "$(cat "$out/.controlplane-stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "control plane binaries up to date in $out"
	exit 0
fi

start=$(date +%s)
export CGO_ENABLED=0
flags=(-trimpath -ldflags=-s\ -w)
echo "building control plane into $out (this takes several minutes the first time)"
(cd "$here" && go build "${flags[@]}" -o "$out/etcd" ./etcd)
(cd "$here" && go build "${flags[@]}" -o "$out/" \
	k8s.io/kubernetes/cmd/kube-apiserver \
	k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler \
	k8s.io/kubernetes/cmd/kubectl)
(cd "$here/kwok" && go build "${flags[@]}" -o "$out/kwok" sigs.k8s.io/kwok/cmd/kwok)
echo "$stamp" > "$out/.controlplane-stamp"
echo "control plane built in $(( $(date +%s) - start ))s"
