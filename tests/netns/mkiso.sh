#!/bin/sh
# mkiso.sh CACHEDIR GUESTDIR OUT CMDLINE: the installer ISO of the ISO installation test
# (test-guests-fw.sh), made with grub-mkrescue (boots with BIOS and UEFI): GRUB boots the test
# guest's kernel with CMDLINE nrtest.install and two initramfs images, the guest's own and one
# holding /payload/disk.img: a bootable GPT disk (mkesp.sh, whose kernel line adds
# nrtest.from=disk) that the guest's init writes to its blank disk before powering off.
# Needs: grub-mkrescue (grub-common, with grub-efi-amd64-bin), xorriso, mtools, busybox, and
# what mkesp.sh needs.
set -eu
CACHE=${1:?usage: mkiso.sh CACHEDIR GUESTDIR OUT CMDLINE}
G=$(realpath "${2:?}")
OUT=$(realpath -m "${3:?}")
CMDLINE=${4:?}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/p/payload" "$W/iso/boot/grub"
sh "$HERE/mkesp.sh" "$CACHE" "$G" "$W/p/payload/disk.img" "$CMDLINE nrtest.from=disk" 32 >/dev/null
rm -f "$W/p/payload/disk.img.badsig.img"
(cd "$W/p" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$W/iso/payload.cpio.gz"
cp "$G/vmlinuz" "$G/initrd.cpio.gz" "$W/iso/"
cat >"$W/iso/boot/grub/grub.cfg" <<CFG
set timeout=0
echo "GRUB: the installer"
linux /vmlinuz $CMDLINE nrtest.install
initrd /initrd.cpio.gz /payload.cpio.gz
boot
CFG
grub-mkrescue -o "$OUT" "$W/iso" >"$W/mkrescue.log" 2>&1 || { cat "$W/mkrescue.log" >&2; exit 1; }
echo "iso: $OUT ($(stat -c %s "$OUT") bytes)"
