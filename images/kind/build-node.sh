#!/usr/bin/env bash
# Assembles the kind node image by hand, the way `kind build node-image` does
# (pkg/build/nodeimage/buildcontext.go in the kind module), from what this machine can reach:
# Debian packages (systemd, runc, iptables, CNI plugins), kind's base files read from the kind
# module, and the binaries images/kind/build-binaries.sh built from the Go module proxy.
#
#   1. rootfs   debootstrap bookworm with the packages kind's base image installs; bookworm's
#               systemd 252 boots under cgroup v1 (trixie's does not). Cached as an image.
#   2. images   kube-apiserver, -controller-manager, -scheduler, -proxy, etcd, coredns and
#               pause, under the names `kubeadm config images list` gives, so nothing is pulled.
#   3. node     kind's base files, containerd, the Kubernetes binaries, /kind/version; the
#               images imported into containerd's k8s.io namespace; then `docker commit`.
#
# Usage: images/kind/build-node.sh        (as root, with a Docker engine)
#   Prints one progress line per step with its time; the last line is the node image ref.
#   A ref whose inputs did not change is found and nothing is rebuilt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
logs="$repo/.tools/logs"
mkdir -p "$logs"
t_all=$(date +%s)
step() { printf 'kind-node: %s\n' "$*"; }
timed() { # LABEL CMD...: runs CMD with its output in a log, prints the label and the time taken
  local label=$1 s; shift; s=$(date +%s)
  local log="$logs/kind-node-${label%% *}.log"
  if ! "$@" > "$log" 2>&1; then tail -n 25 "$log" >&2; step "$label failed (log: ${log#"$repo/"})"; exit 1; fi
  step "$label: $(( $(date +%s) - s ))s"
}

[ "$(id -u)" = 0 ] || { echo "kind-node: debootstrap needs root" >&2; exit 1; }
docker info > /dev/null 2>&1 || { echo "kind-node: no Docker engine answers (bash scripts/docker-engine)" >&2; exit 1; }

bash "$here/build-binaries.sh"
# shellcheck source=/dev/null
kind_cache="${MLOPS_CHAOS_KIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-chaos/kind}"
. "$kind_cache/versions.env"
kind_module=$(cd / && GOFLAGS= GOTOOLCHAIN=local go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" 2>/dev/null | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$kind_module/images/base/files" ] || { echo "kind-node: kind module $KIND_VERSION not in the module cache" >&2; exit 1; }
base_files="$kind_module/images/base/files"

# Debian packages kind's base Dockerfile installs (fuse-overlayfs, nfs and iscsi left out: only
# rootless nodes and storage drivers use them), plus runc and the CNI plugins, which kind builds.
packages=systemd,dbus,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps,runc,containernetworking-plugins
hash() { sha256sum | cut -c1-12; }
rootfs_hash=$(printf '%s\n' bookworm "$packages" | hash)
rootfs_ref="mlops-chaos/kind-rootfs:bookworm-$rootfs_hash"
node_hash=$( { cat "$0"; for d in "$KIND_DIR" "$KUBERNETES_DIR" "$CONTAINERD_DIR" "$ETCD_DIR" "$COREDNS_DIR" "$PAUSE_DIR"; do cat "$d/.stamp"; done; echo "$rootfs_ref"; } | hash)
node_ref="mlops-chaos/kind-node:$KUBERNETES_VERSION-$node_hash"

if docker image inspect "$node_ref" > /dev/null 2>&1; then
  printf "%s\n" "$node_ref" > "$kind_cache/node-image"
  step "$node_ref is built ($(( $(date +%s) - t_all ))s)"
  echo "$node_ref"; exit 0
fi

