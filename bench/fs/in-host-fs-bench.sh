# Runs inside the e2e test host (as /e2e/bench.sh, see bench/fs-bench.sh): the filesystem
# benchmark (tests/e2e/guest/fs/bench.sh + fstool) natively on the test host's tmpfs, then in a
# guest on a runvm-vmm virtio-fs share (cloud kernel), a runvm-vmm virtio-9p share (generic
# kernel) and a QEMU -virtfs (security_model=passthrough) 9p share (generic kernel, q35).
# Every share directory is on the test host's tmpfs. One line per peer:
#   E2E-BENCH fs peer=<name> seq mib=.. write_mibs=.. read_mibs=.. read_bytes_ok=1 rand n=.. iops=.. meta n=.. ops=..
# Test-host command line: fsbench.mib=N fsbench.rand=N fsbench.meta=N fsbench.mem=MiB
#   fsbench.peers=a,b (default all three) fsbench.ra_kb=N (virtio-fs guest readahead)
. /e2e/lib.sh
MIB=$(arg fsbench.mib 256)
RAND=$(arg fsbench.rand 4000)
META=$(arg fsbench.meta 1000)
MEM=$(arg fsbench.mem 512)
PEERS=$(arg fsbench.peers runvm-virtiofs,runvm-9p,qemu-9p | tr , ' ')
RA=$(arg fsbench.ra_kb "")
T=${E2E_TIMEOUT:-600}
top=/tmp/fsbench
mkdir -p $top/fsbin
cd $top/fsbin && zcat "$G/guest-generic.cpio.gz" | cpio -id 2>/dev/null
PATH=$top/fsbin/fs:$PATH
echo "E2E-BENCH fs config mib=$MIB rand=$RAND meta=$META guest_mem=$MEM virtiofs_readahead_kb=${RA:-default}"
mkdir -p $top/native
FS_NAME=x FS_MIB=$MIB FS_RAND=$RAND FS_META=$META sh $top/fsbin/fs/bench.sh $top/native |
  sed 's/^bench x /E2E-BENCH fs peer=native /'
words="fs.mib=$MIB fs.rand=$RAND fs.meta=$META${RA:+ fs.ra_kb=$RA}"
for peer in $PEERS; do
  d=$top/$peer
  mkdir -p $d/share
  cd $d
  case $peer in
    runvm-virtiofs) run_runvm cloud 1 "$MEM" fs-bench --fs "share=$d/share" -- fs.vfs=share $words >run.out 2>&1 ;;
    runvm-9p) run_runvm generic 1 "$MEM" fs-bench --9p "share=$d/share" -- fs.p9=share $words >run.out 2>&1 ;;
    qemu-9p) run_qemu q35 generic 1 "$MEM" fs-bench \
      -virtfs "local,path=$d/share,mount_tag=share,security_model=passthrough,id=p9" \
      -- fs.p9=share $words >run.out 2>&1 ;;
  esac
  tr -d '\r' <console.log | grep '^E2E-GUEST-FS readahead ' | sed "s/^/E2E-BENCH-LOG $peer /"
  line=$(tr -d '\r' <console.log | grep '^E2E-GUEST-FS bench ' | tail -n 1 | cut -d' ' -f4-)
  if [ -n "$line" ]; then
    echo "E2E-BENCH fs peer=$peer $line"
  else
    echo "E2E-BENCH fs peer=$peer failed status=$STATUS"
    tail -n 15 console.log | tr -d '\r' | sed "s/^/E2E-BENCH-LOG $peer console: /"
    tail -n 10 vmm.log | sed "s/^/E2E-BENCH-LOG $peer stderr: /"
  fi
done
