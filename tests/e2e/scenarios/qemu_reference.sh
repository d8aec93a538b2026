# Boots the cloud guest kernel and the e2e initramfs with QEMU (-M q35, nested KVM) to prove
# the test host, the guest initramfs and the parsing before anything of runvm is trusted.
. /e2e/lib.sh
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not in the test host"
run_qemu q35 cloud 2 256 boot
expect_clean_boot boot
console_has "E2E-GUEST cpus online=0-1" || fail "want 2 vCPUs online: $(console_value 'cpus online')"
console_has "E2E-GUEST modules loaded=" || fail "no module line"
pass "QEMU q35 booted the cloud kernel to /init in ${MARKER_MS} ms, exit in ${EXIT_MS} ms, $(console_value 'cpus online' | cut -d' ' -f2-)"
