#!/usr/bin/env bash
# The metrics-server image the kind cluster runs when a scenario turns on an autoscaler: the binary
# build-binaries.sh built from sigs.k8s.io/metrics-server, in an empty image as upstream ships it.
# Its manifests are read from the same module (manifests/base) when it is installed.
# Usage: images/kind/build-metrics-server-image.sh
#   Writes metrics-server.env in the kind cache (METRICS_SERVER_VERSION, METRICS_SERVER_IMAGE,
#   METRICS_SERVER_MANIFESTS); an image whose binary did not change is not rebuilt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/build-binaries.sh" metrics-server > /dev/null
kind_cache="${MLOPS_CHAOS_KIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-chaos/kind}"
# shellcheck source=/dev/null
. "$kind_cache/versions.env"
src=$(cd / && GOFLAGS= GOTOOLCHAIN=local go mod download -json "sigs.k8s.io/metrics-server@$METRICS_SERVER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
manifests="$src/manifests/base"
[ -f "$manifests/deployment.yaml" ] || { echo "metrics-server-image: $manifests/deployment.yaml is missing from the module" >&2; exit 1; }
# Upstream's Dockerfile: distroless static, the binary as ENTRYPOINT, a non-root user (the manifest runs it as 1000).
# shellcheck source=images/kind/binary-image.sh
. "$here/binary-image.sh"
binary_image metrics-server "$METRICS_SERVER_VERSION" "$METRICS_SERVER_DIR" metrics-server /metrics-server $'USER 65534:65534\nENTRYPOINT ["/metrics-server"]'
printf 'METRICS_SERVER_VERSION=%s\nMETRICS_SERVER_IMAGE=%s\nMETRICS_SERVER_MANIFESTS=%s\n' "$METRICS_SERVER_VERSION" "$ref" "$manifests" > "$kind_cache/metrics-server.env"
