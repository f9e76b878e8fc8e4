#!/bin/sh
# Linked clones, reset and checkpoints for real (nestrouterd and a private libvirtd in the router
# namespace of a simulated VNet, as test-guests.sh; mkguest.sh's tiny guest with nrtest.mark=,
# which prints the 8 bytes at 1 MiB into its disk and writes its own word there):
#   - c1 and c2 are overlays (base:) of one read-only golden image holding "BASEBASE": c1 writes
#     ONE, and c2 still reads BASEBASE (a write in one clone is invisible in the other)
#   - `vm reset c1` destroys it, replaces its overlay and starts it again (autostart): BASEBASE
#   - `vm checkpoint c2 clean` while off, c2 writes TWO, a checkpoint while it runs is refused
#     with the reason, `vm revert c2 clean` brings BASEBASE back; checkpoints lists it,
#     checkpoint-delete removes it
#   - the golden image is unchanged (same hash), firmware auto on an overlay reads the base
#   - gen2 (firmware: auto) from a generation-2 style VHDX (GPT with an EFI system partition) is
#     imported to a compressed qcow2 and decided uefi from it
#   - ci (cloud_init:) gets a NoCloud seed: an ISO labelled cidata with its user data and
#     meta-data (instance-id, local-hostname ci), attached read-only; changed user data gives a
#     rebuilt seed with a new instance-id (no guest reads it here: see docs/guests.md 11)
#   - fx's name is taken by a foreign domain: a conflict (vm list, status failing:), the domain
#     left as it was; once it is undefined by hand the guest pass defines nestrouter's own
# Needs what test-guests.sh needs. NR_VNET_ID (default dclones); KEEP=1 keeps the work dir.
# shellcheck disable=SC3043,SC2016
set -u
NR_VNET_ID=${NR_VNET_ID:-dclones}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
dl_init
GUEST_DIR=${GUEST_DIR:-$DL_ROOT/build/guest}
for t in libvirtd virsh qemu-system-x86_64 qemu-img tini sha256sum xorriso sgdisk; do
        command -v "$t" >/dev/null 2>&1 || { echo "$0: missing $t (make deps)" >&2; exit 2; }
done
dl_sandbox_trap  # the EXIT trap stops the private libvirtd, then the daemon and the VNet

if sh "$DL_HERE/mkguest.sh" "$GUEST_DIR" >"$W/mkguest.log" 2>&1; then
        pass "tiny guest ready"
else
        sed 's/^/# /' "$W/mkguest.log"
        fail "tiny guest build (mkguest.sh)"
        summary
        exit 1
fi
# the golden image: 8 MiB, "BASEBASE" at 1 MiB, as a qcow2, read-only
truncate -s 8M "$W/golden.raw"
printf 'BASEBASE' | dd of="$W/golden.raw" bs=512 seek=2048 conv=notrunc 2>/dev/null
qemu-img convert -q -f raw -O qcow2 "$W/golden.raw" "$W/golden.qcow2"
chmod 0444 "$W/golden.qcow2"
golden_sum=$(sha256sum <"$W/golden.qcow2")
# a generation-2 style disk: GPT, an EFI system partition, as a VHDX
truncate -s 64M "$W/gen2.raw"
sgdisk -n 1:2048:+32M -t 1:ef00 -n 2:0:0 -t 2:0700 "$W/gen2.raw" >/dev/null 2>&1
qemu-img convert -q -f raw -O vhdx "$W/gen2.raw" "$W/gen2.vhdx"

