#!/bin/sh
# Guest firmware for real, in one run that shares its TCG boots (as test-guests.sh: nestrouterd
# in the router namespace of a simulated VNet, a private libvirtd next to it, mkguest.sh's tiny
# guest whose init prints what firmware, Secure Boot state and TPM it finds):
#   - u1 (firmware: uefi, tpm: true) boots its kernel through OVMF: the guest sees
#     /sys/firmware/efi and /dev/tpm0, defines a TPM NV index; its NVRAM is nvram/u1_VARS.fd in
#     the state dir. After a reload that changes its definition and a stop/start, the same NVRAM
#     file is used and the NV index is still there (TPM state kept)
#   - sb (secure_boot: true) boots Debian's signed shim -> GRUB -> kernel from an EFI system
#     partition (mkesp.sh) with OVMF's Secure Boot build and Microsoft's keys: the kernel's EFI
#     stub reports Secure Boot enabled (then, under TCG only, Debian 12's kernel triple-faults:
#     see below); sbx, the same chain with one byte of the kernel changed, is refused ("bad shim
#     signature") and its kernel never runs
#   - au (firmware: auto) with that GPT disk is decided uefi once (nvram/au.firmware), shown by
#     status and vm list; a disk without one stays bios
#   - w1 (os: windows, devices: compat, Secure Boot, TPM) is accepted by libvirt: define,
#     virt-xml-validate of what libvirt keeps, SATA + e1000e, local-time RTC, and under TCG no
#     Hyper-V enlightenments but a note
#   - cg (devices: compat, Debian's generic kernel with its e1000e driver) leases its address
#   - inst (disk_size, cdrom) gets a new blank disk; its installer ISO (mkiso.sh) boots after the
#     blank disk, writes a bootable disk image to it and powers off; grown while off (a larger
#     disk_size), it boots from the disk at the next start; a smaller disk_size is refused
# Needs root, `make all`, what test-guests.sh needs, plus ovmf, swtpm, swtpm-tools, gdisk, mtools
# and apt-get access for the first build (kernel, shim-signed, grub-efi-amd64-signed: downloaded,
# not installed). NR_VNET_ID (default dguestfw); KEEP=1 keeps the work dir.
# shellcheck disable=SC3043,SC2016
set -u
NR_VNET_ID=${NR_VNET_ID:-dguestfw}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
dl_init
GUEST_DIR=${GUEST_DIR:-$DL_ROOT/build/guest}
GENERIC_DIR=${GENERIC_DIR:-$DL_ROOT/build/guest-generic}

for t in libvirtd virsh virt-xml-validate qemu-system-x86_64 qemu-img tini swtpm sgdisk mformat \
        grub-mkrescue xorriso; do
        command -v "$t" >/dev/null 2>&1 || { echo "$0: missing $t (make deps)" >&2; exit 2; }
done
for f in /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_CODE_4M.ms.fd; do
        [ -r "$f" ] || { echo "$0: missing $f (make deps: ovmf)" >&2; exit 2; }
done

dl_sandbox_trap  # the EXIT trap stops the private libvirtd, then the daemon and the VNet

KARGS="console=ttyS0 quiet panic=-1 nrtest=wait"
# without quiet: the kernel's EFI stub then says whether Secure Boot is on
SB_KARGS="console=ttyS0 panic=-1 nrtest=wait"
t_start=$(now_ms)
if sh "$DL_HERE/mkguest.sh" "$GUEST_DIR" >"$W/mkguest.log" 2>&1 &&
        sh "$DL_HERE/mkesp.sh" "$GUEST_DIR/efi" "$GUEST_DIR" "$W/esp.img" "$SB_KARGS" >>"$W/mkguest.log" 2>&1 &&
        sh "$DL_HERE/mkiso.sh" "$GUEST_DIR/efi" "$GUEST_DIR" "$W/inst.iso" "$KARGS" >>"$W/mkguest.log" 2>&1 &&
        NR_GUEST_KERNEL=generic sh "$DL_HERE/mkguest.sh" "$GENERIC_DIR" >>"$W/mkguest.log" 2>&1; then
        pass "tiny guest, its signed EFI boot disks and installer ISO ready ($(($(now_ms) - t_start)) ms)"
else
        sed 's/^/# /' "$W/mkguest.log"
        fail "guest build (mkguest.sh, mkesp.sh)"
        summary
        exit 1
fi
cp "$W/esp.img" "$W/au.img"
qemu-img create -q -f qcow2 "$W/w1.qcow2" 1G
qemu-img create -q -f qcow2 "$W/bi.qcow2" 64M

dl_vnet_up
dl_sandbox_start

