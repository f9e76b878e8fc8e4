#!/bin/sh
# The real nestrouterd in a simulated Azure VNet (vnet.sh), observability: the Prometheus
# textfile (metrics.textfile) passes `promtool check metrics` and is scraped by Debian's
# prometheus-node-exporter (textfile collector only, on 127.0.0.1 inside the router namespace)
# with real values that move with real traffic (port forward, IMDS drops, leases) and drift;
# `nestrouterctl metrics` gives the same text; --debug logs each pass and op, SIGUSR1 toggles it
# live; a conflict that fails every second is logged once per window with "(repeated N times)";
# logging to journald (JOURNAL_STREAM) sends NR_OBJECT_KIND=/NR_OBJECT= fields, received by a
# stand-in journal socket in a private mount namespace.
# Needs root, `make all`, promtool and prometheus-node-exporter (tests/deps.sh). Prints ok/FAIL
# lines and `N passed, N failed`; cleans up on exit. NR_VNET_ID (default dmetrics) names the
# VNet; KEEP=1 keeps the work dir.
# shellcheck disable=SC3043,SC2034,SC2086
set -u
NR_VNET_ID=${NR_VNET_ID:-dmetrics}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
for t in promtool prometheus-node-exporter curl python3; do
        command -v "$t" >/dev/null 2>&1 || { echo "$0: missing tool $t (tests/deps.sh)" >&2; exit 2; }
done
dl_init

REPEAT=3                       # NR_LOG_REPEAT_SEC: the rate limiter's window, shortened
PROM_DIR=$W/textfile
PROM=$PROM_DIR/nestrouter.prom
mkdir -p "$PROM_DIR" || exit 2
dl_vnet_up
# the Azure VMs' subnet (a Prometheus server there) may scrape node exporter on the uplinks
METRICS_YAML=$(printf 'metrics:\n  textfile: %s\n  interval: 1s\n  scrape_from: [10.0.3.0/24]\n' "$PROM")
{ cat "$DL_ROOT/configs/azure-nested.yaml"; echo "$METRICS_YAML"; } >"$CFG"
NRD_ARGS=--debug
run "nestrouterd --debug starts and converges (metrics.textfile in the work dir, interval 1s)" \
        daemon_up NR_LOG_REPEAT_SEC=$REPEAT
if [ -z "$DPID" ] || ! ctl_up; then fail "daemon not running: nothing more to test"; summary; exit; fi
add_guests

# ---------------------------------------------------------------- --debug
logged() { grep -Eq -- "$1" "$W/daemon.log"; }
after() { tail -n +"$(($1 + 1))" "$W/daemon.log" | grep -Eq -- "$2"; }
lmark() { wc -l <"$W/daemon.log" | tr -d ' '; }
run "--debug: the start is logged as debug" logged '^<6>nestrouterd starting: .*, debug'
run "--debug: each pass is logged (ops planned, failures, duration)" \
        logged '^<7>pass [0-9]+: [0-9]+ ops planned, 0 failed, [0-9]+ us'
run "--debug: each op applied is logged with its duration" \
        logged '^<7>applied in [0-9]+ us: route replace default via 10\.0\.0\.1 dev eth0 table main'

# ---------------------------------------------------------------- the textfile and promtool
run "the textfile appears ($PROM)" wait_for 50 test -s "$PROM"
promcheck() { out=$(promtool check metrics <"$1" 2>&1) && [ -z "$out" ] || { printf '%s\n' "$out" | sed 's/^/#   /'; return 1; }; }
run "promtool check metrics accepts the textfile" promcheck "$PROM"
ctl metrics >"$W/ctl.prom"
run "promtool check metrics accepts nestrouterctl metrics" promcheck "$W/ctl.prom"
check "nestrouterctl metrics: config ok, converged" "1 1" sh -c \
        "grep -E '^nestrouter_(config_ok|converged) ' '$W/ctl.prom' | cut -d' ' -f2 | paste -sd' '"
no_tmp() { [ -z "$(find "$PROM_DIR" -name '*.tmp*')" ]; }
run "no temp file left next to it (written by rename)" no_tmp

