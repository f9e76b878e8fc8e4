#!/bin/sh
# vnet.sh: a simulated Azure VNet in network namespaces, for nestrouter's demo and tests.
# It builds everything around the router and nothing inside it: the router namespace gets only
# its two NICs (eth0 = NIC1 "NAT", eth1 = NIC2 "LAN") for nestrouterd (or a hand-written router)
# to configure. See tests/netns/README.md for the topology.
#
# Run:     vnet.sh up|down|status|guest-add NAME MAC|guest-del NAME|exec ROLE CMD...|...
#          (vnet.sh help lists every command)
# Source:  . tests/netns/vnet.sh; vnet up; vnet guest-add web1 52:54:00:00:00:10; vnet down
#          (functions and variables are prefixed vnet/_vn/VN_; nothing runs on sourcing)
# Environment: NR_VNET_ID (default demo; [a-z0-9_], at most 12), NR_VNET_DIR (state dir,
# default /tmp/nr-vnet-$NR_VNET_ID), and the NR_VNET_* knobs listed in `vnet.sh help`.
# Needs root, iproute2, nftables, dnsmasq(-base), busybox (udhcpc, httpd, nc, ping, nslookup).
# POSIX sh plus `local` (dash, bash and busybox ash all have it).
# shellcheck disable=SC3043,SC2016

# ---------------------------------------------------------------- constants
VN_NIC1_IP=10.0.0.4
VN_NIC2_IP=10.0.1.4
VN_NAT_GW=10.0.0.1
VN_LAN_GW=10.0.1.1
VN_GUEST_NET=10.0.2.0/24
VN_VM_GW=10.0.3.1
VN_VM_IP=10.0.3.4
VN_GWS_GW=10.0.4.1
VN_ONP_GW_IP=10.0.4.4
VN_ONP_IP=172.16.0.10
VN_ONP_NET=172.16.0.0/22
VN_INET_GW=203.0.113.1
VN_INET_IP=203.0.113.10
VN_WIRE=168.63.129.16
VN_IMDS=169.254.169.254
VN_FAB_MAC=12:34:56:78:9a:bc    # Azure answers ARP for every gateway with this MAC
VN_SVC_PORT=7777                # the whoami service in vm, onp, inet and guests
VN_UDR_TABLE=100                # fab's route table "associated" with the VM and gateway subnets
VN_ROLES="rtr fab vm onp inet"

# ---------------------------------------------------------------- helpers
_vn_err() { echo "vnet: $*" >&2; return 1; }
_vn_log() { [ -n "${NR_VNET_QUIET:-}" ] || echo "vnet: $*" >&2; }

# (Re)reads the environment; every command calls it first, so a script that sourced this file
# may change NR_VNET_ID between calls.
_vn_init() {
        VN_ID=${NR_VNET_ID:-demo}
        case $VN_ID in
        '' | *[!a-z0-9_]*) _vn_err "NR_VNET_ID '$VN_ID': use [a-z0-9_] only"; return 1 ;;
        esac
        [ ${#VN_ID} -le 12 ] || { _vn_err "NR_VNET_ID '$VN_ID': at most 12 characters"; return 1; }
        VN_DIR=${NR_VNET_DIR:-/tmp/nr-vnet-$VN_ID}
        case $VN_DIR in /*) ;; *) _vn_err "NR_VNET_DIR must be absolute"; return 1 ;; esac
        VN_P=nr-$VN_ID
        VN_BR=${NR_VNET_BRIDGE:-nr0}
        VN_NIC1_MAC=${NR_VNET_NIC1_MAC:-00:0d:3a:00:00:01}
        VN_NIC2_MAC=${NR_VNET_NIC2_MAC:-00:0d:3a:00:00:02}
        VN_PRIMARY=${NR_VNET_PRIMARY:-eth0}
        VN_TIMEOUT=${NR_VNET_TIMEOUT:-5}
        case $VN_TIMEOUT in '' | *[!0-9]* | 0) _vn_err "NR_VNET_TIMEOUT: whole seconds > 0"; return 1 ;; esac
        VN_HOOK=$VN_DIR/hooks/udhcpc-hook.sh
        VN_HTTPD_CONF=$VN_DIR/httpd.conf
}

_vn_need_root() {
        [ "$(id -u)" = 0 ] || { _vn_err "needs root (network namespaces)"; return 1; }
        local t
        for t in ip nft dnsmasq busybox timeout ss; do
                command -v "$t" >/dev/null 2>&1 || { _vn_err "missing tool: $t"; return 1; }
        done
}

# _vn_ns ROLE: the namespace of a role or of a guest
_vn_ns() {
        case $1 in
        rtr | fab | vm | onp | inet) echo "$VN_P-$1" ;;
        '') _vn_err "missing ROLE"; return 1 ;;
        *) _vn_guest_name_ok "$1" || return 1; echo "$VN_P-g-$1" ;;
        esac
}

_vn_guest_name_ok() {
        case $1 in
        '' | -* | *[!a-z0-9-]*) _vn_err "guest name '$1': use [a-z0-9-], not starting with -"; return 1 ;;
        rtr | fab | vm | onp | inet) _vn_err "guest name '$1' is a role name"; return 1 ;;
        esac
        [ ${#1} -le 12 ] || { _vn_err "guest name '$1': at most 12 characters"; return 1; }
}

_vn_ns_list() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$VN_P-" ; }
_vn_ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

# _vn_sysctl NS key=value...: keys as paths under /proc/sys (net/ipv4/ip_forward); missing keys
# are skipped (a kernel without IPv6 or br_netfilter)
_vn_sysctl() {
        local ns="$1"; shift
        ip netns exec "$ns" sh -c '
                for kv; do
                        k=/proc/sys/${kv%%=*}
                        [ -e "$k" ] && echo "${kv#*=}" >"$k"
                done; exit 0' sh "$@"
}

# bounded wait: _vn_wait TENTHS CMD... retries CMD every 0.1 s, at most TENTHS times
_vn_wait() {
        local n="$1"; shift
        while [ "$n" -gt 0 ]; do
                "$@" >/dev/null 2>&1 && return 0
                n=$((n - 1))
                sleep 0.1
        done
        return 1
}

# process start time (clock ticks since boot, field 22 of /proc/PID/stat): with the pid it
# names one process, so a pid recycled after a crash is never killed by mistake
_vn_starttime() {
        [ -r "/proc/$1/stat" ] || return 1
        sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}
# _vn_alive PID START: running (not a zombie) and the same process
_vn_alive() {
        local st
        [ -r "/proc/$1/stat" ] || return 1
        st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
        [ "$(echo "$st" | cut -d' ' -f1)" != Z ] || return 1
        [ "$(echo "$st" | cut -d' ' -f20)" = "$2" ]
}

# _vn_spawn NS TAG CMD...: starts CMD in NS in the background, logs to logs/TAG.log, records
# "PID STARTTIME" in pids/TAG.pid; prints the pid. CMD is exec'd by `ip netns exec`, so the
# recorded pid is CMD itself.
_vn_spawn() {
        local ns="$1" tag="$2" pid st
        shift 2
        case $tag in '' | */* | .*) _vn_err "bad process tag '$tag'"; return 1 ;; esac
        if [ -s "$VN_DIR/pids/$tag.pid" ]; then
                # shellcheck disable=SC2046
                _vn_alive $(cat "$VN_DIR/pids/$tag.pid") && { _vn_err "$tag already running"; return 1; }
        fi
        mkdir -p "$VN_DIR/pids" "$VN_DIR/logs" || return 1
        ip netns exec "$ns" "$@" </dev/null >>"$VN_DIR/logs/$tag.log" 2>&1 &
        pid=$!
        st=$(_vn_starttime "$pid") || { _vn_err "$tag exited at once: $(tail -n 3 "$VN_DIR/logs/$tag.log")"; return 1; }
        echo "$pid $st" >"$VN_DIR/pids/$tag.pid"
        echo "$pid"
}