dl_vnet_up
dl_sandbox_start
KARGS="console=ttyS0 quiet panic=-1 nrtest=wait"
# write_config CLOUD_INIT_PACKAGE
write_config() {
        {
                dl_guests_config_head "10.0.0.0/22" 20
                cat <<EOF2
  - {name: c1, base: $W/golden.qcow2, kernel: $GUEST_DIR/vmlinuz, initrd: $GUEST_DIR/initrd.cpio.gz,
     cmdline: "$KARGS nrtest.mark=ONE", memory: 128MiB, cpu: qemu64, ip: 10.0.2.91}
  - {name: c2, base: $W/golden.qcow2, kernel: $GUEST_DIR/vmlinuz, initrd: $GUEST_DIR/initrd.cpio.gz,
     cmdline: "$KARGS nrtest.mark=TWO", memory: 128MiB, cpu: qemu64, ip: 10.0.2.92,
     autostart: false}
  - {name: k, kernel: $GUEST_DIR/vmlinuz, memory: 64MiB, autostart: false}
  - {name: fx, kernel: $GUEST_DIR/vmlinuz, memory: 64MiB, autostart: false}
  - {name: gen2, disk: $W/gen2.vhdx, memory: 64MiB, autostart: false}
  - name: ci
    base: $W/golden.qcow2
    memory: 64MiB
    ip: 10.0.2.93
    autostart: false
    cloud_init:
      user_data: |
        #cloud-config
        packages: [$1]
EOF2
        } >"$CFG"
}
write_config nginx
run "the configuration with two linked clones checks" "$NRD" --check "$CFG"
CON=$STATE/console
vmj() { sj ".guests.vms[] | select(.name == \"$1\") | $2"; }
# mark VM N: the DISKMARK line of the VM's Nth boot
mark() { awk -v n="$2" '/init started/ { b++ } b == n && /DISKMARK before=/ { sub(/.*before=/, ""); gsub(/\r/, ""); print; exit }' "$CON/$1.log" 2>/dev/null; }
marked() { [ "$(awk -v n="$2" '/init started/ { b++ } b == n && /DISKMARK wrote/ { f = 1 } END { print f + 0 }' "$CON/$1.log" 2>/dev/null)" = 1 ]; }

# someone else's domain with the name of a configured VM (fx): a conflict, never touched
cat >"$W/fx-foreign.xml" <<EOF2
<domain type='qemu'><name>fx</name><memory unit='MiB'>32</memory>
<os><type arch='x86_64'>hvm</type></os></domain>
EOF2
run "a foreign domain named fx is defined (not nestrouter's)" VIRSH define "$W/fx-foreign.xml"
t0=$(now_ms)
run "nestrouterd starts in $RTR and converges" daemon_up
if [ -z "$DPID" ] || ! ctl_up; then fail "daemon not running: nothing more to test"; summary; exit; fi
run "c1 (autostart) boots and marks its disk" wait_for 900 marked c1 1
check "c1 read the base's BASEBASE" BASEBASE mark c1 1
check_grep "c1 wrote ONE" 'DISKMARK wrote=ONE' cat "$CON/c1.log"
check_grep "c1's disk is an overlay of the golden image" "$W/golden.qcow2" \
        qemu-img info -U "$STATE/disks/c1.qcow2"
check_grep "status: firmware auto of a clone reads the base (no partition table: bios)" \
        "^bios auto: no GPT partition table" vmj c1 '"\(.firmware) \(.firmware_reason)"'
c2_defined() { VIRSH domstate c2 >/dev/null 2>&1; }
run "c2 is defined (off)" wait_for 100 c2_defined
check_grep "vm checkpoint c2 clean (off)" '^c2: checkpoint clean taken' ctl vm checkpoint c2 clean
check_grep "vm checkpoints c2 lists it" 'clean' ctl vm checkpoints c2
check_grep "vm start c2" '^c2: started' ctl vm start c2
run "c2 boots and marks its disk" wait_for 900 marked c2 1
check "c2 reads BASEBASE: c1's write is invisible in it" BASEBASE mark c2 1
check_grep "a checkpoint of the running c2 is refused, with the reason" \
        'c2 is running: checkpoints are taken and reverted while the guest is off' \
        ctl vm checkpoint c2 later
check_grep "vm stop c2 --force" '^c2: ' ctl vm stop c2 --force
c2_off() { [ "$(vmj c2 .state)" = "shut off" ]; }
run "c2 is off" wait_for 100 c2_off
check_grep "vm revert c2 clean" '^c2: reverted to checkpoint clean' ctl vm revert c2 clean
check_grep "vm start c2 again" '^c2: started' ctl vm start c2
run "c2 boots a second time" wait_for 900 marked c2 2
check "c2 reads BASEBASE again, not its TWO: the revert restored the disk" BASEBASE mark c2 2
# the control: a write survives a restart (else reset and revert would prove nothing)
check_grep "vm stop c1 --force" '^c1: ' ctl vm stop c1 --force
c1_off() { [ "$(vmj c1 .state)" = "shut off" ]; }
run "c1 is off" wait_for 100 c1_off
check_grep "vm start c1" '^c1: started' ctl vm start c1
run "c1 boots a second time" wait_for 900 marked c1 2
check "c1 reads its own ONE: its writes persist in its overlay" ONE mark c1 2
check_grep "vm reset c1 (running: destroyed, fresh overlay, started again)" \
        '^c1: reset to .*golden.qcow2; started' ctl vm reset c1
