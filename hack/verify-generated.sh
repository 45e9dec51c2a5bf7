#!/usr/bin/env bash
# Regenerates deepcopy code, CRDs and RBAC and fails when that changed anything, so
# that a change to api/ or to RBAC markers cannot land without its generated files.
set -euo pipefail
cd "$(dirname "$0")/.."
generated=(api/v1alpha1/zz_generated.deepcopy.go config/crd/bases config/rbac/role.yaml charts/bluegreen/crds charts/bluegreen/files/manager-role.yaml)
snapshot=$(mktemp -d)
trap 'rm -rf "$snapshot"' EXIT
for f in "${generated[@]}"; do
	mkdir -p "$snapshot/$(dirname "$f")"
	[ -e "$f" ] && cp -r "$f" "$snapshot/$f"
done
make --no-print-directory generate manifests >/dev/null
stale=0
for f in "${generated[@]}"; do
	if ! diff -r -q "$snapshot/$f" "$f" >/dev/null 2>&1; then
		echo "stale generated file: $f" >&2
		stale=1
	fi
done
if [ $stale = 1 ]; then
	echo "generated files were out of date and have now been regenerated: review and commit them" >&2
	exit 1
fi
echo "generated files are up to date"