# _vn_stop TAG: TERM, bounded wait (2 s), then KILL; only the recorded process
_vn_stop() {
        local f="$VN_DIR/pids/$1.pid" pid st
        [ -s "$f" ] || { rm -f "$f"; return 0; }
        read -r pid st <"$f"
        if [ -n "$pid" ] && _vn_alive "$pid" "$st"; then
                kill -TERM "$pid" 2>/dev/null
                _vn_wait 20 _vn_not_alive "$pid" "$st" || {
                        _vn_log "$1 (pid $pid) ignored TERM; killing"
                        kill -KILL "$pid" 2>/dev/null
                        _vn_wait 10 _vn_not_alive "$pid" "$st"
                }
        fi
        rm -f "$f"
}
_vn_not_alive() { ! _vn_alive "$@"; }
_vn_any_alive() {
        local t pid st
        for t in $(_vn_tags); do
                read -r pid st <"$VN_DIR/pids/$t.pid" && _vn_alive "$pid" "$st" && return 0
        done
        return 1
}

_vn_tags() { # tags of recorded processes, optionally only those starting with $1
        local f t
        for f in "$VN_DIR"/pids/*.pid; do
                [ -e "$f" ] || continue
                t=${f##*/}; t=${t%.pid}
                case $t in "${1:-}"*) echo "$t" ;; esac
        done
}

# _vn_listening NS tcp|udp PORT: something listens on PORT in NS
_vn_listening() {
        local opt=-Hltn
        [ "$2" = udp ] && opt=-Hlun
        [ -n "$(ip netns exec "$1" ss $opt "sport = :$3" 2>/dev/null)" ]
}

# ---------------------------------------------------------------- generated files
_vn_write_files() {
        mkdir -p "$VN_DIR/hooks" "$VN_DIR/leases" "$VN_DIR/pids" "$VN_DIR/logs" \
                "$VN_DIR/www" || return 1
        : >"$VN_HTTPD_CONF"

        # udhcpc event hook, shared by guests (NRV_ROUTES=1, NRV_RESOLV set) and the router's
        # NICs (rtr-dhcp: routes only on the primary NIC, never DNS)
        cat >"$VN_HOOK" <<'EOF'
#!/bin/sh
# udhcpc event hook written by vnet.sh. From vnet.sh's environment:
#   NRV_LEASE   file to record the lease in (KEY='VALUE' lines)
#   NRV_ROUTES  1: install the default route / classless routes (RFC 3442: classless routes,
#               when present, replace the router option); 0: address and prefix route only
#   NRV_RESOLV  file to write the nameservers to (empty: none)
PATH=/usr/sbin:/usr/bin:/sbin:/bin
ev=$1
say() { echo "udhcpc-hook: $ev $interface: $*"; }
plen() {
        case $mask in [0-9]*) echo "$mask"; return ;; esac
        n=0
        for o in $(echo "$subnet" | tr . ' '); do
                case $o in
                255) n=$((n + 8)) ;; 254) n=$((n + 7)) ;; 252) n=$((n + 6)) ;; 248) n=$((n + 5)) ;;
                240) n=$((n + 4)) ;; 224) n=$((n + 3)) ;; 192) n=$((n + 2)) ;; 128) n=$((n + 1)) ;;
                esac
        done
        echo "$n"
}
case $ev in
deconfig)
        ip -4 addr flush dev "$interface"
        ip link set dev "$interface" up
        [ -n "$NRV_LEASE" ] && rm -f "$NRV_LEASE"
        say "unconfigured" ;;
leasefail | nak)
        say "${message:-no lease yet}" ;;
