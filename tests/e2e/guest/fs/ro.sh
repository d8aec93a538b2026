#!/bin/sh
# Read-only shares (fs_ro scenario): every write-type operation must fail with EROFS, reads
# work. The host put f (content "ro-content"), empty dir e, dir d/g and symlink s -> f there.
# Lines: "ro <mnt> <op> <result>".
for mp in "$@"; do
  m=${mp##*/}
  cd "$mp" || continue
  echo "ro $m read $(cat f) $(readlink s) $(cat d/g)"
  for op in "open-w f" "open-trunc f" "creat-excl new" "mkdir newd" "rmdir e" "unlink f" \
            "unlink d/g" "rename f f2" "rename d d2" "link f f3" "symlink f s2" "chmod f 600" \
            "chown f 1 1" "truncate f 0" "utimes f" "mknod-c c 1 3" "mkfifo p" \
            "setxattr f security.x y" "removexattr f security.x"; do
    echo "ro $m $(fstool try $op)"
  done
  touch f 2>/dev/null && echo "ro $m busybox-touch ok" || echo "ro $m busybox-touch failed"
  (echo more >>f) 2>/dev/null && echo "ro $m shell-append ok" || echo "ro $m shell-append failed"
  mv f f4 2>/dev/null && echo "ro $m busybox-mv ok" || echo "ro $m busybox-mv failed"
  rm -f d/g 2>/dev/null && echo "ro $m busybox-rm ok" || echo "ro $m busybox-rm failed"
  echo "ro $m after $(cat f) $(ls | tr '\n' ' ')"
  cd /
done
