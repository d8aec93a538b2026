# The OCI config applied inside the microVM, checked from inside the container: user and
# additional gids, cwd, env, hostname, rlimits, capabilities, noNewPrivileges, oomScoreAdj,
# read-only rootfs, masked and read-only paths, a seccomp profile denying mkdir, a user
# namespace with uid/gid maps. Then the
# failure paths: a broken config.json names the problem and leaves no state and no VM; a
# VMM killed with SIGKILL makes state report stopped and delete clean up; 10 containers
# run at once.
# e2e-timeout: 600
. /e2e/lib.sh
need_runvm
make_bundle "$PWD/b7" '["true"]'
cat >"$PWD/b7/config.json" <<'JSON'
{
  "ociVersion": "1.2.0",
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "vm-config-test",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0, "additionalGids": [2000]},
    "args": ["sh", "-c", "echo id=$(id -u):$(id -g) groups=$(id -G); echo cwd=$(pwd); echo env=$FOO; echo host=$(hostname); echo nofile=$(ulimit -n); grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status; echo oom=$(cat /proc/self/oom_score_adj); touch /written 2>/dev/null && echo rootfs=rw || echo rootfs=ro; echo masked=$(wc -c </proc/cpuinfo); (echo x >/proc/sys/kernel/hostname) 2>&1 | grep -q Read-only && echo procsys=ro || echo procsys=rw; mkdir /tmp/denied 2>/dev/null && echo mkdir=allowed || echo mkdir=denied; touch /tmp/ok && echo tmp=rw; echo uidmap=$(cat /proc/self/uid_map); touch /out/made-inside"],
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FOO=bar-from-config"],
    "cwd": "/tmp",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL"],
      "effective": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL"],
      "permitted": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1234, "soft": 1234}],
    "noNewPrivileges": true,
    "oomScoreAdj": 123
  },
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]},
    {"destination": "/out", "type": "bind", "source": "OUTDIR", "options": ["rbind", "rw"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"}],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "maskedPaths": ["/proc/cpuinfo"],
    "readonlyPaths": ["/proc/sys"],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ALLOW",
      "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
    }
  }
}
JSON
# User namespace (issue 17 item 4): the container sees the configured map, and a file it
# creates on a volume reaches the host owned by the mapped uid/gid.
mkdir -p "$PWD/uout" && chmod 777 "$PWD/uout"
sed -i "s|OUTDIR|$PWD/uout|" "$PWD/b7/config.json"
timeout "$T" runvm --root "$ROOT" run -b "$PWD/b7" c7 >o7 2>e7
rc=$?
echo "config run: rc=$rc"; cat o7
[ "$rc" = 0 ] || fail "run exited $rc: $(tail -c 1500 e7)"
for want in "id=0:0 groups=0 2000" "cwd=/tmp" "env=bar-from-config" "host=vm-config-test" \
            "nofile=1234" "CapEff:	0000000000000023" "NoNewPrivs:	1" "oom=123" "rootfs=ro" \
            "masked=0" "procsys=ro" "mkdir=denied" "tmp=rw"; do
  grep -qxF "$want" o7 || fail "inside the container: want '$want', got: $(tr '\n' '|' <o7)"
done
[ -e "$PWD/b7/rootfs/written" ] && fail "read-only rootfs was written on the host"
grep -qx "uidmap= 0 100000 65536" o7 || fail "uid_map in the container: $(grep uidmap o7)"
[ "$(stat -c %u:%g "$PWD/uout/made-inside" 2>&1)" = 100000:100000 ] ||
  fail "file made by the container's root on a volume: $(stat -c %u:%g "$PWD/uout/made-inside" 2>&1), want 100000:100000"
note "config applied"

# A broken config.json: the validation message, no state, no VM left.
make_bundle "$PWD/b8" '["true"]'
sed -i 's|"cwd": "/"|"cwd": "relative/dir"|' "$PWD/b8/config.json"
before=$(count_vmms)
runvm --root "$ROOT" create -b "$PWD/b8" c8 >o8 2>e8 && fail "create of a broken config succeeded"
echo "broken config: $(cat e8)"
grep -q "process.cwd" e8 || fail "error does not name process.cwd: $(cat e8)"
[ -e "$ROOT/c8" ] && fail "state left after a failed create"
[ "$(count_vmms)" = "$before" ] || fail "a VMM was left running"

# SIGKILL of the VMM: the container is stopped, delete cleans up.
make_bundle "$PWD/b9" '["sleep","1000"]'
timeout "$T" runvm --root "$ROOT" run -d -b "$PWD/b9" c9 </dev/null >/dev/null 2>e9 || fail "run -d: $(cat e9)"
vmm=$(vmm_pid_of c9)
[ -n "$vmm" ] || fail "no VMM process for c9"
kill -KILL "$vmm"
i=0
while [ "$(status_of c9)" != stopped ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
[ "$(status_of c9)" = stopped ] || fail "state after SIGKILL of the VMM: $(status_of c9)"
runvm --root "$ROOT" delete c9 || fail "delete after VMM death failed"
[ -e "$ROOT/c9" ] && fail "state of c9 left after delete"
note "VMM SIGKILL -> stopped ($i s), delete clean"

# 10 containers at once, each printing its id.
start=$(date +%s)
for n in 0 1 2 3 4 5 6 7 8 9; do
  make_bundle "$PWD/m$n" "[\"sh\",\"-c\",\"echo many-$n\"]"
  sed -i 's|"annotations": {|"annotations": {"io.runvm.vm.memory_mib": "160",|' "$PWD/m$n/config.json"
  grep -q memory_mib "$PWD/m$n/config.json" ||
    sed -i 's|"ociVersion"|"annotations": {"io.runvm.vm.memory_mib": "160"}, "ociVersion"|' "$PWD/m$n/config.json"
  (timeout 400 runvm --root "$ROOT" run -b "$PWD/m$n" many$n >"many$n.out" 2>"many$n.err"; echo $? >"many$n.rc") &
done
wait
took=$(($(date +%s) - start))
ok=0
for n in 0 1 2 3 4 5 6 7 8 9; do
  if [ "$(cat many$n.rc)" = 0 ] && grep -qx "many-$n" "many$n.out"; then ok=$((ok + 1)); else
    echo "many$n: rc=$(cat many$n.rc) out=$(cat many$n.out) err=$(tail -c 300 many$n.err)"; fi
done
[ "$ok" = 10 ] || fail "$ok of 10 concurrent containers ran"
pass "config inside the VM (user/groups, cwd, env, hostname, NOFILE, CapEff 0x23, NNP, oom, ro rootfs, masked + ro paths, seccomp mkdir denied, user namespace 0->100000 with the file on a volume owned 100000); broken config -> process.cwd error, nothing left; VMM SIGKILL -> stopped, delete; 10 containers at once in ${took}s"
