# Runs inside the e2e test host (as /e2e/bench.sh, see bench/net-bench.sh): TCP throughput and
# request/response latency between the test host and a server behind a CNI-ptp-shaped veth
# pair (netns "nb", 10.2.0.1/32 on the test host <-> 10.2.0.2/32), for each peer:
#   veth       nettool serves in the netns itself: what a runc container gets (the baseline)
#   runvm-vmm  a guest of runvm-vmm (cloud kernel, e2e init) on a tap in the netns, joined to
#              the veth by tc ingress u32 + mirred redirect both ways, as runvm's attach does
#   qemu       the same guest, tap and redirect with QEMU q35 + virtio-net-pci (userspace
#              virtio-net, vhost=off): Kata's device without vhost-net
#   runvm      `runvm run -d` of a bundle whose process is nettool, netns given by path: the
#              whole stack a user runs (runvm's own tap, redirect and guest network set-up)
# One peer at a time (two nested VMs at once crashed the TCG test host's kernel, and every
# extra VM boot risks its known stall): start it, measure it in several rounds, stop it;
# bench/net-bench.sh reports the medians. The client (nettool send/recv/rr) always runs on
# the test host. One line per peer and round:
#   E2E-BENCH net round=<r> peer=<name> send_mbit=.. recv_mbit=.. rr_mean_us=.. rr_p50_us=.. rr_p99_us=..
# Test-host command line: netbench.secs=N netbench.rr=N netbench.rounds=N netbench.mem=MiB
#   netbench.peers=a,b
. /e2e/lib.sh
SECS=$(arg netbench.secs 5)
RR=$(arg netbench.rr 2000)
ROUNDS=$(arg netbench.rounds 3)
MEM=$(arg netbench.mem 256)
PEERS=$(arg netbench.peers veth,runvm-vmm,qemu,runvm | tr , ' ')
T=${E2E_TIMEOUT:-600}
FL=cloud
IP=10.2.0.2
GW=10.2.0.1
top=/tmp/netbench
mkdir -p $top /run/netns
echo "E2E-BENCH net config secs=$SECS rr=$RR rounds=$ROUNDS guest_mem=$MEM cpus=$(grep -c ^processor /proc/cpuinfo)"
ip link set lo up
ip netns add nb && ip link add vb0 type veth peer name eth0 netns nb &&
  ip addr add $GW/32 dev vb0 && ip link set vb0 up && ip route add $IP/32 dev vb0 &&
  ip -n nb link set lo up && ip -n nb link set eth0 up && ip -n nb addr add $IP/32 dev eth0 &&
  ip -n nb route add $GW/32 dev eth0 scope link && ip -n nb route add default via $GW dev eth0 ||
  { echo "E2E-BENCH net failed: could not set up the veth pair"; exit 1; }
MAC=$(ip -n nb -o link show eth0 | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p')

# value KEY LINE: KEY=value out of a nettool result line.
value() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# measure PEER: waits for the server at $IP, runs the three exchanges $ROUNDS times (one
# result line per round), then stops the server.
measure() {
  if ! nettool wait $IP 5001 "$T" 2>err.txt; then
    echo "E2E-BENCH net peer=$1 failed $(tr '\n' ' ' <err.txt)"
    return 1
  fi
  r=0
  while [ $r -lt "$ROUNDS" ]; do
    r=$((r + 1))
    s=$(nettool send $IP 5001 "$SECS" 2>&1)
    v=$(nettool recv $IP 5001 "$SECS" 2>&1)
    q=$(nettool rr $IP 5001 "$RR" 2>&1)
    for l in "$s" "$v" "$q"; do echo "E2E-BENCH-LOG $1 round $r: $l"; done
    echo "E2E-BENCH net round=$r peer=$1 send_mbit=$(value mbit "$s") recv_mbit=$(value mbit "$v")" \
      "rr_mean_us=$(value mean_us "$q") rr_p50_us=$(value p50_us "$q") rr_p99_us=$(value p99_us "$q")"
  done
  nettool quit $IP 5001
}

# The tap the VMM peers use, joined to the veth as runtime/net does it.
tap_up() {
  ip -n nb tuntap add dev tap0 mode tap vnet_hdr && ip -n nb link set tap0 up &&
    tc -n nb qdisc add dev eth0 ingress && tc -n nb qdisc add dev tap0 ingress &&
    tc -n nb filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev tap0 &&
    tc -n nb filter add dev tap0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev eth0
}
tap_down() {
  tc -n nb qdisc del dev eth0 ingress 2>/dev/null
  ip -n nb link del tap0 2>/dev/null
}
logs() {
  for f in console.log vmm.log err.txt; do
    [ -s $f ] && tail -n 8 $f | tr -d '\r' | sed "s/^/E2E-BENCH-LOG $1 $f: /"
  done
}

cl=$(guest_cmdline net-serve e2e.ip=$IP e2e.gw=$GW)
for peer in $PEERS; do
  d=$top/$peer
  mkdir -p $d
  cd $d
  case $peer in
    veth)
      ip netns exec nb nettool serve 5001 >serve.out 2>&1 &
      measure $peer
      ;;
    runvm-vmm)
      tap_up || { echo "E2E-BENCH net peer=$peer failed: tap set-up"; tap_down; continue; }
      ip netns exec nb vmrun -t "$T" -m E2E-GUEST-INIT -o console.log -- \
        nettool tapexec tap0 3 "$VMM" --kernel "$G/vmlinuz-$FL" --initrd "$G/guest-$FL.cpio.gz" \
        --cmdline "$cl" --memory "$MEM" --cpus 1 --console stdio --net "tap-fd=3,mac=$MAC" \
        >vmrun.out 2>vmm.log &
      measure $peer || logs $peer
      ;;
    qemu)
      tap_up || { echo "E2E-BENCH net peer=$peer failed: tap set-up"; tap_down; continue; }
      ip netns exec nb vmrun -t "$T" -m E2E-GUEST-INIT -o console.log -- \
        qemu-system-x86_64 -accel kvm -cpu host -M q35 -smp 1 -m "$MEM" \
        -nodefaults -no-user-config -display none -serial stdio -no-reboot \
        -kernel "$G/vmlinuz-$FL" -initrd "$G/guest-$FL.cpio.gz" -append "$cl" \
        -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off \
        -device "virtio-net-pci,netdev=n0,mac=$MAC,romfile=" \
        >vmrun.out 2>vmm.log &
      measure $peer || logs $peer
      ;;
    runvm)
      [ -x /e2e/bin/runvm ] || { echo "E2E-BENCH net peer=$peer failed: no runvm in the test host"; continue; }
      (make_bundle "$d/b" '["/bin/nettool","serve","5001"]' >/dev/null &&
        cp /e2e/bin/nettool "$d/b/rootfs/bin/nettool" && set_netns_path "$d/b" /run/netns/nb >/dev/null) ||
        { echo "E2E-BENCH net peer=$peer failed: bundle"; continue; }
      if timeout "$T" runvm --root "$ROOT" run -d -b "$d/b" nb >out.txt 2>err.txt </dev/null; then
        measure $peer || logs $peer
      else
        echo "E2E-BENCH net peer=$peer failed: run -d"
        logs $peer
      fi
      i=0
      while [ "$(status_of nb)" = running ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
      runvm --root "$ROOT" delete -f nb
      ;;
    *) echo "E2E-BENCH net peer=$peer failed: unknown peer" ;;
  esac
  wait
  tap_down
done
