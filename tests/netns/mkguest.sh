#!/bin/sh
# mkguest.sh OUTDIR: the tiny TCG guest of the guests test (test-guests.sh), built once and kept:
#   OUTDIR/vmlinuz          Debian's cloud kernel (LZ4: boots in ~2 s under TCG), taken from the
#                           versioned linux-image-*-cloud-amd64 package (`apt-get download`,
#                           extracted with dpkg-deb; nothing is installed)
#   OUTDIR/modules/         the virtio-net and ACPI power-button modules of that kernel
#   OUTDIR/initrd.cpio.gz   a busybox-static initramfs: loads the modules, runs udhcpc on eth0,
#                           prints the lease and pings to the serial console, then waits for the
#                           ACPI power button and powers off cleanly
# The kernel is downloaded only when OUTDIR has none; the initramfs is rebuilt when this script
# is newer than it. KDEB=/path/linux-image-*.deb uses that package instead of downloading one;
# NR_GUEST_KERNEL=generic takes linux-image-amd64 and adds e1000e (use another OUTDIR).
#
# Kernel command line knobs the init understands (console markers in quotes):
#   nrtest=wait (default)   "LEASE ip=A/P router=R", "PING-OK A" / "PING-FAIL A", then
#                           "waiting for ACPI power button"; on the button:
#                           "ACPI power button -> clean shutdown" and poweroff
#   nrtest=poweroff         power off by itself after the pings
#   nrtest.noacpi           no acpid: the guest ignores an ACPI shutdown request
#   nrtest.ping=A[,B...]    ping these addresses too (after the gateway)
#   nrtest.install          "BOOTED-FROM cdrom: installing": write /payload/disk.img (an extra
#                           initramfs of mkiso.sh) to /dev/vda, "INSTALLED to /dev/vda", poweroff
#   nrtest.from=disk        "BOOTED-FROM disk" (the installed disk's boot line)
#   nrtest.mark=WORD        "DISKMARK before=W" (the 8 bytes at 1 MiB into /dev/vda), then write
#                           WORD there: "DISKMARK wrote=WORD"
# and, always: "FIRMWARE efi|bios", "SECUREBOOT enabled|disabled" (UEFI), and with a TPM
# "TPM /dev/tpm0" and "TPM-NV before|define|after rc=..." (see the init)
# Needs: apt-get (with package lists), dpkg-deb, busybox-static, gzip; xz/zstd only if the
# kernel's modules are compressed.
set -eu
OUT=$(realpath -m "${1:?usage: mkguest.sh OUTDIR}")
PKG=linux-image-cloud-amd64
SELF=$(realpath "$0")
mkdir -p "$OUT"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net virtio_blk button evdev efivarfs"
# NR_GUEST_KERNEL=generic: Debian's generic kernel (XZ, ~4 s more to boot under TCG), which has
# the e1000e NIC driver the cloud kernel lacks (the compat devices test)
if [ "${NR_GUEST_KERNEL:-cloud}" = generic ]; then
        PKG=linux-image-amd64
        MODS="$MODS e1000e"
fi

fetch_kernel() {
        if [ -n "${KDEB:-}" ]; then
                DEB=$KDEB
        else
                # a fresh CI machine may have packages but no package lists
                apt-cache show "$PKG" >/dev/null 2>&1 || apt-get update -qq
                REAL=$(apt-cache depends "$PKG" | awk '/Depends: linux-image-/{print $2; exit}')
                [ -n "$REAL" ] || { echo "mkguest: cannot resolve $PKG to a kernel package" >&2; exit 1; }
                (cd "$W" && apt-get download "$REAL" >/dev/null 2>&1) ||
                        { echo "mkguest: apt-get download $REAL failed" >&2; exit 1; }
                DEB=$(ls "$W"/"$REAL"_*.deb)
        fi
        dpkg-deb -x "$DEB" "$W/kpkg"
        KV=$(ls "$W/kpkg/lib/modules")
        rm -rf "$OUT/modules.new"
        mkdir -p "$OUT/modules.new"
        for m in $MODS; do
                f=$(find "$W/kpkg/lib/modules/$KV" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n1)
                [ -n "$f" ] || { echo "mkguest: module $m not found in $KV" >&2; exit 1; }
                case $f in
                *.xz) xz -dc "$f" >"$OUT/modules.new/$m.ko" ;;
                *.zst) zstd -qdc "$f" >"$OUT/modules.new/$m.ko" ;;
                *) cp "$f" "$OUT/modules.new/$m.ko" ;;
                esac
        done
        echo "$KV" >"$OUT/modules.new/version"
        cp "$W/kpkg/boot/vmlinuz-$KV" "$OUT/vmlinuz.new"
        rm -rf "$OUT/modules"
        mv "$OUT/modules.new" "$OUT/modules"
        mv "$OUT/vmlinuz.new" "$OUT/vmlinuz"
        rm -f "$OUT/initrd.cpio.gz"
}

