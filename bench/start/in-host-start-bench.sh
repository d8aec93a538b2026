# Runs inside the e2e test host (as /e2e/bench.sh, see bench/start-bench.sh): starts the same
# busybox container (`echo hello-from-start-bench`) N times per peer, interleaved, and prints
# one line per start:
#   E2E-BENCH start peer=<p> run=<i> status=<s> out_ms=<ms> exit_ms=<ms> [<step>=<ms> ...]
# All times in ms from spawning the command (tests/e2e/tools/vmrun.c): out = the container's
# line appeared, exit = the command exited. Steps:
#   runvm                  `runvm --debug run`'s start trace (runtime/vm/start_trace.h), whose
#                          origin is the run command's start, a few ms after the spawn; the VM
#                          starts from the template VM's snapshot (runtime/vm/vm_template.h),
#                          built by one warm-up run first (its time: E2E-BENCH start-template)
#   runvm-cold             the same with "snapshots": false: the VM boots its kernel
#   runvm-bzimage          the same, booting the compressed bzImage rather than the
#                          uncompressed copy beside the guest image (uncompressed_kernel=false)
#   qemu-microvm-virtiofsd QEMU -M microvm,pcie=on or q35, with vhost-user-fs-pci
#   qemu-q35-virtiofsd     (1024-entry queue), each with Debian's virtiofsd started first,
#                          booting the same cloud kernel with the e2e guest's init (e2e=start):
#                          load its modules, mount the virtio-fs root, chroot, run the command.
#                          Steps: when the guest's console lines arrived (vmrun -s).
# Then, per peer, the memory of one idle container (its process sleeps), 3 s after it started:
#   E2E-BENCH start-mem peer=<p> vmm_rss_kb=.. guest_ram_rss_kb=.. overhead_kb=.. helper_kb=..
# overhead = the VMM's RSS minus its largest mapping (guest RAM); helper = the RSS of the
# runvm supervisor, or of virtiofsd without its own mapping of guest RAM.
# Then ten idle containers at once, from the snapshot and booted, and the sum of their
# VMMs' proportional set sizes (pages of the template's memory file count once, shared):
#   E2E-BENCH start-mem10 peer=<runvm|runvm-cold> vms=<n> pss_kb=.. rss_kb=..
# Test-host command line: start.n=N start.mem=MiB start.peers=a,b
. /e2e/lib.sh
N=$(arg start.n 5)
MEM=$(arg start.mem 256)
PEERS=$(arg start.peers runvm,runvm-cold,runvm-bzimage,qemu-microvm-virtiofsd,qemu-q35-virtiofsd | tr , ' ')
T=${E2E_TIMEOUT:-300}
top=/tmp/startbench
mkdir -p $top
echo "E2E-BENCH start config n=$N mem=$MEM cpus=1 peers=$(echo $PEERS | tr ' ' ,)"
# size_vm BUNDLE ["more annotations"]: the same memory and one vCPU as the QEMU peers.
size_vm() {
  sed -i 's|"ociVersion": "\([^"]*\)",|"ociVersion": "\1", "annotations": {"io.runvm.vm.memory_mib": "'"$MEM"'", "io.runvm.vm.vcpus": "1"'"${2:-}"'},|' "$1/config.json"
  grep -q memory_mib "$1/config.json" || fail "could not size the VM in $1/config.json"
}
make_bundle $top/hello '["/bin/echo","hello-from-start-bench"]'
size_vm $top/hello
make_bundle $top/hello-bz '["/bin/echo","hello-from-start-bench"]'
size_vm $top/hello-bz ', "io.runvm.vm.uncompressed_kernel": "false"'
make_bundle $top/idle '["/bin/sleep","600"]'
size_vm $top/idle
# "snapshots": false in front of the system config's keys (busybox sed: head/tail).
if [ -f /etc/runvm/config.json ]; then
  { echo '{"snapshots": false,'; tail -c +2 /etc/runvm/config.json; } >$top/cold.json
else
  echo '{"snapshots": false}' >$top/cold.json
fi
# The template VM for this shape, built once before any timed run.
w0=$(date +%s)
runvm --root "$ROOT" run -b $top/hello warmup >$top/warmup.out 2>&1 </dev/null
wrc=$?
echo "E2E-BENCH start-template build_and_first_run_s=$(($(date +%s) - w0)) status=$wrc"

