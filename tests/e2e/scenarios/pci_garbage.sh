# The guest writes random values into the BARs and config space of every virtio PCI function
# (vsock and rng). The guest may break its own drivers, or even crash; the VMM must not: it
# ends by itself with an exit status (or, if the wrecked guest hangs, it exits cleanly on
# SIGTERM), never by a signal, and its log shows no sanitizer report or crash.
. /e2e/lib.sh
need_vmm
T=$((T < 120 ? T : 120))
run_runvm cloud 1 256 pci-garbage --vsock-cid 3 --vsock-uds "$PWD/vsock.sock" -- e2e.seed=12345 e2e.rounds=3000
console_has "E2E-GUEST-PCI vsock_tool: pci-garbage 0000:" || fail "guest never started its garbage writes (status $STATUS): $(console_value E2E-GUEST)"
console_has "vsock_tool: pci-garbage FAIL" && fail "garbage writer: $(console_value 'pci-garbage FAIL')"
case $STATUS in
  exit:* | timeout:exit:*) ;;
  *) fail "runvm-vmm did not end cleanly: $STATUS" ;;
esac
c=$(vmm_log_crash); [ -z "$c" ] || fail "VMM crashed: $c"
if console_has "E2E-GUEST-PCI vsock_tool: pci-garbage ok"; then
  guest="guest survived: $(console_value 'pci-garbage ok' | sed 's/.*ok //')"
else
  guest="guest did not survive its own garbage ($(grep -c 'pci-garbage 0000:' console.log) function(s) started)"
fi
pass "$guest; VMM ended with $STATUS"
