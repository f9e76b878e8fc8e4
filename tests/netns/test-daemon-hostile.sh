#!/bin/sh
# The real nestrouterd in a simulated Azure VNet (vnet.sh), attacked from every side (issue 15):
#   - hostile configuration files (FIFO, link to /dev/zero, huge file, alias bomb, deep nesting,
#     a 2 MB value): rejected at once with a positioned message, the loop never stalls, nothing
#     in the data plane changes;
#   - control-socket clients that connect and say nothing (100 of them) or dribble a byte every
#     0.9 s: status still answers within 100 ms and a deleted route is still repaired < 1 s;
#   - a guest sending IPv6 router advertisements: the router takes no route and no address from
#     it, drops and counts them, and repairs accept_ra when it drifts;
#   - the guest bridge deleted with ports attached (a configured port, a foreign one like a
#     libvirt tap, the guests' veths): all of them are back on the new bridge within 1 s;
#   - a run dir dnsmasq cannot reach once it drops root: reservations still hold;
#   - smaller: leases file not world-readable, SSH only on the uplink addresses, a full state
#     filesystem shown in status and retried.
# Needs root, python3 and `make all`. Prints ok/FAIL lines and `N passed, N failed`; cleans up on
# exit. NR_VNET_ID (default dhostile) names the VNet; KEEP=1 keeps the work dir.
# shellcheck disable=SC3043
set -u
NR_VNET_ID=${NR_VNET_ID:-dhostile}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
dl_init
HOSTILE="python3 $DL_HERE/hostile.py"
SMALL=""         # a tiny tmpfs for the state-save check, unmounted at exit
hostile_cleanup() {
        [ -n "$SMALL" ] && umount "$SMALL" 2>/dev/null
        dl_cleanup
}
trap hostile_cleanup EXIT

dl_vnet_up
# a configured port (guests.ports) on the bridge: a veth in the router namespace
# (its far end stands for a machine elsewhere: no IPv6 on it, or the router namespace would hear
# the guests' advertisements through it)
R ip link add nrt-cp0 type veth peer name nrt-cp0p && R sysctl -qw net.ipv6.conf.nrt-cp0p.disable_ipv6=1 &&
        R ip link set nrt-cp0p up || fail "could not make the port nrt-cp0"
sed 's/^  bridge: nr0$/  bridge: nr0\n  ports: [nrt-cp0]/' "$DL_ROOT/configs/azure-nested.yaml" >"$CFG"
grep -q 'ports: \[nrt-cp0\]' "$CFG" || fail "the test's config has no guests.ports"
RESYNC=2
run "nestrouterd starts in $RTR and converges (azure-nested + ports: [nrt-cp0]; resync ${RESYNC}s)" \
        daemon_up NR_RESYNC_SEC=$RESYNC
if [ -z "$DPID" ] || ! ctl_up; then fail "daemon not running: nothing more to test"; summary; exit; fi
check "guest web1 gets its reservation" "$WEB1_IP" vnet guest-add web1 "$WEB1_MAC"

rt() { R ip -4 route show "$@" 2>/dev/null; }
ONP_ROUTE="172.16.0.0/22 via 10.0.1.1 dev eth1 proto 78 "
onp_route_back() { [ "$(rt 172.16.0.0/22)" = "$ONP_ROUTE" ]; }
# repair_ms: deletes the on-premises route and prints how long the daemon took to put it back
repair_ms() {
        R ip route del 172.16.0.0/22 proto 78 || return 1
        poll_ms 5000 onp_route_back
}
# status_ms: how long one `nestrouterctl status` takes, in ms
status_ms() {
        local t0
        t0=$(now_ms)
        ctl status >/dev/null || { echo 99999; return 1; }
        echo $(($(now_ms) - t0))
}
# nrstate: the data plane as the kernel has it (our routes and rules, the table's rules), for a
# before/after compare; counters are left out
nrstate() { nr_routes; R nft -s list table inet nestrouter 2>/dev/null | sed 's/counter packets [0-9]* bytes [0-9]*/counter/'; }

