#!/bin/sh
# test-bgp.sh: scale-out with Azure Route Server. Three hosts (router namespaces, each running
# the real nestrouterd with BIRD) peer with a simulated Route Server (two BIRD instances, ASN
# 65515, bgp-fabric.sh) that programs what it learns into the fabric's routing table; there is
# no route table (UDR) anywhere. Hosts 1 and 2 serve 10.100.0.0/24 and 10.100.1.0/24; host 3 is
# host 1's standby (the same subnet, AS path prepended twice).
# Checks: sessions and routes, traffic from an Azure VM and from on-premises (branch-to-branch)
# to the guests of both hosts and between them; drain/undrain within 1 s; a health failure
# withdraws (a BGP withdraw, not a hold timer) and the repair re-advertises; SIGTERM and a new
# daemon keep the sessions and routes; a reload changing timers and adding a prefix resets no
# session; the standby takes over when the active host is drained; a host over Route Server's
# route cap is dropped. The shutdown paths drain before the guests stop: an Azure Scheduled
# Event (a fake IMDS, imds-responder.c) and nestrouter-guests.service's ExecStop= lines, run in
# order (no systemd here): host 1's route leaves the fabric before the guests' shutdown begins.
# Needs root, iproute2, nftables, dnsmasq, bird2. Every wait is bounded; cleanup by trap.
# shellcheck disable=SC3043
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/tests/lib.sh"
BF_P=nr-bgp
# a small per-peer route cap, so that a host can exceed it (Azure's is 1,000 or 4,000)
BF_ROUTE_CAP=4
. "$HERE/bgp-fabric.sh"

NRD=${NRD:-$ROOT/build/nestrouterd}
NRCTL=${NRCTL:-$ROOT/build/nestrouterctl}
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
for t in ip nft jq dnsmasq bird birdc timeout busybox gcc; do
        command -v "$t" >/dev/null 2>&1 || { echo "$0: missing tool $t" >&2; exit 2; }
done
[ -x "$NRD" ] && [ -x "$NRCTL" ] || { echo "$0: build first (make all)" >&2; exit 2; }

W=$(mktemp -d /tmp/nr-bgptest.XXXXXX) || exit 2
chmod 755 "$W"
BF_DIR=$W/fabric
mkdir -p "$W/bin" && cp "$NRD" "$NRCTL" "$W/bin/" || exit 2
cp "$(dirname "$NRD")/nestrouter-virt" "$W/bin/" 2>/dev/null
NRD=$W/bin/nestrouterd
NRCTL=$W/bin/nestrouterctl
PIDS=""
# the fake IMDS that announces a Scheduled Event (built as test-azure-events-guests.sh does)
RESPONDER=$ROOT/build/imds-responder
if ! [ "$RESPONDER" -nt "$HERE/imds-responder.c" ]; then
        gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$RESPONDER.tmp.$$" "$HERE/imds-responder.c" &&
                mv "$RESPONDER.tmp.$$" "$RESPONDER" ||
                { rm -f "$RESPONDER.tmp.$$"; echo "$0: cannot build $RESPONDER" >&2; exit 2; }
fi
cp "$RESPONDER" "$W/bin/imds-responder" || exit 2
EVDOC=$W/imds/metadata/scheduledevents
ACKS=$W/acks
mkdir -p "$W/imds/metadata" && : >"$ACKS" &&
        echo '{"DocumentIncarnation":1,"Events":[]}' >"$EVDOC" || exit 2

