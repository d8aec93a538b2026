#!/bin/sh
# PID 1 of the e2e test host (a QEMU TCG machine with emulated SVM). Loads kvm, then runs
# every scenario in /e2e/scenarios (or the benchmark) and reports on the serial console:
#   E2E-RESULT <name> PASS|FAIL|SKIP <detail>
#   E2E-DONE passed=N failed=N skipped=N
# Kernel command line: e2e.run=scenarios|bench, e2e.only=a,b,c, e2e.timeout=SECONDS (per
# scenario), e2e.verbose=1 (guest kernels not quiet, full logs of passing scenarios too).
# /e2e/bin first: the runvm under test wins over a packaged one in /usr/bin (runvm_run).
export PATH=/e2e/bin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# ptys for --console-socket (runvm allocates the host side through /dev/ptmx).
mkdir -p /dev/pts
mount -t devpts -o ptmxmode=0666 devpts /dev/pts 2>/dev/null
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
mkdir -p /tmp /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run

arg() {
  for w in $(cat /proc/cmdline); do
    case $w in "$1"=*) echo "${w#*=}"; return ;; esac
  done
  echo "$2"
}
echo "E2E-HOST booted kernel=$(uname -r) cpus=$(nproc) uptime=$(cut -d' ' -f1 /proc/uptime)"
# Heartbeat on the second serial port (run-e2e.sh's watchdog reads it): a TCG test host has
# been seen to stall with QEMU using no CPU at all, and then the beats stop too.
if [ -c /dev/ttyS1 ]; then
  # MemAvailable and the load say what a host that stalls was doing.
  (while :; do echo "beat $(cut -d' ' -f1 /proc/uptime) avail_kb=$(sed -n 's/^MemAvailable: *\([0-9]*\).*/\1/p' /proc/meminfo) load=$(cut -d' ' -f1-3 /proc/loadavg)"; sleep 10; done >/dev/ttyS1) &
fi
for m in $(cat /e2e/modules/load-order); do
  # e2e.mod.<module>=a=1,b=2 on the command line: insmod parameters (insmod does not read them).
  mod=$(echo "${m%.ko}" | tr - _)
  params=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^e2e\.mod\.$mod=//p" | tr ',' ' ')
  insmod "/e2e/modules/$m" $params 2>/tmp/insmod.err || echo "E2E-HOST insmod $m failed: $(cat /tmp/insmod.err)"
done
if [ -c /dev/kvm ]; then
  echo "E2E-HOST /dev/kvm ready"
else
  echo "E2E-HOST no /dev/kvm (does the test host CPU have svm?)"
fi

run=$(arg e2e.run scenarios)
only=$(echo "$(arg e2e.only all)" | tr ',' ' ')
export E2E_TIMEOUT=$(arg e2e.timeout 180)
export E2E_VERBOSE=$(arg e2e.verbose 0)
# Scenarios check exit statuses; in a sanitizer build LeakSanitizer would turn a leak at
# exit into status 23. Leaks are the unit tests' job; memory errors still abort here.
export ASAN_OPTIONS=detect_leaks=0

if [ "$run" = bench ]; then
  sh /e2e/bench.sh
  echo "E2E-DONE bench"
  reboot -f
fi

# qemu_reference first: it proves the harness before anything of ours is trusted.
names=""
for f in /e2e/scenarios/*.sh; do
  n=$(basename "$f" .sh)
  case $n in lib) continue ;; esac
  names="$names $n"
done
names="qemu_reference $(echo $names | tr ' ' '\n' | grep -v '^qemu_reference$')"
pass=0; fail=0; skip=0
for n in $names; do
  [ -f "/e2e/scenarios/$n.sh" ] || continue
  if [ "$only" != all ]; then
    case " $only " in *" $n "*) ;; *) continue ;; esac
  fi
  echo "E2E-START $n"
  start=$(cut -d' ' -f1 /proc/uptime)
  mkdir -p "/tmp/$n"
  # The scenario's own limits come first; this outer KILL is the last resort.
  # A scenario may ask for more time with a line "# e2e-timeout: SECONDS" (never less).
  to=$(sed -n 's/^# e2e-timeout: *\([0-9][0-9]*\).*/\1/p' "/e2e/scenarios/$n.sh" | head -n 1)
  [ -n "$to" ] && [ "$to" -gt "$E2E_TIMEOUT" ] || to=$E2E_TIMEOUT
  (cd "/tmp/$n" && E2E_NAME=$n E2E_TIMEOUT=$to timeout -s KILL $((to + 60)) sh "/e2e/scenarios/$n.sh") >"/tmp/$n.out" 2>&1
  rc=$?
  end=$(cut -d' ' -f1 /proc/uptime)
  secs=$(awk "BEGIN{printf \"%.1f\", $end - $start}")
  detail=$(grep '^DETAIL ' "/tmp/$n.out" | tail -n 1 | cut -c8-)
  case $rc in
    0) res=PASS; pass=$((pass + 1)) ;;
    77) res=SKIP; skip=$((skip + 1)) ;;
    137) res=FAIL; fail=$((fail + 1)); detail="killed after $((to + 60)) s; $detail" ;;
    *) res=FAIL; fail=$((fail + 1)) ;;
  esac
  if [ "$res" = FAIL ] || [ "$E2E_VERBOSE" = 1 ]; then
    sed "s/^/E2E-LOG $n: /" "/tmp/$n.out" | tail -n 150
  fi
  echo "E2E-RESULT $n $res ${secs}s ${detail:-no detail}"
done
echo "E2E-DONE passed=$pass failed=$fail skipped=$skip"
reboot -f