# ---------------------------------------------------------------- hostile files
nrstate >"$W/state.before"
CFG_GOOD=$W/good.yaml
cp "$CFG" "$CFG_GOOD"
# bad_file NAME WANT-PATTERN: the file at $CFG is hostile; reload must answer within 3 s with an
# error matching the pattern, status must answer, and nothing may change
bad_file() {
        local name=$1 pat=$2 t0 out ms
        t0=$(now_ms)
        out=$(timeout 5 "$NRCTL" --run-dir "$RUN" reload 2>&1)
        ms=$(($(now_ms) - t0))
        if printf '%s\n' "$out" | grep -Eq -- "$pat" && [ "$ms" -lt 3000 ]; then
                pass "hostile file: $name: reload rejected in $ms ms ($(printf '%s' "$out" | head -n 1 | cut -c1-100))"
        else
                printf '%s\n' "$out" | head -n 5 | cut -c1-300 | sed 's/^/#   /'
                fail "hostile file: $name: reload not rejected within 3 s with /$pat/ ($ms ms)"
        fi
        expect "hostile file: $name: longest line of the answer is under 1,000 bytes" \
                "$(printf '%s\n' "$out" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')" -lt 1000
}
rm -f "$CFG"
mkfifo "$CFG"
bad_file "a FIFO as the config" 'not a regular file \(a FIFO\)'
ms=$(repair_ms) && pass "hostile file: a route deleted after the FIFO reload is repaired in $ms ms" ||
        fail "hostile file: a route deleted after the FIFO reload is not repaired ($ms ms)"
rm -f "$CFG"
ln -s /dev/zero "$CFG"
bad_file "a link to /dev/zero" 'not a regular file \(a character device\)'
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$DPID/status")
expect "hostile file: the daemon's RSS stays under 64 MiB (${rss} KiB)" "${rss:-999999}" -lt 65536
rm -f "$CFG"
head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' '#' >"$CFG"
bad_file "a 5 MiB file" 'larger than 4 MiB'
# a billion laughs: nine levels of ten aliases each
{
        echo 'version: 1'
        echo 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'
        for i in 1 2 3 4 5 6 7 8 9; do
                p=$((i - 1))
                echo "a$i: &a$i [*a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p]"
        done
        echo 'port_forwards: *a9'
} >"$CFG.tmp" && mv "$CFG.tmp" "$CFG"
bad_file "an alias bomb (10^10 nodes if expanded) under port_forwards" 'error'
python3 -c 'import sys; sys.stdout.write("version: 1\nuplinks: " + "[" * 100000 + "]" * 100000 + "\n")' >"$CFG"
bad_file "100,000 levels of nesting" 'error'
python3 -c 'import sys; sys.stdout.write(open(sys.argv[1]).read().replace("match: {name: eth0}", "match: {name: " + "x" * 2000000 + "}"))' \
        "$CFG_GOOD" >"$CFG"
bad_file "a 2 MB interface name" 'interface names have at most 15'
check_grep "hostile file: the 2 MB value is shortened in the message" 'xxxx\[\.\.\. [0-9]+ bytes \.\.\.\]xxxx' \
        ctl status
cp "$CFG_GOOD" "$CFG"
run "hostile file: the good file reloads again" ctl reload
run "hostile file: converged after it" wait_for 50 converged
nrstate >"$W/state.after"
run "hostile file: routes, rules and the nft table are exactly as before the hostile files" \
        cmp "$W/state.before" "$W/state.after"
run "hostile file: the daemon is still running (pid $DPID)" pid_running "$DPID"

# ---------------------------------------------------------------- memory after a large reload
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$DPID/status"; }
rss0=$(rss_kib)
{
        cat "$CFG_GOOD"
        i=0
        while [ $i -lt 4000 ]; do
                echo "  - {proto: udp, port: $((20000 + i)), to: web1}"
                i=$((i + 1))
        done
} >"$CFG"
run "a reload with 4,000 more forwards" ctl reload
run "... converges" wait_for 100 converged
rss1=$(rss_kib)
cp "$CFG_GOOD" "$CFG"
run "a reload back to the small file" ctl reload
run "... converges" wait_for 100 converged
rss2=$(rss_kib)
echo "# RSS: $rss0 KiB before, $rss1 KiB with 4,000 forwards, $rss2 KiB after going back"
# (an ASan build keeps freed memory in its quarantine: the figure means nothing there)
if ldd "$NRD" 2>/dev/null | grep -q libasan; then
        echo "# memory given back: not checked with an ASan build (its quarantine holds freed memory)"
else
        expect "memory is given back after the large reload ($rss1 -> $rss2 KiB; at most half of the growth kept)" \
                "$((rss2 - rss0))" -le "$(((rss1 - rss0) / 2))"
fi

# ---------------------------------------------------------------- stuck and dribbling clients
SOCK=$RUN/control.sock
bg $HOSTILE crowd "$SOCK" 100 30 >"$W/crowd.out" 2>&1
crowd=$BGPID
run "hostile client: 100 silent connections made" wait_for 100 grep -q '^connected 100$' "$W/crowd.out"
bg $HOSTILE dribble "$SOCK" 30 >"$W/dribble.out" 2>&1
sleep 1
best=99999 worst=0
for _ in 1 2 3 4 5; do
        ms=$(status_ms)
        [ "$ms" -lt "$best" ] && best=$ms
        [ "$ms" -gt "$worst" ] && worst=$ms
