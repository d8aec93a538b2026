#!/usr/bin/env bash
# The main job for a newcomer: installs dependencies, builds runvm, and runs a demo
# container in a microVM. The machine's own /dev/kvm cannot boot Linux guests here
# (see tests/e2e/README.md), so the microVM part runs inside the QEMU TCG test host;
# set E2E_ACCEL=kvm on a machine with VT-x/AMD-V.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/packaging/install-deps.sh"
export BUILD_DIR=${BUILD_DIR:-$top/build}
# Warnings are errors in the test build (tests/run-all.sh); an optimised demo build must
# not stop on a newer compiler's new warning.
bash "$top/packaging/build.sh" -DRUNVM_WERROR=OFF
runvm=$BUILD_DIR/runtime/runvm

echo "== runvm --version"
"$runvm" --version

# A busybox bundle, as a user would make one.
demo=$BUILD_DIR/demo
rm -rf "$demo" && mkdir -p "$demo/bundle/rootfs/bin"
cp /bin/busybox "$demo/bundle/rootfs/bin/busybox"
for a in sh echo cat ls uname hostname id sleep true; do ln -s busybox "$demo/bundle/rootfs/bin/$a"; done
(cd "$demo/bundle" && "$runvm" spec)
echo "== runvm spec wrote $(wc -c <"$demo/bundle/config.json") bytes of config.json"
echo "== runvm features (first lines)"
"$runvm" features | head -n 12

echo "== runvm run, inside the test host (this boots the test host, then a microVM in it)"
bash "$top/tests/e2e/run-e2e.sh" "$BUILD_DIR" --only "${DEMO_SCENARIOS:-runvm_run}"
