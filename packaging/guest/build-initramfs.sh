#!/usr/bin/env bash
# Builds the runvm guest initramfs: the static runvm-init as /init plus the
# guest kernel's own modules that runvm's devices need, listed in load order
# (dependencies first) in /lib/modules/runvm.list, which runvm-init reads.
#
# Usage: build-initramfs.sh --init PATH [--kernel VERSION] [--modules-dir DIR]
#                           [--output FILE] [--extra-modules "m1 m2"]
#   --init         the static runvm-init binary
#   --kernel       kernel release (default: the newest *-cloud-amd64 in /lib/modules)
#   --modules-dir  that kernel's modules tree (default /lib/modules/VERSION)
#   --output       initramfs file, gzip'd newc cpio (default runvm-initrd.img)
#   --release-out  also write the kernel release the image was built for to this file
#   --vmlinux-dir  also extract that kernel's bzImage (/boot/vmlinuz-VERSION beside the
#                  modules tree) uncompressed into DIR/runvm-vmlinux-VERSION, which runvm
#                  boots instead (extract-vmlinux.sh; a failure only warns)
set -euo pipefail

# Wanted modules, by name; their dependencies are added automatically. Modules
# the kernel has built in, or does not have at all (9p in the cloud kernel), are
# skipped.
# pvpanic_pci: a guest panic (such as the agent, PID 1, dying) makes the VMM exit at once.
WANTED="virtio_pci vsock vmw_vsock_virtio_transport fuse virtiofs 9pnet_virtio 9p overlay virtio_blk virtio_net virtio_rng virtio_console pvpanic_pci"

init="" kver="" moddir="" output="runvm-initrd.img" extra="" release_out="" vmlinux_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --init) init=$2; shift 2 ;;
    --kernel) kver=$2; shift 2 ;;
    --modules-dir) moddir=$2; shift 2 ;;
    --output) output=$2; shift 2 ;;
    --extra-modules) extra=$2; shift 2 ;;
    --release-out) release_out=$2; shift 2 ;;
    --vmlinux-dir) vmlinux_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "build-initramfs: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$init" ] || { echo "build-initramfs: --init is required" >&2; exit 2; }
[ -x "$init" ] || { echo "build-initramfs: $init: not an executable" >&2; exit 1; }
# (`file` may be missing on a node that runs runvm-update-image: then trust the package.)
if command -v file >/dev/null && ! file -L "$init" 2>/dev/null | grep -q "statically linked"; then
  echo "build-initramfs: $init is not statically linked (the initramfs has no libraries)" >&2
  exit 1
fi
if [ -z "$kver" ]; then
  kver=$(ls /lib/modules | grep -- '-cloud-amd64$' | sort -V | tail -n1 || true)
  [ -n "$kver" ] || { echo "build-initramfs: no *-cloud-amd64 kernel in /lib/modules; pass --kernel" >&2; exit 1; }
fi
moddir=${moddir:-/lib/modules/$kver}
[ -d "$moddir" ] || { echo "build-initramfs: $moddir: no such directory" >&2; exit 1; }

builtin_file="$moddir/modules.builtin"
is_builtin() { [ -f "$builtin_file" ] && grep -Eq "/$1\.ko(\.[a-z]+)?$" "$builtin_file"; }
# modinfo accepts names with - or _; resolve through the tree given by --modules-dir.
basedir=${moddir%/lib/modules/*}
basedir=${basedir:-/}
mod_file() { { modinfo -b "$basedir" -k "$kver" -F filename "$1" 2>/dev/null || true; } | head -n1; }
mod_deps() { { modinfo -b "$basedir" -k "$kver" -F depends "$1" 2>/dev/null || true; } | tr ',' ' '; }

# Depth-first: dependencies are appended before the module that needs them.
declare -A seen=()
order=()
visit() {
  local m=${1//-/_}
  [ -n "${seen[$m]:-}" ] && return 0
  seen[$m]=1
  if is_builtin "$m"; then return 0; fi
  local f
  f=$(mod_file "$m")
  if [ -z "$f" ] || [ "$f" = "(builtin)" ]; then return 0; fi
  local d
  for d in $(mod_deps "$m"); do visit "$d"; done
  order+=("$m:$f")
}
for m in $WANTED $extra; do visit "$m"; done

# Device drivers carry the PCI ids of their devices: runvm-init loads one only when its
# device exists (guest-init/boot.h), so a VM without a NIC skips virtio_net and its
# failover modules. Modern virtio-pci ids are 0x1040 + the device type; the transitional
# ones are listed too.
pci_of() {
  case $1 in
    virtio_net | net_failover | failover) echo " pci=1af4:1041,1af4:1000" ;;
    virtio_blk) echo " pci=1af4:1042,1af4:1001" ;;
    virtio_console) echo " pci=1af4:1043,1af4:1003" ;;
    virtio_rng) echo " pci=1af4:1044,1af4:1005" ;;
    9pnet_virtio | 9pnet | 9p) echo " pci=1af4:1049,1af4:1009" ;;
    pvpanic_pci | pvpanic) echo " pci=1b36:0011" ;;
  esac
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{proc,sys,dev,run,tmp,lib/modules/"$kver"}
install -m 0755 "$init" "$work/init"
list="$work/lib/modules/runvm.list"
echo "# runvm guest modules for $kver, in load order" > "$list"
for entry in "${order[@]}"; do
  name=${entry%%:*} src=${entry#*:}
  dst="$work/lib/modules/$kver/$name.ko"
  # Stored uncompressed so runvm-init needs no in-kernel module decompression.
  case "$src" in
    *.ko.xz) xz -dc "$src" > "$dst" ;;
    *.ko.zst) zstd -qdc "$src" > "$dst" ;;
    *.ko.gz) gzip -dc "$src" > "$dst" ;;
    *) cp "$src" "$dst" ;;
  esac
  echo "/lib/modules/$kver/$name.ko$(pci_of "$name")" >> "$list"
done

# newc cpio, sorted and with fixed owners/times so equal inputs give equal bytes
# (runvm-update-image on a node rebuilds the packaged image bit for bit).
find "$work" -mindepth 1 -exec touch -h -d @0 {} +
( cd "$work" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
    cpio --null --create --format=newc --owner=0:0 --reproducible --quiet ) |
  gzip -9n > "$output.tmp"
mv "$output.tmp" "$output"
[ -z "$release_out" ] || echo "$kver" > "$release_out"
echo "build-initramfs: $output ($kver, ${#order[@]} modules)"
if [ -n "$vmlinux_dir" ]; then
  bz="${basedir%/}/boot/vmlinuz-$kver"
  if sh "$(dirname "$0")/extract-vmlinux.sh" "$bz" "$vmlinux_dir/runvm-vmlinux-$kver"; then
    echo "build-initramfs: $vmlinux_dir/runvm-vmlinux-$kver (uncompressed $bz)"
  else
    echo "build-initramfs: warning: no uncompressed kernel from $bz; runvm boots the bzImage" >&2
  fi
fi
