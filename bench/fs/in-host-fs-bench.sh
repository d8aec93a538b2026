# Runs inside the e2e test host (as /e2e/bench.sh, see bench/fs-bench.sh): the filesystem
# benchmark (tests/e2e/guest/fs/bench.sh + fstool) natively on the test host's tmpfs, then in a
# guest on each peer's share:
#   runvm-virtiofs[-MODE[-writeback]]  runvm-vmm virtio-fs (cloud kernel); MODE a cache mode
#                             (--fs ...:cache=MODE[:writeback]), none for the VMM's default
#   qemu-virtiofsd-MODE[-writeback]  QEMU q35 + vhost-user-fs-pci + Debian's C virtiofsd
#                             (-o cache=MODE,[no_]writeback,xattr), same cloud kernel
#   runvm-9p                  runvm-vmm virtio-9p (generic kernel)
#   qemu-9p                   QEMU -virtfs (security_model=passthrough; generic kernel, q35)
# Every share directory is on the test host's tmpfs. One line per peer:
#   E2E-BENCH fs peer=<name> seq mib=.. write_mibs=.. read_mibs=.. read_bytes_ok=1 rand n=.. iops=..
#     meta n=.. ops=.. tree files=.. untar_fps=.. stat_fps=.. build_ops=..
# Test-host command line: fsbench.mib=N fsbench.rand=N fsbench.meta=N fsbench.tree=N
#   fsbench.mem=MiB fsbench.peers=a,b fsbench.ra_kb=N (virtio-fs guest readahead)
. /e2e/lib.sh
MIB=$(arg fsbench.mib 256)
RAND=$(arg fsbench.rand 4000)
META=$(arg fsbench.meta 1000)
MEM=$(arg fsbench.mem 512)
TREE=$(arg fsbench.tree 5000)
PEERS=$(arg fsbench.peers runvm-virtiofs,qemu-virtiofsd-auto,qemu-virtiofsd-always,runvm-9p,qemu-9p | tr , ' ')
RA=$(arg fsbench.ra_kb "")
T=${E2E_TIMEOUT:-600}
top=/tmp/fsbench
mkdir -p $top/fsbin
cd $top/fsbin && zcat "$G/guest-generic.cpio.gz" | cpio -id 2>/dev/null
PATH=$top/fsbin/fs:$PATH
echo "E2E-BENCH fs config mib=$MIB rand=$RAND meta=$META tree=$TREE guest_mem=$MEM virtiofs_readahead_kb=${RA:-default}"
mkdir -p $top/native
FS_NAME=x FS_MIB=$MIB FS_RAND=$RAND FS_META=$META FS_TREE=$TREE sh $top/fsbin/fs/bench.sh $top/native |
  sed 's/^bench x /E2E-BENCH fs peer=native /'
rm -f /tmp/fsbench-tree.tar
words="fs.mib=$MIB fs.rand=$RAND fs.meta=$META fs.tree=$TREE fs.hold_s=3${RA:+ fs.ra_kb=$RA}"
# For runvm-vmm peers: SIGUSR1 once the guest printed its results (it then waits 3 s), so
# vmm.log gets the FUSE requests the whole run made, by opcode (RequestStats).
ask_stats() {
  (i=0
   while [ $i -lt 36000 ]; do
     grep -q 'E2E-GUEST-FS bench ' console.log 2>/dev/null && break
     sleep 0.1; i=$((i + 1))
   done
   kill -USR1 $(pidof runvm-vmm) 2>/dev/null) &
  stats_pid=$!
}
for peer in $PEERS; do
  d=$top/$peer
  mkdir -p $d/share
  cd $d
  stats_pid=""
  case $peer in runvm-virtiofs*) ask_stats ;; esac
  case $peer in
    runvm-virtiofs) run_runvm cloud 1 "$MEM" fs-bench --fs "share=$d/share" -- fs.vfs=share $words >run.out 2>&1 ;;
    runvm-virtiofs-*)
      # MODE[-writeback]: --fs share=DIR:cache=MODE[:writeback]
      mode=${peer#runvm-virtiofs-}; wb=""
      case $mode in *-writeback) mode=${mode%-writeback}; wb=:writeback ;; esac
      run_runvm cloud 1 "$MEM" fs-bench --fs "share=$d/share:cache=$mode$wb" \
        -- fs.vfs=share $words >run.out 2>&1 ;;
    qemu-virtiofsd-*)
      # MODE[-writeback]. The test host's root is its initramfs, where pivot_root(2) (the
      # default namespace sandbox) is refused: chroot, virtiofsd's sandbox for containers.
      mode=${peer#qemu-virtiofsd-}; wb=no_writeback
      case $mode in *-writeback) mode=${mode%-writeback}; wb=writeback ;; esac
      # vhost-user needs the guest's RAM in shared memory the daemon maps.
      /usr/lib/qemu/virtiofsd --socket-path=$d/vfsd.sock \
        -o "source=$d/share,cache=$mode,$wb,xattr,sandbox=chroot" >virtiofsd.log 2>&1 &
      vfsd=$!
      i=0; while [ ! -S $d/vfsd.sock ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
      run_qemu q35 cloud 1 "$MEM" fs-bench -chardev socket,id=vfsd,path=$d/vfsd.sock \
        -device vhost-user-fs-pci,chardev=vfsd,tag=share,queue-size=1024 \
        -object memory-backend-memfd,id=mem,size=${MEM}M,share=on -numa node,memdev=mem \
        -- fs.vfs=share $words >run.out 2>&1
      kill $vfsd 2>/dev/null; wait $vfsd 2>/dev/null ;;
    runvm-9p) run_runvm generic 1 "$MEM" fs-bench --9p "share=$d/share" -- fs.p9=share $words >run.out 2>&1 ;;
    qemu-9p) run_qemu q35 generic 1 "$MEM" fs-bench \
      -virtfs "local,path=$d/share,mount_tag=share,security_model=passthrough,id=p9" \
      -- fs.p9=share $words >run.out 2>&1 ;;
  esac
  # A guest that never printed its results leaves the watcher waiting: it must not signal
  # the next peer's VMM.
  [ -z "$stats_pid" ] || kill "$stats_pid" 2>/dev/null
  tr -d '\r' <console.log | grep '^E2E-GUEST-FS readahead ' | sed "s/^/E2E-BENCH-LOG $peer /"
  line=$(tr -d '\r' <console.log | grep '^E2E-GUEST-FS bench ' | tail -n 1 | cut -d' ' -f4-)
  if [ -n "$line" ]; then
    echo "E2E-BENCH fs peer=$peer $line"
    grep -o 'fuse: .*' vmm.log | head -n 1 | sed "s/^fuse: /E2E-BENCH-LOG $peer requests: /"
  else
    echo "E2E-BENCH fs peer=$peer failed status=$STATUS"
    tail -n 15 console.log | tr -d '\r' | sed "s/^/E2E-BENCH-LOG $peer console: /"
    tail -n 10 vmm.log | sed "s/^/E2E-BENCH-LOG $peer stderr: /"
    [ ! -f virtiofsd.log ] || tail -n 10 virtiofsd.log | sed "s/^/E2E-BENCH-LOG $peer virtiofsd: /"
  fi
done