run "c1 boots a third time" wait_for 900 marked c1 3
check "c1 reads BASEBASE after the reset, not its ONE" BASEBASE mark c1 3
check_grep "vm reset of a VM without base: is refused" '^k: no base: image' \
        sh -c "'$NRCTL' --run-dir '$RUN' vm reset k 2>&1; true"
check_grep "a checkpoint of a kernel-booted VM without a disk is refused" '^k: no disk' \
        sh -c "'$NRCTL' --run-dir '$RUN' vm checkpoint k x 2>&1; true"
check_grep "vm stop c2 --force (again)" '^c2: ' ctl vm stop c2 --force
run "c2 is off again" wait_for 100 c2_off
check_grep "vm checkpoint-delete c2 clean" '^c2: checkpoint clean deleted' \
        ctl vm checkpoint-delete c2 clean
check "vm checkpoints c2: none left" 0 sh -c "'$NRCTL' --run-dir '$RUN' vm checkpoints c2 | grep -c clean"
check "the golden image is unchanged" "$golden_sum" sha256sum <"$W/golden.qcow2"

# ---------------------------------------------------------------- a generation-2 VHDX (gen2)
gen2_fw() { [ "$(vmj gen2 .firmware)" = uefi ]; }
run "gen2.vhdx is imported and decided uefi" wait_for 300 gen2_fw
check_grep "... from its EFI system partition (read through the compressed qcow2)" \
        '^auto: GPT disk with an EFI system partition' vmj gen2 .firmware_reason
check_grep "... the import is a compressed qcow2" '"compressed-clusters": [1-9]' \
        qemu-img check --output=json -U "$STATE/disks/gen2.qcow2"

# ---------------------------------------------------------------- cloud-init seed (ci)
SEED=$STATE/cloud-init/ci.iso
iso_file() { xorriso -osirrox on -indev "$SEED" -extract "/$1" "$W/seed-$1" >/dev/null 2>&1 && cat "$W/seed-$1"; }
check_grep "ci's seed is a volume labelled cidata" "Volume Id *: cidata" \
        sh -c "xorriso -indev '$SEED' -pvd_info 2>&1"
check_grep "... with its user data" 'packages: \[nginx\]' iso_file user-data
check_grep "... its hostname" '^local-hostname: ci$' iso_file meta-data
id1=$(iso_file meta-data | sed -n 's/^instance-id: //p')
expect "... and an instance-id ($id1)" "${id1:-none}" != none
check_grep "libvirt attaches the seed read-only" "$SEED" VIRSH dumpxml ci
write_config apache2
check_grep "reload with other user data" 'configuration loaded' ctl reload
new_id() { id2=$(iso_file meta-data | sed -n 's/^instance-id: //p'); [ -n "$id2" ] && [ "$id2" != "$id1" ]; }
run "the seed is rebuilt with a new instance-id" wait_for 50 new_id
check_grep "... and the new user data" 'packages: \[apache2\]' iso_file user-data
# ---------------------------------------------------------------- a foreign domain in the way
fx_state() { vmj fx .state; }
fx_meta() { VIRSH dumpxml fx 2>/dev/null | grep -c 'nestrouter:guest'; }
fx_ours() { [ "$(fx_meta)" -gt 0 ]; }
fx_resolved() { ! ctl status | grep -q 'failing: vm fx'; }
check "vm list: fx is in conflict with the foreign domain" conflict fx_state
check_grep "status: failing: vm fx, a conflict, left alone" \
        'failing: vm fx: conflict: a domain named fx exists that nestrouter does not own; left alone' ctl status
check "the foreign fx is left as it was (no nestrouter metadata)" 0 fx_meta
run "the foreign fx is undefined by hand" VIRSH undefine fx
run "... nestrouterd defines its own fx (the next guest pass, planned as vm define)" wait_for 100 fx_ours
run "... and the conflict is resolved in status" wait_for 50 fx_resolved
check "... fx is defined and off (autostart: false)" "shut off" fx_state
run "SIGTERM: the daemon exits" daemon_stop
expect "... with status 0" "${DL_RC:-x}" = 0
echo "# guest boots took $(($(now_ms) - t0)) ms from the daemon's start"
elapsed
summary
