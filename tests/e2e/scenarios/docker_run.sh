# Docker drives runvm (issue 11 part 2): Debian's dockerd with daemon.json `runtimes.runvm`
# (vfs storage on tmpfs, iptables off: the test host has none), a busybox image from
# `docker load`, and real docker command lines: run with stdin, stderr and exit status; -t;
# -d + exec, logs, ps, inspect's IP; the container fetches from an httpd on docker0 and the
# test host fetches from it by IP and through -p (docker-proxy); two containers on a
# user-defined network; --network none (only lo); stop (SIGKILL after the
# grace period), kill, rm -f.
# (No wget -T: Debian's static busybox wget segfaults with it; timeout(1) bounds it.)
# Afterwards no runvm state, no runvm-vmm and the test host's links, IPv4 addresses and
# routes as they were with dockerd up.
# e2e-timeout: 900
. /e2e/lib.sh
need_runvm
command -v dockerd >/dev/null || skip "docker.io was not put into the test host"
[ -f /e2e/images/busybox-oci.tar ] || skip "no busybox image in the test host"
grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup ||
  fail "cannot mount cgroup2 for dockerd"
ip link set lo up  # docker-proxy listens on the test host's 127.0.0.1 too
mkdir -p /etc/docker /var/lib/docker
mount -t tmpfs tmpfs /var/lib/docker || fail "tmpfs for /var/lib/docker"
cat >/etc/docker/daemon.json <<'JSON'
{"runtimes": {"runvm": {"path": "/e2e/bin/runvm"}}, "storage-driver": "vfs",
 "iptables": false, "ip6tables": false, "log-level": "warn"}
JSON
dockerd >dockerd.log 2>&1 &
dpid=$!
stop_dockerd() {
  docker rm -f $(docker ps -aq) >/dev/null 2>&1
  kill $dpid 2>/dev/null
  wait $dpid 2>/dev/null
  umount /var/lib/docker 2>/dev/null
}
trap stop_dockerd EXIT
i=0
while ! docker info >/dev/null 2>&1 && [ $i -lt 120 ] && kill -0 $dpid 2>/dev/null; do sleep 1; i=$((i + 1)); done
docker info >/dev/null 2>&1 || fail "dockerd did not start: $(tail -c 1500 dockerd.log)"
note "dockerd up in ${i}s"
docker load -i /e2e/images/busybox-oci.tar >load.txt 2>&1 || fail "docker load: $(cat load.txt)"
IMG=busybox:e2e
R="--runtime runvm"
# What the test host's network must still be after the containers are gone (docker0 may
# gain a link-local IPv6 address once a port joins it: that is Docker's doing, not ours).
net_summary() { ip -o link | awk '{print $2}'; ip -4 -o addr; ip -4 route; }
net_summary >net.before

