#!/bin/sh
# Bad files: exit status 1 and exactly the expected diagnostics (every mistake, with
# file:line:col and key path), nothing on stdout.
set -eu
nrd=$1
. tests/golden/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
for f in tests/golden/errors/*.yaml; do
        n=$(basename "$f" .yaml)
        st=0
        "$nrd" --check "$f" >"$tmp/$n.out" 2>"$tmp/$n.err" || st=$?
        [ "$st" = 1 ] || { echo "$n: exit status $st, want 1"; rc=1; }
        [ ! -s "$tmp/$n.out" ] || { echo "$n: printed on stdout"; rc=1; }
        golden_cmp "tests/golden/errors/$n.err" "$tmp/$n.err" || rc=1
done
exit $rc