build_initrd() {
        R=$W/root
        mkdir -p "$R/bin" "$R/proc" "$R/sys" "$R/dev" "$R/run" "$R/tmp" "$R/etc/acpi/PWRF" "$R/lib/modules"
        cp /bin/busybox "$R/bin/busybox"
        for m in $MODS; do cp "$OUT/modules/$m.ko" "$R/lib/modules/"; done
        echo "$MODS" >"$R/lib/modules/order"
        cat >"$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
exec </dev/ttyS0 >/dev/ttyS0 2>&1
say() { echo "GUEST[$(cut -d' ' -f1 /proc/uptime)]: $*" >/dev/ttyS0; }
say "init started"
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko 2>/dev/null || say "insmod $m failed"; done
# firmware facts for the firmware test (test-guests-fw.sh): UEFI or BIOS, Secure Boot from the
# firmware's own variable, and whether a TPM NV index survives a restart (raw TPM2 commands on
# /dev/tpm0: NV_ReadPublic of 0x01500001, NV_DefineSpace of it with the owner's empty password)
if [ -d /sys/firmware/efi ]; then
        say "FIRMWARE efi"
        mount -t efivarfs efivarfs /sys/firmware/efi/efivars 2>/dev/null
        sb=$(od -An -tu1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c 2>/dev/null | awk '{print $NF}')
        if [ "$sb" = 1 ]; then say "SECUREBOOT enabled"; else say "SECUREBOOT disabled"; fi
else
        say "FIRMWARE bios"
fi
tpm_rc() {
        exec 3<>/dev/tpm0
        printf "$1" >&3
        dd bs=4096 count=1 <&3 2>/dev/null | od -An -tx1 | tr -d ' \n' | cut -c13-20
        exec 3>&-
}
if [ -c /dev/tpm0 ]; then
        say "TPM /dev/tpm0"
        READ='\x80\x01\x00\x00\x00\x0e\x00\x00\x01\x69\x01\x50\x00\x01'
        DEFINE='\x80\x02\x00\x00\x00\x2d\x00\x00\x01\x2a\x40\x00\x00\x01\x00\x00\x00\x09\x40\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x00\x0e\x01\x50\x00\x01\x00\x0b\x02\x06\x00\x06\x00\x00\x00\x08'
        rc=$(tpm_rc "$READ")
        say "TPM-NV before rc=$rc"
        if [ "$rc" != 00000000 ]; then say "TPM-NV define rc=$(tpm_rc "$DEFINE")"; fi
        say "TPM-NV after rc=$(tpm_rc "$READ")"
fi
# the ISO installation test: from the installer ISO (mkiso.sh) write the payload disk image to
# the blank disk and power off; the installed disk's kernel line says nrtest.from=disk
case " $(cat /proc/cmdline) " in
*" nrtest.install "*)
        say "BOOTED-FROM cdrom: installing"
        if [ -b /dev/vda ] && dd if=/payload/disk.img of=/dev/vda bs=1M conv=fsync 2>/dev/null; then
                say "INSTALLED to /dev/vda"
        else
                say "INSTALL FAILED"
        fi
        sync
        poweroff -f ;;
