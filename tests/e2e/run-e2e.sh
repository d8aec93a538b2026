#!/usr/bin/env bash
# Runs the end-to-end scenarios: builds the guest and test-host initramfs, boots the test host
# (QEMU TCG with emulated SVM, so nested KVM works inside it), collects the serial log and
# prints a summary of the "E2E-RESULT <name> PASS|FAIL|SKIP <detail>" lines.
#
# usage: run-e2e.sh BUILD_DIR [--only a,b,c] [--log FILE] [--no-fail]
#        run-e2e.sh --check NAME LOG   (exit 0 PASS, 77 SKIP, 1 otherwise; used by ctest)
#   BUILD_DIR      a CMake build dir; BUILD_DIR/vmm/runvm-vmm and BUILD_DIR/runtime/runvm are
#                  put into the test host when they exist (override: RUNVM_VMM, RUNVM_BIN).
#   --only         run only these scenarios (comma separated)
#   --no-fail      exit 0 once the run completed (E2E-DONE), whatever the scenarios said
# Environment: E2E_ACCEL=tcg|kvm (default tcg: the machine's /dev/kvm cannot run Linux guests,
#   see ENVIRONMENT.md), E2E_MEM (test host MiB, 4096: fs_virtiofs keeps a 256 MiB file in the share, in guest RAM and in guest tmpfs at once; 3072 exhausted it), E2E_SMP (1), E2E_TIMEOUT (per
#   scenario, s, 180), E2E_APPEND (more test-host cmdline words), E2E_TOTAL_TIMEOUT (whole run, s, 2700), E2E_VERBOSE=1, E2E_OUT (work dir),
#   E2E_TICK (test-host timer words under TCG, "noapictimer nohz=off highres=off": below),
#   E2E_QEMU_ARGS (extra test-host QEMU arguments, e.g. a -monitor socket to inspect a stall),
#   E2E_BEAT_LIMIT (s without a test-host heartbeat before the watchdog calls it stalled, 90).
# A scenario may carry "# e2e-known-stall: <why>": a stall in it is SKIP (with why), not FAIL.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = --check ]; then
  name=${2:?}; log=${3:?}
  [ -f "$log" ] || { echo "no e2e log at $log (did the e2e_run test run?)"; exit 1; }
  grep -a "^E2E-LOG $name: " "$log" | cut -d' ' -f3- || true
  line=$(grep -a "^E2E-RESULT $name " "$log" | tail -n 1 | tr -d '\r')
  echo "${line:-no E2E-RESULT line for $name}"
  case $line in
    "E2E-RESULT $name PASS"*) exit 0 ;;
    "E2E-RESULT $name SKIP"*) exit 77 ;;
    *) exit 1 ;;
  esac
fi

build=${1:?usage: run-e2e.sh BUILD_DIR [--only a,b] [--log FILE] [--no-fail]}
shift
only=all log= nofail=0 bench=
while (($#)); do
  case $1 in
    --only) only=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --no-fail) nofail=1; shift ;;
    --bench) bench=$2; shift 2 ;;   # used by bench/boot-bench.sh
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
build=$(cd "$build" && pwd)
out=${E2E_OUT:-$build/e2e}
mkdir -p "$out"
log=${log:-$out/serial.log}
rm -f "$log"   # the per-scenario checks must never read a previous run's results

args=()
vmm=${RUNVM_VMM:-$build/vmm/runvm-vmm}
runvm=${RUNVM_BIN:-$build/runtime/runvm}
if [ -x "$vmm" ]; then args+=(--vmm "$vmm"); else echo "run-e2e: no runvm-vmm at $vmm (runvm scenarios will SKIP)"; fi
[ -x "$runvm" ] && args+=(--runvm "$runvm")
[ -f "$build/runvm-initrd.img" ] && args+=(--runvm-initrd "$build/runvm-initrd.img")
# The .deb (packaging/build-deb.sh) when it is as new as the runvm under test: runvm_run then
# runs the packaged binaries only (RUNVM_DEB names another one).
deb=${RUNVM_DEB:-$(ls -t "$build"/runvm_*.deb 2>/dev/null | head -n1 || true)}
if [ -n "$deb" ] && { [ -n "${RUNVM_DEB:-}" ] || [ ! "$runvm" -nt "$deb" ]; }; then
  args+=(--deb "$deb")
