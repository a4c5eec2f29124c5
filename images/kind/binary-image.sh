# Sourced by the kind images that are one Go binary build-binaries.sh built, in an empty image as
# upstream ships it (metrics-server, kube-network-policies).
#
# binary_image COMPONENT VERSION BINARY_DIR BINARY IMAGE_PATH DOCKERFILE_LINES
#   Builds mlops-chaos/COMPONENT:VERSION-<hash of the calling script and the binary's stamp> from
#   BINARY_DIR/bin/BINARY copied to IMAGE_PATH, then DOCKERFILE_LINES (its USER, ENTRYPOINT or CMD),
#   unless that image exists; removes the component's older images; sets $ref to the image.
binary_image() {
  local component=$1 version=$2 dir=$3 binary=$4 path=$5 lines=$6 s work
  ref="mlops-chaos/$component:$version-$( { cat "$0" "$dir/.stamp"; } | sha256sum | cut -c1-12)"
  if ! docker image inspect "$ref" > /dev/null 2>&1; then
    s=$(date +%s)
    work=$(mktemp -d "/tmp/mlops-chaos-$component.XXXXXX")
    cp "$dir/bin/$binary" "$work/$binary"
    printf 'FROM scratch\nCOPY %s %s\n%s\nLABEL org.mlops-chaos.component=%s org.mlops-chaos.version=%s\n' "$binary" "$path" "$lines" "$component" "$version" > "$work/Dockerfile"
    docker build -q -t "$ref" "$work" > /dev/null || { rm -rf "$work"; return 1; }
    rm -rf "$work"
    echo "$component-image: $ref built in $(( $(date +%s) - s ))s"
  else echo "$component-image: $ref is built"; fi
  # Older builds are dead weight; a running cluster keeps the copy loaded into its nodes.
  docker images --filter "label=org.mlops-chaos.component=$component" --format '{{.Repository}}:{{.Tag}}' | grep -vxF "$ref" | xargs -r docker rmi > /dev/null 2>&1 || true
}
