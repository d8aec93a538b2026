# containerd drives runvm as it drives runc: `ctr run --runc-binary runvm` (containerd's
# io.containerd.runc.v2 shim calling runvm create/start/delete with --log-format json) of a
# busybox image imported from an OCI archive; output and exit status come back; then a
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
ctr() { command ctr -n e2e "$@"; }
ctr images import /e2e/images/busybox-oci.tar >import.txt 2>&1 || fail "image import: $(cat import.txt)"
IMG=docker.io/library/busybox:e2e
RUN="--snapshotter native --runc-binary /e2e/bin/runvm"

start=$(date +%s)
timeout "$T" ctr run --rm $RUN $IMG t1 sh -c 'echo hello-from-containerd; exit 5' >o1 2>e1
rc=$?
took=$(($(date +%s) - start))
echo "ctr run: rc=$rc in ${took}s out=$(cat o1) err=$(tail -c 800 e1)"
grep -q hello-from-containerd o1 || fail "no output through containerd (rc $rc): $(tail -c 800 e1) $(tail -c 800 containerd.log)"
[ "$rc" = 5 ] || fail "ctr run exit $rc, want 5"
ctr containers ls -q | grep -qx t1 && fail "container t1 left after --rm"

timeout "$T" ctr run -d $RUN $IMG t2 sleep 1000 >o2 2>e2 || fail "ctr run -d: $(cat e2)"
out=$(timeout 60 ctr task exec --exec-id e1 t2 sh -c 'echo exec-in-vm; exit 4' 2>e3)
rc=$?
[ "$out" = exec-in-vm ] || fail "ctr task exec output '$out': $(cat e3)"
[ "$rc" = 4 ] || fail "ctr task exec exit $rc, want 4"
timeout 30 ctr task ps t2 >ps.txt 2>&1 || fail "ctr task ps: $(cat ps.txt)"
ctr task pause t2 || fail "ctr task pause"
ctr task ls | grep t2 | grep -q PAUSED || fail "t2 not PAUSED: $(ctr task ls)"
ctr task resume t2 || fail "ctr task resume"
ctr task ls | grep t2 | grep -q RUNNING || fail "t2 not RUNNING after resume: $(ctr task ls)"
ctr task kill -s KILL t2 || fail "ctr task kill"
i=0
while ! ctr task ls | grep t2 | grep -q STOPPED && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
ctr task ls | grep t2 | grep -q STOPPED || fail "t2 not STOPPED after kill: $(ctr task ls)"
ctr task rm t2 >/dev/null || fail "ctr task rm"
ctr containers rm t2 || fail "ctr containers rm"
[ -z "$(ls /run/containerd/runc/e2e 2>/dev/null)" ] || fail "runvm state left: $(ls /run/containerd/runc/e2e)"
pass "ctr run --runc-binary runvm: output + exit 5 (${took}s); task exec (exit 4), ps ($(($(wc -l <ps.txt) - 1)) pids), pause/resume, kill KILL -> STOPPED, rm; no state left"
