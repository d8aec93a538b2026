#!/usr/bin/env python3
"""Writes the seed corpora of pci_fuzzer and legacy_io_fuzzer: a few inputs
that walk the paths a guest kernel takes (virtio driver bring-up, the i8042
probe, CMOS clock reads, 8250 setup), which random mutation reaches slowly.

The byte layout follows the decoders in tests/fuzz/pci_fuzzer.cpp and
tests/fuzz/legacy_io_fuzzer.cpp; keep them in step. Run from anywhere:
  python3 tests/fuzz/corpus/make_corpus.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def u8(*v):
    return bytes(v)


def u16(v):
    return struct.pack("<H", v)


def u64(v):
    return struct.pack("<Q", v)


# ---- pci_fuzzer ----------------------------------------------------------
# Machine: mode byte (bit 0 rng, bit 1 event loop); for the test device then
# le64 features, queue count byte, one size selector per queue, config-size byte.
RAM_A, RAM_B = 0x00, 0x01  # guest_addr selectors: aligned, inside region A / B


def gaddr(region, off):
    return u8(region) + u16(off)


def queue(desc, avail, used, vector):
    # selector 0: keep the maximum size, separate rings, 64-bit writes, enable.
    return u8(0x00) + gaddr(RAM_A, desc) + gaddr(RAM_A, avail) + gaddr(RAM_B, used) + u8(vector)


def driver_init(plan, queues, msix_vectors=0):
    out = u8(7, plan) + u64(0xFFFF_FFFF_FFFF_FFFF) + b"".join(queues)
    if plan & 0x10:
        out += b"".join(u8(i, 0) for i in range(msix_vectors)) + u8(0)  # unmasked, no fn mask
    return out


def publish(q, buf_off, length=0x100):
    # one chain of one writable buffer in region A, no avail jump, 16-bit doorbell
    return u8(9, q, 0, 0, 0x01) + u16(length) + gaddr(RAM_A, buf_off) + u8(0, 0)


def pci_seeds():
    rng_q = queue(0x0000, 0x1000, 0x2000, 0)
    return {
        # rng over INTx: bring-up, a request, then the ISR read that lowers the line
        "rng_intx": u8(0x01) + driver_init(0x01, [rng_q]) + publish(0, 0x4000) + u8(12, 1),
        # rng with ioeventfd doorbells and MSI-X, then the PBA
        "rng_msix": u8(0x03) + driver_init(0x11, [rng_q], 2) + publish(0, 0x4000) + u8(12, 0),
        # two-queue device with 24 config bytes: bring-up, config read/write,
        # a PCI_CFG window read of num_queues, a kick on queue 1
        "test_device": u8(0x00) + u64(1 | 1 << 29) + u8(2, 0x01, 0x02, 3)
        + driver_init(0x11, [queue(0x0000, 0x1000, 0x2000, 1), queue(0x3000, 0x3800, 0x4000, 2)], 3)
        + u8(0, 0x00, 2) + u16(0) + u8(2)  # read 4 bytes of device config
        + u8(0, 0x01, 2) + u16(0) + u8(0, 0x05)  # write byte 0: a config change
        + u8(6, 0x01, 0x00, 0x12, 0x00)  # window: common+0x12, 2 bytes
        + publish(1, 0x8000),
        # config space: BAR size probes (virtio BAR0/BAR1, pvpanic BAR0), a
        # pvpanic event, and a raw CONFIG_ADDRESS read
        "config_space": u8(0x01) + u8(13, 0x00, 13, 0x04, 13, 0x01) + u8(15, 0x01, 0x00, 0x01)
        + u8(5, 8, 2, 0),
    }


# ---- legacy_io_fuzzer ------------------------------------------------------
# Port access: op byte (op % 8 picks the device), port selector, size byte
# (< 0xa0: one byte), write flag, then for writes the data and one spare byte.
def out(kind, sel, value):
    return u8(kind, sel, 0, 1, value, 0)


def inp(kind, sel):
    return u8(kind, sel, 0, 0)


def kbd_cmd(cmd):
    return out(3, 0x01, cmd) + inp(3, 0x01) + inp(3, 0x00)  # command, status, data


def cmos_read(index):
    return out(4, 0x00, index) + inp(4, 0x01)


def legacy_seeds():
    probe = b"".join(kbd_cmd(c) for c in (0xAA, 0x20, 0xA9, 0xAB, 0xA7, 0xA8, 0xAD, 0xAE))
    probe += out(3, 0x01, 0x60) + out(3, 0x00, 0x65)  # write CTR
    probe += out(3, 0x01, 0xD3) + out(3, 0x00, 0x5A) + inp(3, 0x00)  # aux loopback
    probe += out(3, 0x01, 0xFE)  # reset
    clock = b"".join(cmos_read(i) for i in list(range(0x0E)) + [0x32, 0x7F])
    clock += out(4, 0x00, 0x0B) + out(4, 0x01, 0x06)  # binary, 24h
    clock += b"".join(cmos_read(i) for i in (0, 2, 4, 6, 7, 8, 9, 0x32))
    # 8250 as Linux sets it up: divisor, 8n1, FIFO, loopback test, interrupts
    uart = out(0, 3, 0x80) + out(0, 0, 0x01) + out(0, 1, 0x00) + out(0, 3, 0x03)
    uart += out(0, 2, 0x07) + out(0, 4, 0x1F) + out(0, 0, 0x55) + inp(0, 0) + inp(0, 6)
    uart += out(0, 4, 0x0B) + out(0, 1, 0x0F) + inp(0, 2) + inp(0, 5)
    uart += u8(0xE0, 70) + bytes(range(70))  # host input: fills the FIFO
    uart += b"".join(inp(0, 0) for _ in range(4)) + inp(0, 2)
    uart += out(0, 0, 0x41) + inp(0, 2) + u8(0xF0) + u16(300) + u8(0x30)  # output burst
    sleep = out(5, 0x80, 0x14) + out(5, 0x80, 0x34) + inp(5, 0x81) + inp(5, 0x00)
    return {
        "i8042_probe": u8(0) + probe,
        "cmos_clock": u8(0) + clock,
        "uart_setup": u8(0) + uart,
        "console_log": u8(2 | 0 << 2) + uart + sleep,  # a 64-byte log: rotates
    }


def write(name, seeds):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)


if __name__ == "__main__":
    write("pci_fuzzer", pci_seeds())
    write("legacy_io_fuzzer", legacy_seeds())
