# runvm run of a busybox bundle in a microVM: the container's output comes back
# and its exit code is runvm's (3 -> 3); state is cleaned up afterwards; `echo | runvm run`
# with args [cat] gets the bytes and the EOF through.
# With the .deb unpacked into the test host (build-test-host.sh --deb), all of it runs on the
# packaged runvm alone (/usr/bin/runvm, its runvm-vmm, guest image and /etc/runvm/config.json),
# after `runvm check` has passed.
. /e2e/lib.sh
need_runvm
want_vmm=/e2e/bin/runvm-vmm want_image=/e2e/bin/runvm-initrd.img mode=build
if use_installed_runvm; then
  mode=package
  want_vmm=/usr/libexec/runvm/runvm-vmm want_image=/usr/lib/runvm/runvm-initrd-$(uname -r).img
  runvm check >check.txt 2>&1
  rc=$?
  cat check.txt
  [ "$rc" = 0 ] || fail "runvm check exited $rc in the test host: $(grep -A1 FAIL check.txt | tr '\n' ' ')"
  grep -q '^ok    kvm ' check.txt || fail "runvm check did not pass KVM: $(head -n2 check.txt)"
  [ -f "$want_image" ] || fail "the package has no guest image for the test host's kernel: $(ls /usr/lib/runvm)"
  note "packaged runvm: runvm check exit 0 ($(sed -n 's/^ok    kvm *//p' check.txt))"
fi
make_bundle "$PWD/b1" '["/bin/sh","-c","echo hello-from-runvm; echo to-stderr >\&2; exit 3"]'
start=$(date +%s)
timeout "$T" runvm --root "$ROOT" run -b "$PWD/b1" c1 >out.txt 2>err.txt
rc=$?
took=$(($(date +%s) - start))
echo "run exit $rc in ${took}s; stdout: $(cat out.txt); stderr: $(cat err.txt)"
grep -q hello-from-runvm out.txt || fail "no container output (exit $rc): $(tail -c 1500 err.txt)"
grep -q to-stderr err.txt || fail "container stderr missing (exit $rc)"
[ "$rc" = 3 ] || fail "exit status $rc, want 3"
[ -e "$ROOT/c1" ] && fail "state of c1 left behind after run"
note "run ok"

make_bundle "$PWD/b3" '["/bin/cat"]'
# stdin from a fifo held open: cat waits, so the running VMM can be looked at first.
mkfifo in3
timeout "$T" runvm --root "$ROOT" run -b "$PWD/b3" c3 <in3 >out3.txt 2>err3.txt &
run3=$!
exec 3>in3
vmm_exe= vmm_cmd= i=0
while [ -z "$vmm_exe" ] && [ $i -lt "$T" ] && kill -0 $run3 2>/dev/null; do
  for d in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline")
    case $cmd in
      *--vsock-uds*"$ROOT/c3/"*) vmm_exe=$(readlink "$d/exe"); vmm_cmd=$cmd; break ;;
    esac
  done
  [ -n "$vmm_exe" ] || { sleep 1; i=$((i + 1)); }
done
echo hi-through-stdin >&3
exec 3>&-
wait $run3
rc=$?
out=$(cat out3.txt)
echo "stdin run exit $rc: '$out' $(cat err3.txt); VMM $vmm_exe: $vmm_cmd"
[ "$vmm_exe" = "$want_vmm" ] || fail "$mode runvm started VMM '$vmm_exe', want $want_vmm"
# Snapshots are on by default: c1 built the template VM of this shape (it booted
# $want_image), c3 starts from it (runtime/vm/vm_template.h).
case "$vmm_cmd" in
  *"--initrd $want_image "*) fail "$mode runvm booted c3 instead of starting it from the template: $vmm_cmd" ;;
  *"--restore "*)
    tdir=$(echo "$vmm_cmd" | sed 's/.*--restore \([^ ]*\).*/\1/')
    grep -q -- "^--initrd=$want_image:" "$tdir/shape.txt" ||
      fail "$mode runvm's VMM restored $tdir, whose template did not boot $want_image: $(cat "$tdir/shape.txt")" ;;
  *) fail "$mode runvm's VMM did not boot $want_image: $vmm_cmd" ;;
