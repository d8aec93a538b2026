# virtio-fs against a real guest kernel (cloud), in each cache mode: the file-operations
# conformance transcript (tests/e2e/guest/fs/conformance.sh) on a --fs share must equal the
# transcript of the same script on the guest's own tmpfs and natively on the test host's
# tmpfs; a change the test host makes must show in the guest as the cache mode promises.
# e2e-timeout: 900
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
# One guest, three shares: the VMM's default cache mode (auto), always (what runvm gives a
# container's rootfs) with writeback, and none (vmm/devices/virtio/fs/README.md, "Cache modes").
mkdir -p share_always share_none
# coherence.sh: when the guest creates DIR/coherence/ready, the test host rewrites
# DIR/coherence/data in place and adds DIR/coherence/new.
for d in share share_always share_none; do
  (i=0
   while [ ! -e $d/coherence/ready ] && [ $i -lt 9000 ]; do sleep 0.1; i=$((i + 1)); done
   [ -e $d/coherence/ready ] && printf v2 >$d/coherence/data && : >$d/coherence/new) &
  watchers="${watchers:-} $!"
done
run_runvm cloud 1 1024 fs-conf --fs "share=$PWD/share:rootfs" \
  --fs "always=$PWD/share_always:rootfs:cache=always:writeback" \
  --fs "none=$PWD/share_none:rootfs:cache=none" \
  -- fs.vfs=share fs.vfs_always=always fs.vfs_none=none fs.tmpfs=1 fs.coherence=1 fs.mib=$FS_MIB
kill $watchers 2>/dev/null
c=$(vmm_log_crash); [ -z "$c" ] || fail "VMM crashed: $c"
expect_clean_boot fs-conf
for m in vfs vfs_always vfs_none; do
  note "$m seconds per step: $(fs_guest_steps $m)"
  console_has "E2E-GUEST-FS mount $m tag=.* rc=0" || fail "virtiofs mount $m failed: $(console_value "E2E-GUEST-FS mount $m")"
  fs_transcript $m $m.txt
  grep -q '^== end' $m.txt || fail "virtio-fs $m transcript incomplete ($(wc -l <$m.txt) lines): $(tail -n 1 $m.txt)"
done
fs_transcript tmpfs tmpfs.txt
grep -q '^== end' tmpfs.txt || fail "guest tmpfs transcript incomplete"
fs_compare tmpfs.txt native.txt || fail "guest tmpfs transcript differs from the test host's"
# Under cache=none (FOPEN_DIRECT_IO) the 6.1 guest kernel refuses a shared mmap with ENODEV,
# as it does with virtiofsd; that is the one line allowed to differ.
sed '/^== 17 mmap read/,/^== 18/ s/^hash size=.*/hash mmap ENODEV/' tmpfs.txt >tmpfs-none.txt
for m in vfs vfs_always vfs_none; do
  want=tmpfs.txt; [ $m = vfs_none ] && want=tmpfs-none.txt
  fs_compare $m.txt $want || fail "virtio-fs $m transcript differs from $want: $(grep -c '^[-+][^-+]' diff.out) changed lines"
done
for d in share share_always share_none; do
  [ -z "$(ls -A $d)" ] || fail "$d not empty after the run: $(ls -A $d | head -n 3)"
done
# How soon the guest saw the test host's change: auto revalidates attributes after 1 s and
# drops a file's pages at open; none caches nothing; always keeps the pages it has (reported).
coh() { console_value "E2E-GUEST-FS coherence $1 " | sed "s/.*coherence $1 //"; }
for m in vfs vfs_none; do
  line=$(coh $m)
  data=$(echo "$line" | sed -n 's/.*data_s=\([^ ]*\).*/\1/p')
  new=$(echo "$line" | sed -n 's/.*new_s=\([^ ]*\).*/\1/p')
  [ -n "$data" ] && [ "$data" != never ] && [ "$new" != never ] || fail "$m: host change not seen in 5 s: $line"
  awk -v t="$data" -v lim=$([ $m = vfs ] && echo 2 || echo 0.5) 'BEGIN { exit !(t <= lim) }' ||
    fail "$m: host change seen after $data s (cache mode allows $([ $m = vfs ] && echo 2 || echo 0.5) s): $line"
done
pass "3 virtio-fs cache modes: transcripts == guest tmpfs == host tmpfs ($(wc -l <vfs.txt) lines, ${FS_MIB} MiB file; auto $(fs_guest_time vfs) s, always+writeback $(fs_guest_time vfs_always) s, none $(fs_guest_time vfs_none) s, guest tmpfs $(fs_guest_time tmpfs) s, host ${NATIVE_S} s); host change seen: auto [$(coh vfs)] none [$(coh vfs_none)] always [$(coh vfs_always)]; slowest auto steps $(fs_slowest_steps vfs)"
