# Guest -> host: the guest connects to CID 2 port 5001, which reaches <uds>_5001 on the host;
# 1 MiB echoed byte-exact.
. /e2e/lib.sh
need_vmm
UDS=$PWD/vsock.sock
VSOCK_TOOL_TIMEOUT=$T vsock_tool uds-listen-echo "${UDS}_5001" 1 >host.out 2>&1 &
LPID=$!
sleep 0.3
run_runvm cloud 1 256 vsock-connect --vsock-cid 3 --vsock-uds "$UDS"
kill "$LPID" 2>/dev/null
wait "$LPID" 2>/dev/null
echo "host: $(cat host.out)"
console_has "E2E-GUEST-VSOCK vsock_tool: connect ok" || fail "guest side: $(console_value E2E-GUEST-VSOCK) (status $STATUS)"
grep -q "uds-listen-echo ok 1 connection(s), 1048576 bytes" host.out || fail "host listener: $(tail -n 1 host.out)"
expect_clean_boot vsock-connect
pass "1 MiB guest->host echo byte-exact"
