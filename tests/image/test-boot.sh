#!/bin/bash
# Boot test of the appliance image (make test-image; make test IMAGE=1). For each firmware the
# image boots under QEMU (KVM when usable, else TCG) as the router of a simulated Azure VNet
# (tests/netns/vnet.sh rtr-taps, image/vm.sh):
#   bios  SeaBIOS, i440fx (Azure Gen1), build/image/nestrouter.raw, disk grown to 4 GiB
#   uefi  OVMF, q35 (Azure Gen2), build/image/nestrouter.vhd (the Azure upload itself)
# with a NoCloud seed whose user data is configs/azure/cloud-init.yaml (the documented Azure
# custom data: both uplinks `address: dhcp`, matched by MAC, against the fabric's Azure-like
# DHCP) plus a test user and `guests.ports: [eth2]`. It checks: cloud-init applied the seed,
# nestrouterd is READY and converged, the NICs follow Azure's rules, no unit failed, a
# host-side guest namespace on the third NIC gets a DHCP lease and reaches the simulated Azure
# VM with its own address and the internet as NIC1's address; with BIOS also a bad file
# (rejected reload; a start with it: SSH stays reachable, errors in status and journal) and
# the example configs' rulesets against the image's kernel. Boot-to-READY is measured on the
# serial console. Ends with `N passed, N failed`; logs and timings in build/image/test/.
# Environment: FIRMWARES ("bios uefi"), BOOT_TIMEOUT (900 s), ACCEL, KEEP=1 (leave the work dir).
# shellcheck disable=SC2016,SC2001  # remote commands are single-quoted on purpose
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh
# shellcheck source=image/vm.sh
. image/vm.sh

OUT=build/image
WORK=$OUT/test
FIRMWARES=${FIRMWARES:-bios uefi}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-900}
GUEST_MAC=52:54:00:00:01:01
NIC1_IP=10.0.0.4
VM_IP=10.0.3.4
INET_IP=203.0.113.10
[ "$(id -u)" = 0 ] || { echo "test-boot: needs root" >&2; exit 1; }
for f in "$OUT/nestrouter.raw" "$OUT/nestrouter.vhd"; do
        [ -f "$f" ] || { echo "test-boot: $f missing (make image vhd)" >&2; exit 1; }
done

VM_ID=
QPID=
RECPID=
cleanup() {
        [ -n "$RECPID" ] && kill "$RECPID" 2>/dev/null
        if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
                kill "$QPID" 2>/dev/null
                wait "$QPID" 2>/dev/null
        fi
        RECPID='' QPID=''
        [ -n "$VM_ID" ] && NR_VNET_QUIET=1 vm_vnet down >/dev/null 2>&1
        VM_ID=
}
trap 'cleanup; [ "${KEEP:-0}" = 1 ] || rm -f "$WORK"/*/disk.qcow2' EXIT
trap 'exit 130' INT TERM

rm -rf "$WORK" && mkdir -p "$WORK"
ssh-keygen -q -t ed25519 -N '' -C nestrouter-test -f "$WORK/id_ed25519"

# The user data: the documented Azure custom data, plus a login for the test and the third NIC.
sed 1d configs/azure/cloud-init.yaml | vm_add_ports eth2 >"$WORK/azure-part.yaml"
{
        vm_user_head nr "$(cat "$WORK/id_ed25519.pub")"
        cat "$WORK/azure-part.yaml"
} >"$WORK/user-data"
# the configuration as cloud-init will write it (for comparing, and for --check)
sed -n '/^    content: |$/,$p' "$WORK/azure-part.yaml" | sed '1d; s/^      //' >"$WORK/expected.yaml"
if ! grep -q 'address: dhcp' "$WORK/expected.yaml" || ! grep -q 'ports: \[eth2\]' "$WORK/expected.yaml" ||
        ! build/nestrouterd --check "$WORK/expected.yaml" >"$WORK/check.out" 2>&1; then
        cat "$WORK/check.out" "$WORK/user-data"
        echo "test-boot: bad seed" >&2
        exit 1
