/* NoCloud meta-data (see cloud_init.h). */
#include "core/render/cloud_init.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static uint64_t fnv64(uint64_t h, const char *s)
{
        for (; s && *s; s++)
                h = (h ^ (uint8_t)*s) * 1099511628211ull;
        return (h ^ 0xff) * 1099511628211ull; /* a separator: "ab","c" differs from "a","bc" */
}

void cloud_init_seed(const char *name, const char *user_data, const char *network_config,
                     struct nr_ci_seed *out)
{
        uint64_t h = 14695981039346656037ull;
        h = fnv64(fnv64(fnv64(h, name), user_data), network_config ? network_config : "");
        snprintf(out->instance_id, sizeof(out->instance_id), "nr-%.40s-%016" PRIx64, name, h);
        snprintf(out->meta_data, sizeof(out->meta_data), "instance-id: %s\nlocal-hostname: %s\n",
                 out->instance_id, name);
}