elif [ -n "$deb" ]; then
  echo "run-e2e: $deb is older than $runvm: not used (packaging/build-deb.sh rebuilds it)" >&2
fi
[ -n "$bench" ] && args+=(--bench "$bench")
"$here/build-test-host.sh" "$out" "${args[@]}"

accel=${E2E_ACCEL:-tcg}
cpu=(-cpu EPYC,+svm)
[ "$accel" = kvm ] && cpu=(-cpu host)
# QEMU 7.2's TCG loses the test host's own LAPIC interrupt request while the test host
# runs nested guests: the timer vector stays in the LAPIC's IRR with IF set, jiffies stop,
# and the host's sleeps never end (its "stalls": fs_9p in every run, fs_virtiofs under
# seccomp). Any new interrupt re-evaluates the IRR (a key sent through the QEMU monitor
# revived a stalled host), so the test host takes a periodic tick from the PIT/HPET,
# which fires whatever the guest does, instead of the one-shot LAPIC timer.
tick=
[ "$accel" = tcg ] && tick=${E2E_TICK-noapictimer nohz=off highres=off}
run=scenarios
[ -n "$bench" ] && run=bench
total=${E2E_TOTAL_TIMEOUT:-2700}
start=$(date +%s)
# scenario_limit NAME: seconds a scenario may stay silent (its e2e-timeout + kill slack).
scenario_limit() {
  local t
  t=$(sed -n 's/^# e2e-timeout: *\([0-9][0-9]*\).*/\1/p' "$here/scenarios/$1.sh" 2>/dev/null | head -n 1)
  t=${t:-0}; [ "$t" -ge "${E2E_TIMEOUT:-180}" ] || t=${E2E_TIMEOUT:-180}
  echo $((t + 150))
}
# The TCG test host has been seen to stall (QEMU idle, using no CPU; the test host's own
# timeouts never fire) in a random scenario. A watchdog kills a test host whose heartbeat
# (a line every 10 s on its second serial port, host/init.sh) stops for E2E_BEAT_LIMIT s, or
# whose current scenario stays silent past its limit, and boots a new one for the scenarios
# without a result; a scenario the host stalls in three times is a FAIL.
beat_limit=${E2E_BEAT_LIMIT:-90}
: >"$log"
stalled_once=" " stalled_twice=" "
boot=0
while :; do
  boot=$((boot + 1))
  left=$((total - ($(date +%s) - start)))
  [ "$left" -gt 60 ] || break
  want=$only
  if [ "$boot" -gt 1 ]; then
    want=$(for f in "$here"/scenarios/*.sh; do
      n=$(basename "$f" .sh)
      [ "$only" = all ] || case ",$only," in *",$n,"*) ;; *) continue ;; esac
      grep -aq "^E2E-RESULT $n " "$log" || echo "$n"
    done | paste -sd, -)
    [ -n "$want" ] || break
  fi
  append="console=ttyS0 panic=-1 quiet loglevel=3 $tick e2e.run=$run e2e.only=$want e2e.timeout=${E2E_TIMEOUT:-180} e2e.verbose=${E2E_VERBOSE:-0} ${E2E_APPEND:-}"
  echo "run-e2e: booting the test host #$boot (accel=$accel, log $log, ${left}s left)"
  part="$out/serial.part"
  : >"$part"
  set +e
  beat="$out/heartbeat"
  : >"$beat"
  timeout -k 10 "$left" qemu-system-x86_64 -accel "$accel" "${cpu[@]}" -smp "${E2E_SMP:-1}" \
    -m "${E2E_MEM:-4096}" -nodefaults -no-user-config -display none -serial stdio \
    -serial "file:$beat" -no-reboot \
    -kernel "$out/test-host-vmlinuz" -initrd "$out/test-host.cpio.gz" -append "$append" \
    ${E2E_QEMU_ARGS:-} </dev/null 2>"$out/qemu.stderr" | sed -u 's/\r$//' >"$part" &
  qpid=$!
  shown=0 stalled= last_change=$(date +%s)
  beat_size=0 last_beat=
  while kill -0 $qpid 2>/dev/null; do
    sleep 5
    b=$(stat -c %s "$beat" 2>/dev/null || echo 0)
    if [ "$b" -gt "$beat_size" ]; then beat_size=$b; last_beat=$(date +%s); fi
    n=$(wc -l <"$part")
    if [ "$n" -gt "$shown" ]; then
      sed -n "$((shown + 1)),${n}p" "$part" | tee -a "$log" | grep -a -E '^E2E-(HOST|START|RESULT|DONE|BENCH)'
      shown=$n
      last_change=$(date +%s)
    fi
    cur=$(grep -a -E '^E2E-(START|RESULT)' "$part" | tail -n 1)
    case $cur in
      "E2E-START "*)
        name=${cur#E2E-START }
        why=
        if [ -n "$last_beat" ] && [ $(($(date +%s) - last_beat)) -gt "$beat_limit" ]; then
          why="no heartbeat for $beat_limit s"
        elif [ $(($(date +%s) - ${last_change:-$(date +%s)})) -gt "$(scenario_limit "$name")" ]; then
          why="no output for $(scenario_limit "$name") s"
        fi
        if [ -z "$stalled" ] && [ -n "$why" ]; then
          stalled=$name
          echo "run-e2e: test host stalled in $name ($why); killing it"
          pkill -KILL -f "initrd $out/test-host.cpio.gz" || true
        fi ;;
    esac
  done
  wait $qpid
  qrc=$?
  set -e
  n=$(wc -l <"$part"); [ "$n" -le "$shown" ] || sed -n "$((shown + 1)),${n}p" "$part" | tee -a "$log" | grep -a -E '^E2E-(HOST|START|RESULT|DONE|BENCH)' || true
  [ -n "$stalled" ] || break
  # A scenario whose header names a known stall ("# e2e-known-stall: why") is SKIP with that
  # reason at its first stall, instead of costing two more boots before the same end.
  known=$(sed -n 's/^# e2e-known-stall: *//p' "$here/scenarios/$stalled.sh" 2>/dev/null | head -n 1)
  if [ -n "$known" ]; then
    echo "E2E-RESULT $stalled SKIP the test host stalled (known: $known)" | tee -a "$log"
    continue
  fi
  # Three strikes: a scenario is FAIL only when the test host stalled in it three times.
  case $stalled_twice in
    *" $stalled "*) echo "E2E-RESULT $stalled FAIL the test host stalled in this scenario three times" | tee -a "$log" ;;
    *) case $stalled_once in
         *" $stalled "*) stalled_twice="$stalled_twice$stalled " ;;
         *) stalled_once="$stalled_once$stalled " ;;
       esac ;;
  esac
done
# A run that needed a reboot ends with the last test host's E2E-DONE.
echo "run-e2e: test host(s) ran $(($(date +%s) - start)) s (${boot} boot(s), last qemu exit ${qrc:-none})"
[ -s "$out/qemu.stderr" ] && grep -v "TCG doesn.t support requested feature" "$out/qemu.stderr" | sed "s/^/qemu: /" | head -n 20 || true

echo "==== e2e summary"
grep -a '^E2E-RESULT ' "$log" | awk '{printf "  %-22s %s  %s\n", $2, $3, substr($0, index($0,$4))}' || true
done_line=$(grep -a '^E2E-DONE' "$log" | tail -n 1 || true)
if [ -z "$done_line" ]; then
  echo "run-e2e: FAIL: the test host never printed E2E-DONE (timeout or crash); see $log"
  exit 1
fi
echo "  $done_line"
((nofail)) && exit 0
grep -aq '^E2E-RESULT [^ ]* FAIL' "$log" && exit 1
exit 0
