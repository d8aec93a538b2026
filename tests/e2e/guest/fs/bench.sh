#!/bin/sh
# Filesystem benchmark on each mount point given (bench/fs-bench.sh; also run natively in the
# test host). Env: FS_MIB (sequential file size), FS_RAND (4 KiB random reads), FS_META
# (create+stat+unlink rounds). Lines: "bench <name> seq ... | rand ... | meta ...".
for mp in "$@"; do
  m=${FS_NAME:-${mp##*/}}
  seq=$(fstool bench-seq "$mp/bench.bin" "${FS_MIB:-256}")
  rand=$(fstool bench-rand "$mp/bench.bin" "${FS_RAND:-4000}")
  rm -f "$mp/bench.bin"
  meta=$(fstool bench-meta "$mp/meta" "${FS_META:-1000}")
  rm -rf "$mp/meta"
  echo "bench $m $seq $rand $meta"
done
