#!/bin/sh
# Check that rendered rulesets are accepted by this host's nft and kernel: each FILE is checked
# (nft -c) and really loaded in its own throwaway network namespace, then the table is listed
# back. Needs root; sends no traffic. Usage: nft-load-check.sh FILE...
set -u

[ $# -gt 0 ] || { echo "usage: $0 FILE..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
command -v nft >/dev/null || { echo "$0: nft not found" >&2; exit 2; }

ns="nr-nftchk-$$"
out=$(mktemp) || exit 2
cleanup() {
        ip netns del "$ns" 2>/dev/null
        rm -f "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail=0
for f in "$@"; do
        # a fresh namespace per file: nothing left over from the previous one can mask an error
        ip netns del "$ns" 2>/dev/null
        if ! ip netns add "$ns"; then
                echo "FAIL $f: cannot create namespace $ns" >&2
                exit 2
        fi
        if ! ip netns exec "$ns" nft -c -f "$f" >"$out" 2>&1; then
                echo "FAIL $f: nft -c"; cat "$out"; fail=1; continue
        fi
        if ! ip netns exec "$ns" nft -f "$f" >"$out" 2>&1; then
                echo "FAIL $f: nft -f"; cat "$out"; fail=1; continue
        fi
        fam=inet
        grep -q '^table bridge ' "$f" && fam=bridge
        if ! ip netns exec "$ns" nft list table $fam nestrouter >"$out" 2>&1; then
                echo "FAIL $f: table $fam nestrouter not listed"; cat "$out"; fail=1; continue
        fi
        echo "ok   $f"
done
exit $fail
