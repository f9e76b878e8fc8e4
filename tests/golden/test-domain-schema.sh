#!/bin/sh
# The domain XML golden files (tests/golden/domain/, written by tests/unit/test_render_domain.c)
# are valid for libvirt: virt-xml-validate checks them against libvirt's own RELAX NG schema.
# (The first argument, the nestrouterd binary the other golden tests get, is not needed.)
set -u
command -v virt-xml-validate >/dev/null 2>&1 || { echo "virt-xml-validate missing (libvirt-clients)"; exit 1; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
rc=0
n=0
for f in tests/golden/domain/*.xml; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        virt-xml-validate "$f" domain >/dev/null 2>"$tmp" ||
                { cat "$tmp"; echo "$f: not valid domain XML"; rc=1; }
done
[ "$n" -gt 0 ] || { echo "no golden domain XML found (run from the repo root)"; rc=1; }
exit $rc
