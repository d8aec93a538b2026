#!/usr/bin/env bash
# Writes runvm.8.gz from `runvm --help`, `runvm --version` and every command's
# --help (help2man), so the man page never drifts from the binary.
# usage: make-man.sh RUNVM_BINARY OUTPUT.8.gz
set -euo pipefail
runvm=${1:?usage: make-man.sh RUNVM_BINARY OUTPUT.8.gz}
out=${2:?usage: make-man.sh RUNVM_BINARY OUTPUT.8.gz}
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT
{
  echo "[COMMANDS]"
  # Command names: the Subcommands section of `runvm --help`.
  for cmd in $("$runvm" --help | awk '/^Subcommands:/{f=1;next} f&&/^  [a-z]/{print $1}'); do
    echo ".SS \"runvm $cmd\""
    echo ".nf"
    "$runvm" "$cmd" --help | sed 's/\\/\\\\/g; s/^\./\\\&./'
    echo ".fi"
  done
  cat <<'TXT'
[FILES]
.TP
.I /etc/runvm/config.json
guest kernel (may be a glob), guest image, memory, vCPUs and limits for every microVM.
.TP
.I /var/lib/runvm/runvm-initrd-<release>.img
guest images, one per kernel release, built by \fBrunvm-update-image\fR(8).
.TP
.I /run/runvm
default state root (\fB\-\-root\fR).
[SEE ALSO]
\fBrunc\fR(8), \fBcontainerd\fR(8), \fBdockerd\fR(8); /usr/share/doc/runvm/install.md
TXT
} >"$inc"
help2man --no-info --section 8 --name "run OCI containers, each in its own KVM microVM" \
  --version-string "$("$runvm" --version | head -n1 | awk '{print $NF}')" \
  --include "$inc" "$runvm" | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
