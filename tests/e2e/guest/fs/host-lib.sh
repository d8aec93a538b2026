# Test-host side helpers of the fs_* scenarios (sourced after /e2e/lib.sh). The scenario gets
# this file, fstool and the guest scripts out of the guest initramfs, so the test host runs the
# very same programs natively.
fs_hostarg() { # fs_hostarg NAME DEFAULT: NAME=... from the test host's kernel command line
  for w in $(cat /proc/cmdline); do
    case $w in "$1"=*) echo "${w#*=}"; return ;; esac
  done
  echo "$2"
}
FS_MIB=$(fs_hostarg fs.mib 64)
export FS_MIB
PATH=$PWD/fsbin/fs:$PATH
export PATH

# fs_transcript WHICH OUT: the conformance transcript the guest printed for mount WHICH.
fs_transcript() {
  tr -d '\r' <console.log | grep "^E2E-GUEST-FS CONF $1 " | sed "s/^E2E-GUEST-FS CONF $1 //" >"$2"
}
# fs_guest_steps NAME: "step:seconds ..." of the guest's run on mount NAME.
fs_guest_steps() { tr -d '\r' <console.log | grep "^E2E-GUEST-FS CONF-STEPS $1 " | cut -d' ' -f4-; }
# fs_slowest_steps NAME: the three slowest steps, "step:seconds" (for a scenario's summary).
fs_slowest_steps() { fs_guest_steps "$1" | tr ' ' '\n' | grep : | sort -t: -k2 -rn | head -n 3 | tr '\n' ' '; }
fs_guest_time() { tr -d '\r' <console.log | grep "^E2E-GUEST-FS CONF-TIME $1 " | cut -d' ' -f4; }

# fs_native OUT: the conformance script natively on a fresh tmpfs in the test host.
fs_native() {
  mkdir -p native
  mount -t tmpfs tmpfs native || return 1
  s=$(cut -d' ' -f1 /proc/uptime)
  sh fsbin/fs/conformance.sh "$PWD/native" "$FS_MIB" >"$1" 2>&1
  e=$(cut -d' ' -f1 /proc/uptime)
  umount native
  NATIVE_S=$(awk "BEGIN{printf \"%.1f\", $e - $s}")
}

# fs_compare A B: diff of two transcripts (printed); 0 when equal.
fs_compare() {
  if diff "$1" "$2" >diff.out; then return 0; fi
  echo "--- diff $1 $2"
  head -n 60 diff.out
  return 1
}
