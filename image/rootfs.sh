#!/bin/sh
# Step 1 of the image build: the Debian 12 root filesystem from Debian's packages only
# (mmdebstrap), as a tarball cached in build/image/cache/ under a hash of everything that goes
# into it (package list, hooks, suite, mirrors). Prints the tarball's path.
#   rootfs.sh CACHEDIR        IMAGE_REFRESH=1 rebuilds even when the cached tarball exists
# Downloaded .debs are kept in CACHEDIR/debs, so a rebuild after a package-list change only
# fetches what is new. Needs root (mmdebstrap --mode=root chroots and bind-mounts /proc etc.).
# shellcheck disable=SC2016  # $1 in the hooks is mmdebstrap's, expanded when they run
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${1:?usage: rootfs.sh CACHEDIR}
SUITE=${IMAGE_SUITE:-bookworm}
MIRROR=${IMAGE_MIRROR:-http://deb.debian.org/debian}
SECMIRROR=${IMAGE_SECMIRROR:-http://deb.debian.org/debian-security}
mkdir -p "$CACHE/debs"
CACHE=$(cd "$CACHE" && pwd)

pkgs=$(sed 's/#.*//' "$HERE/packages.txt" | tr -s ' \n' '\n' | grep . | sort -u | paste -sd, -)
key=$( { echo "$SUITE $MIRROR $SECMIRROR $pkgs"; cat "$HERE/rootfs.sh" "$HERE/signed-efi.sh" \
        "$HERE/customize.sh" "$HERE"/initramfs/*; } | sha256sum | cut -c1-16)
tarball=$CACHE/rootfs-$key.tar
if [ -s "$tarball" ] && [ "${IMAGE_REFRESH:-0}" != 1 ]; then
        echo "rootfs: cached $tarball" >&2
        echo "$tarball"
        exit 0
fi
echo "rootfs: mmdebstrap $SUITE, $(echo "$pkgs" | tr , '\n' | wc -l) packages (+ dependencies) -> $tarball" >&2
rm -f "$tarball.tmp"
# --variant=minbase and no Recommends keep it small; the merged-usr hook avoids the usrmerge
# package (and perl). The essential hook puts the initramfs configuration in place before the
# kernel is installed. /usr/share/{doc,man,info,locale} are left out (copyrights stay).
# signed-efi.sh fetches the signed shim and GRUB for the ESP (Secure Boot) before customize.sh
# points resolv.conf at resolved's stub (no name service in the chroot after that).
mmdebstrap --variant=minbase --mode=root --format=tar \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --aptopt='APT::Install-Recommends "false"' \
        --include="$pkgs" \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-include=/usr/share/locale/locale.alias' \
        --skip=essential/unlink \
        --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
        --setup-hook="sync-in '$CACHE/debs' /var/cache/apt/archives/" \
        --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks"' \
        --essential-hook="copy-in '$HERE/initramfs/modules.conf' '$HERE/initramfs/fstype.conf' /etc/initramfs-tools/conf.d/" \
        --essential-hook="copy-in '$HERE/initramfs/nestrouter-drivers' /etc/initramfs-tools/hooks/" \
        --customize-hook="sync-out /var/cache/apt/archives '$CACHE/debs'" \
        --customize-hook="'$HERE/signed-efi.sh' \"\$1\"" \
        --customize-hook="'$HERE/customize.sh' \"\$1\"" \
        "$SUITE" "$tarball.tmp" \
        "deb $MIRROR $SUITE main" \
        "deb $MIRROR $SUITE-updates main" \
        "deb $SECMIRROR $SUITE-security main"
mv "$tarball.tmp" "$tarball"
# keep only this tarball: the others belong to package lists no longer in use
for f in "$CACHE"/rootfs-*.tar; do [ "$f" = "$tarball" ] || rm -f "$f"; done
rm -f "$CACHE/debs"/*.deb.partial "$CACHE/debs/lock" 2>/dev/null || true
echo "$tarball"
