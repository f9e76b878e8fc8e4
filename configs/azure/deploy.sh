#!/usr/bin/env bash
# Deploys nestrouter in place of the Windows RRAS/Hyper-V host of Microsoft's "nested VMs in an
# Azure virtual network" recipe, with the Azure CLI: upload of the image (Gen1 and Gen2), the VNet
# with the NAT, LAN, floating and Azure-VMs subnets, NIC1 (primary, public IP) and NIC2 (IP
# forwarding), the VM with its cloud-init user data, the route table and its associations.
#
#   configs/azure/deploy.sh                      deploy (after `az login`)
#   configs/azure/deploy.sh --security-type TrustedLaunch
#                                                the same as a Trusted Launch VM (Secure Boot, vTPM)
#                                                from an Azure Compute Gallery image version
#   IMAGE_PREFIX=nestrouter-0.2 configs/azure/deploy.sh --upgrade
#                                                a new image version: upload it, re-create the VM
#                                                from it on the same NICs and data disk
#   configs/azure/deploy.sh --print-config       the nestrouter.yaml the VM gets
#   configs/azure/deploy.sh --print-custom-data  the cloud-init user data
#
# Every name and address below can be overridden from the environment (RG=... VM=... deploy.sh).
# Each step looks first and creates only what is missing, so a failed run can simply be repeated.
# nestrouter's tests run this script against a stand-in for az (tests/golden/test-azure.sh),
# never against Azure: read docs/azure.md before the first real run.
set -euo pipefail

# ---- names and addresses ------------------------------------------------------------------
RG=${RG:-rg-nested}
LOCATION=${LOCATION:-westeurope}
# The image: a fixed VHD (docs/image.md). One upload serves both generations.
VHD=${VHD:-build/image/nestrouter.vhd}
GENERATIONS=${GENERATIONS:-V1 V2}          # images to register
VM_GENERATION=${VM_GENERATION:-V2}         # the one the VM boots (v6 sizes need V2)
IMAGE_PREFIX=${IMAGE_PREFIX:-nestrouter}   # images nestrouter-gen1, nestrouter-gen2
# The VM's security type (also --security-type): Standard boots a managed image (above);
# TrustedLaunch (Secure Boot and a vTPM, Generation 2 only) needs an Azure Compute Gallery
# image version whose definition says TrustedLaunchSupported, published from the same upload.
SECURITY_TYPE=${SECURITY_TYPE:-Standard}
GALLERY=${GALLERY:-nestrouter}             # letters, digits, "_" and "." only
GALLERY_IMAGE=${GALLERY_IMAGE:-nestrouter-gen2}
GALLERY_IMAGE_VERSION=${GALLERY_IMAGE_VERSION:-1.0.0}   # MAJOR.MINOR.PATCH; a new one per image
GALLERY_PUBLISHER=${GALLERY_PUBLISHER:-nestrouter}
UPLOAD=${UPLOAD:-disk}                     # disk: managed disk + azcopy; blob: page blob
STORAGE_ACCOUNT=${STORAGE_ACCOUNT:-}       # UPLOAD=blob only: globally unique, lower case
STORAGE_CONTAINER=${STORAGE_CONTAINER:-vhds}
# The VNet of the recipe. The floating subnet stays empty: it only reserves the guests'
# addresses, so that gateways already advertise them on-premises.
VNET=${VNET:-Nested-Fun}
VNET_PREFIXES=${VNET_PREFIXES:-10.0.0.0/22}
SUBNET_NAT=${SUBNET_NAT:-NAT}
SUBNET_NAT_PREFIX=${SUBNET_NAT_PREFIX:-10.0.0.0/24}
SUBNET_LAN=${SUBNET_LAN:-Hyper-V-LAN}
SUBNET_LAN_PREFIX=${SUBNET_LAN_PREFIX:-10.0.1.0/24}
SUBNET_GUESTS=${SUBNET_GUESTS:-Ghosted}
SUBNET_GUESTS_PREFIX=${SUBNET_GUESTS_PREFIX:-10.0.2.0/24}
SUBNET_VMS=${SUBNET_VMS:-Azure-VMs}
SUBNET_VMS_PREFIX=${SUBNET_VMS_PREFIX:-10.0.3.0/24}
# Empty: no GatewaySubnet now (the route table is attached to it when it exists, on a later run).
# To create one, give it room: VNET_PREFIXES="10.0.0.0/22 10.0.4.0/24" GATEWAY_SUBNET_PREFIX=10.0.4.0/27
GATEWAY_SUBNET_PREFIX=${GATEWAY_SUBNET_PREFIX:-}
ON_PREM_PREFIXES=${ON_PREM_PREFIXES-172.16.0.0/22}    # routed via NIC2, never NATed ("": none)
# The host.
VM=${VM:-nestrouter1}
VM_SIZE=${VM_SIZE:-Standard_D4s_v5}        # must support nested virtualization
OS_DISK_GB=${OS_DISK_GB:-64}
# The data disk at LUN 0: /var/lib/nestrouter (guest disks, imports, NVRAM, TPM state, leases)
# lives on it, so re-creating the VM from a new image keeps the guests (docs/azure.md). A named
# managed disk, created once and attached at LUN 0; 0: none (everything on the OS disk).
DATA_DISK_GB=${DATA_DISK_GB:-128}
DATA_DISK=${DATA_DISK:-$VM-data}
DATA_DISK_SKU=${DATA_DISK_SKU:-Premium_LRS}
ADMIN_USER=${ADMIN_USER:-nradmin}
SSH_KEY=${SSH_KEY:-$HOME/.ssh/id_ed25519.pub}
SSH_SOURCE=${SSH_SOURCE:-}                 # who may SSH to NIC1's public IP, e.g. 203.0.113.7/32
PUBLIC_IP=${PUBLIC_IP:-$VM-pip}
NSG=${NSG:-$VM-nic1-nsg}
NIC1=${NIC1:-$VM-nic1}                     # primary: NAT subnet, public IP
NIC1_IP=${NIC1_IP:-10.0.0.4}
NIC2=${NIC2:-$VM-nic2}                     # LAN subnet, IP forwarding
NIC2_IP=${NIC2_IP:-10.0.1.4}
ACCELERATED_NETWORKING=${ACCELERATED_NETWORKING:-true}
# The route table: the floating subnet -> NIC2, on the Azure-VMs subnet and GatewaySubnet.
ROUTE_TABLE=${ROUTE_TABLE:-Routes-for-nested-VMs}
ROUTE=${ROUTE:-$VM}
# MACs go into nestrouter.yaml; a real run reads them from Azure, --print-* uses these.
NIC1_MAC=${NIC1_MAC:-00:0d:3a:00:00:01}
NIC2_MAC=${NIC2_MAC:-00:0d:3a:00:00:02}

