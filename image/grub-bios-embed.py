#!/usr/bin/python3
"""Write GRUB's i386-pc boot.img (MBR boot code) and core.img (into the GPT BIOS boot partition)
of a disk image FILE: what grub-bios-setup does, which GRUB 2.06 refuses to do for an image file
(it insists on guessing a root device from the build host).
Usage: grub-bios-embed.py DISK.raw boot.img core.img"""
import json
import struct
import subprocess
import sys

BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649"
img, boot_path, core_path = sys.argv[1:4]
pt = json.loads(subprocess.check_output(["sfdisk", "--json", img]))["partitiontable"]
assert pt.get("sectorsize", 512) == 512
part = next(p for p in pt["partitions"] if p["type"].upper() == BIOS_BOOT)
boot = bytearray(open(boot_path, "rb").read())
core = bytearray(open(core_path, "rb").read())
assert len(boot) == 512, "boot.img must be one sector"
if len(core) > part["size"] * 512:
    sys.exit("core.img does not fit into the BIOS boot partition")
struct.pack_into("<Q", boot, 0x5C, part["start"])        # kernel_sector: LBA of core.img
boot[0x64] = 0xFF                                         # boot_drive: the drive the BIOS passes
boot[0x66:0x68] = b"\x90\x90"                             # hard-disk workaround, as grub-bios-setup
struct.pack_into("<Q", core, 0x200 - 12, part["start"] + 1)  # diskboot blocklist: rest of core.img
with open(img, "r+b") as f:
    f.seek(0)
    f.write(boot[:440])           # keeps the disk signature, the protective MBR entry and 0x55AA
    f.seek(part["start"] * 512)
    f.write(core)
print(f"grub: BIOS stage: core.img {len(core)} bytes at LBA {part['start']}", file=sys.stderr)