work=$(mktemp -d /tmp/mlops-chaos-kind-node.XXXXXX)
build_container=""
unmount_all() {
  awk -v r="$work/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
}
cleanup() {
  [ -n "$build_container" ] && docker rm -f -v "$build_container" > /dev/null 2>&1 || true
  unmount_all; rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# ---- 1. rootfs ----------------------------------------------------------------------------------
build_rootfs() {
  local r="$work/rootfs"
  debootstrap --variant=minbase --include="$packages" bookworm "$r" http://deb.debian.org/debian
  unmount_all
  # What kind's base Dockerfile does after installing: no units wanted by default, no udev.
  find "$r/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
  rm -f "$r"/lib/systemd/system/multi-user.target.wants/* "$r"/etc/systemd/system/*.wants/* \
    "$r"/lib/systemd/system/local-fs.target.wants/* "$r"/lib/systemd/system/sockets.target.wants/*udev* \
    "$r"/lib/systemd/system/sockets.target.wants/*initctl* "$r"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >> "$r/etc/systemd/journald.conf"
  ln -sf /usr/lib/systemd/systemd "$r/sbin/init"
  # kind's containerd config looks for CNI plugins in /opt/cni/bin; Debian puts them in /usr/lib/cni.
  mkdir -p "$r/opt/cni/bin"; cp -a "$r"/usr/lib/cni/* "$r/opt/cni/bin/"
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb "$r"/usr/share/man/* "$r"/usr/share/locale/*
  find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  : > "$r/etc/hostname"; : > "$r/etc/resolv.conf"; : > "$r/etc/machine-id"
  chroot "$r" dpkg-query -W -f '${Package} ${Version}\n' systemd runc containernetworking-plugins iptables
  tar --numeric-owner --xattrs -C "$r" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL org.mlops-chaos.component=kind-rootfs" \
    --message "mlops-chaos kind node rootfs (bookworm minbase)" - "$rootfs_ref"
  rm -rf --one-file-system "$r"
}
if docker image inspect "$rootfs_ref" > /dev/null 2>&1; then step "rootfs $rootfs_ref is built"
else timed "rootfs (debootstrap bookworm, $(tr ',' '\n' <<< "$packages" | wc -l) packages)" build_rootfs; fi

# ---- 2. control plane images --------------------------------------------------------------------
# name=dir:binary... for each image kubeadm names; the names come from the list kubeadm printed.
declare -A image_bins=(
  [kube-apiserver]="$KUBERNETES_DIR/bin/kube-apiserver"
  [kube-controller-manager]="$KUBERNETES_DIR/bin/kube-controller-manager"
  [kube-scheduler]="$KUBERNETES_DIR/bin/kube-scheduler"
  [kube-proxy]="$KUBERNETES_DIR/bin/kube-proxy"
  [etcd]="$ETCD_DIR/bin/etcd $ETCD_DIR/bin/etcdctl"
  [coredns]="$COREDNS_DIR/bin/coredns"
  [pause]="$PAUSE_DIR/bin/pause"
)
build_images() {
  local refs=() line name ctx
  while read -r line; do
    [ -n "$line" ] || continue
    name=${line##*/}; name=${name%%:*}
    [ -n "${image_bins[$name]:-}" ] || { echo "no binary for kubeadm's image $line"; return 1; }
    ctx="$work/img-$name"; mkdir -p "$ctx"
    cp ${image_bins[$name]} "$ctx/"
    case $name in
      # kube-proxy programs iptables and conntrack: it runs on the node's own userland.
      kube-proxy) printf 'FROM %s\nCOPY kube-proxy /usr/local/bin/\n' "$rootfs_ref" ;;
      coredns) printf 'FROM scratch\nCOPY coredns /coredns\nENTRYPOINT ["/coredns"]\n' ;;
      pause) printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' ;;
      # kubeadm's static pods name the program, not its path.
      *) printf 'FROM scratch\nCOPY * /usr/local/bin/\nENV PATH=/usr/local/bin\n' ;;
    esac > "$ctx/Dockerfile"
    docker build -q -t "$line" "$ctx"
    refs+=("$line")
  done < "$KUBERNETES_DIR/kubeadm-images.txt"
  docker save -o "$work/images.tar" "${refs[@]}"
  # The upstream names live only in the node's containerd, never in this engine.
  docker rmi "${refs[@]}"
}
timed "images ($(wc -l < "$KUBERNETES_DIR/kubeadm-images.txt") for kubeadm $KUBERNETES_VERSION)" build_images

