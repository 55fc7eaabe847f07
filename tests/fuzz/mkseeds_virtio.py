#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_virtio (tests/fuzz/corpus/virtio/): queues and chains as
Linux's virtio_ring builds them, and virtio-rng brought up as virtio_pci_modern does, in the
record formats documented at the top of tests/fuzz/fuzz_virtio.c."""
import os
import struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "virtio")
os.makedirs(out, exist_ok=True)

F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def ram(gpa, data):
    b = b""
    while data:
        chunk, data = data[:255], data[255:]
        b += struct.pack("<BHB", 0, gpa, len(chunk)) + chunk
        gpa += len(chunk)
    return b


def desc_bytes(addr, length, flags, nxt):
    return struct.pack("<QIHH", addr, length, flags, nxt)


# ---- mode 0: the walker ----

def walker(size_log, flags, start, d, a, u, ops):
    return struct.pack("<BBBHHHHB", 0, size_log, flags, start, d, a, u, 0) + ops


def desc(i, addr, length, flags, nxt):
    return struct.pack("<BBHHBB", 6, i, addr, length, flags, nxt)


POP, INTR = b"\x01", b"\x03"


def push(length):
    return struct.pack("<BI", 2, length)


def publish(head, op=7):
    return struct.pack("<BH", op, head)


def rw(off, n):
    return struct.pack("<BHH", 4, off, n)


def avail_idx(v):
    return struct.pack("<BH", 5, v)


seeds = {}

# virtio-blk's shape: header, data, status; pushed, interrupt checked, copied
ops = desc(0, 0x4000, 16, F_NEXT, 1) + desc(1, 0x4100, 512, F_NEXT, 2)
ops += desc(2, 0x4400, 1, F_WRITE, 0) + publish(0) + POP + rw(0, 600) + push(1) + INTR + POP
seeds["walker-chain"] = walker(4, 0, 0, 0x0000, 0x1000, 0x1800, ops)

# an indirect table across the boundary of the first two extents, EVENT_IDX on
tbl = b"".join(desc_bytes(0x4000 + 0x10 * i, 0x10, (F_NEXT if i < 15 else 0) |
                          (F_WRITE if i >= 8 else 0), i + 1) for i in range(16))
ops = ram(0x1F80, tbl) + desc(3, 0x1F80, 16 * 16, F_INDIRECT, 0) + publish(3) + POP
ops += rw(0x70, 0x40) + push(0x80) + INTR + publish(3) + POP + push(0) + INTR
seeds["walker-indirect"] = walker(3, 3, 0, 0x0000, 0x1000, 0x1800, ops)

# indexes about to wrap, a full ring
ops = b"".join(desc(i, 0x4000 + 8 * i, 8, F_WRITE, 0) for i in range(8))
ops += b"".join(publish(i) for i in range(8)) + (POP + push(8)) * 8 + INTR
ops += b"".join(publish(7 - i) for i in range(8)) + (POP + push(8)) * 8 + INTR + POP
seeds["walker-wrap"] = walker(3, 2, 0xFFFC, 0x0000, 0x1000, 0x1800, ops)

# what must be refused: a loop, a next past the table, readable after writable, nested
# indirect, a buffer in the gap, the index running ahead
ops = desc(0, 0x4000, 8, F_NEXT, 0) + publish(0) + POP
ops += desc(0, 0x4000, 8, F_NEXT, 9) + POP
ops += desc(0, 0x4000, 8, F_NEXT | F_WRITE, 1) + desc(1, 0x4000, 8, 0, 0) + POP
ops += ram(0x4800, desc_bytes(0x4900, 16, F_INDIRECT, 0)) + desc(0, 0x4800, 16, F_INDIRECT, 0)
ops += POP + desc(0, 0x3000, 8, 0, 0) + POP + avail_idx(100) + POP
seeds["walker-refused"] = walker(3, 1, 0, 0x0000, 0x1000, 0x1800, ops)

# a chain of 129 buffers in a 256-entry ring
ops = b"".join(desc(i, 0x4000 + i, 1, F_NEXT, i + 1) for i in range(129))
ops += publish(0) + POP + desc(127, 0x4000, 1, 0, 0) + POP + push(0)
seeds["walker-segments"] = walker(8, 0, 0, 0x0000, 0x1000, 0x1400, ops)

# ---- mode 1: virtio-rng through its BAR ----

def dev(ops):
    return b"\x01\x00\x00\x00" + ops


def up(feat, flags, size_log, d, a, u, qvec):
    return struct.pack("<BBBBHHHB", 9, feat, flags, size_log, d, a, u, qvec)


def notify(q=0):
    return struct.pack("<BB", 3, q)


ISR = b"\x04"


def ddesc(i, addr, length, flags, nxt):
    return struct.pack("<BBHHBB", 10, i, addr, length, flags, nxt)


def dpublish(head):
    return publish(head, 11)


def cc_write(off, size, val):
    return struct.pack("<BBBQ", 1, off, {1: 0, 2: 1, 4: 2, 8: 3}[size], val)


def cc_read(off, size):
    return struct.pack("<BBB", 2, off, {1: 0, 2: 1, 4: 2, 8: 3}[size])


def cfg_write(reg, size, val):
    return struct.pack("<BBBI", 7, reg, {1: 0, 2: 1, 4: 2}[size], val)


def cfg_read(reg, size):
    return struct.pack("<BBB", 8, reg, {1: 0, 2: 1, 4: 2}[size])


def ring_word(which, val):
    return struct.pack("<BBH", 12, which, val)


ops = up(1, 3, 4, 0x0000, 0x1000, 0x1800, 1)
ops += ddesc(0, 0x4000, 64, F_WRITE, 0) + dpublish(0) + notify()
ops += ddesc(1, 0x1FF0, 0x20, F_WRITE, 0) + dpublish(1) + notify() + notify(1)
ops += ram(0x4800, desc_bytes(0x4900, 300, F_WRITE, 0)) + ddesc(2, 0x4800, 16, F_INDIRECT, 0)
ops += dpublish(2) + notify() + cc_read(20, 1) + ISR
seeds["rng-msix"] = dev(ops)

ops = up(2, 2, 3, 0x0000, 0x1000, 0x1800, 0)
ops += ring_word(1, 1) + ddesc(0, 0x4000, 3000, F_WRITE | F_NEXT, 1)
ops += ddesc(1, 0x0400, 2000, F_WRITE, 0) + dpublish(0) + notify() + ISR
ops += dpublish(0) + notify() + ISR + ring_word(0, 1) + dpublish(0) + notify() + ISR
seeds["rng-intx-event-idx"] = dev(ops)

# broken rings and a loop: NEEDS_RESET, then a reset and a good start
ops = up(0, 3, 4, 0x0008, 0x1000, 0x1800, 1) + notify() + cc_write(20, 1, 0)
ops += up(0, 3, 4, 0x0000, 0x1000, 0x1800, 1) + ddesc(0, 0x4000, 8, F_NEXT, 0) + dpublish(0)
ops += notify() + cc_read(20, 1) + b"\x0d" + up(0, 3, 4, 0x0000, 0x1000, 0x1800, 1)
ops += ddesc(0, 0x4000, 8, F_WRITE, 0) + dpublish(0) + notify()
seeds["rng-needs-reset"] = dev(ops)

# no bus mastering, no DRIVER_OK, FEATURES_OK refused
ops = up(0, 1, 4, 0x0000, 0x1000, 0x1800, 1) + ddesc(0, 0x4000, 8, F_WRITE, 0) + dpublish(0)
ops += notify() + up(0, 7, 4, 0x0000, 0x1000, 0x1800, 1) + dpublish(0) + notify()
ops += up(4, 3, 4, 0x0000, 0x1000, 0x1800, 1) + notify() + up(8, 3, 4, 0, 0x1000, 0x1800, 1)
seeds["rng-no-dma"] = dev(ops)

# the PCI_CFG window (capability at 0x74): status, features, the ISR; MSI-X vectors out of
# range
ops = cfg_write(0x74 + 4, 1, 0) + cfg_write(0x74 + 8, 4, 20) + cfg_write(0x74 + 12, 4, 1)
ops += cfg_write(0x74 + 16, 1, 3) + cfg_read(0x74 + 16, 1) + cfg_write(0x74 + 8, 4, 4)
ops += cfg_write(0x74 + 12, 4, 4) + cfg_read(0x74 + 16, 4) + cfg_write(0x74 + 8, 4, 0x1000)
ops += cfg_write(0x74 + 12, 4, 1) + cfg_read(0x74 + 16, 1)
ops += cc_write(16, 2, 7) + cc_read(16, 2) + cc_write(22, 2, 0) + cc_write(26, 2, 0x800)
ops += cc_read(26, 2) + cc_write(22, 2, 3) + cc_read(24, 2) + cc_write(32, 8, 0x1000)
ops += cc_read(36, 4) + b"\x0e"
seeds["rng-registers"] = dev(ops)

for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
