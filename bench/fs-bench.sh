#!/usr/bin/env bash
# Shared-filesystem benchmark (not a test): in ONE run of the e2e test host (QEMU TCG + nested
# KVM, see tests/e2e), measures sequential write/read MiB/s on one file, 4 KiB random-read
# IOPS and create+stat+unlink per second natively on the test host's tmpfs, in a guest on a
# runvm-vmm virtio-fs share, on a runvm-vmm 9p share and on a QEMU -virtfs 9p share (the
# peer for the 9p numbers), and prints them with ratios to native.
# usage: bench/fs-bench.sh BUILD_DIR     env: FSBENCH_MIB (256), FSBENCH_RAND (4000),
#        FSBENCH_META (1000), FSBENCH_MEM (guest MiB, 512), FSBENCH_PEERS (comma list, default
#        runvm-virtiofs,runvm-9p,qemu-9p), FSBENCH_RA_KB (virtio-fs guest readahead, KiB),
#        and run-e2e.sh's E2E_* variables.
# Caches are dropped (guest and host) before each read phase; the shares live on the test
# host's tmpfs, so "native" reads are page-cache reads.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: fs-bench.sh BUILD_DIR}
build=$(cd "$build" && pwd)
out=$build/bench-fs
mkdir -p "$out"
log=$out/fs-bench.log
E2E_OUT=$out E2E_TIMEOUT=${E2E_TIMEOUT:-900} \
  E2E_APPEND="fsbench.mib=${FSBENCH_MIB:-256} fsbench.rand=${FSBENCH_RAND:-4000} fsbench.meta=${FSBENCH_META:-1000} fsbench.mem=${FSBENCH_MEM:-512}${FSBENCH_PEERS:+ fsbench.peers=$FSBENCH_PEERS}${FSBENCH_RA_KB:+ fsbench.ra_kb=$FSBENCH_RA_KB}" \
  E2E_TOTAL_TIMEOUT=${E2E_TOTAL_TIMEOUT:-3600} \
  "$top/tests/e2e/run-e2e.sh" "$build" --bench "$top/bench/fs/in-host-fs-bench.sh" --log "$log" --no-fail >"$out/run.out" 2>&1 || {
  cat "$out/run.out"; exit 1; }
grep -a '^E2E-BENCH fs config' "$log" || { echo "no benchmark output; see $log"; exit 1; }
grep -a '^E2E-BENCH-LOG' "$log" | head -n 30 || true
grep -a '^E2E-BENCH fs peer=' "$log" | tr -d '\r' | awk '
  {
    p = ""; delete f
    for (i = 3; i <= NF; i++) { n = split($i, kv, "="); if (n == 2) f[kv[1]] = kv[2] }
    split($3, pk, "="); p = pk[2]; order[++np] = p
    w[p] = f["write_mibs"]; r[p] = f["read_mibs"]; io[p] = f["iops"]; md[p] = f["ops"]; ok[p] = f["read_bytes_ok"]
  }
  function ratio(a, b) { return (b > 0 && a != "") ? sprintf("%.3f", a / b) : "-" }
  END {
    printf "%-16s %12s %12s %12s %14s\n", "peer", "write MiB/s", "read MiB/s", "4K rand IOPS", "create+stat+rm/s"
    for (i = 1; i <= np; i++) { p = order[i]
      printf "%-16s %12s %12s %12s %14s\n", p, w[p] == "" ? "failed" : w[p], r[p], io[p], md[p] }
    print "ratios to native:"
    for (i = 1; i <= np; i++) { p = order[i]; if (p == "native" || w[p] == "") continue
      printf "%-16s %12s %12s %12s %14s\n", p, ratio(w[p], w["native"]), ratio(r[p], r["native"]), ratio(io[p], io["native"]), ratio(md[p], md["native"]) }
    if (w["runvm-9p"] != "" && w["qemu-9p"] != "")
      printf "runvm-9p/qemu-9p %12s %12s %12s %14s\n", ratio(w["runvm-9p"], w["qemu-9p"]), ratio(r["runvm-9p"], r["qemu-9p"]), ratio(io["runvm-9p"], io["qemu-9p"]), ratio(md["runvm-9p"], md["qemu-9p"])
    print "(inside the QEMU TCG test host with nested KVM; native = the test host itself on tmpfs)"
  }'
