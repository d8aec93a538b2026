# A guest kernel panic (sysrq-c) makes runvm-vmm exit non-zero and say "panic".
. /e2e/lib.sh
need_vmm
run_runvm cloud 1 256 panic
console_has "E2E-GUEST panicking" || fail "guest never got to the panic (status $STATUS)"
case $STATUS in
  exit:0) fail "runvm-vmm exited 0 after a guest panic" ;;
  exit:*) ;;
  *) fail "runvm-vmm did not exit by itself after the panic: $STATUS" ;;
esac
grep -qi panic vmm.log || fail "runvm-vmm's output does not mention the panic"
c=$(vmm_log_crash); [ -z "$c" ] || fail "VMM crashed: $c"
pass "guest panic -> $STATUS, VMM says: $(grep -i panic vmm.log | head -n 1)"