cleanup() {
        local rc=$? p
        trap - EXIT
        for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
        for p in $PIDS; do
                n=30
                while [ $n -gt 0 ] && kill -0 "$p" 2>/dev/null; do n=$((n - 1)); sleep 0.1; done
                kill -KILL "$p" 2>/dev/null
        done
        if [ "$FAILED" -gt 0 ]; then
                for h in 1 2 3; do
                        [ -s "$W/h$h/daemon.log" ] || continue
                        echo "# --- host $h daemon log (last 25 lines)"
                        tail -n 25 "$W/h$h/daemon.log" | sed 's/^/#   /'
                done
        fi
        bf_down "$W/h1/state" "$W/h2/state" "$W/h3/state"
        if [ -n "${KEEP:-}" ]; then echo "# kept $W"; else rm -rf "$W"; fi
        exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

expect() {
        local n=$1
        shift
        if test "$@"; then pass "$n"; else echo "# not true: $*"; fail "$n"; fi
}

# ---------------------------------------------------------------- hosts
# host_conf N SUBNET PREPEND [EXTRA-ADVERTISE] [HOLD]
host_conf() {
        local n=$1 subnet=$2 prepend=$3 extra=${4:-} hold=${5:-180s} adv
        adv="[$subnet${extra:+, $extra}]"
        mkdir -p "$W/h$n/run" "$W/h$n/state"
        cat >"$W/h$n/nestrouter.yaml" <<EOF
version: 1
uplinks:
  lan:
    match: {name: eth1}
    address: 10.0.1.$((3 + n))/24
    # the VNet (RouteServerSubnet included), on-premises, the other hosts' guests
    routes: [10.0.0.0/16, 172.16.0.0/22, 10.100.0.0/16]
guests:
  bridge: nr0
  subnet: $subnet
  ports: [g$n]
azure:
  address_space: [10.0.0.0/16]
  route_server_subnet: 10.0.4.0/26
  vm_name: host$n
bgp:
  asn: 65010
  peers: [10.0.4.4, 10.0.4.5]
  hold_time: $hold
  advertise: $adv
  prepend: $prepend
EOF
}
H() { local n=$1; shift; ip netns exec "$(bf_ns "rtr$n")" "$@"; }
ctl() { local n=$1; shift; timeout 10 "$NRCTL" --run-dir "$W/h$n/run" "$@"; }
sj() { ctl "$1" status --json | jq -r "$2"; }
start_daemon() {
        local n=$1
        # ip netns exec execs the daemon: $! is nestrouterd itself
        ip netns exec "$(bf_ns "rtr$n")" env NR_IMDS_EVENTS_SEC=1 "$NRD" --config "$W/h$n/nestrouter.yaml" --run-dir "$W/h$n/run" \
                --state-dir "$W/h$n/state" </dev/null >>"$W/h$n/daemon.log" 2>&1 &
        eval "DPID$n=\$!"
        PIDS="$PIDS $!"
}
stop_daemon() {
        local n=$1 pid k=50
        eval "pid=\$DPID$n"
        kill -TERM "$pid" 2>/dev/null
        while [ $k -gt 0 ] && kill -0 "$pid" 2>/dev/null; do k=$((k - 1)); sleep 0.1; done
        ! kill -0 "$pid" 2>/dev/null
}
converged() { [ "$(sj "$1" .converged)" = true ]; }

# fabric checks: instance I (1 or 2) has PREFIX via NEXTHOP, or has no PREFIX
has_route() { bf_routes "$1" | grep -q "^$2 .*via $3"; }
no_route() { ! bf_routes "$1" | grep -q "^$2 "; }
both_have() { has_route 1 "$1" "$2" && has_route 2 "$1" "$2"; }
both_lack() { no_route 1 "$1" && no_route 2 "$1"; }
# the simulated Route Server's view of host N's session: its Since column (changes on reset)
rs_since() { RS 1 show protocols "host_10_0_1_$((3 + $1))" | awk 'NR == 3 {print $5, $6}'; }
rs_up() { RS "$2" show protocols "host_10_0_1_$((3 + $1))" | awk 'NR == 3 {print $4}' | grep -qx up; }
PING() { ip netns exec "$(bf_ns "$1")" busybox ping -c 1 -W 1 "$2"; }

# ---------------------------------------------------------------- up
T0=$(now_ms)
if bf_up >"$W/up.log" 2>&1 && bf_host 1 && bf_host 2 && bf_host 3 &&
        bf_guest 1 g1 10.100.0.10/24 10.100.0.1 && bf_guest 2 g2 10.100.1.10/24 10.100.1.1 &&
        bf_guest 3 g3 10.100.0.10/24 10.100.0.1 && bf_rs_up 10.0.1.4 10.0.1.5 10.0.1.6; then
        pass "simulated VNet with Route Server (rs1 10.0.4.4, rs2 10.0.4.5, ASN 65515), 3 hosts"
else
        sed 's/^/# /' "$W/up.log"
        fail "simulated VNet with Route Server"
        summary
        exit 1
fi
# IMDS (169.254.169.254) in the fabric; only host 1 has a route to it
FAB ip addr add 169.254.169.254/32 dev lo
FAB "$W/bin/imds-responder" 169.254.169.254 "$W/imds" "$ACKS" >"$W/imds.log" 2>&1 &
H 1 ip route add 169.254.169.254/32 via 10.0.1.1 dev eth1
host_conf 1 10.100.0.0/24 0
host_conf 2 10.100.1.0/24 0
host_conf 3 10.100.0.0/24 2
for n in 1 2 3; do start_daemon "$n"; done
ok=1
for n in 1 2 3; do wait_for 150 converged "$n" || ok=0; done
[ $ok = 1 ] && pass "three nestrouterd converge" || fail "three nestrouterd converge"

# ---------------------------------------------------------------- sessions and routes
sessions_up() { for h in 1 2 3; do rs_up "$h" 1 && rs_up "$h" 2 || return 1; done; }
if t=$(poll_ms 30000 sessions_up); then
        pass "every host peers with both Route Server instances ($t ms)"
else
        RS 1 show protocols | sed 's/^/# /'
        fail "every host peers with both Route Server instances"
fi
expect "status shows both sessions Established (host 1)" \
        "$(sj 1 '[.bgp.sessions[] | select(.established)] | length')" = 2
expect "status: host 1 advertises" "$(sj 1 .bgp.advertising)" = true
doctor_rows() { H 1 timeout 20 "$NRCTL" --run-dir "$W/h1/run" --config "$W/h1/nestrouter.yaml" \
        doctor --timeout 200 2>&1 | grep '^BGP'; }
rows=$(doctor_rows)
if printf '%s\n' "$rows" | grep -q '^BGP sessions  *ok  *2 of 2 sessions Established' &&
        printf '%s\n' "$rows" | grep -q '^BGP advertisement  *ok'; then
        pass "doctor: BIRD running, 2 of 2 sessions Established, advertised"
else
        printf '%s\n' "$rows" | sed 's/^/# /'
        fail "doctor: BGP rows"
fi
wait_for 50 both_have 10.100.0.0/24 10.0.1.4 &&
        pass "fabric: 10.100.0.0/24 via host 1 (10.0.1.4) in both instances' tables" ||
        { bf_routes 1 | sed 's/^/# /'; fail "fabric: 10.100.0.0/24 via host 1"; }
wait_for 50 both_have 10.100.1.0/24 10.0.1.5 &&
        pass "fabric: 10.100.1.0/24 via host 2 (10.0.1.5)" ||
        fail "fabric: 10.100.1.0/24 via host 2"
expect "the standby (prepend 2) is not the fabric's next hop" \
        "$(bf_routes 1 | grep -c 'via 10.0.1.6')" = 0
expect "no learned route in any host's kernel (install_routes: false)" \
        "$(H 1 ip -4 route show proto bird | wc -l)" = 0

# ---------------------------------------------------------------- traffic
PING vm 10.100.0.10 >/dev/null && pass "Azure VM -> guest of host 1 (10.100.0.10), no route table" ||
        fail "Azure VM -> guest of host 1"
PING vm 10.100.1.10 >/dev/null && pass "Azure VM -> guest of host 2 (10.100.1.10)" ||
        fail "Azure VM -> guest of host 2"
PING onp 10.100.1.10 >/dev/null && pass "on-premises -> guest of host 2 (branch-to-branch)" ||
        fail "on-premises -> guest of host 2"
PING g-g1 10.100.1.10 >/dev/null && pass "guest of host 1 -> guest of host 2 across hosts" ||
        fail "guest of host 1 -> guest of host 2"
PING g-g2 10.0.3.4 >/dev/null && pass "guest of host 2 -> Azure VM, with its own address" ||
        fail "guest of host 2 -> Azure VM"

# ---------------------------------------------------------------- drain / undrain
# drain answers once BIRD has sent the withdraw: the time counts from before the command
t0=$(now_ms)
ctl 1 drain >"$W/drain.out"
expect "drain answers when the withdraw has gone out ($(cat "$W/drain.out"))" \
        "$(grep -c '^drained: withdrawn from every session' "$W/drain.out")" = 1
poll_ms 1000 has_route 1 10.100.0.0/24 10.0.1.6 >/dev/null
t=$(($(now_ms) - t0))
has_route 1 10.100.0.0/24 10.0.1.6 && [ "$t" -lt 1000 ] &&
        pass "drain host 1: the fabric moves 10.100.0.0/24 to the standby in $t ms (< 1 s)" ||
        { bf_routes 1 | sed 's/^/# /'; fail "drain host 1: withdrawn within 1 s ($t ms)"; }
expect "status: drained, not advertising" "$(sj 1 '.bgp.drained,.bgp.advertising' | tr '\n' ' ')" = "true false "
expect "doctor: drained is a warning" "$(doctor_rows | grep -c '^BGP advertisement  *WARN  *drained')" = 1
rx() { H 3 cat /sys/class/net/eth1/statistics/rx_packets; }
r0=$(rx)
PING vm 10.100.0.10 >/dev/null && ping_ok=1 || ping_ok=0
expect "traffic to 10.100.0.0/24 now reaches the standby (host 3)" "$ping_ok$( [ "$(rx)" -gt "$r0" ] && echo 1)" = 11
ctl 1 undrain >/dev/null
t=$(poll_ms 1000 both_have 10.100.0.0/24 10.0.1.4) &&
        pass "undrain host 1: re-advertised in $t ms" ||
        fail "undrain host 1: re-advertised within 1 s ($t ms)"
# the drained host with its sessions up: nothing advertised, nothing reset
expect "drain/undrain reset no session" "$(sj 1 '[.bgp.sessions[] | select(.established)] | length')" = 2
# drain --until-reboot (host shutdown, Scheduled Events): the same withdraw, remembered in the
# run dir (a tmpfs: the next boot starts without it), not the state dir; undrain clears it
# (it answers after the withdraw and a second for Route Server: the route is gone by then)
t0=$(now_ms)
ctl 1 drain --until-reboot >/dev/null
t=$(($(now_ms) - t0))
has_route 1 10.100.0.0/24 10.0.1.6 && ! has_route 1 10.100.0.0/24 10.0.1.4 && [ "$t" -lt 3000 ] &&
        pass "drain --until-reboot host 1: withdrawn when it answers ($t ms)" ||
        fail "drain --until-reboot host 1: withdrawn when it answers ($t ms)"
expect "status: drained until reboot" "$(sj 1 '.bgp.drained,.bgp.drained_until_reboot' | tr '\n' ' ')" = "true true "
expect "... remembered in the run dir, not the state dir" \
        "$([ -e "$W/h1/run/bgp-drained" ] && echo run)$([ -e "$W/h1/state/bgp-drained" ] && echo state)" = run
ctl 1 undrain >/dev/null
t=$(poll_ms 1000 both_have 10.100.0.0/24 10.0.1.4) &&
        pass "undrain after --until-reboot: re-advertised in $t ms" ||
        fail "undrain after --until-reboot: re-advertised within 1 s ($t ms)"
expect "... and the flag is gone" "$(ls "$W/h1/run/bgp-drained" 2>/dev/null)" = ""

# ---------------------------------------------------------------- shutdown paths
# Both drain until the next boot before the guests stop: the route must have left the fabric
# (both instances: host 1 is no next hop, the standby is) before the guests' shutdown begins.
gone1() { ! has_route 1 10.100.0.0/24 10.0.1.4 && ! has_route 2 10.100.0.0/24 10.0.1.4 &&
        has_route 1 10.100.0.0/24 10.0.1.6; }
# lineno N TEXT: the number of the first line after line N of host 1's log that has TEXT
lineno() { awk -v n="$1" -v t="$2" 'NR > n && index($0, t) {print NR; exit}' "$W/h1/daemon.log"; }
# An Azure Scheduled Event (Reboot) for host 1. The fabric is looked at first, then the log: one
# look that finds the route gone while the daemon has not yet logged the guests' shutdown
# proves the order (the withdraw reached Route Server at or before the first look).
nb=$(LC_ALL=C date -u -d "+600 sec" '+%a, %d %b %Y %H:%M:%S GMT')
printf '{"DocumentIncarnation":2,"Events":[{"EventId":"RB-BGP","EventStatus":"Scheduled","EventType":"Reboot","ResourceType":"VirtualMachine","Resources":["host1"],"NotBefore":"%s","Description":"test","EventSource":"Platform","DurationInSeconds":-1}]}\n' \
        "$nb" >"$EVDOC.tmp" && mv "$EVDOC.tmp" "$EVDOC"
t0=$(now_ms)
guests_step() { grep -q 'scheduled Reboot (event RB-BGP): shutting the guests down' "$W/h1/daemon.log"; }
order="" i=0
while [ $i -lt 400 ]; do
        g=0
        gone1 && g=1
        guests_step && break
        [ $g = 1 ] && order=${order:-$(($(now_ms) - t0))}
        i=$((i + 1))
        sleep 0.02
done
expect "Scheduled Event (Reboot): host 1's route left the fabric (standby) before the guests' shutdown began (gone at $order ms, guests at $(($(now_ms) - t0)) ms)" \
        -n "$order"
l1=$(lineno 0 'RB-BGP): draining BGP before the guests stop')
l2=$(lineno "${l1:-0}" 'drained: the withdraw went out to every session')
l3=$(lineno 0 'RB-BGP): shutting the guests down')
expect "... daemon log: drain, withdraw sent, then the guests' shutdown (lines $l1 < $l2 < $l3)" \
        "${l1:-0}" -gt 0 -a "${l2:-0}" -gt "${l1:-0}" -a "${l3:-0}" -gt "${l2:-0}"
acked() { grep -q '"EventId":"RB-BGP"' "$ACKS"; }
wait_for 50 acked && pass "... and acknowledged after it" || fail "... the event acknowledged"
expect "... drained until the next boot (status --json)" \
        "$(sj 1 '.bgp.drained,.bgp.drained_until_reboot' | tr '\n' ' ')" = "true true "
echo '{"DocumentIncarnation":3,"Events":[]}' >"$EVDOC.tmp" && mv "$EVDOC.tmp" "$EVDOC"
ctl 1 undrain >/dev/null
wait_for 50 both_have 10.100.0.0/24 10.0.1.4 || fail "undrain after the Scheduled Event"
# The host shutdown: nestrouter-guests.service's ExecStop= lines in their order, as systemd
# runs them ("-" only ignores a failure), with this build's nestrouterctl, host 1's run dir and a
# configuration whose libvirt is libvirt's in-process test driver (no guest of ours there).
UNIT=$ROOT/image/deb/debian/nestrouter.nestrouter-guests.service
sed -n 's/^ExecStop=//p' "$UNIT" >"$W/execstop"
{ cat "$W/h1/nestrouter.yaml"; printf 'libvirt:\n  uri: "test:///default"\n'; } >"$W/h1/unit.yaml"
expect "nestrouter-guests.service: drain --until-reboot, then guests shutdown" \
        "$(sed 's/^[-@+!:]*//' "$W/execstop" | tr '\n' '|')" = \
        "/usr/bin/nestrouterctl drain --until-reboot|/usr/bin/nestrouterctl guests shutdown|"
sed 's/^[-@+!:]*//; s|^/usr/bin/nestrouterctl ||' "$W/execstop" >"$W/execstop.cmds"
# the fabric is looked at the moment each command returns: what the next one starts with
gone_before="" ran=0 prev=""
while IFS= read -r cmd; do
        case $cmd in "guests shutdown"*) gone_before=$prev ;; esac
        # shellcheck disable=SC2086
        timeout 20 "$NRCTL" --run-dir "$W/h1/run" --config "$W/h1/unit.yaml" $cmd \
                </dev/null >>"$W/execstop.out" 2>&1
        rc=$?
        prev=present
        gone1 && prev=yes
        echo "rc $rc" >>"$W/execstop.out"
        ran=$((ran + 1))
