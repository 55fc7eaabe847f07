#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_virtio_blk (tests/fuzz/corpus/virtio_blk/): requests as Linux's
virtio_blk builds them and the malformed ones the device must refuse, in the record format
documented at the top of tests/fuzz/fuzz_virtio_blk.c."""
import os
import struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "virtio_blk")
os.makedirs(out, exist_ok=True)

# type selectors (low 4 bits of the request's first byte)
IN, OUT, FLUSH, GET_ID, DISCARD, WZ, UNSUPP_2 = 0, 2, 4, 5, 6, 7, 12
# layout bits
INDIRECT, SPLIT, MERGED, NO_STATUS, FLIP, SHORT = 4, 8, 16, 32, 64, 128

NOTIFY, RESET = b"\x03", b"\x05"


def head(sectors, read_only=False, no_range=False, indirect=True, event_idx=False, size_log=4):
    cfg = ((sectors - 1) << 2) | (1 if read_only else 0) | (2 if no_range else 0)
    f = (1 if indirect else 0) | (2 if event_idx else 0)
    return bytes([cfg, f, size_log])


def req(sel, sector, bufs=(), lay=0, seg=None):
    """bufs: (length, offset from 0x2000) for each data buffer (up to 3)."""
    b = struct.pack("<B", 4) + struct.pack("<B", sel)
    if sel == 15:
        raise ValueError
    if sector < 0x80:
        b += struct.pack("<B", sector)
    else:
        b += struct.pack("<BQ", 0x80, sector)
    b += struct.pack("<B", lay | len(bufs))
    for length, off in bufs:
        b += struct.pack("<HH", length, off)
    if sel in (DISCARD, WZ, 10, 11) and bufs:
        b += seg if seg is not None else bytes(16)
    return b


def raw_type(t, sector, bufs=(), lay=0):
    b = struct.pack("<BBI", 4, 15, t) + struct.pack("<B", sector) + struct.pack("<B", lay | len(bufs))
    for length, off in bufs:
        b += struct.pack("<HH", length, off)
    return b


def seg(sector, count, flags):
    return struct.pack("<QII", sector, count, flags)


def fill(off, n, v):
    return struct.pack("<BHBB", 6, off, n, v)


seeds = {}

# Linux's shapes: header, data, status; reads and writes, GET_ID, a flush
ops = req(IN, 0, [(4096, 0x0000)]) + req(OUT, 8, [(1024, 0x2000)]) + NOTIFY
ops += req(IN, 8, [(1024, 0x3000)]) + req(GET_ID, 0, [(20, 0x4000)]) + req(FLUSH, 0) + NOTIFY
seeds["linux-rw"] = head(16) + ops

# across extents and the bounce size: 40 sectors in three buffers, the first across the
# extents at 0x4000, then a write of 17 sectors
ops = req(IN, 0, [(0x1000, 0x1F00), (0x2345, 0x4000), (40 * 512 - 0x3345, 0x6400)], INDIRECT)
ops += NOTIFY + fill(0x2F00, 200, 0xA5)
ops += req(OUT, 4, [(0x100, 0x2F00), (0x2100, 0x4000)], INDIRECT) + NOTIFY
seeds["bounce-extents"] = head(40) + ops

# past and across the end, partial sectors, wrong directions
ops = req(IN, 15, [(1024, 0)], INDIRECT) + req(OUT, 16, [(512, 0)], INDIRECT)
ops += req(IN, 0x80, [(512, 0)], INDIRECT) + req(IN, 0xFFFFFFFFFFFFFFFF, [(512, 0)], INDIRECT)
ops += req(IN, 0, [(511, 0)], INDIRECT) + req(OUT, 0, [(513, 0)], INDIRECT) + NOTIFY
ops += req(OUT, 0, [(512, 0)], FLIP) + req(IN, 0, [(512, 0)], FLIP) + NOTIFY
seeds["refusals"] = head(16) + ops

# discard and write-zeroes: good, unmap on discard, unknown flags, two segments, out of range
ops = req(DISCARD, 0, [(16, 0x100)], seg=seg(2, 3, 0))
ops += req(WZ, 0, [(16, 0x200)], seg=seg(6, 2, 1)) + NOTIFY
ops += req(DISCARD, 0, [(16, 0x300)], seg=seg(2, 3, 1))
ops += req(WZ, 0, [(16, 0x400)], seg=seg(2, 3, 2))
ops += req(DISCARD, 0, [(32, 0x500)], seg=seg(2, 1, 0)) + NOTIFY
ops += req(WZ, 0, [(16, 0x600)], seg=seg(15, 4, 0)) + req(DISCARD, 0, [(8, 0x700)]) + NOTIFY
seeds["discard-wz"] = head(16) + ops
seeds["discard-no-backend"] = head(16, no_range=True) + ops

# a read-only disk: writes, discards and write-zeroes refused
ops = req(OUT, 0, [(512, 0)]) + req(DISCARD, 0, [(16, 0x100)], seg=seg(0, 1, 0))
ops += req(WZ, 0, [(16, 0x100)], seg=seg(0, 1, 0)) + req(IN, 0, [(512, 0x200)]) + NOTIFY
seeds["read-only"] = head(8, read_only=True) + ops

# framing: split header, status in the last data byte, no status, a short header, unknown types
ops = req(IN, 1, [(512, 0)], SPLIT) + req(IN, 2, [(1024, 0x400)], MERGED)
ops += req(OUT, 1, [(512, 0x800)], NO_STATUS) + req(IN, 1, [], SHORT) + NOTIFY
ops += req(OUT, 3, [(512, 0x900)], SHORT) + req(UNSUPP_2, 0, [(512, 0xA00)])
ops += raw_type(0xFFFFFFFF, 0, [(512, 0xB00)]) + NOTIFY + RESET + req(IN, 0, [(512, 0)]) + NOTIFY
seeds["framing"] = head(4, indirect=False, size_log=4) + ops

# a full queue of requests in one notification, EVENT_IDX on
ops = b"".join(req(IN if i % 2 else OUT, i, [(512, 0x200 * i)], INDIRECT) for i in range(16))
ops += NOTIFY
seeds["full-queue"] = head(20, event_idx=True) + ops

for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