*" nrtest.from=disk "*) say "BOOTED-FROM disk" ;;
esac
# the linked-clone test: what is at 1 MiB into the disk, then write this guest's word there
for a in $(cat /proc/cmdline); do
        case $a in nrtest.mark=*)
                if [ -b /dev/vda ]; then
                        say "DISKMARK before=$(dd if=/dev/vda bs=512 skip=2048 count=1 2>/dev/null | head -c 8 | tr -dc 'A-Za-z0-9')"
                        printf '%-8.8s' "${a#nrtest.mark=}" | dd of=/dev/vda bs=512 seek=2048 conv=sync,fsync 2>/dev/null
                        sync
                        say "DISKMARK wrote=${a#nrtest.mark=}"
                else
                        say "DISKMARK no /dev/vda"
                fi ;;
        esac
done
MODE=wait PINGS=
for a in $(cat /proc/cmdline); do
        case $a in nrtest=*) MODE=${a#nrtest=} ;; nrtest.ping=*) PINGS=$(echo "${a#nrtest.ping=}" | tr , ' ') ;; esac
done
# ACPI power button -> /etc/acpi/PWRF/00000080 (busybox acpid's default action table)
grep -q nrtest.noacpi /proc/cmdline || acpid -c /etc/acpi -l /tmp/acpid.log
ip link set lo up
ip link set eth0 up || say "no eth0"
say "eth0 up, running udhcpc"
if udhcpc -i eth0 -q -n -t 30 -T 1 -s /etc/udhcpc.script >/tmp/udhcpc.log 2>&1; then
        . /tmp/lease
        say "LEASE ip=$ip/$mask router=$router"
        for t in $router $PINGS; do
                if ping -c 1 -W 3 "$t" >/dev/null 2>&1 || ping -c 1 -W 3 "$t" >/dev/null 2>&1; then
                        say "PING-OK $t"
                else
                        say "PING-FAIL $t"
                fi
        done
else
        say "NO-LEASE"; cat /tmp/udhcpc.log >/dev/ttyS0
fi
if [ "$MODE" = poweroff ]; then say "self poweroff"; sync; poweroff -f; fi
say "waiting for ACPI power button"
while :; do sleep 3600; done
INIT
        cat >"$R/etc/udhcpc.script" <<'DH'
#!/bin/sh
case "$1" in
bound | renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        [ -n "${router:-}" ] && ip route add default via "${router%% *}" dev "$interface"
        echo "ip=$ip mask=${mask:-24} router=${router%% *}" >/tmp/lease ;;
esac
exit 0
DH
        cat >"$R/etc/acpi/PWRF/00000080" <<'PW'
#!/bin/sh
echo "GUEST[$(cut -d' ' -f1 /proc/uptime)]: ACPI power button -> clean shutdown" >/dev/ttyS0
killall udhcpc 2>/dev/null
sync
poweroff -f
PW
        chmod 755 "$R/init" "$R/etc/udhcpc.script" "$R/etc/acpi/PWRF/00000080"
        (cd "$R" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -9) >"$OUT/initrd.cpio.gz.new"
        [ "$(stat -c %s "$OUT/initrd.cpio.gz.new")" -gt 100000 ] ||
                { echo "mkguest: initrd too small: cpio failed" >&2; exit 1; }
        mv "$OUT/initrd.cpio.gz.new" "$OUT/initrd.cpio.gz"
}

have_mods() {
        for m in $MODS; do [ -s "$OUT/modules/$m.ko" ] || return 1; done
}
if ! [ -s "$OUT/vmlinuz" ] || ! [ -s "$OUT/modules/version" ] || ! have_mods; then fetch_kernel; fi
# shellcheck disable=SC3013 # -nt: dash, bash and busybox ash have it
if ! [ -s "$OUT/initrd.cpio.gz" ] || ! [ "$OUT/initrd.cpio.gz" -nt "$SELF" ]; then build_initrd; fi
echo "guest: kernel $(cat "$OUT/modules/version") ($(stat -c %s "$OUT/vmlinuz") bytes), initrd $(stat -c %s "$OUT/initrd.cpio.gz") bytes in $OUT"
