#!/bin/sh
# Escape attempts from inside the guest (fs_escape scenario), for each mount point given.
# The test host put symlinks into each share that point outside it (to its /etc/passwd and to
# a marker file next to the share); this script never knows the marker's content: it prints
# whatever it manages to read, and the host checks that its marker never shows up.
# Lines: "esc <mnt> <what>: <result>".
echo "root:x:0:0:GUEST-PASSWD:/root:/bin/sh" >/etc/passwd
show() { # show LABEL PATH: what reading PATH gives (content, sanitized, or the error)
  if out=$(cat "$2" 2>/dev/null); then
    echo "esc $m $1: read '$(echo "$out" | head -c 120 | tr -c 'A-Za-z0-9:._/ -' '.')'"
  else
    echo "esc $m $1: $(fstool try open-r "$2")"
  fi
}
for mp in "$@"; do
  m=${mp##*/}
  cd "$mp" || continue
  echo "esc $m host symlinks: $(ls | tr '\n' ' ')"
  # Symlinks the host placed in the share: they resolve in the guest's namespace.
  for l in abs_passwd abs_marker rel_marker deep_marker; do show "host-link $l" "$mp/$l"; done
  show "host-link outdir/MARKER" "$mp/outdir/MARKER"
  # The guest's own symlinks and ../ walks.
  ln -s /etc/passwd g_passwd; ln -s ../outside/MARKER g_rel; ln -s /tmp/fs_escape/outside/MARKER g_abs
  ln -s ../../../../../../../../../tmp/fs_escape/outside/MARKER g_deep
  for l in g_passwd g_rel g_abs g_deep; do show "guest-link $l" "$mp/$l"; done
  show "walk ../outside" "$mp/../outside/MARKER"
  show "walk ../../.." "$mp/../../../../../../tmp/fs_escape/outside/MARKER"
  show "walk dir/../../" "$mp/outdir/../../outside/MARKER"
  echo "esc $m ls ..: $(ls "$mp/.." | tr '\n' ' ')"
  # Moving or linking things across the share boundary.
  echo "payload" >inside.txt
  echo "esc $m link-out: $(fstool try link /init "$mp/hl") $(fstool try rename "$mp/inside.txt" /tmp/moved)"
  # trusted.* xattrs steer host machinery (overlayfs): refused.
  echo "esc $m trusted-xattr: $(fstool try setxattr "$mp/inside.txt" trusted.overlay.opaque y)"
  # Device nodes never reach the host (a host process finding one would open a host
  # device): 10:232 is /dev/kvm, which exists only on the host. Nor do set-uid files or
  # security.* xattrs on a volume (docs/security.md).
  echo "esc $m mknod kvm: $(fstool try mknod-c "$mp/kvm" 10 232) $(fstool try open-r "$mp/kvm")"
  echo "esc $m mknod null: $(fstool try mknod-c "$mp/null" 1 3)"
  echo x >suid
  echo "esc $m setuid: $(fstool try chmod "$mp/suid" 4755) mode=$(stat -c %a "$mp/suid")"
  echo "esc $m security-xattr: $(fstool try setxattr "$mp/suid" security.selinux system_u:object_r:shadow_t:s0)"
  # Rename race: swap a directory for symlinks to outside paths while reading through it.
  echo "esc $m $(fstool race "$mp/race" 5 inside MARKER etc/passwd | tr '\n' ' ')"
  cd /
done
