#!/bin/sh
# The real nestrouterd in a simulated Azure VNet (vnet.sh) finding its uplinks through IMDS
# (169.254.169.254, answered only on NIC1's side): NIC roles by MAC from the network document in
# either order, the Accelerated Networking VF stand-in (same MAC as NIC1) never chosen, and its
# removal and return not repaired as drift.
# Needs root and `make all`. Prints ok/FAIL lines and `N passed, N failed`; cleans up on exit.
# `nestrouterctl doctor` passes on the healthy VNet and names the broken piece when the UDR,
# NIC2's forwarding or IMDS is taken away. Scheduled Events (from a test IMDS responder that
# takes POSTs): a Freeze for this VM is acknowledged, one for another VM is not, a Reboot is
# acknowledged after the guest shutdown (none run here: test-guests.sh has real guests) with
# the timeout cut to NotBefore - now - 5 s.
# NR_VNET_ID (default dimds) names the VNet; KEEP=1 keeps the work dir.
# shellcheck disable=SC3043,SC3013,SC2015
set -u
NR_VNET_ID=${NR_VNET_ID:-dimds}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
dl_init

RESPONDER=$DL_ROOT/build/imds-responder
if ! [ "$RESPONDER" -nt "$DL_HERE/imds-responder.c" ]; then
        command -v gcc >/dev/null || { echo "$0: gcc not found (needed for imds-responder)" >&2; exit 2; }
        mkdir -p "$DL_ROOT/build" &&
                gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$RESPONDER.tmp.$$" \
                        "$DL_HERE/imds-responder.c" && mv "$RESPONDER.tmp.$$" "$RESPONDER" ||
                { rm -f "$RESPONDER.tmp.$$"; echo "$0: cannot build $RESPONDER" >&2; exit 2; }
fi
cp "$RESPONDER" "$W/bin/imds-responder" || exit 2

repairs() { sj '[.counters.repairs[]] | add'; }
uplink() { sj ".uplinks.$1.ifname"; }
both_uplinks() { sj '.uplinks.nat.ifname, .uplinks.lan.ifname' | paste -sd' '; }
azsvc_drops() { vnet counters | awk '/azsvc_drop/ { f = 1 } f && /packets/ { print $2; exit }'; }
imds_error() { sj .imds.last_error | grep -q 'network document'; }
passes_after() { [ "$(sj .counters.passes)" -gt "$1" ]; }

NR_VNET_VF=1
export NR_VNET_VF
dl_vnet_up
check "vnet rtr-dhcp eth0: the OS's DHCP client gets 10.0.0.4 (and the route to IMDS)" "$NIC1_IP" \
        vnet rtr-dhcp eth0
run "IMDS network document, NIC2 listed first" vnet imds-network nic2-first
check "VF stand-in vf1 has NIC1's MAC" 00:0d:3a:00:00:01 \
        sh -c "ip -n $RTR -o link show dev vf1 | sed -n 's|.*link/ether \([0-9a-f:]*\) .*|\1|p'"
check_grep "vf1 comes before eth0 in the link dump" '^vf1$' \
        sh -c "ip -n $RTR -o link show | awk -F': ' '{ sub(\"@.*\", \"\", \$2) } \$2 == \"vf1\" || \$2 == \"eth0\" { print \$2; exit }'"
cp "$DL_HERE/daemon-azure-roles.yaml" "$CFG"
run "nestrouterd with match: {azure: primary} / {azure_subnet: 10.0.1.0/24} converges" \
        daemon_up NR_IMDS_POLL_SEC=1 NR_IMDS_REFRESH_SEC=1 NR_IMDS_EVENTS_SEC=1
check "status: nat is eth0 (not the VF)" eth0 uplink nat
check "status: lan is eth1" eth1 uplink lan
check "status: the MAC IMDS gave for nat" 00:0d:3a:00:00:01 sj .uplinks.nat.imds_mac
check "status: the MAC IMDS gave for lan" 00:0d:3a:00:00:02 sj .uplinks.lan.imds_mac
check_grep "status (text) names the uplinks" 'uplink: +nat: eth0, Azure NIC 00:0d:3a:00:00:01' ctl status
check "table 1001 is built on eth0 from the DHCP address" \
        "10.0.0.0/24 dev eth0 proto 78 scope link src 10.0.0.4 |default via 10.0.0.1 dev eth0 proto 78 " \
        sh -c "ip -n $RTR -4 route show table 1001 | grep eth0 | sort | paste -sd'|'"
check "eth1 has 10.0.1.4/24" "10.0.1.4/24" sh -c "ip -n $RTR -4 -o addr show dev eth1 | awk '{print \$4}'"
check "no route of ours on vf1" "" sh -c "ip -n $RTR -4 route show table all dev vf1 proto 78"
check "IMDS answered only through NIC1 (fabric's azsvc_drop counter 0)" 0 \
        azsvc_drops