done <"$W/execstop.cmds"
expect "host shutdown (ExecStop= in order): the route had left the fabric when guests shutdown ran" \
        "$gone_before" = yes
expect "... both ran: drain answered once withdrawn, guests shutdown found no guest of ours ($(tr '\n' ' ' <"$W/execstop.out"))" \
        "$ran$(grep -c '^drained: withdrawn' "$W/execstop.out")$(grep -c '^no nestrouter guest is running' "$W/execstop.out")" = 211
expect "... drained until the next boot" "$(sj 1 .bgp.drained_until_reboot)" = true
ctl 1 undrain >/dev/null
wait_for 50 both_have 10.100.0.0/24 10.0.1.4 && pass "... undrain: host 1 advertised again" ||
        fail "... undrain after the host-shutdown path"

# ---------------------------------------------------------------- health
withdraws() { RS 1 show protocols all "host_10_0_1_$((3 + $1))" | awk '/Import withdraws:/ {print $3}'; }
w0=$(withdraws 2)
H 2 ip link del nr0
if t=$(poll_ms 1000 test "$(withdraws 2)" -gt "$w0"); then
        pass "health: host 2's bridge deleted -> BGP withdraw received in $t ms"
else
        fail "health: host 2's bridge deleted -> withdraw within 1 s"
