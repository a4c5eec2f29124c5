#!/usr/bin/env bash
# Builds the base image: a Debian bookworm minbase made by debootstrap, imported as one layer.
# Usage: images/base/build.sh TAG VERSION WORKDIR   (as root; WORKDIR is removed afterwards)
set -euo pipefail
tag=$1 version=$2 work=$3
here="$(cd "$(dirname "$0")" && pwd)"
suite=bookworm
mirror=http://deb.debian.org/debian
rootfs="$work/rootfs"

# debootstrap mounts /proc and /sys inside the target; a failed run can leave them mounted,
# and removing the tree through a live /proc or /sys mount must never happen.
unmount_all() {
  awk -v r="$rootfs/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
}
cleanup() { unmount_all; rm -rf --one-file-system "$rootfs"; }
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "base: debootstrap needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "base: debootstrap not found (apt-get install debootstrap)" >&2; exit 1; }
include=$(grep -v '^\s*#' "$here/packages" | grep -v '^\s*$' | paste -sd, -)
mkdir -p "$rootfs"
echo "base: debootstrap --variant=minbase $suite, including $include"
debootstrap --variant=minbase --include="$include" "$suite" "$rootfs" "$mirror"
unmount_all

# The Debian package creates a cluster of its own; images bring their own data directory.
rm -rf "$rootfs/var/lib/postgresql/15/main" "$rootfs/etc/postgresql/15/main"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
# Documentation is dead weight in a test image, but the licences stay.
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
# Docker supplies these per container; what debootstrap copied from this host must not ship.
: > "$rootfs/etc/hostname"; : > "$rootfs/etc/resolv.conf"; : > "$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
  "$mirror" "$suite" "$suite" "$suite" > "$rootfs/etc/apt/sources.list.d/debian.sources"
rm -f "$rootfs/etc/apt/sources.list"
chroot "$rootfs" dpkg-query -W -f '${Package} ${Version}\n' python3.11 postgresql-15 tini faketime

echo "base: importing as $tag"
tar --numeric-owner --xattrs -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change "LABEL org.mlops-chaos.component=base org.mlops-chaos.version=$version" \
  --change 'CMD ["bash"]' \
  --message "mlops-chaos base ($suite minbase)" - "$tag"
