#!/usr/bin/env bash
# Builds the libFuzzer targets in a separate clang tree (RUNVM_FUZZ=ON) and
# runs each one for a short time. Usage: run-fuzz-smoke.sh [BUILD_DIR] [SECONDS]
# Exits non-zero if a build fails or a fuzzer finds a crash. The target list
# lives in fuzz-lib.sh (shared with bench/fuzz-campaign.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build-fuzz}
secs=${2:-${FUZZ_SECONDS:-20}}
# shellcheck source=tests/fuzz/fuzz-lib.sh
source "$top/tests/fuzz/fuzz-lib.sh"

fuzz_configure "$build"
fuzz_build "$build"

status=0
for f in "${fuzzers[@]}"; do
  bin=$(fuzz_binary "$build" "$f")
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
  extra=()
  [ -n "${fuzz_args[$f]:-}" ] && read -ra extra <<<"${fuzz_args[$f]}"
  if ! "$bin" -max_total_time="$secs" -print_final_stats=1 "${extra[@]}" \
      -artifact_prefix="$build/artifacts/$f-" "$corpus" "${seed[@]}" 2>"$build/$f.log"; then
    echo "fuzz_smoke: $f FAILED (log: $build/$f.log)" >&2
    tail -n 40 "$build/$f.log" >&2
    status=1
  else
    grep -E 'stat::number_of_executed_units' "$build/$f.log" || true
  fi
done
exit $status
