/* The ownership record: what nestrouterd made that the kernel cannot mark as ours (the bridge,
 * the ports it enslaved, the addresses it added), kept in the state dir so that a daemon
 * started with a changed file removes what it made and no longer wants, and --teardown knows
 * what to remove. Routes and rules need no record: they carry our rtm_protocol. */
#pragma once

#include <stddef.h>

#include "core/model/model.h"

/* Text of the record for the desired state of the last pass (adopted ports are not ours and are
 * left out). NULL on allocation failure. */
char *owned_render(const struct nr_desired *d);
/* A desired state holding only the recorded links and addresses (and the route protocol):
 * what the planner takes as `prev`. Unknown or malformed lines are skipped, so a record from a
 * newer version is still read for what it shares. */
int owned_parse(const char *text, size_t len, struct nr_desired *out);
