# events and update on a running busybox container with linux.resources: `events --stats`
# prints one runc-shaped stats event from the guest cgroup (memory limit, pids, cpu time);
# `update` changes the limits, seen both in the stats and from inside the container, and
# a lowered pids limit is enforced; a bad value fails with its flag named and an invalid
# combination with the guest's error; streaming `events --interval` prints an event per
# interval and ends by itself when the container stops.
. /e2e/lib.sh
need_runvm
make_bundle "$PWD/b" '["sh","-c","i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo up; exec sleep 1000"]'
sed -i 's|"resources": {|"resources": {"memory": {"limit": 134217728}, "pids": {"limit": 64}, "cpu": {"quota": 150000, "period": 100000},|' "$PWD/b/config.json"
grep -q '"limit": 134217728' "$PWD/b/config.json" || fail "could not add linux.resources"
# Issue 17 item 5: the supervisor and the VMM go into the host cgroup at cgroupsPath.
sed -i 's|"linux": {|"linux": {"cgroupsPath": "/runvm-e2e/c6",|' "$PWD/b/config.json"
grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup ||
  fail "cannot mount cgroup2"
CG=/sys/fs/cgroup/runvm-e2e/c6
timeout "$T" runvm --root "$ROOT" create -b "$PWD/b" --pid-file "$PWD/pid" c6 >init.txt 2>init-err.txt </dev/null ||
  fail "create failed: $(tail -c 1500 init-err.txt)"
sup=$(cat pid)
vmm=$(vmm_pid_of c6)
procs=$(tr '\n' ' ' <$CG/cgroup.procs)
echo "host cgroup $CG: procs=[$procs] memory.max=$(cat $CG/memory.max) pids.max=$(cat $CG/pids.max) cpu.max=$(cat $CG/cpu.max)"
for p in $sup $vmm; do echo " $procs" | grep -q " $p " || fail "pid $p (supervisor $sup, VMM $vmm) not in $CG: $procs"; done
vm_mib=$(grep -o '"memory_mib": *[0-9]*' "$ROOT/c6/vm.json" | grep -o '[0-9]*$')
[ "$(cat $CG/memory.max)" = $(((vm_mib + 192) * 1048576)) ] || fail "host memory.max $(cat $CG/memory.max), want VM ${vm_mib} MiB + 192 MiB"
[ "$(cat $CG/cpu.max)" = "150000 100000" ] || fail "host cpu.max: $(cat $CG/cpu.max)"
[ "$(cat $CG/pids.max)" -ge 64 ] || fail "host pids.max $(cat $CG/pids.max) leaves no room for the VMM's threads"
note "host cgroup: supervisor + VMM in $CG, memory.max = VM + 192 MiB, cpu.max 150000 100000, pids.max $(cat $CG/pids.max)"
runvm --root "$ROOT" start c6 || fail "start failed"
cleanup() { runvm --root "$ROOT" delete --force c6 >/dev/null 2>&1; }
trap cleanup EXIT
i=0
while ! grep -q up init.txt && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
grep -q up init.txt || fail "init never printed: $(cat init.txt init-err.txt)"

# Where a failing call got stuck: the guest's console and the supervisor's state.
why() { echo "console: $(tail -c 1200 "$ROOT/c6/vm/console.log" 2>/dev/null) vmm: $(tail -c 400 "$ROOT/c6/vmm.log" 2>/dev/null)"; }
# num KEY JSON: the first number after "KEY": in JSON (compact, keys sorted).
num() { echo "$2" | grep -o "\"$1\":[0-9][0-9]*" | head -n 1 | cut -d: -f2; }
s=$(timeout 60 runvm --root "$ROOT" events --stats c6 2>e1) || fail "events --stats failed: $(cat e1) $(why)"
echo "stats: $s"
echo "$s" | grep -q '^{"data":{"cpu":' || fail "not a stats event: $s"
echo "$s" | grep -q '"id":"c6"' || fail "stats event without the id: $s"
echo "$s" | grep -q '"type":"stats"' || fail "stats event without its type: $s"
mem=$(echo "$s" | grep -o '"memory":.*' | grep -o '"usage":{"failcnt":[0-9]*,"limit":[0-9]*,"max":[0-9]*,"usage":[0-9]*')
[ "$(num limit "$mem")" = 134217728 ] || fail "memory limit in stats is not 128 MiB: $mem"
[ "$(num usage "$mem")" -gt 0 ] || fail "memory usage is 0: $mem"
pids=$(echo "$s" | grep -o '"pids":{[^}]*}')
[ "$(num limit "$pids")" = 64 ] || fail "pids limit in stats is not 64: $pids"
[ "$(num current "$pids")" -ge 1 ] || fail "no pids counted: $pids"
cpu=$(echo "$s" | grep -o '"cpu":.*' | grep -o '"usage":{"kernel":[0-9]*,"total":[0-9]*')
[ "$(num total "$cpu")" -gt 0 ] || fail "no cpu time counted after a busy loop: $cpu"
note "events --stats ok: $mem; $pids; $cpu"

