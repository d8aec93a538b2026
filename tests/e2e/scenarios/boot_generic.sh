# The Debian generic kernel (linux-image-amd64) boots under runvm-vmm to the test /init: exit 0.
. /e2e/lib.sh
need_vmm
run_runvm generic 1 256 boot
expect_clean_boot boot
pass "generic kernel: /init after ${MARKER_MS} ms, exit 0 after ${EXIT_MS} ms"
