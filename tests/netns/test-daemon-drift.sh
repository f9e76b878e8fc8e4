#!/bin/sh
# The real nestrouterd in a simulated Azure VNet (vnet.sh), control plane: a converged system
# makes no writes (30 s of ip/nft monitors and the writes counter, with resync passes running),
# and every kind of drift — routes, addresses, the bridge, nftables, policy rules, sysctls,
# dnsmasq — is repaired within 1 s and counted in `status --json`, without touching bridge
# ports the daemon does not own.
# Needs root and `make all`. Prints ok/FAIL lines and `N passed, N failed`; cleans up on exit.
# NR_VNET_ID (default ddrift) names the VNet; KEEP=1 keeps the work dir; QUIET_SEC (30) is the
# length of the no-writes window.
# `local`: dash, bash and busybox ash have it; the single-quoted drift texts are eval'd
# shellcheck disable=SC3043,SC2016
set -u
NR_VNET_ID=${NR_VNET_ID:-ddrift}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
dl_init
QUIET_SEC=${QUIET_SEC:-30}
RESYNC=5

dl_vnet_up
cp "$DL_ROOT/configs/azure-nested.yaml" "$CFG"
run "nestrouterd starts in $RTR and converges (resync every ${RESYNC}s)" daemon_up NR_RESYNC_SEC=$RESYNC
if [ -z "$DPID" ] || ! ctl_up; then fail "daemon not running: nothing more to test"; summary; exit; fi
check "guest web1 gets its reservation" "$WEB1_IP" vnet guest-add web1 "$WEB1_MAC"
check "web1 -> Azure VM" "$WEB1_IP" vnet whoami web1 "$VM_IP"
# a bridge port the daemon does not own (like a libvirt tap): it must never be detached
run "a test veth nrt-tp0 added to nr0 by the test" R sh -c \
        "ip link add nrt-tp0 type veth peer name nrt-tp0p && ip link set nrt-tp0 master nr0 &&
         ip link set nrt-tp0 up && ip link set nrt-tp0p up"
master_of() { R ip -o link show dev "$1" 2>/dev/null | sed -n 's/.* master \([^ ]*\) .*/\1/p'; }
ports_kept() { [ "$(master_of nrt-tp0)" = nr0 ] && [ "$(master_of vg-web1)" = nr0 ]; }
run "converged again after the test's port appeared" wait_for 30 converged
# the kernel's own follow-ups of link creation (carrier via linkwatch, up to ~1 s late; IPv6 DAD)
# must be over before the quiet window, or they would be counted against the daemon
settled() {
        local d
        for d in eth0 eth1 nr0 vg-web1 nrt-tp0; do
                R ip -o link show dev "$d" | grep -q ' state UP ' || return 1
        done
        [ -z "$(R ip -6 -o addr show tentative)" ]
}
run "the router namespace has settled (links UP, no tentative IPv6 address)" wait_for 100 settled

# ---------------------------------------------------------------- a converged system is quiet
# Three monitors watch the router namespace for QUIET_SEC seconds while resync passes run; then
# the test makes one foreign change of each kind (route in table 999, veth pair, nft table) as
# a positive control that the monitors were live, and they stop 3 s later.
w0=$(sj .counters.writes) p0=$(sj .counters.passes) e0=$(sj .counters.events_netlink)
fc0=$(sj .nft.foreign_commits)
mon_for=$((QUIET_SEC + 3))
bg timeout "$mon_for" ip netns exec "$RTR" ip -ts -4 monitor route address rule >"$W/mon-ip4" 2>&1
m1=$BGPID
bg timeout "$mon_for" ip netns exec "$RTR" ip -ts monitor link >"$W/mon-link" 2>&1
m2=$BGPID
bg timeout "$mon_for" ip netns exec "$RTR" nft monitor >"$W/mon-nft" 2>&1
m3=$BGPID
echo "# watching $RTR for ${QUIET_SEC}s (ip -4 monitor route address rule, ip monitor link, nft monitor)"
sleep "$QUIET_SEC"
w1=$(sj .counters.writes) p1=$(sj .counters.passes) e1=$(sj .counters.events_netlink)
cp "$W/mon-ip4" "$W/quiet-ip4"
cp "$W/mon-link" "$W/quiet-link"
cp "$W/mon-nft" "$W/quiet-nft"
R sh -c "ip route add 192.0.2.0/24 dev lo table 999 proto static && ip route del 192.0.2.0/24 dev lo table 999 &&
        ip link add nrt-ctl type veth peer name nrt-ctlp && ip link del nrt-ctl &&
        nft add table ip nrtctl && nft delete table ip nrtctl"