U1_IP=10.0.2.81 SB_IP=10.0.2.82 INST_IP=10.0.2.84 CG_IP=10.0.2.85
# write_config U1_MEMORY INST_DISK_SIZE
write_config() {
        {
                dl_guests_config_head "10.0.0.0/22" 30
                cat <<EOF2
  - {name: u1, kernel: $GUEST_DIR/vmlinuz, initrd: $GUEST_DIR/initrd.cpio.gz, cmdline: "$KARGS",
     memory: $1, cpu: qemu64, mac: "52:54:00:00:08:01", ip: $U1_IP, firmware: uefi, tpm: true}
  - {name: sb, disk: $W/esp.img, memory: 256MiB, cpu: qemu64, mac: "52:54:00:00:08:02",
     ip: $SB_IP, secure_boot: true}
  - {name: sbx, disk: $W/esp.img.badsig.img, format: raw, memory: 256MiB, cpu: qemu64,
     mac: "52:54:00:00:08:03", secure_boot: true}
  - {name: au, disk: $W/au.img, memory: 256MiB, autostart: false}
  - {name: bi, disk: $W/bi.qcow2, memory: 64MiB, autostart: false}
  - {name: w1, disk: $W/w1.qcow2, memory: 1GiB, vcpus: 2, autostart: false, os: windows,
     devices: compat, firmware: uefi, secure_boot: true, tpm: true}
  - {name: cg, kernel: $GENERIC_DIR/vmlinuz, initrd: $GENERIC_DIR/initrd.cpio.gz, cmdline: "$KARGS",
     memory: 256MiB, cpu: qemu64, mac: "52:54:00:00:08:05", ip: $CG_IP, devices: compat}
  - {name: inst, disk_size: $2, cdrom: [$W/inst.iso], firmware: uefi, memory: 256MiB,
     cpu: qemu64, mac: "52:54:00:00:08:04", ip: $INST_IP}
EOF2
        } >"$CFG"
}
write_config 256MiB 64MiB
run "the configuration with eight VMs checks" "$NRD" --check "$CFG"
check_grep "--check -v prints the firmware keys" '^    firmware: uefi$' "$NRD" --check -v "$CFG"
CON=$STATE/console
vmj() { sj ".guests.vms[] | select(.name == \"$1\") | $2"; }
said() { grep -aq "GUEST\[.*$2" "$CON/$1.log" 2>/dev/null; }

t_boot=$(now_ms)
run "nestrouterd starts in $RTR and converges" daemon_up
if [ -z "$DPID" ] || ! ctl_up; then fail "daemon not running: nothing more to test"; summary; exit; fi

# ---------------------------------------------------------------- UEFI + TPM (u1)
u1_done() { said u1 'TPM-NV after' && said u1 'LEASE'; }
if wait_for 1800 u1_done; then
        pass "u1 booted through OVMF and leased ($(($(now_ms) - t_boot)) ms after the daemon started)"
else
        fail "u1 booted through OVMF within 180 s"
        tail -n 8 "$CON/u1.log" 2>/dev/null | sed 's/^/# u1: /'
fi
check_grep "u1 reports EFI boot (/sys/firmware/efi)" 'GUEST\[.*FIRMWARE efi' cat "$CON/u1.log"
check_grep "u1 (no secure_boot) reads SecureBoot off" 'GUEST\[.*SECUREBOOT disabled' cat "$CON/u1.log"
check_grep "u1 sees a TPM (/dev/tpm0)" 'GUEST\[.*TPM /dev/tpm0' cat "$CON/u1.log"
check_grep "u1: the fresh TPM has no NV index 0x01500001 (TPM_RC_HANDLE)" \
        'TPM-NV before rc=0000018b' cat "$CON/u1.log"
check_grep "u1 defined it (rc 0)" 'TPM-NV define rc=00000000' cat "$CON/u1.log"
check_grep "u1 reads it back" 'TPM-NV after rc=00000000' cat "$CON/u1.log"
check_grep "u1 leased its reserved address" "LEASE ip=$U1_IP/" cat "$CON/u1.log"
check "status: u1 firmware uefi" "uefi configured" vmj u1 '"\(.firmware) \(.firmware_reason)"'
run "u1's NVRAM is in the state dir (nvram/u1_VARS.fd)" test -s "$STATE/nvram/u1_VARS.fd"
check_grep "libvirt runs u1 on q35 with OVMF and that NVRAM" "$STATE/nvram/u1_VARS.fd" VIRSH dumpxml u1
check_grep "... and an emulated TPM 2.0" "<tpm model='tpm-crb'>" VIRSH dumpxml u1
nv_inode=$(stat -c %i "$STATE/nvram/u1_VARS.fd" 2>/dev/null)