bound | renew)
        p=$(plen)
        cur=$(ip -4 -o addr show dev "$interface" | awk '{print $4}')
        if [ "$cur" != "$ip/$p" ]; then
                ip -4 addr flush dev "$interface"
                ip addr add "$ip/$p" broadcast + dev "$interface" || say "cannot add $ip/$p"
        fi
        if [ "${NRV_ROUTES:-0}" = 1 ]; then
                if [ -n "$staticroutes" ]; then
                        set -- $staticroutes
                        while [ $# -ge 2 ]; do
                                dst=$1 gw=$2
                                shift 2
                                [ "$dst" = 0.0.0.0/0 ] && dst=default
                                if [ "$gw" = 0.0.0.0 ]; then
                                        ip route replace "$dst" dev "$interface"
                                else
                                        ip route replace "$dst" via "$gw" dev "$interface"
                                fi || say "route $dst via $gw failed"
                        done
                elif [ -n "$router" ]; then
                        set -- $router
                        ip route replace default via "$1" dev "$interface" || say "default via $1 failed"
                fi
        fi
        if [ -n "$NRV_RESOLV" ]; then
                # rewritten in place: `ip netns exec` bind-mounts this very file
                {
                        echo "# from udhcpc on $interface"
                        [ -n "$domain" ] && echo "search $domain"
                        for s in $dns; do echo "nameserver $s"; done
                } >"$NRV_RESOLV"
        fi
        if [ -n "$NRV_LEASE" ]; then
                {
                        echo "iface='$interface'"; echo "ip='$ip'"; echo "prefix='$p'"
                        echo "router='$router'"; echo "dns='$dns'"; echo "staticroutes='$staticroutes'"
                        echo "serverid='$serverid'"; echo "lease='$lease'"; echo "opt245='$opt245'"
                } >"$NRV_LEASE.tmp" && mv "$NRV_LEASE.tmp" "$NRV_LEASE"
        fi
        say "$ip/$p router=$router dns=$dns staticroutes=$staticroutes" ;;
esac
exit 0
EOF
        chmod 755 "$VN_HOOK" || return 1

        # Azure DHCP for the router's NICs: fixed .4 per MAC, option 121 on NIC1's subnet only.
        # The classless routes include 0.0.0.0/0 like Azure's real leases: RFC 3442 clients
        # (networkd) ignore the router option when option 121 is present.
        cat >"$VN_DIR/fab-dhcp.conf" <<EOF
# Azure-like DHCP for the router's two NICs (vnet.sh, VNet $VN_ID)
port=0
interface=nat
interface=lan
dhcp-authoritative
dhcp-leasefile=$VN_DIR/leases/fab-dhcp.leases
dhcp-range=set:nat,10.0.0.0,static,255.255.255.0,1h
dhcp-range=set:lan,10.0.1.0,static,255.255.255.0,1h
dhcp-host=$VN_NIC1_MAC,$VN_NIC1_IP
dhcp-host=$VN_NIC2_MAC,$VN_NIC2_IP
dhcp-option=tag:nat,option:router,$VN_NAT_GW
dhcp-option=tag:lan,option:router,$VN_LAN_GW
dhcp-option=option:dns-server,$VN_WIRE
dhcp-option=tag:nat,option:classless-static-route,0.0.0.0/0,$VN_NAT_GW,$VN_WIRE/32,$VN_NAT_GW,$VN_IMDS/32,$VN_NAT_GW
dhcp-option-force=tag:nat,245,$VN_WIRE
log-dhcp
log-facility=-
EOF
        # Azure DNS on 168.63.129.16: a few fixed names, no upstream
        cat >"$VN_DIR/fab-dns.conf" <<EOF
# Azure DNS stand-in on $VN_WIRE (vnet.sh, VNet $VN_ID)
listen-address=$VN_WIRE
bind-interfaces
no-resolv
no-hosts
# *.test is answered locally (NXDOMAIN when unknown, no AAAA); anything else is REFUSED
local=/test/
host-record=azure.test,$VN_VM_IP
host-record=vm.azure.test,$VN_VM_IP
host-record=onprem.test,$VN_ONP_IP
host-record=internet.test,$VN_INET_IP
log-queries
log-facility=-
EOF

        # HTTP responders. whoami answers with the source address the server saw.
        _vn_www wire "wireserver $VN_ID" || return 1
        # GET /machine?comp=goalstate (httpd ignores the query): a minimal goal state; no POST
        cat >"$VN_DIR/www/wire/machine" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<GoalState><Version>2012-11-30</Version><Incarnation>1</Incarnation><Machine><ExpectedState>Started</ExpectedState></Machine><Container><ContainerId>nr-vnet-$VN_ID</ContainerId><RoleInstanceList><RoleInstance><InstanceId>nr-vnet-$VN_ID.router</InstanceId></RoleInstance></RoleInstanceList></Container></GoalState>
EOF
        _vn_www imds "imds $VN_ID" || return 1
        mkdir -p "$VN_DIR/www/imds/metadata/instance" || return 1
        vnet_imds_network nic1-first || return 1
        local r
        for r in vm onp inet; do _vn_www "$r" "$r $VN_ID" || return 1; done
}

# _vn_www NAME MARKER: document root www/NAME with index.html, nr-vnet (the marker) and
# cgi-bin/whoami
_vn_www() {
        local d="$VN_DIR/www/$1"
        mkdir -p "$d/cgi-bin" || return 1
        echo "$2" >"$d/index.html"
        echo "$2" >"$d/nr-vnet"
        printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%%s\\n" "$REMOTE_ADDR"\n' \
                >"$d/cgi-bin/whoami"
        chmod 755 "$d/cgi-bin/whoami"
}

_vn_fab_nft() {
        cat <<EOF
# The Azure fabric's view of the router's NICs (vnet.sh, VNet $VN_ID). No NAT anywhere.
table ip nrfab {
        # NIC1 has IP forwarding OFF: the host passes only packets from and to NIC1's own
        # address (DHCP excepted). A router that forgets to masquerade makes this count.
        counter nic1_drop { }
        # wireserver and IMDS answer only on NIC1's side
        counter azsvc_drop { }

        chain nic1_in {
                ip saddr $VN_NIC1_IP return
                ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return
                counter name "nic1_drop" drop
        }
        chain nic1_out {
                ip daddr $VN_NIC1_IP return
                udp sport 67 udp dport 68 return
                counter name "nic1_drop" drop
        }
        chain input {
                type filter hook input priority filter; policy accept;
                iifname "nat" jump nic1_in
                ip daddr { $VN_WIRE, $VN_IMDS } iifname != { "nat", "lo" } counter name "azsvc_drop" drop
        }
        chain forward {
                type filter hook forward priority filter; policy accept;
                iifname "nat" jump nic1_in
                oifname "nat" jump nic1_out
        }
        chain output {
                type filter hook output priority filter; policy accept;
                oifname "nat" jump nic1_out
        }
}
EOF
}

