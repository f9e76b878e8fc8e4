#!/bin/sh
# The real nestrouterd in a simulated Azure VNet (vnet.sh), hostile guests on the bridge: a guest
# ARP-spoofing the gateway to another guest and a reserved guest's address to the router, IP
# spoofing of a reserved and of a leased (dynamic) guest's address, DHCP starvation with random
# MACs against guests.dhcp.max_leases / dynamic_lease_time, guests.isolation, and drift of the
# `bridge nestrouter` table. Forged ARP frames come from arp-send (arp-send.c, built into build/).
# Needs root, gcc and `make all`. Prints ok/FAIL lines and `N passed, N failed`; cleans up on exit.
# NR_VNET_ID (default diso) names the VNet; KEEP=1 keeps the work dir.
# shellcheck disable=SC3043
set -u
NR_VNET_ID=${NR_VNET_ID:-diso}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
dl_init

ARPSEND=$DL_ROOT/build/arp-send
if ! [ "$ARPSEND" -nt "$DL_HERE/arp-send.c" ]; then
        command -v gcc >/dev/null || { echo "$0: gcc not found (needed for arp-send)" >&2; exit 2; }
        mkdir -p "$DL_ROOT/build" &&
                gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$ARPSEND.tmp.$$" \
                        "$DL_HERE/arp-send.c" && mv "$ARPSEND.tmp.$$" "$ARPSEND" ||
                { rm -f "$ARPSEND.tmp.$$"; echo "$0: cannot build $ARPSEND" >&2; exit 2; }
fi
cp "$ARPSEND" "$W/bin/arp-send" || exit 2

CAP=10                     # guests.dhcp.max_leases below
ATK_MAC=52:54:00:00:00:66  # the attacker, a dynamic guest
LATE_MAC=52:54:00:00:00:30 # reserved, boots after the starvation
LATE_IP=10.0.2.30

# the seed topology with a dynamic cap, short dynamic leases and a second reservation
sed -e 's/^    lease_time: 12h$/    lease_time: 12h\n    max_leases: '"$CAP"'\n    dynamic_lease_time: 10m/' \
        -e 's/^\(      - {name: web1, .*}\)$/\1\n      - {name: late, mac: "'"$LATE_MAC"'", ip: '"$LATE_IP"'}/' \
        "$DL_ROOT/configs/azure-nested.yaml" >"$CFG"
grep -q "max_leases: $CAP" "$CFG" && grep -q "name: late" "$CFG" ||
        { echo "$0: configs/azure-nested.yaml changed shape; cannot derive the test config" >&2; exit 2; }

