#!/bin/sh
# Step 3 of the image build: a GPT disk image that boots with BIOS (Azure Gen1, SeaBIOS) and
# UEFI (Azure Gen2, OVMF) from a root directory, without loop devices or mounts:
#   p1 BIOS boot (1 MiB): GRUB i386-pc core.img; boot.img in the protective MBR
#   p2 ESP (64 MiB FAT32): Debian's signed chain for Secure Boot (Azure Trusted Launch) on the
#      removable path, so no NVRAM entry is needed: EFI/BOOT/BOOTX64.EFI is shim (signed by
#      Microsoft), EFI/BOOT/grubx64.efi GRUB (signed by Debian, verifies the kernel through
#      shim), EFI/debian/grub.cfg (where that GRUB looks) hands over to the root partition's
#   p3 root (ext4, the rest): last, so cloud-init's growpart can grow it; found by PARTUUID
# The filesystems are built as files (mkfs.ext4 -d, mkfs.vfat + mtools) and placed by
# systemd-repart with CopyBlocks=; the BIOS GRUB comes from grub-mkimage and its stage is
# written by grub-bios-embed.py; shim and the signed GRUB from the root tree (signed-efi.sh put
# them in /usr/lib/nestrouter-image/efi). Both GRUBs read one static /boot/grub/grub.cfg on the
# root partition (partition 3 of the disk GRUB was loaded from) that boots the /vmlinuz and
# /initrd.img links the kernel package maintains; the kernel is Debian's signed cloud kernel.
#   assemble.sh ROOTDIR OUT.raw       SIZE_MIB (2048), ESP_MIB (64), GRUB_TIMEOUT (1)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
R=$(realpath "${1:?usage: assemble.sh ROOTDIR OUT.raw}")
OUT=$(realpath -m "${2:?usage: assemble.sh ROOTDIR OUT.raw}")
SIZE_MIB=${SIZE_MIB:-2048}          # whole MiB: the Azure VHD's virtual size
ESP_MIB=${ESP_MIB:-64}
ROOT_MIB=$((SIZE_MIB - ESP_MIB - 1 - 2))   # 1 MiB BIOS boot, 2 MiB for GPT headers and alignment
ROOT_UUID=${ROOT_UUID:-$(cat /proc/sys/kernel/random/uuid)}   # the root partition's PARTUUID
FS_UUID=${FS_UUID:-$(cat /proc/sys/kernel/random/uuid)}
ESP_UUID=${ESP_UUID:-$(cat /proc/sys/kernel/random/uuid)}
# console=ttyS0 last: /dev/console and the serial getty (Azure's serial console, QEMU's -nographic)
# nvme_core timeouts: what Debian's Azure images use (v6 sizes boot from NVMe)
CMDLINE="root=PARTUUID=$ROOT_UUID ro console=tty0 console=ttyS0,115200n8 earlyprintk=ttyS0,115200 net.ifnames=0 biosdevname=0 nvme_core.io_timeout=240 nvme_core.admin_timeout=240 ${EXTRA_CMDLINE:-}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nr-assemble.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
mkdir -p "$WORK/repart.d"
say() { echo "assemble: $*" >&2; }

# files that depend on this disk
printf 'PARTUUID=%s\t/\text4\trw,discard,errors=remount-ro\t0\t1\n' "$ROOT_UUID" >"$R/etc/fstab"
mkdir -p "$R/boot/grub"
cat >"$R/boot/grub/grub.cfg" <<GRUBCFG
# nestrouter image: a static configuration (there is no GRUB package in the image to update it).
# /vmlinuz and /initrd.img are links the kernel package keeps current; *.old are the previous ones.
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=${GRUB_TIMEOUT:-1}
menuentry 'nestrouter' {
  linux /vmlinuz $CMDLINE
  initrd /initrd.img
}
menuentry 'nestrouter (previous kernel)' {
  linux /vmlinuz.old $CMDLINE
  initrd /initrd.img.old
}
GRUBCFG

say "GRUB image for BIOS (grub-mkimage)"
MODS="part_gpt ext2 normal configfile linux boot echo test search serial terminal gzio biosdisk"
# shellcheck disable=SC2086
grub-mkimage -O i386-pc -p '(,gpt3)/boot/grub' -o "$WORK/core.img" $MODS

