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
ref="mlops-chaos/metrics-server:$METRICS_SERVER_VERSION-$( { cat "$0" "$METRICS_SERVER_DIR/.stamp"; } | sha256sum | cut -c1-12)"
if ! docker image inspect "$ref" > /dev/null 2>&1; then
  s=$(date +%s)
  work=$(mktemp -d /tmp/mlops-chaos-metrics-server.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  cp "$METRICS_SERVER_DIR/bin/metrics-server" "$work/metrics-server"
  # Upstream's Dockerfile: distroless static, the binary as ENTRYPOINT, a non-root user (the manifest runs it as 1000).
  printf 'FROM scratch\nCOPY metrics-server /metrics-server\nUSER 65534:65534\nLABEL org.mlops-chaos.component=metrics-server org.mlops-chaos.version=%s\nENTRYPOINT ["/metrics-server"]\n' "$METRICS_SERVER_VERSION" > "$work/Dockerfile"
  docker build -q -t "$ref" "$work" > /dev/null
  echo "metrics-server-image: $ref built in $(( $(date +%s) - s ))s"
else echo "metrics-server-image: $ref is built"; fi
# Older builds are dead weight; a running cluster keeps the copy loaded into its node.
docker images --filter "label=org.mlops-chaos.component=metrics-server" --format '{{.Repository}}:{{.Tag}}' | grep -vxF "$ref" | xargs -r docker rmi > /dev/null 2>&1 || true
printf 'METRICS_SERVER_VERSION=%s\nMETRICS_SERVER_IMAGE=%s\nMETRICS_SERVER_MANIFESTS=%s\n' "$METRICS_SERVER_VERSION" "$ref" "$manifests" > "$kind_cache/metrics-server.env"
