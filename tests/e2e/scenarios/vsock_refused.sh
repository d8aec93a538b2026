# Connections to ports nobody listens on fail cleanly on both sides, and the device keeps
# working afterwards: guest -> host port 5002 is refused (ECONNRESET/ECONNREFUSED), host
# CONNECT 5003 gets no OK and a closed socket, then a host -> guest echo on 5000 still works.
. /e2e/lib.sh
need_vmm
UDS=$PWD/vsock.sock
run_runvm_bg cloud 1 256 vsock-refused --vsock-cid 3 --vsock-uds "$UDS"
wait_console "listening on vsock port 5000" "$T" || { wait_vm; fail "guest never got to listening (status $STATUS): $(console_value E2E-GUEST-VSOCK)"; }
refused=$(VSOCK_TOOL_TIMEOUT=30 vsock_tool uds-refused "$UDS" 5003 2>&1)
echo "host refused: $refused"
after=$(VSOCK_TOOL_TIMEOUT=60 vsock_tool uds-connect "$UDS" 5000 65536 2>&1)
echo "host after: $after"
wait_vm
console_has "E2E-GUEST-VSOCK vsock_tool: connect-refused ok" || fail "guest side: $(grep E2E-GUEST-VSOCK console.log | head -n 1)"
echo "$refused" | grep -q "uds-refused ok" || fail "host side: $refused"
echo "$after" | grep -q "uds-connect ok" || fail "echo after the refusals: $after"
expect_clean_boot vsock-refused
pass "guest: $(console_value 'connect-refused ok' | sed 's/.*refused: //'); host: CONNECT 5003 refused; echo afterwards ok"
