#!/bin/sh
# `--check -v` prints the normalized config; it must match the golden file, and it must parse
# back to the same config (printing it again gives the same text) and the same desired state.
set -eu
nrd=$1
. tests/golden/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
for f in configs/*.yaml; do
        n=$(basename "$f" .yaml)
        "$nrd" --check -v "$f" >"$tmp/$n.yaml"
        golden_cmp "tests/golden/check/$n.yaml" "$tmp/$n.yaml" || rc=1
        "$nrd" --check -v "$tmp/$n.yaml" >"$tmp/$n.again.yaml"
        cmp -s "$tmp/$n.yaml" "$tmp/$n.again.yaml" || { echo "$n: -v output does not round-trip"; diff -u "$tmp/$n.yaml" "$tmp/$n.again.yaml"; rc=1; }
        "$nrd" --check --json "$f" >"$tmp/$n.json"
        "$nrd" --check --json "$tmp/$n.yaml" >"$tmp/$n.again.json"
        cmp -s "$tmp/$n.json" "$tmp/$n.again.json" || { echo "$n: -v output gives another desired state"; rc=1; }
        jq -e . "$tmp/$n.json" >/dev/null || { echo "$n: --json is not valid JSON"; rc=1; }
done
exit $rc
