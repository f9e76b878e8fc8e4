#!/bin/sh
# The real nestrouterd in a simulated Azure VNet (vnet.sh): commit-confirmed reloads.
# A reload that locks the test's SSH client (the Azure VM, through NIC2) out of the appliance is
# rolled back by itself when nobody confirms it, and SSH works again; a confirmed one stays; a
# reload inside the window keeps the rollback target; a restart inside the window rolls back.
# Needs root and `make all`. Prints ok/FAIL lines and `N passed, N failed`; cleans up on exit.
# NR_VNET_ID (default dconfirm) names the VNet; KEEP=1 keeps the work dir.
# shellcheck disable=SC3043
set -u
NR_VNET_ID=${NR_VNET_ID:-dconfirm}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
dl_init

dl_vnet_up
# open:   SSH from the Azure VMs' subnet (where the test's client is)
# locked: SSH only from a network the client is not in
# wider:  the VMs' subnet and on-premises
conf() { cat "$DL_ROOT/configs/azure-nested.yaml"; printf 'firewall:\n  ssh_from: [%s]\n' "$1"; }
conf 10.0.3.0/24 >"$W/open.yaml"
conf 192.0.2.0/24 >"$W/locked.yaml"
conf '10.0.3.0/24, 172.16.0.0/22' >"$W/wider.yaml"
cp "$W/open.yaml" "$CFG"
run "nestrouterd starts in $RTR and converges (SSH from 10.0.3.0/24)" daemon_up
if [ -z "$DPID" ] || ! ctl_up; then fail "daemon not running: nothing more to test"; summary; exit; fi

# an SSH server stand-in on port 22 of the router namespace; the client is the Azure VM
bg ip netns exec "$RTR" busybox nc -ll -p 22 -e /bin/echo SSH-2.0-test
ssh_ok() { vnet exec vm busybox nc -w 2 "$NIC2_IP" 22 </dev/null 2>/dev/null | grep -q SSH-2.0; }
run "SSH from the Azure VM to 10.0.1.4 works" wait_for 20 ssh_ok

# ---------------------------------------------------------------- not confirmed: rolled back
cp "$W/locked.yaml" "$CFG"
check_grep "reload --confirm 3 with a file that locks SSH out" 'rolls back in 3 s unless' \
        ctl reload --confirm 3
ssh_refused() { ! ssh_ok; }
run "... applied at once: SSH from the Azure VM no longer connects" ssh_refused
check "status: a confirmation is pending" true sj .confirm.pending
left=$(sj .confirm.seconds_left)
expect "status: seconds left is 1 to 3 ($left)" "${left:-0}" -ge 1 -a "${left:-0}" -le 3
check_grep "status (text) says when it rolls back" '^confirm: +pending: rolls back in [0-9]+ s' ctl status
rolled() { [ "$(sj .confirm.rolled_back)" = 1 ] && [ "$(sj .confirm.pending)" = false ]; }
ms=$(poll_ms 6000 rolled) && pass "not confirmed: rolled back by itself ($ms ms after the reload answered)" ||
        fail "not confirmed: no rollback within 6 s"
run "SSH from the Azure VM works again after the rollback" wait_for 30 ssh_ok
run "the file on disk is the previous one again" cmp "$CFG" "$W/open.yaml"
run "the unconfirmed file is kept next to it" cmp "$CFG.unconfirmed" "$W/locked.yaml"
run "converged after the rollback" wait_for 30 converged
check "confirm with nothing pending exits 1" 1 sh -c "'$NRCTL' --run-dir '$RUN' confirm >/dev/null 2>&1; echo \$?"

# ---------------------------------------------------------------- confirmed: stays
cp "$W/wider.yaml" "$CFG"
check_grep "reload --confirm 3 with a file that keeps SSH open" 'rolls back in 3 s unless' \
        ctl reload --confirm 3
check_grep "confirm" 'confirmed; no rollback' ctl confirm
sleep 4
check "confirmed: nothing pending, nothing rolled back (still 1 rollback in all)" "false 1 1" \
        sj '"\(.confirm.pending) \(.confirm.rolled_back) \(.confirm.confirmed)"'
run "confirmed: the file stays" cmp "$CFG" "$W/wider.yaml"
run "confirmed: SSH from the Azure VM works" ssh_ok
run "confirmed: on-premises is in the ssh_from set" sh -c \
        "ip netns exec '$RTR' nft list set inet nestrouter ssh_from | grep -q '172.16.0.0/22'"

# ---------------------------------------------------------------- a reload inside the window
cp "$W/locked.yaml" "$CFG"
run "reload --confirm 30 (locked out)" ctl reload --confirm 30
cp "$W/open.yaml" "$CFG"
run "a plain reload inside the window" ctl reload
check "the window stays open (a plain reload does not confirm)" true sj .confirm.pending
# ---------------------------------------------------------------- a restart inside the window
cp "$W/locked.yaml" "$CFG"
run "reload --confirm 30 again (locked out; the target is still the wider file)" ctl reload --confirm 30
run "SIGTERM inside the window" daemon_stop
run "started again" daemon_up
run "the restart rolled back to the file from before the window (wider)" cmp "$CFG" "$W/wider.yaml"
check "status: no confirmation pending after the restart" false sj .confirm.pending
check "status: the rollback at start is counted" 1 sj .confirm.rolled_back
run "SSH from the Azure VM works after that restart" wait_for 30 ssh_ok
check_grep "the daemon log says why" 'still waiting for confirmation when nestrouterd stopped' cat "$W/daemon.log"

run "SIGTERM: the daemon exits" daemon_stop
expect "... with status 0 (an ASan build: no error, no leak)" "${DL_RC:-x}" = 0

elapsed
summary
