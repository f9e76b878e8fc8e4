#!/bin/sh
# The nft ruleset and dnsmasq files rendered for every example config, byte for byte; the nft
# text must also load into a real kernel (in a throwaway namespace).
set -eu
nrd=$1
. tests/golden/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
for f in configs/*.yaml; do
        n=$(basename "$f" .yaml)
        "$nrd" --check --json --run-dir /run/nestrouter --state-dir /var/lib/nestrouter "$f" >"$tmp/$n.json"
        jq -j .nft "$tmp/$n.json" >"$tmp/$n.nft"
        jq -j .nft_bridge "$tmp/$n.json" >"$tmp/$n.bridge.nft"
        jq -j .dnsmasq_conf "$tmp/$n.json" >"$tmp/$n.dnsmasq.conf"
        jq -j .dnsmasq_hosts "$tmp/$n.json" >"$tmp/$n.dnsmasq.hosts"
        for ext in nft bridge.nft dnsmasq.conf dnsmasq.hosts; do
                golden_cmp "tests/golden/render/$n.$ext" "$tmp/$n.$ext" || rc=1
        done
done
# MAC-matched uplinks render as <nat>/<lan> placeholders in --check output: load only the
# configs whose uplinks are matched by name.
sh tests/netns/nft-load-check.sh "$tmp/azure-nested.nft" "$tmp/lab-nat.nft" \
        "$tmp"/*.bridge.nft || rc=1
exit $rc
