#!/bin/sh
# Nested guests for real: nestrouterd in the router namespace of a simulated Azure VNet with a
# private libvirtd next to it (libvirt-sandbox.sh: tini as subreaper, user = "root",
# stdio_handler = "file") and tiny TCG guests (mkguest.sh: Debian's cloud kernel + a busybox
# initramfs with the virtio modules and acpid, built once into build/guest/).
#   - the KVM probe says TCG here; host-model falls back to qemu64 with a note
#   - the vms: guests are defined and autostarted, get their reserved addresses from
#     nestrouter's dnsmasq and reach the Azure VM (and it reaches them)
#   - a vhdx disk is imported to a compressed qcow2 once, with progress in the log and status
#   - a changed definition of a running guest shows as pending, applies at its next start
#   - while libvirtd is stopped (SIGSTOP) and the virt helper hangs in an RPC, a deleted route is
#     still repaired within 1 s and status still answers
#   - SIGTERM to nestrouterd leaves the guests running; the restarted daemon does not restart them
#   - `nestrouterctl guests shutdown` shuts two guests down cleanly (ACPI: console marker, libvirt
#     reason "shutdown"), exit 0; a guest that ignores ACPI is destroyed after the timeout and
#     reported as forced, exit 1
# Needs root, `make all`, libvirt-daemon(-system), qemu-system-x86, qemu-utils, busybox-static,
# tini, and apt-get access to Debian for the first guest build. Prints ok/FAIL lines and
# `N passed, N failed`; everything it starts it stops by pid (trap). NR_VNET_ID (default dguests)
# names the VNet; KEEP=1 keeps the work dir; GUEST_DIR (build/guest) caches the guest.
# `local`: dash, bash and busybox ash have it; the repair check is eval'd
# shellcheck disable=SC3043,SC2016
set -u
NR_VNET_ID=${NR_VNET_ID:-dguests}
. "$(cd "$(dirname "$0")" && pwd)/daemon-lib.sh"
dl_init
GUEST_DIR=${GUEST_DIR:-$DL_ROOT/build/guest}

for t in libvirtd virsh qemu-system-x86_64 qemu-img tini; do
        command -v "$t" >/dev/null 2>&1 || { echo "$0: missing $t (make deps)" >&2; exit 2; }
done

dl_sandbox_trap  # the EXIT trap stops the private libvirtd, then the daemon and the VNet

t_start=$(now_ms)
if sh "$DL_HERE/mkguest.sh" "$GUEST_DIR" >"$W/mkguest.log" 2>&1; then
        pass "tiny guest ready in $GUEST_DIR ($(($(now_ms) - t_start)) ms; $(tail -n 1 "$W/mkguest.log" | cut -d' ' -f2-3))"
else
        sed 's/^/# /' "$W/mkguest.log"
        fail "tiny guest build (mkguest.sh)"
        summary
        exit 1
fi

dl_vnet_up
dl_sandbox_start
LVPID=$(sh "$DL_HERE/libvirt-sandbox.sh" pid "$SANDBOX")

# ---------------------------------------------------------------- configuration
G1_IP=10.0.2.71 G2_IP=10.0.2.72 G3_IP=10.0.2.73
mkdir -p "$W/import"
qemu-img create -q -f vhdx "$W/import/d4.vhdx" 64M
KARGS="console=ttyS0 quiet panic=-1 nrtest=wait nrtest.ping=$VM_IP"
# write_config G1_MEMORY
write_config() {
        {
                dl_guests_config_head "10.0.0.0/22, 172.16.0.0/22" 30
                cat <<EOF
  - {name: g1, kernel: $GUEST_DIR/vmlinuz, initrd: $GUEST_DIR/initrd.cpio.gz, cmdline: "$KARGS",
     memory: $1, mac: "52:54:00:00:07:01", ip: $G1_IP}
  - {name: g2, kernel: $GUEST_DIR/vmlinuz, initrd: $GUEST_DIR/initrd.cpio.gz, cmdline: "$KARGS",
     memory: 128MiB, mac: "52:54:00:00:07:02", ip: $G2_IP}
  - {name: g3, kernel: $GUEST_DIR/vmlinuz, initrd: $GUEST_DIR/initrd.cpio.gz,
     cmdline: "$KARGS nrtest.noacpi", memory: 128MiB, mac: "52:54:00:00:07:03", ip: $G3_IP,
     autostart: false}
  - {name: d4, disk: $W/import/d4.vhdx, memory: 64MiB, autostart: false}
EOF
        } >"$CFG"
}
write_config 128MiB
run "the configuration with four VMs checks" "$NRD" --check "$CFG"
CON=$STATE/console
gstate() { sj ".guests.vms[] | select(.name == \"$1\") | .state"; }
leased() { grep -aq "LEASE ip=$2/" "$CON/$1.log" 2>/dev/null; }
# the init prints the lease, then one PING-OK/PING-FAIL line per address it pings
pinged() { grep -aEq "PING-(OK|FAIL) $VM_IP" "$CON/$1.log" 2>/dev/null; }
both_leased() { leased g1 "$G1_IP" && leased g2 "$G2_IP" && pinged g1 && pinged g2; }

