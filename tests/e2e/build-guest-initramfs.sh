#!/usr/bin/env bash
# Builds the e2e guest initramfs for each Debian guest kernel flavour:
#   OUTDIR/guest-cloud.cpio.gz   (linux-image-cloud-amd64's modules)
#   OUTDIR/guest-generic.cpio.gz (linux-image-amd64's modules)
# plus OUTDIR/vmlinuz-cloud and OUTDIR/vmlinuz-generic (copies of the matching kernels).
# Contents: busybox-static, the virtio-pci/vsock/rng/pvpanic/net modules (dependency order),
# tests/e2e/guest/vsock_tool and nettool (static) and tests/e2e/guest/init.sh as /init.
# usage: build-guest-initramfs.sh OUTDIR [cloud|generic ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"
out=${1:?usage: build-guest-initramfs.sh OUTDIR [cloud|generic ...]}
shift
flavours=("$@")
((${#flavours[@]})) || flavours=(cloud generic)
mkdir -p "$out"
out=$(cd "$out" && pwd)
GUEST_MODULES=(virtio_pci vmw_vsock_virtio_transport virtio_rng pvpanic_pci virtio_net)
# Shared-filesystem tests (tests/e2e/guest/fs): virtio-fs in both kernels, 9p only in generic.
FS_MODULES_cloud=(virtiofs)
FS_MODULES_generic=(virtiofs 9pnet_virtio 9p)

build_static_tool "$here/guest/vsock_tool.c" "$out/vsock_tool"
build_static_tool "$here/guest/fs/fstool.c" "$out/fstool"
build_static_tool "$here/guest/nettool.c" "$out/nettool"
for fl in "${flavours[@]}"; do
  case $fl in
    cloud) deb=cloud-amd64 ;;
    generic) deb=amd64 ;;
    *) echo "unknown flavour $fl" >&2; exit 1 ;;
  esac
  kernel=$(find_kernel "$deb")
  kver=$(kernel_version "$kernel")
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/{proc,sys,dev,tmp,etc}
  install_busybox "$root"
  fsmods="FS_MODULES_$fl[@]"
  install_modules "$kver" "$root" modules "${GUEST_MODULES[@]}" "${!fsmods}"
  cp "$out/vsock_tool" "$root/bin/vsock_tool"
  cp "$out/nettool" "$root/bin/nettool"
  mkdir -p "$root/fs" "$root/mnt"
  cp "$out/fstool" "$root/fs/fstool"
  cp "$here"/guest/fs/*.sh "$root/fs/"
  install -m 755 "$here/guest/init.sh" "$root/init"
  make_cpio "$root" "$out/guest-$fl.cpio.gz"
  cp "$kernel" "$out/vmlinuz-$fl"
  rm -rf "$root"
  trap - EXIT
  echo "guest initramfs: $out/guest-$fl.cpio.gz ($kver)"
done
