#!/usr/bin/env bash
# Boot benchmark (not a test): in ONE run of the e2e test host (QEMU TCG + nested KVM, see
# tests/e2e), boots the same guest kernel and initramfs N times each with runvm-vmm,
# QEMU -M microvm and QEMU -M q35 (same memory and vCPUs) and prints, per VMM, the median
# time from process start to the guest's first /init line and to VM exit, and the VMM
# process's peak RSS (wait4 ru_maxrss: includes the guest RAM the VMM's mapping touched),
# with ratios runvm/QEMU.
# usage: bench/boot-bench.sh BUILD_DIR [N]      env: BENCH_CPUS (1), BENCH_MEM (256),
#        BENCH_KERNEL (cloud|generic), and run-e2e.sh's E2E_* variables.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: boot-bench.sh BUILD_DIR [N]}
n=${2:-3}
build=$(cd "$build" && pwd)
out=$build/bench
mkdir -p "$out"
log=$out/boot-bench.log
E2E_OUT=$out E2E_APPEND="bench.n=$n bench.cpus=${BENCH_CPUS:-1} bench.mem=${BENCH_MEM:-256} bench.kernel=${BENCH_KERNEL:-cloud}" \
  E2E_TOTAL_TIMEOUT=${E2E_TOTAL_TIMEOUT:-$((n * 3 * 200 + 120))} \
  "$top/tests/e2e/run-e2e.sh" "$build" --bench "$top/bench/in-host-boot-bench.sh" --log "$log" --no-fail >"$out/run.out" 2>&1 || {
  cat "$out/run.out"; exit 1; }
grep -a '^E2E-BENCH config' "$log" || { echo "no benchmark output; see $log"; exit 1; }
grep -a '^E2E-BENCH vmm=' "$log" | awk '
  function median(arr, cnt,   i, j, t) {
    for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
    if (cnt == 0) return -1
    return (cnt % 2) ? arr[(cnt + 1) / 2] : (arr[cnt / 2] + arr[cnt / 2 + 1]) / 2
  }
  {
    delete f
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    v = f["vmm"]; runs[v]++
    if (!(v in seen)) { seen[v] = 1; order[++nv] = v }
    if (f["guest"] == "ok") {
      k = ++good[v]; init[v, k] = f["init_ms"]; ex[v, k] = f["exit_ms"]; rss[v, k] = f["maxrss_kb"]
    }
  }
  END {
    printf "%-8s %5s %14s %14s %14s\n", "vmm", "ok", "to /init (ms)", "to exit (ms)", "peak RSS (MiB)"
    for (a = 1; a <= nv; a++) {
      v = order[a]; c = good[v] + 0
      for (k = 1; k <= c; k++) { x[k] = init[v, k] }; mi[v] = median(x, c)
      for (k = 1; k <= c; k++) { x[k] = ex[v, k] }; me[v] = median(x, c)
      for (k = 1; k <= c; k++) { x[k] = rss[v, k] }; mr[v] = median(x, c)
      printf "%-8s %2d/%-2d %14.0f %14.0f %14.1f\n", v, c, runs[v], mi[v], me[v], mr[v] / 1024
    }
    if ("runvm" in seen && good["runvm"] > 0) {
      for (a = 1; a <= nv; a++) {
        v = order[a]; if (v == "runvm" || good[v] == 0) continue
        printf "runvm/%-8s  /init %.2fx   exit %.2fx   peak RSS %.2fx\n", v, mi["runvm"] / mi[v], me["runvm"] / me[v], mr["runvm"] / mr[v]
      }
    } else {
      print "no successful runvm-vmm boots: no ratios"
    }
    print "(medians over successful boots; times from VMM process start, inside the TCG test host)"
  }'
