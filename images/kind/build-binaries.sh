#!/usr/bin/env bash
# Builds, from source, the binaries a kind node image is assembled from, for the `kind` target.
#
# `kind build node-image` cannot run on a machine that reaches no container registry: it pulls
# pause, etcd, coredns and kindnetd whatever its --type. A node image can be put together by
# hand instead, and every program in it must then come from a registry this machine does reach.
# Here that is the Go module proxy (and Debian's gcc for the pause binary):
#   kind                       the CLI that creates the cluster
#   kubeadm, kubelet, kubectl  from k8s.io/kubernetes in a wrapper module, since the module
#   and kube-apiserver,        requires its staging modules at v0.0.0 and reaches them through
#   -controller-manager,       ./staging replaces a dependency cannot use; the control plane
#   -scheduler, -proxy         programs are for the images kubeadm would otherwise pull
#   containerd, ctr, shim      2.x: Debian's 1.6 lacks `ctr images import --label`
#   etcd, coredns, pause       at the versions kubeadm names, for the control plane images
#   metrics-server             the resource metrics API a HorizontalPodAutoscaler reads
#   kube-network-policies      enforces NetworkPolicy (the pod network itself enforces none), with
#                              kube-network-policies-xt-nfqueue.patch (the why is at its top)
# Kubernetes stays on v1.34: from 1.35 the kubelet refuses cgroup v1, which this machine runs.
# kindnetd is not built: the module kind keeps it in (sigs.k8s.io/kind/images/kindnetd) is
# nested in kind's repository and not served by the proxy, so a node needs a CNI config of its own.
#
# Usage: images/kind/build-binaries.sh [--check] [COMPONENT...]   (default: all of them)
#   --check builds nothing: exit 0 when all are cached, 3 (naming the others) when not.
#   Output: $KIND_CACHE/<component>-<version>/bin/, one .stamp per component; a component whose
#   stamp is there is skipped, so a second run takes seconds. Logs: .tools/logs/kind-binaries-*.
#   $KIND_CACHE/versions.env names every version and directory, for the node image step.
#   KIND_CACHE is $MLOPS_CHAOS_KIND_CACHE, or ~/.cache/mlops-chaos/kind: a cache of the machine, like
#   Go's, so a fresh clone on the same machine finds what an earlier checkout built.
# Builds run at the lowest CPU and I/O priority: timing-sensitive tests share the cores.
set -euo pipefail

# ---- versions: the only place they are pinned -------------------------------------------------
KIND_VERSION=v0.33.0
# Newest v1.34 patch the Go proxy serves. Its @v/list stops at v1.34.4, but later patches are
# served when asked for by version (not v1.34.6; v1.34.13 and later answer 403).
KUBERNETES_VERSION=v1.34.12
CONTAINERD_VERSION=v2.3.4    # what kind v0.33.0's base image builds
ETCD_VERSION=v3.6.5          # kubeadm v1.34.12: DefaultEtcdVersion "3.6.5-0"
COREDNS_VERSION=v1.12.1      # kubeadm v1.34.12: CoreDNSVersion
PAUSE_VERSION=3.10.1         # kubeadm v1.34.12: PauseVersion; source is build/pause in the kubernetes module
KSERVE_VERSION=v0.20.0       # newest github.com/kserve/kserve the Go proxy serves (not v0.21.0)
METRICS_SERVER_VERSION=v0.8.0  # sigs.k8s.io/metrics-server; its client libraries (v0.33) read a 1.34 API server's resource metrics
NETWORK_POLICIES_VERSION=v0.8.0  # sigs.k8s.io/kube-network-policies, kindnetd's NetworkPolicy engine (newest served)
# ------------------------------------------------------------------------------------------------

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out_root="${MLOPS_CHAOS_KIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-chaos/kind}"
logs="$repo/.tools/logs"
mkdir -p "$out_root" "$logs"

export GOFLAGS="-trimpath -buildvcs=false"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
all_components=(kind kubernetes containerd etcd coredns pause kserve metrics-server kube-network-policies)

lowprio() { nice -n 19 ionice -c3 "$@"; }

