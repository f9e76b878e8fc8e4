#!/bin/sh
# The daemon's integration suite: the real nestrouterd in simulated Azure VNets (vnet.sh).
#   test-daemon-traffic.sh    leases, routed/NATed traffic, nic1-drops, port forwards, spoofing,
#                             IMDS, a reload adding an open forward, masquerade negative control
#   test-daemon-drift.sh      a converged system is quiet (30 s); every drift kind repaired < 1 s
#   test-daemon-lifecycle.sh  sd_notify, missing/invalid config, reloads, SIGTERM, restart,
#                             --teardown, address: dhcp
#   test-daemon-hostile.sh    hostile files, stuck control clients, guest RAs, the bridge
#                             deleted with ports, unreachable run dir, full state filesystem
#   test-daemon-confirm.sh    reload --confirm: rolled back unless confirmed (SSH lock-out)
#   test-daemon-isolation.sh  hostile guests: ARP and IP spoofing, DHCP starvation, isolation,
#                             drift of the bridge table
#   test-daemon-metrics.sh    the Prometheus textfile (promtool, a node exporter scrape), --debug,
#                             SIGUSR1, repeated warnings counted, journald fields
# Each script builds and removes its own VNet (NR_VNET_ID dtraffic, ddrift, dlife, dhostile,
# dconfirm, diso, dmetrics) and can be run alone. This wrapper runs them one after the other
# (-j: all at once), prefixes their ok/FAIL lines with the script's name and ends with one `N passed, N failed`.
# Needs root, gcc and `make all`; NRD/NRCTL pick other binaries (e.g. NRD=build/asan/nestrouterd).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
parallel=0
[ "${1:-}" = -j ] && parallel=1
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
unset NR_VNET_ID            # each script uses its own VNet
tmp=$(mktemp -d) || exit 2
pids=""
cleanup() {
        for p in $pids; do kill -TERM "$p" 2>/dev/null; done
        wait
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
t0=$(date +%s)

# tally NAME FILE: counts from the script's closing line; a script that died without one fails
tally() {
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$2" | tail -n 1)
        if [ -z "$line" ]; then
                fail "$1: ended without a summary (exit $(cat "$2.rc" 2>/dev/null))"
                return
        fi
        p=${line%% passed*}
        f=${line#*, }
        f=${f%% failed}
        PASSED=$((PASSED + p))
        FAILED=$((FAILED + f))
        [ "$f" -gt 0 ] && FAILED_NAMES="$FAILED_NAMES $1"
        [ "$(cat "$2.rc" 2>/dev/null)" = 0 ] || [ "$f" -gt 0 ] ||
                fail "$1: exit status $(cat "$2.rc" 2>/dev/null) with no failed check"
}
label() { sed -u -e "s/^ok - /ok - $1: /" -e "s/^FAIL - /FAIL - $1: /" \
        -e "s/^\([0-9][0-9]* passed, [0-9][0-9]* failed\)\$/# $1: \1/" -e "s/^failed:/# $1 failed:/"; }

names="traffic drift lifecycle hostile confirm isolation metrics"
limit=300   # per script; a script that is TERMed still cleans up (trap)
if [ $parallel = 1 ]; then
        # the scripts themselves in the background (by pid), so that cleanup can TERM them
        for n in $names; do
                timeout --foreground "$limit" sh "$here/test-daemon-$n.sh" >"$tmp/$n" 2>&1 &
                eval "pid_$n=\$!"
                pids="$pids $!"
        done
        for n in $names; do
                eval "wait \$pid_$n"
                echo $? >"$tmp/$n.rc"
        done
        pids=""
        for n in $names; do label "$n" <"$tmp/$n"; tally "$n" "$tmp/$n"; done
else
        for n in $names; do
                { timeout --foreground "$limit" sh "$here/test-daemon-$n.sh" 2>&1; echo $? >"$tmp/$n.rc"; } |
                        tee "$tmp/$n" | label "$n"
                tally "$n" "$tmp/$n"
        done
fi
echo "# test-daemon.sh: $(($(date +%s) - t0)) s"
summary
