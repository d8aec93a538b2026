#!/usr/bin/env bash
# A fuzzing campaign: builds the libFuzzer targets like tests/fuzz/run-fuzz-smoke.sh
# (same list, tests/fuzz/fuzz-lib.sh), runs each for SECONDS_PER_TARGET on a
# corpus kept between campaigns, and prints one line per target: seconds run,
# executions, execs/s, peak RSS, crashes (artifacts written) and corpus size.
#
# Usage: bench/fuzz-campaign.sh [SECONDS_PER_TARGET] [BUILD_DIR]
#   SECONDS_PER_TARGET  default 600
#   BUILD_DIR           default build-fuzz (the smoke run's tree)
#   FUZZ_CORPUS_DIR     corpus root, one directory per target (default BUILD_DIR/campaign-corpus)
#   FUZZ_BUILD_JOBS     build parallelism (default 1)
#   FUZZ_TARGETS        space-separated subset of targets to run
#   FUZZ_RUNS           stop a target after this many executions (the time still caps it)
# Logs and crash artifacts go to BUILD_DIR/campaign/<timestamp>/.
# Exits 1 if any target crashed, failed or was not built.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-600}
build=${2:-$top/build-fuzz}
case $build in /*) ;; *) build=$PWD/$build ;; esac
# shellcheck source=tests/fuzz/fuzz-lib.sh
source "$top/tests/fuzz/fuzz-lib.sh"

fuzz_configure "$build"
if [ -n "${FUZZ_TARGETS:-}" ]; then read -ra fuzzers <<<"$FUZZ_TARGETS"; fi
if ! fuzz_build "$build" >"$build/campaign-build.log" 2>&1; then
  tail -n 40 "$build/campaign-build.log" >&2
  exit 1
fi

corpus_root=${FUZZ_CORPUS_DIR:-$build/campaign-corpus}
out="$build/campaign/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"

# "stat::name: value" from a libFuzzer log (the last one; empty if absent).
fuzz_stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n1; }

fmt='%-20s %7s %12s %9s %8s %8s %7s\n'
# shellcheck disable=SC2059
printf "$fmt" target seconds execs execs/s rss_mb crashes corpus
status=0
for f in "${fuzzers[@]}"; do
  bin=$(fuzz_binary "$build" "$f")
  if [ -z "$bin" ]; then
    # shellcheck disable=SC2059
    printf "$fmt" "$f" - - - - "not built" -
    status=1
    continue
  fi
  corpus="$corpus_root/$f"
  artifacts="$out/artifacts/$f"
  mkdir -p "$corpus" "$artifacts"
  seed=()
  [ -d "${seeds[$f]:-}" ] && seed=("${seeds[$f]}")
  extra=()
  [ -n "${fuzz_args[$f]:-}" ] && read -ra extra <<<"${fuzz_args[$f]}"
  [ -n "${FUZZ_RUNS:-}" ] && extra+=("-runs=$FUZZ_RUNS")
  log="$out/$f.log"
  start=$(date +%s)
  rc=0
  "$bin" -max_total_time="$secs" -print_final_stats=1 "${extra[@]}" \
    -artifact_prefix="$artifacts/" "$corpus" "${seed[@]}" >"$log" 2>&1 || rc=$?
  elapsed=$(($(date +%s) - start))
  execs=$(fuzz_stat number_of_executed_units "$log")
  rate=$(fuzz_stat average_exec_per_sec "$log")
  rss=$(fuzz_stat peak_rss_mb "$log")
  crashes=$(find "$artifacts" -type f | wc -l)
  units=$(find "$corpus" -type f | wc -l)
  if [ "$crashes" -gt 0 ] || [ "$rc" -ne 0 ]; then
    status=1
    [ "$crashes" -eq 0 ] && crashes="rc=$rc"
  fi
  # shellcheck disable=SC2059
  printf "$fmt" "$f" "$elapsed" "${execs:--}" "${rate:--}" "${rss:--}" "$crashes" "$units"
done
echo "logs and artifacts: $out"
exit $status