# sd_notify receiver (as in test-daemon-lifecycle.sh): the watchdog must go on while libvirtd hangs
if ! [ "$NOTIFY_RECV" -nt "$DL_HERE/notify-recv.c" ]; then
        mkdir -p "$DL_ROOT/build" &&
                gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$NOTIFY_RECV.tmp.$$" \
                        "$DL_HERE/notify-recv.c" && mv "$NOTIFY_RECV.tmp.$$" "$NOTIFY_RECV" ||
                { rm -f "$NOTIFY_RECV.tmp.$$"; echo "$0: cannot build $NOTIFY_RECV" >&2; exit 2; }
fi
NSOCK=$W/notify.sock
NLOG=$W/notify.log
bg "$NOTIFY_RECV" "$NSOCK" 300 >"$NLOG"
wait_for 50 test -S "$NSOCK" || fail "notify receiver listening on $NSOCK"
nmark() { wc -l <"$NLOG" | tr -d ' '; }
# watchdogs MARK: WATCHDOG=1 notifications from the daemon after line MARK
watchdogs() { awk -v m="$1" -v p="$DPID" 'NR > m && $2 == p && $3 == "WATCHDOG=1"' "$NLOG" | wc -l; }

t_start=$(now_ms)
run "nestrouterd starts in $RTR and converges" daemon_up NOTIFY_SOCKET="$NSOCK" WATCHDOG_USEC=2000000
if [ -z "$DPID" ] || ! ctl_up; then fail "daemon not running: nothing more to test"; summary; exit; fi
accel_known() { [ -n "$(sj .guests.accel)" ]; }
run "the KVM probe answered" wait_for 100 accel_known
check "status: guests run under TCG on this machine" tcg sj .guests.accel
check_grep "status: the probe's reason (a guest entering long mode hung, or no /dev/kvm)" \
        'KVM probe|/dev/kvm' sj .guests.accel_reason
check_grep "status (text): accel TCG" '^  accel +TCG: ' ctl status

# ---------------------------------------------------------------- boot, lease, traffic
if wait_for 900 both_leased; then
        pass "g1 and g2 autostarted and leased $G1_IP and $G2_IP from nestrouter's dnsmasq ($(($(now_ms) - t_start)) ms after the daemon started)"
else
        fail "g1 and g2 got their leases within 90 s"
        for g in g1 g2; do tail -n 5 "$CON/$g.log" 2>/dev/null | sed "s/^/# $g: /"; done
fi
check_grep "g1 pinged its gateway 10.0.2.1" 'PING-OK 10\.0\.2\.1' cat "$CON/g1.log"
check_grep "g1 reached the Azure VM $VM_IP (routed through NIC2, not NATed)" "PING-OK $VM_IP" \
        cat "$CON/g1.log"
check_grep "g2 reached the Azure VM $VM_IP" "PING-OK $VM_IP" cat "$CON/g2.log"
run "the Azure VM reaches g2 at $G2_IP" vnet ping vm "$G2_IP"
check_grep "nestrouterctl leases lists g1" "^52:54:00:00:07:01 +$G1_IP +" ctl leases
check "status: g1 running (booted)" "running booted" \
        sj '.guests.vms[] | select(.name == "g1") | "\(.state) \(.reason)"'
check "status: host-model under TCG gives qemu64" "qemu64" \
        sj '.guests.vms[] | select(.name == "g1") | .cpu'
check_grep "status: ... with a note" 'host-model needs KVM' \
        sj '.guests.vms[] | select(.name == "g1") | .cpu_note'
check_grep "libvirt runs g1 as type qemu with -cpu qemu64" "^<domain type='qemu'" \
        VIRSH dumpxml g1
