#!/bin/sh
# Installs the build host's tools for the appliance image (make image/vhd/run/test-image) with
# apt-get: only what is missing, `apt-get update` only when something is. Debian 12 host, root.
#   mmdebstrap                    the root filesystem, from Debian's packages only
#   e2fsprogs dosfstools mtools   the ext4 and FAT filesystems, built as files (no loop, no mount)
#   systemd (systemd-repart) fdisk (sfdisk)   the GPT
#   grub-common grub-pc-bin grub-efi-amd64-bin   GRUB images for BIOS and UEFI (grub-mkimage)
#   qemu-utils                    VHD and qcow2 conversion; qemu-system-x86 ovmf: booting it
#   openssh-client python3        the boot test (ssh into the VM; GRUB's BIOS stage embedder;
#                                 the simulated Azure fabric, tests/image/azure-fabric.py)
#   xorriso                       the Azure provisioning disk (ISO9660 with ovf-env.xml)
set -eu
PKGS="mmdebstrap e2fsprogs dosfstools mtools systemd fdisk grub-common grub-pc-bin
      grub-efi-amd64-bin qemu-utils qemu-system-x86 ovmf openssh-client python3 zstd
      iproute2 nftables dnsmasq-base busybox-static xorriso"
# shellcheck disable=SC2086 # the list is split into packages on purpose
exec "$(dirname "$0")/../tests/deps.sh" image $PKGS
