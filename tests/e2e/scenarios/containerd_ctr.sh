# containerd drives runvm as it drives runc: `ctr run --runc-binary runvm` (containerd's
# io.containerd.runc.v2 shim calling runvm create/start/delete with --log-format json) of a
# busybox image imported from an OCI archive; output and exit status come back (with a
# file bind-mounted over /etc/hosts, as Docker and CRI do); then a
# detached task gets `ctr task exec`, `ps`, pause/resume, kill -s KILL and delete.
# e2e-timeout: 400
. /e2e/lib.sh
need_runvm
command -v containerd >/dev/null || skip "containerd was not put into the test host"
[ -f /e2e/images/busybox-oci.tar ] || skip "no busybox OCI image in the test host"
mkdir -p /etc/containerd /var/lib/containerd /run/containerd
cat >/etc/containerd/config.toml <<'TOML'
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
TOML
containerd >containerd.log 2>&1 &
ctd=$!
stop_containerd() { kill $ctd 2>/dev/null; wait $ctd 2>/dev/null; }
trap stop_containerd EXIT
i=0
while [ ! -S /run/containerd/containerd.sock ] && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
[ -S /run/containerd/containerd.sock ] || fail "containerd did not start: $(tail -c 1500 containerd.log)"
# A variable, not a function: `timeout` runs ctr itself.
CTR="ctr -n e2e"
$CTR images import --snapshotter native /e2e/images/busybox-oci.tar >import.txt 2>&1 || fail "image import: $(cat import.txt)"
IMG=docker.io/library/busybox:e2e
RUN="--snapshotter native --runc-binary /e2e/bin/runvm"

# A read-only single-file bind mount over the image's /etc/hosts, as Docker and CRI do it.
echo "10.9.8.7 e2e-host-entry" >hosts
start=$(date +%s)
timeout "$T" $CTR run --rm $RUN --mount "type=bind,src=$PWD/hosts,dst=/etc/hosts,options=rbind:ro" \
  $IMG t1 sh -c 'echo hello-from-containerd; cat /etc/hosts; exit 5' >o1 2>e1
rc=$?
took=$(($(date +%s) - start))
echo "ctr run: rc=$rc in ${took}s out=$(cat o1) err=$(tail -c 800 e1)"
grep -q hello-from-containerd o1 || fail "no output through containerd (rc $rc): $(tail -c 800 e1) $(tail -c 800 containerd.log)"
[ "$rc" = 5 ] || fail "ctr run exit $rc, want 5"
grep -qx "10.9.8.7 e2e-host-entry" o1 || fail "the bind-mounted /etc/hosts did not reach the container: $(cat o1)"
$CTR containers ls -q | grep -qx t1 && fail "container t1 left after --rm"

timeout "$T" $CTR run -d $RUN $IMG t2 sleep 1000 >o2 2>e2 || fail "$CTR run -d: $(cat e2)"
out=$(timeout 60 $CTR task exec --exec-id e1 t2 sh -c 'echo exec-in-vm; exit 4' 2>e3)
rc=$?
[ "$out" = exec-in-vm ] || fail "$CTR task exec output '$out': $(cat e3)"
[ "$rc" = 4 ] || fail "$CTR task exec exit $rc, want 4"
timeout 30 $CTR task ps t2 >ps.txt 2>&1 || fail "$CTR task ps: $(cat ps.txt)"
$CTR task pause t2 || fail "$CTR task pause"
$CTR task ls | grep t2 | grep -q PAUSED || fail "t2 not PAUSED: $($CTR task ls)"
$CTR task resume t2 || fail "$CTR task resume"
$CTR task ls | grep t2 | grep -q RUNNING || fail "t2 not RUNNING after resume: $($CTR task ls)"
$CTR task kill -s KILL t2 || fail "$CTR task kill"
i=0
while ! $CTR task ls | grep t2 | grep -q STOPPED && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
$CTR task ls | grep t2 | grep -q STOPPED || fail "t2 not STOPPED after kill: $($CTR task ls)"
$CTR task rm t2 >/dev/null || fail "$CTR task rm"
$CTR containers rm t2 || fail "$CTR containers rm"
left=$(ls /run/containerd/runc/e2e 2>/dev/null | grep -v "^@create.lock$")  # the root lock stays, as runc's root does
[ -z "$left" ] || fail "runvm state left: $left"
pass "ctr run --runc-binary runvm: output + exit 5 (${took}s), a bind-mounted /etc/hosts file; task exec (exit 4), ps ($(($(wc -l <ps.txt) - 1)) pids), pause/resume, kill KILL -> STOPPED, rm; no state left"