# ---------------------------------------------------------------- Secure Boot (sb, sbx)
# Under TCG, Debian 12's kernel (6.1) triple-faults right after its EFI stub when Secure Boot is
# on (QEMU 7.2, OVMF 2022.11 with SMM; the same disk boots without Secure Boot): so the proof
# is the stub's own report, which it reads from the firmware's SecureBoot variable after shim
# verified GRUB and GRUB (through shim) verified the kernel.
sb_stub() { grep -aq 'EFI stub: UEFI Secure Boot is enabled' "$CON/sb.log" 2>/dev/null; }
if wait_for 1800 sb_stub; then
        pass "sb: shim -> GRUB -> kernel verified; the kernel reports Secure Boot enabled ($(($(now_ms) - t_boot)) ms)"
else
        fail "sb: the kernel's EFI stub reported Secure Boot within 180 s"
        tail -n 8 "$CON/sb.log" 2>/dev/null | sed 's/^/# sb: /'
fi
check "sb: no signature was refused" 0 grep -ac 'bad shim signature' "$CON/sb.log"
check "status: sb firmware uefi-secure-boot (auto: secure_boot needs uefi)" \
        "uefi-secure-boot auto: secure_boot needs uefi" vmj sb '"\(.firmware) \(.firmware_reason)"'
run "sb's NVRAM comes from the Microsoft-keys template (nvram/sb_VARS.ms.fd)" \
        test -s "$STATE/nvram/sb_VARS.ms.fd"
check_grep "libvirt: sb has the Secure Boot loader and SMM" "<smm state='on'/>" VIRSH dumpxml sb
refused() { grep -aq 'bad shim signature' "$CON/sbx.log" 2>/dev/null; }
if wait_for 600 refused; then
        pass "sbx: the kernel with a broken signature is refused (GRUB: bad shim signature)"
else
        fail "sbx: no 'bad shim signature' within 60 s more"
        tail -n 5 "$CON/sbx.log" 2>/dev/null | sed 's/^/# sbx: /'
fi
check "sbx never ran the kernel's EFI stub" 0 grep -ac 'EFI stub' "$CON/sbx.log"
# sb resets and boots again forever, sbx waits at GRUB's prompt: stop both (TCG costs CPU)
check_grep "vm stop sb --force" '^sb: ' ctl vm stop sb --force
check_grep "vm stop sbx --force" '^sbx: ' ctl vm stop sbx --force

# ---------------------------------------------------------------- firmware: auto (au, bi)
au_seen() { [ "$(vmj au .firmware)" = uefi ]; }
run "au (firmware: auto, GPT disk with an ESP) is decided uefi" wait_for 100 au_seen
check_grep "... and says why" "^auto: GPT disk with an EFI system partition" vmj au .firmware_reason
check "... remembered in nvram/au.firmware" uefi head -n 1 "$STATE/nvram/au.firmware"
check_grep "... defined with OVMF" "OVMF_CODE_4M.fd" VIRSH dumpxml au
check_grep "bi (firmware: auto, an empty disk) is bios" "^bios auto: no GPT partition table" \
        vmj bi '"\(.firmware) \(.firmware_reason)"'
check_grep "vm list shows the firmware" '^au +shut off .* +uefi +' ctl vm list
check_grep "status (text) shows it with the reason" \
        '^  au .*firmware uefi \(auto: GPT disk with an EFI system partition' ctl status

# ---------------------------------------------------------------- Windows profile (w1)
check_grep "w1 (os: windows, devices: compat) is defined by libvirt" 'shut off' VIRSH domstate w1
VIRSH dumpxml --inactive w1 >"$W/w1.xml" 2>&1
run "virt-xml-validate accepts what libvirt keeps for w1" virt-xml-validate "$W/w1.xml" domain
check_grep "w1: SATA disk" "bus='sata'" cat "$W/w1.xml"
check_grep "w1: e1000e NIC" "<model type='e1000e'/>" cat "$W/w1.xml"
check_grep "w1: RTC in local time" "<clock offset='localtime'>" cat "$W/w1.xml"
check_grep "w1: Secure Boot loader" "secure='yes'" cat "$W/w1.xml"
check "w1: under TCG no Hyper-V enlightenments" 0 grep -c '<hyperv' "$W/w1.xml"
check_grep "status: w1 notes it" 'Hyper-V enlightenments need KVM' vmj w1 .cpu_note

# ---------------------------------------------------------------- compat devices (cg)
cg_leased() { grep -aq "LEASE ip=$CG_IP/" "$CON/cg.log" 2>/dev/null; }
if wait_for 1200 cg_leased; then
        pass "cg (devices: compat) leased its reserved address $CG_IP over its e1000e NIC"
