#!/bin/sh
# Proves the simulated Azure VNet (vnet.sh) with a hand-written minimal router: plain ip and nft
# commands in the router namespace, NOT nestrouterd. Needs root. Prints `ok - ...`/`FAIL - ...`
# and `N passed, N failed`; exits non-zero on any failure. Cleans up on exit and interrupt.
# NR_VNET_ID (default selftest) picks the VNet, so several runs can go side by side.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
. "$here/vnet.sh"

[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
NR_VNET_ID=${NR_VNET_ID:-selftest}
NR_VNET_QUIET=1
export NR_VNET_ID NR_VNET_QUIET
_vn_init || exit 2
ID=$NR_VNET_ID
tmp=$(mktemp -d) || exit 2

cleanup() {
        vnet down >/dev/null 2>&1
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# check NAME WANT CMD...: CMD's output must be exactly WANT
check() {
        _n=$1 _want=$2
        shift 2
        _got=$("$@" 2>&1)
        if [ "$_got" = "$_want" ]; then pass "$_n"; else echo "# want '$_want', got '$_got'"; fail "$_n"; fi
}
# check_grep NAME PATTERN CMD...: CMD's output must match PATTERN (grep -E)
check_grep() {
        _n=$1 _pat=$2
        shift 2
        _got=$("$@" 2>&1)
        if printf '%s\n' "$_got" | grep -Eq -- "$_pat"; then pass "$_n"; else
                echo "# want /$_pat/, got:"; printf '%s\n' "$_got" | sed 's/^/#   /'; fail "$_n"; fi
}
# must_fail NAME CMD...: CMD must fail (a short timeout keeps the negative checks quick)
must_fail() {
        _n=$1
        shift
        if NR_VNET_TIMEOUT=2 "$@" >/dev/null 2>&1; then fail "$_n"; else pass "$_n"; fi
}
R() { vnet exec rtr "$@"; }
show_logs() {
        for f in "$VN_DIR"/logs/*.log; do
                [ -s "$f" ] && { echo "# --- $f"; tail -n 8 "$f" | sed 's/^/#   /'; }
        done
}

t0=$(date +%s)

# ---------------------------------------------------------------- the VNet
run "vnet up ($ID)" vnet up
run "vnet status: everything up" vnet status
run "router namespace is bare (only lo, eth0, eth1; no addresses)" sh -c '
        [ "$(ip -n nr-'"$ID"'-rtr -o link show | wc -l)" = 3 ] &&
        [ -z "$(ip -n nr-'"$ID"'-rtr -4 -o addr show | grep -v " lo ")" ]'
run "up refuses a second time" sh -c '! "$0" up' "$here/vnet.sh"
check "Azure VM reaches the internet host from its own address" 10.0.3.4 vnet whoami vm 203.0.113.10
check "on-prem host reaches the Azure VM as 172.16.0.10" 172.16.0.10 vnet whoami onp 10.0.3.4

# ---------------------------------------------------------------- a hand-written router
router() {
        R ip link add nr0 type bridge &&
                R ip link set nr0 up &&
                R ip addr add 10.0.2.1/24 dev nr0 &&
                R ip addr add 10.0.0.4/24 dev eth0 &&
                R ip addr add 10.0.1.4/24 dev eth1 &&
                R ip route add 10.0.0.0/22 via 10.0.1.1 dev eth1 &&
                R ip route add 172.16.0.0/22 via 10.0.1.1 dev eth1 &&
                R ip route add default via 10.0.0.1 dev eth0 &&
                R sh -c "echo 1 >/proc/sys/net/ipv4/ip_forward" &&
                R nft -f - <<'EOF' || return 1
table ip selftest {
        chain post {
                type nat hook postrouting priority srcnat;
                oifname "eth0" ip saddr 10.0.2.0/24 masquerade
        }
}
EOF
        cat >"$tmp/rtr-dnsmasq.conf" <<EOF
interface=nr0
bind-interfaces
no-resolv
no-hosts
server=168.63.129.16
dhcp-authoritative
dhcp-range=10.0.2.100,10.0.2.200,255.255.255.0,12h
dhcp-host=52:54:00:00:00:10,10.0.2.10
dhcp-leasefile=$tmp/rtr.leases
log-dhcp
log-facility=-
EOF
        vnet spawn rtr dnsmasq dnsmasq --keep-in-foreground --conf-file="$tmp/rtr-dnsmasq.conf" \
                --pid-file= --user=root >/dev/null &&
                _vn_wait 50 _vn_listening "$VN_P-rtr" udp 67
}
masq() { R nft add rule ip selftest post oifname eth0 ip saddr 10.0.2.0/24 masquerade; }
unmasq() { R nft flush chain ip selftest post; }

run "hand-written router in $VN_P-rtr (bridge, routes, masquerade, dnsmasq)" router

check "guest g1 gets its reservation by DHCP" 10.0.2.10 vnet guest-add g1 52:54:00:00:00:10
check_grep "guest g2 gets a pool address by DHCP" '^10\.0\.2\.(1[0-9][0-9]|200)$' \
        vnet guest-add g2 52:54:00:00:00:20
g2=$(vnet guest-ip g2 2>/dev/null)
check_grep "guest-ip g2" "^$g2\$" vnet guest-ip g2
check_grep "guest default route via 10.0.2.1 (applied by udhcpc)" '^default via 10\.0\.2\.1 dev eth0' \
        vnet exec g1 ip route show default
check_grep "guest resolv.conf from DHCP (in its namespace only)" '^nameserver 10\.0\.2\.1$' \
        vnet exec g1 cat /etc/resolv.conf
run "router end of the guest veth is enslaved to nr0" sh -c \
        "ip -n $VN_P-rtr -o link show master nr0 | grep -q ' vg-g1@'"

check "guest -> Azure VM arrives with the guest's own address (no NAT to the VNet)" \
        10.0.2.10 vnet whoami g1 10.0.3.4
check "Azure VM -> guest works (UDR 10.0.2.0/24 via 10.0.1.4)" 10.0.3.4 vnet whoami vm 10.0.2.10
check "on-prem 172.16.0.10 -> guest (UDR on the GatewaySubnet)" 172.16.0.10 vnet whoami onp 10.0.2.10
check "guest -> on-prem 172.16.0.10 keeps the guest's address" 10.0.2.10 vnet whoami g1 172.16.0.10
check "guest -> internet arrives as NIC1's 10.0.0.4 (masquerade)" 10.0.0.4 vnet whoami g1 203.0.113.10
check "guest -> guest on the bridge" 10.0.2.10 vnet whoami g1 "$g2"
run "ping guest -> Azure VM" vnet ping g1 10.0.3.4
run "ping on-prem -> guest" vnet ping onp 10.0.2.10
check_grep "guest DNS through the router (dnsmasq -> 168.63.129.16)" '^Address:? *10\.0\.3\.4$' \
        vnet exec g1 busybox nslookup azure.test
check "IMDS answers NIC1's address (from the router)" "imds $ID" \
        vnet http rtr 169.254.169.254 /nr-vnet
check "wireserver answers NIC1's address (from the router)" "wireserver $ID" \
        vnet http rtr 168.63.129.16 /nr-vnet
check_grep "IMDS network document lists both NICs" '"macAddress":"000D3A000001".*"macAddress":"000D3A000002"' \
        vnet http rtr 169.254.169.254 "/metadata/instance/network?api-version=2021-02-01"
d0=$(_vn_counter azsvc_drop)
must_fail "IMDS is not reachable from the VM subnet" vnet http vm 169.254.169.254 /nr-vnet
run "... and the fabric counted it (azsvc_drop)" test "$(_vn_counter azsvc_drop)" -gt "$d0"
must_fail "internet host cannot reach the guest subnet (ghosted, no UDR there)" vnet ping inet 10.0.2.10
check "nic1-drops stays 0 with a correct router" 0 vnet nic1-drops
run "the fabric has no NAT" sh -c "! ip netns exec $VN_P-fab nft list ruleset | grep -q 'type nat'"

# ---------------------------------------------------------------- negative control
run "negative control: remove the masquerade" unmasq
must_fail "without masquerade guest -> internet fails" vnet whoami g1 203.0.113.10
run "... and nic1-drops rises" test "$(vnet nic1-drops)" -gt 0
drops=$(vnet nic1-drops)
run "restore the masquerade" masq
check "guest -> internet works again" 10.0.0.4 vnet whoami g1 203.0.113.10

# ---------------------------------------------------------------- address: dhcp
nic_dhcp() {
        R ip -4 addr flush dev "$1" && vnet rtr-dhcp "$1"
}
check "address: dhcp on eth0: udhcpc gets 10.0.0.4" 10.0.0.4 nic_dhcp eth0
check_grep "eth0 has 10.0.0.4/24" 'inet 10\.0\.0\.4/24 ' R ip -4 -o addr show dev eth0
check "eth0: default route and classless routes via 10.0.0.1" \
        "168.63.129.16 via 10.0.0.1 169.254.169.254 via 10.0.0.1 default via 10.0.0.1" \
        sh -c "ip -n $VN_P-rtr route show dev eth0 | grep ' via ' | sort | xargs"
check "address: dhcp on eth1: udhcpc gets 10.0.1.4" 10.0.1.4 nic_dhcp eth1
check "eth1: prefix route only (no gateway, no classless routes)" \
        "10.0.1.0/24 proto kernel scope link src 10.0.1.4" \
        sh -c "ip -n $VN_P-rtr route show dev eth1 | xargs"
check "eth1's lease carries no classless routes" "staticroutes=''" \
        grep '^staticroutes=' "$VN_DIR/leases/rtr-eth1"
run "routes via eth1 back (the flush removed them)" sh -c \
        "ip -n $VN_P-rtr route add 10.0.0.0/22 via 10.0.1.1 dev eth1 &&
         ip -n $VN_P-rtr route add 172.16.0.0/22 via 10.0.1.1 dev eth1"
check "DHCP-configured router: guest -> internet as 10.0.0.4" 10.0.0.4 vnet whoami g1 203.0.113.10
check "DHCP-configured router: guest -> Azure VM unNATed" 10.0.2.10 vnet whoami g1 10.0.3.4
check "DHCP-configured router: IMDS via the classless route" "imds $ID" \
        vnet http rtr 169.254.169.254 /nr-vnet
check "nic1-drops unchanged since the negative control" "$drops" vnet nic1-drops

# ---------------------------------------------------------------- teardown
run "guest-del g2" vnet guest-del g2
run "g2's namespace and processes are gone" sh -c \
        "! ip netns list | grep -q '^$VN_P-g-g2 ' && ! ls '$VN_DIR'/pids/g-g2-* 2>/dev/null | grep -q ."
pids=$(cat "$VN_DIR"/pids/*.pid 2>/dev/null | awk '{print $1 ":" $2}' | xargs)
run "down" vnet down
run "down again (idempotent)" vnet down
alive=""
for ps in $pids; do _vn_alive "${ps%%:*}" "${ps#*:}" && alive="$alive ${ps%%:*}"; done
run "every process vnet.sh started is gone" test -z "$alive"
run "no $VN_P-* namespace left" sh -c "! ip netns list | grep -q '^$VN_P-'"
run "state dir and /etc/netns entries removed" sh -c \
        "! [ -e '$VN_DIR' ] && ! ls -d /etc/netns/$VN_P-* 2>/dev/null | grep -q ."
run "half up: a stray namespace blocks up" sh -c \
        "ip netns add $VN_P-fab && ! '$here/vnet.sh' up 2>/dev/null"
run "half up: down cleans it" sh -c "'$here/vnet.sh' down && ! ip netns list | grep -q '^$VN_P-'"

[ "$FAILED" -eq 0 ] || show_logs
echo "# $(($(date +%s) - t0)) s"
summary