check "g3 (autostart: false) is defined and stays off" "shut off" gstate g3
check_grep "vm list" '^g1 +running \(booted\) +no +yes +bios +qemu64$' ctl vm list
check_grep "vm console g1 shows its log" 'GUEST\[.*LEASE' ctl vm console g1

# ---------------------------------------------------------------- disk import
imported() { [ "$(sj '.guests.vms[] | select(.name == "d4") | .import.state')" = "done" ]; }
run "d4.vhdx imported" wait_for 100 imported
check_grep "... to a qcow2 in the state dir" '"format": "qcow2"' \
        qemu-img info --output=json "$STATE/disks/d4.qcow2"
check "... recording its source" "$W/import/d4.vhdx" cat "$STATE/disks/d4.qcow2.source"
check "status: import 100%" "100" sj '.guests.vms[] | select(.name == "d4") | .import.percent'
check_grep "the log shows the import's progress" 'd4: importing .*d4\.vhdx: 100%' cat "$W/daemon.log"
check_grep "d4 is defined with the imported disk" "$STATE/disks/d4.qcow2" VIRSH dumpxml d4

# ---------------------------------------------------------------- a changed definition
write_config 160MiB
check_grep "reload with more memory for g1" 'configuration loaded' ctl reload
g1_pending() { [ "$(sj '.guests.vms[] | select(.name == "g1") | .pending')" = true ]; }
run "status: g1's definition change is pending (it runs the old one)" wait_for 50 g1_pending
check_grep "libvirt keeps the new definition for g1's next start" "<memory unit='KiB'>163840<" \
        VIRSH dumpxml --inactive g1
check_grep "g1 still runs with 128 MiB" "<memory unit='KiB'>131072<" VIRSH dumpxml g1
check_grep "status (text) says so" '^  g1 .*definition change pending' ctl status
check "g2 has nothing pending" false sj '.guests.vms[] | select(.name == "g2") | .pending'

# ---------------------------------------------------------------- libvirtd stopped
# The virt helper is made to hang in an RPC (vm start g1 while libvirtd is SIGSTOPped); the
# daemon must go on repairing routes and answering status.
rt() { R ip -4 route show "$@" 2>/dev/null; }
kill -STOP "$LVPID"
stop_mark=$(nmark)
stop_ms=$(now_ms)
bg timeout 60 "$NRCTL" --run-dir "$RUN" vm start g1 >"$W/vm-start.out" 2>&1
vm_start_pid=$BGPID
# (normally in 'start g1'; a resync pass that happened to be running would hang just the same)
helper_busy() { [ -n "$(sj .guests.libvirt.busy)" ]; }
run "libvirtd stopped (SIGSTOP); the helper hangs in an RPC" wait_for 50 helper_busy
t0=$(now_ms)
ctl status >/dev/null
st_ms=$(($(now_ms) - t0))
expect "status answers in ${st_ms} ms while libvirtd is stopped" "$st_ms" -lt 1000
check_grep "status shows the helper waiting for libvirt" '^  libvirt busy: ' ctl status
R ip route del 172.16.0.0/22 proto 78
if ms=$(poll_ms 1000 eval '[ "$(rt 172.16.0.0/22)" = "172.16.0.0/22 via 10.0.1.1 dev eth1 proto 78 " ]'); then
        pass "a deleted route is repaired in $ms ms while libvirtd is stopped"
else
        fail "a deleted route is repaired within 1 s while libvirtd is stopped (${ms} ms)"
fi
# the watchdog (WATCHDOG_USEC 2 s) went on meanwhile: sd-event pings between 1/2 and 3/4 of it,
# every 1 to 1.5 s, so 3.5 s hold at least two pings however they fall (2.5 s did not always)
while [ $(($(now_ms) - stop_ms)) -lt 3500 ]; do sleep 0.1; done
n=$(watchdogs "$stop_mark")
expect "$n WATCHDOG=1 notifications in the $(($(now_ms) - stop_ms)) ms libvirtd was stopped" "$n" -ge 2
kill -CONT "$LVPID"
if dl_reap "$vm_start_pid" 300 && [ "$DL_RC" = 0 ]; then
        pass "libvirtd continued: the pending 'vm start g1' answers: $(cat "$W/vm-start.out")"
else
        fail "vm start g1 after SIGCONT (exit ${DL_RC:-?}: $(cat "$W/vm-start.out"))"
