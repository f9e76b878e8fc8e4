#!/bin/sh
# Scheduled Events with a real guest: nestrouterd in a simulated Azure VNet with a private
# libvirtd (as test-guests.sh) runs one tiny TCG guest; IMDS (imds-responder) announces a Reboot
# for this VM; the daemon shuts the guest down cleanly (ACPI) and only then acknowledges the
# event, and does not start the guest again. A second Reboot, 15 s ahead, while a guest that
# ignores ACPI runs: the timeout is cut to NotBefore - now - 5 s, the guest is destroyed when it
# runs out, and the event is acknowledged then, before NotBefore. `doctor` shows the daemon's
# KVM probe.
# Needs root, `make all`, libvirt-daemon(-system), qemu-system-x86, busybox-static, tini and the
# guest of mkguest.sh (built once into build/guest/). Prints ok/FAIL lines and
# `N passed, N failed`; cleans up on exit. NR_VNET_ID (default devguest); KEEP=1 keeps the work dir.
# shellcheck disable=SC3043,SC3013,SC2015
set -u
NR_VNET_ID=${NR_VNET_ID:-devguest}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
dl_init
GUEST_DIR=${GUEST_DIR:-$DL_ROOT/build/guest}
for t in libvirtd virsh qemu-system-x86_64 tini gcc; do
        command -v "$t" >/dev/null 2>&1 || { echo "$0: missing $t (make deps)" >&2; exit 2; }
done
dl_sandbox_trap  # the EXIT trap stops the private libvirtd, then the daemon and the VNet

RESPONDER=$DL_ROOT/build/imds-responder
if ! [ "$RESPONDER" -nt "$DL_HERE/imds-responder.c" ]; then
        mkdir -p "$DL_ROOT/build" &&
                gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$RESPONDER.tmp.$$" \
                        "$DL_HERE/imds-responder.c" && mv "$RESPONDER.tmp.$$" "$RESPONDER" ||
                { rm -f "$RESPONDER.tmp.$$"; echo "$0: cannot build $RESPONDER" >&2; exit 2; }
fi
cp "$RESPONDER" "$W/bin/imds-responder" || exit 2

if sh "$DL_HERE/mkguest.sh" "$GUEST_DIR" >"$W/mkguest.log" 2>&1; then
        pass "tiny guest ready in $GUEST_DIR"
else
        sed 's/^/# /' "$W/mkguest.log"; fail "tiny guest build (mkguest.sh)"; summary; exit 1
fi
dl_vnet_up
dl_sandbox_start

# IMDS: the responder (takes POSTs) in place of busybox httpd, and the route to it through NIC1
# that Azure's DHCP (option 121) would give
EVDOC=$VN_DIR/www/imds/metadata/scheduledevents
ACKS=$W/acks
: >"$ACKS"
echo '{"DocumentIncarnation":1,"Events":[]}' >"$EVDOC"
run "IMDS responder" vnet kill fab imds
run "... started" vnet spawn fab imds "$W/bin/imds-responder" 169.254.169.254 "$VN_DIR/www/imds" "$ACKS"

KARGS="console=ttyS0 quiet panic=-1 nrtest=wait nrtest.ping=$VM_IP"
{
        dl_guests_config_head "10.0.0.0/22, 172.16.0.0/22" 30
        cat <<CFGEOF
  - {name: g1, kernel: $GUEST_DIR/vmlinuz, initrd: $GUEST_DIR/initrd.cpio.gz, cmdline: "$KARGS",
     memory: 128MiB, mac: "52:54:00:00:07:01", ip: 10.0.2.71}
  - {name: g3, kernel: $GUEST_DIR/vmlinuz, initrd: $GUEST_DIR/initrd.cpio.gz,
     cmdline: "$KARGS nrtest.noacpi", memory: 128MiB, mac: "52:54:00:00:07:03", ip: 10.0.2.73,
     autostart: false}
azure:
  vm_name: router
  event_shutdown_timeout: 60s
CFGEOF
} >"$CFG"
CON=$STATE/console
gstate() { sj ".guests.vms[] | select(.name == \"$1\") | .state"; }
leased() { grep -aq "LEASE ip=10.0.2.71/" "$CON/g1.log" 2>/dev/null; }
acked() { grep -q "\"EventId\":\"$1\"" "$ACKS"; }

run "nestrouterd converges" daemon_up NR_IMDS_EVENTS_SEC=1
if [ -z "$DPID" ] || ! ctl_up; then fail "daemon not running"; summary; exit; fi
run "route to IMDS via NIC1 (what Azure's DHCP option 121 gives)" \
        R ip route replace 169.254.169.254/32 via 10.0.0.1 dev eth0
