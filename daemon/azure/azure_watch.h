/* The daemon's view of Azure IMDS: the network document (which NIC is which uplink, for
 * `match: {azure: ...}`) polled on a timer, never blocking the loop. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/azure/imds.h"

typedef struct sd_event_source sd_event_source;
struct nr_daemon;

struct nr_azw {
        sd_event_source *timer;
        bool busy;                 /* a network request is in flight */
        bool have_net;             /* net/local hold the last good document */
        struct imds_network net;
        uint32_t local;            /* our source address towards IMDS for that document */
        uint64_t fetches, failures;
        char last_error[160];
};

/* Does this config need IMDS at all? */
bool azw_wanted(const struct nr_config *cfg);
/* Start (or restart after a reload) polling when the config wants it. */
void azw_kick(struct nr_daemon *d);
/* Roles for the current config from the last document (all unknown without one). */
void azw_roles(const struct nr_daemon *d, struct imds_roles *out);
void azw_close(struct nr_azw *w);
