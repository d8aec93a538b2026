# Host -> guest over the hybrid vsock socket: CONNECT 5000, 1 MiB echoed byte-exact.
. /e2e/lib.sh
need_vmm
UDS=$PWD/vsock.sock
run_runvm_bg cloud 1 256 vsock-listen --vsock-cid 3 --vsock-uds "$UDS"
wait_console "listening on vsock port 5000" "$T" || { wait_vm; fail "guest never listened (status $STATUS)"; }
host=$(VSOCK_TOOL_TIMEOUT=60 vsock_tool uds-connect "$UDS" 5000 1048576 2>&1)
echo "host: $host"
wait_vm
echo "$host" | grep -q "uds-connect ok" || fail "host side: $host"
console_has "E2E-GUEST-VSOCK vsock_tool: listen-echo ok" || fail "guest side: $(console_value E2E-GUEST-VSOCK)"
expect_clean_boot vsock-listen
pass "1 MiB host->guest echo byte-exact"
