# Runs inside the e2e test host (as /e2e/bench.sh, see bench/pod-bench.sh): K idle busybox
# containers (`sleep`) started two ways, R rounds each, interleaved:
#   pod      a CRI-annotated sandbox plus K app containers joining its microVM (runtime/pod)
#   separate K standalone containers, one microVM each
# and prints one line per round:
#   E2E-BENCH pod mode=<pod|separate> k=<K> run=<i> start_ms=<ms> pss_kb=<kB> vmms=<n>
# start = from the first `runvm create` until the last container is running (all created and
# started one after the other, as containerd does); pss = the summed PSS of every runvm-vmm
# and runvm process (VMMs with the guest RAM they touched, and the supervisors), 3 s after.
# Test-host command line: pod.k=1,3 pod.runs=R pod.mem=MiB
. /e2e/lib.sh
KS=$(arg pod.k 1,3 | tr , ' ')
R=$(arg pod.runs 3)
MEM=$(arg pod.mem 256)
T=${E2E_TIMEOUT:-300}
top=/tmp/podbench
mkdir -p $top
echo "E2E-BENCH pod config k=$(echo $KS | tr ' ' ,) runs=$R mem=$MEM"
# annotate BUNDLE JSON_MEMBERS: annotations, with every VM of the same size.
annotate() {
  sed -i 's|"ociVersion": "\([^"]*\)",|"ociVersion": "\1", "annotations": {"io.runvm.vm.memory_mib": "'"$MEM"'", "io.runvm.vm.vcpus": "1"'"$2"'},|' "$1/config.json"
  grep -q memory_mib "$1/config.json" || fail "could not annotate $1"
}
make_bundle $top/sandbox '["sleep","100000"]'
annotate $top/sandbox ', "io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-id": "pb"'
# One bundle per member, as CRI gives each container its own snapshot: two members on the same
# host directory would alias one guest inode (runtime/pod/README.md).
for j in $(echo $KS | tr ' ' '\n' | sort -n | tail -n 1 | xargs seq 1); do
  make_bundle $top/member$j '["sleep","100000"]'
  annotate $top/member$j ', "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.sandbox-id": "pb"'
done
make_bundle $top/alone '["sleep","100000"]'
annotate $top/alone ''
# busybox date has no %N: /proc/uptime gives 10 ms steps.
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
pss_kb() {
  total=0
  for d in /proc/[0-9]*; do
    case $(readlink "$d/exe" 2>/dev/null) in
      */runvm-vmm | */runvm) ;;
      *) continue ;;
    esac
    v=$(awk '/^Pss:/ { s += $2 } END { print s + 0 }' "$d/smaps_rollup" 2>/dev/null)
    total=$((total + ${v:-0}))
  done
  echo $total
}
up() {  # up BUNDLE ID
  timeout "$T" runvm --root "$ROOT" create -b "$1" "$2" >/dev/null 2>"$top/$2.err" </dev/null &&
    timeout "$T" runvm --root "$ROOT" start "$2" 2>>"$top/$2.err" ||
    { echo "E2E-BENCH-LOG $2: $(tail -c 400 "$top/$2.err")"; return 1; }
}
down_all() {
  for c in $(runvm --root "$ROOT" list -q); do runvm --root "$ROOT" delete -f "$c" >/dev/null 2>&1; done
  i=0
  while [ "$(count_vmms)" != 0 ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
}
run=1
while [ $run -le "$R" ]; do
  for k in $KS; do
    for mode in pod separate; do
      t0=$(now_ms)
      ok=1
      if [ $mode = pod ]; then
        up $top/sandbox pb || ok=0
        j=1
        while [ $ok = 1 ] && [ $j -le "$k" ]; do up $top/member$j m$j || ok=0; j=$((j + 1)); done
      else
        j=1
        while [ $ok = 1 ] && [ $j -le "$k" ]; do up $top/alone s$j || ok=0; j=$((j + 1)); done
      fi
      t1=$(now_ms)
      sleep 3
      if [ $ok = 1 ]; then
        echo "E2E-BENCH pod mode=$mode k=$k run=$run start_ms=$((t1 - t0)) pss_kb=$(pss_kb) vmms=$(count_vmms)"
      else
        echo "E2E-BENCH pod mode=$mode k=$k run=$run failed"
      fi
      down_all
    done
  done
  run=$((run + 1))
done
echo "E2E-BENCH pod done"