timeout 60 runvm --root "$ROOT" update --memory 96m --pids-limit 8 --cpu-quota 50000 c6 2>e2 || fail "update failed: $(cat e2)"
[ "$(cat $CG/cpu.max)" = "50000 100000" ] || fail "host cpu.max after update --cpu-quota 50000: $(cat $CG/cpu.max)"
s=$(timeout 60 runvm --root "$ROOT" events --stats c6 2>e3) || fail "events after update failed: $(cat e3)"
mem=$(echo "$s" | grep -o '"memory":.*' | grep -o '"usage":{"failcnt":[0-9]*,"limit":[0-9]*')
[ "$(num limit "$mem")" = 100663296 ] || fail "memory limit after update --memory 96m: $mem"
[ "$(num limit "$(echo "$s" | grep -o '"pids":{[^}]*}')")" = 8 ] || fail "pids limit after update: $s"
inside=$(timeout 60 runvm --root "$ROOT" exec c6 cat /sys/fs/cgroup/runvm/memory.max /sys/fs/cgroup/runvm/pids.max 2>e4)
[ "$(echo $inside)" = "100663296 8" ] || fail "limits seen inside the container: '$inside' $(cat e4)"
timeout 60 runvm --root "$ROOT" exec c6 sh -c 'echo cgroup=$(cat /proc/$$/cgroup) current=$(cat /sys/fs/cgroup/runvm/pids.current) max=$(cat /sys/fs/cgroup/runvm/pids.max); i=0; while [ $i -lt 12 ]; do sleep 5 & i=$((i+1)); done; wait' >o5 2>e5
rc5=$?
echo "12 sleeps under pids.max 8: rc=$rc5 $(head -c 300 e5)"
grep -qi "fork" e5 || fail "pids limit 8 not enforced: 12 background sleeps started (rc $rc5: $(cat o5) $(cat e5))"
note "update ok: limits in stats and in the container, pids.max enforced"

timeout 60 runvm --root "$ROOT" update --memory 12x c6 2>e6 && fail "update --memory 12x succeeded"
grep -q -- '--memory: invalid value' e6 || fail "bad value not named: $(cat e6)"
timeout 60 runvm --root "$ROOT" update --memory 64m --memory-swap 32m c6 2>e7 && fail "swap < memory accepted"
echo "swap < memory: $(cat e7)"
grep -q "memory" e7 || fail "guest's refusal not reported: $(cat e7)"

timeout 120 runvm --root "$ROOT" events --interval 1s c6 >ev.txt 2>ev-err.txt &
ev=$!
sleep 5
runvm --root "$ROOT" kill c6 KILL || fail "kill failed"
wait $ev
rc=$?
n=$(grep -c '"type":"stats"' ev.txt)
echo "streaming events: rc=$rc, $n events; $(tail -c 300 ev-err.txt)"
[ "$rc" = 0 ] || fail "events did not end cleanly when the container stopped (rc $rc): $(cat ev-err.txt)"
[ "$n" -ge 2 ] || fail "streaming events printed $n stats events in 5 s at 1 s intervals"
runvm --root "$ROOT" delete c6 || fail "delete failed"
[ -d $CG ] && fail "host cgroup $CG left after delete"
rmdir /sys/fs/cgroup/runvm-e2e
pass "host cgroup at cgroupsPath (supervisor + VMM, memory/cpu/pids, update, removed on delete); events --stats (memory limit, usage, pids, cpu time), update --memory/--pids-limit (stats + inside + enforced), bad values refused, streaming events ($n) ends with the container"
