# The guest writes random values into every virtio/pvpanic PCI BAR and config space; the
# VMM must not crash: it exits by itself with a status (not a signal), without sanitizer or
# crash messages in its log.
. /e2e/lib.sh
need_vmm
run_runvm cloud 1 256 pci-garbage --vsock-cid 3 --vsock-uds "$PWD/vsock.sock" -- e2e.seed=12345 e2e.rounds=3000
console_has "E2E-GUEST-PCI vsock_tool: pci-garbage ok" || fail "guest did not complete its garbage writes (status $STATUS): $(console_value E2E-GUEST-PCI)"
case $STATUS in
  exit:*) ;;
  *) fail "runvm-vmm did not exit cleanly: $STATUS" ;;
esac
c=$(vmm_log_crash); [ -z "$c" ] || fail "VMM crashed: $c"
pass "$(console_value 'pci-garbage ok' | sed 's/.*ok //'); VMM ended with $STATUS"
