# bgp-fabric.sh: a simulated Azure VNet with Azure Route Server and several nestrouter hosts,
# for tests/netns/test-bgp.sh (and the Route Server demo). Sourced, not run. POSIX sh + `local`.
#
#   fab (the Azure fabric, one namespace: its routing table is what Azure programs into every NIC)
#     lan  10.0.1.1/24   bridge: the hosts' NIC2 (LAN subnet): host N's eth1 is 10.0.1.(3+N)
#     lo   10.0.4.4, 10.0.4.5  the RouteServerSubnet: two BIRD instances, ASN 65515 (rs1, rs2)
#     vm   10.0.3.1/24   an Azure VM subnet: namespace vm, 10.0.3.4
#     onp  172.16.0.1/22 the VPN gateway towards on-premises: namespace onp, 172.16.0.10
#   rtrN (host N): eth1 only; nestrouterd builds its guest bridge; guests gN-* are namespaces on
#   veths the configuration lists in guests.ports.
#
# What Route Server does is modelled in BIRD: both instances peer with every host (eBGP
# multihop), ignore prefixes inside the VNet's space (10.0.0.0/16), drop a peer over the route
# cap (receive limit, action disable), and program what they learn into the fabric: rs1 into
# table 101, rs2 into table 102, both looked up before main (so a prefix is reachable while
# either instance has it; next hop = the advertising NIC's address). With branch-to-branch
# (BF_B2B=1) they also program tables 111/112, which traffic from on-premises uses; without
# it on-premises sees only the VNet's own subnets.
# Every name starts with $BF_P (nr-bgp-...); bf_down removes all of it, BIRDs included.
# shellcheck disable=SC3043

BF_P=${BF_P:-nr-bgp}
BF_DIR=${BF_DIR:-/tmp/$BF_P}
BF_B2B=${BF_B2B:-1}
BF_VNET=10.0.0.0/16
BF_RS_ASN=65515
BF_ROUTE_CAP=${BF_ROUTE_CAP:-1000}

bf_ns() { echo "$BF_P-$1"; }
FAB() { ip netns exec "$BF_P-fab" "$@"; }

