#!/bin/sh
# A real cloud-init consumes nestrouter's seed (part of `make test-image`, after the image is
# built): nestrouterd and a private libvirtd in the router namespace of a simulated VNet (as
# test-guests-clones.sh), and one VM whose disk is an overlay (base:) of the appliance image
# itself, which has cloud-init: firmware bios, TCG, cloud_init: user data that writes a file with
# a token, creates a user whose GECOS carries the token, and prints what it finds to the serial
# console. The check waits (bounded) for that line in the console log nestrouterd keeps and
# asserts:
#   - cloud-init ran the user data: the file, the user (users module), runcmd
#   - the host name is the VM's name (the seed's local-hostname)
#   - the instance-id cloud-init used is the one in the seed's meta-data
#   - the guest leased its reservation from nestrouterd's dnsmasq on the guest bridge (the lease
#     file, and the address the guest reports on eth0)
#   - cloud-init found the seed as NoCloud; the base image is unchanged
# The nested appliance also runs its own nestrouterd: without a configuration it waits, which
# is all this test needs of it. One boot, timed from `vm start` (printed).
# Needs what test-guests.sh needs and a built image (make image). Environment: NR_IMAGE (default
# build/image/nestrouter.raw), CI_BOOT_TIMEOUT (240 s), CI_CPU (Snowridge: RDRAND, so the
# guest's crng is ready at once (see image/vm.sh), and no AVX, which glibc would pick and TCG
# emulates slowly: one run each, Broadwell-noTSX-IBRS 134 s to the result line, Snowridge 85 s),
# NR_VNET_ID (default dciimg), KEEP=1 keeps the work dir.
# shellcheck disable=SC3043,SC2016
set -u
NR_VNET_ID=${NR_VNET_ID:-dciimg}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
dl_init
IMAGE=$(realpath "${NR_IMAGE:-$DL_ROOT/build/image/nestrouter.raw}" 2>/dev/null)
BOOT_TIMEOUT=${CI_BOOT_TIMEOUT:-240}
for t in libvirtd virsh qemu-system-x86_64 qemu-img tini xorriso; do
        command -v "$t" >/dev/null 2>&1 || { echo "$0: missing $t (make deps)" >&2; exit 2; }
done
[ -f "$IMAGE" ] || { echo "$0: no image ${NR_IMAGE:-build/image/nestrouter.raw} (make image)" >&2; exit 2; }
dl_sandbox_trap

NAME=ciguest
GIP=10.0.2.60
GMAC=52:54:00:00:06:60
TOKEN=nrci-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
image_stat() { stat -c '%s %Y' "$IMAGE"; }
image_before=$(image_stat)

dl_vnet_up
dl_sandbox_start
{
        dl_guests_config_head "10.0.0.0/22" 20
        cat <<EOF
  - name: $NAME
    base: $IMAGE
    firmware: bios
    memory: 1GiB
    vcpus: 2
    cpu: ${CI_CPU:-Snowridge}
    mac: "$GMAC"
    ip: $GIP
    autostart: false
    cloud_init:
      user_data: |
        #cloud-config
        users:
          - {name: nrci, gecos: "$TOKEN", shell: /bin/sh, lock_passwd: true}
        write_files:
          - {path: /var/lib/nrci/marker, content: "$TOKEN", permissions: "0644"}
        runcmd:
          - |
            r="file=\$(cat /var/lib/nrci/marker) user=\$(getent passwd nrci | cut -d: -f5)"
            r="\$r host=\$(hostname) iid=\$(cat /var/lib/cloud/data/instance-id)"
            r="\$r ds=\$(cat /run/cloud-init/cloud-id 2>/dev/null)"
            r="\$r ip=\$(ip -4 -o addr show dev eth0 | awk '{print \$4}' | head -n 1)"
            r="\$r up=\$(cut -d' ' -f1 /proc/uptime)"
            echo "NRCI-RESULT \$r NRCI-END" >/dev/ttyS0
EOF
} >"$CFG"
run "the configuration (the image as a linked clone, cloud_init:) checks" "$NRD" --check "$CFG"
run "nestrouterd starts in $RTR and converges" daemon_up
if [ -z "$DPID" ] || ! ctl_up; then fail "daemon not running: nothing more to test"; summary; exit; fi
vmj() { sj ".guests.vms[] | select(.name == \"$NAME\") | $1"; }
defined() { VIRSH domstate "$NAME" >/dev/null 2>&1; }
run "$NAME is defined (off)" wait_for 300 defined
SEED=$STATE/cloud-init/$NAME.iso
iid=$(xorriso -osirrox on -indev "$SEED" -extract /meta-data "$W/meta-data" >/dev/null 2>&1 &&
        sed -n 's/^instance-id: //p' "$W/meta-data")