done
expect "hostile client: status answers in < 100 ms with 100 silent clients and a dribbler (best $best, worst $worst ms)" \
        "$worst" -lt 100
ms=$(repair_ms) && expect "hostile client: a deleted route is repaired in < 1 s meanwhile ($ms ms)" "$ms" -lt 1000 ||
        fail "hostile client: a deleted route is not repaired meanwhile ($ms ms)"
ms=$(status_ms)
expect "hostile client: status after the repair still answers in < 100 ms ($ms ms)" "$ms" -lt 100
alive=$(ls "/proc/$crowd/fd" 2>/dev/null | wc -l)
expect "hostile client: the crowd was still connected while status was asked (fds $alive)" "$alive" -gt 50
kill "$crowd" 2>/dev/null

# ---------------------------------------------------------------- a guest's router advertisements
# the guest's link-local address must be usable first (DAD)
ll_ready() { vnet exec web1 ip -6 addr show dev eth0 scope link | grep -q 'inet6' &&
        [ -z "$(vnet exec web1 ip -6 addr show dev eth0 tentative)" ]; }
run "guest web1 has an IPv6 link-local address" wait_for 50 ll_ready
ra0=$(rule_packets in-guest-ra)
vnet exec web1 $HOSTILE ra eth0 2001:db8:66:: || fail "guest RA: could not send"
sleep 1
check "guest RA: the router took no IPv6 default route from it" "" R ip -6 route show default
check "guest RA: the router took no SLAAC address from it" "" R ip -6 addr show scope global
check "guest RA: the router has no route to the advertised prefix" "" R ip -6 route show 2001:db8:66::/64
ra1=$(rule_packets in-guest-ra)
expect "guest RA: dropped and counted by in-guest-ra ($ra0 -> $ra1)" "${ra1:-0}" -gt "${ra0:-0}"
check "guest RA: accept_ra is 0 on nr0" 0 R cat /proc/sys/net/ipv6/conf/nr0/accept_ra
check "guest RA: accept_ra is 0 on eth1 (the file asks for no IPv6)" 0 R cat /proc/sys/net/ipv6/conf/eth1/accept_ra
s0=$(sj .counters.repairs.sysctl)
R sh -c 'echo 1 >/proc/sys/net/ipv6/conf/nr0/accept_ra'
ra_off() { [ "$(R cat /proc/sys/net/ipv6/conf/nr0/accept_ra)" = 0 ]; }
# no kernel event tells of a sysctl write: the periodic resync finds it
ms=$(poll_ms $((RESYNC * 1000 + 1000)) ra_off) &&
        pass "guest RA: accept_ra set to 1 on nr0 is repaired by the next resync, in $ms ms" ||
        fail "guest RA: accept_ra drift on nr0 not repaired ($ms ms)"
expect "guest RA: that repair is counted ($s0 -> $(sj .counters.repairs.sysctl))" \
        "$(sj .counters.repairs.sysctl)" -gt "$s0"

# ---------------------------------------------------------------- the bridge deleted with its ports
run "a foreign port nrt-tap0 (like a libvirt tap) added to nr0 by the test" R sh -c \
        "ip link add nrt-tap0 type veth peer name nrt-tap0p && ip link set nrt-tap0 master nr0 &&
         sysctl -qw net.ipv6.conf.nrt-tap0p.disable_ipv6=1 && ip link set nrt-tap0 up &&
         ip link set nrt-tap0p up"
master_of() { R ip -o link show dev "$1" 2>/dev/null | sed -n 's/.* master \([^ ]*\) .*/\1/p'; }
check "nrt-cp0 (guests.ports) is a port of nr0" nr0 master_of nrt-cp0
run "converged with the foreign port" wait_for 30 converged
all_back() { [ "$(master_of nrt-cp0)" = nr0 ] && [ "$(master_of nrt-tap0)" = nr0 ] &&
        [ "$(master_of vg-web1)" = nr0 ]; }
R ip link del nr0
ms=$(poll_ms 1000 all_back) &&
        pass "bridge deleted: nrt-cp0 (configured), nrt-tap0 (foreign) and vg-web1 are ports of the new nr0 in $ms ms" ||
        fail "bridge deleted: ports not all back within 1 s (nrt-cp0: $(master_of nrt-cp0), nrt-tap0: $(master_of nrt-tap0), vg-web1: $(master_of vg-web1))"
run "bridge deleted: converged afterwards" wait_for 30 converged
whoami_web1() { [ "$(vnet whoami web1 "$VM_IP")" = "$WEB1_IP" ]; }
ms=$(poll_ms 8000 whoami_web1) && pass "bridge deleted: web1 -> Azure VM works again ($ms ms)" ||
        fail "bridge deleted: web1 -> Azure VM does not work again within 8 s"