esac
[ "$out" = hi-through-stdin ] || fail "stdin not echoed (exit $rc): '$out' $(tail -c 1000 err3.txt)"
[ "$rc" = 0 ] || fail "cat exited $rc, want 0 (EOF must reach it)"
# Volumes: host directories bind-mounted into the container reach it as extra virtio-fs
# shares; "ro" ones refuse writes. Single files (as Docker and CRI bind /etc/hosts and
# /etc/resolv.conf) are bound in the VMM's own mount namespace: the container reads and
# appends to the host file itself, and a read-only one refuses writes.
make_bundle "$PWD/bv" '["sh","-c","cat /vol/in.txt; echo from-guest >/vol/out.txt; ls /ro; if touch /ro/x 2>/dev/null; then echo ro-writable; else echo ro-denied; fi; cat /etc/app.conf; echo appended-in-guest >>/etc/app.conf; cat /etc/ro.conf; if echo x >>/etc/ro.conf 2>/dev/null; then echo rofile-writable; else echo rofile-denied; fi; grep /p/ /proc/self/mountinfo"]'
mkdir -p vol rovol files
echo host-data >vol/in.txt
echo r >rovol/r.txt
echo host-conf >files/app.conf
echo host-ro-conf >files/ro.conf
# runc's spec has a read-only rootfs and /vol, /ro do not exist in it: runvm creates the
# mountpoints on the host before the rootfs is shared read-only.
# Bind options as runc treats them: propagation in the container's own namespace (guest
# shares are shared, as a systemd host's mounts), flags applied, mode=/size= ignored. All
# five mounts of vol use its one share.
prop_mounts=
for p in shared:rshared slave:rslave private:rprivate unbindable:unbindable foreign:nosuid\",\"noexec\",\"mode=755\",\"size=1k; do
  prop_mounts="$prop_mounts{\"destination\": \"/p/${p%%:*}\", \"type\": \"bind\", \"source\": \"$PWD/vol\", \"options\": [\"rbind\", \"${p#*:}\"]}, "
done
grep -q '"readonly": true' "$PWD/bv/config.json" || fail "runvm spec's rootfs is not read-only"
sed -i 's|"mounts": \[|"mounts": [{"destination": "/vol", "type": "bind", "source": "'"$PWD"'/vol", "options": ["rbind", "rw"]}, {"destination": "/ro", "type": "bind", "source": "'"$PWD"'/rovol", "options": ["rbind", "ro"]}, {"destination": "/etc/app.conf", "type": "bind", "source": "'"$PWD"'/files/app.conf", "options": ["rbind", "rprivate"]}, {"destination": "/etc/ro.conf", "type": "bind", "source": "'"$PWD"'/files/ro.conf", "options": ["bind", "ro"]},'"$prop_mounts"'|' "$PWD/bv/config.json"
timeout "$T" runvm --root "$ROOT" run -b "$PWD/bv" cv >ov 2>ev
rc=$?
echo "volume run: rc=$rc out=$(tr '\n' '|' <ov) err=$(tail -c 600 ev)"
[ "$rc" = 0 ] || fail "volume run exited $rc: $(tail -c 1000 ev)"
grep -qx host-data ov || fail "container did not read the volume: $(cat ov)"
grep -qx r.txt ov || fail "read-only volume not listed: $(cat ov)"
grep -qx ro-denied ov || fail "read-only volume was writable"
[ "$(cat vol/out.txt 2>/dev/null)" = from-guest ] || fail "container write did not reach the host volume"
[ -e rovol/x ] && fail "read-only volume changed on the host"
[ -d bv/rootfs/vol ] && [ -d bv/rootfs/ro ] || fail "mountpoints not created in the rootfs"
grep -qx host-conf ov || fail "container did not read the bind-mounted file: $(cat ov)"
[ "$(cat files/app.conf)" = "host-conf
appended-in-guest" ] || fail "container append did not reach the host file: $(cat files/app.conf)"
grep -qx host-ro-conf ov || fail "container did not read the read-only file: $(cat ov)"
grep -qx rofile-denied ov || fail "read-only bind-mounted file was writable"
[ "$(cat files/ro.conf)" = host-ro-conf ] || fail "read-only file changed on the host"
[ -f bv/rootfs/etc/app.conf ] || fail "file mountpoint not created as a file in the rootfs"
prop_of() { grep " /p/$1 " ov | sed 's/ - .*//' | cut -d' ' -f6-; }
echo "propagation: shared=[$(prop_of shared)] slave=[$(prop_of slave)] private=[$(prop_of private)] unbindable=[$(prop_of unbindable)] foreign=[$(prop_of foreign)]"
prop_of shared | grep -q "shared:" || fail "rshared bind is not shared in the container: $(prop_of shared)"
prop_of slave | grep -q "master:" || fail "rslave bind is not a slave: $(prop_of slave)"
prop_of slave | grep -q "shared:" && fail "rslave bind is shared: $(prop_of slave)"
prop_of private | grep -q "shared:\|master:" && fail "rprivate bind is not private: $(prop_of private)"
prop_of unbindable | grep -q "unbindable" || fail "unbindable bind: $(prop_of unbindable)"
prop_of foreign | grep -q "nosuid,nodev,noexec\|nosuid,noexec" || fail "bind with mode=/size= lost nosuid/noexec or is missing: $(prop_of foreign)"
grep -q "$PWD/files\|/files/rw\|/files/ro" /proc/self/mountinfo && fail "a file bind mount leaked into the host's mount namespace"
pass "$mode runvm ($want_vmm): hello-from-runvm on stdout, stderr relayed, exit 3 (${took}s), state removed; stdin piped through run with EOF; rw and ro volumes on a read-only rootfs (mountpoints made on the host); rw and ro single-file bind mounts (host file appended, ro refused, no host mount left); bind propagation shared/slave/private/unbindable and a bind with mode=/size= as under runc"
