/* The start-time resource check of the autostarted guests (see guest_resources.h). */
#include "core/model/guest_resources.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int guest_resources_check(const struct nr_config *cfg, uint64_t host_mem, unsigned host_cpus,
                          char *out, size_t out_len)
{
        uint64_t mem = 0;
        unsigned cpus = 0, n = 0;
        int warnings = 0;
        size_t len = 0;
        out[0] = '\0';
        for (size_t i = 0; i < cfg->n_vms; i++) {
                if (!cfg->vms[i].autostart)
                        continue;
                mem += cfg->vms[i].memory;
                cpus += cfg->vms[i].vcpus;
                n++;
        }
        uint64_t avail = host_mem > NR_HOST_RESERVE ? host_mem - NR_HOST_RESERVE : 0;
        if (n && mem > avail) {
                snprintf(out + len, out_len - len,
                         "%u autostarted guests have %" PRIu64 " MiB of memory; the host has %" PRIu64
                         " MiB, %" PRIu64 " MiB after %" PRIu64 " MiB for itself: they may not all "
                         "start, or swap\n",
                         n, mem >> 20, host_mem >> 20, avail >> 20, NR_HOST_RESERVE >> 20);
                len = strlen(out);
                warnings++;
        }
        if (n && host_cpus && cpus > host_cpus) {
                snprintf(out + len, out_len - len,
                         "%u autostarted guests have %u vCPUs on %u host CPUs: overcommitted, "
                         "they share the CPUs\n",
                         n, cpus, host_cpus);
                warnings++;
        }
        return warnings;
}
