#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_sriov (tests/fuzz/corpus/sriov/), in the input format documented
at the top of tests/fuzz/fuzz_sriov.c: a 128-byte preamble (bus range, the PF's address, NumVFs to
ask for, table functions and flags, what VFs answer, table RIDs and BARs, VF BAR writable bits)
and the PF's config space from 0x100 on. The PFs look like QEMU's NVMe with sriov_max_vfs (VF BAR0
a 64-bit 16 KiB BAR), an ARI device with a large offset, one whose VFs cross onto the next bus, and
lists that loop or end early."""
import os
import struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "sriov")
os.makedirs(out, exist_ok=True)

SRIOV = 0x0010


def mask(size):
    return ~(size - 1) & 0xFFFFFFF0


def seed(name, caps, bus=(1, 1), pf=(1, 0), n=2, flags=0, table=(), vf_class=0x01080202,
         bar_masks=(mask(16384), 0xFFFFFFFF, 0, 0, 0, 0)):
    pre = bytes([bus[0], bus[1], pf[0], pf[1], n, (len(table) & 7) | flags, 0, 0])
    for _ in range(8):
        pre += struct.pack("<II", vf_class, 0)
    tbl = list(table) + [(0, 0)] * (8 - len(table))
    for rid, base in tbl:
        pre += struct.pack("<HH", rid, base)
    pre += struct.pack("<6I", *bar_masks)
    assert len(pre) == 128
    cfg = bytearray(0xF00)
    for i, (off, cid, body) in enumerate(caps):
        nxt = caps[i + 1][0] if i + 1 < len(caps) else 0
        struct.pack_into("<I", cfg, off - 0x100, cid | 1 << 16 | nxt << 20)
        cfg[off - 0x100 + 4:off - 0x100 + 4 + len(body)] = body
    end = max(off for off, _, _ in caps) - 0x100 + 0x40 if caps else 4
    with open(os.path.join(out, name), "wb") as f:
        f.write(pre + bytes(cfg[:end]))


def sriov(total=2, offset=1, stride=1, ctrl=0, page_sizes=0x553, page=1, bars=(4, 0, 0, 0, 0, 0),
          vf_device=0x5846):
    return struct.pack("<IIHHIHHHHII6I", 0, ctrl, total, total, 0, offset, stride, 0, vf_device,
                       page_sizes, page, *bars)


seed("nvme", [(0x100, 0x0001, b""), (0x160, SRIOV, sriov())])
seed("nvme-assigned", [(0x100, SRIOV, sriov(bars=(0xFE010004, 0, 0, 0, 0, 0)))],
     table=[(0x0008, 0xFE00)])
seed("ari", [(0x100, SRIOV, sriov(total=16, offset=0x80, stride=2))], n=16, bus=(1, 2))
seed("next-bus", [(0x100, SRIOV, sriov(total=4, offset=0xFF, stride=1))], n=4, bus=(1, 2))
seed("taken", [(0x100, SRIOV, sriov())], table=[(0x0101, 0)])
seed("enabled", [(0x100, SRIOV, sriov(ctrl=9))])
seed("io-bar", [(0x100, SRIOV, sriov(bars=(1, 0, 0, 0, 0, 0)))], bar_masks=(0xFFFFFFF0,) + (0,) * 5)
seed("mem32-pages", [(0x100, SRIOV, sriov(page_sizes=0x10, page=0x10, bars=(0, 8, 0, 0, 0, 0)))],
     bar_masks=(mask(65536), mask(4096), 0, 0, 0, 0))
seed("scramble", [(0x100, SRIOV, sriov(total=8))], n=8, flags=8)
seed("sticky", [(0x100, SRIOV, sriov())], flags=16)
seed("loop", [(0x100, 0x0001, b""), (0x200, 0x0002, b""), (0x100, 0x0003, b"")])
seed("absent", [(0x100, SRIOV, sriov())], vf_class=0xFFFFFFFF)