fi

# ssh into the appliance from the simulated Azure VM (10.0.3.4) to NIC1's address. vssh1 tries
# once; vssh retries while ssh itself fails (255): cloud-init restarts sshd during first boot.
vssh1() {
        ip netns exec "nr-$VM_ID-vm" ssh -F /dev/null -i "$WORK/id_ed25519" -o BatchMode=yes \
                -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
                -o ConnectTimeout=10 -o ServerAliveInterval=10 -o ServerAliveCountMax=3 \
                "nr@$NIC1_IP" "$@"
}
vssh() {
        local i rc
        for i in 1 2 3 4 5; do
                vssh1 "$@"
                rc=$?
                [ "$rc" -ne 255 ] && return "$rc"
                [ "$i" -lt 5 ] && sleep 3
        done
        return "$rc"
}

# the serial console's milestones, stamped (tenths of a second since QEMU started) as they appear
MARKERS='grub|GNU GRUB|Welcome to GRUB
kernel|Linux version [0-9]
systemd|Welcome to .*Debian
cloud-init|running .init-local.
login|login: 
final|Cloud-init v\. .* finished'
record_markers() { # LOG OUT T0_NS QPID
        local name re seen=" "
        while kill -0 "$4" 2>/dev/null; do
                while IFS='|' read -r name re; do
                        case $seen in *" $name "*) continue ;; esac
                        if grep -aqE "$re" "$1" 2>/dev/null; then
                                echo "$name $((($(date +%s%N) - $3) / 100000000))" >>"$2"
                                seen="$seen$name "
                        fi
                done <<<"$MARKERS"
                sleep 0.5
        done
}
marker() { # FW NAME: seconds (one decimal), or nothing
        awk -v n="$2" '$1 == n { printf "%d.%d\n", $2 / 10, $2 % 10; exit }' "$WORK/$1/markers" 2>/dev/null
}

# What a guest kernel prints when it is wedged: no boot recovers from it, so waiting on is waste.
KERNEL_STALL='soft lockup - CPU#|self-detected stall on CPU|rcu_.* detected stalls on CPUs|Kernel panic|blocked for more than [0-9]+ seconds'

# wait_for SECONDS CMD...: retries CMD every 2 s; fails early when QEMU has died or the guest
# kernel on CONSOLE (a global, if set) reports a stall
wait_for() {
        local end=$((SECONDS + $1))
        shift
        while [ $SECONDS -lt "$end" ]; do
                "$@" >/dev/null 2>&1 && return 0
                kill -0 "$QPID" 2>/dev/null || return 1
                [ -n "${CONSOLE:-}" ] && grep -aqE "$KERNEL_STALL" "$CONSOLE" 2>/dev/null && return 1
                sleep 2
        done
        return 1
}

# check NAME CMD...: one test (tests/lib.sh's run: CMD may be a function; its output is shown on
# failure). NB: run sets the globals name and out, so no function here uses those names.
check() { run "$@"; }
# expect NAME WANT GOT
expect() {
        if [ "$2" = "$3" ]; then pass "$1"; else fail "$1"; echo "  want '$2', got '$3'"; fi
}

converged() { vssh 'systemctl show -p StatusText --value nestrouter' | grep -q '^converged'; }

