#!/bin/sh
# Runs conformance.sh on each mount point given and prints its transcript as
# "CONF <name> <line>", then "CONF-TIME <name> <seconds>" and "CONF-STEPS <name> N:seconds ..."
# (each step's duration: where a slow run spent its time).
for m in "$@"; do
  name=${m##*/}
  s=$(cut -d' ' -f1 /proc/uptime)
  export FS_STEP_LOG=/tmp/steps.$name
  : >"$FS_STEP_LOG"
  sh /fs/conformance.sh "$m" "$FS_MIB" 2>&1 | while IFS= read -r l; do echo "CONF $name $l"; done
  e=$(cut -d' ' -f1 /proc/uptime)
  echo "CONF-TIME $name $(awk "BEGIN{printf \"%.1f\", $e - $s}")"
  echo "CONF-STEPS $name $(awk 'NR > 1 { printf "%s:%.1f ", p, $2 - t } { p = $1; t = $2 }' "$FS_STEP_LOG")"
done
