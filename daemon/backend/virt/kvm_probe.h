/* Does KVM really work here? libvirt and QEMU only check that /dev/kvm opens, and advertise
 * KVM on hosts where a guest then hangs (nested virtualization without usable VT-x/EPT or
 * AMD-V/NPT, e.g. a PVM host). The probe runs a tiny real guest instead: a child process creates
 * a VM whose code starts in real mode, enters 64-bit long mode with paging by itself (what every
 * OS loader does), writes one byte to a port and halts. Only if that finishes within the timeout
 * is KVM used. Blocking for at most timeout_ms + 0.5 s: only the virt helper calls it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define KVM_PROBE_TIMEOUT_MS 2000

/* True when KVM works. `why` gets a one-line explanation either way. */
bool kvm_probe(const char *dev, unsigned timeout_ms, char *why, size_t whylen);

/* The same, remembered in cache_path (in the run dir: one probe per boot, not per start). */
bool kvm_probe_cached(const char *cache_path, const char *dev, unsigned timeout_ms, char *why,
                      size_t whylen);
