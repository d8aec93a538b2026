# Helpers for the scenario scripts (sourced by busybox sh inside the test host).
# A scenario prints "DETAIL <text>" lines (the last one is reported) and exits
# 0 = PASS, 77 = SKIP, anything else = FAIL. It runs in its own empty directory.
# /e2e/bin first: the runvm under test wins over a packaged one in /usr/bin (runvm_run).
export PATH=/e2e/bin:/bin:/usr/bin
G=/e2e/guest
VMM=/e2e/bin/runvm-vmm
T=${E2E_TIMEOUT:-180}
NAME=${E2E_NAME:-scenario}
# iproute2's ip and tc (build-test-host.sh): busybox sh runs its own applet for a bare
# `ip`, and that one cannot add a veth, use -n or show qdiscs.
ip() { /bin/ip "$@"; }
tc() { /bin/tc "$@"; }

# arg NAME DEFAULT: the value of NAME=... on the test host's kernel command line (the
# benchmarks' settings).
arg() {
  for w in $(cat /proc/cmdline); do
    case $w in "$1"=*) echo "${w#*=}"; return ;; esac
  done
  echo "$2"
}

pass() { echo "DETAIL $*"; exit 0; }
fail() { echo "DETAIL $*"; show_logs; exit 1; }
skip() { echo "DETAIL $*"; exit 77; }
note() { echo "$*"; }

need_vmm() { [ -x "$VMM" ] || skip "runvm-vmm was not built into the test host"; }

# guest_cmdline MODE [EXTRA...]
# loglevel=3: only critical kernel messages reach the console, where the scenarios parse
# the guest's lines; an interleaved KERN_ERR (an RCU stall warning of a starved nested guest)
# once split a transcript line. The log's tail still comes out as E2E-GUEST-DMESG lines.
guest_cmdline() {
  mode=$1; shift
  q="quiet loglevel=3"
  [ "${E2E_VERBOSE:-0}" = 1 ] && q=
  echo "console=ttyS0 reboot=k panic=-1 $q iomem=relaxed e2e=$mode $*"
}

# vmrun_parse: sets STATUS FIRST_MS MARKER_MS EXIT_MS MAXRSS_KB from ./vmrun.out.
vmrun_parse() {
  line=$(grep '^VMRUN ' vmrun.out | tail -n 1)
  [ -n "$line" ] || { STATUS=none; return; }
  for kv in $line; do
    case $kv in
      status=*) STATUS=${kv#status=} ;;
      first_byte_ms=*) FIRST_MS=${kv#*=} ;;
      marker_ms=*) MARKER_MS=${kv#*=} ;;
      exit_ms=*) EXIT_MS=${kv#*=} ;;
      maxrss_kb=*) MAXRSS_KB=${kv#*=} ;;
    esac
  done
}