quiet_done=1
# timeout(1) exits 124 when it ended the monitor: each one ran the whole time
for m in $m1 $m2 $m3; do dl_reap "$m" $((mon_for * 10 + 30)) && [ "$DL_RC" = 124 ] || quiet_done=0; done
expect "the monitors ran for the whole window" "$quiet_done" = 1
check "ip -4 monitor route address rule printed nothing in ${QUIET_SEC}s" "" cat "$W/quiet-ip4"
check "ip monitor link printed nothing about nr0, eth0 or eth1 in ${QUIET_SEC}s" "" \
        grep -E '(^|[ :@])(nr0|eth0|eth1)[:@ ]' "$W/quiet-link"
[ -s "$W/quiet-link" ] && sed 's/^/# other link event: /' "$W/quiet-link"
check "nft monitor printed nothing in ${QUIET_SEC}s" "" cat "$W/quiet-nft"
run "positive control: the monitors saw the test's own changes afterwards" sh -c \
        "grep -q '192.0.2.0/24' '$W/mon-ip4' && grep -q 'nrt-ctl' '$W/mon-link' && grep -q 'nrtctl' '$W/mon-nft'"
check "status: writes unchanged over ${QUIET_SEC}s" "$w0" echo "$w1"
expect "status: resync passes ran meanwhile (passes $p0 -> $p1)" "$p1" -gt "$p0"
check "status: the daemon saw no kernel event meanwhile" "$e0" echo "$e1"
check "status: the foreign changes made it write nothing" "$w0" sj .counters.writes
expect "status: the foreign nft table add and delete were seen as two foreign commits" \
        "$(sj .nft.foreign_commits)" -ge $((fc0 + 2))
nft_trusted() { [ "$(sj .nft.trusted)" = true ]; }
run "... and the next pass listed our table, found it unchanged and trusts it again" \
        wait_for 50 nft_trusted

# ---------------------------------------------------------------- drift, repaired within 1 s
# drift NAME KEY DRIFT RESTORED: runs DRIFT (shell text) in the router namespace's terms, then
# polls RESTORED every 20 ms for at most 1 s; the repairs counter KEY must have risen, and
# nothing may be pending afterwards.
drift() {
        local name=$1 key=$2 before after ms pend
        before=$(sj ".counters.repairs.$key")
        if ! eval "$3"; then fail "drift: $name: could not make the drift"; return; fi
        if ! ms=$(poll_ms 1000 eval "$4"); then
                fail "drift: $name: not repaired within 1 s (${ms} ms)"
                return
        fi
        after=$(sj ".counters.repairs.$key")
        pend=$(sj '.pending | length')
        if [ "$after" -gt "$before" ] && [ "$pend" = 0 ]; then
                pass "drift: $name: repaired in $ms ms, repairs.$key $before -> $after"
        else
                echo "# repairs.$key $before -> $after, pending: $(ctl status --json | jq -c .pending)"
                fail "drift: $name: repaired in $ms ms but not counted in repairs.$key (or pending)"
        fi
}
rt() { R ip -4 route show "$@" 2>/dev/null; }
NFT_BEFORE=$W/nft.before
R nft -s list table inet nestrouter >"$NFT_BEFORE"
nft_same() { R nft -s list table inet nestrouter 2>/dev/null | cmp -s - "$NFT_BEFORE"; }
nft_handle() { # CHAIN ID: the handle of our rule with that comment id
        R nft -a list chain inet nestrouter "$1" | sed -n "s/.*comment \"$2\" # handle \([0-9][0-9]*\)\$/\1/p"
}
sysctl_is() { [ "$(R cat "/proc/sys/$1")" = "$2" ]; }

drift "route 172.16.0.0/22 deleted" route \
        'R ip route del 172.16.0.0/22 proto 78' \
        '[ "$(rt 172.16.0.0/22)" = "172.16.0.0/22 via 10.0.1.1 dev eth1 proto 78 " ]'
# same key (table, destination, metric), another gateway: the plan compares whole routes
drift "route 172.16.0.0/22 replaced with gateway 10.0.1.99 (same key, proto 78)" route \
        'R ip route replace 172.16.0.0/22 via 10.0.1.99 dev eth1 proto 78 &&
         [ "$(rt 172.16.0.0/22)" = "172.16.0.0/22 via 10.0.1.99 dev eth1 proto 78 " ]' \
        '[ "$(rt 172.16.0.0/22)" = "172.16.0.0/22 via 10.0.1.1 dev eth1 proto 78 " ]'
