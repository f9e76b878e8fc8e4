#!/bin/sh
# The real nestrouterd in a simulated Azure VNet (vnet.sh), data plane: DHCP leases and their
# options, guest traffic to the VNet, on-premises and the internet (masqueraded to NIC1's
# address, never leaking a guest source out of NIC1), port forwards from both sides with their
# `from` lists and the hairpin, spoofed guest sources, IMDS, a reload that adds an open forward,
# and a negative control (masquerade removed while the daemon is stopped, then repaired).
# Needs root and `make all`. Prints ok/FAIL lines and `N passed, N failed`; cleans up on exit.
# NR_VNET_ID (default dtraffic) names the VNet; KEEP=1 keeps the work dir.
# `local`: dash, bash and busybox ash have it
# shellcheck disable=SC3043
set -u
NR_VNET_ID=${NR_VNET_ID:-dtraffic}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
dl_init

dl_vnet_up
cp "$DL_ROOT/configs/azure-nested.yaml" "$CFG"
run "nestrouterd starts in $RTR and converges (configs/azure-nested.yaml)" daemon_up
if [ -z "$DPID" ] || ! ctl_up; then fail "daemon not running: nothing more to test"; summary; exit; fi

# ---------------------------------------------------------------- DHCP
add_guests
hook_opts() { grep -E '^(router|dns)=' "$VN_DIR/leases/g-$1" | paste -sd' '; }
check "web1's udhcpc hook got router 10.0.2.1 and DNS 10.0.2.1" "router='10.0.2.1' dns='10.0.2.1'" \
        hook_opts web1
check "g2's udhcpc hook got router 10.0.2.1 and DNS 10.0.2.1" "router='10.0.2.1' dns='10.0.2.1'" \
        hook_opts g2
check_grep "web1's default route is via 10.0.2.1" '^default via 10\.0\.2\.1 dev eth0' \
        vnet exec web1 ip route show default
check_grep "nestrouterctl leases lists web1 with its reservation" \
        "^$WEB1_MAC +$WEB1_IP +web1 " ctl leases
check_grep "nestrouterctl leases lists g2 with its pool address" "^$G2_MAC +${G2_IP:-none} +g2 " \
        ctl leases
check_grep "guest DNS through dnsmasq on 10.0.2.1 (-> Azure DNS)" '^Address:? *10\.0\.3\.4$' \
        vnet exec web1 busybox nslookup azure.test

# ---------------------------------------------------------------- routed and NATed traffic
check "nic1-drops is 0 before any guest traffic" 0 vnet nic1-drops
check "web1 -> Azure VM arrives with the guest's own address" "$WEB1_IP" vnet whoami web1 "$VM_IP"
check "g2 -> Azure VM arrives with the guest's own address" "${G2_IP:-none}" vnet whoami g2 "$VM_IP"
check "Azure VM -> web1 (UDR 10.0.2.0/24 via 10.0.1.4)" "$VM_IP" vnet whoami vm "$WEB1_IP"
check "on-prem 172.16.0.10 -> web1 (UDR on the GatewaySubnet)" "$ONP_IP" vnet whoami onp "$WEB1_IP"
check "web1 -> on-prem keeps the guest's address" "$WEB1_IP" vnet whoami web1 "$ONP_IP"
check "web1 -> internet host arrives as NIC1's 10.0.0.4" "$NIC1_IP" vnet whoami web1 "$INET_IP"
check "g2 -> internet host arrives as 10.0.0.4" "$NIC1_IP" vnet whoami g2 "$INET_IP"
run "ping web1 -> Azure VM" vnet ping web1 "$VM_IP"
run "ping on-prem -> g2" vnet ping onp "${G2_IP:-10.0.2.254}"

# ---------------------------------------------------------------- port forwards (with from)
check "Azure VM -> 10.0.1.4:3390 (LAN uplink) reaches web1:3389, which sees 10.0.3.4" "$VM_IP" \
        vnet whoami vm "$NIC2_IP" 3390
check "... and the answer is web1's own service" "guest web1 $NR_VNET_ID" \
        vnet http vm "$NIC2_IP:3390" /nr-vnet
check "on-prem 172.16.0.10 -> 10.0.1.4:3390 reaches web1 (in from)" "$ONP_IP" \
        vnet whoami onp "$NIC2_IP" 3390
pf0=$(rule_packets pre-pf-from)
must_fail "internet host cannot use 10.0.0.4:3390 (not in from)" vnet whoami inet "$NIC1_IP" 3390
must_fail "internet host cannot use 10.0.1.4:3390 either" vnet whoami inet "$NIC2_IP" 3390
check "... and the from-forward rule never matched it" "$pf0" rule_packets pre-pf-from
hp0=$(rule_packets post-hairpin)
check "hairpin: g2 -> 10.0.1.4:3390 reaches web1, masqueraded to the bridge address" 10.0.2.1 \
        vnet whoami g2 "$NIC2_IP" 3390