# ---- helpers ------------------------------------------------------------------------------
say() { echo "deploy: $*" >&2; }
die() { say "$*"; exit 1; }
exists() { "$@" -o none >/dev/null 2>&1; }
yaml_list() { local out='' p; for p in $1; do out="$out${out:+, }$p"; done; echo "$out"; }
lower() { printf '%s\n' "$1" | tr '[:upper:]' '[:lower:]'; }
mac_of() { az network nic show -g "$RG" -n "$1" --query macAddress -o tsv | tr 'A-F-' 'a-f:'; }

print_config() {
        cat <<EOF
# nestrouter on $VM: written by cloud-init (configs/azure/deploy.sh, docs/azure.md).
version: 1
uplinks:
  nat:                          # NIC1, Azure's primary NIC: internet egress, masqueraded
    match: {mac: "$NIC1_MAC"}
    address: dhcp               # Azure DHCP gives $NIC1_IP (static in Azure)
  lan:                          # NIC2: routed to the VNet and on-premises, never NATed
    match: {mac: "$NIC2_MAC"}
    address: dhcp               # Azure DHCP gives $NIC2_IP (static in Azure)
    routes: [$(yaml_list "$VNET_PREFIXES $ON_PREM_PREFIXES")]
guests:
  subnet: $SUBNET_GUESTS_PREFIX        # the floating subnet "$SUBNET_GUESTS"
azure:
  resource_group: $RG
  location: $LOCATION
  vnet: $VNET
  route_table: $ROUTE_TABLE
  subnets: [$SUBNET_VMS]
  lan_nic: $NIC2
  vm_name: $VM
EOF
}

print_custom_data() {
        echo "#cloud-config"
        echo "# cloud-init writes nestrouter's configuration; nestrouterd applies it (a daemon that"
        echo "# started first picks the file up when it appears)."
        echo "write_files:"
        echo "  - path: /etc/nestrouter/nestrouter.yaml"
        echo "    owner: root:root"
        echo "    permissions: \"0644\""
        echo "    content: |"
        print_config | sed 's/^/      /'
}