fi
wait_for 50 both_have 10.100.1.0/24 10.0.1.5 && wait_for 50 converged 2 &&
        pass "health: bridge repaired -> 10.100.1.0/24 re-advertised" ||
        fail "health: repaired -> re-advertised"
# the table comes back in the same few milliseconds: the daemon withdraws, but BIRD may send
# the withdraw and the new announcement as one update (nothing reaches the fabric then)
H 2 nft delete table inet nestrouter
logged() { grep -q 'withdrawn (table inet nestrouter is missing)' "$W/h2/daemon.log"; }
t=$(poll_ms 1000 logged) &&
        pass "health: host 2's nft table deleted -> withdrawn by the daemon in $t ms" ||
        fail "health: nft table deleted -> withdrawn within 1 s"
wait_for 50 both_have 10.100.1.0/24 10.0.1.5 && pass "health: table repaired -> re-advertised" ||
        fail "health: table repaired -> re-advertised"
# dnsmasq stopped and not yet restarted: killed three times in a row, the daemon's backoff keeps
# it down for 500 ms after the third
dm_pid() { sj 2 .dnsmasq.pid; }
new_dm() { p=$(dm_pid); [ "$p" -gt 0 ] && [ "$p" != "$1" ]; }
for k in 1 2 3; do
        dm=$(dm_pid)
        kill -KILL "$dm" 2>/dev/null
        [ $k = 3 ] || wait_for 30 new_dm "$dm"
