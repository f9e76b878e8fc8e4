# shellcheck shell=bash
# Sourced by image/run.sh and tests/image/test-boot.sh: boots the appliance image under QEMU as
# the router of a simulated Azure VNet (tests/netns/vnet.sh). QEMU runs in the VNet's router
# namespace nr-ID-rtr, where `vnet.sh rtr-taps` has put three taps:
#   nic1 -> the fabric's NAT subnet (MAC 00:0d:3a:00:00:01: fabric DHCP gives 10.0.0.4, option 121)
#   nic2 -> the fabric's LAN subnet (MAC 00:0d:3a:00:00:02: 10.0.1.4, no routes)
#   nic3 -> a bridge that `vnet.sh guest-add` joins: a namespace there is a nested guest
# In the VM they are eth0, eth1 and eth2 (virtio, in this order; net.ifnames=0).
# Functions and variables are prefixed vm_/VM_.

VM_ROOT=${VM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
VM_VNET=$VM_ROOT/tests/netns/vnet.sh
VM_NIC1_MAC=00:0d:3a:00:00:01
VM_NIC2_MAC=00:0d:3a:00:00:02
VM_NIC3_MAC=52:54:00:12:34:03
VM_OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
VM_OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

# KVM when this host can run guests with it, else TCG (software; about 10x slower to boot).
# ACCEL=kvm|tcg overrides.
vm_accel() {
        if [ -n "${ACCEL:-}" ]; then
                echo "$ACCEL"
        elif [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
                echo kvm
        else
                echo tcg
        fi
}

# vm_seed OUT.img USER-DATA META-DATA: a NoCloud seed, a FAT disk labelled CIDATA (built with
# mtools: no loop device, no mount)
vm_seed() {
        rm -f "$1"
        mkfs.vfat -n CIDATA -C "$1" 2048 >/dev/null || return 1
        mcopy -i "$1" "$2" ::/user-data && mcopy -i "$1" "$3" ::/meta-data
}

# vm_disk BASE FORMAT OUT.qcow2 [SIZE]: a throw-away overlay, so the image itself stays pristine
# (and a first boot stays a first boot); SIZE bigger than the image exercises growpart
vm_disk() {
        local base
        base=$(realpath "$1") || return 1
        rm -f "$3"
        qemu-img create -q -f qcow2 -F "$2" -b "$base" "$3" ${4:+"$4"}
}

# vm_qemu_args FIRMWARE DISK.qcow2 SEED.img WORKDIR: the QEMU arguments (one per line) for a VM
# with the three NICs; FIRMWARE bios (SeaBIOS, i440fx: Azure Gen1) or uefi (OVMF, q35: Gen2).
# VM_MEM (MiB) and VM_SMP size it.
vm_qemu_args() {
        local fw=$1 disk=$2 seed=$3 work=$4 accel
        accel=$(vm_accel)
        printf '%s\n' -name nestrouter -accel "$accel" -m "${VM_MEM:-1024}" -smp "${VM_SMP:-2}"
        # Under TCG the CPU gets RDRAND, as every Azure host CPU has: with it (and Debian's
        # RANDOM_TRUST_CPU=y) the kernel's crng is ready 0.07 s into boot. Without it the crng
        # waits for jitter entropy, and under multi-threaded TCG a first boot once spun for good
        # in that loop (try_to_generate_entropy in systemd-random-seed, RCU stall on CPU 0).
        case $accel in
        kvm) printf '%s\n' -cpu host ;;
        tcg) printf '%s\n' -cpu qemu64,+rdrand ;;
        esac
        case $fw in
        bios) printf '%s\n' -machine pc ;;
        uefi)
                cp "$VM_OVMF_VARS" "$work/OVMF_VARS.fd" || return 1
                printf '%s\n' -machine q35 \
                        -drive "if=pflash,format=raw,unit=0,readonly=on,file=$VM_OVMF_CODE" \
                        -drive "if=pflash,format=raw,unit=1,file=$work/OVMF_VARS.fd" ;;
        *) echo "vm: firmware '$fw': bios or uefi" >&2; return 1 ;;
        esac
        printf '%s\n' -drive "file=$disk,if=virtio,format=qcow2,discard=unmap" \
                -drive "file=$seed,if=virtio,format=raw,readonly=on"
        local i=0 mac
        for mac in "$VM_NIC1_MAC" "$VM_NIC2_MAC" "$VM_NIC3_MAC"; do
                i=$((i + 1))
                printf '%s\n' -netdev "tap,id=nic$i,ifname=nic$i,script=no,downscript=no" \
                        -device "virtio-net-pci,netdev=nic$i,mac=$mac,romfile="
        done
}

# vm_vnet_up ID: the simulated VNet with the router namespace prepared for the VM
vm_vnet_up() {
        NR_VNET_ID=$1 NR_VNET_QUIET=1 sh "$VM_VNET" up &&
                NR_VNET_ID=$1 NR_VNET_QUIET=1 sh "$VM_VNET" rtr-taps >/dev/null
}

vm_vnet() { NR_VNET_ID=$VM_ID sh "$VM_VNET" "$@"; }

# vm_user_head USER PUBKEY [PASSWORD]: the start of a #cloud-config that creates USER with sudo,
# the SSH key and, if given, a password for the serial console (SSH stays key-only)
vm_user_head() {
        echo "#cloud-config"
        echo "users:"
        echo "  - name: $1"
        echo "    sudo: \"ALL=(ALL) NOPASSWD:ALL\""
        echo "    shell: /bin/bash"
        echo "    ssh_authorized_keys: [\"$2\"]"
        if [ -n "${3:-}" ]; then
                echo "    lock_passwd: false"
                echo "    plain_text_passwd: \"$3\""
        fi
        echo "ssh_pwauth: false"
}

# vm_write_config CONFIG.yaml: the write_files entry that puts CONFIG in place as
# /etc/nestrouter/nestrouter.yaml (the shape of configs/azure/cloud-init.yaml)
vm_write_config() {
        echo "write_files:"
        echo "  - path: /etc/nestrouter/nestrouter.yaml"
        echo "    owner: root:root"
        echo "    permissions: \"0644\""
        echo "    content: |"
        sed 's/^/      /' "$1"
}

# vm_add_ports PORT < YAML: adds `ports: [PORT]` under the `guests:` key of a nestrouter.yaml
# (also one indented inside user data): the VM's third NIC joins the guest bridge
vm_add_ports() {
        awk -v port="$1" '
                { print }
                /^ *guests: *(#.*)?$/ { match($0, /^ */); printf "%*s  ports: [%s]   # the third NIC: the host-side guest namespace\n", RLENGTH, "", port }'
}
