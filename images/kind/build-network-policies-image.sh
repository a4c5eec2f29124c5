#!/usr/bin/env bash
# The kube-network-policies image the kind cluster runs when a scenario cuts a link with a
# NetworkPolicy: the binary build-binaries.sh built (patched, see kube-network-policies-xt-nfqueue.patch)
# in an empty image, as upstream's Dockerfile ships it (/bin/netpol). Its manifest is read from the
# same module (install.yaml) when it is installed.
# Usage: images/kind/build-network-policies-image.sh
#   Writes network-policies.env in the kind cache (NETWORK_POLICIES_VERSION, NETWORK_POLICIES_IMAGE,
#   NETWORK_POLICIES_MANIFEST); an image whose binary did not change is not rebuilt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/build-binaries.sh" kube-network-policies > /dev/null
kind_cache="${MLOPS_CHAOS_KIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-chaos/kind}"
# shellcheck source=/dev/null
. "$kind_cache/versions.env"
upstream=${KUBE_NETWORK_POLICIES_VERSION%%-xtq*}
src=$(cd / && GOFLAGS= GOTOOLCHAIN=local go mod download -json "sigs.k8s.io/kube-network-policies@$upstream" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
manifest="$src/install.yaml"
[ -f "$manifest" ] || { echo "network-policies-image: $manifest is missing from the module" >&2; exit 1; }
# Upstream's Dockerfile: distroless static, the binary at /bin/netpol (install.yaml runs it by that path).
# shellcheck source=images/kind/binary-image.sh
. "$here/binary-image.sh"
binary_image kube-network-policies "$KUBE_NETWORK_POLICIES_VERSION" "$KUBE_NETWORK_POLICIES_DIR" netpol /bin/netpol 'CMD ["/bin/netpol"]'
printf 'NETWORK_POLICIES_VERSION=%s\nNETWORK_POLICIES_IMAGE=%s\nNETWORK_POLICIES_MANIFEST=%s\n' "$KUBE_NETWORK_POLICIES_VERSION" "$ref" "$manifest" > "$kind_cache/network-policies.env"
