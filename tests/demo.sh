#!/bin/sh
# make demo: the simulated Azure VNet (tests/netns/vnet.sh), nestrouterd in the router namespace
# with configs/azure-nested.yaml, two guests that get their addresses by DHCP, and a connectivity
# report: each path, ok or failed, and the source address the far end saw.
# Cleans up on exit; KEEP=1 leaves everything up and says how to get a shell in a guest.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
. tests/netns/vnet.sh

[ "$(id -u)" = 0 ] || { echo "make demo needs root (network namespaces)" >&2; exit 2; }
NR_VNET_ID=${NR_VNET_ID:-demo}
NR_VNET_QUIET=1
export NR_VNET_ID NR_VNET_QUIET
_vn_init || exit 2
run=/tmp/nr-demo-$NR_VNET_ID/run
state=/tmp/nr-demo-$NR_VNET_ID/state
pidfile=/tmp/nr-demo-$NR_VNET_ID/nestrouterd.pid
ctl="$top/build/nestrouterctl --run-dir $run"

stop_all() {
        if [ -f "$pidfile" ]; then
                kill "$(cat "$pidfile")" 2>/dev/null
                for _ in 1 2 3 4 5 6 7 8 9 10; do
                        kill -0 "$(cat "$pidfile")" 2>/dev/null || break
                        sleep 0.2
                done
        fi
        vnet down >/dev/null 2>&1
        rm -rf "/tmp/nr-demo-$NR_VNET_ID"
}

if [ "${KEEP:-}" != 1 ]; then
        trap stop_all EXIT
        trap 'exit 130' INT TERM HUP
fi

if vnet status >/dev/null 2>&1 || [ -d "/tmp/nr-demo-$NR_VNET_ID" ]; then
        echo "a demo VNet '$NR_VNET_ID' is up already: removing it first"
        stop_all
fi

echo "== building the simulated Azure VNet (namespaces nr-$NR_VNET_ID-*)"
vnet up || exit 1
mkdir -p "$run" "$state"

echo "== starting nestrouterd with configs/azure-nested.yaml in the router namespace"
vnet exec rtr "$top/build/nestrouterd" --config "$top/configs/azure-nested.yaml" \
        --run-dir "$run" --state-dir "$state" >"/tmp/nr-demo-$NR_VNET_ID/nestrouterd.log" 2>&1 &
echo $! >"$pidfile"
i=0
until $ctl status >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -le 50 ] || { echo "nestrouterd did not come up:"; cat "/tmp/nr-demo-$NR_VNET_ID/nestrouterd.log"; exit 1; }
        sleep 0.1
done
$ctl status

echo
echo "== two guests on nr0, addresses by DHCP"
web1=$(vnet guest-add web1 52:54:00:00:00:10) || { echo "web1 got no lease"; exit 1; }
echo "web1 (reserved MAC 52:54:00:00:00:10): $web1"
g2=$(vnet guest-add guest2 52:54:00:00:00:22) || { echo "guest2 got no lease"; exit 1; }
echo "guest2 (dynamic): $g2"
$ctl leases

ok=0
bad=0
# report PATH EXPECTED-SOURCE CMD...: runs CMD, which prints the source address the far end saw
report() {
        _path=$1 _want=$2
        shift 2
        _seen=$("$@" 2>/dev/null)
        if [ -n "$_seen" ] && { [ "$_want" = "*" ] || [ "$_seen" = "$_want" ]; }; then
                printf '  %-56s ok      far end saw %s\n' "$_path" "$_seen"
                ok=$((ok + 1))
        else
                printf '  %-56s FAILED  far end saw %s (want %s)\n' "$_path" "${_seen:-nothing}" "$_want"
                bad=$((bad + 1))
        fi
}
# blocked PATH CMD...: the path must NOT work
blocked() {
        _path=$1
        shift
        if "$@" >/dev/null 2>&1; then
                printf '  %-56s FAILED  reachable, must be blocked\n' "$_path"
                bad=$((bad + 1))
        else
                printf '  %-56s ok      blocked\n' "$_path"
                ok=$((ok + 1))
        fi
}

echo
echo "== connectivity report"
report "web1 -> Azure VM 10.0.3.4 (routed, no NAT)" "$web1" vnet whoami web1 10.0.3.4
report "guest2 -> Azure VM 10.0.3.4 (routed, no NAT)" "$g2" vnet whoami guest2 10.0.3.4
report "web1 -> on-prem 172.16.0.10 (via NIC2)" "$web1" vnet whoami web1 172.16.0.10
report "web1 -> internet 203.0.113.10 (NAT on NIC1)" "10.0.0.4" vnet whoami web1 203.0.113.10
report "Azure VM -> web1 (UDR 10.0.2.0/24 -> 10.0.1.4)" "10.0.3.4" vnet whoami vm "$web1"
report "on-prem -> guest2 (UDR on the GatewaySubnet)" "172.16.0.10" vnet whoami onp "$g2"
report "Azure VM -> 10.0.1.4:3390 (port forward to web1:3389)" "10.0.3.4" vnet whoami vm 10.0.1.4 3390
blocked "internet -> 10.0.0.4:3390 (not in the forward's from)" vnet whoami inet 10.0.0.4 3390
blocked "web1 -> IMDS 169.254.169.254 (host's identity)" vnet http web1 169.254.169.254 /nr-vnet
if vnet exec web1 busybox nslookup azure.test 10.0.2.1 2>/dev/null | grep -q 10.0.3.4; then
        printf '  %-56s ok      azure.test -> 10.0.3.4\n' "web1 DNS via 10.0.2.1 -> Azure DNS"
        ok=$((ok + 1))
else
        printf '  %-56s FAILED\n' "web1 DNS via 10.0.2.1 -> Azure DNS"
        bad=$((bad + 1))
fi
printf '  %-56s %s\n' "packets dropped by Azure on NIC1 (must be 0)" "$(vnet nic1-drops)"
[ "$(vnet nic1-drops)" = 0 ] || bad=$((bad + 1))

echo
echo "$ok paths ok, $bad failed"
if [ "${KEEP:-}" = 1 ]; then
        echo
        echo "Left running (KEEP=1). A shell in a guest:"
        echo "  NR_VNET_ID=$NR_VNET_ID tests/netns/vnet.sh exec web1 sh"
        echo "The router: NR_VNET_ID=$NR_VNET_ID tests/netns/vnet.sh exec rtr sh; status: $ctl status"
        echo "Remove it all: kill \$(cat $pidfile); NR_VNET_ID=$NR_VNET_ID tests/netns/vnet.sh down"
fi
[ "$bad" -eq 0 ]
