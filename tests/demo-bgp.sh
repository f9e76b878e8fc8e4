#!/bin/sh
# make demo ROUTE_SERVER=1: two nestrouter hosts behind a simulated Azure Route Server
# (tests/netns/bgp-fabric.sh: two BIRD instances, ASN 65515, which program what they learn into
# the fabric's routing, as Azure programs every NIC), with no route table anywhere. Each host
# advertises its guest subnet over BGP; the report shows the fabric's routes, each path (an
# Azure VM, on-premises, guest to guest across hosts) and a drain of host 1 withdrawing its
# subnet. Cleans up on exit; KEEP=1 leaves everything up.
set -u
cd "$(dirname "$0")/.." || exit 2
top=$(pwd)
[ "$(id -u)" = 0 ] || { echo "make demo needs root (network namespaces)" >&2; exit 2; }
BF_P=nr-dbgp   # veth names are BF_P plus up to 5 characters: at most 15
BF_DIR=/tmp/nr-dbgp
. tests/lib.sh
. tests/netns/bgp-fabric.sh
W=$BF_DIR/hosts
NRD=$top/build/nestrouterd
NRCTL=$top/build/nestrouterctl

stop_all() {
        for n in 1 2; do
                [ -s "$W/h$n/pid" ] && kill "$(cat "$W/h$n/pid")" 2>/dev/null
        done
        sleep 0.3
        bf_down "$W/h1/state" "$W/h2/state"
}
if [ "${KEEP:-}" != 1 ]; then
        trap stop_all EXIT
        trap 'exit 130' INT TERM HUP
fi
if ip netns list | grep -q "^$BF_P-"; then
        echo "a Route Server demo is up already: removing it first"
        stop_all
fi

ctl() { n=$1; shift; timeout 10 "$NRCTL" --run-dir "$W/h$n/run" "$@"; }
sj() { ctl "$1" status --json | jq -r "$2"; }
host_conf() { # N SUBNET
        mkdir -p "$W/h$1/run" "$W/h$1/state"
        cat >"$W/h$1/nestrouter.yaml" <<EOC
version: 1
uplinks:
  lan:
    match: {name: eth1}
    address: 10.0.1.$((3 + $1))/24
    routes: [10.0.0.0/16, 172.16.0.0/22, 10.100.0.0/16]
guests:
  bridge: nr0
  subnet: $2
  ports: [g$1]
azure:
  address_space: [10.0.0.0/16]
  route_server_subnet: 10.0.4.0/26
bgp:
  asn: 65010
  peers: [10.0.4.4, 10.0.4.5]
EOC
}

echo "== the simulated VNet: fabric, Azure VM 10.0.3.4, on-premises 172.16.0.10, two hosts"
if ! { bf_up && bf_host 1 && bf_host 2 &&
        bf_guest 1 g1 10.100.0.10/24 10.100.0.1 && bf_guest 2 g2 10.100.1.10/24 10.100.1.1 &&
        bf_rs_up 10.0.1.4 10.0.1.5; }; then
        echo "setting up the simulated VNet failed"
        exit 1
fi
echo "== Route Server: rs1 10.0.4.4 and rs2 10.0.4.5 (BIRD, ASN 65515), no route table"
host_conf 1 10.100.0.0/24
host_conf 2 10.100.1.0/24
for n in 1 2; do
        ip netns exec "$(bf_ns "rtr$n")" "$NRD" --config "$W/h$n/nestrouter.yaml" \
                --run-dir "$W/h$n/run" --state-dir "$W/h$n/state" </dev/null >"$W/h$n/log" 2>&1 &
        echo $! >"$W/h$n/pid"
done
for n in 1 2; do
        wait_for 300 sh -c "[ \"\$(timeout 10 '$NRCTL' --run-dir '$W/h$n/run' status --json | jq -r .converged)\" = true ]" ||
                { echo "host $n did not converge:"; tail -n 20 "$W/h$n/log"; exit 1; }
done
up() { [ "$(sj "$1" '[.bgp.sessions[] | select(.established)] | length')" = 2 ]; }
wait_for 300 up 1 && wait_for 300 up 2 || echo "(the BGP sessions are not all up yet)"
has() { bf_routes 1 | grep -q "^$1 .*via $2"; }
wait_for 100 has 10.100.0.0/24 10.0.1.4
wait_for 100 has 10.100.1.0/24 10.0.1.5
for n in 1 2; do
        echo "host $n (NIC2 10.0.1.$((3 + n)), guests 10.100.$((n - 1)).0/24):" \
                "sessions $(sj "$n" '[.bgp.sessions[] | select(.established)] | length') of 2 Established," \
                "advertising: $(sj "$n" .bgp.advertising)"
done
echo
echo "== what Route Server programmed into the fabric (rs1's table)"
bf_routes 1 | sed 's/^/  /'

ok=0
bad=0
path() { # DESCRIPTION NS ADDR
        if ip netns exec "$(bf_ns "$2")" busybox ping -c 1 -W 1 "$3" >/dev/null 2>&1; then
                printf '  %-58s ok\n' "$1"
                ok=$((ok + 1))
        else
                printf '  %-58s FAILED\n' "$1"
                bad=$((bad + 1))
        fi
}
echo
echo "== connectivity report (no route table: every path through BGP-learned routes)"
path "Azure VM 10.0.3.4 -> guest of host 1 (10.100.0.10)" vm 10.100.0.10
path "Azure VM 10.0.3.4 -> guest of host 2 (10.100.1.10)" vm 10.100.1.10
path "on-premises 172.16.0.10 -> guest of host 1 (branch-to-branch)" onp 10.100.0.10
path "guest of host 1 -> guest of host 2, across hosts" g-g1 10.100.1.10
path "guest of host 2 -> Azure VM, with its own address" g-g2 10.0.3.4

echo
echo "== nestrouterctl drain on host 1: its subnet is withdrawn"
ctl 1 drain
gone() { ! bf_routes 1 | grep -q "^10.100.0.0/24 "; }
if wait_for 20 gone; then
        printf '  %-58s ok\n' "10.100.0.0/24 gone from the fabric within 2 s"
        ok=$((ok + 1))
else
        printf '  %-58s FAILED\n' "10.100.0.0/24 gone from the fabric within 2 s"
        bad=$((bad + 1))
fi
ctl 1 undrain
if wait_for 20 has 10.100.0.0/24 10.0.1.4; then
        printf '  %-58s ok\n' "undrain: 10.100.0.0/24 back via 10.0.1.4"
        ok=$((ok + 1))
else
        printf '  %-58s FAILED\n' "undrain: 10.100.0.0/24 back via 10.0.1.4"
        bad=$((bad + 1))
fi
echo
echo "$ok checks ok, $bad failed"
if [ "${KEEP:-}" = 1 ]; then
        echo "Left running (KEEP=1). Status of host 1: $NRCTL --run-dir $W/h1/run status"
        echo "The fabric: ip netns exec $BF_P-fab sh; Route Server: birdc -s $BF_DIR/rs1.ctl"
fi
[ "$bad" -eq 0 ]
