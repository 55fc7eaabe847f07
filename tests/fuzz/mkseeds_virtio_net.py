#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_virtio_net (tests/fuzz/corpus/virtio_net/): traffic as Linux's
virtio_net makes it between two devices and a probe port, and the malformed chains and hostile
steps the device must survive, in the format documented at the top of
tests/fuzz/fuzz_virtio_net.c."""
import os
import struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "virtio_net")
os.makedirs(out, exist_ok=True)

A, B = 0, 1
RXQ, TXQ = 0, 2  # queue bit of a notify selector
# destinations
OTHER, BCAST, PROBE, MCAST, SELF, STRANGER = range(6)
# transmit layout bits
HDR_ALONE, TX_INDIRECT, TX_WRITABLE, TX_ZERO, TAGGED, SPOOF = 4, 8, 16, 32, 64, 128
# receive layout bits
RX_INDIRECT, RX_READABLE, RX_ZERO = 4, 8, 16
# header byte: flags in bits 0-1 (0, NEEDS_CSUM, DATA_VALID, 0xFE), gso_type in bits 2-3
NEEDS_CSUM, DATA_VALID, ODD_FLAGS = 1, 2, 3
TCPV4, ECN, GSO5 = 4, 8, 12

OWNERS, PROBE_TAKES = b"\x0c", b"\x0b"


# header byte bits 4-6: csum_start/csum_offset choices; bit 7: a TCP frame (bits 2-3 then pick
# TCPV4, TCPV6, no gso_type, TCPV4's type on IPv6)
CSUM_AT_END, TCP_FRAME = 0x50, 0x80
TCP_V4, TCP_V6, TCP_NO_GSO, TCP_MISMATCH = 0, 4, 8, 12
# probe destination bits: 8 the checksum left open, 16 a TCP frame to cut, 32 IPv6, 64 tagged
P_CSUM, P_TCP, P_V6, P_TAGGED = 8, 16, 32, 64


def head(size_log=4, indirect=True, event_idx=False, b_detached=False, a_off=False, b_off=False):
    return bytes([(1 if indirect else 0) | (2 if event_idx else 0) | (size_log << 2) |
                  (32 if b_detached else 0) | (64 if a_off else 0) | (128 if b_off else 0)])


def tx(dev, length, dst=OTHER, pieces=1, lay=0, hdr=0, first=0):
    return struct.pack("<BBBHBBB", 4, dev, lay | (pieces - 1), length, dst, hdr, first)


def rx(dev, nbytes=1530, pieces=1, lay=0):
    return struct.pack("<BBBH", 5, dev, lay | (pieces - 1), nbytes)


def notify(dev, queue):
    return struct.pack("<BB", 3, dev | queue)


def rx_call(dev):
    return struct.pack("<BB", 7, dev)


def probe_send(length, dst=BCAST, count=1):
    return struct.pack("<BBHB", 6, count - 1, length, dst)


def reset(dev):
    return struct.pack("<BB", 8, dev)


def bus_master(dev):
    return struct.pack("<BB", 9, dev)


def plug(dev):
    return struct.pack("<BB", 10, dev)


def raw_desc(dev, queue, i, addr, length, flags, nxt):
    return struct.pack("<BBBHHBB", 1, dev | queue, i, addr // 4, length, flags, nxt)


def raw_publish(dev, queue, h):
    return struct.pack("<BBB", 2, dev | queue, h)


def raw_ram(gpa, data):
    return struct.pack("<BHB", 0, gpa, len(data)) + data


def fill_rx(dev, n, nbytes=1530, pieces=1, lay=0):
    return b"".join(rx(dev, nbytes, pieces, lay) for _ in range(n)) + notify(dev, RXQ)


seeds = {}

# Linux's shape: receive buffers of 1530 bytes on both, a broadcast, replies, full-size frames
ops = fill_rx(A, 8) + fill_rx(B, 8)
ops += tx(A, 42, BCAST) + notify(A, TXQ) + OWNERS
ops += tx(B, 60, OTHER) + notify(B, TXQ) + OWNERS
ops += tx(A, 1514, OTHER) + tx(A, 98, OTHER) + notify(A, TXQ) + OWNERS
ops += tx(B, 1514, OTHER, lay=TX_INDIRECT) + notify(B, TXQ) + OWNERS + PROBE_TAKES
seeds["linux-traffic"] = head(4, event_idx=True) + ops

# every transmit layout: header alone, split inside the header, zero-length buffers, indirect,
# tagged full-size frames, across the extent boundary (slots from 0x1800 cross 0x4000)
ops = fill_rx(B, 12)
ops += tx(A, 100, OTHER, 1, HDR_ALONE) + tx(A, 300, OTHER, 3, 0, first=5)
ops += tx(A, 500, OTHER, 2, TX_ZERO, first=32) + tx(A, 1518, OTHER, 4, TAGGED | TX_INDIRECT)
ops += tx(A, 14, OTHER) + tx(A, 1514, BCAST, 4, HDR_ALONE | TX_ZERO | TX_INDIRECT, first=1)
ops += notify(A, TXQ) + OWNERS + PROBE_TAKES
ops += tx(B, 700, PROBE, 2, SPOOF, first=12) + tx(B, 64, STRANGER) + notify(B, TXQ)
ops += tx(A, 64, STRANGER) + notify(A, TXQ) + OWNERS + PROBE_TAKES
seeds["tx-layouts"] = head(4) + ops

# malformed transmit chains: a writable buffer, offload bits, lengths the switch refuses
ops = fill_rx(B, 4)
ops += tx(A, 60, OTHER, lay=TX_WRITABLE) + tx(A, 60, OTHER, hdr=NEEDS_CSUM)
ops += tx(A, 60, OTHER, hdr=TCPV4) + tx(A, 60, OTHER, hdr=ECN) + tx(A, 60, OTHER, hdr=GSO5)
ops += tx(A, 60, OTHER, hdr=DATA_VALID) + tx(A, 60, OTHER, hdr=ODD_FLAGS) + notify(A, TXQ)
ops += tx(A, 0) + tx(A, 13) + tx(A, 1515) + tx(A, 1518) + tx(A, 1519, lay=TAGGED)
ops += tx(A, 2047, pieces=3) + notify(A, TXQ) + OWNERS + PROBE_TAKES
seeds["tx-malformed"] = head(4) + ops

# receive chains too small, split, with a readable buffer first, zero-length buffers
ops = rx(A, 100) + rx(A, 1525, 2) + rx(A, 1530, 3, RX_READABLE) + rx(A, 1526, 4, RX_ZERO)
ops += rx(A, 0) + rx(A, 2176, 4, RX_INDIRECT) + rx(A, 26) + notify(A, RXQ)
ops += probe_send(1514, OTHER, 3) + probe_send(14, BCAST, 2) + probe_send(60, OTHER, 2)
ops += OWNERS + rx(A, 1530) + notify(A, RXQ) + OWNERS
seeds["rx-chains"] = head(4) + ops

# no receive buffers: the 4 KiB port ring fills and drops, then buffers drain it in order
ops = probe_send(1514, BCAST, 8) + probe_send(60, BCAST, 8) + OWNERS
ops += fill_rx(A, 16) + fill_rx(B, 2) + OWNERS + fill_rx(B, 8) + OWNERS
seeds["full-ring"] = head(4) + ops

# bus mastering off: nothing moves, then everything does
ops = fill_rx(A, 4) + fill_rx(B, 4) + bus_master(A) + tx(A, 200, OTHER) + notify(A, TXQ)
ops += probe_send(300, BCAST, 2) + OWNERS + rx_call(A) + bus_master(A) + notify(A, TXQ)
ops += OWNERS + notify(A, RXQ) + bus_master(B) + tx(A, 80, OTHER) + notify(A, TXQ) + OWNERS
ops += bus_master(B) + notify(B, RXQ) + PROBE_TAKES
seeds["bus-master"] = head(3) + ops

# ports detached and attached again, devices reset with frames queued and chains in flight:
# B starts detached (A's frame floods to the probe alone), is attached, gets frames, is reset
# with them queued, takes them once set up again, and is detached with frames queued
ops = fill_rx(B, 4) + tx(A, 90, OTHER) + notify(A, TXQ) + plug(B)
ops += probe_send(120, BCAST, 3) + reset(B) + OWNERS + fill_rx(B, 4) + OWNERS
ops += tx(A, 100, BCAST) + reset(A) + notify(A, TXQ) + tx(A, 100, BCAST) + notify(A, TXQ)
ops += probe_send(200, OTHER, 2) + plug(B) + tx(A, 300, BCAST) + notify(A, TXQ) + OWNERS
ops += PROBE_TAKES
seeds["detach-reset"] = head(4, b_detached=True) + ops

# hostile: descriptors into the gap and past RAM, loops, bogus heads, RAM rewritten under chains
ops = fill_rx(A, 2) + probe_send(200, BCAST, 2)
ops += raw_desc(A, RXQ, 5, 0x26000, 0x800, 2, 0) + raw_publish(A, RXQ, 5) + OWNERS
ops += reset(A) + raw_desc(A, TXQ, 0, 0x1800, 0x40, 1, 0) + raw_publish(A, TXQ, 0)
ops += notify(A, TXQ) + reset(A) + raw_desc(A, TXQ, 1, 0x1800, 0x100, 0, 0)
ops += raw_ram(0x1800, bytes(12) + b"\xff" * 6 + b"\x02" * 6 + b"\x08\x00")
ops += raw_publish(A, TXQ, 1) + raw_publish(A, TXQ, 9) + notify(A, TXQ)
ops += reset(B) + raw_desc(B, RXQ, 0, 0x13800, 0x600, 2, 0) + raw_publish(B, RXQ, 0)
ops += raw_desc(B, RXQ, 0, 0x400, 0x100, 2, 0) + tx(A, 1514, OTHER) + notify(A, TXQ) + OWNERS
seeds["hostile"] = head(4) + ops

# a queue of one entry: every chain of more than one buffer goes indirect or not at all
ops = fill_rx(A, 1) + fill_rx(B, 1) + tx(A, 60, OTHER, 3) + notify(A, TXQ) + OWNERS
ops += tx(B, 60, OTHER, 2, HDR_ALONE) + notify(B, TXQ) + OWNERS + fill_rx(A, 1, 1530, 2)
ops += OWNERS + PROBE_TAKES
seeds["tiny-queue"] = head(0) + ops

# offloads: A takes every one, B checksums and HOST_TSO4 only. Checksums left open both ways,
# frames to cut from A (whole to the probe, in segments to B), from B (whole to A), from the
# probe to both; receive buffers big enough for a frame to cut whole
mss = lambda m: (m // 48 - 1) << 11  # the length field's top bits: MSS (k + 1) * 48
ops = fill_rx(A, 6, 2176) + fill_rx(B, 12, 1530)
ops += tx(A, 600, OTHER, hdr=NEEDS_CSUM) + tx(A, 900, OTHER, hdr=NEEDS_CSUM | CSUM_AT_END)
ops += tx(A, 2000 | mss(480), OTHER, 2, hdr=TCP_FRAME | TCP_V4) + notify(A, TXQ) + OWNERS
ops += tx(A, 1900 | mss(432), PROBE, 3, TAGGED, hdr=TCP_FRAME | TCP_V6) + notify(A, TXQ)
ops += tx(B, 1800 | mss(960), OTHER, hdr=TCP_FRAME | TCP_V4) + tx(B, 700, OTHER,
                                                                  hdr=TCP_FRAME | TCP_NO_GSO)
ops += tx(B, 1800 | mss(960), OTHER, hdr=TCP_FRAME | TCP_V6) + notify(B, TXQ) + OWNERS
ops += probe_send(1500, OTHER | P_TCP, 2) + probe_send(1200, BCAST | P_TCP | P_V6 | P_TAGGED)
ops += probe_send(800, BCAST | P_CSUM) + OWNERS + fill_rx(B, 12) + OWNERS + PROBE_TAKES
seeds["offloads"] = head(4, a_off=True, b_off=True) + ops

for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
