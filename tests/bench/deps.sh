#!/bin/sh
# The benchmarks' own packages, on top of tests/deps.sh (which `make bench` runs first).
# Idempotent like it: installs only what is missing, `apt-get update` only then.
set -eu
PKGS="iperf3 gnuplot-nox iptables"
missing=""
for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
                missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
        echo "bench deps: missing packages:$missing (run as root to install them)" >&2
        exit 1
fi
echo "bench deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