add_guests
check "web1 -> internet host masqueraded to 10.0.0.4" "$NIC1_IP" vnet whoami web1 "$INET_IP"

# ---------------------------------------------------------------- the VF goes and comes back
r0=$(repairs) p0=$(sj .counters.passes)
run "host maintenance: the VF is removed" vnet vf del
wait_for 50 passes_after "$p0"
run "... the daemon stays converged" wait_for 50 converged
check "... nat still eth0" eth0 uplink nat
run "... and the VF returns" vnet vf add
p1=$(sj .counters.passes)
wait_for 50 passes_after "$p1"
run "... the daemon stays converged" wait_for 50 converged
check "... nat still eth0" eth0 uplink nat
check "no repair counted for the VF's going and coming (repairs $r0 before)" "$r0" repairs
check "web1 -> internet host still masqueraded to 10.0.0.4" "$NIC1_IP" vnet whoami web1 "$INET_IP"

# ---------------------------------------------------------------- document order and errors
run "IMDS lists NIC1 first now" vnet imds-network nic1-first
sleep 2
check "nat still eth0, lan still eth1" "eth0 eth1" both_uplinks
run "IMDS serves a broken document" vnet imds-network broken
run "... status reports it" wait_for 50 imds_error
check "... the last good roles stay (nat eth0)" eth0 uplink nat
run "... converged, nothing torn down" converged

run "IMDS serves the good document again" vnet imds-network nic1-first

# ---------------------------------------------------------------- nestrouterctl doctor
# doctor: run in the router namespace against our daemon, config and the VM as probe target
doctor() { R timeout 30 "$NRCTL" --run-dir "$RUN" --config "$CFG" doctor --timeout 1500 "$@"; }
dr_out() { doctor --probe "$VM_IP:7777" >"$W/doctor.out" 2>&1; echo $? >"$W/doctor.rc"; }
# dr_line CHECK: the result column (ok WARN FAIL skip) of that check's line
dr_line() { grep -E "^$1 " "$W/doctor.out" | head -n1 | cut -c28-32 | tr -d ' '; }
dr_show() { sed 's/^/#   /' "$W/doctor.out"; }

dr_out
dr_show
check "doctor on a healthy VNet: exit 0" 0 cat "$W/doctor.rc"
for c in "uplinks" "IMDS through NIC1" "primary NIC" "wireserver through NIC1" "guest subnet" \
        "IP forwarding \(this VM\)" "UDR and NIC2 forwarding"; do
        check "doctor: $c ok" ok dr_line "$c"
done
check_grep "doctor: names NIC1 as Azure's primary" \
        "primary NIC +ok +Azure's primary NIC is 00:0d:3a:00:00:01 \(10.0.0.4\); the nat uplink eth0 is it" \
        cat "$W/doctor.out"
check_grep "doctor: the KVM checks report (TCG here, or KVM)" \
        '^(/dev/kvm|CPU virtualisation|nested KVM) +(ok|WARN)' cat "$W/doctor.out"
[ "$FAILED" -gt 0 ] && dr_show

run "fault: the UDR loses the guest subnet route" vnet udr off
dr_out
check "doctor: exit 1" 1 cat "$W/doctor.rc"
check "doctor: UDR and NIC2 forwarding FAIL" FAIL dr_line "UDR and NIC2 forwarding"
grep -A1 '^UDR' "$W/doctor.out" | sed 's/^/#   /'
check_grep "... and says what to change (route table, next hop)" 'fix: in Azure: the route table must send the guest subnet' cat "$W/doctor.out"
check "doctor: the other checks still ok (only 1 failed)" "1 failed" sh -c "tail -n1 '$W/doctor.out' | cut -d, -f1"
run "UDR back" vnet udr on

run "fault: NIC2's IP forwarding off" vnet nic2-forwarding off
dr_out
check "doctor: exit 1" 1 cat "$W/doctor.rc"
check "doctor: UDR and NIC2 forwarding FAIL" FAIL dr_line "UDR and NIC2 forwarding"
check_grep "... naming NIC2's IP forwarding" 'NIC2 needs IP forwarding enabled' cat "$W/doctor.out"
run "NIC2 forwarding back on" vnet nic2-forwarding on
dr_out
check "doctor: exit 0 again" 0 cat "$W/doctor.rc"

# a third NIC in IMDS whose subnet is the guest subnet (as if the VM had a NIC there)
NETDOC=$VN_DIR/www/imds/metadata/instance/network
cp "$NETDOC" "$W/network.good"
sed 's/]}$/,{"ipv4":{"ipAddress":[{"privateIpAddress":"10.0.2.4"}],"subnet":[{"address":"10.0.2.0","prefix":"24"}]},"macAddress":"000D3A000003"}]}/' \
        "$W/network.good" >"$NETDOC"
