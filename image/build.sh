#!/bin/sh
# make image: the appliance disk image, from Debian's packages and this tree. Run from the
# repository root as root, after `make deb` (DEB: the package). Steps, each timed:
#   1 rootfs.sh    Debian 12 root filesystem (mmdebstrap), cached by package-list hash
#   2 overlay.sh   + rootfs/, the nestrouter package (make deb), clean first-boot state
#   3 assemble.sh  GPT disk (BIOS boot, ESP, root) with GRUB for BIOS and UEFI -> nestrouter.raw
#   4 convert.sh   nestrouter.qcow2 (zstd-compressed)
# Outputs in OUT (build/image); the root filesystem's cache in CACHE (OUT/cache). QCOW2=0 skips
# step 4: the boot test's image B (OUT=build/image/b CACHE=build/image/cache, a second build of
# the same tree on the first one's cache) needs only the raw disk. The root tree is unpacked in
# a temporary directory under TMPDIR (/var/tmp) and removed at the end. `make vhd` adds
# nestrouter.vhd (convert.sh vhd).
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-build/image}
CACHE=${CACHE:-$OUT/cache}
mkdir -p "$OUT" "$CACHE"
t_all=$(date +%s)
# The unpacked tree lives outside build/ (the Makefile includes every *.d under build/, and a
# Debian tree is full of conf.d directories) and only while the build runs.
ROOT=$(mktemp -d "${TMPDIR:-/var/tmp}/nestrouter-rootfs.XXXXXX")
trap 'rm -rf "$ROOT" "$OUT/nestrouter.raw.new"' EXIT
trap 'exit 1' INT TERM
step() {
        n=$1; shift
        echo "==> image [$n/4] $1" >&2
        shift
        t=$(date +%s)
        "$@"
        echo "==> image [$n/4] done in $(($(date +%s) - t)) s" >&2
}
step 1 "root filesystem (mmdebstrap, or the cache)" sh -c "image/rootfs.sh '$CACHE' >'$OUT/.tarball'"
tarball=$(cat "$OUT/.tarball")
rm -f "$OUT/.tarball"
step 2 "overlay: rootfs/, the nestrouter package, first-boot state" image/overlay.sh "$tarball" "$ROOT"
step 3 "disk: GPT, GRUB for BIOS and UEFI" image/assemble.sh "$ROOT" "$OUT/nestrouter.raw.new"
mv "$OUT/nestrouter.raw.new" "$OUT/nestrouter.raw"
if [ "${QCOW2:-1}" = 1 ]; then
        step 4 "qcow2 (zstd)" image/convert.sh qcow2 "$OUT/nestrouter.raw"
else
        rm -f "$OUT/nestrouter.qcow2"
fi
rm -f "$OUT/nestrouter.vhd"     # from an older raw: `make vhd` makes a new one
MiB=1048576
{
        echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(($(date +%s) - t_all)) s"
        echo "build id          $(sed -n 's/^build_id=//p' "$ROOT/usr/share/nestrouter-build")"
        echo "nestrouter.raw    $(($(stat -c %s "$OUT/nestrouter.raw") / MiB)) MiB virtual, $(du -m "$OUT/nestrouter.raw" | cut -f1) MiB allocated"
        [ ! -f "$OUT/nestrouter.qcow2" ] ||
                echo "nestrouter.qcow2  $(($(stat -c %s "$OUT/nestrouter.qcow2") / MiB)) MiB"
        echo "root filesystem   $(du -sm "$ROOT" | cut -f1) MiB, $(chroot "$ROOT" dpkg-query -W -f '.\n' | wc -l) packages"
} >"$OUT/build-info.txt"
sed 's/^/==> image: /' "$OUT/build-info.txt" >&2
