#!/bin/sh
# Filesystem benchmark on each mount point given (bench/fs-bench.sh; also run natively in the
# test host). Env: FS_MIB (sequential file size), FS_RAND (4 KiB random reads), FS_META
# (create+stat+unlink rounds), FS_TREE (files of the small-file workloads; 0 skips them).
# Lines: "bench <name> seq ... rand ... meta ... tree ...".
# The small-file workloads are what a container start or a build does: untar a tree (busybox
# tar, from an archive in memory outside the share), `find | xargs stat` over it, and a
# compiler-like pass (fstool bench-build: a missed lookup, open, read, close per file, 3 rounds).
rate() { awk -v n="$1" -v l="$2" 'BEGIN { split(l, a, /[= ]/); printf "%.0f", (a[2] > 0 ? n / a[2] : 0) }'; }
tree=${FS_TREE:-5000}
if [ "$tree" -gt 0 ] && [ ! -f /tmp/fsbench-tree.tar ]; then
  rm -rf /tmp/fsbench-src
  fstool mktree /tmp/fsbench-src "$tree" && (cd /tmp/fsbench-src && tar -cf /tmp/fsbench-tree.tar .)
  rm -rf /tmp/fsbench-src
fi
for mp in "$@"; do
  m=${FS_NAME:-${mp##*/}}
  seq=$(fstool bench-seq "$mp/bench.bin" "${FS_MIB:-256}")
  rand=$(fstool bench-rand "$mp/bench.bin" "${FS_RAND:-4000}")
  rm -f "$mp/bench.bin"
  meta=$(fstool bench-meta "$mp/meta" "${FS_META:-1000}")
  rm -rf "$mp/meta"
  small=""
  if [ "$tree" -gt 0 ]; then
    mkdir -p "$mp/tree"
    untar=$(fstool timeit tar -xf /tmp/fsbench-tree.tar -C "$mp/tree")
    stat=$(fstool timeit sh -c "find '$mp/tree' | xargs stat >/dev/null")
    build=$(fstool bench-build "$mp/tree" 3)
    rm -rf "$mp/tree"
    # files/s; rc is the command's exit status (0 when it worked)
    small="tree files=$tree untar_fps=$(rate "$tree" "$untar") untar_rc=${untar##*rc=} stat_fps=$(rate "$tree" "$stat") stat_rc=${stat##*rc=} build_ops=${build##*opens_per_s=}"
  fi
  echo "bench $m $seq $rand $meta $small"
done