check "hairpin: g2 -> 10.0.0.4:3390 too (from does not apply to guests)" 10.0.2.1 \
        vnet whoami g2 "$NIC1_IP" 3390
expect "post-hairpin counted the hairpinned connections" "$(rule_packets post-hairpin)" -gt "$hp0"

# ---------------------------------------------------------------- established: two rules
# Issue 11: a packet of an established connection meets its verdict in the forward chain's
# second rule (fwd-mss-clamp, which only TCP SYNs match, then fwd-established, whose vmap ends
# the chain either way).
# After a UDP flow web1 -> internet is established, 200 more exchanges (400 forwarded packets)
# must all be counted by fwd-established and none by a later rule of the chain (a few packets
# of other traffic are tolerated). A port-forwarded TCP connection: its SYN and SYN/ACK both
# reach the MSS clamp, and the forward's named counter (through pf_count) sees every packet of it
# (its SYN through fwd-to-pf-count, the rest through fwd-established's pf_established).
fwd_counters() {
        ctl status --json |
                jq -r '(.nft.rules[] | select(.chain == "forward" or .chain == "pf_established")
                        | "\(.id) \(.packets)"), (.nft.counters[] | "\(.name) \(.packets)")'
}
# delta BEFORE AFTER ID: how much the rule's counter rose
delta() {
        awk -v id="$3" 'NR == FNR { if ($1 == id) b = $2; next } $1 == id { print $2 - b }' \
                "$1" "$2"
}
# later BEFORE AFTER: the sum of what every forward rule after the first two rose by
later() {
        ctl status --json | jq -r '.nft.rules[] | select(.chain == "forward") | .id' | tail -n +3 |
                while read -r id; do delta "$1" "$2" "$id"; done | awk '{ s += $1 } END { print s + 0 }'
}
echo_py="$DL_HERE/udp-echo.py"
run "internet host: UDP echo on port 7998" vnet spawn inet udpecho python3 "$echo_py" serve 7998
sleep 0.3
check "web1 -> internet UDP 7998 from port 40998: echoed (the flow is established)" 1 \
        vnet exec web1 timeout 10 python3 "$echo_py" send "$INET_IP" 7998 40998 1
fwd_counters >"$W/est0"
check "200 more exchanges of that flow all echoed" 200 \
        vnet exec web1 timeout 30 python3 "$echo_py" send "$INET_IP" 7998 40998 200
fwd_counters >"$W/est1"
first_two() {
        ctl status --json | jq -r '.nft.rules[] | select(.chain == "forward") | .id' | head -n 2 |
                paste -sd' '
}
check "the first two forward rules are fwd-mss-clamp and fwd-established" \
        "fwd-mss-clamp fwd-established" first_two
est=$(delta "$W/est0" "$W/est1" fwd-established)
expect "fwd-established took every packet of the flow (rose by ${est:-?} >= 400)" "${est:-0}" -ge 400
rest=$(later "$W/est0" "$W/est1")
expect "the rules after the first two saw none of them (rose by ${rest:-?} < 10 in all)" \
        "${rest:-999}" -lt 10
fwd_counters >"$W/pf0"
check "Azure VM -> 10.0.1.4:3390 (forwarded TCP connection) reaches web1" "$VM_IP" \
        vnet whoami vm "$NIC2_IP" 3390
sleep 0.5
fwd_counters >"$W/pf1"
mss=$(delta "$W/pf0" "$W/pf1" fwd-mss-clamp)
expect "the MSS clamp saw its SYN and SYN/ACK (fwd-mss-clamp rose by ${mss:-?} >= 2)" "${mss:-0}" -ge 2
hs=$(delta "$W/pf0" "$W/pf1" fwd-to-pf-count) ep=$(delta "$W/pf0" "$W/pf1" fwd-est-pf-count)
pf=$(delta "$W/pf0" "$W/pf1" fwd-pf-tcp-3390)
expect "its established packets took fwd-established -> pf_established (${ep:-?} > 0)" "${ep:-0}" -gt 0
pf_msg="its named counter counted every packet once"
expect "$pf_msg (fwd-pf-tcp-3390 +${pf:-?} = handshake ${hs:-?} + established ${ep:-?})" \
        "${pf:-0}" -eq $((${hs:-0} + ${ep:-0}))
vnet kill inet udpecho

