# Shared helpers of the e2e build scripts (sourced, bash).

# find_kernel FLAVOUR: newest /boot/vmlinuz-* of a Debian flavour ("cloud-amd64" or "amd64").
find_kernel() {
  local flavour=$1 k best=
  for k in /boot/vmlinuz-*-"$flavour"; do
    [ -e "$k" ] || continue
    # "amd64" must not match the cloud kernel.
    if [ "$flavour" = amd64 ] && [[ $k == *-cloud-amd64 ]]; then continue; fi
    best=$k
  done
  [ -n "$best" ] || { echo "no /boot/vmlinuz-*-$flavour (install linux-image-$flavour)" >&2; return 1; }
  echo "$best"
}

# kernel_version PATH: the version part of /boot/vmlinuz-<ver>.
kernel_version() { basename "$1" | sed 's/^vmlinuz-//'; }

# resolve_modules KVER MOD...: module files of MODs and all their dependencies, one per line,
# dependencies first (modinfo -F depends), each once; built-in modules are skipped.
resolve_modules() {
  local kver=$1; shift
  declare -A seen=()
  local out=()
  _visit() {
    local m=${1//-/_} f dep
    [ -n "${seen[$m]:-}" ] && return 0
    seen[$m]=1
    f=$(modinfo -k "$kver" -n "$m" 2>/dev/null) || { echo "module $m not found for $kver" >&2; return 1; }
    [ -f "$f" ] || return 0   # built in
    for dep in $(modinfo -k "$kver" -F depends "$m" | tr ',' ' '); do
      _visit "$dep" || return 1
    done
    out+=("$f")
  }
  local m
  for m in "$@"; do _visit "$m" || return 1; done
  printf '%s\n' "${out[@]}"
}

# install_busybox ROOT: busybox-static plus one symlink per applet in ROOT/bin.
install_busybox() {
  local root=$1 bb a
  bb=$(command -v busybox) || { echo "busybox not found (install busybox-static)" >&2; return 1; }
  if ldd "$bb" >/dev/null 2>&1; then echo "busybox at $bb is not static" >&2; return 1; fi
  mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
  cp "$bb" "$root/bin/busybox"
  for a in $("$bb" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
  done
}

# install_modules KVER ROOT DIR MOD...: copies the modules (with deps) to ROOT/DIR and writes
# ROOT/DIR/load-order with their file names in load order.
install_modules() {
  local kver=$1 root=$2 dir=$3; shift 3
  local files f
  files=$(resolve_modules "$kver" "$@") || return 1
  mkdir -p "$root/$dir"
  : >"$root/$dir/load-order"
  for f in $files; do
    case $f in
      *.ko) cp "$f" "$root/$dir/" ;;
      *.ko.xz) xz -dc "$f" >"$root/$dir/$(basename "${f%.xz}")"; f=${f%.xz} ;;
      *.ko.zst) zstd -qdc "$f" >"$root/$dir/$(basename "${f%.zst}")"; f=${f%.zst} ;;
      *) echo "unknown module format: $f" >&2; return 1 ;;
    esac
    basename "$f" >>"$root/$dir/load-order"
  done
}

# install_binary ROOT SRC DEST: copies an executable to ROOT/DEST plus, when it is dynamic, its
# shared libraries and the dynamic loader at the same absolute paths.
install_binary() {
  local root=$1 src=$2 dest=$3 lib
  mkdir -p "$root/$(dirname "$dest")"
  cp -L "$src" "$root/$dest"
  chmod 755 "$root/$dest"
  if ldd "$src" >/dev/null 2>&1; then
    for lib in $(ldd "$src" | awk '/=>/ && $3 ~ /^\// {print $3} /^\t\// {print $1}'); do
      [ -e "$root$lib" ] && continue
      mkdir -p "$root/$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    done
  fi
}

# make_cpio ROOT OUT: newc cpio.gz of ROOT, owned by root.
make_cpio() {
  local root=$1 out=$2
  (cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp"
  mv "$out.tmp" "$out"
}

# build_static_tool SRC OUT: compiles one of our small C helpers as a static binary.
build_static_tool() {
  local src=$1 out=$2 cc=${CC:-gcc}
  if [ ! -e "$out" ] || [ "$src" -nt "$out" ]; then
    "$cc" -O2 -static -Wall -Wextra -o "$out.tmp" "$src" && mv "$out.tmp" "$out"
  fi
}
