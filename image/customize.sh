#!/bin/sh
# mmdebstrap --customize-hook for the nestrouter image: the generic configuration that depends
# only on the packages (its output is cached with them). Everything nestrouter-specific is the
# overlay in rootfs/, applied on every build by overlay.sh. $1 is the root directory.
set -eu
R=${1:?usage: customize.sh ROOTDIR}

echo nestrouter >"$R/etc/hostname"
cat >"$R/etc/hosts" <<'HOSTS'
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
HOSTS
# DNS through systemd-resolved's stub (networkd feeds it the DHCP servers of NIC1 only)
ln -sf ../run/systemd/resolve/stub-resolv.conf "$R/etc/resolv.conf"
chroot "$R" systemctl enable systemd-networkd.service systemd-resolved.service >/dev/null 2>&1
# bird2's own bird.service (its /etc/bird/bird.conf) stays off: nestrouterd runs BIRD itself for
# bgp: (docs/azure.md §12.2), and two BIRDs would fight over BGP's port and the kernel table
chroot "$R" systemctl mask bird.service >/dev/null 2>&1
# C.UTF-8 needs no locale-gen
echo LANG=C.UTF-8 >"$R/etc/default/locale"

# The initramfs must carry the Azure and virtio drivers (or have them built in).
kver=$(ls "$R/lib/modules")
[ "$(echo "$kver" | wc -w)" = 1 ] || { echo "customize: expected one kernel, got: $kver" >&2; exit 1; }
chroot "$R" lsinitramfs "/boot/initrd.img-$kver" >"$R/tmp/initrd.list"
for m in hv_vmbus hv_storvsc hv_netvsc nvme virtio_blk virtio_net virtio_pci; do
        grep -q "/$m\.ko" "$R/tmp/initrd.list" ||
                grep -q "/$m\.ko" "$R/lib/modules/$kver/modules.builtin" || {
                echo "customize: $m is neither in the initramfs nor built in" >&2; exit 1; }
done
rm -f "$R/tmp/initrd.list"