# The commit a proxy-served version was made from (the proxy records it as its origin).
module_commit() {
  lowprio go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]*\)".*/\1/p' | head -1
}
module_dir() { lowprio go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }
module_time() { lowprio go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Time": "\(.*\)",$/\1/p'; }

# wrapper_module DIR MODULE VERSION GO_DIRECTIVE [EXTRA_GO_MOD_TEXT]
# A module of our own that requires MODULE@VERSION: `go build -mod=mod` then resolves the
# dependency graph the way any consumer of the module sees it.
wrapper_module() {
  local dir=$1 mod=$2 ver=$3 godir=$4 extra=${5:-}
  mkdir -p "$dir"
  printf 'module kind-binaries/wrapper\n\ngo %s\n\n%srequire %s %s\n' "$godir" "$extra" "$mod" "$ver" > "$dir/go.mod"
  rm -f "$dir/go.sum"
}

# check RUN... : runs a built binary, its output kept in the component's stamp
check() { "$@" 2>&1 | tee -a "$CHECK_FILE"; }

gomod_directive() { sed -n "s/^$2 \(.*\)$/\1/p" "$1/go.mod" | head -1; }

build_kind() {
  local out=$1 commit
  commit=$(module_commit sigs.k8s.io/kind "$KIND_VERSION")
  wrapper_module "$out/build" sigs.k8s.io/kind "$KIND_VERSION" 1.17
  cd "$out/build"
  lowprio go build -mod=mod -o "$out/bin/kind" \
    -ldflags "-buildid= -s -w -X=sigs.k8s.io/kind/pkg/cmd/kind/version.gitCommit=$commit" sigs.k8s.io/kind
  check "$out/bin/kind" version
}

build_kubernetes() {
  local out=$1 src commit date minor staging replaces ldflags key
  src=$(module_dir k8s.io/kubernetes "$KUBERNETES_VERSION")
  commit=$(module_commit k8s.io/kubernetes "$KUBERNETES_VERSION")
  date=$(module_time k8s.io/kubernetes "$KUBERNETES_VERSION")
  # every k8s.io/* module the kubernetes module takes from ./staging, at its published v0.X.Y
  staging=$(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$src/go.mod")
  [ -n "$staging" ] || { echo "no staging replaces found in $src/go.mod" >&2; return 1; }
  replaces="replace ("$'\n'
  for m in $staging; do replaces+=$'\t'"$m => $m v0.${KUBERNETES_VERSION#v1.}"$'\n'; done
  replaces+=")"$'\n'
  wrapper_module "$out/build" k8s.io/kubernetes "$KUBERNETES_VERSION" "$(gomod_directive "$src" go)" \
    "godebug $(gomod_directive "$src" godebug)"$'\n\n'"$replaces"$'\n'
  minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  # hack/lib/version.sh sets these in both packages; without them the binaries say v0.0.0-master
  ldflags="-s -w"
  for key in "gitVersion=$KUBERNETES_VERSION" "gitMajor=1" "gitMinor=$minor" "gitCommit=$commit" \
    "gitTreeState=clean" "buildDate=$date"; do
    ldflags+=" -X k8s.io/client-go/pkg/version.$key -X k8s.io/component-base/version.$key"
  done
  cd "$out/build"
  # hack/lib/golang.sh: tags selinux,notest,grpcnotrace. Upstream links the kubelet with cgo;
  # nothing in it needs cgo, and a static kubelet runs on any node base.
  # The control plane programs are built too: the node image must carry their images, which
  # kubeadm would otherwise pull (`kubeadm config images list`, saved as kubeadm-images.txt).
  lowprio go build -mod=mod -tags selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$out/bin/" \
    k8s.io/kubernetes/cmd/kubeadm k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy
  check "$out/bin/kubelet" --version
  check "$out/bin/kubeadm" version -o short
  check "$out/bin/kubectl" version --client
  for b in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
    printf "%s: " "$b" | tee -a "$CHECK_FILE"; check "$out/bin/$b" --version
  done
  "$out/bin/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" | tee "$out/kubeadm-images.txt"
}

build_containerd() {
  local out=$1 commit pkg=github.com/containerd/containerd/v2 src ldflags
  src=$(module_dir "$pkg" "$CONTAINERD_VERSION")
  commit=$(module_commit "$pkg" "$CONTAINERD_VERSION")
  wrapper_module "$out/build" "$pkg" "$CONTAINERD_VERSION" "$(gomod_directive "$src" go)"
  ldflags="-s -w -X $pkg/version.Version=$CONTAINERD_VERSION -X $pkg/version.Revision=$commit -X $pkg/version.Package=$pkg"
  cd "$out/build"
  # kind's base image: no optional snapshotters; the Makefile's tags for the shim add no_grpc
  lowprio go build -mod=mod -tags "no_aufs no_zfs no_btrfs no_devmapper urfave_cli_no_docs" -ldflags "$ldflags" \
    -o "$out/bin/" "$pkg/cmd/containerd" "$pkg/cmd/ctr"
  lowprio go build -mod=mod -tags "no_aufs no_zfs no_btrfs no_devmapper urfave_cli_no_docs no_grpc" -ldflags "$ldflags" \
    -o "$out/bin/" "$pkg/cmd/containerd-shim-runc-v2"
  check "$out/bin/containerd" --version
  check "$out/bin/ctr" --version
  check "$out/bin/containerd-shim-runc-v2" -v
}

build_etcd() {
  local out=$1 commit src
  src=$(module_dir go.etcd.io/etcd/server/v3 "$ETCD_VERSION")
  commit=$(module_commit go.etcd.io/etcd/server/v3 "$ETCD_VERSION")
  wrapper_module "$out/build" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "$(gomod_directive "$src" go)" \
    "require go.etcd.io/etcd/etcdctl/v3 $ETCD_VERSION"$'\n'
  cd "$out/build"
  lowprio go build -mod=mod -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${commit:0:7}" \
    -o "$out/bin/etcd" go.etcd.io/etcd/server/v3
  lowprio go build -mod=mod -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${commit:0:7}" \
    -o "$out/bin/etcdctl" go.etcd.io/etcd/etcdctl/v3
  check "$out/bin/etcd" --version
  check "$out/bin/etcdctl" version
}

build_coredns() {
  local out=$1 commit src
  src=$(module_dir github.com/coredns/coredns "$COREDNS_VERSION")
  commit=$(module_commit github.com/coredns/coredns "$COREDNS_VERSION")
  wrapper_module "$out/build" github.com/coredns/coredns "$COREDNS_VERSION" "$(gomod_directive "$src" go)"
  cd "$out/build"
  lowprio go build -mod=mod -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=${commit:0:7}" \
    -o "$out/bin/coredns" github.com/coredns/coredns
  check "$out/bin/coredns" -version
}

build_pause() {
  local out=$1 src
  src=$(module_dir k8s.io/kubernetes "$KUBERNETES_VERSION")
  mkdir -p "$out/bin"
  # build/pause/Makefile: CFLAGS = -Os -Wall -Werror -static -DVERSION=v$(TAG)-$(REV), then strip
  lowprio gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION" -o "$out/bin/pause" "$src/build/pause/linux/pause.c"
  strip "$out/bin/pause"
  check "$out/bin/pause" -v
}

# The KServe controller (cmd/manager: InferenceService, ServingRuntime, ...), as its Dockerfile
# builds it. Its manifests are read from the module (install/<version>/kserve.yaml) when installed.
build_kserve() {
  local out=$1 src
  src=$(module_dir github.com/kserve/kserve "$KSERVE_VERSION")
  # Built in a copy of the module itself, not a wrapper: its go.mod pins controller-runtime and
  # k8s.io/* with replace directives, which only the main module's go.mod can apply.
  mkdir -p "$out/build"; cp -r "$src" "$out/build/kserve"; chmod -R u+w "$out/build/kserve"
  cd "$out/build/kserve"
  lowprio go build -mod=mod -ldflags "-s -w" -o "$out/bin/manager" ./cmd/manager
  cd "$out"; rm -rf "$out/build"
  check "$out/bin/manager" --help
}

# metrics-server as its Makefile builds it (sigs.k8s.io/metrics-server/cmd/metrics-server, version
# ldflags in client-go's pkg/version), in a wrapper module: its go.mod has no replace directives.
build_metrics_server() {
  local out=$1 src commit date pkg=k8s.io/client-go/pkg/version  # the Makefile's PKG
  src=$(module_dir sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION")
  commit=$(module_commit sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION")
  date=$(module_time sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION")
  wrapper_module "$out/build" sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION" "$(gomod_directive "$src" go)"
  cd "$out/build"
  lowprio go build -mod=mod -ldflags "-s -w -X $pkg.gitVersion=$METRICS_SERVER_VERSION -X $pkg.gitCommit=$commit -X $pkg.buildDate=$date" \
    -o "$out/bin/metrics-server" sigs.k8s.io/metrics-server/cmd/metrics-server
  cd "$out"; rm -rf "$out/build"
  check "$out/bin/metrics-server" --version
}

# kube-network-policies as its Dockerfile builds it (./cmd as /bin/netpol), from a copy of the module
# with kube-network-policies-xt-nfqueue.patch applied; its go.mod has no replace directives.
build_kube_network_policies() {
  local out=$1 src
  src=$(module_dir sigs.k8s.io/kube-network-policies "$NETWORK_POLICIES_VERSION")
  mkdir -p "$out/build"; cp -r "$src" "$out/build/src"; chmod -R u+w "$out/build/src"
  patch -s -d "$out/build/src" -p1 < "$here/kube-network-policies-xt-nfqueue.patch"
  cd "$out/build/src"
  lowprio go build -mod=mod -ldflags "-s -w" -o "$out/bin/netpol" ./cmd
  cd "$out"; rm -rf "$out/build"
  echo "patched with kube-network-policies-xt-nfqueue.patch $(sha256sum < "$here/kube-network-policies-xt-nfqueue.patch" | cut -c1-12)" >> "$CHECK_FILE"
  check "$out/bin/netpol" --help > /dev/null
}

# What a component's bin/ must hold for its stamp to count.
binaries_of() {
  case $1 in
    kind) echo kind ;;
    kubernetes) echo kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy ;;
    containerd) echo containerd ctr containerd-shim-runc-v2 ;;
    etcd) echo etcd etcdctl ;; coredns) echo coredns ;; pause) echo pause ;; kserve) echo manager ;;
    metrics-server) echo metrics-server ;; kube-network-policies) echo netpol ;;
  esac
}

