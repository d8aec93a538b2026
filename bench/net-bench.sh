#!/usr/bin/env bash
# Network benchmark (not a test): in ONE run of the e2e test host (QEMU TCG + nested KVM, see
# tests/e2e), TCP throughput both ways and 1-byte request/response latency from the test host
# to a server behind a veth pair: in the netns itself (veth, the runc baseline), in a
# runvm-vmm guest, in a QEMU virtio-net-pci guest (userspace, vhost=off) on the same tap +
# tc redirect, and in a container started by `runvm run`. Rounds start, measure and stop
# every peer in turn; prints medians over the rounds with ratios to the veth baseline and
# runvm-vmm/qemu. See bench/net/in-host-net-bench.sh.
# usage: bench/net-bench.sh BUILD_DIR   env: NETBENCH_SECS (5, per stream), NETBENCH_RR (2000
#        round trips), NETBENCH_ROUNDS (3), NETBENCH_MEM (guest MiB, 256), NETBENCH_PEERS (comma list, default
#        veth,runvm-vmm,qemu,runvm), E2E_SMP (test-host CPUs, 2) and run-e2e.sh's E2E_*.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: net-bench.sh BUILD_DIR}
build=$(cd "$build" && pwd)
out=$build/bench-net
mkdir -p "$out"
log=$out/net-bench.log
E2E_OUT=$out E2E_TIMEOUT=${E2E_TIMEOUT:-600} E2E_SMP=${E2E_SMP:-2} \
  E2E_APPEND="netbench.secs=${NETBENCH_SECS:-5} netbench.rr=${NETBENCH_RR:-2000} netbench.rounds=${NETBENCH_ROUNDS:-3} netbench.mem=${NETBENCH_MEM:-256}${NETBENCH_PEERS:+ netbench.peers=$NETBENCH_PEERS}" \
  E2E_TOTAL_TIMEOUT=${E2E_TOTAL_TIMEOUT:-3600} \
  "$top/tests/e2e/run-e2e.sh" "$build" --bench "$top/bench/net/in-host-net-bench.sh" --log "$log" --no-fail >"$out/run.out" 2>&1 || {
  cat "$out/run.out"; exit 1; }
grep -a '^E2E-BENCH net config' "$log" | tr -d '\r' || { echo "no benchmark output; see $log"; exit 1; }
grep -a '^E2E-BENCH-LOG' "$log" | tr -d '\r' | head -n 40 || true
grep -a '^E2E-BENCH net .*failed' "$log" | tr -d '\r' || true
# Medians over the rounds, per peer and metric.
grep -a '^E2E-BENCH net round=' "$log" | grep -av ' failed' | tr -d '\r' | awk '
  function median(list, n,   a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    if (n == 0) return ""
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function ratio(a, b) { return (b > 0 && a != "") ? sprintf("%.3f", a / b) : "-" }
  {
    delete f
    for (i = 3; i <= NF; i++) { n = split($i, kv, "="); if (n == 2) f[kv[1]] = kv[2] }
    p = f["peer"]; if (!(p in seen)) { seen[p] = 1; order[++np] = p }
    rounds[p]++
    for (k in f) if (k ~ /_(mbit|us)$/ && f[k] != "") v[p, k] = v[p, k] " " f[k]
  }
  END {
    split("send_mbit recv_mbit rr_mean_us rr_p50_us rr_p99_us", keys, " ")
    for (i = 1; i <= np; i++) for (k in keys) m[order[i], keys[k]] = median(v[order[i], keys[k]])
    printf "%-10s %6s %14s %15s %11s %11s %11s\n", "peer", "rounds", "to-guest Mb/s", "from-guest Mb/s", "rr mean us", "rr p50 us", "rr p99 us"
    for (i = 1; i <= np; i++) { p = order[i]
      printf "%-10s %6d %14s %15s %11s %11s %11s\n", p, rounds[p], m[p, "send_mbit"], m[p, "recv_mbit"], m[p, "rr_mean_us"], m[p, "rr_p50_us"], m[p, "rr_p99_us"] }
    print "ratios to veth (throughput: peer/veth; latency: veth/peer; higher is better):"
    for (i = 1; i <= np; i++) { p = order[i]; if (p == "veth") continue
      printf "%-10s %6s %14s %15s %11s %11s %11s\n", p, "", ratio(m[p, "send_mbit"], m["veth", "send_mbit"]), ratio(m[p, "recv_mbit"], m["veth", "recv_mbit"]), ratio(m["veth", "rr_mean_us"], m[p, "rr_mean_us"]), ratio(m["veth", "rr_p50_us"], m[p, "rr_p50_us"]), ratio(m["veth", "rr_p99_us"], m[p, "rr_p99_us"]) }
    if (("runvm-vmm" in seen) && ("qemu" in seen))
      printf "%-10s %6s %14s %15s %11s %11s %11s\n", "vmm/qemu", "", ratio(m["runvm-vmm", "send_mbit"], m["qemu", "send_mbit"]), ratio(m["runvm-vmm", "recv_mbit"], m["qemu", "recv_mbit"]), ratio(m["qemu", "rr_mean_us"], m["runvm-vmm", "rr_mean_us"]), ratio(m["qemu", "rr_p50_us"], m["runvm-vmm", "rr_p50_us"]), ratio(m["qemu", "rr_p99_us"], m["runvm-vmm", "rr_p99_us"])
    print "(medians over the rounds; inside the QEMU TCG test host with nested KVM; the client runs on the test host)"
  }'