# 1. Output, stderr, stdin and the exit status through docker run -i.
out=$(echo piped-in | timeout "$T" docker run --rm -i $R $IMG sh -c 'cat; echo to-stderr >&2; exit 3' 2>err1)
rc=$?
[ "$out" = piped-in ] || fail "docker run -i stdout '$out' (rc $rc): $(tail -c 800 err1)"
grep -q to-stderr err1 || fail "stderr not relayed: $(tail -c 800 err1)"
[ "$rc" = 3 ] || fail "docker run exit $rc, want 3"
# 2. -t: the container's stdio is a terminal.
out=$(timeout "$T" docker run --rm -t $R $IMG sh -c 'tty; exit 0' 2>err2 | tr -d '\r')
case $out in /dev/*) ;; *) fail "docker run -t: tty printed '$out': $(tail -c 800 err2)" ;; esac

# 3. A detached web container: fetches a blob from the test host over docker0, serves it.
gw=$(ip -4 -o addr show docker0 | sed -n 's|.* inet \([0-9.]*\)/.*|\1|p')
[ -n "$gw" ] || fail "docker0 has no IPv4 address: $(ip addr show docker0)"
mkdir -p www && head -c 1048576 /dev/urandom >www/blob
want=$(md5sum <www/blob | cut -d' ' -f1)
httpd -f -p "$gw:8080" -h "$PWD/www" &
hpid=$!
timeout "$T" docker run -d $R --name web -p 8081:80 $IMG sh -c "trap '' TERM; mkdir -p /www;
  wget -q -O /www/blob http://$gw:8080/blob; md5sum </www/blob >/www/got; echo hello-web >/www/index.html;
  echo web-ready; httpd -f -p 80 -h /www" >id.txt 2>err3 || { kill $hpid; fail "docker run -d: $(tail -c 800 err3)"; }
ip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' web)
[ -n "$ip" ] || { kill $hpid; fail "docker inspect has no IP for web"; }
i=0
while [ "$(timeout 10 wget -q -O - "http://$ip:80/index.html" 2>/dev/null)" != hello-web ] && [ $i -lt 90 ]; do
  sleep 1; i=$((i + 1))
done
kill $hpid
if [ "$(timeout 10 wget -q -O - "http://$ip:80/index.html")" != hello-web ]; then
  spid=$(docker inspect -f '{{.State.Pid}}' web)
  echo "--- guest"; timeout 60 docker exec web sh -c 'ip addr; ip route; ip neigh; cat /www/got'
  echo "--- supervisor netns ($spid)"; nsenter --net=/proc/$spid/ns/net sh -c '/bin/ip addr; /bin/ip route; /bin/tc qdisc show; /bin/tc -s filter show dev eth0 ingress; /bin/ip -s link'
  echo "--- test host"; ip neigh; ip -s link show docker0; ls /var/run/docker/runtime-*/moby/*/ 2>&1 | head
  fail "the test host cannot reach the container at $ip: $(docker logs web 2>&1 | tail -n 5)"
fi
got=$(timeout 10 wget -q -O - "http://$ip:80/got" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "the container's 1 MiB download over docker0 is not byte-exact ($got, want $want)"
[ "$(timeout 10 wget -q -O - http://127.0.0.1:8081/index.html)" = hello-web ] || fail "-p 8081:80 (docker-proxy) does not reach the container"
docker logs web 2>&1 | grep -q web-ready || fail "docker logs has no web-ready: $(docker logs web 2>&1 | tail -n 3)"
docker ps --format '{{.Names}}' | grep -qx web || fail "docker ps does not list web"
out=$(timeout 60 docker exec web sh -c 'echo exec-ok; exit 4')
rc=$?
[ "$out" = exec-ok ] && [ "$rc" = 4 ] || fail "docker exec: '$out' rc $rc, want exec-ok and 4"
note "web at $ip: 1 MiB from docker0 byte-exact, reached by IP and -p 8081, exec, logs, ps"
# stop: SIGTERM is ignored, so SIGKILL after the 3 s grace period.
start=$(date +%s)
timeout 120 docker stop -t 3 web >/dev/null || fail "docker stop failed"
took=$(($(date +%s) - start))
code=$(docker inspect -f '{{.State.ExitCode}}' web)
[ "$code" = 137 ] || fail "after docker stop -t 3 of a TERM-ignoring container: exit $code, want 137"
[ "$took" -ge 3 ] || fail "docker stop took ${took}s: the grace period was not waited for"
docker rm web >/dev/null || fail "docker rm web"

# 4. Two containers on a user-defined network reach each other by IP.
docker network create e2enet >/dev/null || fail "docker network create"
timeout "$T" docker run -d $R --network e2enet --name n1 $IMG sh -c 'mkdir -p /www; echo hello-n1 >/www/index.html; exec httpd -f -p 80 -h /www' >/dev/null 2>err4 ||
  fail "n1: $(tail -c 800 err4)"
n1ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' n1)
out=$(timeout "$T" docker run --rm $R --network e2enet $IMG sh -c "i=0; while [ \$i -lt 30 ]; do timeout 10 wget -q -O - http://$n1ip:80/index.html && exit 0; sleep 1; i=\$((i+1)); done; exit 1" 2>err5)
[ "$out" = hello-n1 ] || fail "a container on e2enet cannot reach n1 at $n1ip: '$out' $(tail -c 800 err5)"
timeout 120 docker rm -f n1 >/dev/null || fail "docker rm -f n1"
docker network rm e2enet >/dev/null || fail "docker network rm"

# 5. --network none: only lo, as with runc (the virtio NIC exists from boot; the agent unbinds
# it when the namespace turns out to have only lo).
timeout "$T" docker run -d $R --network none --name solo $IMG sh -c 'for n in /sys/class/net/*; do echo "${n##*/} $(cat $n/operstate)"; done; ip -o addr | grep -v " lo " | grep -c inet; exec sleep 1000' >/dev/null 2>err6 ||
  fail "--network none: $(tail -c 800 err6)"
i=0
while ! docker logs solo 2>&1 | grep -qx '[0-9][0-9]*' && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
logs=$(docker logs solo 2>&1)
echo "$logs" | grep -q '^lo ' || fail "--network none: no lo: $logs"
echo "$logs" | grep -v '^lo ' | grep -q ' ' && fail "--network none: interfaces besides lo: $logs"
[ "$(echo "$logs" | tail -n 1)" = 0 ] || fail "--network none: addresses besides lo: $logs"
timeout 60 docker kill solo >/dev/null || fail "docker kill"
i=0
while [ "$(docker inspect -f '{{.State.Running}}' solo)" = true ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
[ "$(docker inspect -f '{{.State.ExitCode}}' solo)" = 137 ] || fail "docker kill: exit $(docker inspect -f '{{.State.ExitCode}}' solo), want 137"
docker rm solo >/dev/null || fail "docker rm solo"

# Nothing left behind.
[ -z "$(docker ps -aq)" ] || fail "containers left: $(docker ps -a)"
# The shim gives runvm --root /var/run/docker/runtime-runc/moby (Docker's name for any runc-like runtime).
left=$(ls -d /var/run/docker/runtime-*/moby/*/ 2>/dev/null)  # container dirs (not the root's @create.lock)
[ -z "$left" ] || fail "runvm state left: $left"
pgrep runvm-vmm >/dev/null && fail "a runvm-vmm is still running"
net_summary >net.after
cmp -s net.before net.after || fail "the test host's network changed: $(diff net.before net.after | head -n 20)"
pass "docker run -i/-t (stdin, stderr, exit 3), -d + exec/logs/ps/inspect, 1 MiB over docker0, by IP and -p, user network, --network none (only lo), stop (137 after grace), kill, rm -f; nothing left"
