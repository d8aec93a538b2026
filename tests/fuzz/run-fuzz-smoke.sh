#!/usr/bin/env bash
# Builds the libFuzzer targets in a separate clang tree (RUNVM_FUZZ=ON) and
# runs each one for a short time. Usage: run-fuzz-smoke.sh [BUILD_DIR] [SECONDS]
# Exits non-zero if a build fails or a fuzzer finds a crash.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build-fuzz}
secs=${2:-${FUZZ_SECONDS:-20}}

CC=clang CXX=clang++ cmake -S "$top" -B "$build" -DRUNVM_FUZZ=ON -DRUNVM_WERROR=ON \
  -DRUNVM_E2E=OFF -DRUNVM_SANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

fuzzers=(virtqueue_fuzzer vsock_fuzzer net_fuzzer agent_client_fuzzer)
# Other areas' fuzzers join when their target exists in this tree; their seed
# corpora (read-only inputs) live beside their sources.
declare -A seeds=(
  [oci_config_fuzzer]=$top/oci/fuzz/corpus
  [fuse_fuzzer]=$top/vmm/devices/virtio/fs/fuzz/corpus
  [p9_fuzzer]=$top/vmm/devices/virtio/p9/fuzz/corpus
)
targets=$(cmake --build "$build" --target help 2>/dev/null)
for f in oci_config_fuzzer fuse_fuzzer p9_fuzzer; do
  grep -qw "$f" <<<"$targets" && fuzzers+=("$f")
done
# One job by default: under `ctest -j2` (tests/run-all.sh) this build shares the machine
# with the e2e test host, and a TCG test host starved of its core has stalled.
cmake --build "$build" --target "${fuzzers[@]}" -j"${FUZZ_BUILD_JOBS:-1}"

status=0
for f in "${fuzzers[@]}"; do
  bin=$(find "$build" -type f -name "$f" -perm -u+x | head -n1)
  if [ -z "$bin" ]; then
    echo "fuzz_smoke: $f was not built" >&2
    status=1
    continue
  fi
  corpus="$build/corpus/$f"
  mkdir -p "$corpus" "$build/artifacts"
  echo "fuzz_smoke: running $f for ${secs}s"
  seed=()
  [ -d "${seeds[$f]:-}" ] && seed=("${seeds[$f]}")
  if ! "$bin" -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$f-" "$corpus" "${seed[@]}" 2>"$build/$f.log"; then
    echo "fuzz_smoke: $f FAILED (log: $build/$f.log)" >&2
    tail -n 40 "$build/$f.log" >&2
    status=1
  else
    grep -E 'stat::number_of_executed_units' "$build/$f.log" || true
  fi
done
exit $status
