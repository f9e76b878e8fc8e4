#!/bin/sh
# `make test`: every suite, one closing "N passed, N failed" line.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
MAKE=${MAKE:-make}

run "build (-Werror)" $MAKE --no-print-directory all
for t in $($MAKE --no-print-directory -s list-unit); do
        run "build: $t" $MAKE --no-print-directory -s "$t"
        run "unit: $(basename "$t")" "$t"
done
run "build: asan nestrouterd" $MAKE --no-print-directory -s build/asan/nestrouterd
for t in tests/golden/test-*.sh; do
        run "golden: $(basename "$t" .sh)" sh "$t" build/asan/nestrouterd
done
run "example configs check OK" build/nestrouterd --check configs/*.yaml
run "fuzz: corpus replay" $MAKE --no-print-directory -s fuzz-replay
run "docs: the layout tables of README.md and docs/architecture.md match the tree" sh tests/docs/test-layout.sh
run "docs: the key tables of docs/config.md match the config schema (type, required, default)" sh tests/docs/test-config-keys.sh
run "deb: man pages render without warnings, match --help and docs/config.md" sh tests/deb/test-man.sh
run "deb: make deb, lintian; install, upgrade, remove, purge in a Debian 12 root" sh tests/deb/test-deb.sh
run "netns: simulated Azure VNet self-test" sh tests/netns/test-vnet-selftest.sh
run "netns: nft delta against the kernel" sh tests/netns/test-nftdiff-kernel.sh build/nestrouterd
run "netns: nestrouterd in the simulated VNet (traffic, drift, lifecycle, hostile files/clients/guests, commit-confirm, isolation, metrics)" sh tests/netns/test-daemon.sh
run "netns: nested guests through libvirt (TCG)" sh tests/netns/test-guests.sh
run "netns: guest firmware: UEFI, Secure Boot (signed shim chain), TPM, Windows profile, ISO install (TCG)" sh tests/netns/test-guests-fw.sh
run "netns: linked clones, vm reset, checkpoints, cloud-init seed (TCG)" sh tests/netns/test-guests-clones.sh
run "netns: Azure IMDS (roles by MAC, VF, doctor faults, Scheduled Events)" sh tests/netns/test-azure-imds.sh
run "netns: Scheduled Events shut real guests down before the ack (TCG)" sh tests/netns/test-azure-events-guests.sh
run "netns: Route Server: three hosts over BGP (BIRD), no route table; drain, health, restart, reload" sh tests/netns/test-bgp.sh
# The appliance image: built from this tree and booted (BIOS and UEFI) only with IMAGE=1; its
# output (boot times, its own N passed line) is shown. A skip is not a pass.
if [ "${IMAGE:-0}" = 1 ]; then
        if $MAKE --no-print-directory test-image; then
                pass "image: build, boot with BIOS and UEFI, cloud-init, READY, guest traffic; the image as a nested guest reads its cloud_init: seed"
        else
                fail "image: build, boot with BIOS and UEFI, cloud-init, READY, guest traffic; the image as a nested guest reads its cloud_init: seed"
        fi
else
        echo "image tests: SKIPPED (run make test IMAGE=1)"
fi
summary
