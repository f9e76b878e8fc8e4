/* `nestrouterctl drain` / `undrain`: withdraw this host's BGP advertisement on purpose (before
 * maintenance, a host shutdown, an Azure Scheduled Event) and bring it back. The switch is kept
 * in the state dir, so a drained host stays drained across restarts of the daemon; the next
 * pass, scheduled at once, reconfigures BIRD. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

int daemon_drain(struct nr_daemon *d, bool drain, char **msg)
{
        *msg = NULL;
        if (!d->cfg || !d->cfg->bgp.present) {
                if (asprintf(msg, "%s: no bgp: section; nothing is advertised\n",
                             d->o.config) < 0)
                        *msg = NULL;
                return -ENOENT;
        }
        bool was = d->bgp.drained;
        int r = bgpb_set_drained(&d->bgp, drain);
        if (r < 0) {
                if (asprintf(msg, "%s: %s\n", d->bgp.drain, strerror(-r)) < 0)
                        *msg = NULL;
                return r;
        }
        if (was != drain)
                log_obj(LOG_PRI_NOTICE, "bgp", "bird", "%s by nestrouterctl",
                        drain ? "drained: withdrawing the advertised prefixes"
                              : "undrained: advertising again while healthy");
        daemon_schedule(d, 0);
        if (asprintf(msg, "%s\n", drain == was ? (drain ? "already drained" : "not drained")
                                  : drain ? "drained: the prefixes are being withdrawn"
                                          : "undrained: advertised again while healthy") < 0)
                *msg = NULL;
        return 0;
}
