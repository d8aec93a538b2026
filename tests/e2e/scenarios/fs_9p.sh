# virtio-9p against a real guest kernel (generic: the cloud kernel has no 9p): the file-operations conformance transcript
# e2e-timeout: 900
# (tests/e2e/guest/fs/conformance.sh) on a --9p share (9P2000.L) must equal the transcript of the same
# script on the guest's own tmpfs and natively on the test host's tmpfs.
. /e2e/lib.sh
need_vmm
mkdir -p fsbin share
(cd fsbin && zcat "$G/guest-generic.cpio.gz" | cpio -id 2>/dev/null)
[ -x fsbin/fs/fstool ] || fail "guest initramfs has no fs/fstool"
. fsbin/fs/host-lib.sh
# All three transcripts swap files without RENAME_EXCHANGE: 9P2000.L has no rename flags.
export FS_NO_EXCHANGE=1
fs_native native.txt || fail "native tmpfs run failed"
note "native tmpfs transcript: $(wc -l <native.txt) lines in ${NATIVE_S} s"
# cache=mmap: the mode guest-init mounts a 9p rootfs with (guest-init/boot.cpp).
# :rootfs: the container-root share policy (set-gid files, file capabilities), as in fs_virtiofs.
run_runvm generic 1 1024 fs-conf --9p "share=$PWD/share:rootfs" -- fs.p9=share fs.p9cache=mmap fs.noexchange=1 fs.tmpfs=1 fs.mib=$FS_MIB
c=$(vmm_log_crash); [ -z "$c" ] || fail "VMM crashed: $c"
note "p9 seconds per step: $(fs_guest_steps p9)"
expect_clean_boot fs-conf
console_has "E2E-GUEST-FS mount p9 tag=share rc=0" || fail "9p mount failed: $(console_value 'E2E-GUEST-FS mount')"
fs_transcript p9 p9.txt
fs_transcript tmpfs tmpfs.txt
grep -q '^== end' p9.txt || fail "9p transcript incomplete ($(wc -l <p9.txt) lines): $(tail -n 1 p9.txt)"
grep -q '^== end' tmpfs.txt || fail "guest tmpfs transcript incomplete"
fs_compare tmpfs.txt native.txt || fail "guest tmpfs transcript differs from the test host's"
fs_compare p9.txt tmpfs.txt || fail "9p transcript differs from tmpfs: $(grep -c '^[-+][^-+]' diff.out) changed lines"
[ -z "$(ls -A share)" ] || fail "share not empty after the run: $(ls -A share | head -n 3)"
pass "9p transcript == guest tmpfs == host tmpfs ($(wc -l <p9.txt) lines, ${FS_MIB} MiB file; 9p $(fs_guest_time p9) s, guest tmpfs $(fs_guest_time tmpfs) s, host ${NATIVE_S} s; slowest p9 steps $(fs_slowest_steps p9))"