# ---------------------------------------------------------------- checks inside the booted VM
cloud_init_done() { vssh 'sudo timeout 600 cloud-init status --wait' | grep -q 'status: done'; }
config_ok() { vssh 'sudo nestrouterctl status' | grep -qE '^config: .*\(ok\)'; }
# without a subcommand nestrouter-virt answers with its usage (exit 2); had nestrouterctl not
# found it, it would say "cannot run" (exit 1). No libvirt connection: libvirtd's first one
# probes QEMU, which under TCG inside TCG takes long.
guests_helper_runs() {
        vssh 'nestrouterctl guests 2>&1; echo "exit $?"' | paste -sd' ' |
                grep -qx 'usage: nestrouterctl guests shutdown \[--timeout SECONDS\] exit 2'
}
# nestrouter is the Debian package (make deb), installed and its units enabled by it;
# nestrouter-guests.service active, so that its ExecStop shuts the guests down at shutdown
from_package() {
        vssh 'dpkg-query -W -f "\${Status}" nestrouter | grep -qx "install ok installed" &&
                [ "$(dpkg-query -S /usr/sbin/nestrouterd)" = "nestrouter: /usr/sbin/nestrouterd" ] &&
                systemctl is-enabled nestrouter.service nestrouter-guests.service >/dev/null &&
                systemctl is-active nestrouter-guests.service >/dev/null'
}
unit_verifies() { vssh 'sudo systemd-analyze verify nestrouter.service 2>&1 | (! grep .)'; }
nic1_dhcp() {
        vssh 'ip -4 -o addr show dev eth0 | grep -q "inet 10.0.0.4/24" &&
                r=$(ip route show proto dhcp dev eth0) &&
                echo "$r" | grep -q "^default via 10.0.0.1" &&
                echo "$r" | grep -q "^168.63.129.16 via 10.0.0.1" &&
                echo "$r" | grep -q "^169.254.169.254 via 10.0.0.1"'
}
nic2_dhcp() {
        vssh 'ip -4 -o addr show dev eth1 | grep -q "inet 10.0.1.4/24" &&
                [ -z "$(ip route show table all proto dhcp dev eth1)" ] &&
                [ -z "$(resolvectl dns eth1 | cut -d: -f2 | tr -d " ")" ]'
}
routes_78() {
        vssh 'r=$(ip route show proto 78) &&
                echo "$r" | grep -q "^10.0.0.0/22 via 10.0.1.1 dev eth1" &&
                echo "$r" | grep -q "^172.16.0.0/22 via 10.0.1.1 dev eth1"'
}
port_on_bridge() { vssh 'ip -o link show dev eth2 | grep -q "master nr0"'; }
repairs() { vssh 'sudo nestrouterctl status' | sed -n 's/.*repairs: .*route \([0-9]*\) rule \([0-9]*\).*/route \1 rule \2/p'; }
# ManageForeignRoutes=no / ManageForeignRoutingPolicyRules=no: a networkd restart (an upgrade)
# leaves nestrouter's routes and rules alone, so the daemon has nothing to repair
networkd_restart_keeps() {
        local before after
        before=$(repairs)
        vssh 'sudo systemctl restart systemd-networkd && sleep 5 && ip -4 -o addr show dev eth0 | grep -q 10.0.0.4' || return 1
        after=$(repairs)
        echo "repairs before: $before; after: $after"
        [ -n "$before" ] && [ "$before" = "$after" ] && routes_78
}
# systemd reports a bad line of a unit, .network, .conf or udev rule as FILE:LINE
overlay_parses() { ! vssh 'sudo journalctl -b -o cat' | grep -E '/[^ ]*nestrouter[^ :]*:[0-9]+'; }
identity_ok() { [ "$(wc -l <"$1")" = 2 ] && grep -qE '^[0-9a-f]{32}$' "$1"; }
root_grown() { vssh '[ "$(df -BM --output=size / | tail -n 1 | tr -dc 0-9)" -gt 3500 ]'; }
initramfs_azure() {
        vssh 'l=$(sudo lsinitramfs "$(readlink -f /initrd.img)") && for m in hv_vmbus hv_storvsc hv_netvsc; do
                echo "$l" | grep -q "/$m.ko" || { echo "missing $m"; exit 1; }; done'
}

