# shellcheck shell=bash
# Sourced by image/run.sh and tests/image/test-boot.sh: boots the appliance image under QEMU as
# the router of a simulated Azure VNet (tests/netns/vnet.sh). QEMU runs in the VNet's router
# namespace nr-ID-rtr, where `vnet.sh rtr-taps` has put three taps:
#   nic1 -> the fabric's NAT subnet (MAC 00:0d:3a:00:00:01: fabric DHCP gives 10.0.0.4, option 121)
#   nic2 -> the fabric's LAN subnet (MAC 00:0d:3a:00:00:02: 10.0.1.4, no routes)
#   nic3 -> a bridge that `vnet.sh guest-add` joins: a namespace there is a nested guest
# In the VM they are eth0, eth1 and eth2 (virtio, in this order; net.ifnames=0).
# With VM_AZURE=1 the VM is provisioned the way Azure provisions it (vm_azure_*): Azure's chassis
# asset tag in SMBIOS, a provisioning CD with ovf-env.xml, and the simulated fabric's wireserver
# and IMDS (tests/image/azure-fabric.py) in place of vnet.sh's static ones. VM_DATA_DISK=FILE
# (qcow2) is the Azure data disk at LUN 0.
# Functions and variables are prefixed vm_/VM_.

VM_ROOT=${VM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
VM_VNET=$VM_ROOT/tests/netns/vnet.sh
VM_NIC1_MAC=00:0d:3a:00:00:01
VM_NIC2_MAC=00:0d:3a:00:00:02
VM_NIC3_MAC=52:54:00:12:34:03
VM_OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
VM_OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
# VM_SECURE_BOOT=1 (uefi only): Debian's OVMF build with Secure Boot (it needs SMM: q35 with
# smm=on and the flash locked to SMM) and a variable store with Microsoft's keys enrolled and
# Secure Boot on, as Azure's Trusted Launch has
VM_OVMF_SB_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
VM_OVMF_SB_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
# what cloud-init's ds-identify and Azure datasource look for (cloud-init: ChassisAssetTag)
VM_AZURE_ASSET_TAG=7783-7084-3265-9085-8269-3286-77
VM_FABRIC=$VM_ROOT/tests/image/azure-fabric.py

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
# SEED.img: a NoCloud seed, or empty for none. VM_SECURE_BOOT=1: uefi with Secure Boot on
# (Microsoft's keys); VM_TPM=1: a TPM 2.0 (both: what Azure's Trusted Launch gives a VM).
# VM_MEM (MiB) and VM_SMP size it. VM_UUID: the
# SMBIOS system UUID (Azure's vmId, cloud-init's instance-id on Azure). VM_AZURE=1: Azure's
# chassis asset tag; VM_OVF_ISO: the provisioning CD; VM_DATA_DISK: a qcow2 as SCSI LUN 0.
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
                if [ "${VM_SECURE_BOOT:-0}" = 1 ]; then
                        cp "$VM_OVMF_SB_VARS" "$work/OVMF_VARS.fd" || return 1
                        printf '%s\n' -machine q35,smm=on \
                                -global driver=cfi.pflash01,property=secure,value=on \
                                -drive "if=pflash,format=raw,unit=0,readonly=on,file=$VM_OVMF_SB_CODE" \
                                -drive "if=pflash,format=raw,unit=1,file=$work/OVMF_VARS.fd"
                else
                        cp "$VM_OVMF_VARS" "$work/OVMF_VARS.fd" || return 1
                        printf '%s\n' -machine q35 \
                                -drive "if=pflash,format=raw,unit=0,readonly=on,file=$VM_OVMF_CODE" \
                                -drive "if=pflash,format=raw,unit=1,file=$work/OVMF_VARS.fd"
                fi ;;
        *) echo "vm: firmware '$fw': bios or uefi" >&2; return 1 ;;
        esac
        # VM_TPM=1: an emulated TPM 2.0 (Trusted Launch's vTPM), swtpm on a socket in WORKDIR
        if [ "${VM_TPM:-0}" = 1 ]; then
                vm_swtpm "$work" || return 1
                printf '%s\n' -chardev "socket,id=chrtpm,path=$(realpath "$work")/swtpm.sock" \
                        -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-crb,tpmdev=tpm0
        fi
        # bootindex: the firmware boots the OS disk, never the provisioning CD or a data disk
        printf '%s\n' -drive "file=$disk,if=none,id=os,format=qcow2,discard=unmap" \
                -device virtio-blk-pci,drive=os,bootindex=0
        [ -n "$seed" ] && printf '%s\n' -drive "file=$seed,if=virtio,format=raw,readonly=on"
        [ -n "${VM_UUID:-}" ] && printf '%s\n' -uuid "$VM_UUID"
        if [ "${VM_AZURE:-0}" = 1 ]; then
                printf '%s\n' -smbios "type=1,manufacturer=Microsoft Corporation,product=Virtual Machine" \
                        -smbios "type=3,manufacturer=Microsoft Corporation,asset=$VM_AZURE_ASSET_TAG"
        fi
        # Azure's SCSI controllers: the provisioning DVD, and data disks by LUN. Under QEMU one
        # virtio-scsi controller; the data disk says "Msft Virtual Disk" as Azure's do, which
        # is what the image's udev rule (60-nestrouter-azure-disk.rules) looks for.
        if [ -n "${VM_OVF_ISO:-}" ] || [ -n "${VM_DATA_DISK:-}" ]; then
                printf '%s\n' -device virtio-scsi-pci,id=scsi1
        fi
        [ -n "${VM_OVF_ISO:-}" ] && printf '%s\n' \
                -drive "file=$VM_OVF_ISO,if=none,id=ovf,format=raw,readonly=on,media=cdrom" \
                -device scsi-cd,bus=scsi1.0,scsi-id=1,lun=0,drive=ovf
        [ -n "${VM_DATA_DISK:-}" ] && printf '%s\n' \
                -drive "file=$VM_DATA_DISK,if=none,id=data,format=qcow2,discard=unmap" \
                -device "scsi-hd,bus=scsi1.0,scsi-id=0,lun=0,drive=data,vendor=Msft,product=Virtual Disk"
        local i=0 mac
        for mac in "$VM_NIC1_MAC" "$VM_NIC2_MAC" "$VM_NIC3_MAC"; do
                i=$((i + 1))
                printf '%s\n' -netdev "tap,id=nic$i,ifname=nic$i,script=no,downscript=no" \
                        -device "virtio-net-pci,netdev=nic$i,mac=$mac,romfile="
        done
}

