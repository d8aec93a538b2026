# Read-only shares (TAG=DIR:ro), virtio-fs and 9p in one generic-kernel guest: every
# write-type operation fails with EROFS, reads work, the host directory is unchanged.
. /e2e/lib.sh
need_vmm
mkdir -p fsbin share/d share/e
(cd fsbin && zcat "$G/guest-generic.cpio.gz" | cpio -id 2>/dev/null)
echo ro-content >share/f
echo g >share/d/g
ln -s f share/s
sum() { (cd share && find . | sort | while read -r f; do stat -c '%n %F %a %u:%g %s %Y' "$f"; done; cat f d/g) | md5sum; }
before=$(sum)
run_runvm generic 1 384 fs-ro --fs "ro=$PWD/share:ro" --9p "ro9=$PWD/share:ro" -- fs.vfs_ro=ro fs.p9_ro=ro9
c=$(vmm_log_crash); [ -z "$c" ] || fail "VMM crashed: $c"
expect_clean_boot fs-ro
tr -d '\r' <console.log | grep '^E2E-GUEST-FS ro ' | cut -d' ' -f2- >ro.txt
cat ro.txt
[ "$(sum)" = "$before" ] || fail "the read-only share changed on the host"
for m in vfs_ro p9_ro; do
  grep -q "^ro $m read ro-content f g" ro.txt || fail "$m: reads failed: $(grep "^ro $m read" ro.txt)"
  n=$(grep -c "^ro $m [a-z-]* EROFS$" ro.txt)
  [ "$n" = 19 ] || fail "$m: $n of 19 write syscalls gave EROFS; others: $(grep "^ro $m " ro.txt | grep -v 'EROFS$\|read \|busybox\|shell\|after' | tr '\n' ';')"
  for c in busybox-touch shell-append busybox-mv busybox-rm; do
    grep -q "^ro $m $c failed" ro.txt || fail "$m: $c succeeded on a read-only share"
  done
done
pass "read-only virtio-fs and 9p: 19/19 write syscalls EROFS on each (+ touch/append/mv/rm fail), reads work, host tree unchanged"
