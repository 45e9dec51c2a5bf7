#!/usr/bin/env bash
# Regenerates the replace directives that k8s.io/kubernetes needs: it refers to its
# staging modules as v0.0.0 with local replaces, which a module that imports it must
# turn into real versions. The list comes from the pinned kubernetes go.mod itself.
set -euo pipefail
cd "$(dirname "$0")"
kube=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)   # e.g. v1.37.2
staging="v0${kube#v1}"                                    # e.g. v0.37.2
gomod=$(go mod download -json "k8s.io/kubernetes@${kube}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
args=()
while read -r mod; do
	args+=("-replace=${mod}=${mod}@${staging}")
done < <(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$gomod")
[ ${#args[@]} -gt 0 ] || { echo "no staging replaces found in $gomod" >&2; exit 1; }
go mod edit "${args[@]}"
echo "wrote ${#args[@]} replaces for k8s.io/kubernetes ${kube} (staging ${staging})"
