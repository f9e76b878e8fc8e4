#!/bin/sh
# lv-sandbox.sh start|stop DIR NETNS: a private libvirtd (network driver used here) whose config,
# state, sockets, logs and caches all live under DIR, in a private mount namespace inside the
# network namespace NETNS, so the bridge, dnsmasq and firewall rules of `virsh net-start` land
# there and nowhere else. From /work/shared/reference/libvirt-testing.md, Appendix B.
# Clients: virsh -c "qemu+unix:///system?socket=DIR/run/libvirt/libvirt-sock"
set -eu
cmd=${1:?start|stop}
DIR=$(realpath -m "${2:?DIR}")
NS=${3:-}
case $cmd in
start)
        [ -n "$NS" ] || { echo "lv-sandbox: NETNS required" >&2; exit 2; }
        getent passwd libvirt-qemu >/dev/null ||
                useradd --system --no-create-home --user-group --shell /usr/sbin/nologin libvirt-qemu
        for d in etc/libvirt run/libvirt var/lib/libvirt var/cache/libvirt var/log/libvirt; do
                mkdir -p "$DIR/$d"
        done
        [ -e "$DIR/etc/libvirt/libvirtd.conf" ] || cp -a /etc/libvirt/. "$DIR/etc/libvirt/"
        # no autostarted default network, no nwfilter defaults
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
        inner="for d in etc/libvirt run/libvirt var/lib/libvirt var/cache/libvirt var/log/libvirt; do
                       mkdir -p /\$d; mount --bind '$DIR'/\$d /\$d; done
               exec setsid tini -s -- libvirtd -f /etc/libvirt/libvirtd.conf -p '$DIR'/libvirtd.pid \
                    </dev/null >>'$DIR'/var/log/libvirt/libvirtd.stdout 2>&1 &"
        ip netns exec "$NS" unshare -m --propagation private sh -c "$inner"
        i=0
        while [ ! -S "$DIR/run/libvirt/libvirt-sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        [ -S "$DIR/run/libvirt/libvirt-sock" ] || {
                echo "lv-sandbox: libvirtd did not come up:" >&2
                tail -5 "$DIR/var/log/libvirt/libvirtd.log" >&2
                exit 1
        }
        i=0
        while [ ! -s "$DIR/libvirtd.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        cat "$DIR/libvirtd.pid"
        ;;
stop)
        [ -s "$DIR/libvirtd.pid" ] || exit 0
        U="qemu+unix:///system?socket=$DIR/run/libvirt/libvirt-sock"
        for n in $(timeout 10 virsh -c "$U" net-list --name 2>/dev/null); do
                timeout 10 virsh -c "$U" net-destroy "$n" >/dev/null 2>&1 || true
        done
        pid=$(cat "$DIR/libvirtd.pid")
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        rm -f "$DIR/libvirtd.pid"
        ;;
*) echo "usage: lv-sandbox.sh start|stop DIR NETNS" >&2; exit 2 ;;
esac
