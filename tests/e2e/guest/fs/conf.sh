#!/bin/sh
# Runs conformance.sh on each mount point given and prints its transcript as
# "CONF <name> <line>", then "CONF-TIME <name> <seconds>".
for m in "$@"; do
  name=${m##*/}
  s=$(cut -d' ' -f1 /proc/uptime)
  sh /fs/conformance.sh "$m" "$FS_MIB" 2>&1 | while IFS= read -r l; do echo "CONF $name $l"; done
  e=$(cut -d' ' -f1 /proc/uptime)
  echo "CONF-TIME $name $(awk "BEGIN{printf \"%.1f\", $e - $s}")"
done
