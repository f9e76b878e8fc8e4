#!/bin/bash
# Boot test of the appliance image (make test-image; make test IMAGE=1). Each boot runs the image
# under QEMU (KVM when usable, else TCG) as the router of a simulated Azure VNet
# (tests/netns/vnet.sh rtr-taps, image/vm.sh):
#   bios     Azure Gen1: SeaBIOS, i440fx, build/image/nestrouter.raw grown to 4 GiB, provisioned
#            through the simulated Azure fabric; a blank data disk at LUN 0; its custom data adds
#            a nested guest (UEFI, TPM, a blank disk; TCG, no OS) that nestrouterd defines and
#            starts. Then a second boot, then the upgrade: a fresh OS disk from image B
#            (build/image/b/nestrouter.raw, the tree built again: another build id), the same
#            data disk; the guest is autostarted, the same (UUID, disk, NVRAM, TPM state)
#   uefi     Azure Gen2 with Trusted Launch: OVMF's Secure Boot build with Microsoft's keys
#            enrolled (q35, SMM) and a TPM 2.0 (swtpm), build/image/nestrouter.vhd (the Azure
#            upload itself), through the fabric; a data disk at LUN 0 that already has a
#            partition table. Then, from a copy of the image, the signed GRUB is made to load a
#            kernel with one byte changed (refused) and the unchanged kernel (booted)
#   nocloud  SeaBIOS, the raw image, a NoCloud seed (the QEMU path), no data disk
# The Azure path (image/vm.sh VM_AZURE=1, tests/image/azure-fabric.py): Azure's chassis asset tag,
# a provisioning CD with ovf-env.xml (admin user azureuser, its SSH key, host name nestrouter1,
# CustomData = configs/azure/cloud-init.yaml), DHCP with option 245, the wireserver and IMDS in
# the fabric namespace. The NoCloud seed's user data is the same file plus a user nr. The custom
# data is the documented Azure user data (both uplinks `address: dhcp`, matched by MAC, against the
# fabric's Azure-like DHCP) plus `guests.ports: [eth2]`. Azure boots check: cloud-init chose the
# Azure datasource, the ovf-env.xml user logs in with its key, one Ready health report with the
# goal state's incarnation, container and instance ids, from NIC1, timed from QEMU's start; the
# data disk (formatted and mounted by label when blank, untouched when not); a second boot
# provisions nothing again. Every boot checks: GRUB and a login prompt on the serial console
# (the break-glass path without the VM agent), cloud-init applied the user data,
# nestrouterd is READY and converged, the NICs follow Azure's rules, no unit failed, a
# host-side guest namespace on the third NIC gets a DHCP lease and reaches the simulated Azure
# VM with its own address and the internet as NIC1's address; with BIOS also a bad file
# (rejected reload; a start with it: SSH stays reachable, errors in status and journal) and
# the example configs' rulesets against the image's kernel. Boot-to-READY is measured on the
# serial console. Every boot runs `nestrouterctl doctor` in the VM: Secure Boot, vTPM and the
# security type as the boot's firmware has them. The uefi boot shows Debian's signed chain under
# Secure Boot: the kernel's EFI stub reports it, the kernel is in lockdown, nothing was refused.
# Ends with `N passed, N failed`; logs and timings in build/image/test/.
# Environment: BOOTS ("bios uefi nocloud"), BOOT_TIMEOUT (900 s), ACCEL, KEEP=1 (leave the work dir).
# shellcheck disable=SC2016,SC2001  # remote commands are single-quoted on purpose
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh
# shellcheck source=image/vm.sh
. image/vm.sh

OUT=build/image
WORK=$OUT/test
BOOTS=${BOOTS:-${FIRMWARES:-bios uefi nocloud}}
AZ_USER=azureuser
AZ_HOST=nestrouter1
VM_USER=nr
BOOT_TIMEOUT=${BOOT_TIMEOUT:-900}
GUEST_MAC=52:54:00:00:01:01
NIC1_IP=10.0.0.4
VM_IP=10.0.3.4
INET_IP=203.0.113.10
INNER=inner1                    # the bios boot's nested guest
# image B: the same tree built again (make image-b); the bios boot's re-image boots it
IMAGE_B=$OUT/b/nestrouter.raw
[ "$(id -u)" = 0 ] || { echo "test-boot: needs root" >&2; exit 1; }
for f in "$OUT/nestrouter.raw" "$OUT/nestrouter.vhd" "$IMAGE_B"; do
        [ -f "$f" ] || { echo "test-boot: $f missing (make image vhd image-b)" >&2; exit 1; }
done
# the build id of each (image/build.sh writes it into build-info.txt)
build_id() { sed -n 's/^build id *//p' "$(dirname "$1")/build-info.txt"; }
ID_A=$(build_id "$OUT/nestrouter.raw")
ID_B=$(build_id "$IMAGE_B")
if [ -z "$ID_A" ] || [ -z "$ID_B" ] || [ "$ID_A" = "$ID_B" ]; then
        echo "test-boot: images A and B need build ids of their own (A '$ID_A', B '$ID_B'): make image image-b" >&2
        exit 1
fi

