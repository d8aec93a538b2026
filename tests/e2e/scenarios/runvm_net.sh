# The container network (issue 11): a netns shaped like the CNI ptp plugin's (veth with a
# /32 address, MTU 1400, a link-scope route to the gateway, default via it), given to runvm
# by path. The guest NIC takes the veth's name, MAC, MTU, address and routes; 1 MiB goes
# byte-exact both ways (container fetches from a test-host httpd, the test host from an
# httpd in the container); the veth is attached by create (after its hooks), before start;
# after kill/delete no qdisc is left and the test host's network
# is as before.
# e2e-timeout: 400
. /e2e/lib.sh
need_runvm
command -v tc >/dev/null || skip "no iproute2 tc in the test host"
[ -c /dev/net/tun ] || skip "no /dev/net/tun in the test host"
mkdir -p /run/netns
ip netns add ptp || fail "ip netns add failed"
ip link add vh0 mtu 1400 type veth peer name eth0 mtu 1400 netns ptp || fail "veth failed"
ip addr add 10.1.1.1/32 dev vh0 && ip link set vh0 up && ip route add 10.1.1.2/32 dev vh0 ||
  fail "host side of the veth"
ip -n ptp link set lo up && ip -n ptp link set eth0 up && ip -n ptp addr add 10.1.1.2/32 dev eth0 &&
  ip -n ptp route add 10.1.1.1/32 dev eth0 scope link && ip -n ptp route add default via 10.1.1.1 dev eth0 ||
  fail "container side of the veth"
veth_mac=$(ip -n ptp -o link show eth0 | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p')
# DAD may still mark the veth's link-local address tentative here; that is no change.
host_net | sed "s/ tentative//" >net.before

mkdir -p www
head -c 1048576 /dev/urandom >www/blob
want=$(md5sum <www/blob | cut -d' ' -f1)
httpd -f -p 10.1.1.1:8080 -h "$PWD/www" &
httpd_pid=$!

make_bundle "$PWD/b" '["/bin/sh","-c","echo mtu=$(cat /sys/class/net/eth0/mtu) mac=$(cat /sys/class/net/eth0/address); ip -o -4 addr show eth0; ip route; wget -q -O /dev/shm/blob http://10.1.1.1:8080/blob; echo got=$(md5sum </dev/shm/blob); mkdir -p /dev/shm/srv; head -c 1048576 /dev/urandom >/dev/shm/srv/blob2; echo served=$(md5sum </dev/shm/srv/blob2); echo ready; exec httpd -f -p 8080 -h /dev/shm/srv"]'
set_netns_path "$PWD/b" /run/netns/ptp
timeout "$T" runvm --root "$ROOT" create -b "$PWD/b" cn >out.txt 2>err.txt </dev/null ||
  { kill $httpd_pid; fail "create failed: $(tail -c 1500 err.txt)"; }
# The netns was filled before create: the attach happens right after the create hooks.
tc -n ptp qdisc show dev eth0 | grep -q ingress ||
  { kill $httpd_pid; runvm --root "$ROOT" delete -f cn; fail "no ingress qdisc on the veth after create"; }
timeout "$T" runvm --root "$ROOT" start cn 2>>err.txt ||
  { kill $httpd_pid; runvm --root "$ROOT" delete -f cn; fail "start failed: $(tail -c 1500 err.txt)"; }
i=0
while ! grep -q '^ready' out.txt && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
cat out.txt
kill $httpd_pid
grep -q '^ready' out.txt || fail "the container never got ready: $(tail -c 800 out.txt) $(tail -c 800 err.txt)"
grep -q "^mtu=1400 mac=$veth_mac\$" out.txt || fail "guest eth0 is not the veth's MTU/MAC ($veth_mac)"
grep -q 'inet 10.1.1.2/32' out.txt || fail "guest eth0 lacks 10.1.1.2/32"
grep -q '^default via 10.1.1.1 dev eth0' out.txt || fail "guest has no default route via 10.1.1.1"
grep -q "^got=$want" out.txt || fail "the container's download of 1 MiB is not byte-exact"
served=$(sed -n 's/^served=\([0-9a-f]*\).*/\1/p' out.txt)
# "ready" comes just before the exec of httpd: retry until it listens.
i=0
while :; do
  got=$(timeout 20 wget -q -O - http://10.1.1.2:8080/blob2 | md5sum | cut -d' ' -f1)
  [ "$got" = "$served" ] || [ $i -ge 30 ] && break
  sleep 1
  i=$((i + 1))
done
[ -n "$served" ] && [ "$got" = "$served" ] || fail "the test host's download from the container: $got, want $served"
note "guest eth0 = veth (MTU 1400, $veth_mac, 10.1.1.2/32, default via 10.1.1.1); 1 MiB each way byte-exact"
tc -n ptp qdisc show dev eth0 | grep -q ingress || fail "no ingress qdisc on the veth while attached"

runvm --root "$ROOT" kill cn KILL || fail "kill failed"
i=0
while [ "$(status_of cn)" != stopped ] && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
[ "$(status_of cn)" = stopped ] || fail "not stopped after kill"
runvm --root "$ROOT" delete cn || fail "delete failed"
left=$(tc -n ptp qdisc show dev eth0 | grep ingress)
[ -z "$left" ] || fail "ingress qdisc left on the veth after delete: $left"
ip -n ptp link show runvm-tap0 >/dev/null 2>&1 && fail "tap left in the netns after delete"
host_net | sed "s/ tentative//" >net.after
cmp -s net.before net.after || fail "the test host's network changed: $(diff net.before net.after | head -n 20)"
ip netns del ptp
ip link del vh0 2>/dev/null
pass "guest NIC = the ptp veth (MTU 1400, MAC, /32, routes); 1 MiB byte-exact both ways; no qdisc, tap or host change left"
