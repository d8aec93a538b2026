# shellcheck shell=bash
# Shared by tests/fuzz/run-fuzz-smoke.sh and bench/fuzz-campaign.sh: the list
# of libFuzzer targets, their seed corpora, and how the clang fuzz tree is
# configured and built. Source it (at top level: it declares globals).
#   fuzz_configure BUILD_DIR   configure; adds the optional targets that exist
#   fuzz_build BUILD_DIR       build every target in `fuzzers`
#   fuzz_binary BUILD_DIR NAME path of a built target (empty if missing)

fuzz_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Targets of tests/fuzz/CMakeLists.txt.
fuzzers=(virtqueue_fuzzer vsock_fuzzer vsock_device_fuzzer net_fuzzer agent_client_fuzzer pci_fuzzer
  legacy_io_fuzzer snapshot_fuzzer)
# Other areas' fuzzers join when their target exists in this tree.
fuzz_optional=(oci_config_fuzzer fuse_fuzzer fs_workers_fuzzer p9_fuzzer p9_workers_fuzzer)
# Seed corpora: read-only inputs beside the fuzzer sources.
# shellcheck disable=SC2034  # used by the scripts that source this file
declare -A seeds=(
  [oci_config_fuzzer]=$fuzz_top/oci/fuzz/corpus
  [fuse_fuzzer]=$fuzz_top/vmm/devices/virtio/fs/fuzz/corpus
  [p9_fuzzer]=$fuzz_top/vmm/devices/virtio/p9/fuzz/corpus
  [p9_workers_fuzzer]=$fuzz_top/vmm/devices/virtio/p9/fuzz/corpus-workers
  [pci_fuzzer]=$fuzz_top/tests/fuzz/corpus/pci_fuzzer
  [legacy_io_fuzzer]=$fuzz_top/tests/fuzz/corpus/legacy_io_fuzzer
)
# Extra libFuzzer flags per target. The vsock device logs its first dropped packets
# (8 per device, one device per input). The virtio-pci transport logs each refused
# activation to stderr (a few lines per input, megabytes a minute): discard the
# target's own stderr; libFuzzer and sanitizer reports still get through.
# shellcheck disable=SC2034
declare -A fuzz_args=(
  [pci_fuzzer]=-close_fd_mask=2
  [vsock_device_fuzzer]=-close_fd_mask=2
)

fuzz_configure() {
  CC=clang CXX=clang++ cmake -S "$fuzz_top" -B "$1" -DRUNVM_FUZZ=ON -DRUNVM_WERROR=ON \
    -DRUNVM_E2E=OFF -DRUNVM_SANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  local targets f
  targets=$(cmake --build "$1" --target help 2>/dev/null)
  for f in "${fuzz_optional[@]}"; do
    if grep -qw "$f" <<<"$targets"; then fuzzers+=("$f"); fi
  done
  return 0
}

# One job by default: under `ctest -j2` (tests/run-all.sh) this build shares the machine
# with the e2e test host, and a TCG test host starved of its core has stalled.
fuzz_build() {
  cmake --build "$1" --target "${fuzzers[@]}" -j"${FUZZ_BUILD_JOBS:-1}"
}

fuzz_binary() {
  find "$1" -type f -name "$2" -perm -u+x | head -n1
}
