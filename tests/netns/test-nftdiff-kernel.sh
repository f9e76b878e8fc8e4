#!/bin/sh
# nftdiff against the real kernel: for pairs of configs, load the old rendering (its counters
# preset to 7 packets / 700 bytes, so no traffic is needed), apply nftd_delta's script with nft -f,
# and check that the table then lists exactly like the new rendering loaded fresh, and that every
# rule whose text did not change kept its handle and its counter (it was not recreated).
# Needs root; uses throwaway namespaces nr-nftd-*; sends no traffic.
# Usage: test-nftdiff-kernel.sh [NESTROUTERD]   (run from anywhere; default build/nestrouterd)
set -u
D=$(readlink -f "${1:-$(dirname "$0")/../../build/nestrouterd}")
cd "$(dirname "$0")/../.."
. tests/lib.sh

TOOL=build/nftdiff-tool
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
for c in nft jq ip gcc; do
        command -v $c >/dev/null || { echo "$0: $c not found" >&2; exit 2; }
done
[ -x "$D" ] || { echo "$0: $D not built (make all)" >&2; exit 2; }

NS_OLD="nr-nftd-$$-o"
NS_NEW="nr-nftd-$$-n"
dir=$(mktemp -d) || exit 2
cleanup() {
        ip netns del "$NS_OLD" 2>/dev/null
        ip netns del "$NS_NEW" 2>/dev/null
        [ -n "${KEEP:-}" ] && echo "kept $dir" >&2 || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p build
gcc -std=gnu11 -D_GNU_SOURCE -Idaemon -Itests/unit -Wall -Wextra -Werror -g \
        -fsanitize=address,undefined -o "$TOOL" tests/netns/nftdiff-tool.c \
        daemon/core/model/nftdiff.c daemon/core/model/nft_model.c daemon/core/lib/strbuf.c \
        daemon/backend/nft/nft_wire.c -lmnl || { echo "$0: cannot build $TOOL" >&2; exit 2; }

# cfg NAME: the seed topology (configs/azure-nested.yaml) with the knobs below changed, rendered
# to NAME.nft by the daemon itself.
cfg() {
        {
                printf 'version: 1\nuplinks:\n'
                [ "${NAT:-yes}" = yes ] && printf '  nat:\n    match: {name: eth0}\n    address: 10.0.0.4/24\n    gateway: 10.0.0.1\n'
                cat <<EOF
  lan:
    match: {name: eth1}
    address: 10.0.1.4/24
    gateway: 10.0.1.1
    routes: [10.0.0.0/22, 172.16.0.0/22]
guests:
  bridge: ${BR:-nr0}
  subnet: 10.0.2.0/24
  gateway: 10.0.2.1
  dhcp:
    range: 10.0.2.100-10.0.2.200
    lease_time: 12h
    reservations:
      - {name: web1, mac: "52:54:00:00:00:10", ip: 10.0.2.10}
port_forwards:
  - {proto: tcp, port: 3390, to: web1, to_port: ${TOPORT:-3389}, from: [${FROM:-10.0.3.0/24, 172.16.0.0/22}]}
${PF2:-}
firewall:
  ssh: ${SSH:-true}
  block_metadata: ${META:-true}
${SSHFROM:-}
EOF
        } >"$dir/$1.yaml"
        "$D" --check --json "$dir/$1.yaml" 2>"$dir/$1.err" | jq -r .nft >"$dir/$1.nft"
        grep -q '^table inet nestrouter {' "$dir/$1.nft" ||
                { cat "$dir/$1.err"; echo "$0: config $1 did not render" >&2; exit 2; }
}

cfg seed
PF2='  - {proto: udp, port: 5000, to: 10.0.2.11}' cfg pf-added
TOPORT=3388 cfg pf-target
FROM='10.0.3.0/24, 192.168.50.0/24' cfg from-changed
FROM='10.0.0.0/16, 172.16.0.0/22' cfg from-wider
META=false cfg no-meta
SSH=false cfg no-ssh
SSHFROM='  ssh_from: [10.0.3.0/24]' cfg ssh-from
SSHFROM='  ssh_from: [10.0.3.0/24, 172.16.0.0/22]' cfg ssh-from2
NAT=no cfg lan-only
BR=nr1 cfg bridge-renamed
BR=nr1 META=false PF2='  - {proto: udp, port: 5000, to: 10.0.2.11}' cfg combined
# a structural change no config makes: a base chain's priority
sed 's/hook input priority filter; policy drop;/hook input priority filter + 1; policy drop;/' \
        "$dir/seed.nft" >"$dir/ssh-from-policy.nft"
grep -q 'priority filter + 1' "$dir/ssh-from-policy.nft" || { echo "$0: sed found no input chain" >&2; exit 2; }

# Rule placements the configs above do not produce: a run inserted before the first old rule,
# a run added after a replaced rule, one at the end, and a chain that had no rules. Base chains
# with policy accept, so the table is harmless in its namespace.
cat >"$dir/hand-old.nft" <<'EOF'
table inet nestrouter {
	chain c {
		type filter hook output priority filter; policy accept;
		udp dport 3 counter comment "r3"
		udp dport 4 counter comment "r4"
	}

	chain e {
		type filter hook forward priority filter; policy accept;
	}
}
EOF
cat >"$dir/hand-new.nft" <<'EOF'
table inet nestrouter {
	chain c {
		type filter hook output priority filter; policy accept;
		udp dport 1 counter comment "r1"
		udp dport 2 counter comment "r2"
		udp dport 33 counter comment "r3"
		udp dport 5 counter comment "r5"
		udp dport 6 counter comment "r6"
		udp dport 4 counter comment "r4"
		udp dport 7 counter comment "r7"
		udp dport 8 counter comment "r8"
	}

	chain e {
		type filter hook forward priority filter; policy accept;
		udp dport 9 counter comment "r9"
		udp dport 10 counter comment "r10"
	}
}
EOF

fresh_ns() {
        ip netns del "$1" 2>/dev/null
        ip netns add "$1"
}

# The table in the namespace, listed without handles and counters: what must agree. The kernel
# lists an interval set's elements in the order they were added, so they are sorted here.
stateless() {
        ip netns exec "$1" nft -s list table inet nestrouter | awk '
        function flush(   n, i, j, t, a, body, out) {
                body = buf
                sub(/^[^{]*[{][ \t]*/, "", body)
                sub(/[ \t]*[}][ \t]*$/, "", body)
                n = split(body, a, /[ \t]*,[ \t]*/)
                for (i = 2; i <= n; i++) {
                        t = a[i]
                        for (j = i - 1; j >= 1 && a[j] > t; j--)
                                a[j + 1] = a[j]
                        a[j + 1] = t
                }
                out = indent "elements = { "
                for (i = 1; i <= n; i++)
                        out = out (i > 1 ? ", " : "") a[i]
                print out " }"
                inblk = 0
        }
        inblk { buf = buf " " $0; if ($0 ~ /[}][ \t]*$/) flush(); next }
        /elements = [{]/ {
                match($0, /^[ \t]*/)
                indent = substr($0, 1, RLENGTH)
                buf = $0
                inblk = 1
                if ($0 ~ /[}][ \t]*$/) flush()
                next
        }
        { print }'
}

# Each rule the two renderings share word for word must have the same handle and its preset
# counter after the delta as before it.
check_untouched() {
        "$TOOL" untouched "$dir/$1.nft" "$dir/$2.nft" >"$dir/untouched"
        "$TOOL" handles "$dir/before.list" >"$dir/h.before"
        "$TOOL" handles "$dir/after.list" >"$dir/h.after"
        "$TOOL" counters "$dir/after.cnt" >"$dir/c.after"
        bad=0
        while read -r chain id nocounter; do
                b=$(grep "^$chain $id " "$dir/h.before")
                a=$(grep "^$chain $id " "$dir/h.after")
                if [ "$chain" = @counter ]; then # a named counter: no handle to compare
                        b=kept a=kept
                fi
                if [ -z "$b" ] || [ "$b" != "$a" ]; then
                        echo "  $chain $id: handle before '$b', after '$a'"; bad=1
                fi
                [ "$nocounter" = - ] || grep -q "^$chain $id 7 700\$" "$dir/c.after" ||
                        { echo "  $chain $id: counter not kept"; bad=1; }
        done <"$dir/untouched"
        [ $bad = 0 ] && [ -s "$dir/untouched" ]
}

# apply OLD NEW: the delta applied to OLD in NS_OLD; 1 when nft refused it, 3 when full.
apply() {
        fresh_ns "$NS_OLD"
        # every counter starts at 7 packets, 700 bytes: a rule's, and a named counter's block
        # (`counter name ...` in a rule only refers to one)
        sed -e 's/\bcounter name /COUNTER-NAME /g' \
            -e '/^\tcounter [^ ]* {$/!s/\bcounter /counter packets 7 bytes 700 /g' \
            -e '/^\tcounter [^ ]* {$/a\\t\tpackets 7 bytes 700' \
            -e 's/COUNTER-NAME /counter name /g' "$dir/$1.nft" >"$dir/old-preset.nft"
        ip netns exec "$NS_OLD" nft -f "$dir/old-preset.nft" || return 1
        ip netns exec "$NS_OLD" nft -a list table inet nestrouter >"$dir/before.list"
        "$TOOL" delta "$dir/$1.nft" "$dir/$2.nft" "$dir/before.list" >"$dir/delta.nft"
        rc=$?
        [ $rc = 0 ] || return $rc
        ip netns exec "$NS_OLD" nft -f "$dir/delta.nft" || return 1
        ip netns exec "$NS_OLD" nft -a list table inet nestrouter >"$dir/after.list"
        ip netns exec "$NS_OLD" nft list table inet nestrouter >"$dir/after.cnt"
}

# apply_wire OLD NEW: the same delta sent as the daemon's own netlink batch (nft_wire.c) instead
# of through nft -f; the tool's exit: 4 when the encoder declines it (libnftables takes those).
apply_wire() {
        fresh_ns "$NS_OLD"
        ip netns exec "$NS_OLD" nft -f "$dir/old-preset.nft" || return 1
        ip netns exec "$NS_OLD" nft -a list table inet nestrouter >"$dir/before.list"
        ip netns exec "$NS_OLD" "$TOOL" wire "$dir/$1.nft" "$dir/$2.nft" "$dir/before.list" \
                >"$dir/delta.nft" || return $?
        ip netns exec "$NS_OLD" nft -a list table inet nestrouter >"$dir/after.list"
        ip netns exec "$NS_OLD" nft list table inet nestrouter >"$dir/after.cnt"
}

# The batch path for the case delta() just checked: where the encoder takes the delta, the
# table must come out exactly as through nft -f ($dir/want), unchanged rules untouched. Under
# must_wire a decline is a failure (the cases a reload usually is: forwards and reservations).
wire_too() {
        apply_wire "$2" "$3" 2>"$dir/apply.err"
        rc=$?
        if [ $rc = 4 ] && [ "${WIRE:-}" != must ]; then
                wire_declined=$((wire_declined + 1))
                return 0
        fi
        if [ $rc != 0 ]; then
                cat "$dir/apply.err" "$dir/delta.nft"; fail "$1: batch: exit $rc"; return 1
        fi
        stateless "$NS_OLD" >"$dir/got"
        if ! diff -u "$dir/want" "$dir/got"; then
                cat "$dir/delta.nft"; fail "$1: batch: table differs from $3 loaded fresh"
                return 1
        fi
        check_untouched "$2" "$3" || { fail "$1: batch: an unchanged rule was touched"; return 1; }
        wire_taken=$((wire_taken + 1))
}
wire_taken=0 wire_declined=0 WIRE=
must_wire() { WIRE=must; "$@"; WIRE=; }

# delta NAME OLD NEW [REGEX...]: the delta turns OLD into exactly NEW, leaves every unchanged
# rule alone, and has a line matching each REGEX (so the case tests what it claims to); EMPTY
# instead asks for an empty script. The same delta as the daemon's own batch then (wire_too).
delta() {
        name=$1 old=$2 new=$3
        shift 3
        apply "$old" "$new" 2>"$dir/apply.err"
        rc=$?
        if [ $rc != 0 ]; then
                cat "$dir/apply.err" "$dir/delta.nft" 2>/dev/null
                fail "$name: apply $old -> $new (exit $rc)"; return
        fi
        fresh_ns "$NS_NEW"
        ip netns exec "$NS_NEW" nft -f "$dir/$new.nft"
        stateless "$NS_NEW" >"$dir/want"
        stateless "$NS_OLD" >"$dir/got"
        if ! diff -u "$dir/want" "$dir/got"; then
                cat "$dir/delta.nft"; fail "$name: table differs from $new loaded fresh"; return
        fi
        for re in "$@"; do
                [ "$re" = EMPTY ] && [ ! -s "$dir/delta.nft" ] && continue
                grep -Eq -- "$re" "$dir/delta.nft" ||
                        { cat "$dir/delta.nft"; fail "$name: no line like /$re/"; return; }
        done
        check_untouched "$old" "$new" || { fail "$name: an unchanged rule was touched"; return; }
        lines=$(wc -l <"$dir/delta.nft")
        wire_too "$name" "$old" "$new" || return
        pass "$name ($lines lines)"
}

full() {
        apply "$2" "$3" 2>"$dir/apply.err"
        rc=$?
        if [ $rc = 3 ]; then pass "$1: full"; else cat "$dir/delta.nft"; fail "$1: exit $rc, expected full"; fi
}

E='element inet nestrouter'
R='rule inet nestrouter'
must_wire delta "no change: empty script" seed seed EMPTY
must_wire delta "port forward added" seed pf-added \
        "^add $E pf_dnat \{ udp \. 5000 : 10\.0\.2\.11 \. 5000 \}$" \
        "^add $E pf_open \{ udp \. 5000 \}$" "^add counter inet nestrouter fwd-pf-udp-5000$" \
        "^add $E pf_count_udp \{ 5000 : \"fwd-pf-udp-5000\" \}$"
must_wire delta "port forward removed" pf-added seed "^delete $E pf_dnat \{ udp \. 5000 \}$" \
        "^delete $E pf_open \{ udp \. 5000 \}$" "^delete $E pf_count_udp \{ 5000 \}$" \
        "^delete counter inet nestrouter fwd-pf-udp-5000$"
must_wire delta "port forward target changed" seed pf-target \
        "^delete $E pf_dnat \{ tcp \. 3390 \}$" \
        "^add $E pf_dnat \{ tcp \. 3390 : 10\.0\.2\.10 \. 3388 \}$"
delta "allow-list element changed" seed from-changed "^delete $E pf_from \{ 172\.16\.0\.0/22 \. tcp \. 3390 \}$" \
        "^add $E pf_from \{ 192\.168\.50\.0/24 \. tcp \. 3390 \}$"
delta "allow-list prefix widened (interval overlap)" seed from-wider \
        "^delete $E pf_from \{ 10\.0\.3\.0/24 \. tcp \. 3390 \}$" "^add $E pf_from \{ 10\.0\.0\.0/16 "
delta "rules removed" seed no-meta "^delete $R forward handle [0-9]+$"
delta "two rules added after one anchor" no-meta seed "^add $R forward position [0-9]+ .*fwd-guest-azdns"
delta "ssh rule removed" seed no-ssh "^delete $R input handle [0-9]+$"
delta "ssh rule added back" no-ssh seed "^add $R input position [0-9]+ .*in-ssh"
delta "ssh_from list grew" ssh-from ssh-from2 "^add $E ssh_from \{ 172\.16\.0\.0/22 \}$"
delta "ssh_from list shrank" ssh-from2 ssh-from "^delete $E ssh_from \{ 172\.16\.0\.0/22 \}$"
delta "nat uplink added (inserts, replaces)" lan-only seed "^insert $R postrouting position [0-9]+ " \
        "^insert $R prerouting position [0-9]+ .*pre-mark-nat" "^replace $R prerouting handle [0-9]+ " \
        "^add $E uplink_addrs \{ 10\.0\.0\.4 \}$"
delta "nat uplink removed" seed lan-only "^delete $R postrouting handle [0-9]+$"
delta "bridge renamed (replaces)" seed bridge-renamed "^replace $R input handle [0-9]+ iifname \"nr1\""
delta "combined" seed combined "^replace $R" "^delete $R forward" "^add $E pf_dnat"
delta "combined, back" combined seed "^replace $R" "^add $R forward position" "^delete $E pf_dnat"
delta "rules placed around old ones" hand-old hand-new "^insert $R c position [0-9]+ .*r1" \
        "^add $R c position [0-9]+ .*r6" "^replace $R c handle" "^add $R e udp dport 9 "
# the ssh_from set is always declared: its first source is an element and one rule, not a new set
delta "ssh_from list appeared" seed ssh-from "^add $E ssh_from \{ 10\.0\.3\.0/24 \}$" \
        "^replace $R input handle [0-9]+ .*@ssh_from"
delta "ssh_from list gone" ssh-from seed "^delete $E ssh_from \{ 10\.0\.3\.0/24 \}$"
full "a chain's header changed (structure)" seed ssh-from-policy
echo "# the daemon's own batch took $wire_taken of these deltas, left $wire_declined to libnftables"
summary
