# virtio-fs against a real guest kernel (cloud): the file-operations conformance transcript
# e2e-timeout: 900
# (tests/e2e/guest/fs/conformance.sh) on a --fs share must equal the transcript of the same
# script on the guest's own tmpfs and natively on the test host's tmpfs.
. /e2e/lib.sh
need_vmm
mkdir -p fsbin share
(cd fsbin && zcat "$G/guest-cloud.cpio.gz" | cpio -id 2>/dev/null)
[ -x fsbin/fs/fstool ] || fail "guest initramfs has no fs/fstool"
. fsbin/fs/host-lib.sh
fs_native native.txt || fail "native tmpfs run failed"
note "native tmpfs transcript: $(wc -l <native.txt) lines in ${NATIVE_S} s"
# :rootfs: the share policy of a container's root (set-gid files and file capabilities kept),
# the one whose semantics must match a local filesystem; volumes are stricter (fs_escape).
run_runvm cloud 1 1024 fs-conf --fs "share=$PWD/share:rootfs" -- fs.vfs=share fs.tmpfs=1 fs.mib=$FS_MIB
c=$(vmm_log_crash); [ -z "$c" ] || fail "VMM crashed: $c"
note "vfs seconds per step: $(fs_guest_steps vfs)"
expect_clean_boot fs-conf
console_has "E2E-GUEST-FS mount vfs tag=share rc=0" || fail "virtiofs mount failed: $(console_value 'E2E-GUEST-FS mount')"
fs_transcript vfs vfs.txt
fs_transcript tmpfs tmpfs.txt
grep -q '^== end' vfs.txt || fail "virtio-fs transcript incomplete ($(wc -l <vfs.txt) lines): $(tail -n 1 vfs.txt)"
grep -q '^== end' tmpfs.txt || fail "guest tmpfs transcript incomplete"
fs_compare tmpfs.txt native.txt || fail "guest tmpfs transcript differs from the test host's"
fs_compare vfs.txt tmpfs.txt || fail "virtio-fs transcript differs from tmpfs: $(grep -c '^[-+][^-+]' diff.out) changed lines"
[ -z "$(ls -A share)" ] || fail "share not empty after the run: $(ls -A share | head -n 3)"
pass "virtio-fs transcript == guest tmpfs == host tmpfs ($(wc -l <vfs.txt) lines, ${FS_MIB} MiB file; virtio-fs $(fs_guest_time vfs) s, guest tmpfs $(fs_guest_time tmpfs) s, host ${NATIVE_S} s; slowest vfs steps $(fs_slowest_steps vfs))"
