#!/bin/sh
# Step 2 of the image build: the cached Debian root filesystem plus nestrouter: unpack the
# tarball into ROOTDIR, copy the overlay (rootfs/), install the nestrouter package (make deb)
# with apt-get as on any Debian machine (its maintainer scripts enable the units), check the
# units and libraries, and leave a clean first-boot state (no SSH host keys, empty machine-id,
# `cloud-init clean`).
#   overlay.sh TARBALL ROOTDIR     (run from the repository root; DEB: the package's path)
set -eu
TARBALL=${1:?usage: overlay.sh TARBALL ROOTDIR}
R=${2:?usage: overlay.sh TARBALL ROOTDIR}
DEB=${DEB:?overlay: DEB=build/nestrouter_VERSION_ARCH.deb (make deb)}
[ -f "$DEB" ] || { echo "overlay: $DEB missing (make deb)" >&2; exit 1; }

# a file git ignores would be missing from every clone (.gitignore has *.d)
if ignored=$(git ls-files --others --ignored --exclude-standard rootfs 2>/dev/null) && [ -n "$ignored" ]; then
        echo "overlay: git ignores these overlay files, so a clone would lack them:" >&2
        echo "$ignored" | sed 's/^/  /' >&2
        exit 1
fi

rm -rf "$R" && mkdir -p "$R"
tar --xattrs --xattrs-include='*' --numeric-owner -C "$R" -xpf "$TARBALL"

# the overlay: owned by root whoever checked the tree out; existing directories keep their modes
tar --owner=0 --group=0 --numeric-owner -C rootfs -cf - . | tar -C "$R" --no-overwrite-dir -xpf -

# the package, as `apt install ./nestrouter_….deb` installs it anywhere: its dependencies are in
# the root filesystem's package list, so apt needs no network (a missing one fails here). No
# systemd runs in the chroot, so the maintainer scripts enable the units and start nothing.
cp "$DEB" "$R/tmp/nestrouter.deb"
if ! DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get install -y -q --no-install-recommends \
        /tmp/nestrouter.deb >"$R/tmp/apt.log" 2>&1; then
        sed 's/^/overlay: /' "$R/tmp/apt.log" >&2
        exit 1
fi
rm -f "$R/tmp/nestrouter.deb" "$R/tmp/apt.log"
# rootfs/etc/dpkg/dpkg.cfg.d/99nestrouter keeps its documentation despite the image's path-exclude
for f in /usr/share/doc/nestrouter/config.md /usr/share/doc/nestrouter/examples/azure-nested.yaml \
        /usr/share/man/man8/nestrouterd.8.gz; do
        [ -f "$R$f" ] || { echo "overlay: $f missing: dpkg left it out" >&2; exit 1; }
done
[ -z "$(ls -A "$R/etc/nestrouter")" ] || { echo "overlay: /etc/nestrouter must ship empty" >&2; exit 1; }

# enable every overlay unit that has an [Install] section (the package's own are enabled by it)
for u in rootfs/etc/systemd/system/*.service rootfs/etc/systemd/system/*.timer; do
        if ! [ -f "$u" ] || ! grep -q '^\[Install\]' "$u"; then continue; fi
        systemctl --root="$R" enable "$(basename "$u")" 2>&1 | sed 's/^/overlay: /' >&2
done

# units the appliance has no use for, masked (a package upgrade does not bring them back):
# e2scrub checks ext4 file systems on LVM through snapshots, and the image has no LVM; its reaper
# took 4-5 s of a first boot's CPU under TCG (docs/image.md §7)
systemctl --root="$R" mask e2scrub_reap.service e2scrub_all.timer 2>&1 | sed 's/^/overlay: /' >&2

# the binaries' shared libraries are all in the image
if chroot "$R" /usr/bin/ldd /usr/sbin/nestrouterd /usr/bin/nestrouterctl \
        /usr/libexec/nestrouter/nestrouter-virt | grep 'not found'; then
        echo "overlay: nestrouterd/nestrouterctl/nestrouter-virt need libraries the image lacks" >&2
        exit 1
fi
# the package's units and the overlay's load without warnings inside the image (no /proc
# needed for this)
for u in $(chroot "$R" dpkg-query -L nestrouter | grep '^/lib/systemd/system/.*\.service$') \
        $(cd rootfs && ls etc/systemd/system/*.service 2>/dev/null | sed 's|^|/|'); do
        out=$(chroot "$R" systemd-analyze verify --man=no "$u" 2>&1 |
                grep -v -e 'Failed to connect to bus' -e 'Failed to prepare filename' -e '^$' || true)
        if [ -n "$out" ]; then
                echo "overlay: systemd-analyze verify $u:" >&2
                echo "$out" >&2
                exit 1
        fi
done

# first boot state: every VM gets its own identity
rm -f "$R"/etc/ssh/ssh_host_*
: >"$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"
chroot "$R" cloud-init clean --logs --seed >/dev/null
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/log/journal/* "$R/tmp"/* 2>/dev/null || true

commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit+dirty"
# the build's identity: a fresh id for every build (two builds of one commit differ), shown by
# `nestrouterctl doctor` (image row); the boot test tells image A from its rebuild B by it
cat >"$R/usr/share/nestrouter-build" <<INFO
build_id=$(cat /proc/sys/kernel/random/uuid)
commit=$commit
package=nestrouter $(chroot "$R" dpkg-query -W -f '${Version}' nestrouter)
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rootfs=$(basename "$TARBALL" .tar)
kernel=$(ls "$R/lib/modules")
INFO
echo "overlay: $(du -sm "$R" | cut -f1) MiB in $R" >&2
