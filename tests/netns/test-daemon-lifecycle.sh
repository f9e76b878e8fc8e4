#!/bin/sh
# The real nestrouterd in a simulated Azure VNet (vnet.sh), lifecycle: sd_notify (READY, STATUS,
# WATCHDOG, RELOADING) through a test receiver, a start with a missing and then an invalid
# config (nothing applied) that the file watch picks up once valid, good and bad reloads
# (line:column reported, traffic untouched), SIGTERM leaving the data plane, a restart that
# keeps leases and nft counters, --teardown, and `address: dhcp` on NIC1.
# Needs root, gcc and `make all`. Prints ok/FAIL lines and `N passed, N failed`; cleans up on
# exit. NR_VNET_ID (default dlife) names the VNet; KEEP=1 keeps the work dir.
# `local` and `-nt`: dash, bash and busybox ash have both
# shellcheck disable=SC3043,SC3013
set -u
NR_VNET_ID=${NR_VNET_ID:-dlife}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
dl_init

# ---------------------------------------------------------------- the NOTIFY_SOCKET receiver
if ! [ "$NOTIFY_RECV" -nt "$DL_HERE/notify-recv.c" ]; then
        command -v gcc >/dev/null || { echo "$0: gcc not found (needed for notify-recv)" >&2; exit 2; }
        mkdir -p "$DL_ROOT/build" &&
                gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$NOTIFY_RECV.tmp.$$" \
                        "$DL_HERE/notify-recv.c" && mv "$NOTIFY_RECV.tmp.$$" "$NOTIFY_RECV" ||
                { rm -f "$NOTIFY_RECV.tmp.$$"; echo "$0: cannot build $NOTIFY_RECV" >&2; exit 2; }
fi
NSOCK=$W/notify.sock
NLOG=$W/notify.log
bg "$NOTIFY_RECV" "$NSOCK" 300 >"$NLOG"
run "notify receiver listening on $NSOCK" wait_for 50 test -S "$NSOCK"
NENV="NOTIFY_SOCKET=$NSOCK WATCHDOG_USEC=2000000"

# notes MARK [PID]: "MS KEY=VALUE" lines received after line MARK from PID (default: the daemon)
notes() {
        awk -v m="$1" -v p="${2:-$DPID}" 'NR > m && $2 == p { print $1, substr($0, index($0, $3)) }' "$NLOG"
}
nmark() { wc -l <"$NLOG" | tr -d ' '; }
# has_note MARK REGEX [PID]: a notification after MARK matches ^REGEX$
has_note() { notes "$1" "${3:-$DPID}" | cut -d' ' -f2- | grep -Eq "^($2)\$"; }
# in_order MARK A B: a notification matching A, and a later one matching B
in_order() {
        notes "$1" | cut -d' ' -f2- | awk -v a="^($2)\$" -v b="^($3)\$" '
                $0 ~ a && !ia { ia = NR } $0 ~ b && ia && NR > ia { ok = 1 } END { exit !ok }'
}
note_ms() { notes "$1" | awk -v k="$2" '$2 == k { print $1; exit }'; }

# ---------------------------------------------------------------- start without a valid config
dl_vnet_up
rm -f "$CFG"
# shellcheck disable=SC2086
daemon_start $NENV
run "started with a missing config: READY=1 is sent anyway" wait_for 50 has_note 0 'READY=1'
run "... with STATUS=config error" has_note 0 'STATUS=config error.*'
run "... and status answers" ctl_up
check "status --json: config.state error, applied false" "error false" sj '"\(.config.state) \(.config.applied)"'
check_grep "status --json: config.errors says the file cannot be read" 'cannot read' sj '.config.errors[0].message'
check_grep "status (text) names the error" 'error; nothing applied' ctl status
# watchdog: sd-event pings at half of WATCHDOG_USEC (2 s)
wait_for 30 has_note 0 'WATCHDOG=1'
r_ms=$(note_ms 0 READY=1) w_ms=$(note_ms 0 WATCHDOG=1)
expect "WATCHDOG=1 within 2 s of READY=1 (READY at ${r_ms:-?}, WATCHDOG at ${w_ms:-?} ms)" \
        -n "$w_ms" -a "${w_ms:-0}" -le $((${r_ms:-0} + 2000))
nothing_applied() {
        ! R ip link show dev nr0 >/dev/null 2>&1 && ! R nft list table inet nestrouter >/dev/null 2>&1 &&
                [ -z "$(nr_routes)" ] && [ "$(sj .dnsmasq.pid)" = 0 ]
}
run "nothing is applied (no nr0, no nft table, no proto 78 routes/rules, no dnsmasq)" nothing_applied