else
        fail "cg (devices: compat) leased within 120 s"
        tail -n 6 "$CON/cg.log" 2>/dev/null | sed 's/^/# cg: /'
fi
check_grep "libvirt gives cg an e1000e NIC" "<model type='e1000e'/>" VIRSH dumpxml cg
check_grep "nestrouterctl leases lists cg" "^52:54:00:00:08:05 +$CG_IP +" ctl leases

# ---------------------------------------------------------------- installation from an ISO
INST_DISK=$STATE/disks/inst.qcow2
vsize() { qemu-img info --output=json -U "$1" | jq -r '."virtual-size"'; }
check "inst got a new blank disk of 64 MiB" 67108864 vsize "$INST_DISK"
iso_xml() { VIRSH dumpxml inst | grep -A6 'inst.iso'; }
check_grep "libvirt boots inst's disk first, the ISO second" "<boot order='2'/>" iso_xml
installed() { said inst 'INSTALLED' || said inst 'INSTALL FAILED'; }
if wait_for 2400 installed; then
        pass "inst booted its installer from the cdrom (the blank disk is not bootable)"
else
        fail "inst's installer ran within 240 s"
        tail -n 8 "$CON/inst.log" 2>/dev/null | sed 's/^/# inst: /'
fi
check_grep "... and wrote the disk" 'GUEST\[.*INSTALLED to /dev/vda' cat "$CON/inst.log"
inst_off() { [ "$(vmj inst .state)" = "shut off" ]; }
run "inst powered off after the installation" wait_for 300 inst_off
write_config 256MiB 96MiB
check_grep "reload: inst's disk_size 96MiB" 'configuration loaded' ctl reload
grown() { [ "$(vsize "$INST_DISK")" = 100663296 ]; }
run "the blank disk grew to 96 MiB while inst was off" wait_for 100 grown
check_grep "vm start inst" '^inst: started' ctl vm start inst
from_disk() { said inst 'BOOTED-FROM disk'; }
if wait_for 2400 from_disk; then
        pass "inst booted from its installed disk at the next start"
else
        fail "inst booted from its disk within 240 s"
        tail -n 8 "$CON/inst.log" 2>/dev/null | sed 's/^/# inst: /'
fi
check "the installer ran once" 1 grep -ac 'BOOTED-FROM cdrom' "$CON/inst.log"
inst_leased() { grep -aq "LEASE ip=$INST_IP/" "$CON/inst.log"; }
run "inst leased its reserved address" wait_for 300 inst_leased
write_config 256MiB 32MiB
check_grep "reload: inst's disk_size 32MiB" 'configuration loaded' ctl reload
shrink_refused() { vmj inst .error | grep -q 'never shrunk'; }
run "status: shrinking is refused" wait_for 50 shrink_refused
check_grep "... with the figures" 'is 96MiB; a disk is never shrunk, so it stays 96MiB \(size 32MiB refused\)' vmj inst .error
check "the disk is still 96 MiB" 100663296 vsize "$INST_DISK"
check "inst keeps running" running vmj inst .state

# ---------------------------------------------------------------- NVRAM and TPM across a restart
write_config 288MiB 32MiB
check_grep "reload: u1 gets more memory (a new definition)" 'configuration loaded' ctl reload
pending() { [ "$(vmj u1 .pending)" = true ]; }
run "u1's change is pending" wait_for 50 pending
check_grep "vm stop u1" '^u1: ' ctl vm stop u1 --force
u1_off() { [ "$(vmj u1 .state)" = "shut off" ]; }
run "u1 is off" wait_for 100 u1_off
check_grep "vm start u1 (the new definition)" '^u1: started' ctl vm start u1
u1_again() { awk '/init started/ { n++ } n == 2 && /TPM-NV before/ { f = 1 } END { exit !f }' "$CON/u1.log"; }
if wait_for 1800 u1_again; then pass "u1 booted again"; else fail "u1 booted again within 180 s"; fi
check_grep "u1 runs the new definition" "<memory unit='KiB'>294912<" VIRSH dumpxml u1
check "u1 uses the same NVRAM file (inode $nv_inode)" "$nv_inode" stat -c %i "$STATE/nvram/u1_VARS.fd"
check "u1's TPM kept its NV index across the restart" 1 \
        sh -c "awk '/init started/ { n++ } n == 2' '$CON/u1.log' | grep -ac 'TPM-NV before rc=00000000'"

run "SIGTERM: the daemon exits" daemon_stop
expect "... with status 0" "${DL_RC:-x}" = 0
elapsed
summary
