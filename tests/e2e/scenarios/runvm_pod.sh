# Pods (issue 14): a sandbox container with containerd's CRI annotations boots the pod's
# microVM in a netns shaped like a CNI one (veth, /32, default route); two app containers
# of that pod join the same VM (exactly one runvm-vmm) with their own rootfs, a directory
# and a file bind mount placed into the running VMM. They share the pod's network: both
# see the pod IP on eth0, B reaches A's server on localhost, the test host reaches it on
# the pod IP; a volume both bind is one directory for both. exec and exit codes work per
# container; a second member on the same rootfs directory is refused; deleting an app container takes its
# mounts out of the VMM; a member too large for the pod VM is refused; a killed VMM stops every
# container of the pod; deleting the pod leaves no state, VMM or qdisc.
# e2e-timeout: 500
. /e2e/lib.sh
need_runvm
command -v tc >/dev/null || skip "no iproute2 tc in the test host"
[ -c /dev/net/tun ] || skip "no /dev/net/tun in the test host"
[ "$(count_vmms)" = 0 ] || fail "a runvm-vmm is already running"
mkdir -p /run/netns
ip netns add pod || fail "ip netns add failed"
ip link add vp0 type veth peer name eth0 netns pod || fail "veth failed"
ip addr add 10.2.2.1/32 dev vp0 && ip link set vp0 up && ip route add 10.2.2.2/32 dev vp0 ||
  fail "host side of the veth"
ip -n pod link set lo up && ip -n pod link set eth0 up && ip -n pod addr add 10.2.2.2/32 dev eth0 &&
  ip -n pod route add 10.2.2.1/32 dev eth0 scope link && ip -n pod route add default via 10.2.2.1 dev eth0 ||
  fail "pod side of the veth"

# in_pod DIR TYPE: the CRI annotations of pod "pod1" and its network namespace.
in_pod() {
  sed -i 's|"ociVersion": "\([^"]*\)",|"ociVersion": "\1", "annotations": {"io.kubernetes.cri.container-type": "'"$2"'", "io.kubernetes.cri.sandbox-id": "pod1"},|' "$1/config.json"
  grep -q '"io.kubernetes.cri.container-type": "'"$2"'"' "$1/config.json" || fail "could not annotate $1"
  set_netns_path "$1" /run/netns/pod
}
cleanup() {
  for c in cd cbig cdup cb ca pod1; do runvm --root "$ROOT" delete -f $c >/dev/null 2>&1; done
}

make_bundle "$PWD/sb" '["sleep","100000"]'
in_pod "$PWD/sb" sandbox
timeout "$T" runvm --root "$ROOT" create -b "$PWD/sb" pod1 >sb.out 2>sb.err </dev/null ||
  fail "sandbox create failed: $(tail -c 1500 sb.err)"
timeout "$T" runvm --root "$ROOT" start pod1 2>>sb.err || { cleanup; fail "sandbox start failed: $(tail -c 1500 sb.err)"; }
vmm=$(vmm_pid_of pod1)
[ -n "$vmm" ] || { cleanup; fail "no runvm-vmm for the sandbox"; }

# (No "|" in the args: make_bundle's sed delimiter.)
make_bundle "$PWD/a" '["/bin/sh","-c","echo A: $(ip -o -4 addr show eth0); mkdir -p /dev/shm/www; echo hello-from-a >/dev/shm/www/index.html; echo note-from-a >/shared/note; echo A:ready; exec httpd -f -p 8080 -h /dev/shm/www"]'
in_pod "$PWD/a" container
# A volume both app containers bind (a pod's emptyDir): placed once, one inode in the guest.
mkdir -p shared
share_mount='{"destination": "/shared", "type": "bind", "source": "'"$PWD/shared"'", "options": ["rbind", "rw"]}'
sed -i 's|"mounts": \[|"mounts": ['"$share_mount"',|' a/config.json
timeout "$T" runvm --root "$ROOT" create -b "$PWD/a" ca >a.out 2>a.err </dev/null ||
  { cleanup; fail "create of app container A failed: $(tail -c 1500 a.err)"; }
