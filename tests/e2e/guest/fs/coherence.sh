#!/bin/sh
# How soon a change the test host makes in a share shows in the guest (fs_virtiofs). For each
# mount: write `data` ("v1", synced) and read it and the directory, so the guest caches them;
# create `ready`, on which the test host rewrites `data` in place ("v2") and creates `new`;
# then poll for up to 5 s. Prints "coherence <name> data_s=S|never new_s=S|never".
for m in "$@"; do
  name=${m##*/}
  d=$m/coherence
  mkdir -p "$d" && printf v1 >"$d/data" && sync
  cat "$d/data" >/dev/null
  ls "$d" >/dev/null
  : >"$d/ready"
  s=$(cut -d' ' -f1 /proc/uptime)
  data=never new=never
  while :; do
    t=$(awk -v s="$s" -v n="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", n - s }')
    [ "$data" = never ] && [ "$(cat "$d/data")" = v2 ] && data=$t
    [ "$new" = never ] && [ -e "$d/new" ] && new=$t
    [ "$data" != never ] && [ "$new" != never ] && break
    awk -v t="$t" 'BEGIN { exit !(t >= 5) }' && break
    sleep 0.1
  done
  echo "coherence $name data_s=$data new_s=$new"
  rm -rf "$d"
done