dr_out
check "fault: a NIC subnet is the guest subnet: doctor exit 1" 1 cat "$W/doctor.rc"
check_grep "doctor: guest subnet FAIL names the NIC" \
        '^guest subnet +FAIL +10.0.2.0/24 overlaps 10.0.2.0/24 of NIC 00:0d:3a:00:00:03' cat "$W/doctor.out"
cp "$W/network.good" "$NETDOC"

run "fault: IMDS does not answer" vnet kill fab imds
dr_out
check "doctor: exit 1" 1 cat "$W/doctor.rc"
check "doctor: IMDS through NIC1 FAIL" FAIL dr_line "IMDS through NIC1"
check "doctor: wireserver still ok" ok dr_line "wireserver through NIC1"
[ "$FAILED" -gt 0 ] && dr_show

# ---------------------------------------------------------------- Scheduled Events
EVDOC=$VN_DIR/www/imds/metadata/scheduledevents
ACKS=$W/acks
: >"$ACKS"
# event ID TYPE RESOURCE NOTBEFORE: one Scheduled Events entry
event() {
        printf '{"EventId":"%s","EventStatus":"Scheduled","EventType":"%s","ResourceType":"VirtualMachine","Resources":["%s"],"NotBefore":"%s","Description":"test","EventSource":"Platform","DurationInSeconds":-1}' \
                "$1" "$2" "$3" "$4"
}
events() { echo "{\"DocumentIncarnation\":$1,\"Events\":[$2]}" >"$EVDOC.tmp" && mv "$EVDOC.tmp" "$EVDOC"; }
acked() { grep -q "\"EventId\":\"$1\"" "$ACKS"; }
events 1 ""
run "IMDS responder (takes POSTs) in place of busybox httpd" \
        vnet spawn fab imds "$W/bin/imds-responder" 169.254.169.254 "$VN_DIR/www/imds" "$ACKS"
# imds_get [HEADER]: GET the network document from the router, status line and body
imds_get() {
        { printf 'GET /metadata/instance/network HTTP/1.0\r\n'
          [ -n "${1:-}" ] && printf '%s\r\n' "$1"; printf '\r\n'; } |
                R timeout 5 busybox nc -w 2 169.254.169.254 80 | tr -d '\r'
}
imds_up() { imds_get "Metadata: true" | grep -q '"interface"'; }
run "... it serves the network document with Metadata: true" wait_for 30 imds_up
check_grep "... and 400 without it, like Azure's" '^HTTP/1.0 400' imds_get
nb=$(LC_ALL=C date -u -d "+60 sec" '+%a, %d %b %Y %H:%M:%S GMT')
events 2 "$(event F-other-1 Freeze otherhost "$nb"),$(event F-ours-1 Freeze router "$nb")"
run "Freeze for this VM: acknowledged (StartRequests)" wait_for 50 acked F-ours-1
check "... with the StartRequests body" '{"StartRequests":[{"EventId":"F-ours-1"}]}' \
        sh -c "grep F-ours-1 '$ACKS'"
sleep 2
run "Freeze for another VM: not acknowledged" sh -c "! grep -q F-other-1 '$ACKS'"
nb=$(LC_ALL=C date -u -d "+60 sec" '+%a, %d %b %Y %H:%M:%S GMT')
events 3 "$(event R-ours-1 Reboot router "$nb")"
run "Reboot for this VM: acknowledged after the guest shutdown" wait_for 50 acked R-ours-1
check_grep "... the shutdown came first, with the timeout cut to NotBefore - now - 5 s" \
        'scheduled Reboot \(event R-ours-1\): shutting the guests down, timeout 5[345] s' \
        cat "$W/daemon.log"
check_grep "... status says what was done" 'R-ours-1 acknowledged: no guest was running' \
        sj .imds.events_last
check "each event acknowledged once" 2 sh -c "wc -l <'$ACKS' | tr -d ' '"

run "SIGTERM: the daemon exits" daemon_stop

# ---------------------------------------------------------------- teardown asks IMDS too
# lan (10.0.1.4/24, a CIDR address) is found only by its Azure subnet: without IMDS's answer
# --teardown could not tell which NIC it is and would leave the address behind
# shellcheck disable=SC2086
out=$(R env $SAN_ENV "$NRD" --teardown --config "$CFG" --run-dir "$RUN" --state-dir "$STATE" 2>&1)
rc=$?
expect "nestrouterd --teardown exits 0" "$rc" = 0
[ "$rc" = 0 ] || echo "$out" | sed 's/^/# /'
check "it removed lan's 10.0.1.4/24 from eth1 (found by asking IMDS)" "" \
        sh -c "ip -n $RTR -4 -o addr show dev eth1"
check "nat's DHCP address on eth0 is not nestrouter's and stays" "10.0.0.4/24" \
        sh -c "ip -n $RTR -4 -o addr show dev eth0 | awk '{print \$4}'"
check "no proto 78 route or rule is left" "" nr_routes
elapsed
summary
