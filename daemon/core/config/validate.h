/* Cross-field checks on a parsed config: overlaps, ranges, duplicates, names that must resolve.
 * Errors and warnings go to diags at the position of the key they are about. Resolves
 * port_forwards[].to names into addresses as a side effect. */
#pragma once

#include "core/config/config.h"
#include "core/config/diag.h"

/* Returns 0 when no error was found (warnings allowed), -EINVAL otherwise. */
int cfg_validate(struct nr_config *cfg, struct nr_diags *diags);

/* bgp: and the Route Server keys of azure: (validate_bgp.c), called by cfg_validate. */
void cfg_validate_bgp(struct nr_config *cfg, struct nr_diags *diags);

/* Parse + validate in one step, as every entry point wants it. */
/* cfg_parse + cfg_validate on text already read (the daemon keeps the accepted text); the key
 * positions are dropped afterwards (cfg->pos empty). */
int cfg_check_text(const char *file, const char *text, size_t len, struct nr_config *cfg,
                   struct nr_diags *diags);
int cfg_load_checked(const char *file, struct nr_config *cfg, struct nr_diags *diags);