# ---------------------------------------------------------------- up / down / status
vnet_up() {
        _vn_init && _vn_need_root || return 1
        if [ -n "$(_vn_ns_list)" ] || _vn_any_alive; then
                _vn_err "VNet $VN_ID is (partly) up; run 'NR_VNET_ID=$VN_ID vnet.sh down' first"
                return 1
        fi
        # a state dir left by `NR_VNET_KEEP=1 vnet.sh down` (or a crash): nothing runs, reuse it
        [ -e "$VN_DIR/.nr-vnet" ] && rm -rf "$VN_DIR"
        if [ -e "$VN_DIR" ] && [ -n "$(ls -A "$VN_DIR" 2>/dev/null)" ]; then
                _vn_err "$VN_DIR exists and is not a vnet.sh state dir; refusing to use it"
                return 1
        fi
        mkdir -p "$VN_DIR" && : >"$VN_DIR/.nr-vnet" || return 1
        if _vn_up_steps; then
                _vn_log "VNet $VN_ID up (state in $VN_DIR)"
                return 0
        fi
        _vn_err "up failed; tearing down (logs were in $VN_DIR/logs)"
        if [ -d "$VN_DIR/logs" ]; then
                local f
                for f in "$VN_DIR"/logs/*.log; do
                        [ -s "$f" ] && { echo "--- $f" >&2; tail -n 5 "$f" >&2; }
                done
        fi
        vnet_down
        return 1
}

_vn_up_steps() {
        local rtr="$VN_P-rtr" fab="$VN_P-fab" vm="$VN_P-vm" onp="$VN_P-onp" inet="$VN_P-inet" r ns
        _vn_write_files || return 1
        _vn_fab_nft >"$VN_DIR/fab.nft" || return 1

        for r in $VN_ROLES; do
                ns=$VN_P-$r
                ip netns add "$ns" || return 1
                ip -n "$ns" link set lo up || return 1
        done
        # The router starts from kernel defaults, whatever the host has (new namespaces copy
        # init_net's IPv4 "all"/"default" settings): no forwarding, rp_filter 0. br_netfilter is
        # off like on a stock image where the module isn't loaded (NR_VNET_BR_NF=1 keeps it on).
        _vn_sysctl "$rtr" net/ipv4/ip_forward=0 net/ipv4/conf/all/rp_filter=0 \
                net/ipv4/conf/default/rp_filter=0 || return 1
        if [ "${NR_VNET_BR_NF:-0}" != 1 ]; then
                _vn_sysctl "$rtr" net/bridge/bridge-nf-call-iptables=0 \
                        net/bridge/bridge-nf-call-ip6tables=0 net/bridge/bridge-nf-call-arptables=0
        fi
        # Azure side: IPv4 only (a VNet without IPv6 drops it), no rp_filter (the fabric must see
        # and count spoofed packets from NIC1, not drop them silently), fab routes.
        for r in fab vm onp inet; do
                _vn_sysctl "$VN_P-$r" net/ipv6/conf/all/disable_ipv6=1 \
                        net/ipv6/conf/default/disable_ipv6=1 net/ipv4/conf/all/rp_filter=0 \
                        net/ipv4/conf/default/rp_filter=0 net/ipv4/ip_forward=0 || return 1
        done
        _vn_sysctl "$fab" net/ipv4/ip_forward=1 net/ipv4/conf/all/send_redirects=0 \
                net/ipv4/conf/default/send_redirects=0 || return 1

        # NR_VNET_VF=1: the VF stand-in first, so that it has a lower ifindex than eth0
        if [ "${NR_VNET_VF:-0}" = 1 ]; then vnet_vf add || return 1; fi
        # links, created straight inside their namespaces (no names in the host namespace, so
        # two VNets never collide)
        ip -n "$rtr" link add eth0 address "$VN_NIC1_MAC" type veth \
                peer name nat address "$VN_FAB_MAC" netns "$fab" || return 1
        ip -n "$rtr" link add eth1 address "$VN_NIC2_MAC" type veth \
                peer name lan address "$VN_FAB_MAC" netns "$fab" || return 1
        ip -n "$vm" link add eth0 type veth peer name vms address "$VN_FAB_MAC" netns "$fab" || return 1
        ip -n "$onp" link add eth0 type veth peer name gw address "$VN_FAB_MAC" netns "$fab" || return 1
        ip -n "$inet" link add eth0 type veth peer name inet address "$VN_FAB_MAC" netns "$fab" || return 1

        # fab: the subnets' .1 gateways, the services, the VPN gateway's prefixes, the UDR
        ip -n "$fab" addr add $VN_NAT_GW/24 dev nat &&
                ip -n "$fab" addr add $VN_LAN_GW/24 dev lan &&
                ip -n "$fab" addr add $VN_VM_GW/24 dev vms &&
                ip -n "$fab" addr add $VN_GWS_GW/27 dev gw &&
                ip -n "$fab" addr add $VN_INET_GW/24 dev inet &&
                ip -n "$fab" addr add $VN_WIRE/32 dev lo &&
                ip -n "$fab" addr add $VN_IMDS/32 dev lo || return 1
        for r in nat lan vms gw inet; do ip -n "$fab" link set "$r" up || return 1; done
        ip -n "$fab" route add $VN_ONP_NET via $VN_ONP_GW_IP dev gw || return 1
        # 10.0.2.0/24 is an empty ("ghosted") subnet of the VNet: dropped, except for packets
        # from the subnets the route table is associated with (VM subnet, GatewaySubnet)
        ip -n "$fab" route add blackhole $VN_GUEST_NET || return 1
        ip -n "$fab" route add $VN_GUEST_NET via $VN_NIC2_IP dev lan table $VN_UDR_TABLE || return 1
        ip -n "$fab" rule add iif vms lookup $VN_UDR_TABLE pref 100 || return 1
        ip -n "$fab" rule add iif gw lookup $VN_UDR_TABLE pref 101 || return 1
        ip netns exec "$fab" nft -f "$VN_DIR/fab.nft" || return 1

        # vm, onp, inet
        ip -n "$vm" addr add $VN_VM_IP/24 dev eth0 && ip -n "$vm" link set eth0 up &&
                ip -n "$vm" route add default via $VN_VM_GW || return 1
        ip -n "$onp" addr add $VN_ONP_GW_IP/27 dev eth0 && ip -n "$onp" addr add $VN_ONP_IP/32 dev lo &&
                ip -n "$onp" link set eth0 up &&
                ip -n "$onp" route add default via $VN_GWS_GW src $VN_ONP_IP || return 1
        ip -n "$inet" addr add $VN_INET_IP/24 dev eth0 && ip -n "$inet" link set eth0 up &&
                ip -n "$inet" route add 10.0.0.0/8 via $VN_INET_GW || return 1

        # the router: two NICs, link up, nothing else (like a booted VM before its config), and
        # Azure DNS in its resolv.conf (seen by `vnet.sh exec rtr ...`), so nothing in the router
        # namespace ever asks the host's resolver
        ip -n "$rtr" link set eth0 up && ip -n "$rtr" link set eth1 up || return 1
        mkdir -p "/etc/netns/$rtr" && echo "nameserver $VN_WIRE" >"/etc/netns/$rtr/resolv.conf" || return 1

        # processes
        _vn_spawn "$fab" fab-dhcp dnsmasq --keep-in-foreground --conf-file="$VN_DIR/fab-dhcp.conf" \
                --pid-file= --user=root >/dev/null || return 1
        _vn_spawn "$fab" fab-dns dnsmasq --keep-in-foreground --conf-file="$VN_DIR/fab-dns.conf" \
                --pid-file= --user=root >/dev/null || return 1
        _vn_spawn "$fab" fab-wire busybox httpd -f -p $VN_WIRE:80 -h "$VN_DIR/www/wire" \
                -c "$VN_HTTPD_CONF" >/dev/null || return 1
        _vn_spawn "$fab" fab-imds busybox httpd -f -p $VN_IMDS:80 -h "$VN_DIR/www/imds" \
                -c "$VN_HTTPD_CONF" >/dev/null || return 1
        for r in vm onp inet; do
                _vn_spawn "$VN_P-$r" "$r-svc" busybox httpd -f -p 0.0.0.0:$VN_SVC_PORT \
                        -h "$VN_DIR/www/$r" -c "$VN_HTTPD_CONF" >/dev/null || return 1
        done
        # ready: every service listens (bounded: 5 s each)
        _vn_wait 50 _vn_listening "$fab" udp 67 || { _vn_err "fab DHCP not listening"; return 1; }
        _vn_wait 50 _vn_listening "$fab" udp 53 || { _vn_err "fab DNS not listening"; return 1; }
        _vn_wait 50 _vn_listening "$fab" tcp 80 || { _vn_err "fab HTTP not listening"; return 1; }
        for r in vm onp inet; do
                _vn_wait 50 _vn_listening "$VN_P-$r" tcp $VN_SVC_PORT ||
                        { _vn_err "$r service not listening"; return 1; }
        done
        for r in fab-dhcp fab-dns fab-wire fab-imds vm-svc onp-svc inet-svc; do
                # shellcheck disable=SC2046
                _vn_alive $(cat "$VN_DIR/pids/$r.pid") || { _vn_err "$r died"; return 1; }
        done
}

vnet_down() {
        _vn_init || return 1
        [ "$(id -u)" = 0 ] || { _vn_err "needs root"; return 1; }
        local t ns pids p rc=0
        # 1. every process vnet.sh started, by recorded pid
        for t in $(_vn_tags); do _vn_stop "$t"; done
        # 2. processes others started inside our namespaces (`vnet.sh exec rtr nestrouterd &`):
        #    found by namespace, killed by pid, so no namespace outlives `down`
        for ns in $(_vn_ns_list); do
                pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
                [ -n "$pids" ] || continue
                if [ "${NR_VNET_KILL_STRAYS:-1}" = 1 ]; then
                        _vn_log "down: stopping processes left in $ns: $pids"
                        for p in $pids; do kill -TERM "$p" 2>/dev/null; done
                        _vn_wait 20 _vn_ns_empty "$ns" || {
                                for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
                                _vn_wait 10 _vn_ns_empty "$ns"
                        }
                else
                        _vn_log "down: processes left in $ns (not stopped): $pids"
                fi
        done
        # 3. namespaces (guests' veths go with them) and their /etc/netns entries
        for ns in $(_vn_ns_list); do
                ip netns del "$ns" || { _vn_err "cannot delete $ns"; rc=1; }
        done
        for ns in /etc/netns/"$VN_P"-*; do
                [ -d "$ns" ] && rm -rf "$ns"
        done
        rmdir /etc/netns 2>/dev/null    # only if empty: guest-add created it
        # 4. the state dir, only if it is ours
        if [ -e "$VN_DIR/.nr-vnet" ] && [ "${NR_VNET_KEEP:-0}" != 1 ]; then
                rm -rf "$VN_DIR"
        fi
        [ -z "$(_vn_ns_list)" ] || rc=1
        return $rc
}
_vn_ns_empty() { [ -z "$(ip netns pids "$1" 2>/dev/null)" ]; }

vnet_status() {
        _vn_init || return 1
        local ns r t pid st ok=1 any=0 a
        echo "VNet $VN_ID (state dir $VN_DIR)"
        for r in $VN_ROLES; do
                ns=$VN_P-$r
                if _vn_ns_exists "$ns"; then
                        any=1
                        a=$(ip -n "$ns" -4 -o addr show 2>/dev/null | awk '$2 != "lo" || $4 !~ /^127\./ {printf " %s=%s", $2, $4}')
                        printf '  %-5s %-16s up  %s\n' "$r" "$ns" "$a"
                else
                        printf '  %-5s %-16s MISSING\n' "$r" "$ns"
                        ok=0
                fi
        done
        for ns in $(_vn_ns_list); do
                case $ns in "$VN_P"-g-*) ;; *) continue ;; esac
                any=1
                a=$(ip -n "$ns" -4 -o addr show dev eth0 2>/dev/null | awk '{printf " %s", $4}')
                printf '  guest %-16s up  eth0=%s\n' "${ns#"$VN_P"-g-}" "${a# }"
        done
        for t in $(_vn_tags); do
                any=1
                read -r pid st <"$VN_DIR/pids/$t.pid"
                if _vn_alive "$pid" "$st"; then
                        printf '  proc  %-16s pid %s\n' "$t" "$pid"
                else
                        printf '  proc  %-16s DEAD (pid %s)\n' "$t" "$pid"
                        ok=0
                fi
        done
        if _vn_ns_exists "$VN_P-fab"; then
                echo "  nic1_drop $(vnet_nic1_drops 2>/dev/null) packets, azsvc_drop $(_vn_counter azsvc_drop 2>/dev/null) packets"
        fi
        [ $any = 1 ] || { echo "  down"; return 3; }
        [ $ok = 1 ]
}

# ---------------------------------------------------------------- guests
vnet_guest_add() {
        _vn_init && _vn_need_root || return 1
        local name="$1" mac="$2" ns rtr="$VN_P-rtr" veth n ip
        [ $# -eq 2 ] || { _vn_err "usage: guest-add NAME MAC"; return 1; }
        _vn_guest_name_ok "$name" || return 1
        echo "$mac" | grep -Eqi '^([0-9a-f]{2}:){5}[0-9a-f]{2}$' || { _vn_err "bad MAC '$mac'"; return 1; }
        ns=$VN_P-g-$name
        veth=vg-$name
        if ! _vn_ns_exists "$rtr" || ! [ -e "$VN_DIR/.nr-vnet" ]; then
                _vn_err "VNet $VN_ID is not up"
                return 1
        fi
        _vn_ns_exists "$ns" && { _vn_err "guest $name exists"; return 1; }
        # wait for the router's bridge (whoever creates it), bounded
        n=$((${NR_VNET_BRIDGE_WAIT:-30} * 10))
        _vn_wait "$n" _vn_is_bridge "$rtr" "$VN_BR" ||
                { _vn_err "no bridge $VN_BR in $rtr after ${NR_VNET_BRIDGE_WAIT:-30}s"; return 1; }

        ip netns add "$ns" || return 1
        if ! _vn_guest_add_steps "$name" "$mac" "$ns" "$veth"; then
                _vn_err "guest-add $name failed"
                vnet_guest_del "$name" >/dev/null 2>&1
                return 1
        fi
        n=$((${NR_VNET_LEASE_WAIT:-15} * 10))
        [ "$n" -gt 0 ] || return 0
        if _vn_wait "$n" test -s "$VN_DIR/leases/g-$name"; then
                ip=$(sed -n "s/^ip='\(.*\)'$/\1/p" "$VN_DIR/leases/g-$name")
                _vn_log "guest $name ($mac) got $ip"
                echo "$ip"
                return 0
        fi
        _vn_err "guest $name: no DHCP lease after ${NR_VNET_LEASE_WAIT:-15}s (udhcpc keeps trying; log $VN_DIR/logs/g-$name-dhcp.log)"
        return 1
}

_vn_is_bridge() { ip -n "$1" -d link show dev "$2" 2>/dev/null | grep -q '^ *bridge '; }

_vn_guest_add_steps() {
        local name="$1" mac="$2" ns="$3" veth="$4" rtr="$VN_P-rtr" p
        ip -n "$ns" link set lo up || return 1
        ip -n "$ns" link add eth0 address "$mac" type veth peer name "$veth" netns "$rtr" || return 1
        ip -n "$rtr" link set "$veth" master "$VN_BR" || return 1
        ip -n "$rtr" link set "$veth" up && ip -n "$ns" link set eth0 up || return 1
        # DNS for the guest: `ip netns exec` bind-mounts /etc/netns/NS/resolv.conf
        mkdir -p "/etc/netns/$ns" && echo "# no DHCP lease yet" >"/etc/netns/$ns/resolv.conf" || return 1
        _vn_www "g-$name" "guest $name $VN_ID" || return 1
        for p in ${NR_VNET_GUEST_PORTS-$VN_SVC_PORT 3389}; do
                _vn_spawn "$ns" "g-$name-svc$p" busybox httpd -f -p 0.0.0.0:"$p" \
                        -h "$VN_DIR/www/g-$name" -c "$VN_HTTPD_CONF" >/dev/null || return 1
        done
        [ -x "$VN_HOOK" ] || _vn_write_files || return 1
        rm -f "$VN_DIR/leases/g-$name"
        _vn_spawn "$ns" "g-$name-dhcp" env NRV_LEASE="$VN_DIR/leases/g-$name" NRV_ROUTES=1 \
                NRV_RESOLV="/etc/netns/$ns/resolv.conf" \
                busybox udhcpc -f -i eth0 -s "$VN_HOOK" -t 0 -T 1 -A 1 -O staticroutes \
                -x hostname:"$name" >/dev/null || return 1
}

vnet_guest_del() {
        _vn_init || return 1
        local name="$1" ns t
        _vn_guest_name_ok "$name" || return 1
        ns=$VN_P-g-$name
        for t in $(_vn_tags "g-$name-"); do _vn_stop "$t"; done
        if _vn_ns_exists "$ns"; then
                for t in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$t" 2>/dev/null; done
                _vn_wait 20 _vn_ns_empty "$ns"
                ip netns del "$ns" || return 1
        fi
        rm -rf "/etc/netns/$ns" "$VN_DIR/leases/g-$name" "$VN_DIR/www/g-$name"
        # the router end of the veth went with the guest namespace
}

vnet_guest_ip() {
        _vn_init || return 1
        local ns
        ns=$(_vn_ns "$1") || return 1
        ip -n "$ns" -4 -o addr show dev eth0 2>/dev/null | awk '{sub("/.*", "", $4); print $4; f=1} END {exit !f}'
}

# ---------------------------------------------------------------- router DHCP (address: dhcp)
vnet_rtr_dhcp() {
        _vn_init && _vn_need_root || return 1
        local ifc="$1" routes=0 n ip
        [ -n "$ifc" ] || { _vn_err "usage: rtr-dhcp IFACE"; return 1; }
        ip -n "$VN_P-rtr" link show dev "$ifc" >/dev/null 2>&1 || { _vn_err "no $ifc in $VN_P-rtr"; return 1; }
        [ "$ifc" = "$VN_PRIMARY" ] && routes=1
        [ -x "$VN_HOOK" ] || _vn_write_files || return 1
        rm -f "$VN_DIR/leases/rtr-$ifc"
        _vn_spawn "$VN_P-rtr" "rtr-dhcp-$ifc" env NRV_LEASE="$VN_DIR/leases/rtr-$ifc" \
                NRV_ROUTES=$routes NRV_RESOLV= \
                busybox udhcpc -f -i "$ifc" -s "$VN_HOOK" -t 0 -T 1 -A 1 -O staticroutes \
                -x hostname:nestrouter >/dev/null || return 1
        n=$((${NR_VNET_LEASE_WAIT:-15} * 10))
        [ "$n" -gt 0 ] || return 0
        if _vn_wait "$n" test -s "$VN_DIR/leases/rtr-$ifc"; then
                ip=$(sed -n "s/^ip='\(.*\)'$/\1/p" "$VN_DIR/leases/rtr-$ifc")
                echo "$ip"
                return 0
        fi
        _vn_err "rtr $ifc: no DHCP lease (log $VN_DIR/logs/rtr-dhcp-$ifc.log)"
        return 1
}

vnet_rtr_dhcp_stop() {
        _vn_init || return 1
        [ -n "$1" ] || { _vn_err "usage: rtr-dhcp-stop IFACE"; return 1; }
        _vn_stop "rtr-dhcp-$1"
        rm -f "$VN_DIR/leases/rtr-$1"
}

# ---------------------------------------------------------------- router as a VM (rtr-taps)
# For a router that is a virtual machine (the appliance image under QEMU): the router namespace
# becomes the hypervisor's side of the VM's three NICs. eth0 and eth1 hand their Azure MACs over
# to the VM's NIC1/NIC2 and are bridged with the taps nic1 and nic2, so the VM's NICs sit on the
# fabric's nat and lan links; nic3 is a port of a bridge $VN_BR here, which guest-add uses, so a
# guest namespace reaches the VM's third NIC (enslaved to the VM's own guest bridge). QEMU must
# run in this namespace (`ip netns exec nr-ID-rtr qemu-system-x86_64 -netdev
# tap,ifname=nic1,script=no,downscript=no ...`), with the MACs NR_VNET_NIC1_MAC/NIC2_MAC.
vnet_rtr_taps() {
        _vn_init && _vn_need_root || return 1
        local rtr="$VN_P-rtr" i
        if ! _vn_ns_exists "$rtr" || ! [ -e "$VN_DIR/.nr-vnet" ]; then
                _vn_err "VNet $VN_ID is not up"
                return 1
        fi
        ip -n "$rtr" link show dev nic1 >/dev/null 2>&1 && { _vn_err "rtr-taps: already done"; return 1; }
        # L2 only: no IPv6 chatter (RS, DAD) from the bridges
        _vn_sysctl "$rtr" net/ipv6/conf/all/disable_ipv6=1 net/ipv6/conf/default/disable_ipv6=1 ||
                return 1
        for i in 1 2; do
                _vn_rtr_tap_bridge "$rtr" "eth$((i - 1))" "$i" || return 1
        done
        ip -n "$rtr" link add "$VN_BR" type bridge stp_state 0 forward_delay 0 &&
                ip -n "$rtr" tuntap add dev nic3 mode tap &&
                ip -n "$rtr" link set nic3 master "$VN_BR" &&
                ip -n "$rtr" link set nic3 up && ip -n "$rtr" link set "$VN_BR" up || return 1
        _vn_log "rtr-taps: nic1 -> nat (MAC for the VM $VN_NIC1_MAC), nic2 -> lan ($VN_NIC2_MAC), nic3 -> $VN_BR (guests)"
        echo "nic1 nic2 nic3"
}

# _vn_rtr_tap_bridge NS ETH N: ETH gives its MAC up (a locally administered one instead) and is
# bridged with tap nicN on bridge br-nicN
_vn_rtr_tap_bridge() {
        ip -n "$1" link set "$2" down &&
                ip -n "$1" link set "$2" address "02:00:00:00:00:0$3" &&
                ip -n "$1" link add "br-nic$3" type bridge stp_state 0 forward_delay 0 &&
                ip -n "$1" tuntap add dev "nic$3" mode tap &&
                ip -n "$1" link set "$2" master "br-nic$3" &&
                ip -n "$1" link set "nic$3" master "br-nic$3" &&
                ip -n "$1" link set "$2" up && ip -n "$1" link set "nic$3" up &&
                ip -n "$1" link set "br-nic$3" up
}

# ---------------------------------------------------------------- test helpers
vnet_exec() {
        _vn_init || return 1
        local ns
        ns=$(_vn_ns "$1") || return 1
        shift
        [ $# -gt 0 ] || { _vn_err "usage: exec ROLE CMD..."; return 1; }
        _vn_ns_exists "$ns" || { _vn_err "no namespace $ns"; return 1; }
        ip netns exec "$ns" "$@"
}

# vnet_spawn ROLE TAG CMD...: a background process in ROLE's namespace that `down` stops
vnet_spawn() {
        _vn_init || return 1
        local ns tag
        ns=$(_vn_ns "$1") || return 1
        tag=$1-$2
        shift 2 || { _vn_err "usage: spawn ROLE TAG CMD..."; return 1; }
        [ $# -gt 0 ] || { _vn_err "usage: spawn ROLE TAG CMD..."; return 1; }
        _vn_ns_exists "$ns" || { _vn_err "no namespace $ns"; return 1; }
        _vn_spawn "$ns" "$tag" "$@"
}

vnet_kill() { # kill ROLE TAG
        _vn_init || return 1
        [ $# -eq 2 ] || { _vn_err "usage: kill ROLE TAG"; return 1; }
        _vn_stop "$1-$2"
}

# _vn_http ROLE HOST PORT PATH: HTTP/1.0 GET with busybox nc (its wget -T crashes on Debian 12),
# prints the body; fails unless the status is 200
_vn_http() {
        local ns out
        ns=$(_vn_ns "$1") || return 1
        out=$(printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$4" "$2" |
                ip netns exec "$ns" timeout $((VN_TIMEOUT + 1)) busybox nc -w "$VN_TIMEOUT" "$2" "$3" \
                2>/dev/null | tr -d '\r')
        case $out in "HTTP/1."?" 200 "*) ;; *) return 1 ;; esac
        printf '%s\n' "$out" | sed '1,/^$/d'
}

vnet_whoami() { # whoami FROM_ROLE TO_ADDR [PORT]
        _vn_init || return 1
        [ $# -ge 2 ] || { _vn_err "usage: whoami FROM_ROLE TO_ADDR [PORT]"; return 1; }
        local out
        out=$(_vn_http "$1" "$2" "${3:-$VN_SVC_PORT}" /cgi-bin/whoami) || return 1
        [ -n "$out" ] || return 1
        echo "$out"
}

vnet_http() { # http FROM_ROLE ADDR[:PORT] [PATH]
        _vn_init || return 1
        [ $# -ge 2 ] || { _vn_err "usage: http FROM_ROLE ADDR[:PORT] [PATH]"; return 1; }
        local h="${2%%:*}" p=80
        case $2 in *:*) p=${2#*:} ;; esac
        _vn_http "$1" "$h" "$p" "${3:-/}"
}

vnet_ping() { # ping FROM_ROLE ADDR: one echo request, bounded
        _vn_init || return 1
        [ $# -eq 2 ] || { _vn_err "usage: ping FROM_ROLE ADDR"; return 1; }
        local ns
        ns=$(_vn_ns "$1") || return 1
        ip netns exec "$ns" timeout $((VN_TIMEOUT + 1)) busybox ping -c 1 -w "$VN_TIMEOUT" "$2" \
                >/dev/null 2>&1
}

_vn_counter() {
        ip netns exec "$VN_P-fab" nft list counter ip nrfab "$1" 2>/dev/null |
                sed -n 's/.*packets \([0-9][0-9]*\).*/\1/p' | grep . || return 1
}
vnet_nic1_drops() {
        _vn_init || return 1
        _vn_counter nic1_drop || { _vn_err "cannot read counter nic1_drop in $VN_P-fab"; return 1; }
}
vnet_counters() {
        _vn_init || return 1
        ip netns exec "$VN_P-fab" nft list counters table ip nrfab
}