# ---------------------------------------------------------------- checks inside the booted VM
check_vm() {
        local fw=$1 res
        check "$fw: cloud-init finished (status: done)" cloud_init_done
        res=$(vssh 'sudo cat /etc/nestrouter/nestrouter.yaml' | sha256sum)
        expect "$fw: /etc/nestrouter/nestrouter.yaml is the seed's file (write_files)" \
                "$(sha256sum <"$WORK/expected.yaml")" "$res"
        if wait_for 90 converged; then
                pass "$fw: nestrouterd READY and converged ($(vssh 'systemctl show -p StatusText --value nestrouter'))"
        else
                fail "$fw: nestrouterd READY and converged"
                vssh 'systemctl status nestrouter --no-pager; sudo nestrouterctl status' | sed 's/^/  /'
        fi
        check "$fw: nestrouterctl status: configuration ok" config_ok
        res=$(vssh 'systemctl --failed --no-legend --plain' 2>&1)
        expect "$fw: no failed units" "" "$res"
        check "$fw: systemd-analyze verify nestrouter.service in the booted image" unit_verifies
        check "$fw: nestrouter is the installed package; its units enabled, nestrouter-guests active" from_package
        res=$(vssh 'cat /sys/class/net/eth0/address /sys/class/net/eth1/address /sys/class/net/eth2/address' | paste -sd' ')
        expect "$fw: eth0/eth1/eth2 are NIC1/NIC2/NIC3" "$VM_NIC1_MAC $VM_NIC2_MAC $VM_NIC3_MAC" "$res"
        check "$fw: NIC1 by DHCP with its routes (default, wireserver, IMDS)" nic1_dhcp
        check "$fw: NIC2 by DHCP without routes, gateway or DNS" nic2_dhcp
        check "$fw: nestrouter's routes stay (networkd leaves foreign routes alone)" routes_78
        check "$fw: eth2 is a port of the guest bridge nr0 (guests.ports)" port_on_bridge
        check "$fw: the overlay's files load without complaints (journal)" overlay_parses
        check "$fw: a networkd restart leaves nestrouter's routes and rules alone" networkd_restart_keeps
        check "$fw: nestrouterctl guests runs nestrouter-virt from /usr/libexec/nestrouter" \
                guests_helper_runs
        vssh 'cat /etc/machine-id; sudo cut -d" " -f2 /etc/ssh/ssh_host_ed25519_key.pub' \
                >"$WORK/$fw/identity" 2>&1
        check "$fw: first boot: a machine-id and SSH host keys of its own" identity_ok "$WORK/$fw/identity"
}

check_guest() {
        local fw=$1 ip who
        ip=$(NR_VNET_LEASE_WAIT=120 NR_VNET_QUIET=1 vm_vnet guest-add g1 "$GUEST_MAC" 2>&1)
        case $ip in
        10.0.2.*) pass "$fw: the host-side guest gets a DHCP lease through the third NIC ($ip)" ;;
        *) fail "$fw: the host-side guest gets a DHCP lease through the third NIC"; echo "  $ip"
           return ;;
        esac
        who=$(vm_vnet whoami g1 "$VM_IP" 2>&1)
        expect "$fw: guest -> Azure VM $VM_IP, seen with its own address" "$ip" "$who"
        who=$(vm_vnet whoami g1 "$INET_IP" 2>&1)
        expect "$fw: guest -> internet $INET_IP, seen as NIC1's $NIC1_IP" "$NIC1_IP" "$who"
        who=$(vm_vnet whoami vm "$ip" 2>&1)
        expect "$fw: Azure VM -> guest (the route table's path through NIC2), unNATed" "$VM_IP" "$who"
        expect "$fw: the fabric dropped nothing on NIC1" 0 "$(vm_vnet nic1-drops 2>&1)"
}

