#!/usr/bin/env bash
# Builds the e2e test-host initramfs: OUTDIR/test-host.cpio.gz (and OUTDIR/test-host-vmlinuz,
# the cloud kernel that boots it). Contents:
#   busybox-static; kvm modules (irqbypass, kvm, kvm-amd and deps) plus vhost_vsock from the
#   cloud kernel; runvm-vmm / runvm when given (with their shared libraries and loader if they
#   are dynamic); qemu-system-x86_64 with its libraries and firmware (reference VMM);
#   vmrun, console_recv and vsock_tool (static); the guest kernels and e2e guest initramfs; the scenario
#   scripts; /init from tests/e2e/host/init.sh; with runvm, containerd + its runc shim + ctr
#   and a busybox OCI image archive (tests/e2e/lib/make-oci-image.sh).
# usage: build-test-host.sh OUTDIR [--vmm PATH] [--runvm PATH] [--runvm-initrd IMG] [--deb DEB]
#   (--runvm-initrd: IMG's runvm-vmlinux-<release> for the test host's kernel comes along)
#                           [--bench SCRIPT] [--no-qemu]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"
out=${1:?usage: build-test-host.sh OUTDIR [--vmm PATH] [--runvm PATH] [--bench SCRIPT] [--no-qemu]}
shift
vmm= runvm= bench= qemu=1 initrd= deb=
while (($#)); do
  case $1 in
    --vmm) vmm=$2; shift 2 ;;
    --runvm) runvm=$2; shift 2 ;;
    --runvm-initrd) initrd=$2; shift 2 ;;   # runvm's guest image, put next to runvm
    --deb) deb=$2; shift 2 ;;               # the runvm .deb, unpacked at / (runvm_run uses it)
    --bench) bench=$2; shift 2 ;;
    --no-qemu) qemu=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

"$here/build-guest-initramfs.sh" "$out/guest" cloud generic >/dev/null
build_static_tool "$here/tools/vmrun.c" "$out/vmrun"
build_static_tool "$here/tools/console_recv.c" "$out/console_recv"

host_kernel=$(find_kernel cloud-amd64)
host_kver=$(kernel_version "$host_kernel")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{proc,sys,dev,tmp,run,etc,e2e/bin,e2e/guest,e2e/scenarios}
install_busybox "$root"
# veth, tun and the tc pieces: the container network (runvm_net, runtime/net); bridge: docker0.
install_modules "$host_kver" "$root" e2e/modules irqbypass kvm kvm_amd vhost_vsock vsock_loopback \
  veth tun sch_ingress cls_u32 act_mirred bridge
# iproute2's ip and tc: busybox's ip cannot add a veth or show qdiscs.
for t in ip tc; do
  rm -f "$root/bin/$t"
  install_binary "$root" "$(command -v $t)" "/bin/$t"
