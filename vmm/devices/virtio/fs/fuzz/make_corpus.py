#!/usr/bin/env python3
"""Writes the fuse_fuzzer seed corpus: a few valid request sequences.

Input format (see fuse_fuzzer.cpp): one options byte, then [le16 len][message]...
Node ids are predictable on the fresh share: root is 1, new nodes count from 2;
handles count from 1.
"""
import os
import struct
import sys

OPS = dict(LOOKUP=1, FORGET=2, GETATTR=3, SETATTR=4, READLINK=5, SYMLINK=6, MKNOD=8, MKDIR=9,
           UNLINK=10, RMDIR=11, RENAME=12, LINK=13, OPEN=14, READ=15, WRITE=16, STATFS=17,
           RELEASE=18, FSYNC=20, SETXATTR=21, GETXATTR=22, LISTXATTR=23, REMOVEXATTR=24,
           FLUSH=25, OPENDIR=27, READDIR=28, RELEASEDIR=29, FSYNCDIR=30, ACCESS=34, CREATE=35,
           DESTROY=38, BATCH_FORGET=42, FALLOCATE=43, READDIRPLUS=44, RENAME2=45, LSEEK=46,
           COPY_FILE_RANGE=47)
unique = 0


def msg(op, node, body=b""):
    global unique
    unique += 1
    hdr = struct.pack("<IIQQIIIHH", 40 + len(body), OPS[op], unique, node, 0, 0, 1, 0, 0)
    return hdr + body


def z(s):
    return s.encode() + b"\0"


def rd(fh, off, size):
    return struct.pack("<QQIIQII", fh, off, size, 0, 0, 0, 0)


def wr(fh, off, data):
    return struct.pack("<QQIIQII", fh, off, len(data), 0, 0, 0, 0) + data


def seq(opts, *msgs):
    out = bytes([opts])
    for m in msgs:
        out += struct.pack("<H", len(m)) + m
    return out


O_RDWR, O_CREAT = 2, 0o100
seeds = {
    "file_io": seq(0,
        msg("LOOKUP", 1, z("file")),
        msg("OPEN", 2, struct.pack("<II", O_RDWR, 0)),
        msg("READ", 2, rd(1, 0, 100)),
        msg("WRITE", 2, wr(1, 4, b"hello")),
        msg("FLUSH", 2, struct.pack("<QIIQ", 1, 0, 0, 0)),
        msg("FSYNC", 2, struct.pack("<QII", 1, 1, 0)),
        msg("FALLOCATE", 2, struct.pack("<QQQII", 1, 0, 4096, 0, 0)),
        msg("LSEEK", 2, struct.pack("<QQII", 1, 0, 3, 0)),
        msg("RELEASE", 2, struct.pack("<QIIQ", 1, 0, 0, 0))),
    "create_tree": seq(0,
        msg("MKDIR", 1, struct.pack("<II", 0o755, 0) + z("d")),
        msg("CREATE", 2, struct.pack("<IIII", O_RDWR | O_CREAT, 0o100644, 0, 0) + z("f")),
        msg("WRITE", 3, wr(1, 0, b"data")),
        msg("SETATTR", 3, struct.pack("<IIQQQQQQIIIIIIII", 1 | 8, 0, 0, 2, 0, 0, 0, 0,
                                       0, 0, 0, 0o600, 0, 0, 0, 0)),
        msg("RENAME2", 2, struct.pack("<QII", 1, 1, 0) + z("f") + z("g")),
        msg("LINK", 1, struct.pack("<Q", 3) + z("h")),
        msg("SYMLINK", 1, z("s") + z("g")),
        msg("MKNOD", 1, struct.pack("<IIII", 0o10644, 0, 0, 0) + z("p")),
        msg("UNLINK", 1, z("h")),
        msg("RENAME", 1, struct.pack("<Q", 2) + z("s") + z("t")),
        msg("FORGET", 3, struct.pack("<Q", 1)),
        msg("RMDIR", 1, z("dir"))),
    "readdir": seq(0,
        msg("OPENDIR", 1, struct.pack("<II", 0, 0)),
        msg("READDIR", 1, rd(1, 0, 4096)),
        msg("READDIRPLUS", 1, rd(1, 0, 4096)),
        msg("FSYNCDIR", 1, struct.pack("<QII", 1, 0, 0)),
        msg("RELEASEDIR", 1, struct.pack("<QIIQ", 1, 0, 0, 0)),
        msg("BATCH_FORGET", 0, struct.pack("<II", 2, 0) + struct.pack("<QQQQ", 2, 1, 3, 1))),
    "escape": seq(0,
        msg("LOOKUP", 1, z("abs")),
        msg("READLINK", 2),
        msg("OPEN", 2, struct.pack("<II", 0, 0)),
        msg("LOOKUP", 1, z("..")),
        msg("LOOKUP", 1, z("dir")),
        msg("LOOKUP", 3, z("up")),
        msg("LOOKUP", 4, z("secret")),
        msg("LOOKUP", 1, z("fifo")),
        msg("OPEN", 5, struct.pack("<II", 0, 0)),
        msg("CREATE", 1, struct.pack("<IIII", O_RDWR | O_CREAT, 0o100644, 0, 0) + z("rel"))),
    "xattr_misc": seq(0,
        msg("LOOKUP", 1, z("file")),
        msg("SETXATTR", 2, struct.pack("<II", 3, 0) + z("user.a") + b"xyz"),
        msg("GETXATTR", 2, struct.pack("<II", 0, 0) + z("user.a")),
        msg("GETXATTR", 2, struct.pack("<II", 64, 0) + z("user.a")),
        msg("LISTXATTR", 2, struct.pack("<II", 64, 0)),
        msg("REMOVEXATTR", 2, z("user.a")),
        msg("STATFS", 1),
        msg("ACCESS", 2, struct.pack("<II", 4, 0)),
        msg("GETATTR", 2, struct.pack("<IIQ", 0, 0, 0)),
        msg("OPEN", 2, struct.pack("<II", 0, 0)),
        msg("OPEN", 2, struct.pack("<II", O_RDWR, 0)),
        msg("COPY_FILE_RANGE", 2, struct.pack("<QQQQQQQ", 1, 0, 2, 2, 8, 4, 0)),
        msg("DESTROY", 0)),
    "read_only": seq(1,
        msg("LOOKUP", 1, z("file")),
        msg("OPEN", 2, struct.pack("<II", O_RDWR, 0)),
        msg("MKDIR", 1, struct.pack("<II", 0o755, 0) + z("d"))),
}

out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
os.makedirs(out_dir, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(data)