# Debian's signed GRUB has its modules built in and its prefix set to /EFI/debian on the ESP it
# was loaded from ($root is that partition): this file sends it to partition 3 of the same disk,
# by FS UUID should the disk's name not parse. Under Secure Boot it loads only a kernel that
# shim accepts (signed by Debian); initrd and grub.cfg are not signed.
EFI=$R/usr/lib/nestrouter-image/efi
for f in shimx64.efi grubx64.efi versions; do
        [ -s "$EFI/$f" ] || { say "$EFI/$f missing (image/signed-efi.sh)"; exit 1; }
done
cat >"$WORK/esp-grub.cfg" <<ESPCFG
# nestrouter image: shim -> this signed GRUB (prefix /EFI/debian) -> the root partition's grub.cfg
regexp --set=1:nr_disk '^([^,]+),' "\$root"
if [ -n "\$nr_disk" -a -e "(\$nr_disk,gpt3)/boot/grub/grub.cfg" ]; then
  set root="\$nr_disk,gpt3"
else
  search --no-floppy --fs-uuid --set=root $FS_UUID
fi
set prefix=(\$root)/boot/grub
configfile (\$root)/boot/grub/grub.cfg
ESPCFG

say "ESP: FAT32, $ESP_MIB MiB: shim, signed GRUB ($(paste -sd, "$EFI/versions"))"
mkfs.vfat -F 32 -n ESP -i "$(echo "$ESP_UUID" | cut -c1-8)" -C "$WORK/esp.img" $((ESP_MIB * 1024)) >/dev/null
mmd -i "$WORK/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/debian
mcopy -i "$WORK/esp.img" "$EFI/shimx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$WORK/esp.img" "$EFI/grubx64.efi" ::/EFI/BOOT/grubx64.efi
mcopy -i "$WORK/esp.img" "$WORK/esp-grub.cfg" ::/EFI/debian/grub.cfg

say "root: ext4, $ROOT_MIB MiB, $(du -sm "$R" | cut -f1) MiB of files (mkfs.ext4 -d)"
# GRUB 2.06 cannot read ext4 with orphan_file or metadata_csum_seed (e2fsprogs >= 1.47 may
# enable them by default; Debian 12's mke2fs.conf does not): switched off where mke2fs knows them
EXT4_OFF=
mkfs.ext4 -q -F -O ^orphan_file "$WORK/probe.img" 1M >/dev/null 2>&1 && EXT4_OFF="-O ^orphan_file,^metadata_csum_seed"
rm -f "$WORK/probe.img"
# shellcheck disable=SC2086
mkfs.ext4 -q -F -L root -U "$FS_UUID" $EXT4_OFF -E root_owner=0:0 -d "$R" "$WORK/root.img" "${ROOT_MIB}M" >/dev/null

say "GPT: BIOS boot, ESP, root (systemd-repart)"
cat >"$WORK/repart.d/10-bios.conf" <<CONF
[Partition]
Type=21686148-6449-6e6f-744e-656564454649
Label=bios
SizeMinBytes=1M
SizeMaxBytes=1M
CONF
cat >"$WORK/repart.d/20-esp.conf" <<CONF
[Partition]
Type=esp
Label=esp
UUID=$ESP_UUID
CopyBlocks=$WORK/esp.img
SizeMinBytes=${ESP_MIB}M
SizeMaxBytes=${ESP_MIB}M
CONF
cat >"$WORK/repart.d/30-root.conf" <<CONF
[Partition]
Type=root-x86-64
Label=root
UUID=$ROOT_UUID
CopyBlocks=$WORK/root.img
CONF
rm -f "$OUT" "$OUT.tmp"
systemd-repart --empty=create --size="${SIZE_MIB}M" --dry-run=no --no-pager --pretty=no \
        --seed="$ROOT_UUID" --definitions="$WORK/repart.d" "$OUT.tmp" >"$WORK/repart.log" 2>&1 ||
        { cat "$WORK/repart.log" >&2; exit 1; }
fallocate --dig-holes "$OUT.tmp"      # CopyBlocks= writes the zeros too
"$HERE/grub-bios-embed.py" "$OUT.tmp" /usr/lib/grub/i386-pc/boot.img "$WORK/core.img"

# the result: three partitions, the root one carrying the PARTUUID the kernel is told
sfdisk --json "$OUT.tmp" | python3 -c '
import json, sys
p = json.load(sys.stdin)["partitiontable"]["partitions"]
assert len(p) == 3, p
assert p[2]["uuid"].lower() == sys.argv[1].lower(), (p[2]["uuid"], sys.argv[1])
' "$ROOT_UUID"
mv "$OUT.tmp" "$OUT"
say "$OUT: $SIZE_MIB MiB, root PARTUUID $ROOT_UUID"
