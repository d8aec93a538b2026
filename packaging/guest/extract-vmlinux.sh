#!/bin/sh
# extract-vmlinux.sh BZIMAGE OUTPUT: writes the uncompressed ELF kernel inside a bzImage.
# runvm-vmm boots either; the ELF one skips the guest's own decompression and relocation,
# the longest part of a cold start in a nested guest (docs/performance.md). Tried in turn:
# each compressed stream a bzImage may hold (gzip, xz, lz4, zstd, bzip2, lzma), found by its
# magic bytes; the first whose output is an ELF file wins. Written to OUTPUT.tmp, renamed,
# with OUTPUT.source: the bzImage's size in bytes, then its setup header's version string.
# runvm boots OUTPUT only while both still match that bzImage
# (runtime/vm/uncompressed_kernel.h). Exit 1 when no kernel is found (runvm then keeps
# booting the bzImage). An OUTPUT whose stamp already matches is left as it is.
set -eu
img=${1:?usage: extract-vmlinux.sh BZIMAGE OUTPUT}
out=${2:?usage: extract-vmlinux.sh BZIMAGE OUTPUT}
[ -r "$img" ] || { echo "extract-vmlinux: cannot read $img" >&2; exit 1; }
tmp="$out.tmp"
trap 'rm -f "$tmp" "$out.source.tmp"' EXIT
# The bzImage's version string: setup header field kernel_version (u16 at 0x20E) points
# 0x200 bytes before it.
version_of() {
  off=$(od -An -tu2 -j 526 -N 2 "$1" | tr -d ' ')
  [ -n "$off" ] && [ "$off" -gt 0 ] || return 1
  dd if="$1" bs=1 skip=$((off + 512)) count=256 2>/dev/null | tr '\0' '\n' | head -n 1
}
is_elf() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }
stamp=$({ wc -c <"$img" | tr -d ' '; version_of "$img"; })
# Already extracted from this very bzImage: nothing to do.
if [ -f "$out" ] && [ -f "$out.source" ] && [ "$(cat "$out.source")" = "$stamp" ]; then
  exit 0
fi
# magic (grep -P), decompressor
for fmt in '\x1f\x8b\x08:gzip -dc' '\xfd\x37\x7a\x58\x5a\x00:xz -dc' '\x02\x21\x4c\x18:lz4 -dc' \
  '\x28\xb5\x2f\xfd:zstd -dc' 'BZh:bzip2 -dc' '\x5d\x00\x00\x00:xz --format=lzma -dc'; do
  magic=${fmt%%:*} tool=${fmt#*:}
  command -v "${tool%% *}" >/dev/null 2>&1 || continue
  for pos in $(LC_ALL=C grep -aboP "$magic" "$img" 2>/dev/null | cut -d: -f1 | head -n 8); do
    # The stream ends before the bzImage does: a decompressor complains about the rest.
    tail -c +"$((pos + 1))" "$img" | $tool >"$tmp" 2>/dev/null || true
    if [ -s "$tmp" ] && is_elf "$tmp"; then
      # The kernel first, its stamp last: in between, an old stamp names an older
      # bzImage (or this one, when nothing changed), never a kernel it does not describe.
      printf '%s\n' "$stamp" >"$out.source.tmp"
      mv "$tmp" "$out"
      mv "$out.source.tmp" "$out.source"
      trap - EXIT
      exit 0
    fi
  done
done
echo "extract-vmlinux: no compressed ELF kernel found in $img" >&2
exit 1