# ---- 3. node --------------------------------------------------------------------------------------
build_container="mlops-chaos-kind-build-$$"
assemble_node() {
  docker run -d --name "$build_container" --entrypoint=sleep --security-opt seccomp=unconfined "$rootfs_ref" infinity
  local stage="$work/stage"; mkdir -p "$stage/usr/local/bin" "$stage/usr/bin" "$stage/kind/manifests" "$stage/etc"
  cp -a "$base_files/usr/local/bin/." "$stage/usr/local/bin/"
  cp -a "$base_files/kind/." "$stage/kind/"
  cp -a "$base_files/LICENSES" "$stage/"
  cp -a "$base_files/etc/." "$stage/etc/"
  chmod -R a+rX "$stage"; chmod 0755 "$stage"/usr/local/bin/* "$stage"/kind/bin/*
  cp "$CONTAINERD_DIR"/bin/* "$stage/usr/local/bin/"
  cp "$KUBERNETES_DIR"/bin/{kubeadm,kubelet,kubectl} "$stage/usr/bin/"
  printf '%s' "$KUBERNETES_VERSION" > "$stage/kind/version"
  # Nothing here can pull local-path-provisioner: the cluster gets a storage class without a
  # provisioner (workloads use emptyDir), so that nothing waits on a pull.
  printf 'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: standard\n  annotations:\n    storageclass.kubernetes.io/is-default-class: "true"\nprovisioner: kubernetes.io/no-provisioner\nvolumeBindingMode: WaitForFirstConsumer\n' \
    > "$stage/kind/manifests/default-storage.yaml"
  # The sandbox image is the pause kubeadm names. This machine cannot lower an oom_score_adj
  # below 0 (no CAP_SYS_RESOURCE): containerd must not try to (kind's rootless switch), and
  # systemd must not for containerd itself, or the unit fails to start.
  sed -i -e "s#sandbox_image = .*#sandbox_image = \"registry.k8s.io/pause:$PAUSE_VERSION\"#" \
    -e 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' "$stage/etc/containerd/config.toml"
  sed -i '/^OOMScoreAdjust=/d' "$stage/etc/systemd/system/containerd.service"
  tar -C "$stage" -c . | docker cp - "$build_container:/"
  docker exec "$build_container" bash -euc '
    systemctl enable kubelet.service containerd.service undo-mount-hacks.service
    systemctl mask systemd-binfmt.service
    mkdir -p /etc/kubernetes/manifests
    ctr oci spec | jq ".hooks.createContainer[.hooks.createContainer | length] |= . + {\"path\": \"/kind/bin/mount-product-files.sh\"}" \
      | jq "del(.process.rlimits)" > /etc/containerd/cri-base.json
    containerd --version; runc --version | head -1; kubelet --version'
  docker exec "$build_container" bash -c 'nohup containerd > /var/log/containerd-build.log 2>&1 &'
  local i
  for i in $(seq 1 100); do docker exec "$build_container" ctr version > /dev/null 2>&1 && break; sleep 0.2; done
  docker exec -i "$build_container" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned \
    --all-platforms --no-unpack --digests - < "$work/images.tar"
  docker exec "$build_container" ctr --namespace=k8s.io images list -q
  docker exec "$build_container" bash -c 'kill $(pidof containerd); while pidof containerd > /dev/null; do sleep 0.1; done; rm -f /var/log/containerd-build.log'
  docker commit \
    --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
    --change 'CMD []' \
    --change 'ENV container=docker' \
    "$build_container" "$node_ref-commit"
  # Docker 20.10's commit takes no STOPSIGNAL: systemd shuts down cleanly on SIGRTMIN+3 only.
  printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\nLABEL org.mlops-chaos.component=kind-node org.mlops-chaos.version=%s\n' "$node_ref-commit" "$KUBERNETES_VERSION" \
    | docker build -q -t "$node_ref" -
  docker rmi "$node_ref-commit"
}
timed "node (containerd $CONTAINERD_VERSION, Kubernetes $KUBERNETES_VERSION, images imported)" assemble_node
printf "%s\n" "$node_ref" > "$kind_cache/node-image"
# Older node images are dead weight (a GB each); running clusters keep theirs until deleted.
docker images --filter label=org.mlops-chaos.component=kind-node --format '{{.Repository}}:{{.Tag}}' | grep -vxF "$node_ref" | xargs -r docker rmi > /dev/null 2>&1 || true
step "$node_ref built in $(( $(date +%s) - t_all ))s ($(docker image inspect --format '{{.Size}}' "$node_ref" | awk '{ printf "%d MB", $1 / 1e6 }'))"
echo "$node_ref"
