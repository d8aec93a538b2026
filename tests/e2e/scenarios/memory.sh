# Guest MemTotal matches --memory: at most the requested size and no more than 8% below it
# (the kernel keeps its image, reserved areas and page structs out of MemTotal; QEMU q35
# gives 94% at 512 MiB with this kernel).
. /e2e/lib.sh
need_vmm
MEM=${MEM:-1024}
run_runvm cloud 1 $MEM boot
console_has "E2E-GUEST mem MemTotal" || fail "guest never reported its memory (status $STATUS)"
kb=$(console_value "E2E-GUEST mem MemTotal" | awk '{print $4}')
want=$((MEM * 1024))
[ -n "$kb" ] || fail "could not parse MemTotal"
[ "$kb" -le "$want" ] || fail "MemTotal ${kb} kB is more than --memory $MEM MiB"
[ "$kb" -ge $((want * 92 / 100)) ] || fail "MemTotal ${kb} kB is more than 8% below --memory $MEM MiB"
expect_clean_boot boot
pass "MemTotal ${kb} kB for --memory $MEM MiB ($((kb * 100 / want))%)"