# ---- the image ----------------------------------------------------------------------------
gen_n() { echo "${1#V}"; }        # V1 -> 1
image_name() { echo "$IMAGE_PREFIX-gen$(gen_n "$1")"; }

check_vhd() {
        [ -f "$VHD" ] || die "$VHD: no such file (build the image first: docs/image.md)"
        local size
        size=$(wc -c <"$VHD" | tr -d ' ')
        # a fixed VHD is the raw disk, a whole number of MiB, plus a 512-byte footer
        [ $(((size - 512) % 1048576)) = 0 ] ||
                die "$VHD: $size bytes is not a fixed VHD of whole MiB plus its footer (docs/image.md)"
        echo "$size"
}

# The upload steps set SOURCE (what `az image create --source` takes). They are not run inside
# $(...), where bash would ignore set -e.
upload_disk() { # $1 = V1|V2: one managed disk per generation (a disk's generation is fixed)
        local disk size sas
        disk=$IMAGE_PREFIX-gen$(gen_n "$1")-upload
        if ! exists az disk show -g "$RG" -n "$disk"; then
                size=$(check_vhd)
                az disk create -g "$RG" -n "$disk" -l "$LOCATION" --upload-type Upload \
                        --upload-size-bytes "$size" --sku standard_lrs --os-type Linux \
                        --hyper-v-generation "$1" -o none
                sas=$(az disk grant-access -g "$RG" -n "$disk" --access-level Write \
                        --duration-in-seconds 86400 --query accessSas -o tsv)
                azcopy copy "$VHD" "$sas" --blob-type PageBlob
                az disk revoke-access -g "$RG" -n "$disk" -o none
        fi
        SOURCE=$(az disk show -g "$RG" -n "$disk" --query id -o tsv)
}

upload_blob() { # once for every generation: the images point at the same page blob
        [ -n "$STORAGE_ACCOUNT" ] || die "UPLOAD=blob needs STORAGE_ACCOUNT"
        local blob
        blob=$(basename "$VHD")
        if ! exists az storage account show -g "$RG" -n "$STORAGE_ACCOUNT"; then
                az storage account create -g "$RG" -n "$STORAGE_ACCOUNT" -l "$LOCATION" \
                        --sku Standard_LRS -o none
        fi
        az storage container create --account-name "$STORAGE_ACCOUNT" -n "$STORAGE_CONTAINER" \
                -o none
        if ! exists az storage blob show --account-name "$STORAGE_ACCOUNT" \
                -c "$STORAGE_CONTAINER" -n "$blob"; then
                check_vhd >/dev/null
                az storage blob upload --account-name "$STORAGE_ACCOUNT" -c "$STORAGE_CONTAINER" \
                        -n "$blob" -f "$VHD" --type page -o none
        fi
        SOURCE="https://$STORAGE_ACCOUNT.blob.core.windows.net/$STORAGE_CONTAINER/$blob"
}

# Trusted Launch: the gallery, its Gen2 definition (features are fixed at creation: Trusted
# Launch supported, so Standard VMs can use it too; Accelerated Networking; SCSI and NVMe for v6
# sizes) and one image version per image. A managed disk becomes a version through a snapshot.
create_gallery_image() {
        local snapshot snapshot_id source=()
        exists az sig show -g "$RG" --gallery-name "$GALLERY" ||
                az sig create -g "$RG" --gallery-name "$GALLERY" -l "$LOCATION" -o none
        exists az sig image-definition show -g "$RG" --gallery-name "$GALLERY" \
                --gallery-image-definition "$GALLERY_IMAGE" ||
                az sig image-definition create -g "$RG" --gallery-name "$GALLERY" \
                        --gallery-image-definition "$GALLERY_IMAGE" -l "$LOCATION" \
                        --publisher "$GALLERY_PUBLISHER" --offer nestrouter --sku gen2 \
                        --os-type Linux --os-state Generalized --hyper-v-generation V2 \
                        --features "SecurityType=TrustedLaunchSupported IsAcceleratedNetworkSupported=True DiskControllerTypes=SCSI,NVMe" \
                        -o none
        exists az sig image-version show -g "$RG" --gallery-name "$GALLERY" \
                --gallery-image-definition "$GALLERY_IMAGE" \
                --gallery-image-version "$GALLERY_IMAGE_VERSION" && return 0
        say "gallery image $GALLERY/$GALLERY_IMAGE $GALLERY_IMAGE_VERSION (Trusted Launch supported)"
        case $UPLOAD in
        disk)
                upload_disk V2
                snapshot=$IMAGE_PREFIX-gen2-snapshot
                exists az snapshot show -g "$RG" -n "$snapshot" ||
                        az snapshot create -g "$RG" -n "$snapshot" -l "$LOCATION" --source "$SOURCE" \
                                --hyper-v-generation V2 -o none
                snapshot_id=$(az snapshot show -g "$RG" -n "$snapshot" --query id -o tsv)
                source=(--os-snapshot "$snapshot_id") ;;
        blob)
                upload_blob
                source=(--os-vhd-uri "$SOURCE" --os-vhd-storage-account "$STORAGE_ACCOUNT") ;;
        *) die "UPLOAD=$UPLOAD: use disk or blob" ;;
        esac
        az sig image-version create -g "$RG" --gallery-name "$GALLERY" \
                --gallery-image-definition "$GALLERY_IMAGE" \
                --gallery-image-version "$GALLERY_IMAGE_VERSION" -l "$LOCATION" "${source[@]}" -o none
}