# trace ROLE SECONDS [MATCH...]: nft packet trace in a role's namespace (no tcpdump needed).
# MATCH is an nft expression (default: everything IPv4), e.g. `ip daddr 203.0.113.10`.
vnet_trace() {
        _vn_init || return 1
        local ns secs="${2:-5}"
        ns=$(_vn_ns "$1") || return 1
        shift 2 2>/dev/null || shift $#
        ip netns exec "$ns" nft -f - <<EOF || return 1
table ip nrvtrace {
        chain pre { type filter hook prerouting priority raw - 10; $* meta nftrace set 1; }
        chain out { type filter hook output priority raw - 10; $* meta nftrace set 1; }
}
EOF
        ip netns exec "$ns" timeout "$secs" nft monitor trace
        ip netns exec "$ns" nft delete table ip nrvtrace
        return 0
}

# ---------------------------------------------------------------- IMDS and the VF stand-in
# _vn_imds_nic MAC IP SUBNET: one entry of IMDS's interface list (MAC upper-case, no separators)
_vn_imds_nic() {
        printf '{"ipv4":{"ipAddress":[{"privateIpAddress":"%s","publicIpAddress":""}],"subnet":[{"address":"%s","prefix":"24"}]},"ipv6":{"ipAddress":[]},"macAddress":"%s"}' \
                "$2" "$3" "$(echo "$1" | tr -d : | tr a-f A-F)"
}