# ---------------------------------------------------------------- node exporter scrapes it
# on the router namespace's loopback (nothing else listens there) and on NIC2's address, for a
# Prometheus server in the VNet
NE_PORT=9100
NE_LOG=$W/node-exporter.log
bg ip netns exec "$RTR" prometheus-node-exporter --web.listen-address="127.0.0.1:$NE_PORT" \
        --web.listen-address="$NIC2_IP:$NE_PORT" \
        --collector.disable-defaults --collector.textfile \
        --collector.textfile.directory="$PROM_DIR" >"$NE_LOG" 2>&1
scrape() { R curl -sf --max-time 3 "http://127.0.0.1:$NE_PORT/metrics"; }
run "prometheus-node-exporter (textfile collector) answers on 127.0.0.1:$NE_PORT in $RTR" \
        wait_for 100 scrape
# from the VNet: metrics.scrape_from opens node exporter's port to 10.0.3.0/24 only
im0=$(rule_packets in-metrics)
vm_scrape() { vnet exec vm curl -sf --max-time 3 "http://$NIC2_IP:$NE_PORT/metrics"; }
check_grep "the Azure VM (10.0.3.4, in scrape_from) scrapes $NIC2_IP:$NE_PORT: nestrouter_config_ok 1" \
        '^nestrouter_config_ok 1$' vm_scrape
must_fail "on-premises (172.16.0.10, not in scrape_from) cannot" \
        vnet exec onp curl -sf --max-time 2 "http://$NIC2_IP:$NE_PORT/metrics"
expect "in-metrics counted the VM's scrape (${im0:-?} -> $(rule_packets in-metrics))" \
        "$(rule_packets in-metrics)" -gt "${im0:-0}"
# series VALUE: the value of one series (exact name and labels) in a fresh scrape
series() { scrape | awk -v s="$1" '$1 == s { print $2; found = 1 } END { exit !found }'; }
# scraped NAME SERIES WANT: a scrape shows SERIES = WANT within 5 s (the file is rewritten
# every second, so a change the test just made may not be in it yet)
is() { [ "$(series "$1")" = "$2" ]; }
scraped() {
        if wait_for 50 is "$2" "$3"; then pass "$1"; else
                echo "# want '$3', got '$(series "$2")'"; fail "$1"; fi
}
scraped "scrape: node_textfile_scrape_error 0" node_textfile_scrape_error 0
scraped "scrape: nestrouter_config_ok 1" nestrouter_config_ok 1
scraped "scrape: nestrouter_dhcp_pool_size 101 (10.0.2.100-200)" nestrouter_dhcp_pool_size 101
scraped "scrape: nestrouter_dhcp_leases 2 (web1, g2)" nestrouter_dhcp_leases 2
scraped "scrape: nestrouter_dnsmasq_up 1" nestrouter_dnsmasq_up 1
pc=$(series nestrouter_pass_duration_seconds_count)
expect "scrape: the pass histogram counted passes (${pc:-none})" "${pc:-0}" -gt 0
check "scrape: its +Inf bucket equals its count" "$pc" \
        series 'nestrouter_pass_duration_seconds_bucket{le="+Inf"}'

# grows SERIES BEFORE: the series rises above BEFORE in a scrape within 5 s (the file is
# rewritten every second)
grows() {
        local n=50 v
        while [ $n -gt 0 ]; do
                v=$(series "$1" 2>/dev/null)
                [ -n "$v" ] && [ "$v" -gt "$2" ] 2>/dev/null && { echo "$v"; return 0; }
                n=$((n - 1))
                sleep 0.1
        done
        echo "${v:-none}"
        return 1
}
PF='nestrouter_port_forward_connections_total{match="from"}'
RULE='nestrouter_nft_rule_packets_total{chain="prerouting",rule="pre-pf-from"}'
pf0=$(series "$PF") rule0=$(series "$RULE")
check "Azure VM -> 10.0.1.4:3390 reaches web1 through the port forward" "$VM_IP" \
        vnet whoami vm "$NIC2_IP" 3390
