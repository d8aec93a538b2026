# terminal=true through --console-socket, as containerd's shim does it: runvm create sends
# the pty master to a receiver (tools/console_recv.c); the container sees a tty, the
# receiver's window size, and what is typed on the master; then exec -t -d does the same.
. /e2e/lib.sh
need_runvm
make_bundle "$PWD/b6" '["sh","-c","tty; [ -c /dev/pts/0 ] \&\& echo own-devpts; [ -t 0 ] \&\& [ -t 1 ] \&\& echo stdio-is-tty; sleep 2; stty size; read line; echo got:$line; exec sleep 1000"]'
sed -i 's/"terminal": false/"terminal": true/' "$PWD/b6/config.json"
console_recv "$PWD/init.sock" 33 101 "$T" "typed-line
" >tty.out 2>recv.err &
rp=$!
sleep 1
timeout "$T" runvm --root "$ROOT" create -b "$PWD/b6" --console-socket "$PWD/init.sock" c6 2>create.err ||
  { kill $rp; fail "create --console-socket: $(tail -c 1500 create.err) console: $(tail -c 1500 "$ROOT/c6/vm/console.log" 2>/dev/null)"; }
cleanup() { runvm --root "$ROOT" delete --force c6 >/dev/null 2>&1; }
trap cleanup EXIT
runvm --root "$ROOT" start c6 || fail "start failed"
i=0
while ! grep -q "got:typed-line" tty.out && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
echo "init tty output: $(tr -d '\r' <tty.out | tr '\n' '|')"
# The pty echoes the typed line whenever it arrives, possibly inside one of the program's
# lines ("own-devpts" + echo + newline): take the echo out before checking the lines.
tr -d '\r' <tty.out | sed '/^got:/!s/typed-line//' | grep -v '^$' >tty.lines
# A terminal init's pty is also its /dev/console (as under runc), so tty may name either.
grep -qE '^/dev/(pts/[0-9]+|console)$' tty.lines || fail "container has no tty: $(cat tty.out recv.err)"
# Its pty is pts 0 of the container's own devpts instance (not of the guest's).
grep -qx 'own-devpts' tty.lines || fail "init's pty is not in the container's devpts: $(cat tty.out)"
grep -qx 'stdio-is-tty' tty.lines || fail "container stdio is not a tty: $(cat tty.out)"
grep -qx '33 101' tty.lines || fail "window size not 33 101: $(cat tty.out)"
grep -qx 'got:typed-line' tty.lines || fail "typed line did not arrive: $(cat tty.out)"
note "init tty ok"

console_recv "$PWD/exec.sock" 20 60 60 >etty.out 2>erecv.err &
rp2=$!
sleep 1
timeout 60 runvm --root "$ROOT" exec -t -d --console-socket "$PWD/exec.sock" --pid-file "$PWD/epid" \
  c6 sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo exec-stdio-is-tty; sleep 2; stty size; exit 0' 2>exec.err ||
  fail "exec -t -d: $(cat exec.err)"
wait $rp2
echo "exec tty output: $(tr -d '\r' <etty.out | tr '\n' '|')"
# The exec'd process's pty comes from the container's devpts instance, so ttyname() names it.
tr -d '\r' <etty.out | grep -qE '^/dev/pts/[0-9]+$' || fail "exec -t: tty names no pty: $(cat etty.out)"
tr -d '\r' <etty.out | grep -qx 'exec-stdio-is-tty' || fail "exec has no tty: $(cat etty.out erecv.err)"
tr -d '\r' <etty.out | grep -qx '20 60' || fail "exec window size not 20 60: $(cat etty.out)"
runvm --root "$ROOT" kill c6 KILL
pass "console socket: init and exec -t get a pty of the container's devpts (ttyname works; window 33x101, 20x60) and typed input"
