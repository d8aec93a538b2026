#!/bin/sh
# PID 1 of the e2e guest initramfs. The kernel command line selects what it does:
#   e2e=boot         print facts (CPUs, memory) and power off
#   e2e=vsock-listen echo one vsock connection on port 5000, then power off
#   e2e=vsock-connect connect to host CID 2 port 5001, echo 1 MiB (e2e.bytes=N), power off
#   e2e=vsock-refused connect to host port 5002 (nobody listens), then serve one echo on 5000
#   e2e=panic        trigger a kernel panic through sysrq
#   e2e=pci-garbage  write random bytes into the virtio/pvpanic PCI registers, power off
#   e2e=fs-<what>    mount the fs.* shares and run /fs/<what>.sh (tests/e2e/guest/fs)
#   e2e=start        bench/start-bench.sh's QEMU peer: mount the virtio-fs share "rootfs",
#                    run start.cmd (commas for spaces; default /bin/echo
#                    hello-from-start-bench) chrooted in it, power off
#   e2e=net-serve    bring up the first NIC as e2e.ip/32 with a link route to e2e.gw (and
#                    e2e.mtu), then serve nettool on port 5001 until told to quit
# Every line the scenarios look for starts with "E2E-G".
export PATH=/bin
echo "E2E-GUEST-INIT start"
# prefix TAG: prefixes each line of stdin and writes it at once (busybox sed would buffer
# its output until EOF, hiding markers such as "listening" that the host waits for).
prefix() { while IFS= read -r l; do echo "$1 $l"; done; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

arg() { # arg NAME DEFAULT: value of NAME=... on the kernel command line
  for w in $(cat /proc/cmdline); do
    case $w in "$1"=*) echo "${w#*=}"; return ;; esac
  done
  echo "$2"
}
mode=$(arg e2e boot)
echo "E2E-GUEST mode=$mode kernel=$(uname -r)"

loaded=0
for m in $(cat /modules/load-order); do
  if insmod "/modules/$m" 2>/tmp/insmod.err; then
    loaded=$((loaded + 1))
  else
    echo "E2E-GUEST insmod $m failed: $(cat /tmp/insmod.err)"
  fi
done
echo "E2E-GUEST modules loaded=$loaded"
echo "E2E-GUEST cpus online=$(cat /sys/devices/system/cpu/online)"
echo "E2E-GUEST mem $(grep MemTotal /proc/meminfo | tr -s ' ')"
# PCI functions the kernel found: "vendor:device" list.
pci=""
for d in /sys/bus/pci/devices/*; do
  [ -e "$d/vendor" ] || continue
  read -r v <"$d/vendor"
  read -r dv <"$d/device"
  pci="$pci ${v#0x}:${dv#0x}"
done
echo "E2E-GUEST pci$pci"

# vsock modes trace the guest's vsock packets (tracefs) and print them at the end.
case $mode in vsock-*)
  mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null &&
    echo 1 >/sys/kernel/tracing/events/vsock/enable 2>/dev/null && vtrace=1 ;;
esac
T=${E2E_GUEST_TIMEOUT:-60}
export VSOCK_TOOL_TIMEOUT=$T
case $mode in
  boot) ;;
  vsock-listen)
    vsock_tool listen-echo 5000 1 2>&1 | prefix E2E-GUEST-VSOCK
    ;;
  vsock-connect)
    vsock_tool connect 2 5001 "$(arg e2e.bytes 1048576)" 2>&1 | prefix E2E-GUEST-VSOCK
    ;;
  vsock-refused)
    vsock_tool connect-refused 2 5002 2>&1 | prefix E2E-GUEST-VSOCK
    vsock_tool listen-echo 5000 1 2>&1 | prefix E2E-GUEST-VSOCK
    ;;
  panic)
    echo "E2E-GUEST panicking"
    echo c >/proc/sysrq-trigger
    sleep 5
    echo "E2E-GUEST still alive after sysrq-c"
    ;;
  pci-garbage)
    vsock_tool pci-garbage "$(arg e2e.seed 1)" "$(arg e2e.rounds 2000)" 2>&1 | prefix E2E-GUEST-PCI
    ;;
  start) # bench/start-bench.sh: what a minimal virtio-fs container start does (the host
    # stamps each line as it arrives)
    mkdir -p /mnt/root && mount -t virtiofs rootfs /mnt/root || echo "E2E-GUEST-START mount failed"
    echo "E2E-GUEST-START rootfs mounted"
    chroot /mnt/root $(arg start.cmd /bin/echo,hello-from-start-bench | tr , ' ')
    echo "E2E-GUEST-START exited status=$?"
    ;;
  fs-*) # shared-filesystem tests: tests/e2e/guest/fs/run.sh
    sh /fs/run.sh "${mode#fs-}" 2>&1 | prefix E2E-GUEST-FS
    ;;
  net-serve) # bench/net-bench.sh: the guest end of the TCP measurements
    dev=
    for d in /sys/class/net/*; do [ "${d##*/}" = lo ] || { dev=${d##*/}; break; }; done
    ip link set lo up
    if [ -z "$dev" ]; then
      echo "E2E-GUEST-NET no NIC"
    else
      gw=$(arg e2e.gw 10.2.0.1)
      mtu=$(arg e2e.mtu "")
      [ -z "$mtu" ] || ip link set "$dev" mtu "$mtu"
      ip link set "$dev" up && ip addr add "$(arg e2e.ip 10.2.0.2)/32" dev "$dev" &&
        ip route add "$gw" dev "$dev" && ip route add default via "$gw" ||
        echo "E2E-GUEST-NET configuring $dev failed"
      echo "E2E-GUEST-NET $dev mac=$(cat /sys/class/net/$dev/address) mtu=$(cat /sys/class/net/$dev/mtu)"
      NETTOOL_TIMEOUT=$T nettool serve 5001 2>&1 | prefix E2E-GUEST-NET
    fi
    ;;
  *) echo "E2E-GUEST unknown mode $mode" ;;
esac
[ -n "${vtrace:-}" ] && grep -v '^#' /sys/kernel/tracing/trace | tail -n 16 | sed 's/^ */E2E-GUEST-VTRACE /'
# e2e.dmesg=all: the whole kernel log (with initcall_debug, where the kernel's boot goes).
if [ "$(arg e2e.dmesg tail)" = all ]; then
  dmesg | sed 's/^/E2E-GUEST-DMESG /'
else
  case $mode in boot | start) ;; *) dmesg | tail -n 12 | sed 's/^/E2E-GUEST-DMESG /' ;; esac
fi
echo "E2E-GUEST-DONE mode=$mode"
reboot -f
sleep 10