# bf_up: the fabric, the VM and on-premises namespaces (no hosts yet, no Route Server)
bf_up() {
        local fab
        fab=$(bf_ns fab)
        mkdir -p "$BF_DIR" || return 1
        for n in fab vm onp; do
                ip netns add "$(bf_ns $n)" || return 1
                ip -n "$(bf_ns $n)" link set lo up
        done
        ip netns exec "$fab" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward
                for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 >"$f"; done
                # hosts on one bridge reach each other through the fabric, not by redirects
                for f in /proc/sys/net/ipv4/conf/*/send_redirects; do echo 0 >"$f"; done' || return 1
        ip -n "$fab" link add lan type bridge || return 1
        ip -n "$fab" addr add 10.0.1.1/24 dev lan
        ip -n "$fab" link set lan up
        # the RouteServerSubnet's two instances: local addresses of the fabric
        ip -n "$fab" addr add 10.0.4.4/32 dev lo
        ip -n "$fab" addr add 10.0.4.5/32 dev lo
        ip link add "$BF_P-vm0" netns "$fab" type veth peer name eth0 netns "$(bf_ns vm)" || return 1
        ip -n "$fab" link set "$BF_P-vm0" name vm
        ip -n "$fab" addr add 10.0.3.1/24 dev vm
        ip -n "$fab" link set vm up
        ip -n "$(bf_ns vm)" addr add 10.0.3.4/24 dev eth0
        ip -n "$(bf_ns vm)" link set eth0 up
        ip -n "$(bf_ns vm)" route add default via 10.0.3.1
        ip link add "$BF_P-onp0" netns "$fab" type veth peer name eth0 netns "$(bf_ns onp)" || return 1
        ip -n "$fab" link set "$BF_P-onp0" name onp
        ip -n "$fab" addr add 172.16.0.1/22 dev onp
        ip -n "$fab" link set onp up
        ip -n "$(bf_ns onp)" addr add 172.16.0.10/22 dev eth0
        ip -n "$(bf_ns onp)" link set eth0 up
        ip -n "$(bf_ns onp)" route add default via 172.16.0.1
        # Route Server's programming: rs1, rs2 tables before main; on-premises sees the VNet
        # and, with branch-to-branch, what the instances learned (111, 112), nothing else
        ip -n "$fab" rule add pref 100 iif onp lookup 111
        ip -n "$fab" rule add pref 101 iif onp lookup 112
        ip -n "$fab" rule add pref 102 iif onp lookup 110
        ip -n "$fab" route add 10.0.1.0/24 dev lan table 110
        ip -n "$fab" route add 10.0.3.0/24 dev vm table 110
        ip -n "$fab" route add 172.16.0.0/22 dev onp table 110
        ip -n "$fab" route add unreachable default table 110
        ip -n "$fab" rule add pref 200 lookup 101
        ip -n "$fab" rule add pref 201 lookup 102
}

# bf_host N: router namespace rtrN with eth1 = 10.0.1.(3+N) on the fabric's LAN bridge
bf_host() {
        local n=$1 ns
        ns=$(bf_ns "rtr$n")
        ip netns add "$ns" || return 1
        ip -n "$ns" link set lo up
        ip link add "$BF_P-h$n" netns "$(bf_ns fab)" type veth peer name eth1 netns "$ns" || return 1
        ip -n "$(bf_ns fab)" link set "$BF_P-h$n" master lan up
        ip -n "$ns" addr add "10.0.1.$((3 + n))/24" dev eth1
        ip -n "$ns" link set eth1 up
}

# bf_guest N NAME IP/LEN GW: a guest namespace on host N, its veth (the host's end is NAME,
# which the configuration lists in guests.ports)
bf_guest() {
        local n=$1 name=$2 ip=$3 gw=$4 g
        g=$(bf_ns "g-$name")
        ip netns add "$g" || return 1
        ip -n "$g" link set lo up
        ip link add "$name" netns "$(bf_ns "rtr$n")" type veth peer name eth0 netns "$g" || return 1
        ip -n "$(bf_ns "rtr$n")" link set "$name" up
        ip -n "$g" addr add "$ip" dev eth0
        ip -n "$g" link set eth0 up
        ip -n "$g" route add default via "$gw"
}

# bf_rs_conf I ADDR TABLE B2BTABLE HOSTS...: one Route Server instance's bird.conf
bf_rs_conf() {
        local i=$1 addr=$2 table=$3 b2b=$4 h
        shift 4
        cat <<EOF
# Simulated Azure Route Server instance $i ($addr), written by bgp-fabric.sh
router id $addr;
timeformat protocol iso long;
protocol device {}
# the LAN subnet, so that the hosts' next hops resolve
protocol direct { ipv4; interface "lan"; }
# the fabric's programming: what this instance learned, next hop = the advertising NIC
protocol kernel k_vnet {
        kernel table $table;
        ipv4 { import none; export where source = RTS_BGP; };
        merge paths on;
}
EOF
        if [ "$BF_B2B" = 1 ]; then
                cat <<EOF
# branch-to-branch: the same routes towards on-premises (the VPN gateway)
ipv4 table b2b4;
protocol pipe p_b2b {
        table master4;
        peer table b2b4;
        import none;
        export where source = RTS_BGP;
}
protocol kernel k_b2b {
        kernel table $b2b;
        ipv4 { table b2b4; import none; export all; };
        merge paths on;
}
EOF
        fi
        cat <<EOF
filter rs_in {
        # BGP cannot override the VNet's own prefixes: Route Server ignores them
        if net ~ [ $BF_VNET+ ] then reject;
        accept;
}
EOF
        for h in "$@"; do
                cat <<EOF
protocol bgp host_$(echo "$h" | tr . _) {
        local $addr as $BF_RS_ASN;
        neighbor $h as ${BF_HOST_ASN:-65010};
        multihop 2;
        strict bind on;
        hold time 180;
        ipv4 {
                import filter rs_in;
                export where source = RTS_BGP;
                next hop keep;
                receive limit $BF_ROUTE_CAP action disable;
        };
}
EOF
        done
}

# bf_rs_up HOSTADDR...: both Route Server instances, peering with these hosts' NIC2 addresses
bf_rs_up() {
        local i addr
        for i in 1 2; do
                addr=10.0.4.$((3 + i))
                bf_rs_conf "$i" "$addr" $((100 + i)) $((110 + i)) "$@" >"$BF_DIR/rs$i.conf"
                FAB bird -c "$BF_DIR/rs$i.conf" -s "$BF_DIR/rs$i.ctl" -P "$BF_DIR/rs$i.pid" ||
                        return 1
        done
}

# RS I CMD...: birdc on instance I
RS() {
        local i=$1
        shift
        timeout 5 birdc -s "$BF_DIR/rs$i.ctl" "$@"
}

# bf_routes I: what instance I programmed (table 101 or 102), one route a line
bf_routes() { ip -n "$(bf_ns fab)" -4 route show table $((100 + $1)) 2>/dev/null; }

# bf_kill_pidfile FILE: stops the BIRD whose pid is in FILE (only a process named bird)
bf_kill_pidfile() {
        local pid n=30
        [ -s "$1" ] || return 0
        pid=$(cat "$1")
        grep -q '^bird' "/proc/$pid/comm" 2>/dev/null || return 0
        kill -TERM "$pid" 2>/dev/null
        while [ $n -gt 0 ] && kill -0 "$pid" 2>/dev/null; do n=$((n - 1)); sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        return 0
}

# bf_down [STATEDIR...]: the Route Server instances, the hosts' BIRDs (their state dirs' pid
# files), every namespace of ours
bf_down() {
        local s ns
        bf_kill_pidfile "$BF_DIR/rs1.pid"
        bf_kill_pidfile "$BF_DIR/rs2.pid"
        for s in "$@"; do bf_kill_pidfile "$s/bird.pid"; done
        for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$BF_P-"); do
                ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
                ip netns del "$ns"
        done
        rm -rf "$BF_DIR"
}
