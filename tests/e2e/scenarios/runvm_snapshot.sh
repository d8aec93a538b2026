# Starting containers from a template VM's snapshot (issue 15, runtime/vm/vm_template.h):
# the first `runvm run` of a shape builds the template (a VM booted to its agent and
# saved), later ones restore it. Ten containers restored at once each print their own
# random bytes (the agent reseeds the guest's RNG) and the host's time; a damaged
# template is refused by runvm-vmm and runvm boots instead (and rebuilds it next time);
# "snapshots": false boots. Timings go to the log (bench/start-bench.sh measures them).
. /e2e/lib.sh
need_runvm
use_installed_runvm || true
base=/etc/runvm/config.json
cfg_with() {  # cfg_with KEYS_JSON_FRAGMENT OUT: the system config plus keys in front
  if [ -f "$base" ]; then
    { echo "{$1,"; tail -c +2 "$base"; } >"$2"
  else
    echo "{$1}" >"$2"
  fi
  grep -q "$(echo "$1" | cut -c1-12)" "$2" || fail "could not write $2: $(cat "$2")"
}
snap=$PWD/templates
cfg_with "\"snapshot_dir\": \"$snap\"" snap.json
export RUNVM_CONFIG=$PWD/snap.json

make_bundle "$PWD/b" '["/bin/sh","/bin/snapinfo.sh"]'
# 16 random bytes as hex and the guest's clock (a script: make_bundle's sed takes no "|").
cat >"$PWD/b/rootfs/bin/snapinfo.sh" <<'SCRIPT'
set -- $(od -An -tx1 -N16 /dev/urandom)
r=
for b in "$@"; do r=$r$b; done
echo "rand=$r now=$(date +%s)"
SCRIPT
t0=$(date +%s)
timeout "$T" runvm --root "$ROOT" --debug --log "$PWD/first.log" run -b "$PWD/b" s0 >out0.txt 2>err0.txt </dev/null
rc=$?
t1=$(date +%s)
echo "first run (template build + restore): exit $rc in $((t1 - t0))s: $(cat out0.txt) $(tail -c 300 err0.txt)"
[ "$rc" = 0 ] || fail "first run exited $rc: $(tail -c 1500 err0.txt)"
# `runvm --debug`'s start trace has the step `restored` only for a VM from a snapshot.
restored() { grep -a -q 'start trace (ms):.* restored=' "$1" 2>/dev/null; }
restored first.log || fail "the first run did not start from a snapshot: $(tail -c 1500 err0.txt) $(grep -a 'start trace' first.log)"
grep -a -o 'start trace (ms): .*' first.log | head -n 1
set -- "$snap"/*/vm.state
[ -f "$1" ] || fail "no template in $snap: $(ls -la "$snap" 2>&1)"
tdir=$(dirname "$1")
note "template $(basename "$tdir"): $(du -sk "$tdir/memory" | cut -f1) KiB of memory on disk, state $(wc -c <"$tdir/vm.state") bytes"

# Ten at once, each from the snapshot.
t0=$(date +%s)
i=1
while [ $i -le 10 ]; do
  timeout "$T" runvm --root "$ROOT" --debug --log "$PWD/log$i" run -b "$PWD/b" "s$i" >"out$i.txt" 2>"err$i.txt" </dev/null &
  i=$((i + 1))
done
wait
t1=$(date +%s)
i=1
while [ $i -le 10 ]; do
  grep -q "^rand=[0-9a-f]\{32\} now=" "out$i.txt" || fail "container s$i printed '$(cat "out$i.txt")': $(tail -c 800 "err$i.txt")"
  restored "log$i" || fail "s$i booted instead of restoring: $(tail -c 600 "err$i.txt")"
  [ -e "$ROOT/s$i" ] && fail "state of s$i left behind"
  i=$((i + 1))
done
cat out*.txt
dups=$(sed -n 's/^rand=\([0-9a-f]*\).*/\1/p' out*.txt | sort | uniq -d)
[ -z "$dups" ] || fail "restored VMs printed the same random bytes: $dups"
i=1
while [ $i -le 10 ]; do
  f=out$i.txt i=$((i + 1))
  now=$(sed -n 's/.* now=\([0-9]*\)$/\1/p' "$f")
  [ -n "$now" ] && [ "$now" -ge "$t0" ] && [ "$now" -le "$((t1 + 1))" ] ||
    fail "$f: the guest's clock said $now, the host's was $t0..$t1 (not set after restore)"
done
note "10 restored containers at once in $((t1 - t0))s; 11 distinct random seeds; guest clocks set"

# A damaged template: runvm-vmm refuses it, runvm boots, and the next start rebuilds it.
printf 'garbage' | dd of="$tdir/vm.state" bs=1 seek=40 conv=notrunc 2>/dev/null
timeout "$T" runvm --root "$ROOT" run -b "$PWD/b" sbad >outb.txt 2>errb.txt </dev/null
rc=$?
echo "run on a damaged template: exit $rc: $(cat outb.txt) $(tail -c 400 errb.txt)"
[ "$rc" = 0 ] && grep -q "^rand=" outb.txt || fail "no fallback to a boot: $(tail -c 1500 errb.txt)"
grep -q "did not start.*checksum" errb.txt || fail "the damaged snapshot was not named: $(tail -c 800 errb.txt)"
[ -e "$tdir" ] && fail "the damaged template was kept"
timeout "$T" runvm --root "$ROOT" --debug --log "$PWD/logr" run -b "$PWD/b" sre >outr.txt 2>errr.txt </dev/null || fail "run after the fallback failed: $(tail -c 800 errr.txt)"
restored logr || fail "the template was not rebuilt: $(tail -c 600 errr.txt)"
note "damaged template refused, booted instead, rebuilt on the next start"

# Switched off: a boot, no template touched.
cfg_with "\"snapshots\": false, \"snapshot_dir\": \"$PWD/unused\"" off.json
RUNVM_CONFIG=$PWD/off.json timeout "$T" runvm --root "$ROOT" --debug --log "$PWD/logo" run -b "$PWD/b" soff >outo.txt 2>erro.txt </dev/null || fail "run with snapshots off failed: $(tail -c 800 erro.txt)"
restored logo && fail "snapshots off still restored: $(grep -a 'start trace' logo)"
grep -q "snapshot" erro.txt && fail "snapshots off still looked for one: $(cat erro.txt)"
[ -e "$PWD/unused" ] && fail "snapshots off made $PWD/unused"
grep -q "^rand=" outo.txt || fail "no output with snapshots off"
note "snapshots off: booted"
pass "template built and restored, 10 at once with distinct seeds and set clocks, damaged template refused, snapshots off boots"