done
t=$(poll_ms 1000 both_lack 10.100.1.0/24) &&
        pass "health: host 2's dnsmasq down (backing off) -> gone from the fabric in $t ms" ||
        fail "health: dnsmasq down -> gone from the fabric within 1 s ($t ms)"
t=$(poll_ms 5000 both_have 10.100.1.0/24 10.0.1.5) &&
        pass "health: dnsmasq restarted -> re-advertised ($t ms)" ||
        fail "health: dnsmasq restarted -> re-advertised"

# ---------------------------------------------------------------- timings (BGP_BENCH=N)
# make bench's bgp section: N rounds of a health failure (host 2's guest bridge deleted) -> the
# withdraw reaching Route Server -> the route back in the fabric after the repair, and of drain
# -> gone from the fabric -> undrain -> back; medians on "# bench:" lines. The route-table
# mode has no equivalent: a dead host keeps its route.
median() { sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print -1}'; }
if [ "${BGP_BENCH:-0}" -gt 0 ]; then
        : >"$W/t-gone"; : >"$W/t-back"; : >"$W/t-dgone"; : >"$W/t-dback"
        i=0
        while [ $i -lt "$BGP_BENCH" ]; do
                i=$((i + 1))
                w0=$(withdraws 2)
                H 2 ip link del nr0
                poll_ms 2000 test "$(withdraws 2)" -gt "$w0" >>"$W/t-gone"
                poll_ms 5000 both_have 10.100.1.0/24 10.0.1.5 >>"$W/t-back"
                wait_for 50 converged 2
                t0=$(now_ms)
                ctl 2 drain >/dev/null
                poll_ms 2000 both_lack 10.100.1.0/24 >/dev/null
                echo $(($(now_ms) - t0)) >>"$W/t-dgone"
                ctl 2 undrain >/dev/null
                poll_ms 2000 both_have 10.100.1.0/24 10.0.1.5 >>"$W/t-dback"
        done
        echo "# bench: health failure (bridge deleted) -> withdraw at Route Server: median $(median <"$W/t-gone") ms ($BGP_BENCH runs)"
        echo "# bench: repaired -> route back in the fabric: median $(median <"$W/t-back") ms"
        echo "# bench: drain -> gone from the fabric: median $(median <"$W/t-dgone") ms; undrain -> back: median $(median <"$W/t-dback") ms"
        echo "# bench: route-table mode: a dead host keeps its route (no withdraw at all)"