# vm_swtpm WORKDIR: swtpm for one VM, its state in WORKDIR/tpm (a fresh TPM 2.0 the first time),
# its socket WORKDIR/swtpm.sock, its pid in WORKDIR/swtpm.pid; it ends when QEMU closes the
# socket (--terminate), and whoever started the VM kills it should QEMU never connect
vm_swtpm() {
        local i d
        mkdir -p "$1/tpm" && d=$(realpath "$1") || return 1   # swtpm --daemon runs in /
        rm -f "$d/swtpm.sock" "$d/swtpm.pid"
        swtpm socket --tpm2 --tpmstate "dir=$d/tpm" --ctrl "type=unixio,path=$d/swtpm.sock" \
                --terminate --daemon --pid "file=$d/swtpm.pid" --log "file=$d/swtpm.log" || return 1
        for i in $(seq 50); do
                [ -S "$d/swtpm.sock" ] && return 0
                sleep 0.1
        done
        echo "vm: swtpm did not create $d/swtpm.sock" >&2
        return 1
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

# ---------------------------------------------------------------- the simulated Azure fabric
# vm_ovf_env USER HOSTNAME PUBKEY CUSTOMDATA-FILE: the ovf-env.xml Azure puts on the
# provisioning disk of a Linux VM from a generalized image (the elements cloud-init 22.4 reads:
# ProvisioningSection/LinuxProvisioningConfigurationSet, PlatformSettingsSection)
vm_ovf_env() {
        local cd
        cd=$(base64 -w0 <"$4") || return 1
        cat <<OVF
<?xml version="1.0" encoding="utf-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" xmlns:wa="http://schemas.microsoft.com/windowsazure" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <wa:ProvisioningSection>
    <wa:Version>1.0</wa:Version>
    <LinuxProvisioningConfigurationSet xmlns="http://schemas.microsoft.com/windowsazure" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
      <ConfigurationSetType>LinuxProvisioningConfiguration</ConfigurationSetType>
      <HostName>$2</HostName>
      <UserName>$1</UserName>
      <DisableSshPasswordAuthentication>true</DisableSshPasswordAuthentication>
      <SSH>
        <PublicKeys>
          <PublicKey>
            <Fingerprint>$(ssh-keygen -l -E md5 -f /dev/stdin <<<"$3" | cut -d' ' -f2 | sed 's/^MD5://; s/://g' | tr a-f A-F)</Fingerprint>
            <Path>/home/$1/.ssh/authorized_keys</Path>
            <Value>$3</Value>
          </PublicKey>
        </PublicKeys>
      </SSH>
      <CustomData>$cd</CustomData>
    </LinuxProvisioningConfigurationSet>
  </wa:ProvisioningSection>
  <wa:PlatformSettingsSection>
    <wa:Version>1.0</wa:Version>
    <PlatformSettings xmlns="http://schemas.microsoft.com/windowsazure" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
      <KmsServerHostname>kms.core.windows.net</KmsServerHostname>
      <ProvisionGuestAgent>false</ProvisionGuestAgent>
      <GuestAgentPackageName i:nil="true" />
      <PreprovisionedVm>false</PreprovisionedVm>
    </PlatformSettings>
  </wa:PlatformSettingsSection>
</Environment>
OVF
}

# vm_azure_iso OUT.iso USER HOSTNAME PUBKEY CUSTOMDATA-FILE: the provisioning disk, ISO9660
# (Azure's is UDF; cloud-init mounts either) labelled like Azure's (rd_rdfe_stable.*)
vm_azure_iso() {
        local d
        d=$(mktemp -d "${TMPDIR:-/tmp}/nr-ovf.XXXXXX") || return 1
        vm_ovf_env "$2" "$3" "$4" "$5" >"$d/ovf-env.xml" &&
                python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$d/ovf-env.xml" &&
                rm -f "$1" && xorriso -as mkisofs -quiet -V rd_rdfe_stable.nestrouter -J -R -o "$1" "$d" 2>/dev/null
        local rc=$?
        rm -rf "$d"
        return $rc
}

# vm_azure_fabric LOGDIR USER HOSTNAME PUBKEY-FILE: in the VNet (vm_vnet_up done), replaces
# vnet.sh's static wireserver and IMDS with tests/image/azure-fabric.py for this VM (its
# VM_UUID, both NICs); `vnet.sh down` stops it with the rest. The goal state's ids are
# derived from VM_UUID. LOGDIR gets requests.log and health.log.
vm_azure_fabric() {
        mkdir -p "$1" && chmod 755 "$1" || return 1
        vm_vnet kill fab wire && vm_vnet kill fab imds || return 1
        local tl=
        [ "${VM_SECURE_BOOT:-0}" = 1 ] && [ "${VM_TPM:-0}" = 1 ] && tl=--trusted-launch
        NR_VNET_QUIET=1 vm_vnet spawn fab azure /usr/bin/python3 "$VM_FABRIC" --dir "$(realpath "$1")" \
                --vm-id "$VM_UUID" --user "$2" --host "$3" --key "$(realpath "$4")" \
                --nic "$VM_NIC1_MAC,10.0.0.4,10.0.0.0,24" --nic "$VM_NIC2_MAC,10.0.1.4,10.0.1.0,24" \
                --incarnation 1 --container-id "c-${VM_UUID%%-*}" --instance-id "$VM_UUID._nestrouter1" \
                --lifetime "${VM_FABRIC_LIFETIME:-7200}" ${tl:+"$tl"} >/dev/null || return 1
        local i
        for i in $(seq 50); do
                [ -s "$1/instance.json" ] &&
                        ip netns exec "nr-$VM_ID-fab" ss -Hltn 'sport = :80' | grep -q 169.254.169.254 &&
                        ip netns exec "nr-$VM_ID-fab" ss -Hltn 'sport = :80' | grep -q 168.63.129.16 && return 0
                sleep 0.1
        done
        echo "vm: the Azure fabric did not come up" >&2
        return 1
}