check "on-prem -> 10.0.1.4:3390 too" "$ONP_IP" vnet whoami onp "$NIC2_IP" 3390
if v=$(grows "$PF" "${pf0:-0}"); then pass "scrape: $PF grew ${pf0:-?} -> $v"
else fail "scrape: $PF grew (still ${v}, was ${pf0:-?})"; fi
if v=$(grows "$RULE" "${rule0:-0}"); then pass "scrape: $RULE grew ${rule0:-?} -> $v"
else fail "scrape: $RULE grew (still ${v}, was ${rule0:-?})"; fi
same_as_status() { [ "$(series "$RULE")" = "$(rule_packets pre-pf-from)" ]; }
run "... and comes to equal the rule counter nestrouterctl status shows" wait_for 30 same_as_status
# per forward, both directions of every packet (its named counter fwd-pf-tcp-3390)
# (node exporter sorts the labels by name)
FWD='nestrouter_port_forward_packets_total{name="web1",port="3390",proto="tcp",target="10.0.2.10:3389"}'
fwd_many() { v=$(series "$FWD") && [ "${v:-0}" -ge 8 ]; }
run "scrape: $FWD counts both directions of both connections (>= 8 packets)" \
        wait_for 50 fwd_many
fwd_bytes() { v=$(series "$(echo "$FWD" | sed 's/packets_total/bytes_total/')") && [ "${v:-0}" -gt 400 ]; }
run "scrape: ... and their bytes" wait_for 50 fwd_bytes
MD='nestrouter_dropped_packets_total{reason="metadata"}'
md0=$(series "$MD")
must_fail "a guest cannot reach IMDS 169.254.169.254" vnet http web1 169.254.169.254 /nr-vnet
if v=$(grows "$MD" "${md0:-0}"); then pass "scrape: $MD grew ${md0:-?} -> $v"
else fail "scrape: $MD grew (still ${v}, was ${md0:-?})"; fi

# ---------------------------------------------------------------- reload: a new forward
# the open forward of daemon-open-forward.yaml (tcp 8080 -> web1:7777), metrics section kept:
# a delta (its counter and elements added alone), and its own series
full0=$(sj .nft.full_applies) delta0=$(sj .nft.delta_applies)
{ cat "$DL_HERE/daemon-open-forward.yaml"; echo "$METRICS_YAML"; } >"$CFG"
run "nestrouterctl reload (adds tcp 8080 -> web1:7777) exits 0" ctl reload
run "converged after the reload" wait_for 50 converged
check "no full table replace (nft.full_applies ${full0:-?})" "$full0" sj .nft.full_applies
expect "a delta apply ($delta0 -> $(sj .nft.delta_applies))" "$(sj .nft.delta_applies)" -gt "${delta0:-0}"
F8='nestrouter_port_forward_packets_total{name="web1",port="8080",proto="tcp",target="10.0.2.10:7777"}'
check "internet host -> 10.0.0.4:8080 reaches web1:7777" "$INET_IP" vnet whoami inet "$NIC1_IP" 8080
if v=$(grows "$F8" 0); then pass "scrape: $F8 appeared and counts ($v)"
else fail "scrape: $F8 appeared and counts (got ${v})"; fi
pf3390() {
        R nft list counter inet nestrouter fwd-pf-tcp-3390 |
                sed -n 's/^[[:space:]]*packets \([0-9]*\) bytes.*/\1/p'
}
expect "... and the 3390 forward's counter survived the reload ($(pf3390) packets)" "$(pf3390)" -ge 8

# ---------------------------------------------------------------- drift: repairs, debug toggle
REP='nestrouter_repairs_total{kind="route"}'
rep0=$(series "$REP")
m=$(lmark)
run "delete our route 10.0.0.0/22 (drift)" R ip route del 10.0.0.0/22 proto 78
if v=$(grows "$REP" "${rep0:-0}"); then pass "scrape: $REP grew ${rep0:-?} -> $v"
else fail "scrape: $REP grew (still ${v}, was ${rep0:-?})"; fi
run "the repair is logged naming the route" after "$m" '^<5>repaired drift: route replace 10\.0\.0\.0/22 via'
run "... and with debug on, the repair pass is logged" after "$m" '^<7>pass [0-9]+: [1-9][0-9]* ops planned'