create_images() {
        local gen
        if [ "$SECURITY_TYPE" = TrustedLaunch ]; then
                create_gallery_image
                return
        fi
        for gen in $GENERATIONS; do
                exists az image show -g "$RG" -n "$(image_name "$gen")" && continue
                say "image $(image_name "$gen") (Hyper-V generation $gen)"
                case $UPLOAD in
                disk) upload_disk "$gen" ;;
                blob) upload_blob ;;
                *) die "UPLOAD=$UPLOAD: use disk or blob" ;;
                esac
                az image create -g "$RG" -n "$(image_name "$gen")" -l "$LOCATION" --os-type Linux \
                        --hyper-v-generation "$gen" --source "$SOURCE" -o none
        done
}

# ---- the network --------------------------------------------------------------------------
create_subnet() { # name prefix
        exists az network vnet subnet show -g "$RG" --vnet-name "$VNET" -n "$1" ||
                az network vnet subnet create -g "$RG" --vnet-name "$VNET" -n "$1" \
                        --address-prefixes "$2" -o none
}

create_network() {
        local prefixes
        read -r -a prefixes <<<"$VNET_PREFIXES"
        exists az network vnet show -g "$RG" -n "$VNET" ||
                az network vnet create -g "$RG" -n "$VNET" -l "$LOCATION" \
                        --address-prefixes "${prefixes[@]}" -o none
        create_subnet "$SUBNET_NAT" "$SUBNET_NAT_PREFIX"
        create_subnet "$SUBNET_LAN" "$SUBNET_LAN_PREFIX"
        create_subnet "$SUBNET_GUESTS" "$SUBNET_GUESTS_PREFIX"
        create_subnet "$SUBNET_VMS" "$SUBNET_VMS_PREFIX"
        [ -z "$GATEWAY_SUBNET_PREFIX" ] || create_subnet GatewaySubnet "$GATEWAY_SUBNET_PREFIX"
}

# NIC1: the primary NIC (IMDS, the wireserver and DNS answer only there), in the NAT subnet,
# with a Standard public IP for outbound access and SSH. No IP forwarding: everything it sends
# is masqueraded to its own address. NIC2: the LAN subnet, IP forwarding on (packets to and
# from the guests carry addresses that are not the NIC's).
create_nics() {
        exists az network public-ip show -g "$RG" -n "$PUBLIC_IP" ||
                az network public-ip create -g "$RG" -n "$PUBLIC_IP" -l "$LOCATION" \
                        --sku Standard --allocation-method Static -o none
        exists az network nsg show -g "$RG" -n "$NSG" ||
                az network nsg create -g "$RG" -n "$NSG" -l "$LOCATION" -o none
        az network nsg rule create -g "$RG" --nsg-name "$NSG" -n ssh --priority 1000 \
                --direction Inbound --access Allow --protocol Tcp --destination-port-ranges 22 \
                --source-address-prefixes "$SSH_SOURCE" -o none
        exists az network nic show -g "$RG" -n "$NIC1" ||
                az network nic create -g "$RG" -n "$NIC1" -l "$LOCATION" --vnet-name "$VNET" \
                        --subnet "$SUBNET_NAT" --private-ip-address "$NIC1_IP" \
                        --public-ip-address "$PUBLIC_IP" --network-security-group "$NSG" \
                        --accelerated-networking "$ACCELERATED_NETWORKING" -o none
        exists az network nic show -g "$RG" -n "$NIC2" ||
                az network nic create -g "$RG" -n "$NIC2" -l "$LOCATION" --vnet-name "$VNET" \
                        --subnet "$SUBNET_LAN" --private-ip-address "$NIC2_IP" \
                        --ip-forwarding true \
                        --accelerated-networking "$ACCELERATED_NETWORKING" -o none
        # what `nestrouterctl azure routes` also does: harmless when already on
        az network nic update -g "$RG" -n "$NIC2" --ip-forwarding true -o none
}

