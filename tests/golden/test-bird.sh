#!/bin/sh
# BIRD's configuration for every example config with bgp:, advertising and withdrawn, byte for
# byte (tests/golden/render/*.bird.conf); each must parse with BIRD itself (`bird -p`).
set -eu
nrd=$1
. tests/golden/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
command -v bird >/dev/null || { echo "bird (bird2) is not installed"; exit 1; }
for f in $(grep -l '^bgp:' configs/*.yaml); do
        n=$(basename "$f" .yaml)
        "$nrd" --check --json --run-dir /run/nestrouter --state-dir /var/lib/nestrouter "$f" >"$tmp/$n.json"
        jq -j .bird_conf "$tmp/$n.json" >"$tmp/$n.bird.conf"
        jq -j .bird_conf_withdrawn "$tmp/$n.json" >"$tmp/$n.withdrawn.bird.conf"
        for ext in bird.conf withdrawn.bird.conf; do
                golden_cmp "tests/golden/render/$n.$ext" "$tmp/$n.$ext" || rc=1
                bird -p -c "$tmp/$n.$ext" || { echo "$n.$ext: bird -p refuses it"; rc=1; }
        done
done
exit $rc