m=$(lmark)
run "SIGUSR1: debug off" kill -USR1 "$DPID"
run "... logged as a notice" wait_for 30 after "$m" '^<5>SIGUSR1: debug logging off'
# (another route each time: the same repair within the rate limiter's window is only counted)
m=$(lmark)
run "delete our route 172.16.0.0/22" R ip route del 172.16.0.0/22 proto 78
run "repaired" wait_for 30 after "$m" '^<5>repaired drift: route replace 172\.16\.0\.0/22'
sleep 0.3
if after "$m" '^<7>'; then fail "with debug off, no debug lines"; else pass "with debug off, no debug lines"; fi
m=$(lmark)
run "SIGUSR1 again: debug on" kill -USR1 "$DPID"
run "... logged" wait_for 30 after "$m" '^<5>SIGUSR1: debug logging on'
run "delete our default route of table 1001" R ip route del default table 1001 proto 78
run "with debug on again, the pass is logged" wait_for 30 after "$m" '^<7>pass [0-9]+: '

# ---------------------------------------------------------------- a repeated notice
# The same repair three times within the rate limiter's window: printed once, then counted.
m=$(lmark)
for i in 1 2 3; do
        run "delete 10.0.0.0/22 again ($i)" R ip route del 10.0.0.0/22 proto 78
        run "... repaired" wait_for 30 R sh -c "ip route show 10.0.0.0/22 proto 78 | grep -q ."
done
sleep $((REPEAT + 1))
run "the repeats are counted after the window ('(repeated N times)')" after "$m" \
        'repaired drift: route replace 10\.0\.0\.0/22 .*\(repeated [0-9]+ times?\)$'

# ---------------------------------------------------------------- a permanent conflict
# A foreign route with the key of one of ours (proto static): left alone, reported once, shown
# in status with its reason, and re-checked with backoff (1, 2, 4 ... s), not every second.
m=$(lmark)
p0=$(sj .counters.passes)
run "a foreign route takes over 'default table 1002' (proto static)" \
        R ip route replace default via 10.0.1.1 dev eth1 table 1002 proto static
sleep $((REPEAT * 2 + 1))
p1=$(sj .counters.passes)
conflicts() { tail -n +"$((m + 1))" "$W/daemon.log" | grep -c 'conflict, left alone: a route to 0\.0\.0\.0/0 in table 1002'; }
nc=$(conflicts)
expect "the conflict is re-checked with backoff, not every second ($((p1 - p0)) passes in $((REPEAT * 2 + 1)) s)" \
        $((p1 - p0)) -ge 2 -a $((p1 - p0)) -le 5
expect "the conflict was logged once (got $nc)" "$nc" -eq 1
f0=$(ctl status --json | jq -r '.failing[0] | "\(.kind) \(.object) \(.conflict) \(.reason)"')
expect "status --json lists it as failing: kind, object, conflict, reason ($f0)" \
        "$f0" = "route default table 1002 true a route to 0.0.0.0/0 in table 1002 (proto 4) is not ours"
run "... and status (text) names it" sh -c "timeout 10 '$NRCTL' --run-dir '$RUN' status | grep -qF 'failing: route default table 1002: conflict: a route to 0.0.0.0/0 in table 1002 (proto 4) is not ours'"
check "nestrouterctl metrics: nestrouter_failing_objects{kind=\"route\"} is 1" 1 sh -c \
        "timeout 10 '$NRCTL' --run-dir '$RUN' metrics | sed -n 's/^nestrouter_failing_objects{kind=\"route\"} //p'"
