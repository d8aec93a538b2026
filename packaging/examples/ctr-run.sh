#!/bin/sh
# containerd's ctr with runvm in place of runc (the runc v2 shim runs it):
ctr image pull docker.io/library/busybox:latest
ctr run --rm --runc-binary /usr/bin/runvm docker.io/library/busybox:latest hello \
  echo hello from a microVM
