#!/bin/sh
# The Prometheus exposition's golden files (written by tests/unit/test_render_metrics.c) pass
# Prometheus' own linter, `promtool check metrics` (Debian package prometheus): exposition
# syntax, HELP and TYPE on every family, _total on counters, base units. The live output of
# the daemon is checked the same way in tests/netns/test-daemon-metrics.sh.
set -eu
command -v promtool >/dev/null || { echo "promtool not found (tests/deps.sh installs prometheus)"; exit 1; }
rc=0
n=0
for f in tests/golden/metrics/*.prom; do
        n=$((n + 1))
        if ! out=$(promtool check metrics <"$f" 2>&1) || [ -n "$out" ]; then
                echo "$f: promtool check metrics:"
                printf '%s\n' "$out" | sed 's/^/  /'
                rc=1
        fi
done
[ "$n" -ge 2 ] || { echo "expected the golden files full.prom and bare.prom, found $n"; rc=1; }
exit $rc
