#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_virtio_balloon (tests/fuzz/corpus/virtio_balloon/): what Linux's
virtio_balloon does (a target, inflate and deflate chains, a stats report and its refill) and the
hostile inputs the device must survive, in the format documented at the top of
tests/fuzz/fuzz_virtio_balloon.c."""
import os
import struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "virtio_balloon")
os.makedirs(out, exist_ok=True)


def head(size_log=4, indirect=True, event_idx=False):
    return bytes([(1 if indirect else 0) | (2 if event_idx else 0) | (size_log << 2)])


def pfns(deflate, frames):
    return struct.pack("<BBB", 4, 1 if deflate else 0, len(frames)) + bytes(frames)


def stats(entries):
    b = struct.pack("<BB", 5, len(entries))
    for tag, val in entries:
        b += bytes([tag, val])
    return b


def target(pages):
    return struct.pack("<BI", 7, pages)


seeds = {
    "linux": head() + target(8) + pfns(False, list(range(20, 28))) + stats([(4, 100), (5, 200)])
    + struct.pack("<B", 6) + stats([(4, 90), (6, 50)]) + target(2) + pfns(True, list(range(20, 26))),
    "hostile_frames": head(2) + pfns(False, [16, 17, 255, 79, 3, 3, 3, 64]) + pfns(True, [5, 3, 3]),
    "event_idx": head(3, False, True) + pfns(False, [1, 2]) + stats([(0, 1)]) + struct.pack("<B", 6),
    "reset_mid": head() + pfns(False, [30, 31]) + struct.pack("<B", 8) + pfns(True, [30]),
    "no_master": head() + struct.pack("<B", 9) + pfns(False, [40]) + struct.pack("<BB", 3, 0)
    + struct.pack("<B", 9) + struct.pack("<BB", 3, 0),
    "cfg_writes": head() + target(0x12345678) + struct.pack("<BBBI", 10, 0, 2, 0xFFFFFFFF)
    + struct.pack("<BBBI", 10, 4, 2, 77) + struct.pack("<BBBI", 10, 1, 3, 1),
    "raw_ring": head(1) + struct.pack("<BBBHHBB", 1, 0, 0, 0x2000, 400, 4, 0)
    + struct.pack("<BBB", 2, 0, 0) + struct.pack("<BB", 3, 0),
    "backend_fails": head() + struct.pack("<BB", 11, 2) + pfns(False, [10, 11, 12, 13]),
    "many_stats": head() + stats([(i % 20, i) for i in range(39)]) + stats([(1, 2)]) + stats([]),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