# ---------------------------------------------------------------- spoofed into an established flow
# fwd-guest-spoof comes after fwd-established, so a guest repeating the tuple of a connection the
# router tracks, with that connection's outside source, would pass the forward chain: here g2
# forges the internet host's reply to web1's UDP flow (to NIC1's address and the masqueraded
# port: conntrack un-NATs it to web1, back onto the bridge). The bridge table must drop it at
# g2's port (br-ip-subnet). Control: with g2's port taken out of the table's `ports` set while
# the daemon is frozen, the same packets do reach web1 (they are well formed and established);
# the daemon then puts the port back (drift).
inj_py="$DL_HERE/hostile.py"
ct_port() {
        R awk -v a="src=$WEB1_IP" -v b="dst=$INET_IP" '$0 ~ a " " b " sport=40998 dport=7998 " {
                n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^dport=/ && ++n == 2) {
                        sub(/^dport=/, "", $i); print $i; exit } }' /proc/net/nf_conntrack
}
P=$(ct_port)
expect "conntrack has web1's flow, masqueraded to port ${P:-?}" -n "$P"
# inject FILE: web1 listens on 40998 for 2.5 s while g2 sends 5 forged replies; FILE gets the count
inject() {
        bg vnet exec web1 timeout 10 python3 "$inj_py" catch 40998 2.5 "$INET_IP" >"$1"
        local catcher=$BGPID
        sleep 0.3
        vnet exec g2 timeout 10 python3 "$inj_py" inject "$INET_IP" 7998 "$NIC1_IP" "${P:-1}" 5
        wait "$catcher"
}
sub0=$(rule_packets br-ip-subnet) est0=$(rule_packets fwd-established)
inject "$W/inject1"
check "web1 got none of g2's forged replies to its flow" 0 cat "$W/inject1"
expect "br-ip-subnet dropped them at g2's port (rose by $(($(rule_packets br-ip-subnet) - ${sub0:-0})) >= 5)" \
        "$(rule_packets br-ip-subnet)" -ge $((${sub0:-0} + 5))
kill -STOP "$DPID"
R nft delete element bridge nestrouter ports '{ "vg-g2" }'
inject "$W/inject2"
kill -CONT "$DPID"
check "control: from a port the bridge table does not know, all 5 reach web1 (established)" 5 \
        cat "$W/inject2"
expect "control: fwd-established passed them" "$(rule_packets fwd-established)" -ge $((${est0:-0} + 5))
g2_port_back() { R nft list set bridge nestrouter ports | grep -q '"vg-g2"'; }
run "the daemon puts g2's port back into the set (drift)" wait_for 50 g2_port_back

