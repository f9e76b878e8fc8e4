/* `nestrouterctl drain` / `undrain`: withdraw this host's BGP advertisement on purpose (before
 * maintenance, a host shutdown, an Azure Scheduled Event) and bring it back. The switch is kept
 * in the state dir, so a drained host stays drained across restarts of the daemon — or, for a
 * host shutdown or a Scheduled Event (`drain --until-reboot`), in the run dir, which the next
 * boot starts without. The next pass, scheduled at once, reconfigures BIRD. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "lib/log.h"

int daemon_drain(struct nr_daemon *d, bool drain, bool until_reboot, char **msg)
{
        *msg = NULL;
        if (!d->cfg || !d->cfg->bgp.present) {
                if (asprintf(msg, "%s: no bgp: section; nothing is advertised\n",
                             d->o.config) < 0)
                        *msg = NULL;
                return -ENOENT;
        }
        bool was = bgpb_is_drained(&d->bgp);
        int r = bgpb_set_drained(&d->bgp, drain, until_reboot);
        if (r < 0) {
                if (asprintf(msg, "%s: %s\n", until_reboot ? d->bgp.drain_boot : d->bgp.drain,
                             strerror(-r)) < 0)
                        *msg = NULL;
                return r;
        }
        bool now = bgpb_is_drained(&d->bgp);
        if (was != now)
                log_obj(LOG_PRI_NOTICE, "bgp", "bird", "%s",
                        now ? until_reboot ? "drained until the next boot: withdrawing the "
                                             "advertised prefixes"
                                           : "drained: withdrawing the advertised prefixes"
                            : "undrained: advertising again while healthy");
        daemon_schedule(d, 0);
        if (asprintf(msg, "%s\n", now == was ? (now ? "already drained" : "not drained")
                                  : now ? "drained: the prefixes are being withdrawn"
                                        : "undrained: advertised again while healthy") < 0)
                *msg = NULL;
        return 0;
}
