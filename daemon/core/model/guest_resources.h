/* Do the autostarted guests fit the host? Memory is compared with the host's RAM minus what the
 * router itself keeps, vCPUs with the host's CPUs. A warning, never a refusal: guests rarely use
 * all they are given, and TCG or KVM both run overcommitted guests (slowly). Pure. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/config/config.h"

/* What the host keeps for itself (the router, dnsmasq, libvirtd, QEMU's own overhead). */
#define NR_HOST_RESERVE ((uint64_t)512 << 20)

/* Writes the warnings (one line each, "" when none) and returns how many there are. */
int guest_resources_check(const struct nr_config *cfg, uint64_t host_mem, unsigned host_cpus,
                          char *out, size_t out_len);
