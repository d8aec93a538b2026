# create -> created -> start -> running -> kill TERM -> stopped (143) -> delete,
# and `run` in the background killed with TERM exits 143.
. /e2e/lib.sh
need_runvm
make_bundle "$PWD/b2" '["/bin/sh","-c","echo started; exec sleep 1000"]'
start=$(date +%s)
timeout "$T" runvm --root "$ROOT" create -b "$PWD/b2" --pid-file "$PWD/pid" c2 >out.txt 2>err.txt </dev/null
rc=$?
echo "create exit $rc in $(($(date +%s) - start))s: $(cat err.txt)"
[ "$rc" = 0 ] || fail "create failed ($rc): $(tail -c 1500 err.txt)"
pid=$(cat pid)
[ -d "/proc/$pid" ] || fail "pid file $pid names no process"
s=$(status_of c2); echo "after create: $s"
[ "$s" = created ] || fail "status after create: '$s', want created"
runvm --root "$ROOT" start c2 || fail "start failed"
s=$(status_of c2); echo "after start: $s"
[ "$s" = running ] || fail "status after start: '$s', want running"
sleep 2
grep -q started out.txt || fail "container output missing after start: $(cat out.txt)"
runvm --root "$ROOT" kill c2 TERM || fail "kill failed"
i=0
while [ "$(status_of c2)" != stopped ] && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
s=$(status_of c2); echo "after kill: $s"
[ "$s" = stopped ] || fail "status after kill: '$s', want stopped"
runvm --root "$ROOT" delete c2 || fail "delete failed"
runvm --root "$ROOT" state c2 >/dev/null 2>&1 && fail "state still answers after delete"
[ -e "$ROOT/c2" ] && fail "state dir left after delete"
note "lifecycle ok"

# run in the background, SIGTERM through kill: run exits 143 (128+15).
make_bundle "$PWD/b4" '["/bin/sh","-c","exec sleep 1000"]'
timeout "$T" runvm --root "$ROOT" run -b "$PWD/b4" c4 >out4.txt 2>err4.txt </dev/null &
run_pid=$!
i=0
while [ "$(status_of c4)" != running ] && [ $i -lt "$T" ]; do sleep 1; i=$((i + 1)); done
[ "$(status_of c4)" = running ] || { kill $run_pid; fail "c4 never running: $(tail -c 1500 err4.txt)"; }
runvm --root "$ROOT" kill c4 TERM || fail "kill c4 failed"
wait $run_pid
rc=$?
echo "run c4 exit after kill TERM: $rc"
[ "$rc" = 143 ] || fail "run exited $rc after kill TERM, want 143"
pass "create->created, start->running, kill TERM->stopped, delete->gone; run + kill TERM -> 143"