# ---- the VM -------------------------------------------------------------------------------
# Security type Standard by default: Microsoft's nested-virtualization guide asks for it (docs/
# azure.md §3.1). TrustedLaunch boots the gallery image version with Secure Boot (the image's
# ESP holds Debian's signed shim, GRUB and kernel) and a vTPM. No VM agent: cloud-init
# provisions and reports ready by itself; VM extensions and run-command are therefore unavailable.
create_data_disk() { # the data disk, once: it outlives the VM (an upgrade re-creates the VM)
        [ "$DATA_DISK_GB" != 0 ] || return 0
        exists az disk show -g "$RG" -n "$DATA_DISK" && return 0
        az disk create -g "$RG" -n "$DATA_DISK" -l "$LOCATION" --size-gb "$DATA_DISK_GB" \
                --sku "$DATA_DISK_SKU" -o none
}

create_vm() {
        # Standard: no --security-type at all. azure-cli before the value Standard existed
        # rejects it, and since 2.71 an explicit Standard reaches ARM, which refuses it unless the
        # subscription has the UseStandardSecurityType feature; a VM from a managed image without
        # the flag is a Standard VM (docs/azure.md §3.2, §5.5).
        local image custom_data data=() security=()
        exists az vm show -g "$RG" -n "$VM" && return 0
        # the first (only) attached data disk gets LUN 0: /dev/disk/azure/scsi1/lun0 in the VM
        [ "$DATA_DISK_GB" = 0 ] || data=(--attach-data-disks "$(az disk show -g "$RG" -n "$DATA_DISK" --query id -o tsv)")
        if [ "$SECURITY_TYPE" = TrustedLaunch ]; then
                image=$(az sig image-version show -g "$RG" --gallery-name "$GALLERY" \
                        --gallery-image-definition "$GALLERY_IMAGE" \
                        --gallery-image-version "$GALLERY_IMAGE_VERSION" --query id -o tsv)
                security=(--security-type TrustedLaunch --enable-secure-boot true --enable-vtpm true)
        else
                image=$(az image show -g "$RG" -n "$(image_name "$VM_GENERATION")" --query id -o tsv)
        fi
        NIC1_MAC=$(mac_of "$NIC1")
        NIC2_MAC=$(mac_of "$NIC2")
        custom_data=$(mktemp)
        print_custom_data >"$custom_data"
        az vm create -g "$RG" -n "$VM" -l "$LOCATION" --image "$image" --size "$VM_SIZE" \
                --nics "$NIC1" "$NIC2" "${security[@]}" --enable-agent false \
                --custom-data "$custom_data" --admin-username "$ADMIN_USER" \
                --ssh-key-values "$SSH_KEY" --os-disk-size-gb "$OS_DISK_GB" "${data[@]}" -o none
        rm -f "$custom_data"
        az vm boot-diagnostics enable -g "$RG" -n "$VM" -o none   # serial console
}

# ---- the route table (what `nestrouterctl azure routes --format az` generates) -------------
associate() { # subnet: attach the table unless the subnet already has another one
        local current
        current=$(az network vnet subnet show -g "$RG" --vnet-name "$VNET" -n "$1" \
                --query routeTable.id -o tsv)
        if [ -z "$current" ]; then
                az network vnet subnet update -g "$RG" --vnet-name "$VNET" -n "$1" \
                        --route-table "$RT_ID" -o none
        elif [ "$(lower "$current")" != "$(lower "$RT_ID")" ]; then
                die "subnet $1 already has route table ${current##*/}: set ROUTE_TABLE to it" \
                        "or detach it first"
        fi
}

