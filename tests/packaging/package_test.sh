#!/usr/bin/env bash
# The runvm .deb in BUILD_DIR (packaging/build-deb.sh): its metadata, its files, that the
# unpacked tree runs from where it lies (runvm finds its runvm-vmm and image relative to
# itself), that runvm-update-image and the kernel hooks rebuild byte-for-byte the image
# the package carries, and that `cmake --install` lays out the same files.
# Exit 77 (skip) without a .deb, unless RUNVM_REQUIRE_DEB=1 (CI).
# usage: package_test.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: package_test.sh BUILD_DIR}
deb=$(ls -t "$build"/runvm_*.deb 2>/dev/null | head -n1)
if [ -z "$deb" ]; then
  [ "${RUNVM_REQUIRE_DEB:-0}" = 1 ] && { echo "FAIL: no runvm_*.deb in $build"; exit 1; }
  echo "SKIP: no runvm_*.deb in $build (packaging/build-deb.sh makes one)"
  exit 77
fi
tree=$build/guest-image
[ -f "$tree/CPackConfig.cmake" ] || tree=$build
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Metadata: the guest kernel and the image tools are declared (runvm, runvm-vmm and
# runvm-init are static: no library dependencies).
depends=$(dpkg-deb -f "$deb" Depends)
for d in linux-image-cloud-amd64 cpio kmod lz4; do
  case ", $depends," in *", $d"[\ ,]*) ;; *) fail "Depends lacks $d: $depends" ;; esac
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/runvm/config.json ||
  fail "/etc/runvm/config.json is not a conffile"
ok "Depends: $depends"

# Files.
root=$tmp/root
dpkg-deb -x "$deb" "$root"
image=$(ls "$root"/usr/lib/runvm/runvm-initrd-*.img 2>/dev/null | head -n1)
rel=${image##*/runvm-initrd-}
rel=${rel%.img}
for f in usr/bin/runvm usr/libexec/runvm/runvm-vmm usr/libexec/runvm/runvm-init \
  usr/sbin/runvm-update-image etc/kernel/postinst.d/runvm etc/kernel/postrm.d/runvm \
  etc/runvm/config.json usr/share/man/man8/runvm.8.gz usr/share/doc/runvm/install.md \
  usr/share/doc/runvm/examples/containerd-config.toml; do
  [ -e "$root/$f" ] || fail "the package has no /$f"
done
[ -n "$image" ] || fail "the package has no guest image /usr/lib/runvm/runvm-initrd-<release>.img"
zcat "$root/usr/share/man/man8/runvm.8.gz" | grep -q 'runvm check' || fail "the man page lacks runvm check"
ok "files present; guest image for $rel"

# Unpacked anywhere, runvm finds its own runvm-vmm and image, and reads the package's config.
RUNVM_CONFIG=$root/etc/runvm/config.json "$root/usr/bin/runvm" --root "$tmp/state" check \
  --format json >"$tmp/check.json"
guest=$(tr -d '\n' <"$tmp/check.json" | sed 's/.*"detail": *"\([^"]*\)", *"name": *"guest", *"result": *"\([a-zA-Z]*\)".*/\2: \1/')
# (An image this node built in /var/lib/runvm would come first; the package's is next.)
case "$guest" in
  "ok: "*"image "*"/lib/runvm/runvm-initrd-$rel.img, runvm-vmm $root/usr/bin/../libexec/runvm/runvm-vmm"*) ok "runvm check (guest): $guest" ;;
  *) fail "runvm check did not find the package's own files: $guest" ;;
esac