version_of() {
  case $1 in
    kind) echo "$KIND_VERSION" ;; kubernetes) echo "$KUBERNETES_VERSION" ;;
    containerd) echo "$CONTAINERD_VERSION" ;; etcd) echo "$ETCD_VERSION" ;;
    coredns) echo "$COREDNS_VERSION" ;; pause) echo "$PAUSE_VERSION" ;; kserve) echo "$KSERVE_VERSION" ;;
    metrics-server) echo "$METRICS_SERVER_VERSION" ;;
    # the patch's hash in the version: a changed patch is a new build, not a stale cache hit
    kube-network-policies) echo "$NETWORK_POLICIES_VERSION-xtq$(sha256sum < "$here/kube-network-policies-xt-nfqueue.patch" | cut -c1-8)" ;;
    *) echo "kind-binaries: unknown component $1 (known: ${all_components[*]})" >&2; return 1 ;;
  esac
}

all_present() { local d=$1 b; shift; for b; do [ -x "$d/$b" ] || return 1; done; }

failed=()
build_one() {
  local name=$1 version dir tmp log start pid
  version=$(version_of "$name")
  dir="$out_root/$name-$version"
  if [ -f "$dir/.stamp" ] && all_present "$dir/bin" $(binaries_of "$name"); then
    echo "kind-binaries: $name $version  cached"
    return 0
  fi
  tmp="$dir.partial"
  log="$logs/kind-binaries-$name.log"
  rm -rf "$tmp"; mkdir -p "$tmp"
  start=$SECONDS
  # A child process, not an `if ( ... )`: errexit must hold inside the build function.
  ( set -euo pipefail; CHECK_FILE="$tmp/.stamp.new"; "build_${name//-/_}" "$tmp" ) > "$log" 2>&1 &
  pid=$!
  if wait "$pid"; then
    { echo "$name $version, $(go version | cut -d' ' -f3)"; cat "$tmp/.stamp.new"; } > "$tmp/.stamp.tmp"
    mv "$tmp/.stamp.tmp" "$tmp/.stamp.new"
    rm -rf "$dir"; mv "$tmp" "$dir"; mv "$dir/.stamp.new" "$dir/.stamp"
    echo "kind-binaries: $name $version  $((SECONDS - start))s"
  else
    echo "kind-binaries: $name $version  FAILED after $((SECONDS - start))s (log: ${log#"$repo"/})" >&2
    tail -n 15 "$log" | sed 's/^/  /' >&2
    failed+=("$name")
  fi
}