timeout "$T" runvm --root "$ROOT" start ca 2>>a.err || { cleanup; fail "start of A failed: $(tail -c 1500 a.err)"; }
i=0
while ! grep -q '^A:ready' a.out && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
grep -q '^A:ready' a.out || { cleanup; fail "A never got ready: $(tail -c 600 a.out) $(tail -c 800 a.err)"; }
[ "$(count_vmms)" = 1 ] || { cleanup; fail "$(count_vmms) runvm-vmm processes for one pod"; }
grep -q '/pod/rootfs/ca-' /proc/$vmm/mountinfo || { cleanup; fail "A's rootfs is not mounted in the pod VMM"; }

out=$(timeout "$T" runvm --root "$ROOT" exec ca cat /dev/shm/www/index.html 2>&1)
[ "$out" = hello-from-a ] || { cleanup; fail "exec in A printed: $out; A's stderr: $(tail -c 800 a.err)"; }
timeout "$T" runvm --root "$ROOT" exec ca sh -c 'exit 5'
rc=$?
[ $rc = 5 ] || { cleanup; fail "exec in A exited $rc, want 5"; }

mkdir -p vol && echo data-from-host >vol/file && echo pod-one >podname
make_bundle "$PWD/b" '["/bin/sh","-c","echo B: $(ip -o -4 addr show eth0); i=0; until wget -q -O - http://127.0.0.1:8080/index.html; do i=$((i+1)); [ $i -gt 30 ] \&\& exit 9; sleep 1; done; cat /data/file /etc/podname /shared/note; if touch /data/x 2>/dev/null; then echo B:rw; else echo B:ro; fi; exit 7"]'
in_pod "$PWD/b" container
sed -i 's|"mounts": \[|"mounts": ['"$share_mount"', {"destination": "/data", "type": "bind", "source": "'"$PWD/vol"'", "options": ["rbind", "ro"]}, {"destination": "/etc/podname", "type": "bind", "source": "'"$PWD/podname"'", "options": ["bind", "ro"]},|' b/config.json
grep -q '"/etc/podname"' b/config.json || { cleanup; fail "could not add B's mounts"; }
timeout "$T" runvm --root "$ROOT" run -b "$PWD/b" cb >b.out 2>b.err </dev/null
rc=$?
cat a.out b.out
[ $rc = 7 ] || { cleanup; fail "B exited $rc, want 7: $(tail -c 600 b.out) $(tail -c 800 b.err)"; }
grep -q '^A:.*inet 10.2.2.2/32' a.out || { cleanup; fail "A does not see the pod IP on eth0"; }
grep -q '^B:.*inet 10.2.2.2/32' b.out || { cleanup; fail "B does not see the pod IP on eth0"; }
grep -q '^hello-from-a$' b.out || { cleanup; fail "B did not reach A's server on localhost"; }
grep -q '^data-from-host$' b.out || { cleanup; fail "B's directory bind mount is missing"; }
grep -q '^pod-one$' b.out || { cleanup; fail "B's file bind mount is missing"; }
grep -q '^note-from-a$' b.out || { cleanup; fail "B does not see what A wrote in the shared volume"; }
[ "$(cat shared/note)" = note-from-a ] || { cleanup; fail "A's write did not reach the host's shared directory"; }
grep -q '^B:ro$' b.out || { cleanup; fail "B's read-only volume was writable"; }
[ -e vol/x ] && { cleanup; fail "B wrote into its read-only volume on the host"; }
[ "$(grep -c '/pod/volumes/' /proc/$vmm/mountinfo)" = 1 ] ||
  { cleanup; fail "after B's run the VMM should hold only A's shared volume: $(grep /pod/volumes/ /proc/$vmm/mountinfo)"; }
# A second container on A's rootfs directory is refused (one guest inode, two names).
timeout "$T" runvm --root "$ROOT" create -b "$PWD/a" cdup >/dev/null 2>dup.err </dev/null &&
  { cleanup; fail "a second member on A's rootfs was created"; }
