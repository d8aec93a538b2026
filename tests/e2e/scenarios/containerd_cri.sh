# Kubernetes' way in (issue 14): containerd's CRI plugin with a `runvm` runtime handler (the
# runc v2 shim, BinaryName runvm), the native snapshotter and CNI (bridge + host-local from
# Debian's containernetworking-plugins), driven by our CRI client (tests/e2e/tools/cri). A
# pod with two app containers runs in ONE microVM: both see the pod IP on eth0, one serves
# on localhost and the other reaches it, ExecSync gives output and exit codes in each, the
# test host reaches the pod IP, an app container exiting 4 is reported EXITED with 4, and
# stopping and removing the pod leaves no runvm state, VMM or netns.
# e2e-timeout: 600
. /e2e/lib.sh
need_runvm
command -v containerd >/dev/null || skip "containerd was not put into the test host"
[ -x /e2e/bin/cri-client ] || skip "no CRI client in the test host (gRPC was not installed at build time)"
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] ||
  skip "no CNI plugins in the test host"
[ -f /e2e/images/pause-oci.tar ] || skip "no pause image in the test host"
[ "$(count_vmms)" = 0 ] || fail "a runvm-vmm is already running"
mkdir -p /etc/containerd /var/lib/containerd /run/containerd /etc/cni/net.d /var/lib/cni /var/log/pods
# CRI copies the node's resolv.conf and hosts into each pod.
[ -e /etc/resolv.conf ] || echo "nameserver 10.88.0.1" >/etc/resolv.conf
[ -e /etc/hosts ] || echo "127.0.0.1 localhost" >/etc/hosts
[ -e /etc/hostname ] || echo e2e-host >/etc/hostname
cat >/etc/containerd/config.toml <<'TOML'
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/library/pause:e2e"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runvm]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runvm.options]
        BinaryName = "/e2e/bin/runvm"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
TOML
cat >/etc/cni/net.d/10-pods.conflist <<'JSON'
{"cniVersion": "0.4.0", "name": "pods", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}}]}
JSON
containerd >containerd.log 2>&1 &
ctd=$!
CRI="cri-client --timeout 300"
stop_all() {
  for c in $($CRI ps 2>/dev/null | cut -d' ' -f1); do $CRI rm "$c" >/dev/null 2>&1; done
  [ -n "$pod" ] && { $CRI stopp "$pod" >/dev/null 2>&1; $CRI rmp "$pod" >/dev/null 2>&1; }
  kill $ctd 2>/dev/null
  wait $ctd 2>/dev/null
}
pod=
trap stop_all EXIT
i=0
while [ ! -S /run/containerd/containerd.sock ] && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
[ -S /run/containerd/containerd.sock ] || fail "containerd did not start: $(tail -c 1500 containerd.log)"
for img in busybox pause; do
  ctr -n k8s.io images import --snapshotter native /e2e/images/$img-oci.tar >import.txt 2>&1 ||
    fail "import of $img: $(cat import.txt)"
done
ctrlog() { tail -c 1500 containerd.log; }

start=$(date +%s)
pod=$($CRI runp --name web --uid uid-web-1 --namespace e2e --handler runvm --log-dir /var/log/pods/web 2>runp.err) ||
  fail "RunPodSandbox: $(cat runp.err) $(ctrlog)"
took=$(($(date +%s) - start))
$CRI inspectp "$pod" >podstatus.txt || fail "PodSandboxStatus: $(ctrlog)"
grep -qx 'state=READY' podstatus.txt || fail "the pod is not ready: $(cat podstatus.txt)"
ip=$(sed -n 's/^ip=//p' podstatus.txt)
case $ip in 10.88.0.*) ;; *) fail "pod IP '$ip' is not from the CNI range" ;; esac
[ "$(count_vmms)" = 1 ] || fail "$(count_vmms) runvm-vmm processes after RunPodSandbox"

SB="--sandbox-name web --sandbox-uid uid-web-1 --sandbox-namespace e2e --sandbox-log-dir /var/log/pods/web"
IMG=docker.io/library/busybox:e2e
c1=$($CRI create --pod "$pod" --name server --image $IMG $SB --log-path server.log -- \
  sh -c 'mkdir -p /tmp/w; echo from-server >/tmp/w/index.html; exec httpd -f -p 8080 -h /tmp/w' 2>c1.err) ||
  fail "CreateContainer server: $(cat c1.err) $(ctrlog)"
