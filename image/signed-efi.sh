#!/bin/sh
# mmdebstrap --customize-hook (before customize.sh, while the chroot still resolves names): the
# UEFI boot chain for Secure Boot (Azure Trusted Launch), from Debian's own signed packages,
# fetched with the image's apt sources (the same mirror and suite as every other package):
#   shimx64.efi   shim-signed: shim, signed by Microsoft's UEFI CA; it carries Debian's CA
#   grubx64.efi   grub-efi-amd64-signed: GRUB, signed by Debian; verifies the kernel through shim
# The kernel (linux-image-*-cloud-amd64) is signed by Debian already. Only the two binaries are
# kept, in /usr/lib/nestrouter-image/efi/ with their package versions (efi/versions), where
# assemble.sh takes them for the ESP; the packages are not installed (they would pull in
# grub-efi-amd64-bin, grub2-common and mokutil, and their maintainer scripts would grub-install
# to an ESP the image does not mount). $1 is the root directory.
set -eu
R=${1:?usage: signed-efi.sh ROOTDIR}
D=$R/usr/lib/nestrouter-image/efi
T=$R/tmp/nr-signed-efi
rm -rf "$T" && mkdir -p "$T" "$D"
# apt needs a name service: the host's, should a package have made resolv.conf a link to a
# resolver that does not run here (customize.sh sets the image's own afterwards)
if [ -L "$R/etc/resolv.conf" ] || ! [ -f "$R/etc/resolv.conf" ]; then
        rm -f "$R/etc/resolv.conf"
        cp /etc/resolv.conf "$R/etc/resolv.conf"
fi
chroot "$R" sh -c 'cd /tmp/nr-signed-efi && apt-get download -q shim-signed grub-efi-amd64-signed' \
        >"$T/download.log" 2>&1 || { cat "$T/download.log" >&2; exit 1; }
: >"$D/versions"
for deb in "$T"/*.deb; do
        dpkg-deb -x "$deb" "$T/x"
        dpkg-deb -f "$deb" Package Version | paste -sd' ' | sed 's/Package: //; s/ Version: / /' >>"$D/versions"
done
cp "$T/x/usr/lib/shim/shimx64.efi.signed" "$D/shimx64.efi"
cp "$T/x/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$D/grubx64.efi"
rm -rf "$T"
echo "signed-efi: $(paste -sd, "$D/versions")" >&2