done
cp "$out/vmrun" "$out/console_recv" "$out/guest/vsock_tool" "$out/guest/nettool" "$root/e2e/bin/"
cp "$out"/guest/vmlinuz-* "$out"/guest/guest-*.cpio.gz "$root/e2e/guest/"
cp "$here"/scenarios/*.sh "$root/e2e/scenarios/"
cp "$here/host/lib.sh" "$root/e2e/lib.sh"
install -m 755 "$here/host/init.sh" "$root/init"
[ -z "$bench" ] || install -m 755 "$bench" "$root/e2e/bench.sh"
[ -z "$vmm" ] || install_binary "$root" "$vmm" /e2e/bin/runvm-vmm
[ -z "$runvm" ] || install_binary "$root" "$runvm" /e2e/bin/runvm
[ -z "$initrd" ] || cp "$initrd" "$root/e2e/bin/runvm-initrd.img"
# The test host's kernel uncompressed, when the build extracted it beside the image: runvm
# boots it instead of /boot's bzImage (runtime/vm/uncompressed_kernel.h).
if [ -n "$initrd" ] && [ -f "$(dirname "$initrd")/runvm-vmlinux-$host_kver.source" ]; then
  cp "$(dirname "$initrd")/runvm-vmlinux-$host_kver" "$(dirname "$initrd")/runvm-vmlinux-$host_kver.source" \
    "$root/e2e/bin/"
fi
# The package as dpkg would unpack it (maintainer scripts aside: the guest image it ships is
# the one for this kernel), with the shared libraries its runvm links.
if [ -n "$deb" ]; then
  pkg=$(mktemp -d)
  dpkg-deb -x "$deb" "$pkg"
  rm -rf "$pkg/usr/share/doc" "$pkg/usr/share/man"
  cp -a "$pkg/." "$root/"
  install_binary "$root" "$pkg/usr/bin/runvm" /usr/bin/runvm
  rm -rf "$pkg"
fi
# runvm scenarios build their bundles from busybox; runvm's default guest kernel is in /boot.
[ -z "$runvm" ] || { mkdir -p "$root/boot"; cp "$(find_kernel cloud-amd64)" "$root/boot/"; }
# containerd_ctr: containerd, its runc shim and ctr from Debian, and a busybox OCI image.
if [ -n "$runvm" ] && command -v containerd >/dev/null && command -v containerd-shim-runc-v2 >/dev/null; then
  for b in containerd containerd-shim-runc-v2 ctr; do install_binary "$root" "$(command -v $b)" "/usr/bin/$b"; done
  mkdir -p "$root/e2e/images"
  "$here/lib/make-oci-image.sh" "$root/e2e/images/busybox-oci.tar"
  # containerd_cri: the pod's sandbox ("pause") image, the CNI plugins containerd's CRI runs,
  # and our CRI client (crictl is not in Debian 12; tests/e2e/tools/cri).
  "$here/lib/make-oci-image.sh" "$root/e2e/images/pause-oci.tar" pause '["sleep","2000000000"]'
  for p in bridge host-local loopback; do
    [ -x "/usr/lib/cni/$p" ] && install_binary "$root" "/usr/lib/cni/$p" "/usr/lib/cni/$p"
  done
  if pkg-config --exists grpc++ protobuf && command -v grpc_cpp_plugin >/dev/null; then
    "$here/tools/cri/build.sh" "$out/cri"
    install_binary "$root" "$out/cri/cri-client" /e2e/bin/cri-client
  fi
fi
# docker_run: Debian's docker.io (dockerd starts its own containerd from the binaries above).
if [ -n "$runvm" ] && [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] && command -v runc >/dev/null; then
  install_binary "$root" /usr/sbin/dockerd /usr/bin/dockerd
  install_binary "$root" /usr/bin/docker /usr/bin/docker  # not a docker CLI elsewhere in PATH
  install_binary "$root" /usr/sbin/docker-proxy /usr/bin/docker-proxy
  [ -x /usr/bin/docker-init ] && install_binary "$root" /usr/bin/docker-init /usr/bin/docker-init
  # dockerd refuses to start without its default runtime.
  install_binary "$root" "$(command -v runc)" /usr/bin/runc
fi
if ((qemu)); then
  q=$(command -v qemu-system-x86_64) || { echo "qemu-system-x86_64 missing" >&2; exit 1; }
  install_binary "$root" "$q" /usr/bin/qemu-system-x86_64
  # The C virtiofsd Debian ships with QEMU: the peer of runvm's virtio-fs (bench/fs-bench.sh).
  [ -x /usr/lib/qemu/virtiofsd ] && install_binary "$root" /usr/lib/qemu/virtiofsd /usr/lib/qemu/virtiofsd
  # Firmware and option ROMs the q35 and microvm machines load (-nodefaults, no VGA/NIC).
  for f in /usr/share/qemu/{kvmvapic.bin,linuxboot.bin,linuxboot_dma.bin,qboot.rom,bios-microvm.bin,pvh.bin} \
           /usr/share/seabios/{bios-256k.bin,bios.bin,bios-microvm.bin}; do
    [ -e "$f" ] || continue
    mkdir -p "$root/$(dirname "$f")"
    cp -L "$f" "$root/$f"
  done
  # QEMU looks for its firmware in /usr/share/qemu; make the seabios files visible there too.
  for f in "$root"/usr/share/seabios/*; do
    [ -e "$root/usr/share/qemu/$(basename "$f")" ] || cp "$f" "$root/usr/share/qemu/"
  done
fi
make_cpio "$root" "$out/test-host.cpio.gz"
cp "$host_kernel" "$out/test-host-vmlinuz"
echo "test host: $out/test-host.cpio.gz ($(du -h "$out/test-host.cpio.gz" | cut -f1)), kernel $host_kver"
