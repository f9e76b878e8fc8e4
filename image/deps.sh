#!/bin/sh
# Installs the build host's tools for the appliance image (make image/vhd/run/test-image) with
# apt-get: only what is missing, `apt-get update` only when something is. Debian 12 host, root.
#   mmdebstrap                    the root filesystem, from Debian's packages only
#   e2fsprogs dosfstools mtools   the ext4 and FAT filesystems, built as files (no loop, no mount)
#   systemd (systemd-repart) fdisk (sfdisk)   the GPT
#   grub-common grub-pc-bin       the BIOS GRUB image (grub-mkimage); UEFI uses Debian's signed
#                                 GRUB and shim, fetched into the image (image/signed-efi.sh)
#   qemu-utils                    VHD and qcow2 conversion; qemu-system-x86 ovmf: booting it
#   swtpm                         the vTPM of the Trusted Launch boot (image/vm.sh VM_TPM=1)
#   openssh-client python3        the boot test (ssh into the VM; GRUB's BIOS stage embedder;
#                                 the simulated Azure fabric, tests/image/azure-fabric.py)
#   xorriso                       the Azure provisioning disk (ISO9660 with ovf-env.xml)
set -eu
PKGS="mmdebstrap e2fsprogs dosfstools mtools systemd fdisk grub-common grub-pc-bin
      qemu-utils qemu-system-x86 ovmf openssh-client python3 zstd
      iproute2 nftables dnsmasq-base busybox-static xorriso swtpm"
# shellcheck disable=SC2086 # the list is split into packages on purpose
exec "$(dirname "$0")/../tests/deps.sh" image $PKGS
