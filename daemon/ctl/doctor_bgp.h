/* The BGP part of `nestrouterctl doctor` (bgp:): BIRD running, both sessions Established, the
 * prefixes advertised (or why not), deferred session settings. */
#pragma once

#include <stdbool.h>

#include "core/config/config.h"

struct dr_bgp_counts {
        unsigned fails, warns;
};

/* Prints its rows in the doctor's table and counts failures and warnings; nothing without
 * bgp:. */
void doctor_bgp(const struct nr_config *cfg, bool have_cfg, const char *run_dir,
                struct dr_bgp_counts *n);