dl_vnet_up
run "nestrouterd starts in $RTR and converges" daemon_up
if [ -z "$DPID" ] || ! ctl_up; then fail "daemon not running: nothing more to test"; summary; exit; fi
run "table bridge nestrouter is installed" R nft list table bridge nestrouter
add_guests
check_grep "guest atk ($ATK_MAC) gets an address of the pool cut to max_leases (10.0.2.100-119)" '^10\.0\.2\.1[01][0-9]$' vnet guest-add atk "$ATK_MAC"
ATK_IP=$(vnet guest-ip atk 2>/dev/null)
GW_MAC=$(R cat /sys/class/net/nr0/address)
G=$VN_P-g
A() { ip netns exec "$G-atk" "$W/bin/arp-send" eth0 "$@"; }
neigh() { ip netns exec "$1" ip neigh show "$2" dev "$3" | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'; }
leased() { grep -c " $1 " "$STATE/dnsmasq.leases"; }
run "g2's lease reached the bridge table (bound set)" wait_for 30 sh -c \
        "ip netns exec $RTR nft list set bridge nestrouter bound | grep -q '$G2_MAC . ${G2_IP:-none}'"

# ---------------------------------------------------------------- ARP spoofing
run "g2 pings the gateway (learns its MAC)" vnet ping g2 10.0.2.1
check "g2's neighbour entry for 10.0.2.1 is the router's $GW_MAC" "$GW_MAC" neigh "$G-g2" 10.0.2.1 eth0
sleep 1.2 # past the neighbour lock time: an ARP reply may now override the entry
ag0=$(rule_packets br-arp-gateway)
run "atk sends ARP replies 'gateway 10.0.2.1 is at $ATK_MAC' to g2, and gratuitous ones" sh -c "
        ip netns exec $G-atk $W/bin/arp-send eth0 reply $ATK_MAC $G2_MAC $ATK_MAC 10.0.2.1 $G2_MAC ${G2_IP:-0.0.0.0} 5 &&
        ip netns exec $G-atk $W/bin/arp-send eth0 request $ATK_MAC ff:ff:ff:ff:ff:ff $ATK_MAC 10.0.2.1 00:00:00:00:00:00 10.0.2.1 5"
check "g2's neighbour entry for 10.0.2.1 is still $GW_MAC" "$GW_MAC" neigh "$G-g2" 10.0.2.1 eth0
expect "br-arp-gateway counted the forged frames (nestrouterctl status --json)" \
        "$(rule_packets br-arp-gateway)" -ge "$((${ag0:-0} + 10))"

run "the router pings web1 (learns its MAC)" R busybox ping -c 1 -W 2 "$WEB1_IP"
check "the router's neighbour entry for web1 is $WEB1_MAC" "$WEB1_MAC" neigh "$RTR" "$WEB1_IP" nr0
sleep 1.2
run "atk sends ARP replies 'web1 $WEB1_IP is at $ATK_MAC' to the router" \
        A reply "$ATK_MAC" "$GW_MAC" "$ATK_MAC" "$WEB1_IP" "$GW_MAC" 10.0.2.1 5
check "the router's neighbour entry for web1 is still $WEB1_MAC" "$WEB1_MAC" neigh "$RTR" "$WEB1_IP" nr0
sleep 1.2
run "... again with web1's MAC as Ethernet source, its own as ARP sender" \
        A reply "$WEB1_MAC" "$GW_MAC" "$ATK_MAC" "$WEB1_IP" "$GW_MAC" 10.0.2.1 5
check "the router's neighbour entry for web1 is still $WEB1_MAC" "$WEB1_MAC" neigh "$RTR" "$WEB1_IP" nr0
run "... and with its own Ethernet source, web1's MAC as ARP sender (FDB steal)" \
        A reply "$ATK_MAC" "$GW_MAC" "$WEB1_MAC" "$WEB1_IP" "$GW_MAC" 10.0.2.1 5
check "the bridge still has web1's MAC on web1's port" "vg-web1" sh -c \
        "ip netns exec $RTR bridge fdb show br nr0 | awk '\$1 == \"$WEB1_MAC\" { print \$3; exit }'"
check "the router still reaches web1 (its service answers)" "10.0.2.1" vnet whoami rtr "$WEB1_IP"

sleep 1.2
run "atk claims g2's leased ${G2_IP:-?} to the router" \
        A reply "$ATK_MAC" "$GW_MAC" "$ATK_MAC" "${G2_IP:-0.0.0.0}" "$GW_MAC" 10.0.2.1 5
run "the router pings g2" R busybox ping -c 1 -W 2 "${G2_IP:-0.0.0.0}"
check "the router's neighbour entry for g2 is still $G2_MAC (lease binding)" "$G2_MAC" \
        neigh "$RTR" "${G2_IP:-0.0.0.0}" nr0

# ---------------------------------------------------------------- IP spoofing
vnet exec vm nft -f - <<EOF
table ip nrtest {
        counter from_web1 { }
        counter from_g2 { }
        chain pre {
                type filter hook prerouting priority raw - 10; policy accept;
                ip saddr $WEB1_IP icmp type echo-request counter name "from_web1"
                ip saddr ${G2_IP:-0.0.0.0} icmp type echo-request counter name "from_g2"
        }
}
EOF
vm_counter() { vnet exec vm nft list counter ip nrtest "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
spoof_ping() { # from atk with SRC as its source: route to the Azure VM via the gateway
        ip netns exec "$G-atk" sh -c "ip addr add $1/32 dev lo && ip route add $VM_IP/32 via 10.0.2.1 src $1" &&
                ip netns exec "$G-atk" busybox ping -c 3 -W 1 -I "$1" "$VM_IP" >/dev/null 2>&1
        ip netns exec "$G-atk" sh -c "ip route del $VM_IP/32; ip addr del $1/32 dev lo" 2>/dev/null
        return 0
}
ib0=$(rule_packets br-ip-bound)
run "atk pings the Azure VM with web1's $WEB1_IP as source" spoof_ping "$WEB1_IP"
check "the Azure VM saw no echo request from $WEB1_IP" 0 vm_counter from_web1
run "atk pings the Azure VM with g2's leased ${G2_IP:-?} as source" spoof_ping "${G2_IP:-0.0.0.0}"
check "the Azure VM saw no echo request from ${G2_IP:-?}" 0 vm_counter from_g2
expect "br-ip-bound counted the spoofed packets" "$(rule_packets br-ip-bound)" -ge "$((${ib0:-0} + 6))"
run "web1 -> Azure VM from its own address still works" vnet ping web1 "$VM_IP"
expect "... and the VM counted it" "$(vm_counter from_web1)" -ge 1
check "atk -> Azure VM from its own address still works" "$ATK_IP" vnet whoami atk "$VM_IP"

# ---------------------------------------------------------------- isolation off: guests talk
run "isolation off: g2 pings web1 directly" vnet ping g2 "$WEB1_IP"

# ---------------------------------------------------------------- drift of the bridge table
w0=$(sj .counters.writes)
sleep 2
check "converged and idle: no writes in 2 s" "$w0" sj .counters.writes
run "nft delete table bridge nestrouter (by hand)" R nft delete table bridge nestrouter
run "the daemon puts the bridge table back (within 2 s)" wait_for 20 R nft list chain bridge nestrouter guest_ingress
run "nft flush chain bridge nestrouter guest_ingress (by hand)" R nft flush chain bridge nestrouter guest_ingress
run "the daemon repairs the flushed chain (within 2 s)" wait_for 20 sh -c \
        "ip netns exec $RTR nft list chain bridge nestrouter guest_ingress | grep -q br-ip-bound"
run "converged after the repairs" wait_for 50 converged

# ---------------------------------------------------------------- DHCP starvation
# atk takes a new random MAC per DHCP exchange; dnsmasq may give out at most $CAP dynamic leases
flood() {
        local i=0 t0 m
        t0=$(date +%s)
        while [ $i -lt 16 ] && [ $(($(date +%s) - t0)) -lt 60 ]; do
                m=$(printf '02:%02x:%02x:%02x:%02x:%02x' $((i + 1)) $(od -An -N4 -tu1 /dev/urandom))
                ip netns exec "$G-atk" sh -c "ip link set eth0 down; ip link set eth0 address $m; ip link set eth0 up"
                ip netns exec "$G-atk" timeout 5 busybox udhcpc -i eth0 -n -q -f -t 2 -T 1 \
                        -s /bin/true >/dev/null 2>&1
                i=$((i + 1))
        done
}
dynamic_leases() { awk -v w="$WEB1_MAC" -v l="$LATE_MAC" '$2 != w && $2 != l' "$STATE/dnsmasq.leases" | wc -l; }
run "atk floods DHCP with 16 random MACs (bounded: 16 tries, 60 s)" flood
n=$(dynamic_leases)
expect "dynamic leases stay at or under max_leases $CAP (got $n)" "$n" -le "$CAP"
expect "... and the pool was really used up (got $n)" "$n" -ge "$((CAP - 1))"
now=$(date +%s)
maxexp=$(awk -v w="$WEB1_MAC" '$2 != w { print $1 }' "$STATE/dnsmasq.leases" | sort -n | tail -n 1)
expect "dynamic leases last dynamic_lease_time 10m, not 12h (expires in $((${maxexp:-0} - now)) s)" \
        "$((${maxexp:-0} - now))" -le 605
check "reserved guest late ($LATE_MAC), booting after the flood, gets $LATE_IP" "$LATE_IP" \
        vnet guest-add late "$LATE_MAC"
check "web1 renews its reservation $WEB1_IP" "$WEB1_IP" renew web1
check_grep "... for 12h, not 10m (its hostsfile line carries the reserved lease time)" \
        "^$(( $(date +%s) + 43200 ))|^$(( $(date +%s) + 43199 ))|^$(( $(date +%s) + 43198 ))" \
        sh -c "grep ' $WEB1_MAC ' $STATE/dnsmasq.leases | cut -d' ' -f1"

# ---------------------------------------------------------------- guests.isolation
sed -i 's/^  bridge: nr0$/  bridge: nr0\n  isolation: true/' "$CFG"
run "reload with guests.isolation: true" ctl reload
run "converged after the reload" wait_for 50 converged
bi0=$(rule_packets br-isolate)
must_fail "isolation on: g2 cannot ping web1" vnet ping g2 "$WEB1_IP"
must_fail "isolation on: web1 cannot reach late's service" vnet whoami web1 "$LATE_IP"
expect "br-isolate counted the dropped frames" "$(rule_packets br-isolate)" -gt "${bi0:-0}"
run "isolation on: web1 -> Azure VM still works" vnet ping web1 "$VM_IP"
check "isolation on: Azure VM -> g2 still works" "$VM_IP" vnet whoami vm "${G2_IP:-0.0.0.0}"
run "isolation on: the router still reaches late" R busybox ping -c 1 -W 2 "$LATE_IP"
check "isolation on: g2 renews its lease (DHCP to the router)" "${G2_IP:-none}" renew g2

run "SIGTERM stops the daemon" daemon_stop
expect "... with exit status 0 (an ASan build: no leak)" "${DL_RC:-x}" = 0
run "the bridge table stays after the daemon (a restart never opens the bridge)" \
        R nft list chain bridge nestrouter guest_forward

elapsed
summary
