# With --cpus 2 both vCPUs come online in the guest.
. /e2e/lib.sh
need_vmm
run_runvm cloud 2 256 boot
console_has "E2E-GUEST cpus online=" || fail "guest never reported its CPUs (status $STATUS)"
got=$(console_value "E2E-GUEST cpus online=")
echo "$got" | grep -q "online=0-1$" || fail "want cpus online=0-1, guest says: $got"
expect_clean_boot boot
pass "2 vCPUs online ($got)"
