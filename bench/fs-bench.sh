#!/usr/bin/env bash
# Shared-filesystem benchmark (not a test): in ONE run of the e2e test host (QEMU TCG + nested
# KVM, see tests/e2e), measures sequential write/read MiB/s on one file, 4 KiB random-read
# IOPS, create+stat+unlink per second and three small-file workloads (untar, find|stat, a
# build's open/read/close) natively on the test host's tmpfs and in guests: runvm-vmm's
# virtio-fs against QEMU + Debian's virtiofsd (cache=auto and always), runvm-vmm's 9p against
# QEMU's -virtfs 9p. Prints them with ratios to native and runvm/peer ratios.
# usage: bench/fs-bench.sh BUILD_DIR     env: FSBENCH_MIB (256), FSBENCH_RAND (4000),
#        FSBENCH_META (1000), FSBENCH_TREE (files of the untar/stat/build workloads, 5000),
#        FSBENCH_MEM (guest MiB, 512), FSBENCH_PEERS (comma list; the peers and the default are
#        in bench/fs/in-host-fs-bench.sh), FSBENCH_RA_KB (virtio-fs guest readahead, KiB),
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
  E2E_APPEND="fsbench.mib=${FSBENCH_MIB:-256} fsbench.rand=${FSBENCH_RAND:-4000} fsbench.meta=${FSBENCH_META:-1000} fsbench.tree=${FSBENCH_TREE:-5000} fsbench.mem=${FSBENCH_MEM:-512}${FSBENCH_PEERS:+ fsbench.peers=$FSBENCH_PEERS}${FSBENCH_RA_KB:+ fsbench.ra_kb=$FSBENCH_RA_KB}" \
  E2E_TOTAL_TIMEOUT=${E2E_TOTAL_TIMEOUT:-3600} \
  "$top/tests/e2e/run-e2e.sh" "$build" --bench "$top/bench/fs/in-host-fs-bench.sh" --log "$log" --no-fail >"$out/run.out" 2>&1 || {
  cat "$out/run.out"; exit 1; }
grep -a '^E2E-BENCH fs config' "$log" || { echo "no benchmark output; see $log"; exit 1; }
grep -a '^E2E-BENCH-LOG' "$log" | head -n 30 || true
grep -a '^E2E-BENCH fs peer=' "$log" | tr -d '\r' | awk '
  BEGIN { nk = split("write_mibs read_mibs iops ops untar_fps stat_fps build_ops", key, " ")
          split("write_MiB/s read_MiB/s 4K_IOPS create+rm/s untar_f/s stat_f/s build_op/s", head, " ") }
  {
    delete f
    for (i = 3; i <= NF; i++) { n = split($i, kv, "="); if (n == 2) f[kv[1]] = kv[2] }
    split($3, pk, "="); p = pk[2]; order[++np] = p
    for (k = 1; k <= nk; k++) v[p, k] = f[key[k]]
    failed[p] = (f["write_mibs"] == "")
  }
  function ratio(a, b) { return (b > 0 && a != "") ? sprintf("%.3f", a / b) : "-" }
  function row(label, p, q,   k) {
    printf "%-60s", label
    for (k = 1; k <= nk; k++) printf " %12s", q == "" ? (v[p, k] == "" ? "-" : v[p, k]) : ratio(v[p, k], v[q, k])
    printf "\n"
  }
  # The peer a runvm share is compared with: the same cache mode of virtiofsd (the VMM
  # default is auto), 9p with QEMU 9p.
  function peer_of(p,   m) {
    if (p == "runvm-9p") return "qemu-9p"
    if (p == "runvm-virtiofs") return "qemu-virtiofsd-auto"
    if (p ~ /^runvm-virtiofs-/) { m = p; sub(/^runvm-virtiofs-/, "", m); return "qemu-virtiofsd-" m }
    return ""
  }
  END {
    printf "%-60s", "peer"; for (k = 1; k <= nk; k++) printf " %12s", head[k]; printf "\n"
    for (i = 1; i <= np; i++) { p = order[i]; if (failed[p]) printf "%-60s failed\n", p; else row(p, p, "") }
    print "ratios to native:"
    for (i = 1; i <= np; i++) { p = order[i]; if (p != "native" && !failed[p]) row(p, p, "native") }
    print "runvm / its QEMU peer (same cache mode):"
    for (i = 1; i <= np; i++) { p = order[i]; q = peer_of(p)
      if (q != "" && (q in failed) && !failed[p] && !failed[q]) row(p "/" q, p, q) }
    print "(inside the QEMU TCG test host with nested KVM; native = the test host itself on tmpfs)"
  }'
