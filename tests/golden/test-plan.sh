#!/bin/sh
# `--plan` on an empty system, for every example config.
set -eu
nrd=$1
. tests/golden/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
for f in configs/*.yaml; do
        n=$(basename "$f" .yaml)
        "$nrd" --plan "$f" >"$tmp/$n.plan"
        golden_cmp "tests/golden/plan/$n.plan" "$tmp/$n.plan" || rc=1
done
exit $rc