# ---------------------------------------------------------------- spoofed guest source
vnet exec vm nft -f - <<'EOF'
table ip nrtest {
        counter spoof { }
        chain pre { type filter hook prerouting priority raw - 10; policy accept; ip saddr 10.9.9.9 counter name "spoof"; }
}
EOF
vm_spoof() { vnet exec vm nft list counter ip nrtest spoof | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
# the bridge table drops them first (a source outside the guest subnet); fwd-guest-spoof in the
# inet table stays as the second line
spoofed() { echo $(($(rule_packets br-ip-subnet) + $(rule_packets fwd-guest-spoof))); }
sp0=$(spoofed)
run "web1: 10.9.9.9/32 on lo, route to the Azure VM with src 10.9.9.9" vnet exec web1 sh -c \
        "ip addr add 10.9.9.9/32 dev lo && ip route add $VM_IP/32 via 10.0.2.1 src 10.9.9.9"
must_fail "web1 -> Azure VM from the spoofed 10.9.9.9 fails" vnet whoami web1 "$VM_IP"
run "ping -I 10.9.9.9 from web1 fails too" sh -c "! vnet exec web1 busybox ping -c 2 -W 1 -I 10.9.9.9 $VM_IP"
check "the Azure VM saw no packet from 10.9.9.9" 0 vm_spoof
expect "br-ip-subnet or fwd-guest-spoof counted the spoofed packets" "$(spoofed)" -gt "${sp0:-0}"
vnet exec web1 sh -c "ip route del $VM_IP/32; ip addr del 10.9.9.9/32 dev lo"
check "web1 -> Azure VM from its own address again" "$WEB1_IP" vnet whoami web1 "$VM_IP"

# ---------------------------------------------------------------- IMDS and wireserver
im0=$(rule_packets fwd-guest-imds)
must_fail "a guest cannot reach IMDS 169.254.169.254" vnet http web1 169.254.169.254 /nr-vnet
expect "fwd-guest-imds counted it" "$(rule_packets fwd-guest-imds)" -gt "${im0:-0}"
check "the router itself reaches IMDS (NIC1's side)" "imds $NR_VNET_ID" \
        vnet http rtr 169.254.169.254 /nr-vnet
must_fail "a guest cannot reach the wireserver (block_metadata)" vnet http web1 168.63.129.16 /nr-vnet
check "nic1-drops is still 0 after all guest traffic" 0 vnet nic1-drops

# ---------------------------------------------------------------- reload: an open forward
pid0=$(sj .dnsmasq.pid) st0=$(sj .dnsmasq.starts) full0=$(sj .nft.full_applies)
delta0=$(sj .nft.delta_applies) masq0=$(rule_packets post-masq-nat) fc0=$(sj .nft.foreign_commits)
direct0=$(sj .nft.direct_applies)
cp "$DL_HERE/daemon-open-forward.yaml" "$CFG"
run "nestrouterctl reload (adds tcp 8080 -> web1:7777, open to all) exits 0" ctl reload
run "converged after the reload" wait_for 50 converged
check "dnsmasq was not restarted (same pid)" "$pid0" sj .dnsmasq.pid
check "dnsmasq.starts unchanged" "$st0" sj .dnsmasq.starts
check "nft.full_applies unchanged (no full table replace)" "$full0" sj .nft.full_applies
expect "nft.delta_applies rose" "$(sj .nft.delta_applies)" -gt "$delta0"
expect "... sent as the daemon's own netlink batch, not through libnftables (nft.direct_applies)" \
        "$(sj .nft.direct_applies)" -gt "$direct0"
check "its own commit is not foreign to it (nft.foreign_commits unchanged: NEWGEN names our pid)" \
        "$fc0" sj .nft.foreign_commits
check "after the reload it trusts the table (no listing per pass until someone else commits)" \
        true sj .nft.trusted
expect "post-masq-nat counted traffic before the reload" "${masq0:-0}" -gt 0
expect "post-masq-nat's counter was not reset by the reload" "$(rule_packets post-masq-nat)" -ge "${masq0:-0}"
check "internet host -> 10.0.0.4:8080 reaches web1:7777, which sees the internet host" "$INET_IP" \
        vnet whoami inet "$NIC1_IP" 8080
# the reply path of a NAT-side forward: a VNet host that reaches NIC1's address must get the
# answer back from NIC1 (ct mark -> fwmark rule -> table 1001), not by NIC2 (the main table's
# 10.0.0.0/22 route). The fabric counts where the answer came from.
vnet exec fab nft -f - <<EOF
table ip nrtest {
        counter rep_nat { }
        counter rep_lan { }
        chain replies {
                type filter hook forward priority filter - 10; policy accept;
                iifname "nat" ip saddr $NIC1_IP tcp sport 8080 counter name "rep_nat"
                iifname "lan" tcp sport { 8080, 7777 } counter name "rep_lan"
        }
}
EOF
fab_counter() { vnet exec fab nft list counter ip nrtest "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
mr0=$(rule_packets mark-restore-nat)
check "Azure VM -> 10.0.0.4:8080 (NIC1) reaches web1" "$VM_IP" vnet whoami vm "$NIC1_IP" 8080
expect "web1's replies got the NAT uplink's mark (mark-restore-nat)" \
        "$(rule_packets mark-restore-nat)" -gt "${mr0:-0}"
expect "the replies left by NIC1 (the fabric saw them on nat)" "$(fab_counter rep_nat)" -gt 0
check "... and none by NIC2" 0 fab_counter rep_lan
check "nic1-drops is still 0" 0 vnet nic1-drops

# ---------------------------------------------------------------- negative control
run "SIGTERM stops the daemon" daemon_stop
expect "... with exit status 0" "${DL_RC:-x}" = 0
h=$(R nft -a list chain inet nestrouter postrouting 2>/dev/null |
        sed -n 's/.*comment "post-masq-nat" # handle \([0-9][0-9]*\)$/\1/p')
run "delete the masquerade rule by handle ($h) while the daemon is stopped" \
        R nft delete rule inet nestrouter postrouting handle "${h:-0}"
must_fail "without the masquerade web1 -> internet fails" vnet whoami web1 "$INET_IP"
expect "... and nic1-drops rises (the guest's address left NIC1)" "$(vnet nic1-drops)" -gt 0
run "restart the daemon: it converges" daemon_up
run "the masquerade rule is back" sh -c \
        "ip netns exec $RTR nft list chain inet nestrouter postrouting | grep -q 'masquerade comment \"post-masq-nat\"'"
check "the drifted table was replaced in one transaction (nft.full_applies 1)" 1 sj .nft.full_applies
check "web1 -> internet host as 10.0.0.4 again" "$NIC1_IP" vnet whoami web1 "$INET_IP"
drops=$(vnet nic1-drops)
check "g2 -> internet host as 10.0.0.4" "$NIC1_IP" vnet whoami g2 "$INET_IP"
check "nic1-drops does not rise any more" "$drops" vnet nic1-drops

elapsed
summary