fi

# ---------------------------------------------------------------- daemon restart
g1_id=$(VIRSH domid g1)
run "SIGTERM: the daemon exits" daemon_stop
check "... and leaves g1 running" running VIRSH domstate g1
check "... and g2" running VIRSH domstate g2
run "restart: converged" daemon_up
g1_seen() { [ "$(gstate g1)" = running ]; }
run "the new daemon sees g1 running" wait_for 100 g1_seen
check "g1 was not restarted (same domain id $g1_id)" "$g1_id" VIRSH domid g1
check "g1 booted once" 1 grep -ac 'init started' "$CON/g1.log"
check "status: g1's change is still pending" true \
        sj '.guests.vms[] | select(.name == "g1") | .pending'

# ---------------------------------------------------------------- host shutdown: clean
t0=$(now_ms)
"$NRCTL" --config "$CFG" --run-dir "$RUN" guests shutdown --timeout 30 >"$W/shutdown1.out" 2>&1
rc=$?
sed 's/^/# /' "$W/shutdown1.out"
expect "guests shutdown: exit 0 ($(($(now_ms) - t0)) ms)" "$rc" = 0
check_grep "... g1 clean" '^g1: clean, powered off' cat "$W/shutdown1.out"
check_grep "... g2 clean" '^g2: clean, powered off' cat "$W/shutdown1.out"
check_grep "... summary" '^2 guests: 2 clean, 0 forced$' cat "$W/shutdown1.out"
for g in g1 g2; do
        check_grep "$g ran its ACPI handler (console marker)" 'ACPI power button -> clean shutdown' \
                cat "$CON/$g.log"
        check "libvirt: $g shut off, reason shutdown" "shut off (shutdown)" VIRSH domstate --reason "$g"
        check_grep "QEMU log of $g: reason=shutdown" 'reason=shutdown' \
                tail -n 3 "$SANDBOX/var/log/libvirt/qemu/$g.log"
done
sleep 2
check "the daemon did not start g1 again" "shut off" gstate g1
check "g1's change is not pending while it is off" false \
        sj '.guests.vms[] | select(.name == "g1") | .pending'

# ---------------------------------------------------------------- host shutdown: forced
check_grep "vm start g1 (the new definition)" '^g1: started' ctl vm start g1
check_grep "vm start g3 (ignores ACPI)" '^g3: started' ctl vm start g3
check_grep "g1 now runs with 160 MiB" "<memory unit='KiB'>163840<" VIRSH dumpxml g1
# the console log is appended to: g1's second boot is after its second "init started"
g1_again() { awk '/init started/ { n++ } n == 2 && /LEASE/ { f = 1 } END { exit !f }' "$CON/g1.log"; }
g3_leased() { leased g3 "$G3_IP" && g1_again; }
run "g3 and the restarted g1 lease" wait_for 900 g3_leased
check "nothing is pending for g1 now" false sj '.guests.vms[] | select(.name == "g1") | .pending'
t0=$(now_ms)
"$NRCTL" --config "$CFG" --run-dir "$RUN" guests shutdown --timeout 5 >"$W/shutdown2.out" 2>&1
rc=$?
took=$(($(now_ms) - t0))
sed 's/^/# /' "$W/shutdown2.out"
expect "guests shutdown with a guest ignoring ACPI: exit 1" "$rc" = 1
expect "... after the 5 s timeout (took $took ms)" "$took" -ge 5000 -a "$took" -lt 15000
check_grep "... g3 forced" '^g3: forced, did not power off within 5 s; destroyed' cat "$W/shutdown2.out"
check_grep "... g1 clean" '^g1: clean' cat "$W/shutdown2.out"
check_grep "... summary" '^2 guests: 1 clean, 1 forced' cat "$W/shutdown2.out"
check "libvirt: g3 shut off, reason destroyed" "shut off (destroyed)" VIRSH domstate --reason g3
check "g3 printed no clean-shutdown marker" 0 grep -ac 'clean shutdown' "$CON/g3.log"
check_grep "guests shutdown with no guest running says so (exit 0)" \
        '^no nestrouter guest is running$' \
        "$NRCTL" --config "$CFG" --run-dir "$RUN" guests shutdown --timeout 5

run "SIGTERM: the daemon exits" daemon_stop
expect "... with status 0" "${DL_RC:-x}" = 0
elapsed
summary
