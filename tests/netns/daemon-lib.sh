# daemon-lib.sh: shared by tests/netns/test-daemon-*.sh, which run the REAL nestrouterd in the
# router namespace of a simulated Azure VNet (vnet.sh) and check what it does to the kernel,
# nftables, dnsmasq and the guests' traffic. Sourced, not run. POSIX sh plus `local`.
#
# A script sets NR_VNET_ID (its own VNet, so the scripts can run side by side), sources this file
# and calls dl_init; the EXIT trap then stops every process it started (by pid: the daemons, the
# notify receiver, monitors), brings the VNet down and removes its work dir (KEEP=1 keeps it).
# Every wait here is bounded in count and in time.
# shellcheck disable=SC3043,SC2034

DL_HERE=$(cd "$(dirname "$0")" && pwd)
DL_ROOT=$(cd "$DL_HERE/../.." && pwd)
. "$DL_ROOT/tests/lib.sh"
. "$DL_HERE/vnet.sh"

NRD=${NRD:-$DL_ROOT/build/nestrouterd}
NRCTL=${NRCTL:-$DL_ROOT/build/nestrouterctl}
NOTIFY_RECV=$DL_ROOT/build/notify-recv

DPID=""          # the running daemon (ours, by pid)
DL_BG=""         # other background processes we started (pids)
W=""             # work dir: config, run dir, state dir, logs

