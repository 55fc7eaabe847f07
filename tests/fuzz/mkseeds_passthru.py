#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_passthru (tests/fuzz/corpus/passthru/), in the input format
documented at the top of tests/fuzz/fuzz_passthru.c: 256 bytes of host config space, 6 bytes of
host BARs, then 8-byte guest operations. The functions look like an NVMe controller (MSI-X table
and PBA in BAR 0), an Intel NIC (I/O BAR, MSI-X in BAR 3 behind power management and PCI
Express), and a hostile one (a capability loop, 2048 vectors)."""
import os
import struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "passthru")
os.makedirs(out, exist_ok=True)

NONE, IO, MEM32, MEM64 = 0, 1, 2, 3


def bar(kind, size_log2, pref=False):
    return kind | (4 if pref else 0) | size_log2 << 3


def cfg(ids, class_rev, caps, loop_to=0):
    c = bytearray(256)
    struct.pack_into("<IIII", c, 0, ids, 0x0010 << 16, class_rev, 0)
    struct.pack_into("<I", c, 0x2C, 0x00011AF4)
    c[0x34] = caps[0][0] if caps else 0
    for i, (off, cid, body) in enumerate(caps):
        c[off] = cid
        c[off + 1] = caps[i + 1][0] if i + 1 < len(caps) else loop_to
        c[off + 2:off + 2 + len(body)] = body
    return bytes(c)


def op(code, size_log2, bar_n, off, val):
    return bytes([code | size_log2 << 3 | bar_n << 5]) + struct.pack("<I", off)[:3] + \
        struct.pack("<I", val)


def ecam_w(reg, size_log2, val):
    return op(1, size_log2, 0, reg, val)


def msix(vectors, bir, table, pba):
    return struct.pack("<HII", vectors - 1, table | bir, pba | bir)


def msi():
    return struct.pack("<H", 0x0080) + bytes(8)


# a guest driver's bring-up: size the BARs, turn decoding and bus mastering on, program MSI-X
# vector 0 and enable it, touch registers around the table
def bring_up(bir):
    s = b""
    for n in range(6):
        s += ecam_w(0x10 + 4 * n, 2, 0xFFFFFFFF) + op(0, 2, 0, 0x10 + 4 * n, 0)
    s += ecam_w(0x04, 1, 0x0006)
    s += op(3, 3, bir, 0x0, 0xFEE00000) + op(3, 2, bir, 0x8, 0x41) + op(3, 2, bir, 0xC, 0)
    s += ecam_w(0x40 + 2, 1, 0x8000) + ecam_w(0x50 + 2, 1, 0x8000)
    s += op(2, 2, bir, 0x1000, 0) + op(3, 3, bir, 0x1008, 1) + op(2, 2, bir, 0x2000, 0)
    s += op(4, 2, 0, 0x100, 0) + op(5, 2, 0, 0x104, 7) + ecam_w(0x04, 1, 0x0002)
    return s


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


nvme = cfg(0xA8081C5C, 0x01080201, [(0x40, 0x11, msix(32, 0, 0x2000, 0x3000)),
                                    (0x50, 0x05, msi()), (0x70, 0x10, bytes(58))])
write("nvme", nvme + bytes([bar(MEM64, 14), 0, 0, 0, 0, 0]) + bring_up(0) + op(6, 0, 0, 0, 0))

nic = cfg(0x15338086, 0x02000003, [(0x40, 0x01, bytes(6)), (0x50, 0x05, msi()),
                                   (0x70, 0x11, msix(5, 3, 0, 0x2000)), (0xA0, 0x10, bytes(58))])
write("nic", nic + bytes([bar(MEM32, 17), 0, bar(IO, 5), bar(MEM32, 14), 0, 0]) +
      bring_up(3) + op(7, 0, 0, 0, 0))

hostile = cfg(0x12345678, 0xFF000000, [(0x40, 0x05, msi()), (0x58, 0x11, msix(2048, 2, 0, 0x8000)),
                                       (0x68, 0x10, bytes(4))], loop_to=0x43)
write("hostile", hostile + bytes([bar(MEM64, 16, True), 0, bar(MEM32, 16), bar(MEM32, 8), 0, 0]) +
      bring_up(2) + op(3, 2, 2, 100 * 16, 1) + op(2, 3, 2, 0x80F8, 0))
