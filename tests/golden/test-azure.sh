#!/bin/sh
# `nestrouterctl azure routes` and configs/azure/: nothing here reaches Azure.
#  - the artefacts for the example configs, a config with an azure: section and two hosts, in
#    every format, byte for byte (tests/golden/azure/*.sh, *.json, *.bicep), plus --remove;
#  - every az script passes shellcheck and `bash -n`; every ARM template is JSON that matches
#    tests/golden/azure/arm.schema.json (our structure) and arm-published.schema.json (what
#    Microsoft's published schemas say of its types: names, required, enums, apiVersion) and
#    declares every parameter it uses;
#  - the az scripts and configs/azure/deploy.sh run against a stand-in for az
#    (tests/golden/azure/fake/) that refuses an option or value azure-cli does not accept: the
#    transcripts of az calls are golden files (*.run);
#  - errors (exit 1) and usage mistakes (exit 2) with their messages;
#  - deploy.sh's user data is the committed configs/azure/cloud-init.yaml, and the
#    configuration in it passes `nestrouterd --check` ($1, the ASan build).
# Uses build/nestrouterctl (built by `make all`). Needs shellcheck, jq and python3-jsonschema.
set -eu
nrd=$1
ctl=$(pwd)/build/nestrouterctl
. tests/golden/lib.sh
g=tests/golden/azure
fake=$(pwd)/$g/fake
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
        "$py" -m jsonschema -i "$1" "$g/arm.schema.json" || bad "$1: does not match the schema"
        "$py" -m jsonschema -i "$1" "$g/arm-published.schema.json" ||
                bad "$1: does not match Microsoft's published schemas (arm-published.schema.json)"
        # every [parameters('X')] the template uses is declared
        jq -e '([.. | strings | scan("parameters\\(.([A-Za-z0-9]+).\\)") | .[0]] | unique)
               - (.parameters | keys) == []' "$1" >/dev/null || bad "$1: undeclared parameter"
}

check_bicep() { # brackets balance (not compiled: no Bicep CLI offline)
        for pair in '{}' '[]' '()'; do
                o=$(tr -cd "$(echo "$pair" | cut -c1)" <"$1" | wc -c)
                c=$(tr -cd "$(echo "$pair" | cut -c2)" <"$1" | wc -c)
                [ "$o" = "$c" ] || bad "$1: unbalanced $pair"
        done
}

# render NAME FORMAT CONFIG...: golden NAME.EXT, then the format's own checks
render() {
        name=$1 fmt=$2
        shift 2
        case $fmt in az) ext='sh' ;; arm) ext='json' ;; bicep) ext='bicep' ;; esac
        if ! "$ctl" azure routes --format "$fmt" "$@" >"$tmp/$name.$ext" 2>"$tmp/err"; then
                cat "$tmp/err"
                bad "azure routes --format $fmt $*"
                return
        fi
        golden_cmp "$g/$name.$ext" "$tmp/$name.$ext" || rc=1
        "check_$fmt" "$tmp/$name.$ext"
}

for fmt in az arm bicep; do
        render azure-nested "$fmt" configs/azure-nested.yaml
        render lab-nat "$fmt" configs/lab-nat.yaml
        render named "$fmt" "$g/named.yaml"
        render two-hosts "$fmt" "$g/host-a.yaml" "$g/host-b.yaml"
done
for name in azure-nested lab-nat named; do
        cfg=configs/$name.yaml
        [ -f "$cfg" ] || cfg=$g/$name.yaml
        "$ctl" azure routes --remove "$cfg" >"$tmp/$name.remove.sh" || bad "--remove $cfg"
        golden_cmp "$g/$name.remove.sh" "$tmp/$name.remove.sh" || rc=1
        check_az "$tmp/$name.remove.sh"
done

# ---- the scripts against the stand-in for az ----------------------------------------------
# run_fake NAME CMD...: runs CMD in $tmp against the state `state` prepared (lib.sh)
run_fake() { golden_run_fake "$@"; }
state() { # fresh state; arguments are resources that already exist
        rm -rf "$tmp/state"
        mkdir -p "$tmp/state/exists"
        for r in "$@"; do : >"$tmp/state/exists/$r"; done
}