fi

# ---------------------------------------------------------------- restart keeps sessions
s0=$(rs_since 1)
stop_daemon 1 && pass "host 1: nestrouterd stops on SIGTERM" || fail "host 1: SIGTERM"
expect "host 1: BIRD keeps running without the daemon (routes stay)" \
        "$(both_have 10.100.0.0/24 10.0.1.4 && echo yes)" = yes
start_daemon 1
wait_for 150 converged 1 && pass "host 1: a new nestrouterd converges" || fail "host 1: restart converges"
expect "host 1: restart kept the sessions (Route Server's since: $s0)" "$(rs_since 1)" = "$s0"
expect "host 1: restart kept the route" "$(both_have 10.100.0.0/24 10.0.1.4 && echo yes)" = yes
expect "host 1: the restarted daemon started no BIRD" "$(sj 1 .bgp.starts)" = 0

# ---------------------------------------------------------------- reload by difference
s0=$(rs_since 1)
host_conf 1 10.100.0.0/24 0 10.100.9.0/24 90s
ctl 1 reload >/dev/null && pass "host 1: reload (hold 90s, one more prefix) accepted" ||
        fail "host 1: reload accepted"
wait_for 30 both_have 10.100.9.0/24 10.0.1.4 &&
        pass "host 1: the added prefix 10.100.9.0/24 reaches the fabric" ||
        fail "host 1: added prefix advertised"
