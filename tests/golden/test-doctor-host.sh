#!/bin/sh
# `nestrouterctl doctor`'s host rows (daemon/ctl/doctor_host.c: the image's build, /dev/kvm, CPU
# virtualisation, nested KVM, Secure Boot, vTPM, security type, with their fix: lines), byte for byte
# (tests/golden/doctor/host.out), for VMs made of files under NR_DOCTOR_ROOT:
#   gen1-standard   BIOS, no TPM, VT-x with EPT, nested KVM, /dev/kvm: all ok; the appliance
#                   image's build record (/usr/share/nestrouter-build): the image row
#   gen2-standard   UEFI with Secure Boot off, no TPM, KVM: ok, Standard
#   gen2-unknown    UEFI without a SecureBoot variable (no efivarfs): state unknown
#   tl-kvm          UEFI, Secure Boot on, a TPM 2.0, KVM: Trusted Launch, ok
#   tl-no-kvm       the same without /dev/kvm or virtualisation flags: Trusted Launch and no
#                   /dev/kvm warns, with the hint (check Microsoft's pages, or Standard)
#   tl-kvm-unusable /dev/kvm there but not openable; AMD-V without NPT
# The rest of the doctor (daemon, IMDS, wireserver) fails here and is not compared.
set -eu
. tests/golden/lib.sh
ctl=$(pwd)/build/nestrouterctl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
EFIVAR=sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c

# vm NAME FEATURE...: a root with these features
vm() {
        r=$tmp/$1
        shift
        mkdir -p "$r/proc" "$r/dev" "$r/sys"
        flags="fpu lm"
        for f in "$@"; do
                case $f in
                efi) mkdir -p "$r/sys/firmware/efi" ;;
                sb-on) mkdir -p "$(dirname "$r/$EFIVAR")" && printf '\006\000\000\000\001' >"$r/$EFIVAR" ;;
                sb-off) mkdir -p "$(dirname "$r/$EFIVAR")" && printf '\006\000\000\000\000' >"$r/$EFIVAR" ;;
                tpm2) mkdir -p "$r/sys/class/tpm/tpm0" && echo 2 >"$r/sys/class/tpm/tpm0/tpm_version_major" &&
                        : >"$r/dev/tpm0" ;;
                kvm) : >"$r/dev/kvm" ;;
                kvm-dir) mkdir -p "$r/dev/kvm" ;;
                vmx) flags="$flags vmx ept" ;;
                svm) flags="$flags svm" ;;
                image) mkdir -p "$r/usr/share" && printf '%s\n' build_id=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9 \
                        commit=c2597ca2aaaa 'package=nestrouter 0.1.0~git229.gc2597ca2' \
                        built=2026-12-06T18:00:00Z rootfs=rootfs-0123456789abcdef kernel=6.1.0-28-cloud-amd64 \
                        >"$r/usr/share/nestrouter-build" ;;
                nested) mkdir -p "$r/sys/module/kvm_intel/parameters" &&
                        echo Y >"$r/sys/module/kvm_intel/parameters/nested" ;;
                esac
        done
        printf 'processor\t: 0\nflags\t\t: %s\n\n' "$flags" >"$r/proc/cpuinfo"
}
vm gen1-standard vmx nested kvm image
vm gen2-standard efi sb-off vmx nested kvm
vm gen2-unknown efi vmx nested kvm
vm tl-kvm efi sb-on tpm2 vmx nested kvm
vm tl-no-kvm efi sb-on tpm2
vm tl-kvm-unusable efi sb-on tpm2 svm kvm-dir

for name in gen1-standard gen2-standard gen2-unknown tl-kvm tl-no-kvm tl-kvm-unusable; do
        echo "# $name"
        NR_DOCTOR_ROOT=$tmp/$name NR_IMDS_ADDR=127.0.0.1 NR_WIRESERVER_ADDR=127.0.0.1 \
                "$ctl" --config /nonexistent --run-dir "$tmp" doctor --timeout 100 2>/dev/null |
                sed -n -E '/^(image|\/dev\/kvm) /,/^[0-9]* failed/p' | sed '$d'
done >"$tmp/host.out"
golden_cmp tests/golden/doctor/host.out "$tmp/host.out" || rc=1
exit $rc