# qemu_script MACHINE CMD: virtiofsd on the hello bundle's rootfs, then QEMU, as one shell
# script, so that vmrun's clock counts starting virtiofsd too (a Kata-style start does).
qemu_script() {
  case $1 in
    # microvm's virtio-mmio vhost-user-fs-device mounted but hung the first exec (QEMU 7.2):
    # with its PCIe host bridge and vhost-user-fs-pci the same command runs.
    microvm) mach=microvm,pcie=on dev=vhost-user-fs-pci
      reboot=t ;;  # microvm has no i8042 for "reboot=k"
    q35) mach=q35 dev=vhost-user-fs-pci reboot=k ;;
  esac
  cat <<SCRIPT
/usr/lib/qemu/virtiofsd --socket-path=vfsd.sock -o source=$top/hello/rootfs,cache=auto,sandbox=chroot >virtiofsd.log 2>&1 &
i=0; while [ ! -S vfsd.sock ] && [ \$i -lt 1000 ]; do sleep 0.01; i=\$((i + 1)); done
exec qemu-system-x86_64 -accel kvm -cpu host -M $mach,memory-backend=mem -smp 1 -m $MEM \\
  -object memory-backend-memfd,id=mem,size=${MEM}M,share=on \\
  -nodefaults -no-user-config -display none -serial stdio -no-reboot \\
  -chardev socket,id=vfsd,path=vfsd.sock -device $dev,chardev=vfsd,tag=rootfs,queue-size=1024 \\
  -kernel $G/vmlinuz-cloud -initrd $G/guest-cloud.cpio.gz \\
  -append "console=ttyS0 reboot=$reboot panic=-1 quiet loglevel=3 e2e=start start.cmd=$2"
SCRIPT
}

# stamp PATTERN: ms of the first stamped console line matching PATTERN (stamps.txt).
stamp() { grep -a -m1 "$1" stamps.txt | cut -d' ' -f1; }

# rss_split PID: "<total RSS kB> <RSS kB of the largest mapping>" from /proc/PID/smaps.
rss_split() {
  awk '/^Size:/ { size = $2 } /^Rss:/ { total += $2; if (size > big) { big = size; bigrss = $2 } }
       END { printf "%d %d\n", total, bigrss }' "/proc/$1/smaps" 2>/dev/null
}

