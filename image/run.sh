#!/bin/bash
# make run: boots the appliance image (build/image/nestrouter.raw) under QEMU, KVM when usable,
# else TCG, as the router of a simulated Azure VNet (tests/netns/vnet.sh, VNet ID "run"):
#   NIC1 and NIC2 on the fabric's NAT and LAN subnets (Azure-like DHCP for their MACs);
#   a NoCloud seed carrying configs/azure-nested.yaml, plus `guests.ports: [eth2]`;
#   a third NIC joined to the guest bridge, where the host-side namespace nr-run-g-web1 (MAC
#   52:54:00:00:00:10, the file's reservation for web1) is a nested guest.
# AZURE=1 provisions it the way Azure does instead (image/vm.sh vm_azure_*): Azure's chassis
# asset tag, a provisioning CD with ovf-env.xml (user azureuser with the key below, host name
# nestrouter1, CustomData = the same user data without the password), DHCP option 245, and the
# simulated wireserver and IMDS (tests/image/azure-fabric.py; their request and health-report
# logs in build/image/run/fabric). DATA_DISK=1 adds a data disk at LUN 0 (build/image/run/data.qcow2,
# kept between runs: /var/lib/nestrouter).
# The serial console is this terminal: log in as nr / nestrouter; Ctrl-A X quits QEMU. The
# VNet and QEMU are taken down on exit. Each run boots a fresh overlay of the image: a first boot.
# TRUSTED_LAUNCH=1 boots it as Azure's Trusted Launch does: UEFI with Secure Boot on
# (Microsoft's keys) and a TPM 2.0 (swtpm).
# Environment: FIRMWARE=bios|uefi (bios), RUN_CONFIG=FILE (configs/azure-nested.yaml),
# ACCEL=kvm|tcg, VM_MEM (2048), VM_SMP (2), NR_VNET_ID (run), AZURE=1, DATA_DISK=1,
# TRUSTED_LAUNCH=1.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=image/vm.sh
. image/vm.sh
IMG=${IMAGE_RAW:-build/image/nestrouter.raw}
CONFIG=${RUN_CONFIG:-configs/azure-nested.yaml}
FW=${FIRMWARE:-bios}
if [ "${TRUSTED_LAUNCH:-0}" = 1 ]; then
        FW=uefi VM_SECURE_BOOT=1 VM_TPM=1
        export VM_SECURE_BOOT VM_TPM
fi
VM_ID=${NR_VNET_ID:-run}
VM_MEM=${VM_MEM:-2048}
WORK=build/image/run
[ "$(id -u)" = 0 ] || { echo "run: needs root (network namespaces, taps)" >&2; exit 1; }
[ -f "$IMG" ] || { echo "run: $IMG missing: make image" >&2; exit 1; }

# QEMU runs in the foreground (it needs the terminal); `vnet.sh down` stops whatever still runs
# in the VNet's namespaces (QEMU, the guest's DHCP client) by pid, then deletes them
cleanup() {
        trap - EXIT INT TERM
        [ -f "$WORK/swtpm.pid" ] && kill "$(cat "$WORK/swtpm.pid")" 2>/dev/null
        NR_VNET_QUIET=1 vm_vnet down || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK"
[ -f "$WORK/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C nestrouter-run -f "$WORK/id_ed25519"
vm_add_ports eth2 <"$CONFIG" >"$WORK/nestrouter.yaml"
build/nestrouterd --check "$WORK/nestrouter.yaml" >/dev/null
{
        vm_user_head nr "$(cat "$WORK/id_ed25519.pub")" nestrouter
        vm_write_config "$WORK/nestrouter.yaml"
} >"$WORK/user-data"
printf 'instance-id: nestrouter-run-%s\nlocal-hostname: nestrouter\n' "$(date +%s)" >"$WORK/meta-data"
vm_seed "$WORK/seed.img" "$WORK/user-data" "$WORK/meta-data"
SEED=$WORK/seed.img
VM_UUID=$(cat /proc/sys/kernel/random/uuid)
export VM_UUID
if [ "${AZURE:-0}" = 1 ]; then
        { echo "#cloud-config"; vm_write_config "$WORK/nestrouter.yaml"; } >"$WORK/custom-data"
        vm_azure_iso "$WORK/ovf.iso" azureuser nestrouter1 "$(cat "$WORK/id_ed25519.pub")" "$WORK/custom-data"
        export VM_AZURE=1 VM_OVF_ISO=$WORK/ovf.iso
        SEED=
fi
if [ "${DATA_DISK:-0}" = 1 ]; then
        [ -f "$WORK/data.qcow2" ] || qemu-img create -q -f qcow2 "$WORK/data.qcow2" 4G
        export VM_DATA_DISK=$WORK/data.qcow2
fi
vm_disk "$IMG" raw "$WORK/disk.qcow2" 8G

if ip netns list | grep -q "^nr-$VM_ID-"; then
        echo "run: VNet $VM_ID is up already (another make run?); NR_VNET_ID=$VM_ID $VM_VNET down" >&2
        trap - EXIT
        exit 1
fi
vm_vnet_up "$VM_ID"
# the guest's DHCP client keeps asking until the appliance's dnsmasq answers
NR_VNET_LEASE_WAIT=0 NR_VNET_QUIET=1 vm_vnet guest-add web1 52:54:00:00:00:10
if [ "${AZURE:-0}" = 1 ]; then
        rm -rf "$WORK/fabric"
        vm_azure_fabric "$WORK/fabric" azureuser nestrouter1 "$WORK/id_ed25519.pub"
fi

mapfile -t args < <(vm_qemu_args "$FW" "$WORK/disk.qcow2" "$SEED" "$WORK")
V="NR_VNET_ID=$VM_ID tests/netns/vnet.sh"
cat <<INFO
run: $IMG, $FW firmware, $(vm_accel); config $CONFIG (+ guests.ports: [eth2])
run: console: log in as nr / nestrouter; Ctrl-A X quits. From another terminal:
       $V exec vm ssh -F /dev/null -i $WORK/id_ed25519 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null $([ "${AZURE:-0}" = 1 ] && echo azureuser || echo nr)@10.0.0.4
       $V guest-ip web1                  # the nested guest's DHCP lease (10.0.2.10)
       $V whoami web1 10.0.3.4           # the Azure VM sees the guest's own address
       $V whoami web1 203.0.113.10       # the internet sees NIC1's 10.0.0.4
       $V whoami vm 10.0.1.4 3390        # port forward from the Azure VM subnet to web1:3389
INFO
ip netns exec "nr-$VM_ID-rtr" qemu-system-x86_64 "${args[@]}" -nographic || true