# runvm-update-image and the kernel hooks: the same bytes as the packaged image (the
# cpio is reproducible), then gone again on kernel removal.
if [ -d "/lib/modules/$rel" ]; then
  export RUNVM_IMAGE_DIR=$tmp/var
  PATH=$root/usr/sbin:$PATH "$root/etc/kernel/postinst.d/runvm" "$rel" >"$tmp/hook.log" 2>&1 ||
    fail "postinst.d hook exited $?: $(cat "$tmp/hook.log")"
  if cmp -s "$image" "$tmp/var/runvm-initrd-$rel.img"; then
    ok "kernel postinst hook rebuilt runvm-initrd-$rel.img identical to the package's"
  else
    fail "the hook's image differs from the package's (or is missing): $(ls -l "$tmp/var" 2>&1) $(cat "$tmp/hook.log")"
  fi
  # With it, the kernel uncompressed and its stamp (runtime/vm/uncompressed_kernel.h).
  if [ -f "/boot/vmlinuz-$rel" ]; then
    [ "$(head -c 4 "$tmp/var/runvm-vmlinux-$rel" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] ||
      fail "the hook extracted no ELF kernel runvm-vmlinux-$rel: $(cat "$tmp/hook.log")"
    [ "$(head -n 1 "$tmp/var/runvm-vmlinux-$rel.source")" = "$(wc -c <"/boot/vmlinuz-$rel")" ] ||
      fail "runvm-vmlinux-$rel.source does not give the bzImage's size: $(cat "$tmp/var/runvm-vmlinux-$rel.source")"
    ok "kernel postinst hook extracted runvm-vmlinux-$rel ($(wc -c <"$tmp/var/runvm-vmlinux-$rel") bytes)"
  fi
  # The package's postinst (configure) builds an image for every installed cloud kernel.
  dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst >"$tmp/postinst"
  RUNVM_IMAGE_DIR=$tmp/var-postinst PATH=$root/usr/sbin:$PATH sh "$tmp/postinst" configure \
    >"$tmp/postinst.log" 2>&1 || fail "postinst configure exited $?: $(cat "$tmp/postinst.log")"
  for k in $(ls /lib/modules | grep -- '-cloud-amd64$'); do
    [ -f "$tmp/var-postinst/runvm-initrd-$k.img" ] || fail "postinst built no image for $k: $(cat "$tmp/postinst.log")"
  done
  ok "postinst configure built $(ls "$tmp/var-postinst" | grep -c "^runvm-initrd-") image(s)"
  PATH=$root/usr/sbin:$PATH "$root/etc/kernel/postrm.d/runvm" "$rel"
  [ -e "$tmp/var/runvm-initrd-$rel.img" ] && fail "postrm.d hook left the image"
  [ -e "$tmp/var/runvm-vmlinux-$rel" ] && fail "postrm.d hook left the uncompressed kernel"
  "$root/usr/sbin/runvm-update-image" --dir "$tmp/var" no-such-kernel >/dev/null 2>&1 &&
    fail "runvm-update-image accepted a kernel that is not installed"
  unset RUNVM_IMAGE_DIR
else
  echo "note: /lib/modules/$rel is not on this machine; hook rebuild not checked"
fi

# cmake --install (DESTDIR, prefix /usr) lays out the files the package holds.
DESTDIR=$tmp/destdir cmake --install "$tree" --prefix /usr >"$tmp/install.log" 2>&1 ||
  fail "cmake --install failed: $(tail -n 5 "$tmp/install.log")"
(cd "$root" && find . -type f | sort) >"$tmp/deb.list"
(cd "$tmp/destdir" && find . -type f | sort) >"$tmp/install.list"
if diff "$tmp/deb.list" "$tmp/install.list" >"$tmp/diff.txt"; then
  ok "cmake --install: the same $(wc -l <"$tmp/deb.list") files as the .deb"
else
  fail "cmake --install and the .deb differ: $(cat "$tmp/diff.txt")"
fi
# An existing config is kept.
echo '{"memory_mib": 1024}' >"$tmp/destdir/etc/runvm/config.json"
DESTDIR=$tmp/destdir cmake --install "$tree" --prefix /usr >/dev/null 2>&1
grep -q 1024 "$tmp/destdir/etc/runvm/config.json" || fail "cmake --install overwrote an existing config"

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "PASS"