# vnet_imds_network nic1-first|nic2-first|broken: rewrite IMDS's network document (Azure does
# not promise an order; `broken` is not JSON)
vnet_imds_network() {
        _vn_init || return 1
        local f="$VN_DIR/www/imds/metadata/instance/network" a b
        a=$(_vn_imds_nic "$VN_NIC1_MAC" "$VN_NIC1_IP" 10.0.0.0)
        b=$(_vn_imds_nic "$VN_NIC2_MAC" "$VN_NIC2_IP" 10.0.1.0)
        case ${1:-nic1-first} in
        nic1-first) echo "{\"interface\":[$a,$b]}" ;;
        nic2-first) echo "{\"interface\":[$b,$a]}" ;;
        broken) echo '{"interface":[' ;;
        *) _vn_err "imds-network: nic1-first, nic2-first or broken"; return 1 ;;
        esac >"$f.tmp" && mv "$f.tmp" "$f"
}

# vnet_vf add|del: the Accelerated Networking VF stand-in in the router: a veth device with
# NIC1's MAC and no address, given the lowest free ifindex so that it comes before eth0 in
# every dump (on Azure it is enslaved to the synthetic NIC, and comes and goes with host
# maintenance)
vnet_vf() {
        _vn_init || return 1
        local rtr="$VN_P-rtr" i
        case ${1:-} in
        add)
                # a veth pair (the dummy module may be missing); the peer stays down
                for i in 2 3 4 5 6 7 8 9; do
                        ip -n "$rtr" link add name vf1 index "$i" address "$VN_NIC1_MAC" \
                                type veth peer name vf1p 2>/dev/null && break
                done
                ip -n "$rtr" link show dev vf1 >/dev/null 2>&1 ||
                        ip -n "$rtr" link add name vf1 address "$VN_NIC1_MAC" type veth \
                                peer name vf1p || return 1
                ip -n "$rtr" link set dev vf1 up ;;
        del) ip -n "$rtr" link del dev vf1 ;;
        *) _vn_err "vf: add or del"; return 1 ;;
        esac
}

