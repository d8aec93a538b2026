#!/usr/bin/env bash
# Builds the runvm .deb from a configured non-sanitized build directory (default
# build/): the binaries, the guest image, the man page, then `cpack -G DEB`.
# usage: packaging/build-deb.sh [BUILD_DIR [OUTPUT_DIR]]   prints the .deb's path
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
out=${2:-$build}
mkdir -p "$out" && out=$(cd "$out" && pwd)
grep -q 'RUNVM_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" &&
  { echo "build-deb: $build is a sanitizer build; package a Release one" >&2; exit 1; }
targets="runvm runvm-vmm runvm-init runvm-initramfs"
grep -q '^RUNVM_HELP2MAN:FILEPATH=/' "$build/CMakeCache.txt" && targets="$targets runvm-man"
cmake --build "$build" --target $targets -j"$(nproc)" >/dev/null
(cd "$out" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out/_cpack" >/dev/null)
deb=$(ls -t "$out"/_cpack/runvm_*.deb | head -n1)
mv "$deb" "$out/"
rm -rf "$out/_cpack"
echo "$out/$(basename "$deb")"
