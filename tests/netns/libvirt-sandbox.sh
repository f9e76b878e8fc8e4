#!/bin/sh
# libvirt-sandbox.sh start|stop|pid DIR [NETNS]: a private libvirtd (QEMU and network drivers) for
# tests and the bench, with its config, state, sockets, logs and capability cache under DIR, in a
# private mount namespace and, with NETNS, in that network namespace (libvirt creates the guests'
# taps, and `virsh net-start` its bridge, dnsmasq and firewall rules, in its own netns, so it must
# be the one that holds the guest bridge). No network is defined at start. Verified recipe of
# ../shared/reference/libvirt-testing.md (Appendix B) with its three fixes for machines without
# systemd: QEMU runs as root (user = "root", so /dev/kvm mode 0600 does not cost 44 s per define),
# stdio_handler = "file" (no virtlogd), and libvirtd runs under `tini -s`, a child subreaper that
# reaps exited QEMUs at once instead of this machine's slow PID 1.
# Outside DIR it only creates the libvirt-qemu user if missing (the QEMU driver refuses to start
# without it). Clients connect to qemu+unix:///system?socket=DIR/run/libvirt/libvirt-sock.
# `stop` continues a stopped libvirtd (SIGCONT), destroys leftover domains and networks (their
# dnsmasq would outlive libvirtd), then stops libvirtd
# (tini and libvirtd, by the pids recorded at start). Every wait is bounded.
set -eu
cmd=${1:?start|stop|pid}
DIR=$(realpath -m "${2:?DIR}")
NS=${3:-}
URI="qemu+unix:///system?socket=$DIR/run/libvirt/libvirt-sock"

alive() { [ -n "$1" ] && [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

case $cmd in
start)
        getent passwd libvirt-qemu >/dev/null ||
                useradd --system --no-create-home --user-group --shell /usr/sbin/nologin libvirt-qemu
        for d in etc/libvirt run/libvirt var/lib/libvirt var/cache/libvirt var/log/libvirt; do
                mkdir -p "$DIR/$d"
        done
        [ -e "$DIR/etc/libvirt/libvirtd.conf" ] || cp -a /etc/libvirt/. "$DIR/etc/libvirt/"
        rm -rf "$DIR/etc/libvirt/qemu/networks/autostart" "$DIR/etc/libvirt/qemu/networks/"*.xml
        cat >"$DIR/etc/libvirt/qemu.conf" <<'CONF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
stdio_handler = "file"
namespaces = [ ]
cgroup_controllers = [ ]
security_driver = "none"
CONF
        cat >"$DIR/etc/libvirt/libvirtd.conf" <<CONF
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$DIR/var/log/libvirt/libvirtd.log"
CONF
        # tini writes its own pid; libvirtd writes its pid file
        inner="for d in etc/libvirt run/libvirt var/lib/libvirt var/cache/libvirt var/log/libvirt; do
                       mkdir -p /\$d; mount --bind '$DIR'/\$d /\$d; done
               setsid tini -s -- libvirtd -f /etc/libvirt/libvirtd.conf -p '$DIR'/libvirtd.pid \
                       </dev/null >>'$DIR'/var/log/libvirt/libvirtd.stdout 2>&1 &
               echo \$! >'$DIR'/tini.pid"
        if [ -n "$NS" ]; then
                ip netns exec "$NS" unshare -m --propagation private sh -c "$inner"
        else
                unshare -m --propagation private sh -c "$inner"
        fi
        i=0
        while [ ! -S "$DIR/run/libvirt/libvirt-sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        if [ ! -S "$DIR/run/libvirt/libvirt-sock" ]; then
                echo "libvirtd did not come up:" >&2
                tail -5 "$DIR/var/log/libvirt/libvirtd.log" >&2 2>/dev/null
                exit 1
        fi
        i=0
        while [ ! -s "$DIR/libvirtd.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        echo "$URI"
        ;;
pid)
        cat "$DIR/libvirtd.pid" 2>/dev/null
        ;;
stop)
        lpid=$(cat "$DIR/libvirtd.pid" 2>/dev/null || true)
        tpid=$(cat "$DIR/tini.pid" 2>/dev/null || true)
        if alive "$lpid"; then
                kill -CONT "$lpid" 2>/dev/null || true # a test may have stopped it
                # guests survive a libvirtd exit: destroy leftovers first
                for d in $(timeout 20 virsh -c "$URI" list --name 2>/dev/null); do
                        timeout 20 virsh -c "$URI" destroy "$d" >/dev/null 2>&1 || true
                done
                for n in $(timeout 20 virsh -c "$URI" net-list --name 2>/dev/null); do
                        timeout 20 virsh -c "$URI" net-destroy "$n" >/dev/null 2>&1 || true
                done
                kill -TERM "$lpid" 2>/dev/null || true
                i=0
                while alive "$lpid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
                alive "$lpid" && kill -KILL "$lpid" 2>/dev/null
        fi
        if alive "$tpid"; then # tini exits with libvirtd; only a stuck one is killed
                i=0
                while alive "$tpid" && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
                alive "$tpid" && kill -KILL "$tpid" 2>/dev/null
        fi
        rm -f "$DIR/libvirtd.pid" "$DIR/tini.pid"
        ;;
*)
        echo "usage: libvirt-sandbox.sh start|stop|pid DIR [NETNS]" >&2
        exit 2
        ;;
esac
