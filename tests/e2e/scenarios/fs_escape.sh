# Escape attempts from inside a guest (generic kernel: virtio-fs and 9p shares in one VM) must
# all fail: symlinks to the host's /etc/passwd and to a marker file next to the share, ../
# walks, a directory/symlink rename race, trusted.* and security.* xattrs, set-uid bits and
# device nodes made by the guest (10:232 is /dev/kvm, present only on the test host). The marker's content never reaches the
# guest's console and the marker stays untouched.
. /e2e/lib.sh
need_vmm
[ "$PWD" = /tmp/fs_escape ] || fail "runs in /tmp/fs_escape (the guest's race targets that path)"
mkdir -p fsbin outside share_vfs share_p9
(cd fsbin && zcat "$G/guest-generic.cpio.gz" | cpio -id 2>/dev/null)
[ -x fsbin/fs/fstool ] || fail "guest initramfs has no fs/fstool"
marker="FS-ESCAPE-MARKER-$(head -c 12 /dev/urandom | md5sum | cut -c1-20)"
echo "$marker" >outside/MARKER
made_passwd=
[ -e /etc/passwd ] || { echo "root:x:0:0:$marker:/root:/bin/sh" >/etc/passwd; made_passwd=1; }
before=$(stat -c '%s %Y %a' outside/MARKER)
for s in share_vfs share_p9; do
  ln -s /etc/passwd $s/abs_passwd
  ln -s "$PWD/outside/MARKER" $s/abs_marker
  ln -s ../outside/MARKER $s/rel_marker
  ln -s ../../../../../../../../tmp/fs_escape/outside/MARKER $s/deep_marker
  ln -s ../outside $s/outdir
done
run_runvm generic 1 512 fs-escape --fs "esc=$PWD/share_vfs" --9p "esc9=$PWD/share_p9" -- fs.vfs=esc fs.p9=esc9
[ -n "$made_passwd" ] && rm -f /etc/passwd
c=$(vmm_log_crash); [ -z "$c" ] || fail "VMM crashed: $c"
expect_clean_boot fs-escape
tr -d '\r' <console.log | grep '^E2E-GUEST-FS esc ' | cut -d' ' -f2- >esc.txt
cat esc.txt
grep -q "$marker" console.log && fail "the guest read the host marker: $(grep -m1 "$marker" console.log)"
[ "$(cat outside/MARKER)" = "$marker" ] && [ "$(stat -c '%s %Y %a' outside/MARKER)" = "$before" ] ||
  fail "the marker outside the share changed"
[ "$(ls outside)" = MARKER ] || fail "files appeared outside the share: $(ls outside)"
[ -e /tmp/moved ] && fail "a file was moved out of a share to /tmp/moved"
for m in vfs p9; do
  grep -q "^esc $m host-link abs_passwd: read 'root:x:0:0:GUEST-PASSWD" esc.txt || fail "$m: /etc/passwd link did not give the guest's file"
  n=$(grep -c "^esc $m host-link\|^esc $m guest-link\|^esc $m walk" esc.txt)
  [ "$n" -ge 12 ] || fail "$m: only $n link/walk probes ran"
  bad=$(grep "^esc $m host-link\|^esc $m guest-link\|^esc $m walk" esc.txt | grep -v "ENOENT\|ENOTDIR\|GUEST-PASSWD" | head -n 1)
  [ -z "$bad" ] || fail "$m: unexpected result: $bad"
  grep -q "^esc $m link-out: link EXDEV rename EXDEV" esc.txt || fail "$m: link/rename out of the share: $(grep "^esc $m link-out" esc.txt)"
  grep -q "^esc $m trusted-xattr: setxattr EPERM" esc.txt || fail "$m: trusted.* xattr: $(grep "^esc $m trusted" esc.txt)"
  grep -q "^esc $m mknod kvm: mknod-c EPERM open-r ENOENT" esc.txt ||
    fail "$m: guest-made /dev/kvm node: $(grep "^esc $m mknod kvm" esc.txt)"
  grep -q "^esc $m mknod null: mknod-c EPERM" esc.txt || fail "$m: null node: $(grep "^esc $m mknod null" esc.txt)"
  k=share_$m
  [ -e $k/kvm ] || [ -e $k/null ] && fail "$m: a guest-made device node is on the host: $(ls -l $k)"
  grep -q "^esc $m setuid: chmod ok mode=755" esc.txt || fail "$m: set-uid on a volume: $(grep "^esc $m setuid" esc.txt)"
  [ "$(stat -c %a $k/suid)" = 755 ] || fail "$m: the host sees mode $(stat -c %a $k/suid) for the guest's set-uid file"
  grep -q "^esc $m security-xattr: setxattr EOPNOTSUPP" esc.txt ||
    fail "$m: security.* xattr on a volume: $(grep "^esc $m security-xattr" esc.txt)"
  race=$(grep "^esc $m race " esc.txt)
  echo "$race" | grep -q 'inside=[1-9]' || fail "$m: the rename race never read through the real dir: $race"
  echo "$race" | grep -q 'swaps=[1-9]' || fail "$m: the rename race did not swap: $race"
  # Reads through the swapped-in symlinks may only find the guest's own files.
  other=$(echo "$race" | grep -o "race read [^']*'[^']*'" | grep -v "GUEST-PASSWD" | head -n 1)
  [ -z "$other" ] || fail "$m: the race read something that is not the guest's: $other"
done
pass "no escape via virtio-fs or 9p: host links -> guest files/ENOENT, ../ walks stay in the guest, EXDEV out, trusted.* EPERM, security.* EOPNOTSUPP, no device node, set-uid stripped; races: $(grep '^esc vfs race' esc.txt | grep -o 'swaps=[0-9]*\|inside=[0-9]*\|foreign=[0-9]*' | tr '\n' ' ')(vfs) $(grep '^esc p9 race' esc.txt | grep -o 'swaps=[0-9]*\|inside=[0-9]*\|foreign=[0-9]*' | tr '\n' ' ')(p9)"