# vnet_udr off|on: remove or restore the route table's route for the guest subnet (next hop
# NIC2) that the VM and gateway subnets use
vnet_udr() {
        _vn_init || return 1
        local fab="$VN_P-fab"
        case ${1:-} in
        off) ip -n "$fab" route del $VN_GUEST_NET table $VN_UDR_TABLE ;;
        on) ip -n "$fab" route replace $VN_GUEST_NET via $VN_NIC2_IP dev lan table $VN_UDR_TABLE ;;
        *) _vn_err "udr: off or on"; return 1 ;;
        esac
}

# vnet_nic2_forwarding off|on: Azure's "IP forwarding" setting of NIC2. On (the default) the
# fabric passes foreign addresses on NIC2; off it drops them like NIC1's (counter nic2_drop).
vnet_nic2_forwarding() {
        _vn_init || return 1
        local fab="$VN_P-fab"
        case ${1:-} in
        off)
                ip netns exec "$fab" nft -f - <<EOF
table ip nrfab_nic2 {
        counter nic2_drop { }
        chain forward {
                type filter hook forward priority filter; policy accept;
                iifname "lan" ip saddr != $VN_NIC2_IP counter name "nic2_drop" drop
                oifname "lan" ip daddr != $VN_NIC2_IP counter name "nic2_drop" drop
        }
}
EOF
                ;;
        on) ip netns exec "$fab" nft delete table ip nrfab_nic2 2>/dev/null; return 0 ;;
        *) _vn_err "nic2-forwarding: off or on"; return 1 ;;
        esac
}