# The guide's names: created on a first run, nothing but the route and NIC updates on a second.
state network_vnet_subnet.Azure-VMs network_vnet_subnet.GatewaySubnet
run_fake named bash -c 'bash ./named.sh; echo "--- the same script again" >>state/log; bash ./named.sh'
# A subnet that already has another route table is left alone, and the script stops.
state network_vnet_subnet.Azure-VMs
echo /subscriptions/x/resourceGroups/rg-nested/providers/Microsoft.Network/routeTables/firewall \
        >"$tmp/state/subnet-rt.Azure-VMs"
run_fake named-conflict bash ./named.sh
# Placeholders left: nothing is called.
state
run_fake azure-nested bash ./azure-nested.sh
# Two hosts, the second one's placeholders filled in; no GatewaySubnet yet.
sed -e "s/<LAN address of nr2>/10.0.1.5/" -e "s/<NIC2 of nr2>/nr2-nic2/" \
        "$tmp/two-hosts.sh" >"$tmp/two-hosts-filled.sh"
check_az "$tmp/two-hosts-filled.sh"
state network_vnet_subnet.Azure-VMs network_vnet_subnet.Apps
run_fake two-hosts bash ./two-hosts-filled.sh
# Decommission: another host's route is left, so the table stays; then the last one goes.
state network_route-table.Routes-for-nested-VMs
echo 1 >"$tmp/state/routes-left"
run_fake named.remove-kept bash ./named.remove.sh
state network_route-table.Routes-for-nested-VMs
echo rt >"$tmp/state/subnet-rt.Azure-VMs"
echo rt >"$tmp/state/subnet-rt.GatewaySubnet"
run_fake named.remove-last bash ./named.remove.sh

# The stand-in refuses what azure-cli refuses (exit 2): spellings the scripts must not drift to.
state
for bad_call in 'network nic update -g rg -n nic --enable-ip-forwarding true' \
        'network nic update -g rg -n nic --ip-forwarding yes-please' \
        'network route-table route create -g rg --route-table-name rt -n r --next-hop-type Appliance' \
        'network route-table create -g rg -n rt --disable-bgp-route-propagation maybe' \
        'network vnet subnet update --ids x --remove properties.routeTable' \
        'network public-ip create -g rg -n pip --sku Premium' \
        'network routeserver create -g rg -n rs --hosted-subnet-id x' \
        'network routeserver peering create -g rg --vrouter-name rs -n p' \
        'vm create -g rg -n vm --security-type Standard' \
        'network vrouter create -g rg -n rs'; do
        # shellcheck disable=SC2086 # the words of the call
        (PATH="$fake:$PATH" FAKE_AZ_DIR="$tmp/state" az $bad_call >/dev/null 2>&1) && st=0 || st=$?
        [ "$st" = 2 ] || bad "the stand-in for az accepts: az $bad_call"
done

# ---- errors and usage ---------------------------------------------------------------------
# expect_exit CODE NAME ARGS...: stderr goes to NAME (several calls may share one file)
expect_exit() {
        want=$1 name=$2
        shift 2
        echo "\$ nestrouterctl $*" >>"$tmp/$name"
        "$ctl" "$@" >"$tmp/out" 2>>"$tmp/$name" && got=0 || got=$?
        [ "$got" = "$want" ] || bad "nestrouterctl $*: exit $got, expected $want"
        [ "$want" = 0 ] || [ ! -s "$tmp/out" ] || bad "nestrouterctl $*: printed artefacts"
}
expect_exit 1 errors azure routes "$g/host-a.yaml" "$g/overlap.yaml"
expect_exit 1 errors azure routes configs/azure-nested.yaml "$g/invalid.yaml"
expect_exit 2 usage azure
expect_exit 2 usage azure frobnicate configs/azure-nested.yaml
expect_exit 2 usage azure routes
expect_exit 2 usage azure routes --format terraform configs/azure-nested.yaml
expect_exit 2 usage azure routes --remove configs/azure-nested.yaml "$g/named.yaml"
expect_exit 2 usage azure routes --remove --format arm configs/azure-nested.yaml
expect_exit 0 usage azure routes --help
golden_cmp "$g/errors.err" "$tmp/errors" || rc=1
golden_cmp "$g/usage.err" "$tmp/usage" || rc=1

