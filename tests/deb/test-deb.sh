#!/bin/sh
# The Debian package (make deb): built with Debian's tooling, lintian without errors, then
# installed, upgraded twice, removed and purged with apt/dpkg in a Debian 12 root made here
# (mmdebstrap from the mirror the image uses, cached in build/deb-test/cache under a hash of
# its package list; a fresh copy per run, removed on exit). Every package operation runs in the
# root with chroot inside a new network namespace, so nothing it starts can touch this host's
# network. The root has systemd (systemctl enables units offline, as in the image build), and
# deb-systemd-invoke is a stub that logs its arguments; /run/systemd/system exists, so the
# maintainer scripts take their "systemd is running" paths: the test sees which units they
# start, restart and stop. Checks: the files, the units
# enabled (wants symlinks), the programs run and find their libraries, the man pages render
# without warnings and the completion completes; an upgrade restarts nestrouter.service and
# never stops it or touches nestrouter-guests.service (whose stop shuts the guests down), no
# maintainer script runs --teardown, a modified conffile is kept; remove keeps the
# configuration, purge removes it but not the guests' disks. Root. Ends "N passed, N failed".
#   DEB=FILE: test that package instead of building one (make deb)
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh
MAKE=${MAKE:-make}
SUITE=${IMAGE_SUITE:-bookworm}
MIRROR=${IMAGE_MIRROR:-http://deb.debian.org/debian}
SECMIRROR=${IMAGE_SECMIRROR:-http://deb.debian.org/debian-security}
T=build/deb-test
CACHE=$T/cache
[ "$(id -u)" = 0 ] || { echo "test-deb: needs root (chroot, unshare, mmdebstrap)" >&2; exit 1; }
mkdir -p "$CACHE"
R=$(mktemp -d "$T/root.XXXXXX")
WORK=$(mktemp -d "$T/work.XXXXXX")
trap 'rm -rf "$R" "$WORK"' EXIT
trap 'exit 130' INT TERM

# in_root CMD...: CMD in the root, in a network namespace of its own, bounded in time
in_root() {
        timeout 300 unshare --net chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" </dev/null
}
# helpers for run: each prints what is wrong
exists() { for f in "$@"; do [ -e "$R$f" ] || { echo "missing: $f"; return 1; }; done; }
absent() { for f in "$@"; do ! [ -e "$R$f" ] && ! [ -L "$R$f" ] || { echo "still there: $f"; return 1; }; done; }
executable() { for f in "$@"; do [ -x "$R$f" ] && [ -f "$R$f" ] || { echo "not executable: $f"; return 1; }; done; }
# enabled UNIT...: the multi-user.target.wants symlink, pointing at the unit inside the root
enabled() {
        for u in "$@"; do
                l=$R/etc/systemd/system/multi-user.target.wants/$u
                [ -L "$l" ] && [ -f "$R$(readlink "$l")" ] || { echo "not enabled: $u"; return 1; }
        done
}
status_is() {
        s=$(in_root dpkg-query -W -f '${Status} ${Version}' nestrouter 2>&1)
        [ "$s" = "$1" ] || { echo "dpkg status: '$s', expected '$1'"; return 1; }
}
logged() { grep -qx -e "$1" "$R/nr-invoke.log" || { echo "not in the log: $1"; cat "$R/nr-invoke.log"; return 1; }; }
not_logged() { ! grep -x -e "$1" "$R/nr-invoke.log" || { echo "in the log (above): $1"; return 1; }; }
has_line() { grep -qxF -e "$2" "$R$1" || { echo "$1 lacks: $2"; cat "$R$1"; return 1; }; }
empty_stderr() {
        err=$("$@" 2>&1 >/dev/null) || { echo "$err"; return 1; }
        [ -z "$err" ] || { echo "$err"; return 1; }
}

# ---------------------------------------------------------------- build and lint
if [ -n "${DEB:-}" ]; then
        echo "deb: testing $DEB (not built here)"
else
        run "deb: make deb builds the package (dpkg-buildpackage)" \
                timeout 1200 env LINTIAN=0 "$MAKE" --no-print-directory -s deb
        DEB=$("$MAKE" --no-print-directory -s deb-name)
fi
if ! [ -f "$DEB" ]; then
        fail "deb: $DEB exists (everything else needs it)"
        summary
        exit 1
fi
V=$(dpkg-deb -f "$DEB" Version)
lintian_clean() {
        timeout 600 lintian --fail-on error "$DEB" >"$WORK/lintian.out" 2>&1 || { cat "$WORK/lintian.out"; return 1; }
}
run "deb: lintian reports no errors" lintian_clean
echo "deb: lintian warnings: $(grep -c '^W: ' "$WORK/lintian.out")"
grep '^W: ' "$WORK/lintian.out" | sed 's/^/  /'

dpkg-deb -e "$DEB" "$WORK/control"
no_teardown() {
        ! grep -n -e teardown -e nestrouterd "$WORK/control"/*inst "$WORK/control"/*rm 2>/dev/null |
                grep -v '^[^:]*:[0-9]*:[[:space:]]*#'
}
run "deb: no maintainer script runs nestrouterd (--teardown or else)" no_teardown

# repack IN OUT VERSION [LINE]: the same package as version VERSION; LINE is appended to the
# shipped /etc/default/nestrouter (a conffile the new version changes)
repack() {
        d=$WORK/repack
        rm -rf "$d"
        dpkg-deb -R "$1" "$d" &&
                sed -i "s/^Version: .*/Version: $3/" "$d/DEBIAN/control" || return 1
        if [ -n "${4:-}" ]; then
                echo "$4" >>"$d/etc/default/nestrouter"
                (cd "$d" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | sort |
                        xargs md5sum >DEBIAN/md5sums) || return 1
        fi
        dpkg-deb --root-owner-group -b "$d" "$2" >/dev/null
}
V2=$V+nrtest2
V3=$V+nrtest3
run "deb: repacked as $V2 (same files)" repack "$DEB" "$WORK/v2.deb" "$V2"
run "deb: repacked as $V3 (the conffile changed)" repack "$DEB" "$WORK/v3.deb" "$V3" "# changed in $V3"

# ---------------------------------------------------------------- the Debian 12 root
pkgs=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/[[:space:]]//g' | grep .)
pkgs=$(printf '%s\n' $pkgs systemd init-system-helpers man-db bash-completion | sort -u | paste -sd, -)
key=$(echo "$SUITE $MIRROR $SECMIRROR $pkgs" | sha256sum | cut -c1-16)
tarball=$CACHE/root-$key.tar
make_root() {
        [ -s "$tarball" ] && return 0
        rm -f "$tarball.tmp"
        timeout 900 mmdebstrap --variant=minbase --mode=root --format=tar \
                --aptopt='APT::Install-Recommends "false"' --include="$pkgs" \
                "$SUITE" "$tarball.tmp" "deb $MIRROR $SUITE main" \
                "deb $MIRROR $SUITE-updates main" "deb $SECMIRROR $SUITE-security main" \
                >"$WORK/mmdebstrap.log" 2>&1 || { tail -20 "$WORK/mmdebstrap.log"; return 1; }
        mv "$tarball.tmp" "$tarball"
        for f in "$CACHE"/root-*.tar; do [ "$f" = "$tarball" ] || rm -f "$f"; done
}
stubs() {
        tar -C "$R" -xpf "$tarball" || return 1
        mkdir -p "$R/run/systemd/system" &&
                in_root dpkg-divert --local --rename --add /usr/bin/deb-systemd-invoke >/dev/null || return 1
        printf '#!/bin/sh\necho "deb-systemd-invoke $*" >>/nr-invoke.log\n' >"$R/usr/bin/deb-systemd-invoke"
        chmod 0755 "$R/usr/bin/deb-systemd-invoke"
        : >"$R/nr-invoke.log"
        cp "$DEB" "$R/tmp/v1.deb" && cp "$WORK/v2.deb" "$WORK/v3.deb" "$R/tmp/"
}
if ! run "deb: a Debian 12 root with the package's dependencies (mmdebstrap, cached)" make_root ||
        ! run "deb: the root unpacked, deb-systemd-invoke stubbed" stubs; then
        summary
        exit 1
fi

# ---------------------------------------------------------------- install
run "deb: apt-get install ./nestrouter_${V}_*.deb" in_root apt-get install -y -q /tmp/v1.deb
run "deb: installed, version $V" status_is "install ok installed $V"
run "deb: the programs are in place" executable /usr/sbin/nestrouterd /usr/bin/nestrouterctl \
        /usr/libexec/nestrouter/nestrouter-virt
run "deb: units, conffile, man pages, completion, docs, examples are in place" exists \
        /lib/systemd/system/nestrouter.service /lib/systemd/system/nestrouter-guests.service \
        /etc/default/nestrouter /etc/nestrouter /usr/share/man/man8/nestrouterd.8.gz \
        /usr/share/man/man8/nestrouterctl.8.gz /usr/share/man/man5/nestrouter.yaml.5.gz \
        /usr/share/bash-completion/completions/nestrouterctl /usr/share/doc/nestrouter/config.md \
        /usr/share/doc/nestrouter/copyright /usr/share/doc/nestrouter/examples/azure-nested.yaml
run "deb: /etc/nestrouter/ ships empty (cloud-init or the admin writes nestrouter.yaml)" \
        sh -c "[ -z \"\$(ls -A '$R/etc/nestrouter')\" ]"
run "deb: /etc/default/nestrouter is a conffile" in_root sh -c \
        'dpkg-query -W -f "\${Conffiles}" nestrouter | grep -q "^ /etc/default/nestrouter "'
run "deb: both units enabled (multi-user.target.wants symlinks)" enabled nestrouter.service nestrouter-guests.service
run "deb: install started nestrouter.service" logged "deb-systemd-invoke start nestrouter.service"
run "deb: install started nestrouter-guests.service (so its ExecStop runs at shutdown)" \
        logged "deb-systemd-invoke start nestrouter-guests.service"
run "deb: nestrouterd runs in the root: --check of the installed examples" in_root sh -c \
        'cd /usr/share/doc/nestrouter/examples && nestrouterd --check azure-nested.yaml lab-nat.yaml vms.yaml'
run "deb: nestrouterctl runs in the root" in_root nestrouterctl --help
units_verify() {
        for u in nestrouter.service nestrouter-guests.service; do
                msg=$(in_root systemd-analyze verify "/lib/systemd/system/$u" 2>&1 |
                        grep -v -e 'Failed to connect to bus' -e 'Failed to prepare filename' \
                                -e 'libvirtd.service' -e '^$')
                [ -z "$msg" ] || { echo "$msg"; return 1; }
        done
}
run "deb: systemd-analyze verify: both units load without complaint" units_verify
libs_found() {
        libs=$(in_root ldd /usr/sbin/nestrouterd /usr/bin/nestrouterctl /usr/libexec/nestrouter/nestrouter-virt 2>&1) ||
                { echo "$libs"; return 1; }
        ! echo "$libs" | grep 'not found'
}
run "deb: the package's dependencies give every library (ldd)" libs_found
for page in "8 nestrouterd" "8 nestrouterctl" "5 nestrouter.yaml"; do
        # shellcheck disable=SC2086  # section and name
        run "deb: man $page renders without warnings in the root" \
                empty_stderr in_root env MANWIDTH=80 man --warnings -E UTF-8 -Tutf8 $page
done
# completes WANT [WORD]: what bash offers after `nestrouterctl [WORD] `
completes() {
        want=$1
        shift
        words=$(in_root bash -c '. /usr/share/bash-completion/bash_completion
                __load_completion nestrouterctl || exit 1
                COMP_WORDS=(nestrouterctl "$@" ""); COMP_CWORD=$(($# + 1))
                COMP_LINE="nestrouterctl $* "; COMP_POINT=${#COMP_LINE}; _nestrouterctl
                echo "${COMPREPLY[*]}"' sh "$@" 2>&1)
        [ "$words" = "$want" ] || { echo "completion gave: $words"; return 1; }
}
VM_WORDS="list start stop reset console checkpoint checkpoints revert checkpoint-delete"
TOP_WORDS="--run-dir --config --help status leases reload confirm plan metrics drain undrain vm guests doctor azure"
run "deb: bash completes 'nestrouterctl vm ' to $VM_WORDS" completes "$VM_WORDS" vm
run "deb: bash completes 'nestrouterctl ' to $TOP_WORDS (lists spanning lines split into words)" \
        completes "$TOP_WORDS"

# the admin's state: a changed conffile, a configuration, leases and a guest disk
echo 'NESTROUTERD_ARGS=""   # changed by the admin' >>"$R/etc/default/nestrouter"
cp "$R/usr/share/doc/nestrouter/examples/lab-nat.yaml" "$R/etc/nestrouter/nestrouter.yaml"
mkdir -p "$R/var/lib/nestrouter/disks"
echo lease >"$R/var/lib/nestrouter/dnsmasq.leases"
echo disk >"$R/var/lib/nestrouter/disks/web1.qcow2"

# ---------------------------------------------------------------- upgrades
upgrade_checks() {
        run "deb: $1: restarted nestrouter.service" logged "deb-systemd-invoke restart nestrouter.service"
        run "deb: $1: never stopped nestrouter.service" not_logged ".* stop nestrouter.service"
        run "deb: $1: never stopped or restarted nestrouter-guests.service (guests keep running)" \
                not_logged ".* \(stop\|restart\|try-restart\|reload-or-restart\) nestrouter-guests.service"
        run "deb: $1: units still enabled" enabled nestrouter.service nestrouter-guests.service
        run "deb: $1: the admin's change to /etc/default/nestrouter kept" \
                has_line /etc/default/nestrouter 'NESTROUTERD_ARGS=""   # changed by the admin'
        run "deb: $1: /etc/nestrouter/nestrouter.yaml untouched" \
                cmp "$R/usr/share/doc/nestrouter/examples/lab-nat.yaml" "$R/etc/nestrouter/nestrouter.yaml"
}
: >"$R/nr-invoke.log"
run "deb: upgrade to $V2 (apt-get install)" in_root apt-get install -y -q /tmp/v2.deb
run "deb: upgraded, version $V2" status_is "install ok installed $V2"
upgrade_checks "upgrade to $V2"
run "deb: upgrade to $V2: no .dpkg-dist (the package's conffile did not change)" absent /etc/default/nestrouter.dpkg-dist

: >"$R/nr-invoke.log"
run "deb: upgrade to $V3, whose conffile changed (--force-confdef --force-confold)" \
        in_root apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold /tmp/v3.deb
run "deb: upgraded, version $V3" status_is "install ok installed $V3"
upgrade_checks "upgrade to $V3"
run "deb: upgrade to $V3: the new conffile waits in /etc/default/nestrouter.dpkg-dist" \
        has_line /etc/default/nestrouter.dpkg-dist "# changed in $V3"

# ---------------------------------------------------------------- remove, purge
: >"$R/nr-invoke.log"
run "deb: apt-get remove nestrouter" in_root apt-get remove -y -q nestrouter
run "deb: removed, configuration kept (dpkg: config-files)" status_is "deinstall ok config-files $V3"
run "deb: remove: the programs, units and man pages are gone" absent /usr/sbin/nestrouterd \
        /usr/bin/nestrouterctl /usr/libexec/nestrouter/nestrouter-virt \
        /lib/systemd/system/nestrouter.service /usr/share/man/man8/nestrouterd.8.gz
run "deb: remove: the configuration stays" exists /etc/default/nestrouter /etc/nestrouter/nestrouter.yaml \
        /var/lib/nestrouter/dnsmasq.leases
run "deb: remove: the admin's change to /etc/default/nestrouter kept" \
        has_line /etc/default/nestrouter 'NESTROUTERD_ARGS=""   # changed by the admin'
run "deb: remove stopped nestrouter.service (SIGTERM: the data plane stays)" \
        logged "deb-systemd-invoke stop nestrouter.service"

run "deb: dpkg --purge nestrouter" in_root dpkg --purge nestrouter
purged() { ! in_root dpkg-query -W -f '${Status}' nestrouter 2>/dev/null | grep -q 'ok\|config'; }
run "deb: purged: dpkg knows no nestrouter" purged
run "deb: purge: configuration, conffile and the daemon's state are gone" absent /etc/default/nestrouter \
        /etc/default/nestrouter.dpkg-dist /etc/nestrouter /var/lib/nestrouter/dnsmasq.leases
run "deb: purge: the units' symlinks are gone" absent /etc/systemd/system/multi-user.target.wants/nestrouter.service \
        /etc/systemd/system/multi-user.target.wants/nestrouter-guests.service
run "deb: purge: the guests' disks stay" exists /var/lib/nestrouter/disks/web1.qcow2
summary
