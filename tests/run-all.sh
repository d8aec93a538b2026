#!/usr/bin/env bash
# Runs every runvm test: installs dependencies, builds with ASan/UBSan, runs ctest
# (unit, CLI, KVM smoke, fuzz smoke and the end-to-end tests in the QEMU test host).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/packaging/install-deps.sh"
export BUILD_DIR=${BUILD_DIR:-$top/build-test}
bash "$top/packaging/build.sh" -DRUNVM_SANITIZE=ON
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 1500 "$@"
