#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_gpt (tests/fuzz/corpus/gpt/): small GPT disks made by util-linux
(sfdisk for 512-byte blocks, fdisk -b 4096 for 4 KiB ones, as tests/unit/test_gpt.c does), in the
input format documented at the top of tests/fuzz/fuzz_gpt.c: a 4-byte preamble, the disk's first
blocks, then its last ones, 512 bytes per block."""
import os
import struct
import subprocess
import tempfile

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "gpt")
os.makedirs(out, exist_ok=True)


def disk(bs, blocks, script):
    with tempfile.TemporaryDirectory() as d:
        img, spec = os.path.join(d, "disk"), os.path.join(d, "script")
        with open(img, "wb") as f:
            f.truncate(bs * blocks)
        with open(spec, "w") as f:
            f.write(script)
        if bs == 512:
            subprocess.run(["sfdisk", "-q", img], stdin=open(spec), check=True,
                           stdout=subprocess.DEVNULL)
        else:
            subprocess.run(["fdisk", "-b", str(bs), img], input=f"I\n{spec}\nw\n".encode(),
                           check=True, stdout=subprocess.DEVNULL)
        return open(img, "rb").read()


def seed(name, bs, blocks, script, head, tail, flags=0, edit=None):
    image = disk(bs, blocks, script)
    if edit:
        image = edit(bytearray(image))
    chunks = [image[i * bs:i * bs + 512] for i in range(blocks)]
    body = b"".join(chunks[:head]) + b"".join(chunks[blocks - tail:])
    pre = bytes([(1 if bs == 4096 else 0) | flags]) + struct.pack("<H", blocks) + bytes([head])
    with open(os.path.join(out, name), "wb") as f:
        f.write(pre + body)


two = ('label: gpt\ntable-length: 4\nx1 : start=3, size=20, name="boot"\n'
       'x2 : start=23, size=30, name="data"\n')
# MBR, header, one block of 4 entries; backup array and header
seed("sfdisk-512-two", 512, 64, two, 3, 2)
seed("sfdisk-512-two-bad-primary", 512, 64, two, 3, 2, flags=2)
# CRCs recomputed by the harness: mutations reach the field checks
seed("sfdisk-512-two-fixcrc", 512, 64, two, 3, 2, flags=4 | 8)


def overlap(image):
    """partition 2 starting inside partition 1, in both arrays (LBA 2 and 62); sfdisk refuses to
    write that, so the tool's image is edited and the harness recomputes the CRCs"""
    for lba in (2, 62):
        struct.pack_into("<Q", image, lba * 512 + 128 + 32, 10)
    return bytes(image)


seed("sfdisk-512-overlap-fixcrc", 512, 64, two, 3, 2, flags=4 | 8, edit=overlap)
seed("sfdisk-512-16-entries", 512, 64,
     'label: gpt\ntable-length: 16\nx1 : start=6, size=8, name="esp", '
     'type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nx3 : start=14, size=8, name="twin"\n'
     'x4 : start=22, size=8, name="twin"\nx16 : start=30, size=20, name="r\u00e9seau"\n',
     6, 5)
seed("fdisk-4096-two", 4096, 32,
     'label: gpt\ntable-length: 4\nx1 : start=3, size=2, name="a"\n'
     'x3 : start=5, size=20, name="abcdefghijklmnopqrstuvwxyz0123456789", attrs="GUID:60"\n',
     3, 2, flags=4 | 8)
seed("fdisk-4096-empty", 4096, 16, "label: gpt\ntable-length: 4\n", 3, 2, flags=2)
