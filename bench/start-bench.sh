#!/usr/bin/env bash
# Container start benchmark (not a test): in ONE run of the e2e test host (QEMU TCG + nested
# KVM, see tests/e2e), starts a busybox `echo` container N times with `runvm run` and the
# same command in QEMU -M microvm and q35, each with Debian's virtiofsd serving the same
# rootfs, and prints per peer the median time to the container's output and to the
# command's exit, the median of each step (runvm: its --debug start trace), the duration
# of each phase, and the memory of one idle container beyond its guest RAM.
# usage: bench/start-bench.sh BUILD_DIR [N]   env: START_MEM (guest MiB, 256), START_PEERS
#        (comma list, see bench/start/in-host-start-bench.sh) and run-e2e.sh's E2E_* variables.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: start-bench.sh BUILD_DIR [N]}
n=${2:-5}
build=$(cd "$build" && pwd)
out=$build/bench-start
mkdir -p "$out"
log=$out/start-bench.log
# The release binaries a user runs (static, no sanitizers) when the build made them: a
# sanitizer build's runvm spends a second per start in its own code.
if [ -z "${RUNVM_BIN:-}" ] && [ -x "$build/guest-image/runtime/runvm" ]; then
  export RUNVM_BIN=$build/guest-image/runtime/runvm RUNVM_VMM=$build/guest-image/vmm/runvm-vmm
fi
E2E_OUT=$out E2E_TIMEOUT=${E2E_TIMEOUT:-120} \
  E2E_APPEND="start.n=$n start.mem=${START_MEM:-256}${START_PEERS:+ start.peers=$START_PEERS}" \
  E2E_TOTAL_TIMEOUT=${E2E_TOTAL_TIMEOUT:-$((n * 5 * 120 + 900))} \
  "$top/tests/e2e/run-e2e.sh" "$build" --bench "$top/bench/start/in-host-start-bench.sh" --log "$log" --no-fail >"$out/run.out" 2>&1 || {
  cat "$out/run.out"; exit 1; }
grep -a -m1 '^E2E-BENCH start config' "$log" | tr -d '\r' || { echo "no benchmark output; see $log"; exit 1; }
grep -a '^E2E-BENCH-LOG' "$log" | tr -d '\r' | awk '!seen[$0]++' | head -n 40 || true
# The serial log can hold a line twice (console and log capture): count each once.
grep -a '^E2E-BENCH start peer=' "$log" | tr -d '\r' | awk '!seen[$0]++' | awk '
  function median(p, k,   cnt, i, j, t, a) {
    cnt = nv[p, k]
    for (i = 1; i <= cnt; i++) a[i] = val[p, k, i]
    for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    if (cnt == 0) return ""
    return (cnt % 2) ? a[(cnt + 1) / 2] : (a[cnt / 2] + a[cnt / 2 + 1]) / 2
  }
  function spread(p, k,   cnt, i, lo, hi) {
    cnt = nv[p, k]; lo = ""; hi = ""
    for (i = 1; i <= cnt; i++) { if (lo == "" || val[p, k, i] < lo) lo = val[p, k, i]; if (hi == "" || val[p, k, i] > hi) hi = val[p, k, i] }
    return cnt ? sprintf("%.0f-%.0f", lo, hi) : "-"
  }
  {
    delete f
    for (i = 3; i <= NF; i++) { n = split($i, kv, "="); if (n == 2) f[kv[1]] = kv[2] }
    p = f["peer"]
    if (!(p in seen)) { seen[p] = 1; peers[++np] = p }
    runs[p]++
    if (f["status"] != "exit:0" || f["out_ms"] == "" || f["out_ms"] < 0) { bad[p]++; next }
    for (k in f) {
      if (k == "peer" || k == "run" || k == "status" || f[k] == "") continue
      if (!((p, k) in nv)) { nv[p, k] = 0; keys[p, ++nk[p]] = k }
      val[p, k, ++nv[p, k]] = f[k] + 0
    }
  }
  END {
    printf "%-24s %4s %16s %16s %16s\n", "peer", "ok", "output (ms)", "exit (ms)", "spread exit"
    for (a = 1; a <= np; a++) {
      p = peers[a]
      printf "%-24s %2d/%-2d %16s %16s %16s\n", p, runs[p] - bad[p], runs[p], median(p, "out_ms"), median(p, "exit_ms"), spread(p, "exit_ms")
    }
    q = "qemu-microvm-virtiofsd"
    if (("runvm", "exit_ms") in nv && (q, "exit_ms") in nv)
      printf "runvm / %s: output %.2fx, exit %.2fx\n", q, median("runvm", "out_ms") / median(q, "out_ms"), median("runvm", "exit_ms") / median(q, "exit_ms")
    # Steps sorted by their median, with the phase since the previous one.
    for (a = 1; a <= np; a++) {
      p = peers[a]
      printf "\n%s: step, median ms from the spawn (phase since the previous step)\n", p
      ns = 0
      for (i = 1; i <= nk[p]; i++) { k = keys[p, i]; name[++ns] = k; med[ns] = median(p, k) }
      for (i = 1; i <= ns; i++) for (j = i + 1; j <= ns; j++) if (med[j] < med[i]) {
        t = med[i]; med[i] = med[j]; med[j] = t; t = name[i]; name[i] = name[j]; name[j] = t }
      prev = 0
      for (i = 1; i <= ns; i++) { printf "  %-16s %10.1f  (+%.1f)\n", name[i], med[i], med[i] - prev; prev = med[i] }
    }
  }'
echo
grep -a '^E2E-BENCH start-template' "$log" | tr -d '\r' | awk '!seen[$0]++' | sed 's/^E2E-BENCH //' || true
grep -a '^E2E-BENCH start-mem ' "$log" | tr -d '\r' | awk '!seen[$0]++' | sed 's/^E2E-BENCH start-mem //' || echo "no memory lines"
grep -a '^E2E-BENCH start-mem10 ' "$log" | tr -d '\r' | awk '!seen[$0]++' | sed 's/^E2E-BENCH start-mem10 /10 idle: /' | awk '
  { print; for (i = 1; i <= NF; i++) if ($i ~ /^pss_kb=/) { split($i, kv, "="); pss[$3] = kv[2] } }
  END { if (pss["peer=runvm"] && pss["peer=runvm-cold"]) printf "10 idle, PSS: snapshot / cold = %.2fx\n", pss["peer=runvm"] / pss["peer=runvm-cold"] }' || true
echo "full log: $log"
