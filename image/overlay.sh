#!/bin/sh
# Step 2 of the image build: the cached Debian root filesystem plus nestrouter: unpack the
# tarball into ROOTDIR, copy the overlay (rootfs/), install nestrouterd/nestrouterctl (and their
# libvirt helper nestrouter-virt, in /usr/libexec/nestrouter) built from this tree, enable the overlay's units, check them, and leave a clean first-boot state (no SSH
# host keys, empty machine-id, `cloud-init clean`).
#   overlay.sh TARBALL ROOTDIR     (run from the repository root, after `make all`)
set -eu
TARBALL=${1:?usage: overlay.sh TARBALL ROOTDIR}
R=${2:?usage: overlay.sh TARBALL ROOTDIR}
BUILD=${BUILD:-build}
if ! [ -x "$BUILD/nestrouterd" ] || ! [ -x "$BUILD/nestrouterctl" ] || ! [ -x "$BUILD/nestrouter-virt" ]; then
        echo "overlay: $BUILD/nestrouterd, nestrouterctl or nestrouter-virt missing (make all)" >&2
        exit 1
fi

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
install -m 0755 -s "$BUILD/nestrouterd" "$R/usr/sbin/nestrouterd"
install -m 0755 -s "$BUILD/nestrouterctl" "$R/usr/bin/nestrouterctl"
install -D -m 0755 -s "$BUILD/nestrouter-virt" "$R/usr/libexec/nestrouter/nestrouter-virt"
install -d -m 0755 "$R/etc/nestrouter" "$R/usr/share/doc/nestrouter"
install -m 0644 docs/*.md "$R/usr/share/doc/nestrouter/"
install -m 0644 configs/*.yaml "$R/usr/share/doc/nestrouter/"
[ -z "$(ls -A "$R/etc/nestrouter")" ] || { echo "overlay: /etc/nestrouter must ship empty" >&2; exit 1; }

# enable every overlay unit that has an [Install] section
for u in rootfs/etc/systemd/system/*.service rootfs/etc/systemd/system/*.timer; do
        if ! [ -f "$u" ] || ! grep -q '^\[Install\]' "$u"; then continue; fi
        systemctl --root="$R" enable "$(basename "$u")" 2>&1 | sed 's/^/overlay: /' >&2
done

# the binaries' shared libraries are all in the image
if chroot "$R" /usr/bin/ldd /usr/sbin/nestrouterd /usr/bin/nestrouterctl \
        /usr/libexec/nestrouter/nestrouter-virt | grep 'not found'; then
        echo "overlay: nestrouterd/nestrouterctl/nestrouter-virt need libraries the image lacks" >&2
        exit 1
fi
# the units load without warnings inside the image (no /proc needed for this)
for u in rootfs/etc/systemd/system/*.service; do
        [ -f "$u" ] || continue
        out=$(chroot "$R" systemd-analyze verify --man=no "/etc/systemd/system/$(basename "$u")" 2>&1 |
                grep -v -e 'Failed to connect to bus' -e 'Failed to prepare filename' -e '^$' || true)
        if [ -n "$out" ]; then
                echo "overlay: systemd-analyze verify $(basename "$u"):" >&2
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
cat >"$R/usr/share/nestrouter-build" <<INFO
commit=$commit
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rootfs=$(basename "$TARBALL" .tar)
kernel=$(ls "$R/lib/modules")
INFO
echo "overlay: $(du -sm "$R" | cut -f1) MiB in $R" >&2