drift "default route of table 1001 deleted" route \
        'R ip route del default table 1001' \
        'rt default table 1001 | grep -q "^default via 10.0.0.1 dev eth0 proto 78"'
drift "address 10.0.2.1/24 removed from nr0" address \
        'R ip addr del 10.0.2.1/24 dev nr0' \
        'R ip -4 -o addr show dev nr0 | grep -q " 10.0.2.1/24 " &&
         rt 10.0.2.0/24 table 1001 | grep -q "dev nr0 proto 78 scope link src 10.0.2.1"'
drift "address 10.0.1.4/24 removed from eth1 (NIC2)" address \
        'R ip addr del 10.0.1.4/24 dev eth1' \
        'R ip -4 -o addr show dev eth1 | grep -q " 10.0.1.4/24 " &&
         [ "$(rt 172.16.0.0/22)" = "172.16.0.0/22 via 10.0.1.1 dev eth1 proto 78 " ]'
drift "bridge nr0 set down" link \
        'R ip link set nr0 down' \
        'R ip -o link show dev nr0 | grep -q "[<,]UP[,>]" &&
         R ip -4 -o addr show dev nr0 | grep -q " 10.0.2.1/24 " && rt 10.0.2.0/24 table 1002 | grep -q nr0'
run "after the bridge went down and up, nrt-tp0 and vg-web1 are still ports of nr0" ports_kept
drift "nft table inet nestrouter deleted" nft \
        'R nft delete table inet nestrouter' \
        'nft_same'
h=$(nft_handle forward fwd-guest-imds)
drift "nft rule fwd-guest-imds deleted (handle ${h:-?})" nft \
        'R nft delete rule inet nestrouter forward handle "${h:-0}"' \
        'nft_same'
h=$(nft_handle postrouting post-masq-nat)
drift "nft rule post-masq-nat deleted (handle ${h:-?})" nft \
        'R nft delete rule inet nestrouter postrouting handle "${h:-0}"' \
        'nft_same'
drift "policy rule 5002 (from 10.0.0.4 lookup 1001) deleted" rule \
        'R ip rule del pref 5002' \
        'R ip rule show pref 5002 | grep -q "^5002:.*from 10.0.0.4 lookup 1001 proto 78"'
drift "policy rule 5000 (fwmark 0x100/0x300 lookup 1001) deleted" rule \
        'R ip rule del pref 5000' \
        'R ip rule show pref 5000 | grep -q "^5000:.*fwmark 0x100/0x300 lookup 1001 proto 78"'
drift "net.ipv4.ip_forward set to 0" sysctl \
        'R sh -c "echo 0 >/proc/sys/net/ipv4/ip_forward"' \
        'sysctl_is net/ipv4/ip_forward 1'
drift "net.ipv4.conf.eth0.rp_filter set to 1 (strict)" sysctl \
        'R sh -c "echo 1 >/proc/sys/net/ipv4/conf/eth0/rp_filter"' \
        'sysctl_is net/ipv4/conf/eth0/rp_filter 2'
dm_old=$(sj .dnsmasq.pid) crash0=$(sj .dnsmasq.crashes)
dm_new() {
        local p
        p=$(sj .dnsmasq.pid)
        [ "$p" != "$dm_old" ] && [ "$p" -gt 0 ] && pid_running "$p" &&
                R ss -Hlun 'sport = :67' | grep -q .
}
drift "dnsmasq (pid $dm_old) SIGKILLed" dnsmasq \
        '[ "${dm_old:-0}" -gt 1 ] && kill -KILL "$dm_old"' \
        'dm_new'
expect "dnsmasq.crashes counted it ($crash0 -> $(sj .dnsmasq.crashes))" "$(sj .dnsmasq.crashes)" -gt "$crash0"
check "web1 renews its lease from the new dnsmasq" "$WEB1_IP" renew web1
run "after all these repairs nrt-tp0 and vg-web1 are still ports of nr0" ports_kept
check "web1 -> Azure VM still works" "$WEB1_IP" vnet whoami web1 "$VM_IP"
check "web1 -> internet host as 10.0.0.4" "$NIC1_IP" vnet whoami web1 "$INET_IP"
check "nic1-drops 0 through all the drift" 0 vnet nic1-drops

# the bridge itself deleted: the kernel releases its ports (the test's veth and the guest's);
# the daemon recreates nr0 and gives it back the ports the old one had
drift "bridge nr0 deleted" link \
        'R ip link del nr0' \
        'R ip -d -o link show dev nr0 | grep -q " bridge " && R ip -o link show dev nr0 | grep -q "[<,]UP[,>]" &&
         R ip -4 -o addr show dev nr0 | grep -q " 10.0.2.1/24 " && nft_same &&
         [ "$(rt 10.0.2.0/24 table 1001)" = "10.0.2.0/24 dev nr0 proto 78 scope link src 10.0.2.1 " ]'