R ip link set nrt-tap0 nomaster
sleep 1
check "a port the admin took off nr0 afterwards is left off (not ours)" "" master_of nrt-tap0
R ip link del nrt-tap0 2>/dev/null

# ---------------------------------------------------------------- smaller items
check "the leases file is not world-readable" 600 stat -c %a "$STATE/dnsmasq.leases"
# SSH: a listener on port 22 in the router namespace; from the Azure VM (through NIC2)
bg ip netns exec "$RTR" busybox nc -ll -p 22 -e /bin/echo SSH-2.0-test
sleep 0.3
ssh_to() { vnet exec vm busybox nc -w 2 "$1" 22 </dev/null 2>/dev/null | grep -q SSH-2.0; }
run "SSH from the Azure VM to NIC2's address 10.0.1.4 is accepted" ssh_to "$NIC2_IP"
must_fail "SSH from the Azure VM to the guests' gateway 10.0.2.1 is dropped" ssh_to 10.0.2.1

# reservations with a run dir dnsmasq cannot reach once it drops root
daemon_stop || fail "daemon did not stop"
chmod 700 "$W"
run "restarted with its run dir in a 0700 directory" daemon_up
check "web1 still gets its reservation $WEB1_IP (not a pool address)" "$WEB1_IP" renew web1
check_grep "the reservations went into dnsmasq's configuration" '^dhcp-host=52:54:00:00:00:10' \
        cat "$RUN/dnsmasq.conf"
check "web1 is in the leases as web1" "$WEB1_IP" \
        sh -c "'$NRCTL' --run-dir '$RUN' leases --json | jq -r '.[] | select(.mac == \"$WEB1_MAC\") | .ip'"
daemon_stop || fail "daemon did not stop"
chmod 755 "$W"

# a full state filesystem: shown in status, retried every pass, saved once there is room
SMALL=$W/small
mkdir -p "$SMALL" && mount -t tmpfs -o size=1m nrt-small "$SMALL" || { SMALL=""; fail "tmpfs for the state dir"; }
if [ -n "$SMALL" ]; then
        cp -a "$STATE/." "$SMALL/" 2>/dev/null
        STATE=$SMALL
        run "restarted with its state dir on a 1 MiB tmpfs" daemon_up
        dd if=/dev/zero of="$SMALL/fill" bs=4k 2>/dev/null
        sed 's/^port_forwards:$/port_forwards:\n  - {proto: tcp, port: 2222, to: web1, to_port: 22}/' "$CFG_GOOD" >"$CFG"
        run "a reload adding a forward while the state filesystem is full" ctl reload
        unsaved() { [ "$(sj .nft.state_saved)" = false ]; }
        run "status: nft.state_saved is false" wait_for 30 unsaved
        sleep 1.5
        check "status: not converged while the state cannot be saved (after a retry)" false sj .converged
        check "status: still not saved after that retry" false sj .nft.state_saved
        check_grep "status: the last error names the state dir" 'cannot save state' sj .last_error
        check "status: the state is kept in the run dir meanwhile" true sj .nft.state_in_run_dir
        # a restart meanwhile (an upgrade): the daemon knows its table from the run dir's copy
        est0=$(rule_packets fwd-established)
        run "SIGTERM while the state filesystem is full" daemon_stop
        daemon_start
        # not converged while the state cannot be saved: wait for its first pass, not for that
        passed_once() { [ "$(sj .counters.passes)" -ge 1 ]; }
        run "started again, still full: it answers and has made a pass" wait_for 100 passed_once
        check "after that restart: the table was not rewritten (nft.full_applies 0)" 0 sj .nft.full_applies
        est1=$(rule_packets fwd-established)
        expect "after that restart: counters kept (fwd-established $est0 -> $est1 packets)" \
                "${est1:-0}" -ge "${est0:-1}" -a "${est0:-0}" -gt 0
        rm -f "$SMALL/fill"
        saved() { [ "$(sj .nft.state_saved)" = true ] && converged; }
        run "status: saved and converged once there is room" wait_for 30 saved
        run "the saved state is the table applied (nft.applied has the new forward)" \
                grep -q '2222' "$SMALL/nft.applied"
        check "the state-save failure was logged once per daemon, not every pass" 2 \
                grep -c 'cannot save state' "$W/daemon.log"
        run "the run dir's copy is gone once the state dir has it" \
                test ! -e "$RUN/nft.applied" -a ! -e "$RUN/nft.baseline"
        run "SIGTERM: the daemon exits" daemon_stop
        expect "... with status 0 (an ASan build: no error, no leak)" "${DL_RC:-x}" = 0
fi

elapsed
summary