vnet_help() {
        cat <<'EOF'
usage: vnet.sh COMMAND [ARGS]        (or source it and call `vnet COMMAND ARGS`)
  up                      build the VNet (fails if it is already, even partly, up)
  down                    stop every process vnet.sh started (by pid) and anything left in
                          its namespaces, delete the namespaces; idempotent
  status                  namespaces, addresses, processes, counters (exit 0 = all up,
                          1 = partly up, 3 = down)
  guest-add NAME MAC      guest namespace, veth enslaved to the router's bridge (waits for
                          it), whoami on tcp 7777 and 3389, udhcpc; prints the leased address
  guest-del NAME          remove a guest
  guest-ip NAME           a guest's current address
  exec ROLE CMD...        run CMD in ROLE's namespace (rtr fab vm onp inet or a guest name)
  spawn ROLE TAG CMD...   run CMD in the background in ROLE's namespace; `down` stops it
  kill ROLE TAG           stop a spawned process
  whoami FROM ADDR [PORT] connect from FROM to ADDR:PORT (7777), print the source address
                          the far end saw
  http FROM ADDR[:PORT] [PATH]  GET, print the body (e.g. http rtr 169.254.169.254 /nr-vnet)
  ping FROM ADDR          one ping, exit status only
  nic1-drops              packets the fabric dropped for NIC1 (foreign source/destination)
  counters                all of fab's counters (nic1_drop, azsvc_drop)
  rtr-dhcp IFACE          udhcpc on the router's IFACE (the primary, eth0, also gets the
                          default and classless routes); prints the address
  rtr-dhcp-stop IFACE     stop it
  rtr-taps                the router is a VM: taps nic1/nic2 bridged onto the fabric links
                          (the VM's NICs take the Azure MACs), nic3 on a bridge for guests;
                          run QEMU in nr-ID-rtr
  trace ROLE SECS [MATCH] nft packet trace in ROLE's namespace for SECS seconds
  imds-network ORDER      IMDS's network document: nic1-first (default), nic2-first, broken
  udr off|on              fault: the route table loses (or gets back) the guest subnet route
  nic2-forwarding off|on  fault: NIC2's IP forwarding off (the fabric drops foreign addresses
                          on NIC2, counter nic2_drop) or back on (the default)
  vf add|del              the Accelerated Networking VF stand-in: vf1 in the router with NIC1's
                          MAC, no address, a low ifindex
environment:
  NR_VNET_ID (demo) NR_VNET_DIR (/tmp/nr-vnet-ID) NR_VNET_BRIDGE (nr0)
  NR_VNET_BRIDGE_WAIT (30 s) NR_VNET_LEASE_WAIT (15 s; 0 = don't wait) NR_VNET_TIMEOUT (5 s)
  NR_VNET_NIC1_MAC (00:0d:3a:00:00:01) NR_VNET_NIC2_MAC (00:0d:3a:00:00:02)
  NR_VNET_PRIMARY (eth0) NR_VNET_GUEST_PORTS ("7777 3389") NR_VNET_BR_NF (0)
  NR_VNET_KILL_STRAYS (1) NR_VNET_KEEP (0: down removes the state dir) NR_VNET_QUIET
  NR_VNET_VF (0; 1: `vf add` before the router's NICs are made, so vf1 precedes eth0)
EOF
}

# vnet COMMAND ARGS: the dispatcher, for sourcing scripts
vnet() {
        local cmd="${1:-help}"
        [ $# -gt 0 ] && shift
        case $cmd in
        up | down | status | exec | spawn | kill | whoami | http | ping | counters | trace | help)
                "vnet_$cmd" "$@" ;;
        guest-add | guest-del | guest-ip | nic1-drops | rtr-dhcp | rtr-dhcp-stop | rtr-taps | \
        imds-network | vf | udr | nic2-forwarding)
                "vnet_$(echo "$cmd" | tr - _)" "$@" ;;
        -h | --help) vnet_help ;;
        *) _vn_err "unknown command '$cmd' (vnet.sh help)"; return 2 ;;
        esac
}

# run as a program (not when sourced: then $0 is the sourcing script or shell)
case ${0##*/} in
vnet.sh) vnet "$@"; exit $? ;;
esac