check_only=false
if [ "${1:-}" = --check ]; then check_only=true; shift; fi
components=("$@")
[ ${#components[@]} -gt 0 ] || components=("${all_components[@]}")
# --check: exit 0 when every component is cached (a build would take seconds), 3 when not.
if $check_only; then
  missing=()
  for c in "${components[@]}"; do
    v=$(version_of "$c"); d="$out_root/$c-$v"
    [ -f "$d/.stamp" ] && all_present "$d/bin" $(binaries_of "$c") || missing+=("$c $v")
  done
  [ ${#missing[@]} -eq 0 ] && exit 0
  echo "kind-binaries: not built on this machine: $(IFS=,; echo "${missing[*]}" | sed 's/,/, /g')"; exit 3
fi
for c in "${components[@]}"; do version_of "$c" >/dev/null; done
for c in "${components[@]}"; do build_one "$c"; done

{
  echo "# written by images/kind/build-binaries.sh"
  for c in "${all_components[@]}"; do
    v=$(version_of "$c"); u=$(echo "$c" | tr a-z- A-Z_)
    echo "${u}_VERSION=$v"
    echo "${u}_DIR=$out_root/$c-$v"
  done
} > "$out_root/versions.env"

if [ ${#failed[@]} -gt 0 ]; then
  echo "kind-binaries: failed: ${failed[*]}" >&2
  exit 1
fi