# A bad file: reload rejected (running config kept, traffic unaffected); then a start with it,
# as a first boot with a broken custom data would be: nothing applied, SSH still reachable, the
# errors in status and journal; then the good file again, picked up without a reload.
status_rejected() { vssh 'sudo nestrouterctl status' | grep -q 'rejected; running the previous one'; }
journal_has_error() { vssh 'sudo journalctl -b -u nestrouter -o cat' | grep -q 'bogus_key'; }
check_bad_file() {
        local fw=$1 res rc
        vssh 'sudo cp /etc/nestrouter/nestrouter.yaml /root/good.yaml &&
                sudo sh -c "echo \"bogus_key: 1\" >>/etc/nestrouter/nestrouter.yaml"'
        res=$(vssh 'sudo nestrouterctl reload' 2>&1)
        rc=$?
        expect "$fw: bad file: nestrouterctl reload exits 1" 1 "$rc"
        case $res in
        *"error"*"bogus_key"*) pass "$fw: bad file: reload names the error" ;;
        *) fail "$fw: bad file: reload names the error"; echo "  $res" ;;
        esac
        check "$fw: bad file: status says rejected, running the previous one" status_rejected
        expect "$fw: bad file: guest traffic unaffected" "$NIC1_IP" "$(vm_vnet whoami g1 "$INET_IP" 2>&1)"
        vssh 'sudo systemctl stop nestrouter && sudo nestrouterd --teardown >/dev/null 2>&1;
                sudo systemctl start nestrouter'
        res=$(vssh 'systemctl is-active nestrouter; sudo nestrouterctl status | head -n 3' 2>&1)
        case $res in
        active*"error; nothing applied"*bogus_key*)
                pass "$fw: bad file at start: daemon up, nothing applied, the error in status" ;;
        *) fail "$fw: bad file at start: daemon up, nothing applied, the error in status"
           echo "$res" | sed 's/^/  /' ;;
        esac
        check "$fw: bad file at start: the error in the journal" journal_has_error
        check "$fw: bad file at start: SSH reachable (new connection)" vssh true
        vssh 'sudo cp /root/good.yaml /etc/nestrouter/nestrouter.yaml'
        if wait_for 60 converged; then
                pass "$fw: the good file again: applied without a reload"
        else
                fail "$fw: the good file again: applied without a reload"
        fi
        expect "$fw: ... and guest traffic is back" "$NIC1_IP" "$(vm_vnet whoami g1 "$INET_IP" 2>&1)"
}

# The rulesets of the example configurations load on the image's kernel (nft --check talks
# to the kernel): the build host's kernel may be newer than Debian 12's.
check_rulesets() {
        local fw=$1 res
        res=$(vssh 'cd /usr/share/doc/nestrouter/examples && for f in *.yaml; do
                [ "$f" = cloud-init.yaml ] && continue   # user data, not a nestrouter.yaml
                sudo nestrouterd --check --json "$f" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"nft\"])" >/tmp/r.nft &&
                sudo nft -c -f /tmp/r.nft || echo "FAILED $f"; done' 2>&1)
        case $res in
        *FAILED*|*rror*) fail "$fw: every example config's ruleset loads on the image's kernel"
                         echo "$res" | sed 's/^/  /' ;;
        *) pass "$fw: every example config's ruleset loads on the image's kernel" ;;
        esac
}