expect "the seed's meta-data has an instance-id (${iid:-none})" -n "$iid"
check_grep "the seed is a read-only virtio disk (Debian's cloud kernel has no AHCI)" \
        "<source file='$SEED'/>  *<target dev='vdb' bus='virtio'/>  *<readonly/>" \
        sh -c "timeout 30 virsh -q -c '$URI' dumpxml $NAME | tr -d '\n'"
check_grep "its disk is an overlay of the image" "backing file: $IMAGE" \
        qemu-img info -U "$STATE/disks/$NAME.qcow2"

CON=$STATE/console/$NAME.log
STALL='soft lockup - CPU#|self-detected stall on CPU|detected stalls on CPUs|Kernel panic'
result() { grep -a 'NRCI-RESULT .* NRCI-END' "$CON" 2>/dev/null | tail -n 1 | tr -d '\r'; }
# waits for the result line, at most BOOT_TIMEOUT s; gives up early on a wedged guest kernel
wait_result() {
        local end=$(($(now_ms) + BOOT_TIMEOUT * 1000)) n=$((BOOT_TIMEOUT + 10))
        while [ "$n" -gt 0 ] && [ "$(now_ms)" -lt "$end" ]; do
                [ -n "$(result)" ] && return 0
                grep -aqE "$STALL" "$CON" 2>/dev/null && return 1
                n=$((n - 1))
                sleep 1
        done
        return 1
}
t0=$(now_ms)
check_grep "vm start $NAME" "^$NAME: started" ctl vm start "$NAME"
if wait_result; then
        boot_ms=$(($(now_ms) - t0))
        pass "the nested appliance ran the user data in $((boot_ms / 1000)).$((boot_ms % 1000 / 100)) s ($(vmj .accel))"
else
        fail "the nested appliance ran the user data within $BOOT_TIMEOUT s"
        echo "# --- console (last 30 lines)"
        tail -n 30 "$CON" 2>/dev/null | tr -d '\r' | sed 's/^/#   /'
fi
R=$(result)
field() { printf '%s\n' "$R" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
check "write_files wrote the file with the token" "$TOKEN" field file
check "the users module created the user with the token as its GECOS" "$TOKEN" field user
check "the host name is the VM's name (the seed's local-hostname)" "$NAME" field host
check "cloud-init used the seed's instance-id" "${iid:-none}" field iid
check "cloud-init found the seed as NoCloud (cloud-id)" nocloud field ds
check "the guest's eth0 has its reservation" "$GIP/24" field ip
lease() { awk -v m="$GMAC" 'tolower($2) == m { print $3 }' "$STATE/dnsmasq.leases"; }
check "the lease comes from nestrouterd's dnsmasq on the guest bridge (its lease file)" "$GIP" lease
echo "# boot: vm start -> the result line ${boot_ms:-?} ms; the guest's uptime then: $(field up) s"
check_grep "the console shows no stall, lockup or panic" '^0$' sh -c "grep -acE '$STALL' '$CON'"
check_grep "vm stop $NAME --force" "^$NAME: " ctl vm stop "$NAME" --force
check "the image itself is unchanged (size, mtime)" "$image_before" image_stat
run "SIGTERM: the daemon exits" daemon_stop
elapsed
summary
