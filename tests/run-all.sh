#!/usr/bin/env bash
# Runs every runvm test: installs dependencies, builds with ASan/UBSan, runs ctest
# (unit, CLI, KVM smoke, fuzz smoke and the end-to-end tests in the QEMU test host).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/packaging/install-deps.sh"
export BUILD_DIR=${BUILD_DIR:-$top/build-test}
# -O1 -g1: sanitizer builds compile much faster than -O2 -g and still catch what they catch.
BUILD_TYPE=Debug bash "$top/packaging/build.sh" -DRUNVM_SANITIZE=ON -DRUNVM_WERROR=ON \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DCMAKE_C_FLAGS_DEBUG="-O1 -g1"
# The .deb from the Release sub-build (issue 13): tests/packaging checks it on this machine
# and the e2e test host unpacks it for runvm_run.
if [ -f "$BUILD_DIR/guest-image/CPackConfig.cmake" ]; then
  bash "$top/packaging/build-deb.sh" "$BUILD_DIR/guest-image" "$BUILD_DIR"
  export RUNVM_REQUIRE_DEB=1
fi
cd "$BUILD_DIR"
# -j2: the end-to-end run (one TCG test host, mostly one core) overlaps the unit tests
# and the fuzz smoke run.
ctest --output-on-failure --timeout 1500 -j2 "$@"