VM_ID=
QPID=
RECPID=
cleanup() {
        local pidf
        [ -n "$RECPID" ] && kill "$RECPID" 2>/dev/null
        if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
                kill "$QPID" 2>/dev/null
                wait "$QPID" 2>/dev/null
        fi
        RECPID='' QPID=''
        # swtpm ends with QEMU's connection; one that QEMU never reached is stopped here
        for pidf in "$WORK"/*/swtpm.pid; do
                [ -f "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null
                rm -f "$pidf"
        done
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
# Azure's CustomData: the documented user data, with the third NIC, no test user
{ echo "#cloud-config"; cat "$WORK/azure-part.yaml"; } >"$WORK/custom-data"
# The bios boot's custom data adds a nested guest whose state lives on the data disk: a blank
# disk, UEFI (its NVRAM), a TPM (libvirt's swtpm state); no OS, so it only has to run. The
# appliance is TCG and so is the guest (qemu64). The file's content block ends the user data.
{
        echo "#cloud-config"
        cat "$WORK/azure-part.yaml"
        echo "      libvirt: {shutdown_timeout: 20s}  # the guest has no OS to shut down: destroyed after 20 s"
        echo "      vms:                          # a nested guest whose state the upgrade must keep"
        echo "        - {name: $INNER, disk_size: 32MiB, memory: 128MiB, cpu: qemu64, firmware: uefi, tpm: true}"
} >"$WORK/custom-data-vm"
# the configuration as cloud-init will write it (for comparing, and for --check)
sed -n '/^    content: |$/,$p' "$WORK/azure-part.yaml" | sed '1d; s/^      //' >"$WORK/expected.yaml"
sed -n '/^    content: |$/,$p' "$WORK/custom-data-vm" | sed '1d; s/^      //' >"$WORK/expected-vm.yaml"
if ! grep -q 'address: dhcp' "$WORK/expected.yaml" || ! grep -q 'ports: \[eth2\]' "$WORK/expected.yaml" ||
        ! build/nestrouterd --check "$WORK/expected.yaml" >"$WORK/check.out" 2>&1 ||
        ! grep -q "name: $INNER" "$WORK/expected-vm.yaml" ||
        ! build/nestrouterd --check "$WORK/expected-vm.yaml" >>"$WORK/check.out" 2>&1; then
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
                "$VM_USER@$NIC1_IP" "$@"
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
# check_grep NAME REGEX CMD...: CMD's output matches the extended REGEX (read whole first: with
# pipefail, grep -q leaving early would fail CMD with SIGPIPE)
check_grep() {
        local n=$1 re=$2 o
        shift 2
        o=$("$@" 2>/dev/null)
        if grep -aqE -- "$re" <<<"$o"; then pass "$n"; else fail "$n"; fi
}
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
guests_unit_hardened() {
        vssh 'systemd-analyze security --no-pager nestrouter-guests.service' | tail -n 1 |
                grep -E 'Overall exposure level for nestrouter-guests.service: [0-9.]+ (OK|MEDIUM)'
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
# cloud-init makes ed25519 and ECDSA host keys, ssh.service's ssh-keygen -A the RSA one (off the
# path to READY; 90-nestrouter.cfg); no DSA
host_keys() { vssh 'cd /etc/ssh && ls ssh_host_*_key.pub' | sed 's/^ssh_host_//; s/_key.pub$//' | paste -sd' '; }
root_grown() { vssh '[ "$(df -BM --output=size / | tail -n 1 | tr -dc 0-9)" -gt 3500 ]'; }
initramfs_azure() {
        vssh 'l=$(sudo lsinitramfs "$(readlink -f /initrd.img)") && for m in hv_vmbus hv_storvsc hv_netvsc; do
                echo "$l" | grep -q "/$m.ko" || { echo "missing $m"; exit 1; }; done'
}

# ---------------------------------------------------------------- the nested guest (bios)
inner_running() { vssh 'sudo nestrouterctl vm list' | grep -qE "^$INNER +running "; }
# what makes it the same guest: libvirt's UUID, and inode and birth time of its disk, its NVRAM
# and its TPM state directory (all on the data disk; recreated files would differ)
inner_ids() {
        vssh 'sudo sh -s' <<EOF 2>&1 | paste -sd' '
u=\$(virsh -q -c qemu:///system domuuid $INNER) && echo "uuid \$u" &&
stat -c 'disk %i %W' /var/lib/nestrouter/disks/$INNER.qcow2 &&
stat -c 'nvram %i %W' /var/lib/nestrouter/nvram/${INNER}_VARS.fd &&
stat -c 'tpm %i %W' /var/lib/libvirt/swtpm/\$u/tpm2
EOF
}
# this boot's journal: nestrouterd started it as autostart; with DEFINED=1 also defined it
# (libvirt's definitions are on the OS disk: a new one has none)
inner_autostarted() {
        local j
        j=$(vssh 'sudo journalctl -b -u nestrouter -o cat' 2>&1)
        grep -q "virt: $INNER: started (autostart)" <<<"$j" || { echo "not autostarted this boot"; return 1; }
        [ "${DEFINED:-0}" = 0 ] || grep -q "virt: $INNER: defined" <<<"$j" || { echo "not defined this boot"; return 1; }
}
check_inner_first() {
        local fw=$1 res
        if wait_for 300 inner_running; then
                pass "$fw: the nested guest $INNER (UEFI, TPM, blank disk) is running, started by nestrouterd"
        else
                fail "$fw: the nested guest $INNER is running"
                vssh 'sudo nestrouterctl vm list; sudo journalctl -b -u nestrouter -o cat | grep -i virt | tail -n 20' | sed 's/^/  /'
        fi
        inner_ids >"$WORK/$fw/inner-ids"
        check_grep "$fw: $INNER's disk, NVRAM and TPM state exist ($(cat "$WORK/$fw/inner-ids"))" \
                '^uuid [0-9a-f-]{36} disk [0-9]+ [0-9]+ nvram [0-9]+ [0-9]+ tpm [0-9]+ [0-9]+$' cat "$WORK/$fw/inner-ids"
        res=$(vssh "sudo findmnt -no TARGET -T /var/lib/nestrouter/disks/$INNER.qcow2" 2>&1)
        expect "$fw: $INNER's disk is on the data disk" /var/lib/nestrouter "$res"
}
# check_inner_again FW WHAT: the guest runs again, autostarted by nestrouterd on this boot, and
# is the same guest
check_inner_again() {
        local fw=$1 what=$2
        if wait_for 300 inner_running; then
                pass "$fw: $what: the nested guest $INNER is running again"
        else
                fail "$fw: $what: the nested guest $INNER is running again"
                vssh 'sudo nestrouterctl vm list; sudo journalctl -b -u nestrouter -o cat | grep -i virt | tail -n 20' | sed 's/^/  /'
        fi
        check "$fw: $what: nestrouterd started it this boot (autostart)${DEFINED:+, after defining it again}" inner_autostarted
        expect "$fw: $what: the same guest: UUID, disk, NVRAM and TPM state (inode and birth)" \
                "$(cat "$WORK/$fw/inner-ids")" "$(inner_ids)"
}

# ---------------------------------------------------------------- checks inside the booted VM
# Azure's serial console is the break-glass path without the VM agent (docs/azure.md 3.4): GRUB's
# menu and a login prompt on ttyS0, from a running serial getty
serial_console_ok() {
        grep -aqE 'GNU GRUB|Welcome to GRUB' "$CONSOLE" && grep -aqE '(^|[^a-z])[a-z0-9-]+ login: ' "$CONSOLE" &&
                vssh 'systemctl is-active --quiet serial-getty@ttyS0.service'
}

check_vm() {
        local fw=$1 res
        check "$fw: cloud-init finished (status: done)" cloud_init_done
        res=$(vssh 'sudo cat /etc/nestrouter/nestrouter.yaml' | sha256sum)
        expect "$fw: /etc/nestrouter/nestrouter.yaml is the seed's file (write_files)" \
                "$(sha256sum <"$EXPECTED")" "$res"
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
        if wait_for 60 serial_console_ok; then
                pass "$fw: serial console: GRUB and a login prompt on ttyS0 (serial-getty active)"
        else
                fail "$fw: serial console: GRUB and a login prompt on ttyS0 (serial-getty active)"
                grep -aE 'GRUB|login:' "$CONSOLE" | tail -n 3 | sed 's/^/  /'
        fi
        check "$fw: nestrouter-guests.service is hardened (systemd-analyze security: OK or MEDIUM)" guests_unit_hardened
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
        expect "$fw: SSH host keys: ECDSA, ed25519 (cloud-init) and RSA (ssh.service), no DSA" \
                "ecdsa ed25519 rsa" "$(host_keys)"
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

# ---------------------------------------------------------------- Secure Boot, vTPM
# doctor_row KIND ROW: that row of `nestrouterctl doctor` as run in the VM (check_security),
# result and detail
doctor_row() { grep -E "^$2 " "$WORK/$1/doctor.out" | head -n1 | cut -c28- | tr -s ' '; }
# check_security KIND: what the doctor reports of the firmware; for uefi (Trusted Launch) also
# the signed chain's evidence on the console and in the kernel
check_security() {
        local kind=$1 fw=$2 res
        vssh 'sudo nestrouterctl doctor --timeout 1000 2>&1' >"$WORK/$kind/doctor.out"
        case $fw in
        bios)
                expect "$kind: doctor: Secure Boot: no UEFI" "ok no UEFI: a BIOS boot (Azure Generation 1)" \
                        "$(doctor_row "$kind" 'Secure Boot')"
                expect "$kind: doctor: vTPM absent" "ok absent" "$(doctor_row "$kind" vTPM)"
                res=$(doctor_row "$kind" 'security type')
                case $res in
                *"Standard: no Secure Boot, no vTPM"*) pass "$kind: doctor: security type Standard ($res)" ;;
                *) fail "$kind: doctor: security type Standard"; echo "  $res" ;;
                esac ;;
        uefi)
                check_grep "$kind: the kernel's EFI stub reports Secure Boot enabled (firmware -> shim -> GRUB -> kernel, each verified)" \
                        'EFI stub: UEFI Secure Boot is enabled' cat "$WORK/$kind/console.log"
                expect "$kind: nothing was refused on the way (no 'bad shim signature', no 'Verification failed')" 0 \
                        "$(grep -acE 'bad shim signature|Verification failed|Security Violation' "$WORK/$kind/console.log")"
                res=$(vssh 'cat /sys/kernel/security/lockdown' 2>&1)
                expect "$kind: the kernel put itself in lockdown (integrity), as Debian's does under Secure Boot" \
                        "none [integrity] confidentiality" "$res"
                expect "$kind: doctor: Secure Boot on" "ok on (UEFI): the firmware ran signed boot code only" \
                        "$(doctor_row "$kind" 'Secure Boot')"
                expect "$kind: doctor: vTPM present, TPM 2.0" "ok present: tpm0, TPM 2.0" "$(doctor_row "$kind" vTPM)"
                res=$(grep -A1 -E '^security type ' "$WORK/$kind/doctor.out")
                case $res in
                *"Trusted Launch"*"/dev/kvm missing"*"fix: Trusted Launch is on and /dev/kvm is missing"*)
                        pass "$kind: doctor: Trusted Launch without /dev/kvm (TCG) warns, with the hint" ;;
                *"Trusted Launch"*"/dev/kvm usable"*)
                        pass "$kind: doctor: Trusted Launch, /dev/kvm usable (KVM)" ;;
                *) fail "$kind: doctor: the security type row"; echo "$res" | sed 's/^/  /' ;;
                esac ;;
        esac
}

# tampered_refused: the image's own ESP, with the signed GRUB sent (EFI/debian/grub.cfg) to a
# copy of the image's kernel with one byte changed and then to the unchanged copy, under
# Secure Boot: GRUB must refuse the first (shim's verifier) and boot the second. No network,
# no disks but a copy of the raw image; QEMU stops once the good kernel has started.
tampered_refused() {
        local d=$WORK/uefi-tampered p2 off i qp end t0
        mkdir -p "$d"
        [ -s "$WORK/uefi/vmlinuz" ] || { fail "uefi-tampered: the image's kernel (from the uefi boot)"; return; }
        cp "$WORK/uefi/vmlinuz" "$d/vmlinuz.good" && cp "$d/vmlinuz.good" "$d/vmlinuz.bad" &&
                printf '\125' | dd of="$d/vmlinuz.bad" bs=1 seek=$((1024 * 1024)) conv=notrunc 2>/dev/null
        if cmp -s "$d/vmlinuz.good" "$d/vmlinuz.bad"; then fail "uefi-tampered: the kernel copy did not change"; return; fi
        cat >"$d/grub.cfg" <<'CFG'
if linux /vmlinuz.bad console=ttyS0,115200n8 panic=-1; then
  echo "NR-TAMPERED: loaded"
else
  echo "NR-TAMPERED: refused"
fi
linux /vmlinuz.good console=ttyS0,115200n8 earlyprintk=ttyS0,115200 panic=-1
boot
CFG
        cp --sparse=always "$OUT/nestrouter.raw" "$d/disk.raw" || { fail "uefi-tampered: copy of the image"; return; }
        p2=$(sfdisk --json "$d/disk.raw" | python3 -c 'import json,sys; print(json.load(sys.stdin)["partitiontable"]["partitions"][1]["start"])')
        off=$((p2 * 512))
        if ! mcopy -o -i "$d/disk.raw@@$off" "$d/vmlinuz.bad" "$d/vmlinuz.good" :: ||
                ! mcopy -o -i "$d/disk.raw@@$off" "$d/grub.cfg" ::/EFI/debian/grub.cfg; then
                fail "uefi-tampered: the test kernels onto the ESP"; rm -f "$d/disk.raw"; return
        fi
        mapfile -t qp < <(VM_SECURE_BOOT=1 VM_TPM=0 vm_qemu_args uefi /dev/null "" "$d" | sed -n '/^-machine$/,/OVMF_VARS/p')
        echo "# uefi-tampered: booting the image's ESP with a changed kernel ($(vm_accel)); console in $d/console.log"
        t0=$SECONDS
        qemu-system-x86_64 -accel "$(vm_accel)" -m 512 -smp 1 -cpu qemu64,+rdrand "${qp[@]}" \
                -drive "file=$d/disk.raw,if=none,id=os,format=raw" -device virtio-blk-pci,drive=os,bootindex=0 \
                -nic none -display none -vga none -monitor none -serial "file:$d/console.log" -no-reboot \
                </dev/null >"$d/qemu.log" 2>&1 &
        i=$!
        end=$((SECONDS + 180))
        while kill -0 "$i" 2>/dev/null && [ $SECONDS -lt $end ] &&
                ! grep -aq 'Linux version [0-9]' "$d/console.log" 2>/dev/null; do sleep 1; done
        kill "$i" 2>/dev/null
        wait "$i" 2>/dev/null
        rm -f "$d/disk.raw"
        echo "uefi-tampered ($(vm_accel)): QEMU start to the good kernel's start $((SECONDS - t0)) s" |
                tee -a "$WORK/times.txt"
        check_grep "uefi-tampered: the signed GRUB refuses the kernel with one byte changed (bad shim signature)" \
                'bad shim signature' cat "$d/console.log"
        check_grep "uefi-tampered: ... and did not load it" 'NR-TAMPERED: refused' cat "$d/console.log"
        check_grep "uefi-tampered: the unchanged kernel from the same ESP starts, Secure Boot enabled" \
                'EFI stub: UEFI Secure Boot is enabled' cat "$d/console.log"
}

# ---------------------------------------------------------------- the Azure path
# the wireserver's and IMDS's request log (azure-fabric.py): FIELD of the entries matching an
# awk-free filter done in python3 (the log is JSON lines)
fabric_q() { # FABRIC-DIR PYTHON-EXPR-OVER-LIST-r: prints the expression's value
        python3 -c 'import json, sys
r = [json.loads(l) for l in open(sys.argv[1] + "/requests.log")]
print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}
cloud_id_azure() { [ "$(vssh 'cloud-id')" = azure ]; }
cloud_id_nocloud() { [ "$(vssh 'cloud-id')" = nocloud ]; }
ovf_user() {
        vssh 'id -un; hostname; sudo cat /home/azureuser/.ssh/authorized_keys; getent passwd nr || echo no-nr' |
                paste -sd' ' | grep -qxF "$AZ_USER $AZ_HOST $(cat "$WORK/id_ed25519.pub") no-nr"
}
datadisk_mounted() {
        vssh 'd=$(readlink -f /dev/disk/azure/scsi1/lun0) && [ -b "$d" ] &&
                [ "$(findmnt -no SOURCE,FSTYPE,LABEL /var/lib/nestrouter | tr -s " ")" = "$d ext4 nr-data" ] &&
                ls /var/lib/nestrouter | grep -q . &&
                sudo journalctl -b -u nestrouter-datadisk -o cat | grep -q "on the data disk"'
}
# libvirt's TPM state directory is the data disk's swtpm/, bind-mounted
datadisk_tpm() {
        vssh 'd=$(readlink -f /dev/disk/azure/scsi1/lun0) &&
                [ "$(findmnt -no SOURCE /var/lib/libvirt/swtpm)" = "$d[/swtpm]" ] &&
                sudo journalctl -b -u nestrouter-datadisk -o cat | grep -q "(TPM state) on the data disk"'
}
datadisk_untouched() {
        vssh 'd=$(readlink -f /dev/disk/azure/scsi1/lun0) && [ -b "$d" ] &&
                [ "$(sudo blkid -p -o value -s PTTYPE "$d")" = gpt ] &&
                ! findmnt /var/lib/nestrouter >/dev/null &&
                sudo journalctl -b -u nestrouter-datadisk -o cat | grep -q "left untouched: /var/lib/nestrouter stays on the OS disk"'
}
datadisk_none() {
        vssh '[ ! -e /dev/disk/azure/scsi1/lun0 ] && ! findmnt /var/lib/nestrouter >/dev/null &&
                sudo journalctl -b -u nestrouter-datadisk -o cat | grep -q "no data disk at /dev/disk/azure/scsi1/lun0: /var/lib/nestrouter stays on the OS disk"'
}
check_azure() {
        local fw=$1 fab=$WORK/$1/fabric want got
        check "$fw: cloud-init chose the Azure datasource (cloud-id: azure)" cloud_id_azure
        check "$fw: the ovf-env.xml user logs in with its key; its host name; no NoCloud user" ovf_user
        want="Ready incarnation=1 container=c-${VM_UUID%%-*} instance=$VM_UUID._nestrouter1"
        got=$(cut -d' ' -f2- "$fab/health.log" 2>&1)
        expect "$fw: the fabric got one health report: Ready with the goal state's ids" "$want" "$got"
        got=$(fabric_q "$fab" '" ".join(sorted(set(e["client"] for e in r)))')
        expect "$fw: every wireserver and IMDS request came from NIC1's address" "$NIC1_IP" "$got"
        got=$(fabric_q "$fab" 'sum(1 for e in r if e["service"] == "wire" and "comp=goalstate" in e["path"] and e["status"] == 200 and e["headers"].get("x-ms-version") == "2012-11-30")')
        case $got in [1-9]*) pass "$fw: the goal state was fetched with x-ms-version 2012-11-30 ($got)" ;;
        *) fail "$fw: the goal state was fetched with x-ms-version 2012-11-30"; echo "  $got" ;; esac
        got=$(fabric_q "$fab" 'sum(1 for e in r if e["service"] == "imds" and e["path"].startswith("/metadata/instance?api-version=") and e["status"] == 200 and e["headers"].get("metadata") == "true")')
        case $got in [1-9]*) pass "$fw: IMDS's instance document was read ($got)" ;;
        *) fail "$fw: IMDS's instance document was read"; echo "  $got" ;; esac
}

# ---------------------------------------------------------------- one boot
# start_qemu KIND FIRMWARE: QEMU in the router namespace with the global args; sets QPID,
# RECPID and T0 (ns); markers are appended to $d/markers
start_qemu() {
        local d=$WORK/$1
        : >"$d/markers"
        echo "# $1: booting ($(vm_accel)); serial console in $d/console.log"
        T0=$(date +%s%N)
        ip netns exec "nr-$VM_ID-rtr" qemu-system-x86_64 "${args[@]}" -display none -vga none \
                -monitor none -serial "file:$d/console.log" -no-reboot \
                </dev/null >"$d/qemu.log" 2>&1 &
        QPID=$!
        CONSOLE=$d/console.log
        record_markers "$d/console.log" "$d/markers" "$T0" "$QPID" &
        RECPID=$!
}

# wait_ready KIND: READY (nestrouter.service active; Type=notify: only after READY=1). The
# console is no clock for it (systemd stops printing unit status once the getty is up), so the
# time is the kernel's start on the console plus the unit's activation time in the VM. Sets
# READY_S.
wait_ready() {
        local fw=$1 d=$WORK/$1 kready
        if wait_for "$BOOT_TIMEOUT" vssh1 'systemctl is-active --quiet nestrouter'; then
                kready=$(vssh 'systemctl show -p ActiveEnterTimestampMonotonic --value nestrouter')
                READY_S=$(awk -v k="$(marker "$fw" kernel)" -v u="$kready" 'BEGIN { printf "%.1f", k + u / 1e6 }')
                echo "ready $(awk -v r="$READY_S" 'BEGIN { printf "%d", r * 10 }')" >>"$d/markers"
                KREADY=$kready
                return 0
        fi
        if grep -aqE "$KERNEL_STALL" "$d/console.log"; then
                echo "  the guest kernel stalled after $((($(date +%s%N) - T0) / 1000000000)) s:"
                grep -aE -m1 -A12 "$KERNEL_STALL" "$d/console.log" | sed 's/^/  /'
        else
                tail -n 30 "$d/console.log" "$d/qemu.log" | sed 's/^/  /'
        fi
        return 1
}

poweroff_vm() {
        local fw=$1 end
        vssh 'sudo systemctl poweroff' >/dev/null 2>&1
        end=$((SECONDS + 120))
        while kill -0 "$QPID" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 1; done
        if kill -0 "$QPID" 2>/dev/null; then
                fail "$fw: clean poweroff within 120 s"
        else
                pass "$fw: clean poweroff"
        fi
        [ -n "$RECPID" ] && kill "$RECPID" 2>/dev/null
        wait "$QPID" 2>/dev/null
        QPID='' RECPID=''
}

# second_boot: the same disks again, without the provisioning CD (Azure removes it): no new
# goal state or health report, the instance and the data disk's contents are the first boot's
second_boot() {
        local fw=$1 d=$WORK/$1 n1 n2 res
        n1=$(wc -l <"$d/fabric/requests.log")
        vssh 'sudo touch /var/lib/nestrouter/first-boot-was-here /var/lib/libvirt/swtpm/tpm-was-here; sudo cloud-init query instance_id' >"$d/iid1" 2>&1
        poweroff_vm "$fw"
        mapfile -t args < <(VM_OVF_ISO='' vm_qemu_args "$fw" "$d/disk.qcow2" "" "$d")
        mkdir -p "$WORK/$fw-2" && cp "$d/markers" "$WORK/$fw-2/first-markers"
        start_qemu "$fw-2"
        if wait_ready "$fw-2"; then
                pass "$fw: second boot to nestrouterd READY in $READY_S s"
        else
                fail "$fw: second boot to nestrouterd READY within $BOOT_TIMEOUT s"
                return
        fi
        res=$(vssh 'sudo cloud-init query instance_id' 2>&1)
        expect "$fw: second boot: the same instance" "$(cat "$d/iid1")" "$res"
        n2=$(fabric_q "$d/fabric" "sum(1 for e in r[$n1:] if e['service'] == 'wire')")
        # ... while the fabric was up and reachable: nestrouterd's Scheduled Events polls reached IMDS
        res=$(fabric_q "$d/fabric" "sum(1 for e in r[$n1:] if e['service'] == 'imds' and e['status'] == 200)")
        case $res in
        [1-9]*) expect "$fw: second boot: no goal state fetched, no health report (provisioned once; IMDS answered $res requests)" 0 "$n2" ;;
        *) fail "$fw: second boot: the fabric answered (IMDS requests from the second boot)"; echo "  $res" ;;
        esac
        res=$(cut -d' ' -f2 "$d/fabric/health.log" | paste -sd' ')
        expect "$fw: second boot: still exactly one Ready report" Ready "$res"
        res=$(vssh 'sudo journalctl -b -u nestrouter-datadisk -o cat | grep -c formatting; ls /var/lib/nestrouter/first-boot-was-here' 2>&1 | paste -sd' ')
        expect "$fw: second boot: the data disk mounted again, not formatted, its files kept" \
                "0 /var/lib/nestrouter/first-boot-was-here" "$res"
        if wait_for 90 converged; then pass "$fw: second boot: converged"; else fail "$fw: second boot: converged"; fi
        res=$(vssh 'systemctl --failed --no-legend --plain' 2>&1)
        expect "$fw: second boot: no failed units" "" "$res"
        check_inner_again "$fw" "second boot"
}

# reimage_boot FW BASE FMT SIZE: Azure's re-image, which is also how a VM moves to a new image
# version: a new OS disk from the image, the data disk kept, provisioned again through the
# fabric (the same VM: its id, the provisioning CD). What lives on the data disk is there
# (leases, nestrouterd's ownership record and state, the files of the first boot), the
# configuration comes back from the custom data, and the host-side guest keeps its address.
reimage_boot() {
        local fw=$1 base=$2 fmt=$3 size=$4 d=$WORK/$1-reimage lease1 lease2 cfg1 cfg2 res ip
        mkdir -p "$d"
        lease1=$(vssh "sudo grep -i ' $GUEST_MAC ' /var/lib/nestrouter/dnsmasq.leases | cut -d' ' -f2-3")
        cfg1=$(vssh 'sudo md5sum </etc/nestrouter/nestrouter.yaml')
        vssh 'sudo test -s /var/lib/nestrouter/owned && sudo touch /var/lib/nestrouter/before-reimage'
        poweroff_vm "$fw"
        if ! vm_disk "$base" "$fmt" "$d/disk.qcow2" $size ||
                ! mapfile -t args < <(VM_OVF_ISO=$WORK/$fw/ovf.iso vm_qemu_args "$fw" "$d/disk.qcow2" "" "$d"); then
                fail "$fw: re-image: a new OS disk from the image"
                return
        fi
        start_qemu "$fw-reimage"
        if wait_ready "$fw-reimage"; then
                pass "$fw: re-image (new OS disk, data disk kept) boots to nestrouterd READY in $READY_S s"
        else
                fail "$fw: re-image boots to nestrouterd READY within $BOOT_TIMEOUT s"
                return
        fi
        # a new OS disk is provisioned from scratch: cloud-init regenerates the host keys and
        # restarts sshd, possibly after READY; the checks start once it is done
        check "$fw: re-image: cloud-init provisioned the new OS disk (status: done)" cloud_init_done
        res=$(vssh 'sed -n s/^build_id=//p /usr/share/nestrouter-build' 2>&1)
        expect "$fw: re-image: the OS disk is image B, a rebuild ($ID_B, A was $ID_A)" "$ID_B" "$res"
        res=$(cut -d' ' -f2 "$WORK/$fw/fabric/health.log" | paste -sd' ')
        expect "$fw: re-image: provisioned again through the fabric (a second Ready report)" "Ready Ready" "$res"
        res=$(vssh 'sudo journalctl -b -u nestrouter-datadisk -o cat | grep -c formatting;
                ls /var/lib/nestrouter/before-reimage /var/lib/nestrouter/first-boot-was-here' 2>&1 | paste -sd' ')
        expect "$fw: re-image: the data disk mounted, not formatted, its files kept" \
                "0 /var/lib/nestrouter/before-reimage /var/lib/nestrouter/first-boot-was-here" "$res"
        res=$(vssh 'sudo grep -c "^bridge nr0$" /var/lib/nestrouter/owned')
        expect "$fw: re-image: nestrouterd's ownership record kept on the data disk" 1 "$res"
        res=$(vssh 'sudo ls /var/lib/libvirt/swtpm/tpm-was-here' 2>&1)
        expect "$fw: re-image: libvirt's TPM state directory kept on the data disk" \
                /var/lib/libvirt/swtpm/tpm-was-here "$res"
        cfg2=$(vssh 'sudo md5sum </etc/nestrouter/nestrouter.yaml')
        expect "$fw: re-image: the configuration is back from the custom data" "$cfg1" "$cfg2"
        if wait_for 90 converged; then pass "$fw: re-image: converged"; else fail "$fw: re-image: converged"; fi
        lease2=$(vssh "sudo grep -i ' $GUEST_MAC ' /var/lib/nestrouter/dnsmasq.leases | cut -d' ' -f2-3")
        case $lease1 in
        *" 10.0.2."*) expect "$fw: re-image: the guest's lease kept ($lease1)" "$lease1" "$lease2" ;;
        *) fail "$fw: re-image: the guest had a lease before (${lease1:-none})" ;;
        esac
        ip=${lease1##* }
        res=$(vm_vnet whoami g1 "$VM_IP" 2>&1)
        expect "$fw: re-image: the guest still reaches the Azure VM with its address $ip" "$ip" "$res"
        res=$(vssh 'systemctl --failed --no-legend --plain' 2>&1)
        expect "$fw: re-image: no failed units" "" "$res"
        DEFINED=1 check_inner_again "$fw" "re-image"
}

boot_one() {
        local kind=$1 d=$WORK/$1 fw base fmt size azure=1 data='' m ready_rep cdata=$WORK/custom-data
        EXPECTED=$WORK/expected.yaml VM_MEM=1024
        case $kind in
        # the nested guest's QEMU (TCG) needs room: 1.5 GiB for the appliance (image/vm.sh)
        bios) fw=bios base=$OUT/nestrouter.raw fmt=raw size=4G data=blank cdata=$WORK/custom-data-vm
              EXPECTED=$WORK/expected-vm.yaml VM_MEM=1536 ;;
        uefi) fw=uefi base=$OUT/nestrouter.vhd fmt=vpc size='' data=gpt ;;
        nocloud) fw=bios base=$OUT/nestrouter.raw fmt=raw size='' azure=0 ;;
        *) fail "unknown boot $kind"; return ;;
        esac
        VM_ID=img$kind
        NR_VNET_QUIET=1 vm_vnet down >/dev/null 2>&1     # a previous run's leftovers
        mkdir -p "$d"
        VM_UUID=$(cat /proc/sys/kernel/random/uuid)
        VM_AZURE=$azure VM_OVF_ISO='' VM_DATA_DISK='' seed='' VM_SECURE_BOOT=0 VM_TPM=0
        # Gen2 as Trusted Launch has it: Secure Boot with Microsoft's keys, and a vTPM
        [ "$kind" = uefi ] && VM_SECURE_BOOT=1 VM_TPM=1
        if [ "$azure" = 1 ]; then
                VM_USER=$AZ_USER VM_OVF_ISO=$d/ovf.iso
                vm_azure_iso "$VM_OVF_ISO" "$AZ_USER" "$AZ_HOST" "$(cat "$WORK/id_ed25519.pub")" \
                        "$cdata" || { fail "$kind: the provisioning disk (ovf-env.xml)"; return; }
        else
                VM_USER=nr seed=$d/seed.img
                printf 'instance-id: nestrouter-test-%s-%s\nlocal-hostname: nestrouter\n' "$kind" "$$" >"$d/meta-data"
                vm_seed "$seed" "$WORK/user-data" "$d/meta-data" || { fail "$kind: the NoCloud seed"; return; }
        fi
        case $data in
        blank) VM_DATA_DISK=$d/data.qcow2 && qemu-img create -q -f qcow2 "$VM_DATA_DISK" 1G ;;
        gpt) VM_DATA_DISK=$d/data.qcow2 && qemu-img create -q -f raw "$d/data.raw" 64M &&
                echo 'label: gpt' | sfdisk -q "$d/data.raw" >/dev/null &&
                qemu-img convert -f raw -O qcow2 "$d/data.raw" "$VM_DATA_DISK" && rm -f "$d/data.raw" ;;
        esac || { fail "$kind: the data disk"; return; }
        export VM_UUID VM_AZURE VM_OVF_ISO VM_DATA_DISK VM_SECURE_BOOT VM_TPM VM_MEM
        if ! vm_disk "$base" "$fmt" "$d/disk.qcow2" $size || ! vm_vnet_up "$VM_ID" ||
                { [ "$azure" = 1 ] && ! vm_azure_fabric "$d/fabric" "$AZ_USER" "$AZ_HOST" "$WORK/id_ed25519.pub"; } ||
                ! mapfile -t args < <(vm_qemu_args "$fw" "$d/disk.qcow2" "$seed" "$d"); then
                fail "$kind: set up (disks, VNet $VM_ID, fabric)"
                cleanup
                return
        fi
        start_qemu "$kind"
        if wait_ready "$kind"; then
                pass "$kind: boots to nestrouterd READY in $READY_S s ($(vm_accel)); SSH to NIC1 from the Azure VM subnet"
        else
                fail "$kind: boots to nestrouterd READY (and SSH to NIC1) within $BOOT_TIMEOUT s"
                cleanup
                return
        fi
        ready_rep=
        if [ "$azure" = 1 ]; then
                ready_rep=$(awk -v t0="$T0" 'NR == 1 { printf "%.1f", $1 - t0 / 1e9 }' "$d/fabric/health.log" 2>/dev/null)
                echo "reported $(awk -v r="${ready_rep:-0}" 'BEGIN { printf "%d", r * 10 }')" >>"$d/markers"
                check_azure "$kind"
        else
                check "$kind: cloud-init chose the NoCloud datasource (cloud-id: nocloud)" cloud_id_nocloud
        fi
        check_vm "$kind"
        check_security "$kind" "$fw"
        case $data in
        blank) check "$kind: the blank data disk at LUN 0 was formatted and holds /var/lib/nestrouter (mounted by label)" datadisk_mounted
               check "$kind: libvirt's TPM state directory is on the data disk (bind mount)" datadisk_tpm ;;
        gpt) check "$kind: a data disk with a partition table is left untouched (OS disk used, noted)" datadisk_untouched ;;
        *) check "$kind: no data disk: /var/lib/nestrouter on the OS disk, noted in the journal" datadisk_none ;;
        esac
        check_guest "$kind"
        check_grep "$kind: doctor: the image row shows image A's build id" "^image +ok .*build id $ID_A\$" \
                cat "$WORK/$kind/doctor.out"
        [ "$kind" = bios ] && check_inner_first "$kind"
        if [ "$kind" = bios ]; then
                check "$kind: root partition grown to the 4 GiB disk (growpart)" root_grown
                check "$kind: the initramfs carries the Hyper-V storage and network drivers" initramfs_azure
                check_rulesets "$kind"
                check_bad_file "$kind"
        fi
        # timings: from QEMU's start (console milestones; Ready reported and READY as above)
        vssh 'systemd-analyze; systemd-analyze blame --no-pager | head -n 12' >"$d/analyze" 2>&1
        # the boot chart (docs/image.md §7): the chain to READY, cloud-init's own modules, the plot
        vssh 'systemd-analyze critical-chain --no-pager nestrouter.service; sudo cloud-init analyze blame |
                head -n 25' >"$d/critical-chain" 2>&1
        vssh 'systemd-analyze plot' >"$d/boot.svg" 2>/dev/null
        {
                printf '%s (%s), seconds from QEMU start:' "$kind" "$(vm_accel)"
                for m in grub kernel systemd cloud-init reported ready login final; do
                        printf ' %s %s' "$m" "$(marker "$kind" "$m")"
                done
                echo
                awk -v u="${KREADY:-0}" -v fw="$kind" \
                        'BEGIN { printf "%s: kernel start -> nestrouter READY (in the VM) %.1f s\n", fw, u / 1e6 }'
                sed "s/^/$kind: /" "$d/analyze"
        } | tee -a "$WORK/times.txt"
        if [ "$kind" = bios ]; then
                second_boot "$kind"
                d=$WORK/$kind-2
                printf '%s second boot (%s): kernel %s ready %s\n' "$kind" "$(vm_accel)" \
                        "$(marker "$kind-2" kernel)" "$(marker "$kind-2" ready)" | tee -a "$WORK/times.txt"
                reimage_boot "$kind" "$IMAGE_B" raw "$size"
                printf '%s re-image boot (%s): kernel %s ready %s\n' "$kind" "$(vm_accel)" \
                        "$(marker "$kind-reimage" kernel)" "$(marker "$kind-reimage" ready)" | tee -a "$WORK/times.txt"
        fi
        # the kernel the uefi boot ran, for tampered_refused
        [ "$kind" = uefi ] && vssh 'sudo cat "$(readlink -f /vmlinuz)"' >"$WORK/uefi/vmlinuz" 2>/dev/null
        poweroff_vm "$kind"
        if grep -aqE "$KERNEL_STALL" "$WORK/$kind"*/console.log; then
                fail "$kind: the guest kernel reported no stall, lockup or panic on the console"
                grep -aE -m3 "$KERNEL_STALL" "$WORK/$kind"*/console.log | sed 's/^/  /'
        else
                pass "$kind: the guest kernel reported no stall, lockup or panic on the console"
        fi
        cleanup
        [ "$kind" = uefi ] && tampered_refused
}

for kind in $BOOTS; do
        boot_one "$kind"
done
ids=
for kind in $BOOTS; do [ -s "$WORK/$kind/identity" ] && ids="$ids $WORK/$kind/identity"; done
# shellcheck disable=SC2086
if [ "$(echo $ids | wc -w)" -ge 2 ]; then
        if [ "$(cat $ids | sort | uniq -d | wc -l)" != 0 ]; then
                fail "VMs from one image have different machine-ids and SSH host keys"
        else
                pass "VMs from one image have different machine-ids and SSH host keys"
        fi
fi
summary
