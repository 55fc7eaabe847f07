#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_io and fuzz_mmio (tests/fuzz/corpus/{io,mmio}/): Linux's
init sequences for each device, in the record formats documented at the top of each fuzzer."""
import os
import struct

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# ---- fuzz_io: 8-byte records ----
SZ = {1: 0, 2: 1, 4: 2, 3: 3}


def rd(port, size=1):
    return struct.pack("<BHIB", 0 | SZ[size] << 2, port, 0, 0)


def wr(port, val, size=1):
    return struct.pack("<BHIB", 1 | SZ[size] << 2, port, val & 0xFFFFFFFF, 0)


def tick(ns, shift=0):
    return struct.pack("<BHIB", 2, 0, ns, shift)


def service(val=0):
    return struct.pack("<BHIB", 3, 0, val, 0)


def uart_probe():
    b = rd(0x3F9) + wr(0x3F9, 0) + rd(0x3F9) + wr(0x3F9, 0x0F) + rd(0x3F9) + wr(0x3F9, 0)
    b += rd(0x3FC) + wr(0x3FC, 0x1A) + rd(0x3FE) + wr(0x3FC, 0)
    b += wr(0x3FB, 0xBF) + wr(0x3FA, 0) + wr(0x3FB, 0) + wr(0x3FA, 1) + rd(0x3FA)
    b += wr(0x3FB, 0x80) + rd(0x3FA) + wr(0x3FB, 0xBF) + rd(0x3FA) + wr(0x3FB, 0)
    b += wr(0x3FA, 0x21) + rd(0x3FA) + wr(0x3FA, 1) + wr(0x3FB, 0x83) + wr(0x3F8, 1)
    b += wr(0x3F9, 0) + wr(0x3FB, 3) + wr(0x3FC, 0x0B) + wr(0x3F9, 2) + rd(0x3FA)
    for c in b"keel\n":
        b += rd(0x3FD) + wr(0x3F8, c)
    b += service(ord("x")) + rd(0x3FD) + rd(0x3F8)
    return b


def pic_init():
    b = wr(0x21, 0xFF) + wr(0xA1, 0xFF) + wr(0x20, 0x11) + wr(0x21, 0x30) + wr(0x21, 4)
    b += wr(0x21, 1) + wr(0xA0, 0x11) + wr(0xA1, 0x38) + wr(0xA1, 2) + wr(0xA1, 1)
    return b + wr(0x21, 0xFA) + wr(0xA1, 0xFF)


def pit_periodic():
    b = pic_init() + wr(0x43, 0x34) + wr(0x40, 0x9C) + wr(0x40, 0x2E)
    for _ in range(5):
        b += tick(10000000) + service() + wr(0x20, 0x20)
    b += wr(0x43, 0x30) + wr(0x40, 0) + wr(0x40, 0) + tick(60000000) + service()
    return b


def pit_calibrate():
    b = rd(0x61) + wr(0x61, 1) + wr(0x43, 0xB0) + wr(0x42, 0x2E) + wr(0x42, 0x5D)
    for _ in range(8):
        b += tick(7000000) + rd(0x61)
    b += wr(0x43, 0xB0) + wr(0x42, 0xFF) + wr(0x42, 0xFF)
    for _ in range(8):
        b += tick(300000) + rd(0x42) + rd(0x42)
    b += wr(0x43, 0xC8) + rd(0x42) + rd(0x42) + rd(0x42) + wr(0x43, 0xB6) + wr(0x61, 3)
    return b


def rtc():
    b = b""
    for _ in range(3):
        b += wr(0x70, 0x0A) + rd(0x71) + tick(400000)
    for reg in (0, 2, 4, 6, 7, 8, 9, 0x32, 0x0B, 0x0C, 0x0D):
        b += wr(0x70, reg) + rd(0x71)
    b += wr(0x70, 0x0B) + wr(0x71, 0x82) + wr(0x70, 0) + wr(0x71, 0x59) + wr(0x70, 9)
    b += wr(0x71, 0x99) + wr(0x70, 0x0B) + wr(0x71, 0x52) + wr(0x70, 0x8C) + rd(0x71)
    b += tick(1000000000) + service() + wr(0x70, 0x0C) + rd(0x71)
    return b


def acpi():
    b = b""
    for _ in range(6):
        b += rd(0x608, 4) + tick(1000000)
    b += wr(0x602, 0x0100, 2) + service(0x100) + rd(0x600, 2) + wr(0x600, 0x100, 2)
    b += wr(0x604, 0x1401, 2) + wr(0x604, 0x3401, 2)
    return b


def resets():
    return (wr(0xCF9, 2) + wr(0xCF9, 6) + rd(0x64) + wr(0x64, 0xAA) + rd(0x60) + wr(0x64, 0xFE)
            + rd(0x92) + wr(0x92, 3) + wr(0xF4, 0, 4) + rd(0x80) + wr(0x80, 1) + rd(0xCFC, 4))


io = {"uart-probe": uart_probe(), "pit-periodic": pit_periodic(),
      "pit-calibrate": pit_calibrate(), "rtc": rtc(), "acpi-pm": acpi(), "resets": resets()}

# ---- fuzz_mmio: 12-byte records ----
LAPIC, IOAPIC, FIXED, UNCLAIMED = 0, 1, 2, 3
MSZ = {1: 0, 2: 1, 4: 2, 8: 3}


def rec(op, size=4, cpu=0, page=0, off=0, val=0):
    b0 = op | MSZ[size] << 3 | cpu << 5 | page << 6
    return struct.pack("<BHBQ", b0, off, 0, val & 0xFFFFFFFFFFFFFFFF)


def mr(off, page=LAPIC, cpu=0, size=4):
    return rec(0, size, cpu, page, off)


def mw(off, val, page=LAPIC, cpu=0, size=4):
    return rec(1, size, cpu, page, off, val)


def x2(reg):  # byte 1 = reg, byte 2 bit 7
    return reg | 0x8000


def msr_r(sel, cpu=0):
    return rec(2, 8, cpu, 0, sel)


def msr_w(sel, val, cpu=0):
    return rec(3, 8, cpu, 0, sel, val)


APIC_BASE_SEL = 0  # byte 1 & 3 == 0
DEADLINE_SEL = 1


def ioapic_entry(pin, e):
    return (mw(0, 0x11 + 2 * pin, IOAPIC) + mw(0x10, e >> 32, IOAPIC) + mw(0, 0x10 + 2 * pin, IOAPIC)
            + mw(0x10, e & 0xFFFFFFFF, IOAPIC))


def xapic_boot():
    b = mr(0x20) + mr(0x30) + mw(0xF0, 0x1FF) + mw(0x80, 0) + mw(0xE0, 0xFFFFFFFF)
    b += mw(0xD0, 0x01000000) + mw(0x350, 0x10700) + mw(0x360, 0x400) + mw(0x370, 0xFE)
    b += mw(0x280, 0) + mr(0x280) + mw(0x3E0, 3) + mw(0x320, 0x200EC) + mw(0x380, 62500)
    b += rec(4, val=1000000) + rec(5, val=1) + mr(0x390) + mw(0x320, 0x100EC)
    b += mr(0, IOAPIC) + mw(0, 1, IOAPIC) + mr(0x10, IOAPIC) + ioapic_entry(2, 0x30)
    b += ioapic_entry(4, 0x8034) + rec(6, off=4, val=1) + rec(5, val=1) + rec(6, off=4, val=0)
    b += mw(0x310, 0x01000000) + mw(0x300, 0x40FD) + rec(5, cpu=1, val=1)
    b += mw(0x300, 0xC4500) + mw(0x300, 0xC0610) + rec(5, cpu=1) + mr(0x34, UNCLAIMED)
    return b


def x2apic_boot():
    b = msr_r(APIC_BASE_SEL) + msr_w(APIC_BASE_SEL, 0xFEE00C00) + msr_r(x2(0x02)) + msr_r(x2(0x0D))
    b += msr_w(x2(0x0F), 0x1FF) + msr_w(x2(0x08), 0) + msr_w(x2(0x32), 0x400EC)
    b += msr_w(DEADLINE_SEL, 3000000) + rec(4, val=2000000) + rec(5, val=1)
    b += msr_w(x2(0x30), (1 << 32) | 0x4077) + msr_w(x2(0x3F), 0x55) + rec(5, val=1)
    b += msr_w(x2(0x0B), 0) + msr_r(x2(0x0B)) + msr_w(x2(0x0E), 0) + msr_w(x2(0x08), 0x100)
    b += msr_w(APIC_BASE_SEL, 0xFEE00800) + msr_w(APIC_BASE_SEL, 0xFEE00000)
    b += msr_w(APIC_BASE_SEL, 0xFEE00800) + mr(0x30)
    return b


def ioapic_level():
    b = mw(0xF0, 0x1FF) + ioapic_entry(9, 0x8039) + rec(6, off=9, val=1) + rec(5, val=1)
    b += rec(6, off=9, val=1) + rec(5, val=1) + rec(6, off=9, val=0) + rec(5, val=1)
    b += ioapic_entry(9, 0x18039) + rec(6, off=9, val=1) + ioapic_entry(9, 0x8039)
    b += rec(7, off=0x21, val=0xFE) + rec(6, off=0, val=1) + rec(6, off=0, val=0) + rec(5)
    return b


mmio = {"xapic-boot": xapic_boot(), "x2apic-boot": x2apic_boot(), "ioapic-level": ioapic_level()}

for name, seeds in (("io", io), ("mmio", mmio)):
    os.makedirs(os.path.join(root, name), exist_ok=True)
    for seed, data in seeds.items():
        with open(os.path.join(root, name, seed), "wb") as f:
            f.write(data)
