#!/usr/bin/env python3
"""Writes the p9_fuzzer seed corpus: a few valid 9P2000.L request sequences.

Input format (see p9_fuzzer.cpp): one options byte, then [le16 len][message]...
The fuzzer has already sent Tversion and Tattach (fid 0 = the share's root).

The same sequences go to corpus-workers/ for p9_workers_fuzzer (workers_harness.h:
ops [0][le16 len][message][queue][room][layout], then a kick [2][0] and a wait [3]),
after a Tattach of fid 0 (the harness sends only Tversion).
"""
import os
import struct
import sys

tag = 0


def msg(t, body=b""):
    global tag
    tag += 1
    return struct.pack("<IBH", 7 + len(body), t, tag) + body


def s(x):
    return struct.pack("<H", len(x)) + x.encode()


def walk(fid, newfid, *names):
    return msg(110, struct.pack("<IIH", fid, newfid, len(names)) + b"".join(s(n) for n in names))


def seq(opts, *msgs):
    out = bytes([opts])
    for m in msgs:
        out += struct.pack("<H", len(m)) + m
    return out


seeds = {
    "io": seq(0,
        walk(0, 1, "file"),
        msg(12, struct.pack("<II", 1, 2)),
        msg(116, struct.pack("<IQI", 1, 0, 100)),
        msg(118, struct.pack("<IQI", 1, 3, 4) + b"abcd"),
        msg(50, struct.pack("<II", 1, 0)),
        msg(24, struct.pack("<IQ", 1, 0x7ff)),
        msg(120, struct.pack("<I", 1))),
    "tree": seq(0,
        msg(72, struct.pack("<I", 0) + s("d") + struct.pack("<II", 0o755, 0)),
        walk(0, 1, "d"),
        msg(14, struct.pack("<I", 1) + s("f") + struct.pack("<III", 0o102, 0o644, 0)),
        msg(16, struct.pack("<I", 0) + s("l") + s("file") + struct.pack("<I", 0)),
        msg(18, struct.pack("<I", 0) + s("p") + struct.pack("<IIII", 0o10644, 0, 0, 0)),
        walk(0, 2, "file"),
        msg(70, struct.pack("<II", 0, 2) + s("h")),
        msg(74, struct.pack("<I", 0) + s("h") + struct.pack("<I", 0) + s("h2")),
        msg(76, struct.pack("<I", 0) + s("h2") + struct.pack("<I", 0)),
        msg(26, struct.pack("<IIIIIQQQQQ", 2, 0x1 | 0x8, 0o600, 0, 0, 3, 0, 0, 0, 0))),
    "dir": seq(0,
        walk(0, 1),
        msg(12, struct.pack("<II", 1, 0)),
        msg(40, struct.pack("<IQI", 1, 0, 4096)),
        msg(8, struct.pack("<I", 0)),
        msg(120, struct.pack("<I", 1))),
    "escape": seq(0,
        walk(0, 1, "..", "..", "outside"),
        walk(0, 2, "abs"),
        msg(12, struct.pack("<II", 2, 0)),
        msg(22, struct.pack("<I", 2)),
        walk(0, 3, "dir", "up", "secret"),
        walk(0, 4, "fifo"),
        msg(12, struct.pack("<II", 4, 0))),
    "xattr": seq(0,
        walk(0, 1, "file"),
        walk(1, 2),
        msg(32, struct.pack("<I", 2) + s("user.a") + struct.pack("<QI", 3, 0)),
        msg(118, struct.pack("<IQI", 2, 0, 3) + b"xyz"),
        msg(120, struct.pack("<I", 2)),
        msg(30, struct.pack("<II", 1, 3) + s("user.a")),
        msg(116, struct.pack("<IQI", 3, 0, 10)),
        msg(30, struct.pack("<II", 1, 4) + s("")),
        msg(52, struct.pack("<IBIQQI", 1, 1, 0, 0, 10, 1) + s("c")),
        msg(54, struct.pack("<IBQQI", 1, 1, 0, 10, 1) + s("c")),
        msg(108, struct.pack("<H", 3))),
    "read_only": seq(1,
        walk(0, 1, "file"),
        msg(12, struct.pack("<II", 1, 2)),
        msg(72, struct.pack("<I", 0) + s("d") + struct.pack("<II", 0o755, 0))),
}



def workers_input(data):
    """A p9_fuzzer input as p9_workers_fuzzer ops: each message posted with a 4 KiB
    reply, kicked and waited for in order."""
    msgs = []
    at = 1  # past the options byte
    while at + 2 <= len(data):
        (n,) = struct.unpack_from("<H", data, at)
        msgs.append(data[at + 2:at + 2 + n])
        at += 2 + n
    attach = msg(104, struct.pack("<II", 0, 0xFFFFFFFF) + s("root") + s("") +
                 struct.pack("<I", 0))
    out = b""
    for m in [attach] + msgs:
        out += bytes([0]) + struct.pack("<H", len(m)) + m + bytes([0, 1, 0])
        out += bytes([2, 0, 3])
    return out


here = os.path.dirname(__file__)
out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
workers_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "corpus-workers")
os.makedirs(out_dir, exist_ok=True)
os.makedirs(workers_dir, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(data)
    with open(os.path.join(workers_dir, name), "wb") as f:
        f.write(workers_input(data))
