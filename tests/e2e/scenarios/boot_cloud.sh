# The Debian cloud kernel boots under runvm-vmm to the test /init, which powers off: exit 0.
. /e2e/lib.sh
need_vmm
run_runvm cloud 1 256 boot
expect_clean_boot boot
pass "cloud kernel: /init after ${MARKER_MS} ms, exit 0 after ${EXIT_MS} ms"
