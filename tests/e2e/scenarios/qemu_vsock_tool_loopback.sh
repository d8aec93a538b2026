# Self-test of vsock_tool inside the test host over the vsock loopback transport (CID 1):
# listen-echo on one side, a 1 MiB connect/echo and a refused port on the other.
. /e2e/lib.sh
[ -e /sys/module/vsock_loopback ] || skip "vsock_loopback not loaded in the test host"
VSOCK_TOOL_TIMEOUT=60 vsock_tool listen-echo 6000 1 >listen.out 2>&1 &
LPID=$!
i=0
while ! grep -q listening listen.out && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
c=$(VSOCK_TOOL_TIMEOUT=60 vsock_tool connect 1 6000 1048576 2>&1)
echo "connect: $c"
r=$(VSOCK_TOOL_TIMEOUT=20 vsock_tool connect-refused 1 6001 2>&1)
echo "refused: $r"
wait $LPID
echo "listener: $(cat listen.out)"
echo "$c" | grep -q "connect ok" || fail "connect: $c"
echo "$r" | grep -q "connect-refused ok" || fail "refused: $r"
grep -q "listen-echo ok" listen.out || fail "listener: $(tail -n 1 listen.out)"
pass "loopback: 1 MiB echo byte-exact, refused port reported"
