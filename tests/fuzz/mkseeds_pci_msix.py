#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_pci_msix (tests/fuzz/corpus/pci_msix/), in the input format
documented at the top of tests/fuzz/fuzz_pci_msix.c: a 15-byte preamble (BAR count, two bytes per
BAR, entries to enable, an entry to program) and 256 bytes of config space. The functions look like
QEMU's NVMe controller (MSI-X table and PBA in BAR 0) and a NIC that keeps them in BAR 3."""
import os
import struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "pci_msix")
os.makedirs(out, exist_ok=True)

MEM32, MEM64, IO, MAPPED = 2, 3, 1, 8


def seed(name, bars, nr_msgs, entry, caps, status=0x0010, header_type=0):
    pre = bytes([len(bars)])
    for kind, size_log2 in bars + [(0, 0)] * (6 - len(bars)):
        pre += bytes([kind, size_log2])
    pre += bytes([nr_msgs, entry])
    cfg = bytearray(256)
    struct.pack_into("<IIII", cfg, 0, 0x58451B36, status << 16 | 0x0006, 0x01080200,
                     header_type << 16)
    first = caps[0][0] if caps else 0
    cfg[0x34] = first
    for i, (off, cid, body) in enumerate(caps):
        nxt = caps[i + 1][0] if i + 1 < len(caps) else 0
        cfg[off] = cid
        cfg[off + 1] = nxt
        cfg[off + 2:off + 2 + len(body)] = body
    with open(os.path.join(out, name), "wb") as f:
        f.write(pre + bytes(cfg))


def msix(n, table, pba, mc_extra=0):
    return struct.pack("<HII", (n - 1) | mc_extra, table, pba)


# QEMU nvme: 64 vectors, table at BAR 0 + 0x2000, PBA at + 0x3000, BAR 0 16 KiB
nvme_bars = [(MEM64 | MAPPED, 14), (0, 0)]
seed("nvme", nvme_bars, 1, 0,
     [(0x40, 0x01, b"\x03\x00"), (0x50, 0x05, b"\x80\x00"), (0x70, 0x11, msix(64, 0x2000, 0x3000))])
seed("nvme-all-vectors", nvme_bars, 39, 63,
     [(0x40, 0x11, msix(64, 0x2000, 0x3000, 0xC000))])
# a NIC: 5 vectors in BAR 3 (16 KiB), BARs 0 memory, 2 I/O
seed("nic-bar3", [(MEM32 | MAPPED, 12), (0, 0), (IO, 5), (MEM32 | MAPPED, 14)], 5, 2,
     [(0x40, 0x01, b"\x03\x00"), (0x50, 0x05, b"\x80\x01"), (0x70, 0x10, b"\x02\x00"),
      (0xA0, 0x11, msix(5, 0x0003, 0x2003))])
# 2048 vectors in a 64 KiB BAR
seed("msix-2048", [(MEM32 | MAPPED, 16)], 3, 255, [(0xF4, 0x11, msix(2048, 0x0, 0x8000))])
# hostile: a loop, a pointer into the header, the BIR of an I/O BAR, a table past the BAR's end
seed("loop", nvme_bars, 1, 0, [(0x40, 0x01, b""), (0x50, 0x09, b"")])
with open(os.path.join(out, "loop"), "r+b") as f:
    f.seek(15 + 0x51)
    f.write(b"\x40")
seed("into-header", nvme_bars, 1, 0, [(0x40, 0x01, b"")])
with open(os.path.join(out, "into-header"), "r+b") as f:
    f.seek(15 + 0x41)
    f.write(b"\x10")
seed("io-bir", [(IO, 5), (MEM32 | MAPPED, 14)], 1, 0, [(0x40, 0x11, msix(8, 0x0, 0x1001))])
seed("past-bar", [(MEM32 | MAPPED, 12)], 1, 0, [(0x40, 0x11, msix(32, 0xF00, 0x800))])