i=1
while [ $i -le "$N" ]; do
  for p in $PEERS; do
    d=$top/$p-$i
    mkdir -p "$d"
    cd "$d"
    steps=""
    case $p in
      runvm | runvm-cold | runvm-bzimage)
        b=$top/hello cfg=${RUNVM_CONFIG:-/etc/runvm/config.json}
        [ $p != runvm-bzimage ] || b=$top/hello-bz
        [ $p = runvm ] || cfg=$top/cold.json
        RUNVM_CONFIG=$cfg vmrun -t "$T" -m hello-from-start-bench -o console.log -- \
          runvm --debug --log "$d/runvm.log" --root "$ROOT" run -b $b "s$i" \
          >vmrun.out 2>run.err
        vmrun_parse
        steps=$(grep -a -o 'start trace (ms): [^"]*' runvm.log | tail -n 1 | sed 's/^start trace (ms): //')
        ;;
      qemu-*-virtiofsd)
        m=${p#qemu-}
        qemu_script "${m%-virtiofsd}" /bin/echo,hello-from-start-bench >qemu.sh
        vmrun -t "$T" -m hello-from-start-bench -o console.log -s stamps.txt -- sh qemu.sh \
          >vmrun.out 2>vmm.log
        vmrun_parse
        steps="guest_init=$(stamp E2E-GUEST-INIT) guest_modules=$(stamp 'E2E-GUEST modules loaded')"
        steps="$steps guest_rootfs=$(stamp 'E2E-GUEST-START rootfs mounted')"
        steps="$steps exited=$(stamp 'E2E-GUEST-START exited')"
        pkill -x virtiofsd 2>/dev/null  # it normally leaves with QEMU's connection
        ;;
    esac
    echo "E2E-BENCH start peer=$p run=$i status=$STATUS out_ms=$MARKER_MS exit_ms=$EXIT_MS $steps"
    if [ "$STATUS" != exit:0 ] || [ "$MARKER_MS" = -1 ]; then
      tail -n 5 run.err 2>/dev/null | sed "s/^/E2E-BENCH-LOG $p run.err: /"
      tr -d '\r' <console.log | tail -n 8 | sed "s/^/E2E-BENCH-LOG $p console: /"
      tail -n 5 vmm.log 2>/dev/null | sed "s/^/E2E-BENCH-LOG $p vmm: /"
    fi
  done
  i=$((i + 1))
done

# Memory of one idle container per peer.
for p in $PEERS; do
  [ $p != runvm-bzimage ] && [ $p != runvm-cold ] || continue
  d=$top/$p-mem
  mkdir -p "$d"
  cd "$d"
  case $p in
    runvm)
      runvm --root "$ROOT" run -d -b $top/idle idle >run.out 2>&1 || {
        echo "E2E-BENCH start-mem peer=$p failed: $(tail -c 300 run.out)"; continue; }
      sleep 3
      vmm=$(pidof runvm-vmm | cut -d' ' -f1)
      sup=$(runvm --root "$ROOT" state idle | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
      set -- $(rss_split "$vmm")
      helper=$(rss_split "$sup" | cut -d' ' -f1)
      echo "E2E-BENCH start-mem peer=$p vmm_rss_kb=$1 guest_ram_rss_kb=$2 overhead_kb=$(($1 - $2)) helper_kb=$helper"
      # Where the VMM's own memory is: its largest mappings but the guest RAM, by RSS.
      awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6; if (name == "") name = "[anon]" }
           /^Size:/ { size = $2 } /^Rss:/ { print $2 " kB of " size " kB " name }' \
        "/proc/$vmm/smaps" | sort -rn | sed -n '2,9p' | sed "s/^/E2E-BENCH-LOG $p vmm mapping: /"
      runvm --root "$ROOT" kill idle KILL >/dev/null 2>&1
      sleep 1
      runvm --root "$ROOT" delete -f idle >/dev/null 2>&1
      ;;
    qemu-*-virtiofsd)
      m=${p#qemu-}
      qemu_script "${m%-virtiofsd}" /bin/sleep,600 >qemu.sh
      vmrun -t "$T" -o console.log -- sh qemu.sh >vmrun.out 2>vmm.log &
      run=$!
      j=0
      while [ $j -lt $((T * 10)) ] && ! grep -q 'E2E-GUEST-START rootfs mounted' console.log 2>/dev/null; do
        sleep 0.1; j=$((j + 1))
      done
      sleep 3
      q=$(pidof qemu-system-x86_64 | cut -d' ' -f1)
      set -- $(rss_split "$q")
      helper=0
      for v in $(pidof virtiofsd); do
        set -- "$1" "$2" $(rss_split "$v")
        helper=$((helper + $3 - $4))
        set -- "$1" "$2"
      done
      echo "E2E-BENCH start-mem peer=$p vmm_rss_kb=$1 guest_ram_rss_kb=$2 overhead_kb=$(($1 - $2)) helper_kb=$helper"
      kill "$q" 2>/dev/null
      wait $run 2>/dev/null
      pkill -x virtiofsd 2>/dev/null
      ;;
  esac
done

# Ten idle containers at once, from the snapshot and booted: the sum of the VMMs' PSS.
for p in runvm runvm-cold; do
  case " $PEERS " in *" $p "*) ;; *) continue ;; esac
  cfg=${RUNVM_CONFIG:-/etc/runvm/config.json}
  [ $p = runvm ] || cfg=$top/cold.json
  k=1
  while [ $k -le 10 ]; do
    RUNVM_CONFIG=$cfg runvm --root "$ROOT" run -d -b $top/idle "m$k" >$top/m$k.out 2>&1 </dev/null ||
      echo "E2E-BENCH-LOG $p idle m$k: $(tail -c 300 $top/m$k.out)"
    k=$((k + 1))
  done
  sleep 3
  pss=0 rss=0 vms=0
  for v in $(pidof runvm-vmm); do
    set -- $(awk '/^Pss:/ { p = $2 } /^Rss:/ { r = $2 } END { print p + 0, r + 0 }' "/proc/$v/smaps_rollup" 2>/dev/null)
    pss=$((pss + ${1:-0})) rss=$((rss + ${2:-0})) vms=$((vms + 1))
  done
  echo "E2E-BENCH start-mem10 peer=$p vms=$vms pss_kb=$pss rss_kb=$rss"
  k=1
  while [ $k -le 10 ]; do
    runvm --root "$ROOT" kill "m$k" KILL >/dev/null 2>&1
    k=$((k + 1))
  done
  sleep 1
  k=1
  while [ $k -le 10 ]; do
    runvm --root "$ROOT" delete -f "m$k" >/dev/null 2>&1
    k=$((k + 1))
  done
done
