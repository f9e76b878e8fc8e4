#!/bin/sh
# Installs build and test dependencies with apt-get. Idempotent: installs only what is missing,
# and runs `apt-get update` only when something is. busybox-static, not busybox: the two
# conflict, and the test guests' initramfs needs the static one. ovmf, swtpm(-tools), gdisk and
# mtools, xorriso and grub-*: the guest firmware test (UEFI, TPM, EFI disks, an installer ISO
# made by grub-mkrescue; xorriso also builds cloud-init seeds); zlib1g-dev:
# nestrouterd reads compressed qcow2 clusters. The Debian package (make deb, tests/deb/):
# debhelper, dpkg-dev, bash-completion (dh_bash-completion), pandoc (the man pages), lintian,
# mmdebstrap (the test's Debian 12 root), man-db and groff-base (man --warnings). bird2: the
# BGP speaker of bgp: and the simulated Route Server (tests/netns/test-bgp.sh).
#   tests/deps.sh                  every build and test dependency (make deps)
#   tests/deps.sh NAME PKG...      just these packages, NAME in messages (image, bench)
set -eu
what=deps
PKGS="build-essential pkg-config clang libyaml-dev libcmocka-dev
      libnl-3-dev libnl-route-3-dev libnftables-dev libsystemd-dev libmnl-dev
      nftables dnsmasq-base iproute2 jq busybox-static shellcheck python3 python3-jsonschema
      libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-system libvirt-clients
      qemu-system-x86 qemu-utils tini iperf3 gnuplot-nox iptables zlib1g-dev
      ovmf swtpm swtpm-tools gdisk mtools xorriso grub-common grub-efi-amd64-bin grub-pc-bin
      debhelper dpkg-dev bash-completion pandoc lintian mmdebstrap man-db groff-base
      prometheus prometheus-node-exporter curl bird2"
if [ $# -gt 0 ]; then
        what="$1 deps"
        shift
        PKGS="$*"
fi
missing=""
for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
                missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
        echo "$what: missing packages:$missing (run as root to install them)" >&2
        exit 1
fi
echo "$what: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
