/* cloud-init's NoCloud seed for a VM (the files of a volume labelled "cidata"): meta-data with
 * an instance-id that changes whenever the user data, the network config or the name change (so
 * cloud-init in the guest runs its per-instance modules again), and the VM's name as its
 * hostname. Pure: the backend reads the files and writes the image. */
#pragma once

#include "core/config/config.h"

struct nr_ci_seed {
        char instance_id[64];      /* nr-NAME-0123456789abcdef */
        char meta_data[200];       /* instance-id: ...\nlocal-hostname: NAME\n */
};

/* user_data / network_config: the texts (network_config may be NULL: none). */
void cloud_init_seed(const char *name, const char *user_data, const char *network_config,
                     struct nr_ci_seed *out);
