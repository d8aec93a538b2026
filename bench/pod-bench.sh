#!/usr/bin/env bash
# Pod benchmark (not a test; issue 14): in ONE run of the e2e test host, K idle containers
# as one pod (a CRI-annotated sandbox + K app containers in one microVM) and as K separate
# microVMs, R rounds; prints per (K, mode) the median time until all run and the median
# summed PSS of every runvm-vmm and runvm process, and the pod/separate ratios.
# usage: bench/pod-bench.sh BUILD_DIR [R]   env: POD_K (default 1,3), POD_MEM (guest MiB,
#        256) and run-e2e.sh's E2E_* variables.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: pod-bench.sh BUILD_DIR [R]}
r=${2:-3}
build=$(cd "$build" && pwd)
out=$build/bench-pod
mkdir -p "$out"
log=$out/pod-bench.log
E2E_OUT=$out E2E_TIMEOUT=${E2E_TIMEOUT:-300} \
  E2E_APPEND="pod.k=${POD_K:-1,3} pod.runs=$r pod.mem=${POD_MEM:-256}" \
  E2E_TOTAL_TIMEOUT=${E2E_TOTAL_TIMEOUT:-$((r * 8 * 120 + 600))} \
  "$top/tests/e2e/run-e2e.sh" "$build" --bench "$top/bench/pod/in-host-pod-bench.sh" --log "$log" --no-fail >"$out/run.out" 2>&1 || {
  cat "$out/run.out"; exit 1; }
grep -a -m1 '^E2E-BENCH pod config' "$log" | tr -d '\r' || { echo "no benchmark output; see $log"; exit 1; }
grep -a '^E2E-BENCH-LOG' "$log" | tr -d '\r' | awk '!seen[$0]++' | head -n 20 || true
grep -a '^E2E-BENCH pod mode=' "$log" | tr -d '\r' | awk '!seen[$0]++' | awk '
  function median(key,   n, i, j, t, a) {
    n = cnt[key]
    for (i = 1; i <= n; i++) a[i] = v[key, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n ? ((n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : 0
  }
  {
    delete f
    for (i = 3; i <= NF; i++) { if (split($i, kv, "=") == 2) f[kv[1]] = kv[2] }
    if (!("start_ms" in f)) { failed[f["mode"] " k=" f["k"]]++; next }
    key = f["mode"] SUBSEP f["k"]
    if (!(f["k"] in ks)) { ks[f["k"]] = 1; order[++nk] = f["k"] }
    n = ++cnt[key "t"]; v[key "t", n] = f["start_ms"]
    n = ++cnt[key "m"]; v[key "m", n] = f["pss_kb"]
    vmms[key] = f["vmms"]
  }
  END {
    printf "%-10s %3s %6s %14s %14s\n", "mode", "k", "vmms", "start (ms)", "PSS (MiB)"
    for (i = 1; i <= nk; i++) for (m = 1; m <= 2; m++) {
      mode = m == 1 ? "pod" : "separate"; key = mode SUBSEP order[i]
      printf "%-10s %3s %6s %14.0f %14.1f\n", mode, order[i], vmms[key], median(key "t"), median(key "m") / 1024
    }
    for (i = 1; i <= nk; i++) {
      p = "pod" SUBSEP order[i]; s = "separate" SUBSEP order[i]
      if (median(s "t") > 0 && median(s "m") > 0)
        printf "k=%s pod / separate: start %.2fx, memory %.2fx\n", order[i], median(p "t") / median(s "t"), median(p "m") / median(s "m")
    }
    for (k in failed) printf "failed rounds: %s x%d\n", k, failed[k]
  }'