run "remove the foreign route" R ip route del default table 1002 proto static
run "converged again" wait_for 50 converged
run "... the route is ours again" R sh -c "ip route show default table 1002 proto 78 | grep -q ."
run "... logged as resolved" after "$m" 'default table 1002: resolved \(was: a route to 0\.0\.0\.0/0'
expect "... and nothing is failing" "$(sj '.failing | length')" = 0
check "... nor counted in the metrics" 0 sh -c \
        "timeout 10 '$NRCTL' --run-dir '$RUN' metrics | sed -n 's/^nestrouter_failing_objects{kind=\"route\"} //p'"

# ---------------------------------------------------------------- journald fields
# Stop, and start again with stderr "being the journal": JOURNAL_STREAM names the log file's
# device and inode, and a stand-in journal socket listens at /run/systemd/journal/socket in a
# private mount namespace (ip netns exec makes one; /run is a fresh tmpfs there).
nrep=$(grep -c 'repaired drift: route replace 10.0.0.0/22' "$W/daemon.log")
run "SIGTERM stops the daemon" daemon_stop
expect "... with exit status 0" "${DL_RC:-x}" = 0
expect "... and the textfile is removed (a stopped daemon's series vanish)" ! -e "$PROM"
JREC=$W/journal.txt
cat >"$W/journal-recv.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1.0)
end = time.time() + float(sys.argv[3])
with open(sys.argv[2], "ab", buffering=0) as out:
    while time.time() < end:
        try:
            out.write(s.recv(65536) + b"--\n")
        except socket.timeout:
            pass
EOF
JS=$(stat -L -c '%d:%i' "$W/daemon.log")
# shellcheck disable=SC2016
ip netns exec "$RTR" sh -c '
        mount -t tmpfs nr-journal /run && mkdir -p /run/systemd/journal || exit 1
        python3 "$1" /run/systemd/journal/socket "$2" 120 &
        echo $! >"$3"
        n=50; while [ $n -gt 0 ] && [ ! -S /run/systemd/journal/socket ]; do n=$((n - 1)); sleep 0.1; done
        shift 3
        exec env "$@"' sh "$W/journal-recv.py" "$JREC" "$W/recv.pid" $SAN_ENV \
        JOURNAL_STREAM="$JS" "$NRD" --config "$CFG" --run-dir "$RUN" --state-dir "$STATE" \
        </dev/null >>"$W/daemon.log" 2>&1 &
DPID=$!
wait_for 50 test -s "$W/recv.pid" && DL_BG="$DL_BG $(cat "$W/recv.pid")"
run "restarted with JOURNAL_STREAM set: it answers" wait_for 100 ctl_up
jhas() { grep -q -- "$1" "$JREC" 2>/dev/null; }
run "the journal got its messages (MESSAGE=, PRIORITY=, SYSLOG_IDENTIFIER=nestrouterd)" \
        wait_for 50 jhas 'SYSLOG_IDENTIFIER=nestrouterd'
run "... 'configuration loaded' with NR_OBJECT_KIND=config NR_OBJECT=<the file>" sh -c \
        "grep -A4 'MESSAGE=$CFG: configuration loaded' '$JREC' | grep -q 'NR_OBJECT_KIND=config' &&
         grep -A5 'MESSAGE=$CFG: configuration loaded' '$JREC' | grep -qx 'NR_OBJECT=$CFG'"
R ip route del 10.0.0.0/22 proto 78
jrepair() { grep -A5 'MESSAGE=repaired drift: route replace 10.0.0.0/22' "$JREC" | grep -qx 'NR_OBJECT=10.0.0.0/22 table main'; }
run "a repair: NR_OBJECT_KIND=route NR_OBJECT='10.0.0.0/22 table main'" wait_for 50 jrepair
run "... with PRIORITY=5" sh -c "grep -A3 'MESSAGE=repaired drift: route replace 10.0.0.0/22' '$JREC' | grep -qx 'PRIORITY=5'"
check "journal mode: the message did not also go to stderr" "$nrep" \
        grep -c 'repaired drift: route replace 10.0.0.0/22' "$W/daemon.log"
run "SIGTERM stops the journal-mode daemon" daemon_stop
expect "... with exit status 0 (an ASan build: no leak)" "${DL_RC:-x}" = 0

elapsed
summary
