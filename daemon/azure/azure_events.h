/* Azure Scheduled Events: poll IMDS (never blocking the loop); for an event naming this VM, a
 * Freeze is acknowledged at once, a Reboot/Redeploy/Preempt/Terminate first shuts the guests
 * down (timeout min(azure.event_shutdown_timeout, NotBefore - now - 5 s)) and is acknowledged
 * (StartRequests) only after they are down or the timeout hit. With bgp:, the host is drained
 * until the next boot first and the guests stop once the withdraw has gone out. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct sd_event_source sd_event_source;
struct nr_daemon;

#define AZE_HANDLED_MAX 16

struct nr_aze {
        sd_event_source *timer, *deadline;
        bool busy;                 /* a GET or POST in flight */
        char handled[AZE_HANDLED_MAX][64]; /* acknowledged (or ignored) event ids, a ring */
        unsigned n_handled;
        char active[64];           /* the event whose guest shutdown is running, "" none */
        char active_type[16];
        int64_t not_before;        /* of the active event (Unix time; 0 none) */
        unsigned pending;          /* guest stop commands not answered yet */
        uint64_t polls, acks;
        char last[240];            /* the last thing done, for status */
};

void aze_kick(struct nr_daemon *d);
/* With bgp:, the guests' shutdown waits for the drain's withdraw (daemon_drain_wait). */
void aze_drained(struct nr_daemon *d);
void aze_close(struct nr_aze *e);