# an invalid file: picked up by the watch (no SIGHUP), rejected with its position
sed 's/lease_time: 12h/lease_time: 12x/' "$DL_ROOT/configs/azure-nested.yaml" >"$W/bad-start.yaml"
L=$(grep -n 'lease_time: 12x' "$W/bad-start.yaml" | cut -d: -f1)
C=$(awk -v l="$L" 'NR == l { print index($0, "12x") }' "$W/bad-start.yaml")
cp "$W/bad-start.yaml" "$CFG"
err_at() { [ "$(sj '"\(.config.errors[0].line):\(.config.errors[0].column)"')" = "$L:$C" ]; }
run "an invalid file written meanwhile is read at once (watch) and rejected at $L:$C" wait_for 50 err_at
check "config.errors[0].key is guests.dhcp.lease_time" guests.dhcp.lease_time sj '.config.errors[0].key'
run "still nothing applied" nothing_applied
m=$(nmark)
t0=$(now_ms)
cp "$DL_ROOT/configs/azure-nested.yaml" "$CFG"
applied() { converged && R ip link show dev nr0 >/dev/null 2>&1 && R nft list table inet nestrouter >/dev/null 2>&1; }
if wait_for 100 applied; then pass "a valid file written later is applied without a signal ($(($(now_ms) - t0)) ms)"
else fail "a valid file written later is applied without a signal (not within 10 s)"; fi
check "status --json: config.state ok, no errors" "ok 0" sj '"\(.config.state) \(.config.errors | length)"'
run "READY=1 again once the valid config is loaded" wait_for 20 has_note "$m" 'READY=1'
run "STATUS=converged after the first pass" wait_for 20 has_note "$m" 'STATUS=converged.*'
add_guests
check "web1 -> Azure VM" "$WEB1_IP" vnet whoami web1 "$VM_IP"
check "web1 -> internet host as 10.0.0.4" "$NIC1_IP" vnet whoami web1 "$INET_IP"
gaps=$(notes 0 | awk '$2 == "WATCHDOG=1" { if (p) { g = $1 - p; if (g > max) max = g } p = $1; n++ }
        END { print n + 0, max + 0 }')
expect "WATCHDOG=1 keeps coming at most 2 s apart (count, max gap ms: $gaps)" \
        "${gaps% *}" -ge 2 -a "${gaps#* }" -le 2000

# ---------------------------------------------------------------- reloads
m=$(nmark)
check_grep "nestrouterctl reload (unchanged file) exits 0" "configuration loaded" ctl reload
run "RELOADING=1, then READY=1" in_order "$m" 'RELOADING=1' 'READY=1'

before=$(nr_routes) w0=$(sj .counters.writes) rj0=$(sj .counters.reloads_rejected)
sed 's#address: 10.0.1.4/24#address: 10.0.1.4/33#' "$DL_ROOT/configs/azure-nested.yaml" >"$CFG"
L=$(grep -n '10.0.1.4/33' "$CFG" | cut -d: -f1)
C=$(awk -v l="$L" 'NR == l { print index($0, "10.0.1.4/33") }' "$CFG")
m=$(nmark)
out=$(ctl reload 2>&1)
rc=$?
expect "a bad reload: nestrouterctl reload exits 1" "$rc" = 1
check_grep "... and prints FILE:LINE:COL: error: KEY: (at $L:$C)" \
        "^$CFG:$L:$C: error: uplinks\\.lan\\.address: " echo "$out"
check_grep "... and says the running configuration stays" 'running configuration stays' echo "$out"
check "status --json: config.state error, still applied" "error true" sj '"\(.config.state) \(.config.applied)"'
check "status --json: config.errors has line $L and column $C" "$L $C uplinks.lan.address" \
        sj '.config.errors[0] | "\(.line) \(.column) \(.key)"'
check "reloads_rejected counted it" $((rj0 + 1)) sj .counters.reloads_rejected
run "RELOADING=1, then READY=1 with STATUS=config error" in_order "$m" 'RELOADING=1' 'READY=1'
run "... STATUS=config error" has_note "$m" 'STATUS=config error.*'
check "web1 -> Azure VM still works" "$WEB1_IP" vnet whoami web1 "$VM_IP"
check "g2 -> internet host still as 10.0.0.4" "$NIC1_IP" vnet whoami g2 "$INET_IP"
check "routes and rules untouched" "$before" nr_routes
check "no writes" "$w0" sj .counters.writes
cp "$DL_ROOT/configs/azure-nested.yaml" "$CFG"
cfg_ok() { [ "$(sj .config.state)" = ok ]; }
# docs/architecture.md: the file changing while it is invalid is picked up by the watch
run "while the file is rejected, the watch picks up its fix (no reload needed)" wait_for 50 cfg_ok
run "nestrouterctl reload of the fixed file exits 0" ctl reload
check "status --json: config.state ok again, no errors" "ok 0" sj '"\(.config.state) \(.config.errors | length)"'

# ---------------------------------------------------------------- SIGTERM and restart
est0=$(rule_packets fwd-established) dm0=$(sj .dnsmasq.pid) before=$(nr_routes) m=$(nmark)
pid0=$DPID
run "SIGTERM: the daemon exits" daemon_stop
expect "... with status 0" "${DL_RC:-x}" = 0
run "... after sending STOPPING=1" has_note "$m" 'STOPPING=1' "$pid0"
run "its dnsmasq (pid $dm0) stopped with it" sh -c "! kill -0 $dm0 2>/dev/null"
check "routes and rules stay" "$before" nr_routes
run "nr0 and its address stay" sh -c "ip -n $RTR -4 -o addr show dev nr0 | grep -q ' 10.0.2.1/24 '"
run "the nft table stays" R nft list table inet nestrouter
check "web1 -> Azure VM works with the daemon stopped" "$WEB1_IP" vnet whoami web1 "$VM_IP"
check "web1 -> internet host as 10.0.0.4 with the daemon stopped" "$NIC1_IP" vnet whoami web1 "$INET_IP"
check "nic1-drops 0" 0 vnet nic1-drops
run "the lease file in the state dir keeps both guests" sh -c \
        "grep -q ' $WEB1_MAC $WEB1_IP ' '$STATE/dnsmasq.leases' && grep -q ' $G2_MAC ${G2_IP:-x} ' '$STATE/dnsmasq.leases'"
# shellcheck disable=SC2086
run "restart: converged" daemon_up $NENV
run "READY=1 from the new daemon" wait_for 20 has_note 0 'READY=1' "$DPID"
check "the restart made no nft write (full_applies 0, delta_applies 0, changes.nft 0)" "0 0 0" \
        sj '"\(.nft.full_applies) \(.nft.delta_applies) \(.counters.changes.nft)"'
check "... its only write was starting dnsmasq" "1 1" sj '"\(.counters.writes) \(.counters.changes.dnsmasq)"'
expect "nft counters survived the restart (fwd-established ${est0:-?} -> $(rule_packets fwd-established))" \
        "$(rule_packets fwd-established)" -ge "${est0:-1}" -a "${est0:-0}" -gt 0
check "routes and rules as before" "$before" nr_routes
check_grep "nestrouterctl leases still lists web1" "^$WEB1_MAC +$WEB1_IP +web1 " ctl leases
check_grep "nestrouterctl leases still lists g2" "^$G2_MAC +${G2_IP:-x} +g2 " ctl leases
check "g2 renews and keeps its pool address" "${G2_IP:-x}" renew g2
check "web1 renews and keeps its reservation" "$WEB1_IP" renew web1

# a daemon killed hard leaves its dnsmasq behind; the next one finds it by the pid file in the
# run dir and stops it before starting its own (the two would fight over port 67 and the leases)
dmk=$(sj .dnsmasq.pid)
[ -n "$DPID" ] && kill -KILL "$DPID" && dl_reap "$DPID" 20
DPID=""
run "SIGKILL the daemon: its dnsmasq (pid $dmk) is left running" pid_running "${dmk:-0}"
t0=$(now_ms)
daemon_start
if wait_for 50 ctl_up; then t1=$(now_ms); pass "restarted, it answers in $((t1 - t0)) ms"
else t1=$(now_ms); fail "restarted, it answers (not within 5 s)"; fi
expect "... within 1 s (the old dnsmasq is stopped without sitting out its 2 s grace)" \
        $((t1 - t0)) -le 1000
run "... and converges" wait_for 50 converged
run "the old dnsmasq is gone" sh -c "! [ -d /proc/${dmk:-0} ] || grep -q ') Z' /proc/${dmk:-0}/stat"
expect "a new dnsmasq runs ($(sj .dnsmasq.pid))" "$(sj .dnsmasq.pid)" != "$dmk" -a "$(sj .dnsmasq.pid)" -gt 0
check "still no nft write" 0 sj .nft.full_applies
check "web1 renews and keeps its reservation" "$WEB1_IP" renew web1

# ---------------------------------------------------------------- changed while stopped
# What the daemon made is recorded in the state dir (owned); a daemon started with a file
# that renames the bridge removes the old one (and its address) instead of orphaning it.
run "stop the daemon" daemon_stop
run "the ownership record names the bridge and its address" sh -c \
        "grep -qx 'bridge nr0' '$STATE/owned' && grep -qx 'address 10.0.2.1/24 nr0' '$STATE/owned'"
cp "$CFG" "$W/cfg.nr0"
sed -i 's/^\(  bridge:\) nr0$/\1 nr1/' "$CFG"
run "the file now names the bridge nr1" grep -q '^  bridge: nr1$' "$CFG"
run "started again, it converges" daemon_up
run "nr0 (made by the earlier run, no longer wanted) is gone" sh -c "! ip -n $RTR link show dev nr0 2>/dev/null"
check "nr1 has the gateway address" "10.0.2.1/24" sh -c "ip -n $RTR -4 -o addr show dev nr1 | awk '{print \$4}'"
run "the record follows" sh -c "grep -qx 'bridge nr1' '$STATE/owned' && ! grep -q 'nr0' '$STATE/owned'"
run "stop the daemon" daemon_stop
cp "$W/cfg.nr0" "$CFG"

# ---------------------------------------------------------------- teardown
# shellcheck disable=SC2086
out=$(R env $SAN_ENV "$NRD" --teardown --config "$CFG" --run-dir "$RUN" --state-dir "$STATE" 2>&1)
rc=$?
expect "nestrouterd --teardown exits 0" "$rc" = 0
[ "$rc" = 0 ] || echo "$out" | sed 's/^/# /'
run "the nft table is gone" sh -c "! ip netns exec $RTR nft list table inet nestrouter 2>/dev/null"
check "no proto 78 route or rule is left" "" nr_routes
run "nr0 is gone" sh -c "! ip -n $RTR link show dev nr0 2>/dev/null"
run "nr1, made by the last run (its ownership record), is gone too" sh -c "! ip -n $RTR link show dev nr1 2>/dev/null"
run "... and the record with it" test ! -e "$STATE/owned"
check "eth0 and eth1 have no IPv4 address" "" sh -c "ip -n $RTR -4 -o addr show dev eth0; ip -n $RTR -4 -o addr show dev eth1"
run "the lease file stays (it is the guests')" grep -q " $WEB1_MAC " "$STATE/dnsmasq.leases"

# ---------------------------------------------------------------- address: dhcp on NIC1
check "vnet rtr-dhcp eth0: the OS's DHCP client gets 10.0.0.4" "$NIC1_IP" vnet rtr-dhcp eth0
cp "$DL_HERE/daemon-nat-dhcp.yaml" "$CFG"
run "nestrouterd with address: dhcp on the nat uplink converges" daemon_up
check "table 1001: default via the subnet's first host, and the subnet from 10.0.0.4" \
        "10.0.0.0/24 dev eth0 proto 78 scope link src 10.0.0.4 |default via 10.0.0.1 dev eth0 proto 78 " \
        sh -c "ip -n $RTR -4 route show table 1001 | grep eth0 | sort | paste -sd'|'"
check_grep "rule 5002: from 10.0.0.4 lookup 1001" '^5002:[[:space:]]+from 10\.0\.0\.4 lookup 1001 proto 78' \
        R ip rule show pref 5002
check "the main default route stays the DHCP client's (not proto 78)" "default via 10.0.0.1 dev eth0 " \
        R ip -4 route show default
check "eth0 still has exactly the DHCP address" "10.0.0.4/24" \
        sh -c "ip -n $RTR -4 -o addr show dev eth0 | awk '{print \$4}'"
run "the guests' ports back on the new nr0 (teardown removed the old one)" R sh -c \
        "ip link set vg-web1 master nr0 && ip link set vg-g2 master nr0"
check "web1 -> internet host masqueraded to the DHCP address 10.0.0.4" "$NIC1_IP" vnet whoami web1 "$INET_IP"
check "web1 -> Azure VM with its own address" "$WEB1_IP" vnet whoami web1 "$VM_IP"
check "Azure VM -> 10.0.0.4:3390 (forward on the DHCP address) reaches web1" "$VM_IP" \
        vnet whoami vm "$NIC1_IP" 3390
check "nic1-drops still 0" 0 vnet nic1-drops
run "SIGTERM: the daemon exits" daemon_stop
expect "... with status 0 (an ASan build: no error, no leak)" "${DL_RC:-x}" = 0

elapsed
summary