sleep 1
expect "host 1: the reload reset no session (since $s0)" "$(rs_since 1)" = "$s0"
expect "status: the new hold time waits for the sessions to restart" \
        "$(sj 1 .bgp.sessions_settings_deferred)" = true

# ---------------------------------------------------------------- the route cap
# Route Server drops a peer that sends more routes than its cap (4 here): host 2 advertising
# five prefixes loses both sessions and every route of it; under the cap again, and the
# sessions enabled again (Azure: the peering comes back by itself), it is back.
host_conf 2 10.100.1.0/24 0 "10.101.1.0/24, 10.101.2.0/24, 10.101.3.0/24, 10.101.4.0/24"
ctl 2 reload >/dev/null && pass "host 2: reload with five prefixes accepted" ||
        fail "host 2: reload with five prefixes accepted"
t=$(poll_ms 5000 both_lack 10.100.1.0/24) &&
        pass "route cap: host 2 over it -> dropped by both instances, its routes gone ($t ms)" ||
        { bf_routes 1 | sed 's/^/# /'; fail "route cap: host 2 dropped"; }
expect "route cap: host 1 keeps its route" "$(both_have 10.100.0.0/24 10.0.1.4 && echo yes)" = yes
expect "route cap: host 2's status shows no Established session" \
        "$(sj 2 '[.bgp.sessions[] | select(.established)] | length')" = 0
host_conf 2 10.100.1.0/24 0
ctl 2 reload >/dev/null
RS 1 enable host_10_0_1_5 >/dev/null
RS 2 enable host_10_0_1_5 >/dev/null
t=$(poll_ms 120000 both_have 10.100.1.0/24 10.0.1.5) &&
        pass "route cap: under it again and re-enabled -> host 2's route is back ($t ms)" ||
        fail "route cap: host 2's route back"

echo "# $(basename "$0"): $((($(now_ms) - T0) / 1000)) s"
summary
