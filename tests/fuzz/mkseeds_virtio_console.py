#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_virtio_console (tests/fuzz/corpus/virtio_console/): a console
session as Linux's virtio_console and hvc make it (receive buffers posted, output written, typed
bytes coming in), and the malformed chains and hostile steps the device must survive, in the
format documented at the top of tests/fuzz/fuzz_virtio_console.c."""
import os
import struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "virtio_console")
os.makedirs(out, exist_ok=True)

RXQ, TXQ = 0, 1
# layout bits
INDIRECT, BAD, ZERO = 4, 8, 16  # BAD: a writable buffer (transmit), a readable one (receive)
RX_CALL, RESET, BUS_MASTER = b"\x07", b"\x08", b"\x09"


def head(size_log=4, indirect=True, event_idx=False):
    return bytes([(1 if indirect else 0) | (2 if event_idx else 0) | (size_log << 2)])


def tx(length, pieces=1, lay=0):
    return struct.pack("<BBH", 4, lay | (pieces - 1), length)


def rx(nbytes=0x800, pieces=1, lay=0):
    return struct.pack("<BBH", 5, lay | (pieces - 1), nbytes)


def notify(queue):
    return struct.pack("<BB", 3, queue)


def typed(text):
    return struct.pack("<BB", 6, len(text)) + text


def cfg_write(off, size_log, value):
    return struct.pack("<BBBI", 10, off, size_log, value)


def cfg_read(off, size_log):
    return struct.pack("<BBB", 11, off, size_log)


def raw_desc(queue, i, addr, length, flags, nxt):
    return struct.pack("<BBBHHBB", 1, queue, i, addr // 4, length, flags, nxt)


def raw_publish(queue, h):
    return struct.pack("<BBB", 2, queue, h)


def raw_ram(gpa, data):
    return struct.pack("<BHB", 0, gpa, len(data)) + data


def fill_rx(n, nbytes=0x800, pieces=1, lay=0):
    return b"".join(rx(nbytes, pieces, lay) for _ in range(n)) + notify(RXQ)


seeds = {}

# Linux: receive buffers up front, a prompt out, a command typed, its output back
ops = fill_rx(4) + tx(2) + notify(TXQ) + typed(b"ls\r") + tx(40, 2) + tx(3) + notify(TXQ)
ops += typed(b"echo hi\r") + tx(0x880, 4, INDIRECT) + notify(TXQ) + cfg_read(0, 2)
seeds["session"] = head(4) + ops

# typed before the driver, before buffers, more than the buffer holds, small chains
ops = BUS_MASTER + typed(b"x" * 200) + BUS_MASTER + typed(b"y" * 255) + typed(b"z" * 255)
ops += fill_rx(3, 7) + fill_rx(2, 100, 3) + fill_rx(8, 0x300, 2, INDIRECT) + RX_CALL
seeds["buffered"] = head(4) + ops

# malformed chains: writable transmit buffers, readable receive ones, zero lengths
ops = tx(30, 2, BAD) + tx(30, 1, ZERO) + tx(0) + notify(TXQ)
ops += rx(16, 2, BAD) + rx(0) + rx(16, 3, ZERO) + notify(RXQ) + typed(b"abc") + RX_CALL
seeds["malformed"] = head(3) + ops

# emergency writes and configuration reads and writes at every offset and size
ops = b"".join(cfg_write(off, s, 0x41 + off) for off in range(16) for s in range(4))
ops += b"".join(cfg_read(off, s) for off in range(16) for s in range(4))
seeds["config"] = head(2) + ops

# hostile: descriptors into the gap and past RAM, loops, bogus heads, RAM rewritten under chains
ops = fill_rx(2) + typed(b"q")
ops += raw_desc(RXQ, 5, 0x26000, 0x800, 2, 0) + raw_publish(RXQ, 5) + RX_CALL + typed(b"r")
ops += RESET + raw_desc(TXQ, 0, 0x1800, 0x40, 1, 0) + raw_publish(TXQ, 0) + notify(TXQ)
ops += RESET + raw_desc(TXQ, 1, 0x1800, 0x100, 0, 0) + raw_ram(0x1800, b"hello\n")
ops += raw_publish(TXQ, 1) + raw_publish(TXQ, 9) + notify(TXQ)
ops += RESET + raw_desc(RXQ, 0, 0x400, 0x100, 2, 0) + raw_publish(RXQ, 0) + typed(b"s" * 9)
seeds["hostile"] = head(4) + ops

# a queue of one entry with EVENT_IDX: multi-buffer chains go indirect
ops = fill_rx(1, 5, 3) + typed(b"0123456789") + fill_rx(1, 5) + tx(20, 3) + notify(TXQ)
ops += tx(20, 2) + notify(TXQ)
seeds["tiny-queue"] = head(0, event_idx=True) + ops

for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
