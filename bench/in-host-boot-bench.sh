# Runs inside the e2e test host (as /e2e/bench.sh): boots the same guest kernel + initramfs
# (e2e=boot: /init prints "E2E-GUEST-INIT", loads the virtio modules, reports, reboots) with
# runvm-vmm, QEMU -M microvm and QEMU -M q35, N times each, interleaved, and prints one line
#   E2E-BENCH vmm=<name> run=<i> status=<s> init_ms=<ms> exit_ms=<ms> maxrss_kb=<kB>
# per boot. Times are from spawning the VMM process (see tests/e2e/tools/vmrun.c).
# Kernel command line of the test host: bench.n=N bench.cpus=C bench.mem=MiB bench.kernel=cloud|generic
. /e2e/lib.sh
N=$(arg bench.n 3)
CPUS=$(arg bench.cpus 1)
MEM=$(arg bench.mem 256)
FL=$(arg bench.kernel cloud)
T=${E2E_TIMEOUT:-150}
vmms="microvm q35"
[ -x "$VMM" ] && vmms="runvm $vmms"
echo "E2E-BENCH config n=$N cpus=$CPUS mem=$MEM kernel=$FL vmms=$(echo $vmms | tr ' ' ',')"
i=1
while [ $i -le "$N" ]; do
  for v in $vmms; do
    d=/tmp/bench/$v-$i
    mkdir -p "$d"
    cd "$d"
    case $v in
      runvm) run_runvm "$FL" "$CPUS" "$MEM" boot >run.out 2>&1 ;;
      # microvm has no i8042: "reboot=k" would spin in the kernel's keyboard-reset loop
      # for minutes before falling back; a triple-fault reboot ends it at once.
      microvm) run_qemu microvm "$FL" "$CPUS" "$MEM" boot -- reboot=t >run.out 2>&1 ;;
      *) run_qemu "$v" "$FL" "$CPUS" "$MEM" boot >run.out 2>&1 ;;
    esac
    vmrun_parse
    ok=bad
    grep -q "E2E-GUEST-DONE mode=boot" console.log && [ "$STATUS" = exit:0 ] && ok=ok
    echo "E2E-BENCH vmm=$v run=$i status=$STATUS guest=$ok init_ms=$MARKER_MS exit_ms=$EXIT_MS maxrss_kb=$MAXRSS_KB"
    if [ $ok = bad ]; then
      tail -n 15 console.log | tr -d '\r' | sed "s/^/E2E-BENCH-LOG $v console: /"
      tail -n 10 vmm.log | sed "s/^/E2E-BENCH-LOG $v stderr: /"
    fi
  done
  i=$((i + 1))
done
