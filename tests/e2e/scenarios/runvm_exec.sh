# exec, ps, pause and resume on a running busybox container: foreground exec relays
# stdout/stderr/stdin and returns the exit status; --env/--cwd/--user apply; --detach
# --pid-file names a process that lives as long as the exec'd one; a missing program
# fails exec; ps lists guest pids; pause stops the VMM (status paused, exec refused) and
# resume brings it back. The bundle's program has no slash: PATH is resolved in the guest.
. /e2e/lib.sh
need_runvm
make_bundle "$PWD/b5" '["sh","-c","echo init-up; exec sleep 1000"]'
timeout "$T" runvm --root "$ROOT" create -b "$PWD/b5" c5 >init.txt 2>init-err.txt </dev/null ||
  fail "create failed: $(tail -c 1500 init-err.txt)"
runvm --root "$ROOT" start c5 || fail "start failed"
cleanup() { runvm --root "$ROOT" delete --force c5 >/dev/null 2>&1; }
trap cleanup EXIT
i=0
while ! grep -q init-up init.txt && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
grep -q init-up init.txt || fail "init (args [sh ...], PATH lookup) never printed: $(cat init.txt init-err.txt)"

timeout 60 runvm --root "$ROOT" exec c5 sh -c 'echo exec-out; echo exec-err >&2; exit 7' >o1 2>e1
rc=$?
echo "exec 1: rc=$rc out=$(cat o1) err=$(cat e1)"
[ "$rc" = 7 ] || fail "exec exit $rc, want 7: $(cat e1)"
grep -qx exec-out o1 || fail "exec stdout missing: $(cat o1)"
grep -qx exec-err e1 || fail "exec stderr missing: $(cat e1)"

out=$(echo piped-in | timeout 60 runvm --root "$ROOT" exec c5 cat 2>e2)
[ "$out" = piped-in ] || fail "exec stdin: got '$out' $(cat e2)"
out=$(timeout 60 runvm --root "$ROOT" exec --env FOO=bar --cwd /tmp c5 sh -c 'echo $FOO $(pwd)' 2>e3)
[ "$out" = "bar /tmp" ] || fail "exec --env/--cwd: got '$out' $(cat e3)"
out=$(timeout 60 runvm --root "$ROOT" exec -u 1000:1001 c5 sh -c 'echo $(id -u):$(id -g)' 2>e4)
[ "$out" = "1000:1001" ] || fail "exec --user: got '$out' $(cat e4)"
timeout 60 runvm --root "$ROOT" exec c5 /no/such/program >o5 2>e5
rc=$?
echo "missing program: rc=$rc err=$(cat e5)"
[ "$rc" != 0 ] || fail "exec of a missing program succeeded"
grep -q "/no/such/program" e5 || fail "exec error does not name the program: $(cat e5)"
note "foreground exec ok"

timeout 60 runvm --root "$ROOT" exec -d --pid-file "$PWD/epid" c5 sleep 4 </dev/null >/dev/null 2>e6 ||
  fail "exec --detach failed: $(cat e6)"
epid=$(cat epid)
[ -d "/proc/$epid" ] || fail "exec pid file names no live process ($epid)"
pids=$(timeout 30 runvm --root "$ROOT" ps --format json c5) || fail "ps failed"
echo "ps: $pids"
n=$(echo "$pids" | tr ',' '\n' | grep -c '[0-9]')
[ "$n" -ge 2 ] || fail "ps lists $n guest pids while init and a detached exec run: $pids"
i=0
while [ -d "/proc/$epid" ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
[ -d "/proc/$epid" ] && fail "detached exec stand-in $epid still alive after its sleep 4"
note "detached exec ok ($i s), ps ok"

# SIGKILL of the stand-in cannot be forwarded; the agent kills the exec'd process when the
# stand-in's connection drops, as a runc exec process dies with SIGKILL.
timeout 60 runvm --root "$ROOT" exec -d --pid-file "$PWD/kpid" c5 sleep 1000 </dev/null >/dev/null 2>e9 ||
  fail "exec --detach (for SIGKILL) failed: $(cat e9)"
before=$(timeout 30 runvm --root "$ROOT" ps --format json c5 | tr ',' '\n' | grep -c '[0-9]')
kill -KILL "$(cat kpid)"
i=0
while [ $i -lt 30 ]; do
  after=$(timeout 30 runvm --root "$ROOT" ps --format json c5 | tr ',' '\n' | grep -c '[0-9]')
  [ "$after" -lt "$before" ] && break
  sleep 1; i=$((i + 1))
done
echo "guest pids before/after SIGKILL of the stand-in: $before/$after"
[ "$after" -lt "$before" ] || fail "SIGKILL of the exec stand-in left the guest process running ($before -> $after pids)"
note "SIGKILL of an exec stand-in ends the guest process"

runvm --root "$ROOT" pause c5 || fail "pause failed"
s=$(status_of c5); [ "$s" = paused ] || fail "status after pause: '$s'"
vmm=$(vmm_pid_of c5)
st=$(awk '{print $3}' "/proc/$vmm/stat" 2>/dev/null)
echo "paused VMM $vmm state $st"
[ "$st" = T ] || fail "VMM process not stopped while paused (state '$st')"
timeout 30 runvm --root "$ROOT" exec c5 true 2>e7 && fail "exec in a paused container succeeded"
grep -q paused e7 || fail "exec refusal does not say paused: $(cat e7)"
runvm --root "$ROOT" resume c5 || fail "resume failed"
s=$(status_of c5); [ "$s" = running ] || fail "status after resume: '$s'"
out=$(timeout 60 runvm --root "$ROOT" exec c5 echo after-resume 2>e8)
[ "$out" = after-resume ] || fail "exec after resume: '$out' $(cat e8)"
runvm --root "$ROOT" kill c5 KILL || fail "kill failed"
pass "exec: status 7 + stdout/stderr, stdin, --env/--cwd/--user, missing program named; exec -d --pid-file; SIGKILL of its stand-in ends the guest process; ps lists $n pids; pause (VMM stopped, exec refused) + resume; PATH lookup of [sh]"
