#!/usr/bin/env bash
# Installs everything runvm needs to build and test, from Debian packages only.
# Idempotent; run as root on Debian 12.
set -euo pipefail

PKGS=(
  # build
  g++ clang cmake make pkg-config git libgtest-dev googletest
  nlohmann-json3-dev libseccomp-dev libcap-dev libfdt-dev libcli11-dev libnl-route-3-dev
  # the .deb (cpack's shlibdeps) and its man page
  dpkg-dev help2man
  # guest kernels (default: cloud; generic has 9p) and the QEMU TCG test host
  linux-image-cloud-amd64 linux-image-amd64 qemu-system-x86 busybox-static cpio kmod iproute2
  # extracting the uncompressed guest kernel (packaging/guest/extract-vmlinux.sh)
  lz4 xz-utils
  # peers for side-by-side tests
  runc containerd docker.io
  # pods through containerd's CRI (e2e containerd_cri): CNI plugins and the gRPC our CRI
  # client is built on (tests/e2e/tools/cri)
  containernetworking-plugins libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all packages present"
