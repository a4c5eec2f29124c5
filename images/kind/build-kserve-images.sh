#!/usr/bin/env bash
# The KServe images the kind cluster runs, built from what this machine has:
#   kserve-controller           the manager build-binaries.sh built from github.com/kserve/kserve,
#                               in an empty image as upstream's Dockerfile ships it (distroless)
#   kserve-storage-initializer  upstream's initializer-entrypoint (read from the same module) on
#                               the factory's kserve image, whose venv has kserve_storage
# Usage: images/kind/build-kserve-images.sh KSERVE_IMAGE_REF
#   Writes kserve-images.env in the kind cache (see build-binaries.sh) (KSERVE_CONTROLLER_IMAGE, KSERVE_STORAGE_INITIALIZER_IMAGE,
#   KSERVE_MANIFEST); an image whose inputs did not change is not rebuilt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kserve_image=${1:?usage: build-kserve-images.sh KSERVE_IMAGE_REF}
bash "$here/build-binaries.sh" kserve > /dev/null
# shellcheck source=/dev/null
kind_cache="${MLOPS_CHAOS_KIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-chaos/kind}"
. "$kind_cache/versions.env"
src=$(cd / && GOFLAGS= GOTOOLCHAIN=local go mod download -json "github.com/kserve/kserve@$KSERVE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
manifest="$src/install/$KSERVE_VERSION/kserve.yaml"
[ -f "$manifest" ] || { echo "kserve-images: $manifest is missing from the module" >&2; exit 1; }
hash() { sha256sum | cut -c1-12; }
controller_ref="mlops-chaos/kserve-controller:$KSERVE_VERSION-$( { cat "$0" "$KSERVE_DIR/.stamp"; } | hash)"
initializer_ref="mlops-chaos/kserve-storage-initializer:$KSERVE_VERSION-$( { cat "$0" "$src/python/storage-initializer/scripts/initializer-entrypoint"; echo "$kserve_image"; } | hash)"
work=$(mktemp -d /tmp/mlops-chaos-kserve-images.XXXXXX)
trap 'rm -rf "$work"' EXIT
if ! docker image inspect "$controller_ref" > /dev/null 2>&1; then
  s=$(date +%s)
  cp "$KSERVE_DIR/bin/manager" "$work/manager"
  printf 'FROM scratch\nCOPY manager /manager\nUSER 65532:65532\nLABEL org.mlops-chaos.component=kserve-controller org.mlops-chaos.version=%s\nENTRYPOINT ["/manager"]\n' "$KSERVE_VERSION" > "$work/Dockerfile"
  docker build -q -t "$controller_ref" "$work" > /dev/null
  echo "kserve-images: $controller_ref built in $(( $(date +%s) - s ))s"
else echo "kserve-images: $controller_ref is built"; fi
if ! docker image inspect "$initializer_ref" > /dev/null 2>&1; then
  s=$(date +%s)
  mkdir -p "$work/init"; cp "$src/python/storage-initializer/scripts/initializer-entrypoint" "$work/init/"
  printf 'FROM %s\nCOPY initializer-entrypoint /storage-initializer/scripts/initializer-entrypoint\nLABEL org.mlops-chaos.component=kserve-storage-initializer org.mlops-chaos.version=%s\nENTRYPOINT ["/storage-initializer/scripts/initializer-entrypoint"]\n' "$kserve_image" "$KSERVE_VERSION" > "$work/init/Dockerfile"
  chmod 0755 "$work/init/initializer-entrypoint"
  docker build -q -t "$initializer_ref" "$work/init" > /dev/null
  echo "kserve-images: $initializer_ref built in $(( $(date +%s) - s ))s"
else echo "kserve-images: $initializer_ref is built"; fi
# Older builds are dead weight; a running cluster keeps the copies loaded into its nodes.
for c in kserve-controller:"$controller_ref" kserve-storage-initializer:"$initializer_ref"; do
  docker images --filter "label=org.mlops-chaos.component=${c%%:*}" --format '{{.Repository}}:{{.Tag}}' | grep -vxF "${c#*:}" | xargs -r docker rmi > /dev/null 2>&1 || true
done
printf 'KSERVE_VERSION=%s\nKSERVE_CONTROLLER_IMAGE=%s\nKSERVE_STORAGE_INITIALIZER_IMAGE=%s\nKSERVE_MANIFEST=%s\n' "$KSERVE_VERSION" "$controller_ref" "$initializer_ref" "$manifest" > "$kind_cache/kserve-images.env"
