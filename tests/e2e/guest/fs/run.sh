#!/bin/sh
# Guest side of the fs_* scenarios (run by guest/init.sh for e2e=fs-<what>).
# Mounts the shares named on the kernel command line, then runs /fs/<what>.sh with the list
# of mount points. Command line words:
#   fs.vfs=TAG fs.vfs_ro=TAG   virtio-fs shares, mounted at /mnt/vfs and /mnt/vfs_ro
#   fs.vfs_always=TAG fs.vfs_none=TAG  more virtio-fs shares (/mnt/vfs_always, /mnt/vfs_none:
#                              the fs_virtiofs scenario serves them with other cache modes)
#   fs.hold_s=N                wait N seconds after the script (the benchmark asks the VMM
#                              for its request counts then)
#   fs.coherence=1             after the script: coherence.sh on the virtio-fs mounts (how soon
#                              a change the test host makes shows in the guest)
#   fs.p9=TAG fs.p9_ro=TAG     virtio-9p shares (9P2000.L), mounted at /mnt/p9 and /mnt/p9_ro
#   fs.p9cache=MODE            9p cache mode (default none; loose caches lookups and attributes)
#   fs.ra_kb=N                 readahead of the virtio-fs mounts (bdi read_ahead_kb; default:
#                              the kernel's 128, which caps sequential FUSE READs at 128 KiB)
#   fs.tmpfs=1                 also a fresh tmpfs at /mnt/tmpfs (the guest's own filesystem)
#   fs.mib=N                   big-file size for conformance/bench (default 256)
#   fs.noexchange=1            conformance without RENAME_EXCHANGE (9p cannot express it)
#   fs.rand=N fs.meta=N        bench: 4 KiB random reads, create+stat+unlink rounds
#   fs.tree=N                  bench: files of the untar/stat/build workloads (0: skip them)
# Every output line is "<what> ..." ; the scenario on the test host parses them.
what=${1:?}
arg() {
  for w in $(cat /proc/cmdline); do
    case $w in "$1"=*) echo "${w#*=}"; return ;; esac
  done
  echo "$2"
}
export PATH=/fs:$PATH
mnts=""
vfs_mnts=""
for k in vfs vfs_ro vfs_always vfs_none p9 p9_ro; do
  tag=$(arg fs.$k "")
  [ -n "$tag" ] || continue
  mkdir -p /mnt/$k
  case $k in
    vfs*) mount -t virtiofs "$tag" /mnt/$k ;;
    p9*) mount -t 9p -o "trans=virtio,version=9p2000.L,msize=524288,cache=$(arg fs.p9cache none)" "$tag" /mnt/$k ;;
  esac
  rc=$?
  ra=$(arg fs.ra_kb "")
  if [ $rc = 0 ] && [ -n "$ra" ]; then
    case $k in vfs*)
      bdi=$(awk -v m=/mnt/$k '$5 == m { print $3 }' /proc/self/mountinfo)
      echo "$ra" >"/sys/class/bdi/$bdi/read_ahead_kb"
      echo "readahead $k bdi=$bdi kb=$(cat "/sys/class/bdi/$bdi/read_ahead_kb")" ;;
    esac
  fi
  echo "mount $k tag=$tag rc=$rc $(grep " /mnt/$k " /proc/mounts | cut -d' ' -f3,4)"
  [ $rc = 0 ] || continue
  mnts="$mnts /mnt/$k"
  case $k in vfs | vfs_always | vfs_none) vfs_mnts="$vfs_mnts /mnt/$k" ;; esac
  echo "probe $k: $(stat -c '%F mode=%a owner=%u:%g' /mnt/$k) $(fstool try mkdir /mnt/$k/.probe) $(fstool try rmdir /mnt/$k/.probe)"
done
if [ "$(arg fs.tmpfs 0)" = 1 ]; then
  mkdir -p /mnt/tmpfs
  mount -t tmpfs -o size=90% tmpfs /mnt/tmpfs && mnts="$mnts /mnt/tmpfs"
fi
export FS_MIB=$(arg fs.mib 256) FS_NO_EXCHANGE=$(arg fs.noexchange 0)
export FS_RAND=$(arg fs.rand 4000) FS_META=$(arg fs.meta 1000) FS_TREE=$(arg fs.tree 5000)
sh "/fs/$what.sh" $mnts
rc=$?
[ "$(arg fs.coherence 0)" = 1 ] && sh /fs/coherence.sh $vfs_mnts
sleep "$(arg fs.hold_s 0)"
echo "finished rc=$rc"
