#!/bin/sh
# `nestrouterctl azure routeserver`: Route Server, its subnet and public IP, one BGP peering
# per host, from the hosts' configurations (bgp:), in every format, byte for byte
# (tests/golden/azure/rs-*), plus --remove (the migration from route tables); the az scripts
# pass shellcheck and `bash -n`, the ARM templates are JSON matching arm-rs.schema.json (our
# structure) and arm-published.schema.json (what Microsoft's published schemas say of the
# resource types: property names, required properties, enums, apiVersion; a template drifting
# from them is refused, as a few mutations show) and declare every parameter they use, the Bicep's brackets balance; mistakes between hosts are
# reported (exit 1) with FILE:LINE:COL; the az scripts run against the stand-in for az that
# refuses what azure-cli refuses (transcripts rs-*.run). Nothing here reaches Azure.
set -eu
ctl=$(pwd)/build/nestrouterctl
. tests/golden/lib.sh
g=tests/golden/azure
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
bad() { echo "FAIL: $*"; rc=1; }

check_az() {
        shellcheck -s bash "$1" || bad "shellcheck $1"
        bash -n "$1" || bad "bash -n $1"
}
check_arm() {
        jq -e . "$1" >/dev/null || bad "$1: not JSON"
        "$py" -m jsonschema -i "$1" "$g/arm-rs.schema.json" || bad "$1: does not match the schema"
        "$py" -m jsonschema -i "$1" "$g/arm-published.schema.json" ||
                bad "$1: does not match Microsoft's published schemas (arm-published.schema.json)"
        jq -e '([.. | strings | scan("parameters\\(.([A-Za-z0-9]+).\\)") | .[0]] | unique)
               - (.parameters | keys) == []' "$1" >/dev/null || bad "$1: undeclared parameter"
}
check_bicep() {
        for pair in '{}' '[]' '()'; do
                o=$(tr -cd "$(echo "$pair" | cut -c1)" <"$1" | wc -c)
                c=$(tr -cd "$(echo "$pair" | cut -c2)" <"$1" | wc -c)
                [ "$o" = "$c" ] || bad "$1: unbalanced $pair"
        done
}
render() {
        name=$1 fmt=$2
        shift 2
        case $fmt in az) ext='sh' ;; arm) ext='json' ;; bicep) ext='bicep' ;; esac
        if ! "$ctl" azure routeserver --format "$fmt" "$@" >"$tmp/$name.$ext" 2>"$tmp/err"; then
                cat "$tmp/err"
                bad "azure routeserver --format $fmt $*"
                return
        fi
        golden_cmp "$g/$name.$ext" "$tmp/$name.$ext" || rc=1
        "check_$fmt" "$tmp/$name.$ext"
}

hosts="configs/route-server.yaml $g/rs-b.yaml $g/rs-standby.yaml"
for fmt in az arm bicep; do
        # shellcheck disable=SC2086
        render rs-three "$fmt" $hosts
        render rs-one "$fmt" configs/route-server.yaml
done
# the published-schema check itself: each drift from what Microsoft publishes is refused
for mut in '.resources[4].properties.peerASN = .resources[4].properties.peerAsn | del(.resources[4].properties.peerAsn)' \
        '.resources[4].properties.peerAsn = "65010"' \
        '.resources[2].properties.allowBranchToBranch = true' \
        '.resources[1].sku.name = "Premium"' \
        '.resources[1].properties.publicIPAllocationMethod = "Fixed"' \
        '.resources[3].properties.subnet = "RouteServerSubnet"' \
        '.resources[0].apiVersion = "2024-01-01"' \
        '.resources[2].virtualRouterAsn = 65515' \
        'del(.resources[3].name)' \
        '.parameters.location.type = "text"'; do
        jq "$mut" "$g/rs-one.json" >"$tmp/mut.json" || bad "jq $mut"
        if "$py" -m jsonschema -i "$tmp/mut.json" "$g/arm-published.schema.json" >/dev/null 2>&1; then
                bad "arm-published.schema.json accepts a drifted template: $mut"
        fi
done
# shellcheck disable=SC2086
"$ctl" azure routeserver --remove $hosts >"$tmp/rs-three.remove.sh" || bad "--remove"
golden_cmp "$g/rs-three.remove.sh" "$tmp/rs-three.remove.sh" || rc=1
check_az "$tmp/rs-three.remove.sh"

# ---- the scripts against the stand-in for az (tests/golden/azure/fake/) --------------------
# It refuses an option or value azure-cli does not accept, so these transcripts (golden *.run)
# also hold the generated commands to azure-cli's definitions (docs/azure.md §5.5).
fake=$(pwd)/$g/fake
run_fake() { # NAME CMD...: CMD in $tmp against a fresh stand-in; golden NAME.run (lib.sh)
        rm -rf "$tmp/state"
        mkdir -p "$tmp/state/exists"
        golden_run_fake "$@"
}
# One host: everything is created; run again, only the update, peering and NIC calls repeat.
run_fake rs-one bash -c 'bash ./rs-one.sh; echo "--- the same script again" >>state/log; bash ./rs-one.sh'
# Three hosts, the DHCP host's placeholders filled in.
sed -e "s/<NIC2 address>/10.0.1.5/" -e "s/<NIC2 of nested-host-2>/nic2-nested-host-2/" \
        "$tmp/rs-three.sh" >"$tmp/rs-three-filled.sh"
check_az "$tmp/rs-three-filled.sh"
run_fake rs-three bash ./rs-three-filled.sh
# The migration: the hosts' routes go, and with them the table, detached from its subnets.
run_fake rs-three.remove bash -c ': >state/exists/network_route-table.Routes-for-nested-VMs;
        echo rt >state/subnet-rt.Azure-VMs; bash ./rs-three.remove.sh'

# mistakes between hosts, and a host without bgp:
st=0
"$ctl" azure routeserver configs/route-server.yaml "$g/rs-conflict.yaml" configs/azure-nested.yaml \
        >"$tmp/out" 2>"$tmp/rs-errors.err" || st=$?
[ "$st" = 1 ] || bad "conflicting hosts: exit status $st, want 1"
[ ! -s "$tmp/out" ] || bad "conflicting hosts: printed on stdout"
golden_cmp "$g/rs-errors.err" "$tmp/rs-errors.err" || rc=1
st=0
"$ctl" azure routeserver --remove --format arm configs/route-server.yaml >/dev/null 2>&1 || st=$?
[ "$st" = 2 ] || bad "--remove --format arm: exit status $st, want 2"
exit $rc
