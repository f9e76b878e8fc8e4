/* The host part of `nestrouterctl doctor`: what this VM can do for nested guests (/dev/kvm,
 * the CPU's virtualisation flags, nested KVM, the daemon's KVM probe) and what Azure gave it
 * (Secure Boot, a vTPM, hence its security type). */
#pragma once

#include <stdbool.h>

struct dr_host_counts {
        unsigned fails, warns;
};

/* The first byte of a one-line file (a sysctl, a module parameter): 'Y'/'N' as 1/0, else its
 * number; -1 when it cannot be read. */
int doctor_read_flag(const char *path);

/* Prints its rows in the doctor's table and counts failures and warnings. want_kvm: the
 * configuration says libvirt.accel: kvm (a missing KVM is then a failure, not a warning).
 * accel and accel_reason: the daemon's KVM probe ("" when it did not say). The files are read
 * under the directory NR_DOCTOR_ROOT names, if set (tests), else under /. */
void doctor_host(bool want_kvm, const char *accel, const char *accel_reason,
                 struct dr_host_counts *n);