create_routes() {
        # `route-table create` on an existing table would drop its routes: only when missing
        exists az network route-table show -g "$RG" -n "$ROUTE_TABLE" ||
                az network route-table create -g "$RG" -n "$ROUTE_TABLE" -l "$LOCATION" \
                        --disable-bgp-route-propagation false -o none
        RT_ID=$(az network route-table show -g "$RG" -n "$ROUTE_TABLE" --query id -o tsv)
        az network route-table route create -g "$RG" --route-table-name "$ROUTE_TABLE" \
                -n "$ROUTE" --address-prefix "$SUBNET_GUESTS_PREFIX" \
                --next-hop-type VirtualAppliance --next-hop-ip-address "$NIC2_IP" -o none
        # never on the NAT or LAN subnet: the host's own traffic must not come back to it
        associate "$SUBNET_VMS"
        if exists az network vnet subnet show -g "$RG" --vnet-name "$VNET" -n GatewaySubnet; then
                associate GatewaySubnet
        else
                say "$VNET has no GatewaySubnet (yet): run this again once the gateway exists"
        fi
}

# ---- an upgrade: a new image version on the same NICs and data disk ------------------------
# Azure cannot swap a managed image under a VM, so the VM is re-created: shut down (the OS stops
# its guests first: nestrouter-guests.service), deleted with its OS disk, and created again from
# the new image, attached to the same NICs (addresses, public IP, IP forwarding kept) and the
# same data disk at LUN 0 (/var/lib/nestrouter: guest disks, NVRAM, TPM state, leases, state).
# cloud-init provisions it as a new OS disk, with the same custom data. Route tables point at
# NIC2's address, which does not change.
upgrade_vm() {
        local os_disk
        [ "$DATA_DISK_GB" = 0 ] && say "DATA_DISK_GB=0: there is no data disk; guests and leases on the OS disk are lost"
        os_disk=$(az vm show -g "$RG" -n "$VM" --query storageProfile.osDisk.managedDisk.id -o tsv)
        if [ "$SECURITY_TYPE" = TrustedLaunch ]; then
                say "upgrade: $VM is re-created from $GALLERY/$GALLERY_IMAGE $GALLERY_IMAGE_VERSION; its NICs and data disk $DATA_DISK stay"
        else
                say "upgrade: $VM is re-created from $(image_name "$VM_GENERATION"); its NICs and data disk $DATA_DISK stay"
        fi
        az vm stop -g "$RG" -n "$VM" -o none          # a clean shutdown: guests stop first
        az vm delete -g "$RG" -n "$VM" --yes -o none  # the NICs and data disk are detached, not deleted
        [ -z "$os_disk" ] || az disk delete --ids "$os_disk" --yes -o none
        create_vm
}

main() {
        local upgrade=0
        while [ $# -gt 0 ]; do
                case $1 in
                --print-config) print_config; return ;;
                --print-custom-data) print_custom_data; return ;;
                --upgrade) upgrade=1 ;;
                --security-type) [ $# -ge 2 ] || die "--security-type: Standard or TrustedLaunch"
                        SECURITY_TYPE=$2; shift ;;
                *) die "usage: $0 [--print-config | --print-custom-data | [--security-type Standard|TrustedLaunch] [--upgrade]]" ;;
                esac
                shift
        done
        case $SECURITY_TYPE in
        Standard) ;;
        TrustedLaunch) [ "$VM_GENERATION" = V2 ] ||
                die "TrustedLaunch needs a Generation 2 VM (VM_GENERATION=V2), not $VM_GENERATION" ;;
        *) die "security type $SECURITY_TYPE: Standard or TrustedLaunch" ;;
        esac
        [ -n "$SSH_SOURCE" ] || die "set SSH_SOURCE (who may SSH to the VM, e.g. 203.0.113.7/32)"
        [ -f "$SSH_KEY" ] || die "$SSH_KEY: no such file (set SSH_KEY)"
        case " $GENERATIONS " in
        *" $VM_GENERATION "*) ;;
        *) die "VM_GENERATION=$VM_GENERATION is not among GENERATIONS=$GENERATIONS" ;;
        esac
        [ ! -e "$VHD" ] || check_vhd >/dev/null   # a bad image fails before anything is created
        [ "$upgrade" = 0 ] || exists az vm show -g "$RG" -n "$VM" ||
                die "$VM does not exist: deploy it first (without --upgrade)"
        exists az group show -n "$RG" || az group create -n "$RG" -l "$LOCATION" -o none
        create_images
        create_network
        create_nics
        create_data_disk
        if [ "$upgrade" = 1 ]; then upgrade_vm; else create_vm; fi
        create_routes
        say "done: ssh $ADMIN_USER@$(az network public-ip show -g "$RG" -n "$PUBLIC_IP" \
                --query ipAddress -o tsv)"
}

main "$@"