run "g1 autostarted and leased its address" wait_for 900 leased
check "status: g1 running" running gstate g1
R timeout 30 "$NRCTL" --run-dir "$RUN" --config "$CFG" doctor --timeout 1500 >"$W/doctor.out" 2>&1
check_grep "doctor reports the daemon's KVM probe (TCG here) as a warning" \
        "^KVM probe +(WARN +nestrouterd's probe: tcg|ok +nestrouterd's probe: kvm)" cat "$W/doctor.out"

nb=$(LC_ALL=C date -u -d "+90 sec" '+%a, %d %b %Y %H:%M:%S GMT')
printf '{"DocumentIncarnation":2,"Events":[{"EventId":"RB-1","EventStatus":"Scheduled","EventType":"Reboot","ResourceType":"VirtualMachine","Resources":["router"],"NotBefore":"%s","Description":"test","EventSource":"Platform","DurationInSeconds":-1}]}\n' \
        "$nb" >"$EVDOC.tmp" && mv "$EVDOC.tmp" "$EVDOC"
t0=$(now_ms)
# watch: the moment the acknowledgement arrives, libvirt must already report g1 shut off
ack_state=""
i=0
while [ $i -lt 900 ] && ! acked RB-1; do sleep 0.1; i=$((i + 1)); done
acked RB-1 && ack_state=$(VIRSH domstate --reason g1)
expect "Reboot acknowledged ($(($(now_ms) - t0)) ms)" -n "$ack_state"
check "... g1 was already shut off (reason shutdown) when the acknowledgement came" \
        "shut off (shutdown)" echo "$ack_state"
check_grep "g1 ran its ACPI handler (clean shutdown)" 'ACPI power button -> clean shutdown' \
        cat "$CON/g1.log"
check_grep "daemon log: the shutdown with timeout min(60 s, NotBefore - now - 5 s)" \
        'scheduled Reboot \(event RB-1\): shutting the guests down, timeout 60 s' cat "$W/daemon.log"
check_grep "daemon log: acknowledged after the guests were down" \
        'event RB-1 acknowledged: guests are down' cat "$W/daemon.log"
sleep 3
check "the daemon did not start g1 again (starts held)" "shut off" gstate g1
check "acknowledged once" 1 sh -c "grep -c RB-1 '$ACKS'"

# ---------------------------------------------------------------- a guest that ignores ACPI
check_grep "vm start g3 (ignores ACPI; starts by hand still work)" '^g3: started' ctl vm start g3
g3_up() { grep -aq "LEASE ip=10.0.2.73/" "$CON/g3.log" 2>/dev/null; }
run "g3 booted" wait_for 900 g3_up
nb_s=$(($(date +%s) + 15))
nb=$(LC_ALL=C date -u -d "@$nb_s" '+%a, %d %b %Y %H:%M:%S GMT')
printf '{"DocumentIncarnation":3,"Events":[{"EventId":"RB-2","EventStatus":"Scheduled","EventType":"Reboot","ResourceType":"VirtualMachine","Resources":["router"],"NotBefore":"%s","Description":"test","EventSource":"Platform","DurationInSeconds":-1}]}\n' \
        "$nb" >"$EVDOC.tmp" && mv "$EVDOC.tmp" "$EVDOC"
t0=$(now_ms)
i=0
while [ $i -lt 300 ] && ! acked RB-2; do sleep 0.1; i=$((i + 1)); done
t1=$(now_ms)
ack_s=$(date +%s)
expect "Reboot 2 acknowledged ($((t1 - t0)) ms after it appeared)" -n "$(grep RB-2 "$ACKS")"
check_grep "... the timeout was cut to NotBefore - now - 5 s (about 10 s)" \
        'scheduled Reboot \(event RB-2\): shutting the guests down, timeout (8|9|10|11) s' cat "$W/daemon.log"
expect "... acknowledged only after the timeout ran (>= 7 s: $((t1 - t0)) ms)" $((t1 - t0)) -ge 7000
expect "... and before NotBefore ($ack_s < $nb_s)" "$ack_s" -lt "$nb_s"
check "g3 was destroyed at the timeout" "shut off (destroyed)" VIRSH domstate --reason g3
check_grep "daemon log: g3 forced" 'imds: g3: forced' cat "$W/daemon.log"
run "SIGTERM: the daemon exits" daemon_stop
elapsed
summary