grep -q 'also the root filesystem of container ca' dup.err || { cleanup; fail "shared rootfs error: $(cat dup.err)"; }
runvm --root "$ROOT" state cb >/dev/null 2>&1 && { cleanup; fail "run left B's state"; }

got=$(timeout 20 wget -q -O - http://10.2.2.2:8080/index.html)
[ "$got" = hello-from-a ] || { cleanup; fail "the test host got \"$got\" from the pod IP"; }
[ "$(count_vmms)" = 1 ] || { cleanup; fail "$(count_vmms) runvm-vmm processes for one pod"; }

# httpd is pid 1 of its pid namespace and has no SIGTERM handler: as under runc, only KILL ends it.
runvm --root "$ROOT" kill ca KILL || { cleanup; fail "kill of A failed"; }
i=0
while [ "$(status_of ca)" != stopped ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
[ "$(status_of ca)" = stopped ] || { cleanup; fail "A is not stopped after kill"; }
[ "$(status_of pod1)" = running ] || { cleanup; fail "the sandbox stopped with A"; }
runvm --root "$ROOT" delete ca || { cleanup; fail "delete of A failed"; }
grep -q '/pod/rootfs/ca-' /proc/$vmm/mountinfo && { cleanup; fail "A's rootfs stayed mounted in the VMM"; }
grep -q '/pod/volumes/' /proc/$vmm/mountinfo && { cleanup; fail "the shared volume stayed mounted after its last user left"; }

# A member whose memory limit does not fit in the pod's VM is refused before anything is placed.
make_bundle "$PWD/big" '["sleep","1000"]'
in_pod "$PWD/big" container
sed -i 's|"resources": {|"resources": {"memory": {"limit": 107374182400},|' big/config.json
grep -q 107374182400 big/config.json || { cleanup; fail "could not set big's memory limit"; }
timeout "$T" runvm --root "$ROOT" create -b "$PWD/big" cbig >/dev/null 2>big.err </dev/null &&
  { cleanup; fail "a member larger than the pod VM was created"; }
grep -q 'does not fit in the pod' big.err || { cleanup; fail "the oversized member's error: $(cat big.err)"; }
runvm --root "$ROOT" state cbig >/dev/null 2>&1 && { cleanup; fail "the refused member left state"; }

# A VMM that dies takes the whole pod: the sandbox and a running member become stopped.
make_bundle "$PWD/d" '["sleep","100000"]'
in_pod "$PWD/d" container
timeout "$T" runvm --root "$ROOT" create -b "$PWD/d" cd >/dev/null 2>d.err </dev/null &&
  timeout "$T" runvm --root "$ROOT" start cd 2>>d.err || { cleanup; fail "member D: $(tail -c 800 d.err)"; }
kill -9 "$vmm"
i=0
while { [ "$(status_of cd)" != stopped ] || [ "$(status_of pod1)" != stopped ]; } && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
[ "$(status_of cd)" = stopped ] || { cleanup; fail "member D is $(status_of cd) after its pod's VMM was killed"; }
[ "$(status_of pod1)" = stopped ] || { cleanup; fail "the sandbox is $(status_of pod1) after its VMM was killed"; }
runvm --root "$ROOT" delete cd || { cleanup; fail "delete of D after the VMM died failed"; }
runvm --root "$ROOT" delete pod1 || { cleanup; fail "delete of the sandbox failed"; }
left=$(runvm --root "$ROOT" list -q)
[ -z "$left" ] || fail "runvm state left: $left"
i=0
while [ "$(count_vmms)" != 0 ] && [ $i -lt 20 ]; do sleep 1; i=$((i + 1)); done
[ "$(count_vmms)" = 0 ] || fail "a runvm-vmm is left"
left=$(tc -n pod qdisc show dev eth0 | grep ingress)
[ -z "$left" ] || fail "ingress qdisc left on the pod's veth: $left"
ip netns del pod
ip link del vp0 2>/dev/null
pass "one VMM for a sandbox + 2 app containers; pod IP on eth0 in both; localhost shared; binds (dir ro, file, a volume shared by both) placed into the VMM; exec/exit codes per container; shared rootfs refused; oversized member refused; killed VMM stops the pod; nothing left"
