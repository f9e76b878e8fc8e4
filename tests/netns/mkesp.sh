#!/bin/sh
# mkesp.sh CACHEDIR GUESTDIR OUT CMDLINE [MIB]: a small GPT disk image (MIB MiB, default 48) (raw) whose only partition is an
# EFI system partition holding Debian's signed boot chain for the firmware test
# (test-guests-fw.sh): shim (signed by Microsoft, from shim-signed) as /EFI/BOOT/BOOTX64.EFI,
# GRUB (signed by Debian, from grub-efi-amd64-signed) next to it, and the test guest's kernel
# (mkguest.sh: Debian's signed cloud kernel) and initramfs, booted by /EFI/debian/grub.cfg
# with CMDLINE.
#   OUT             the signed chain as shipped
#   OUT.badsig.img  the same with one byte of the kernel's code changed: its signature no longer
#                   matches, so shim must refuse it under Secure Boot
# The two packages are downloaded (`apt-get download`, nothing is installed) into CACHEDIR once.
# Needs: apt-get, dpkg-deb, sgdisk (gdisk), mtools.
set -eu
CACHE=$(realpath -m "${1:?usage: mkesp.sh CACHEDIR GUESTDIR OUT CMDLINE}")
G=$(realpath "${2:?}")
OUT=$(realpath -m "${3:?}")
CMDLINE=${4:?}
MIB=${5:-48}
mkdir -p "$CACHE"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
if ! [ -s "$CACHE/shimx64.efi.signed" ] || ! [ -s "$CACHE/grubx64.efi.signed" ]; then
        apt-cache show shim-signed >/dev/null 2>&1 || apt-get update -qq
        (cd "$W" && apt-get download shim-signed grub-efi-amd64-signed >/dev/null 2>&1) ||
                { echo "mkesp: apt-get download shim-signed grub-efi-amd64-signed failed" >&2; exit 1; }
        for d in "$W"/*.deb; do dpkg-deb -x "$d" "$W/x"; done
        cp "$W/x/usr/lib/shim/shimx64.efi.signed" "$CACHE/shimx64.efi.signed.new"
        cp "$W/x/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$CACHE/grubx64.efi.signed.new"
        mv "$CACHE/shimx64.efi.signed.new" "$CACHE/shimx64.efi.signed"
        mv "$CACHE/grubx64.efi.signed.new" "$CACHE/grubx64.efi.signed"
fi
cat >"$W/grub.cfg" <<CFG
set timeout=0
echo "GRUB: loading the kernel"
linux /vmlinuz $CMDLINE
initrd /initrd.cpio.gz
boot
CFG
# build IMG KERNEL: a MIB MiB disk, partition 1 (the ESP, FAT) from 1 MiB to the end
build() {
        rm -f "$1"
        truncate -s "${MIB}M" "$1"
        # (not -q: sgdisk 1.0.9 then writes no table)
        sgdisk -n 1:2048:0 -t 1:ef00 -c 1:ESP "$1" >/dev/null 2>&1
        if ! sgdisk -p "$1" | grep -q "EF00"; then echo "mkesp: sgdisk made no ESP" >&2; exit 1; fi
        mformat -i "$1@@1M" -v ESP -h 16 -s 63 -T $(((MIB - 1) * 2048 - 33)) :: >/dev/null
        mmd -i "$1@@1M" ::/EFI ::/EFI/BOOT ::/EFI/debian
        mcopy -i "$1@@1M" "$CACHE/shimx64.efi.signed" ::/EFI/BOOT/BOOTX64.EFI
        mcopy -i "$1@@1M" "$CACHE/grubx64.efi.signed" ::/EFI/BOOT/grubx64.efi
        mcopy -i "$1@@1M" "$W/grub.cfg" ::/EFI/debian/grub.cfg
        mcopy -i "$1@@1M" "$2" ::/vmlinuz
        mcopy -i "$1@@1M" "$G/initrd.cpio.gz" ::/initrd.cpio.gz
}
build "$OUT" "$G/vmlinuz"
cp "$G/vmlinuz" "$W/vmlinuz.bad"
# one byte inside the kernel's code (the signed hash covers it; the signature itself is intact)
printf '\125' | dd of="$W/vmlinuz.bad" bs=1 seek=$((1024 * 1024)) conv=notrunc 2>/dev/null
cmp -s "$G/vmlinuz" "$W/vmlinuz.bad" && { echo "mkesp: the kernel did not change" >&2; exit 1; }
build "$OUT.badsig.img" "$W/vmlinuz.bad"
echo "esp: $OUT and $OUT.badsig.img"