# ---------------------------------------------------------------- one boot
boot_one() {
        local fw=$1 d=$WORK/$1 base fmt size args t0 kready ready m
        case $fw in
        bios) base=$OUT/nestrouter.raw fmt=raw size=4G ;;
        uefi) base=$OUT/nestrouter.vhd fmt=vpc size= ;;
        *) fail "unknown firmware $fw"; return ;;
        esac
        VM_ID=img$fw
        NR_VNET_QUIET=1 vm_vnet down >/dev/null 2>&1     # a previous run's leftovers
        mkdir -p "$d"
        printf 'instance-id: nestrouter-test-%s-%s\nlocal-hostname: nestrouter\n' "$fw" "$$" >"$d/meta-data"
        if ! vm_seed "$d/seed.img" "$WORK/user-data" "$d/meta-data" ||
                ! vm_disk "$base" "$fmt" "$d/disk.qcow2" $size || ! vm_vnet_up "$VM_ID" ||
                ! mapfile -t args < <(vm_qemu_args "$fw" "$d/disk.qcow2" "$d/seed.img" "$d"); then
                fail "$fw: set up (seed, disk, VNet $VM_ID)"
                cleanup
                return
        fi
        : >"$d/markers"
        echo "# $fw: booting ($(vm_accel)); serial console in $d/console.log"
        t0=$(date +%s%N)
        ip netns exec "nr-$VM_ID-rtr" qemu-system-x86_64 "${args[@]}" -display none -vga none \
                -monitor none -serial "file:$d/console.log" -no-reboot \
                </dev/null >"$d/qemu.log" 2>&1 &
        QPID=$!
        CONSOLE=$d/console.log
        record_markers "$d/console.log" "$d/markers" "$t0" "$QPID" &
        RECPID=$!

        # READY: nestrouter.service is active (Type=notify: only after READY=1). The console is
        # no clock for it (systemd stops printing unit status once the getty is up), so the time
        # is the kernel's start on the console plus the unit's activation time in the VM.
        if wait_for "$BOOT_TIMEOUT" vssh1 'systemctl is-active --quiet nestrouter'; then
                kready=$(vssh 'systemctl show -p ActiveEnterTimestampMonotonic --value nestrouter')
                ready=$(awk -v k="$(marker "$fw" kernel)" -v u="$kready" 'BEGIN { printf "%.1f", k + u / 1e6 }')
                echo "ready $(awk -v r="$ready" 'BEGIN { printf "%d", r * 10 }')" >>"$d/markers"
                pass "$fw: boots to nestrouterd READY in $ready s ($(vm_accel)); SSH to NIC1 from the Azure VM subnet"
        else
                fail "$fw: boots to nestrouterd READY (and SSH to NIC1) within $BOOT_TIMEOUT s"
                if grep -aqE "$KERNEL_STALL" "$d/console.log"; then
                        echo "  the guest kernel stalled after $((($(date +%s%N) - t0) / 1000000000)) s:"
                        grep -aE -m1 -A12 "$KERNEL_STALL" "$d/console.log" | sed 's/^/  /'
                else
                        tail -n 30 "$d/console.log" "$d/qemu.log" | sed 's/^/  /'
                fi
                cleanup
                return
        fi
        check_vm "$fw"
        check_guest "$fw"
        if [ "$fw" = bios ]; then
                check "$fw: root partition grown to the 4 GiB disk (growpart)" root_grown
                check "$fw: the initramfs carries the Hyper-V storage and network drivers" initramfs_azure
                check_rulesets "$fw"
                check_bad_file "$fw"
        fi
        # timings: from QEMU's start (console milestones; READY as above)
        vssh 'systemd-analyze; systemd-analyze blame --no-pager | head -n 12' >"$d/analyze" 2>&1
        {
                printf '%s (%s), seconds from QEMU start:' "$fw" "$(vm_accel)"
                for m in grub kernel systemd cloud-init ready login final; do
                        printf ' %s %s' "$m" "$(marker "$fw" "$m")"
                done
                echo
                awk -v u="${kready:-0}" -v fw="$fw" \
                        'BEGIN { printf "%s: kernel start -> nestrouter READY (in the VM) %.1f s\n", fw, u / 1e6 }'
                sed "s/^/$fw: /" "$d/analyze"
        } | tee -a "$WORK/times.txt"
        vssh 'sudo systemctl poweroff' >/dev/null 2>&1
        local end=$((SECONDS + 120))
        while kill -0 "$QPID" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 1; done
        if kill -0 "$QPID" 2>/dev/null; then
                fail "$fw: clean poweroff within 120 s"
        else
                pass "$fw: clean poweroff"
        fi
        if grep -aqE "$KERNEL_STALL" "$d/console.log"; then
                fail "$fw: the guest kernel reported no stall, lockup or panic on the console"
                grep -aE -m3 "$KERNEL_STALL" "$d/console.log" | sed 's/^/  /'
        else
                pass "$fw: the guest kernel reported no stall, lockup or panic on the console"
        fi
        cleanup
}

for fw in $FIRMWARES; do
        boot_one "$fw"
done
if [ -s "$WORK/bios/identity" ] && [ -s "$WORK/uefi/identity" ]; then
        if cmp -s "$WORK/bios/identity" "$WORK/uefi/identity"; then
                fail "two VMs from one image have different machine-ids and SSH host keys"
        else
                pass "two VMs from one image have different machine-ids and SSH host keys"
        fi
fi
summary