# the kernel took every port off with the old bridge; the daemon gives the new one the ports
# the old one had, its own or not (a libvirt tap is not ours either), and writes nothing else
ports_back() { [ "$(master_of nrt-tp0)" = nr0 ] && [ "$(master_of vg-web1)" = nr0 ]; }
run "nrt-tp0 and vg-web1 (not the daemon's) are ports of the new nr0 again" wait_for 10 ports_back
run "converged after that" wait_for 30 converged
# (the bridge table's set of ports follows them: an nft change, counted apart)
w1=$(sj '.counters.writes - .counters.changes.nft')
sleep 0.5
run "the daemon leaves them there" ports_kept
check "... and makes no further write" "$w1" sj '.counters.writes - .counters.changes.nft'
check "web1 -> Azure VM works again through the recreated bridge" "$WEB1_IP" vnet whoami web1 "$VM_IP"
run "dnsmasq was restarted for the new bridge (its DHCP socket stays bound to the old one)" \
        grep -q "bridge nr0 was replaced (ifindex [0-9]*, now [0-9]*); restarting it" "$W/daemon.log"
check "web1 renews its lease through the recreated bridge" "$WEB1_IP" renew web1

# a dnsmasq that does not stop never blocks the loop: SIGSTOPped, it cannot act on the SIGTERM
# of a restart (the bridge replaced again); the supervisor kills it after its 2 s grace, and
# meanwhile status answers and a deleted route is repaired as quickly as ever
dm_stuck=$(sj .dnsmasq.pid)
stuck_stopping() { [ "$(sj .dnsmasq.stopping)" = true ] && pid_running "$dm_stuck"; }
if [ "${dm_stuck:-0}" -gt 1 ] && kill -STOP "$dm_stuck" && R ip link del nr0 &&
        wait_for 10 stuck_stopping; then
        pass "dnsmasq (pid $dm_stuck) SIGSTOPped, nr0 deleted: the daemon is stopping dnsmasq"
        t0=$(now_ms)
        ctl status >/dev/null
        t1=$(now_ms)
        R ip route del 172.16.0.0/22 proto 78
        ms=$(poll_ms 1000 eval '[ "$(rt 172.16.0.0/22)" = "172.16.0.0/22 via 10.0.1.1 dev eth1 proto 78 " ]')
        repaired=$?
        run "... status answered in $((t1 - t0)) ms meanwhile (< 500 ms)" [ $((t1 - t0)) -lt 500 ]
        run "... route 172.16.0.0/22 deleted meanwhile: repaired in $ms ms (< 1 s)" [ "$repaired" = 0 ]
        run "... while that dnsmasq was still being stopped (not waited for)" stuck_stopping
else
        fail "dnsmasq SIGSTOPped and nr0 deleted: the daemon is stopping dnsmasq"
fi
stuck_gone() { ! pid_running "$dm_stuck"; }
run "the stuck dnsmasq is killed after its grace period" wait_for 40 stuck_gone
kill -CONT "$dm_stuck" 2>/dev/null # had it not been killed
dm_old=$dm_stuck
run "a new dnsmasq serves DHCP on the new nr0" wait_for 40 dm_new
check "status --json: dnsmasq.last_exit says why (requested, SIGKILL after the grace period)" \
        "$dm_stuck true 9 killed (SIGKILL) after the stop grace period" \
        sj '"\(.dnsmasq.last_exit.pid) \(.dnsmasq.last_exit.requested) \(.dnsmasq.last_exit.signal) \(.dnsmasq.last_exit.reason)"'
check_grep "status: a dnsmasq line with the last exit" \
        '^dnsmasq: +last exit [0-9T:-]+Z \(pid [0-9]+\): killed \(SIGKILL\) after the stop grace' ctl status
run "converged after that" wait_for 30 converged
run "nrt-tp0 and vg-web1 are ports of the new nr0 again" wait_for 10 ports_back
check "web1 renews its lease from the new dnsmasq" "$WEB1_IP" renew web1
check "status: converged, nothing pending" "true 0" sj '"\(.converged) \(.pending | length)"'
check "status: no failures" 0 sj .counters.failures
run "SIGTERM: the daemon exits" daemon_stop
expect "... with status 0 (an ASan build: no error, no leak)" "${DL_RC:-x}" = 0

elapsed
summary