c2=$($CRI create --pod "$pod" --name client --image $IMG $SB --log-path client.log -- sleep 100000 2>c2.err) ||
  fail "CreateContainer client: $(cat c2.err) $(ctrlog)"
$CRI start "$c1" || fail "StartContainer server: $(ctrlog)"
$CRI start "$c2" || fail "StartContainer client: $(ctrlog)"
[ "$(count_vmms)" = 1 ] || fail "$(count_vmms) runvm-vmm processes for one pod with two containers"

for c in "$c1" "$c2"; do
  $CRI exec "$c" -- ip -o -4 addr show eth0 >addr.txt 2>&1 || fail "ExecSync ip in $c: $(cat addr.txt)"
  grep -q "inet $ip/" addr.txt || fail "container $c does not see the pod IP $ip on eth0: $(cat addr.txt)"
done
out=
i=0
until out=$($CRI exec "$c2" -- wget -q -O - http://127.0.0.1:8080/index.html 2>&1) && [ "$out" = from-server ]; do
  i=$((i + 1))
  [ $i -ge 30 ] && fail "the client did not reach the server on localhost: $out"
  sleep 1
done
$CRI exec "$c1" -- sh -c 'echo on-stdout; echo on-stderr >&2; exit 3' >exec.out 2>exec.err
rc=$?
[ $rc = 3 ] || fail "ExecSync exit code $rc, want 3"
[ "$(cat exec.out)" = on-stdout ] && [ "$(cat exec.err)" = on-stderr ] ||
  fail "ExecSync output: '$(cat exec.out)' / '$(cat exec.err)'"
got=$(timeout 20 wget -q -O - "http://$ip:8080/index.html")
[ "$got" = from-server ] || fail "the test host got '$got' from the pod IP $ip"

c3=$($CRI create --pod "$pod" --name failing --image $IMG $SB --log-path failing.log -- sh -c 'exit 4' 2>c3.err) ||
  fail "CreateContainer failing: $(cat c3.err)"
$CRI start "$c3" || fail "StartContainer failing: $(ctrlog)"
i=0
until $CRI inspect "$c3" >c3.txt && grep -qx 'state=EXITED' c3.txt; do
  i=$((i + 1))
  [ $i -ge 60 ] && fail "the failing container did not exit: $(cat c3.txt)"
  sleep 1
done
grep -qx 'exit_code=4' c3.txt || fail "the failing container's status: $(cat c3.txt)"
$CRI inspect "$c1" | grep -qx 'state=RUNNING' || fail "the server stopped with the failing container"
[ "$(count_vmms)" = 1 ] || fail "$(count_vmms) runvm-vmm processes for one pod with three containers"

for c in "$c3" "$c2" "$c1"; do
  $CRI stop "$c" --timeout 5 >/dev/null || fail "StopContainer $c: $(ctrlog)"
  $CRI rm "$c" >/dev/null || fail "RemoveContainer $c: $(ctrlog)"
done
$CRI stopp "$pod" >/dev/null || fail "StopPodSandbox: $(ctrlog)"
$CRI rmp "$pod" >/dev/null || fail "RemovePodSandbox: $(ctrlog)"
pod=
left=$(ls /run/containerd/runc/k8s.io 2>/dev/null | grep -v "^@create.lock$")
[ -z "$left" ] || fail "runvm state left: $left"
i=0
while [ "$(count_vmms)" != 0 ] && [ $i -lt 20 ]; do sleep 1; i=$((i + 1)); done
[ "$(count_vmms)" = 0 ] || fail "a runvm-vmm is left after RemovePodSandbox"
netns=$(ls /var/run/netns 2>/dev/null)
[ -z "$netns" ] || fail "network namespaces left: $netns"
pass "CRI pod on runvm: RunPodSandbox ${took}s, IP $ip; 3 containers in 1 VMM; localhost shared; pod IP on eth0 in each and reachable from the host; ExecSync output + exit 3; exit 4 reported; nothing left"