# ---- configs/azure/deploy.sh --------------------------------------------------------------
deploy=configs/azure/deploy.sh
shellcheck "$deploy" || bad "shellcheck $deploy"
bash -n "$deploy" || bad "bash -n $deploy"
"$deploy" --print-custom-data >"$tmp/cloud-init.yaml"
golden_cmp configs/azure/cloud-init.yaml "$tmp/cloud-init.yaml" || rc=1
"$deploy" --print-config >"$tmp/deploy-config.yaml"
"$nrd" --check "$tmp/deploy-config.yaml" >/dev/null || bad "the deploy config does not pass --check"
"$ctl" azure routes "$tmp/deploy-config.yaml" >"$tmp/deploy-routes.sh" || bad "routes of it"
check_az "$tmp/deploy-routes.sh"
# A whole deployment against the stand-in, then the same again (only updates).
head -c $((2 * 1048576 + 512)) /dev/zero >"$tmp/disk.vhd"
echo "ssh-ed25519 AAAAtest test" >"$tmp/key.pub"
state
run_fake deploy env VHD="$tmp/disk.vhd" SSH_KEY="$tmp/key.pub" SSH_SOURCE=203.0.113.7/32 \
        bash -c '"$0" && echo "--- the same script again" >>state/log && "$0"' \
        "$(pwd)/$deploy"
# An upgrade: everything exists; a new image version is uploaded and registered, the VM is
# stopped, deleted with its OS disk, and created again from the new image on the same NICs and
# data disk (its id at LUN 0); the routes stay. Without a VM, --upgrade refuses.
state group.rg-nested image.nestrouter-gen1 image.nestrouter-gen2 network_vnet.Nested-Fun \
        network_vnet_subnet.NAT network_vnet_subnet.Hyper-V-LAN network_vnet_subnet.Ghosted \
        network_vnet_subnet.Azure-VMs network_public-ip.nestrouter1-pip network_nsg.nestrouter1-nic1-nsg \
        network_nic.nestrouter1-nic1 network_nic.nestrouter1-nic2 disk.nestrouter1-data vm.nestrouter1 \
        network_route-table.Routes-for-nested-VMs
run_fake deploy-upgrade env VHD="$tmp/disk.vhd" SSH_KEY="$tmp/key.pub" SSH_SOURCE=203.0.113.7/32 \
        IMAGE_PREFIX=nestrouter-0.2 "$(pwd)/$deploy" --upgrade
state
run_fake deploy-upgrade-novm env VHD="$tmp/disk.vhd" SSH_KEY="$tmp/key.pub" \
        SSH_SOURCE=203.0.113.7/32 "$(pwd)/$deploy" --upgrade
# Trusted Launch: the upload disk becomes a snapshot and an image version of a gallery
# definition with SecurityType=TrustedLaunchSupported (no managed images); the VM is created
# from that version with Secure Boot and a vTPM. Then the same again (nothing new), and an
# upgrade to a new image version of the same definition.
state
run_fake deploy-tl env VHD="$tmp/disk.vhd" SSH_KEY="$tmp/key.pub" SSH_SOURCE=203.0.113.7/32 \
        bash -c '"$0" --security-type TrustedLaunch && echo "--- the same script again" >>state/log &&
                SECURITY_TYPE=TrustedLaunch "$0"' "$(pwd)/$deploy"
mv "$tmp/state/log" "$tmp/state/log.first"
run_fake deploy-tl-upgrade env VHD="$tmp/disk.vhd" SSH_KEY="$tmp/key.pub" \
        SSH_SOURCE=203.0.113.7/32 IMAGE_PREFIX=nestrouter-0.2 GALLERY_IMAGE_VERSION=1.1.0 \
        "$(pwd)/$deploy" --security-type TrustedLaunch --upgrade
# refused before anything is called: an unknown security type, Trusted Launch on Generation 1
state
run_fake deploy-tl-refused env VHD="$tmp/disk.vhd" SSH_KEY="$tmp/key.pub" \
        SSH_SOURCE=203.0.113.7/32 bash -c '"$0" --security-type Confidential;
                VM_GENERATION=V1 "$0" --security-type TrustedLaunch; "$0" --security-type' \
        "$(pwd)/$deploy"
# A VHD that is not whole MiB plus the footer is refused before anything is uploaded.
head -c 1048576 /dev/zero >"$tmp/disk.vhd"
state
run_fake deploy-bad-vhd env VHD="$tmp/disk.vhd" SSH_KEY="$tmp/key.pub" \
        SSH_SOURCE=203.0.113.7/32 GENERATIONS=V2 "$(pwd)/$deploy"
exit $rc
