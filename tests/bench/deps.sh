#!/bin/sh
# The benchmarks' own packages, on top of tests/deps.sh (which `make bench` runs first).
exec "$(dirname "$0")/../deps.sh" bench iperf3 gnuplot-nox iptables