dl_init() {
        [ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
        local t
        for t in ip nft jq dnsmasq busybox timeout date; do
                command -v "$t" >/dev/null 2>&1 || { echo "$0: missing tool $t" >&2; exit 2; }
        done
        [ -x "$NRD" ] && [ -x "$NRCTL" ] || { echo "$0: build first (make all)" >&2; exit 2; }
        NR_VNET_QUIET=1
        export NR_VNET_ID NR_VNET_QUIET
        _vn_init || exit 2
        RTR=$VN_P-rtr
        W=$(mktemp -d "/tmp/nr-dtest-$NR_VNET_ID.XXXXXX") || exit 2
        # dnsmasq drops to `nobody` and then reads its hosts file in the run dir: the path to it
        # must be searchable like /run is (mktemp makes 0700)
        chmod 755 "$W" || exit 2
        RUN=$W/run
        STATE=$W/state
        CFG=$W/conf/nestrouter.yaml
        mkdir -p "$RUN" "$STATE" "$W/conf" "$W/bin" || exit 2
        # private copies: a `make` running meanwhile must not swap the binaries under the test
        # (nestrouter-virt, the libvirt helper, is found next to nestrouterd and nestrouterctl)
        cp "$NRD" "$W/bin/nestrouterd" && cp "$NRCTL" "$W/bin/nestrouterctl" &&
                cp "$(dirname "$NRD")/nestrouter-virt" "$W/bin/nestrouter-virt" || exit 2
        NRD=$W/bin/nestrouterd
        NRCTL=$W/bin/nestrouterctl
        trap dl_cleanup EXIT
        trap 'exit 130' INT TERM HUP
        trap 'exit 141' PIPE    # output cut short (| head): still clean up
        T0=$(now_ms)
}

dl_cleanup() {
        local p rc=$?
        trap - EXIT
        trap '' PIPE INT TERM HUP
        [ -n "$DPID" ] && daemon_stop >/dev/null 2>&1
        for p in $DL_BG; do kill -TERM "$p" 2>/dev/null; done
        for p in $DL_BG; do dl_reap "$p" 20 || kill -KILL "$p" 2>/dev/null; done
        if [ "$FAILED" -gt 0 ] && [ -n "$W" ] && [ -s "$W/daemon.log" ]; then
                echo "# --- daemon log (last 40 lines)"
                tail -n 40 "$W/daemon.log" | sed 's/^/#   /'
        fi
        vnet down >/dev/null 2>&1 || echo "# vnet down reported a problem"
        if [ -n "$W" ]; then
                if [ -n "${KEEP:-}" ]; then echo "# kept $W"; else rm -rf "$W"; fi
        fi
        exit $rc
}

# dl_vnet_up: our VNet, or stop here (the EXIT trap takes down whatever part of it is up)
dl_vnet_up() {
        if vnet up >"$W/vnet-up.log" 2>&1; then
                pass "vnet up ($NR_VNET_ID)"
                return 0
        fi
        sed 's/^/# /' "$W/vnet-up.log"
        fail "vnet up ($NR_VNET_ID)"
        summary
        exit 1
}


# pid_running PID: alive and not a zombie
pid_running() {
        local s
        [ -r "/proc/$1/stat" ] || return 1
        s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
        [ -n "$s" ] && [ "$s" != Z ]
}

# dl_reap PID TENTHS: wait (bounded) for a child of this shell to exit, then reap it; the exit
# status of the child is left in DL_RC. Fails when it is still running.
dl_reap() {
        local n=$2
        while [ "$n" -gt 0 ] && pid_running "$1"; do n=$((n - 1)); sleep 0.1; done
        pid_running "$1" && return 1
        wait "$1" 2>/dev/null
        DL_RC=$?
        return 0
}



# ------------------------------------------------------------------------- the daemon
R() { ip netns exec "$RTR" "$@"; }
ctl() { timeout 10 "$NRCTL" --run-dir "$RUN" "$@"; }
sj() { ctl status --json | jq -r "$1"; }
# rule_packets ID: the packet counter of the nft rule with that comment id
rule_packets() { ctl status --json | jq -r --arg id "$1" '.nft.rules[] | select(.id == $id) | .packets'; }

# For an ASan build (NRD=build/asan/nestrouterd): a libnftables leak is suppressed (lsan.supp);
# the other builds ignore these variables.
SAN_ENV="ASAN_OPTIONS=fast_unwind_on_malloc=0 LSAN_OPTIONS=suppressions=$DL_HERE/lsan.supp"

# daemon_start [VAR=VALUE...]: nestrouterd in the router namespace with $CFG, $RUN, $STATE
# (and $NRD_ARGS, e.g. --debug); `ip netns exec` and env both exec, so $! is the daemon itself.
# Does not wait.
daemon_start() {
        # shellcheck disable=SC2086
        ip netns exec "$RTR" env $SAN_ENV "$@" "$NRD" ${NRD_ARGS:-} --config "$CFG" --run-dir "$RUN" \
                --state-dir "$STATE" </dev/null >>"$W/daemon.log" 2>&1 &
        DPID=$!
        echo "# nestrouterd started (pid $DPID)" >>"$W/daemon.log"
}

converged() { [ "$(sj .converged)" = true ]; }
ctl_up() { ctl status >/dev/null; }

# daemon_up [VAR=VALUE...]: start and wait (10 s) until it answers and has converged
daemon_up() {
        daemon_start "$@"
        wait_for 100 ctl_up || return 1
        wait_for 100 converged
}

# daemon_stop: SIGTERM, bounded wait (5 s), then SIGKILL; DL_RC is its exit status
daemon_stop() {
        [ -n "$DPID" ] || return 0
        kill -TERM "$DPID" 2>/dev/null
        if ! dl_reap "$DPID" 50; then
                echo "# nestrouterd (pid $DPID) ignored SIGTERM; killing it"
                kill -KILL "$DPID" 2>/dev/null
                dl_reap "$DPID" 20
                DPID=""
                return 1
        fi
        DPID=""
        return 0
}

# bg CMD...: a background helper we stop at exit (by pid); its pid is left in BGPID
bg() {
        "$@" &
        BGPID=$!
        DL_BG="$DL_BG $BGPID"
}

# ------------------------------------------------------------------------- checks
# check NAME WANT CMD...: CMD's output must be exactly WANT
check() {
        local n=$1 want=$2 got
        shift 2
        got=$("$@" 2>&1)
        if [ "$got" = "$want" ]; then pass "$n"; else echo "# want '$want', got '$got'"; fail "$n"; fi
}
# check_grep NAME PATTERN CMD...: CMD's output must match PATTERN (grep -E)
check_grep() {
        local n=$1 pat=$2 got
        shift 2
        got=$("$@" 2>&1)
        if printf '%s\n' "$got" | grep -Eq -- "$pat"; then pass "$n"; else
                echo "# want /$pat/, got:"; printf '%s\n' "$got" | sed 's/^/#   /'; fail "$n"; fi
}
# must_fail NAME CMD...: CMD must fail (a 2 s timeout keeps the negative checks quick)
must_fail() {
        local n=$1
        shift
        if NR_VNET_TIMEOUT=2 "$@" >/dev/null 2>&1; then fail "$n"; else pass "$n"; fi
}
# expect NAME CONDITION-TEXT: passes when `test CONDITION` holds, else prints it
expect() {
        local n=$1
        shift
        if test "$@"; then pass "$n"; else echo "# not true: $*"; fail "$n"; fi
}

# the guests of the seed topology (configs/azure-nested.yaml): web1 has a reservation
WEB1_MAC=52:54:00:00:00:10
WEB1_IP=10.0.2.10
G2_MAC=52:54:00:00:00:20
VM_IP=10.0.3.4
ONP_IP=172.16.0.10
INET_IP=203.0.113.10
NIC1_IP=10.0.0.4
NIC2_IP=10.0.1.4

# add_guests: web1 (reserved) and g2 (dynamic); sets G2_IP
add_guests() {
        check "guest web1 ($WEB1_MAC) gets its reservation $WEB1_IP" "$WEB1_IP" \
                vnet guest-add web1 "$WEB1_MAC"
        check_grep "guest g2 ($G2_MAC) gets a pool address (10.0.2.100-200)" \
                '^10\.0\.2\.(1[0-9][0-9]|200)$' vnet guest-add g2 "$G2_MAC"
        G2_IP=$(vnet guest-ip g2 2>/dev/null)
}

# renew NAME: make the guest's udhcpc renew its lease now (SIGUSR1) and print the address the
# server acknowledged; fails when no answer came within 5 s. The hook rewrites the lease file
# on every bound/renew, so it is removed first and waited for.
renew() {
        local f="$VN_DIR/leases/g-$1" pid st
        read -r pid st <"$VN_DIR/pids/g-$1-dhcp.pid" || return 1
        _vn_alive "$pid" "$st" || return 1
        rm -f "$f"
        kill -USR1 "$pid" || return 1
        wait_for 50 test -s "$f" || return 1
        sed -n "s/^ip='\(.*\)'$/\1/p" "$f"
}

# nr_routes: our routes and rules as the kernel lists them (sorted), for before/after compares
nr_routes() {
        { R ip -4 route show table all proto 78; R ip -4 rule show | grep ' proto 78'; } 2>/dev/null |
                sort
}

elapsed() { echo "# $(basename "$0"): $((($(now_ms) - T0) / 1000)) s"; }

# ------------------------------------------------------------------------- a private libvirtd
# For the guest suites: libvirt-sandbox.sh runs libvirtd in the router namespace. dl_sandbox_trap
# (after dl_init) makes the EXIT trap stop it first, then do dl_cleanup, keeping the exit status;
# dl_sandbox_start (after dl_vnet_up) starts it and sets URI for VIRSH, or stops the script here.
dl_sandbox_cleanup() {
        local rc=$?
        [ -n "$LV_STARTED" ] && sh "$DL_HERE/libvirt-sandbox.sh" stop "$SANDBOX" >/dev/null 2>&1
        LV_STARTED=""
        (exit $rc)
        dl_cleanup
}
dl_sandbox_trap() {
        SANDBOX=$W/libvirt
        LV_STARTED=""
        trap dl_sandbox_cleanup EXIT
}
dl_sandbox_start() {
        local t0
        t0=$(now_ms)
        if URI=$(sh "$DL_HERE/libvirt-sandbox.sh" start "$SANDBOX" "$RTR" 2>"$W/sandbox.log"); then
                LV_STARTED=1
                pass "private libvirtd in $RTR ($(($(now_ms) - t0)) ms, pid $(sh \
                        "$DL_HERE/libvirt-sandbox.sh" pid "$SANDBOX"))"
                return 0
        fi
        sed 's/^/# /' "$W/sandbox.log"
        fail "private libvirtd"
        summary
        exit 1
}
VIRSH() { timeout 30 virsh -q -c "$URI" "$@"; }
# dl_guests_config_head LAN_ROUTES SHUTDOWN_TIMEOUT: the guest suites' configuration up to its
# `vms:` list (the simulated VNet's uplinks, the guest subnet, the private libvirtd)
dl_guests_config_head() {
        cat <<EOF
version: 1
uplinks:
  nat: {match: {name: eth0}, address: 10.0.0.4/24, gateway: 10.0.0.1}
  lan: {match: {name: eth1}, address: 10.0.1.4/24, gateway: 10.0.1.1, routes: [$1]}
guests:
  subnet: 10.0.2.0/24
  dhcp: {range: 10.0.2.100-10.0.2.200}
libvirt:
  uri: "$URI"
  shutdown_timeout: $2
vms:
EOF
}