# run_runvm FLAVOUR CPUS MEM_MIB MODE [--extra-vmm-args ...] [-- extra guest cmdline words]
# Runs runvm-vmm under vmrun in the foreground; console -> ./console.log, VMM stderr ->
# ./vmm.log. Results in STATUS etc. (see vmrun_parse).
run_runvm() {
  fl=$1 cpus=$2 mem=$3 mode=$4; shift 4
  extra=""
  while [ $# -gt 0 ] && [ "$1" != -- ]; do extra="$extra $1"; shift; done
  [ "${1:-}" = -- ] && shift
  cl=$(guest_cmdline "$mode" "$@")
  echo "+ runvm-vmm --kernel $G/vmlinuz-$fl --initrd $G/guest-$fl.cpio.gz --memory $mem --cpus $cpus$extra --cmdline '$cl'"
  vmrun -t "$T" -m E2E-GUEST-INIT -o console.log -- \
    "$VMM" --kernel "$G/vmlinuz-$fl" --initrd "$G/guest-$fl.cpio.gz" --cmdline "$cl" \
    --memory "$mem" --cpus "$cpus" --console stdio $extra >vmrun.out 2>vmm.log
  vmrun_parse
  echo "vmrun: status=$STATUS init_ms=$MARKER_MS exit_ms=$EXIT_MS maxrss_kb=$MAXRSS_KB"
}

# run_runvm_bg ...: as run_runvm, in the background; wait_vm collects it.
run_runvm_bg() {
  run_runvm "$@" &
  VM_PID=$!
}
wait_vm() { wait "$VM_PID"; vmrun_parse; }

# run_qemu MACHINE FLAVOUR CPUS MEM_MIB MODE [qemu args ...] [-- guest cmdline words]
run_qemu() {
  machine=$1 fl=$2 cpus=$3 mem=$4 mode=$5; shift 5
  extra=""
  while [ $# -gt 0 ] && [ "$1" != -- ]; do extra="$extra $1"; shift; done
  [ "${1:-}" = -- ] && shift
  cl=$(guest_cmdline "$mode" "$@")
  echo "+ qemu-system-x86_64 -M $machine -smp $cpus -m $mem$extra --append '$cl'"
  vmrun -t "$T" -m E2E-GUEST-INIT -o console.log -- \
    qemu-system-x86_64 -accel kvm -cpu host -M "$machine" -smp "$cpus" -m "$mem" \
    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
    -kernel "$G/vmlinuz-$fl" -initrd "$G/guest-$fl.cpio.gz" -append "$cl" $extra \
    >vmrun.out 2>vmm.log
  vmrun_parse
  echo "vmrun: status=$STATUS init_ms=$MARKER_MS exit_ms=$EXIT_MS maxrss_kb=$MAXRSS_KB"
}

# wait_console PATTERN SECONDS: waits until console.log has a line matching PATTERN.
wait_console() {
  i=0
  while [ $i -lt $(($2 * 5)) ]; do
    grep -q "$1" console.log 2>/dev/null && return 0
    # Stop early when the VM is already gone.
    [ -n "${VM_PID:-}" ] && ! kill -0 "$VM_PID" 2>/dev/null && { grep -q "$1" console.log 2>/dev/null; return; }
    sleep 0.2
    i=$((i + 1))
  done
  return 1
}

console_has() { grep -q "$1" console.log 2>/dev/null; }
console_value() { grep "$1" console.log 2>/dev/null | tail -n 1 | tr -d '\r'; }

# expect_clean_boot MODE: the guest ran /init in MODE to its end and the VMM exited 0.
expect_clean_boot() {
  console_has "E2E-GUEST-INIT" || fail "guest /init never printed (status $STATUS)"
  console_has "E2E-GUEST-DONE mode=$1" || fail "guest /init did not finish mode $1 (status $STATUS)"
  [ "$STATUS" = exit:0 ] || fail "VMM ended with $STATUS after the guest powered off (want exit:0)"
}

# vmm_log_crash: non-empty output when the VMM's own log shows a crash.
vmm_log_crash() {
  grep -E -i 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation fault|terminate called|core dumped|Assertion .* failed|stack smashing' vmm.log 2>/dev/null | head -n 3
}

show_logs() {
  echo "--- console.log (last 40 lines)"
  tail -n 40 console.log 2>/dev/null | tr -d '\r'
  echo "--- vmm.log (last 30 lines)"
  tail -n 30 vmm.log 2>/dev/null
  # A VMM killed by its seccomp jail: the kernel names the syscall (vmm/jail/README.md).
  dmesg 2>/dev/null | grep 'type=1326' | tail -n 5 | sed 's/^/seccomp: /'
}

# --- runvm scenarios -------------------------------------------------------------------------
ROOT=/run/runvm-e2e
need_runvm() {
  need_vmm
  [ -x /e2e/bin/runvm ] || skip "runvm was not built into the test host"
  [ -f /e2e/bin/runvm-initrd.img ] || skip "runvm-initrd.img was not built into the test host"
}
# use_installed_runvm: when the .deb was unpacked into the test host (build-test-host.sh
# --deb), the scenario runs the packaged runvm only: /e2e/bin leaves PATH, and the package's
# runvm finds its runvm-vmm, guest image and /etc/runvm/config.json as on a node. Returns 1
# (and changes nothing) without a package.
use_installed_runvm() {
  [ -x /usr/bin/runvm ] || return 1
  export PATH=/usr/sbin:/usr/bin:/sbin:/bin
  [ "$(command -v runvm)" = /usr/bin/runvm ] || fail "PATH still finds $(command -v runvm)"
  return 0
}
# make_bundle DIR ARGS_JSON: busybox rootfs + `runvm spec` with args and terminal=false.
# ARGS_JSON must not contain "|" (the sed delimiter).
make_bundle() {
  mkdir -p "$1/rootfs/bin" "$1/rootfs/proc" "$1/rootfs/sys" "$1/rootfs/dev" "$1/rootfs/tmp" "$1/rootfs/etc"
  cp /bin/busybox "$1/rootfs/bin/busybox"
  # Hard links: the applets are regular files through the shared filesystem.
  for a in $(busybox --list); do [ "$a" = busybox ] || ln -f "$1/rootfs/bin/busybox" "$1/rootfs/bin/$a"; done
  (cd "$1" && runvm spec) || fail "runvm spec failed"
  sed -i 's/"terminal": true/"terminal": false/' "$1/config.json"
  sed -i ':a;N;$!ba;s|"args": \[[^]]*\]|"args": '"$2"'|' "$1/config.json"
  grep -q '"terminal": false' "$1/config.json" || fail "could not edit config.json: $(cat "$1/config.json")"
}
# add_netns_hook DIR OUT: a prestart hook that does what Docker's libnetwork-setkey makes
# dockerd do: configure /proc/<state.pid>/ns/net (here: 192.0.2.7/32 on lo). It writes
# "pid=<state.pid> ns=<that netns> host=<its own netns> lo=<UP|DOWN> addr=<rc>" to OUT.
add_netns_hook() {
  cat >"$1/netns-hook.sh" <<'HOOK'
pid=$(tr -d '\n' | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
ns=$(readlink /proc/$pid/ns/net)
lo=DOWN
nsenter --net=/proc/$pid/ns/net ip link show lo | grep -q '[<,]UP[,>]' && lo=UP
nsenter --net=/proc/$pid/ns/net ip addr add 192.0.2.7/32 dev lo
rc=$?
echo "pid=$pid ns=$ns host=$(readlink /proc/self/ns/net) lo=$lo addr=$rc" >"$1"
HOOK
  sed -i 's|"ociVersion": "\([^"]*\)",|"ociVersion": "\1", "hooks": {"prestart": [{"path": "/bin/sh", "args": ["sh", "'"$1/netns-hook.sh"'", "'"$2"'"]}]},|' "$1/config.json"
  grep -q netns-hook "$1/config.json" || fail "could not add the hook: $(head -c 300 "$1/config.json")"
}
# set_netns_path DIR PATH: the bundle's network namespace entry gets a path.
set_netns_path() {
  sed -i 's|"type": "network"|"type": "network", "path": "'"$2"'"|' "$1/config.json"
  grep -q "\"path\": \"$2\"" "$1/config.json" || fail "could not set the netns path"
}
# host_net: the test host's links, addresses and routes (compared before/after).
host_net() { ip link; ip addr; ip route; }
status_of() { runvm --root "$ROOT" state "$1" 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }
# The test host's busybox has no pgrep: runvm-vmm processes found through /proc.
is_vmm() { [ "$(readlink "$1/exe" 2>/dev/null)" = /e2e/bin/runvm-vmm ]; }
# vmm_pid_of ID: the runvm-vmm process of container ID under $ROOT.
vmm_pid_of() {
  for d in /proc/[0-9]*; do
    is_vmm "$d" || continue
    case $(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) in *"$ROOT/$1/"*) echo "${d#/proc/}"; return ;; esac
  done
}
count_vmms() {
  n=0
  for d in /proc/[0-9]*; do is_vmm "$d" && n=$((n + 1)); done
  echo $n
}
