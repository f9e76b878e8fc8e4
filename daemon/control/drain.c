/* `nestrouterctl drain` / `undrain`: withdraw this host's BGP advertisement on purpose (before
 * maintenance, a host shutdown, an Azure Scheduled Event) and bring it back. The switch is kept
 * in the state dir, so a drained host stays drained across restarts of the daemon — or, for a
 * host shutdown or a Scheduled Event (`drain --until-reboot`), in the run dir, which the next
 * boot starts without. The next pass, scheduled at once, reconfigures BIRD; the drain is
 * answered (and a Scheduled Event's guest shutdown begins) only once BIRD has sent the
 * withdraw, so that "drained" means the route is on its way out of the VNet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "daemon.h"
#include "lib/log.h"

/* BIRD is asked every 50 ms, for 3 s at most (it withdraws in milliseconds: a longer wait means
 * it is stuck, and maintenance must not wait on it). Route Server gets 1 s after a withdraw on
 * the shutdown paths: BGP has no acknowledgement, and Azure reprograms the NICs after it. */
#define NR_DRAIN_POLL_USEC 50000ull
#define NR_DRAIN_MAX_USEC 3000000ull
#define NR_DRAIN_SETTLE_USEC 1000000ull

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
                log_obj(LOG_NO_LIMIT | LOG_PRI_NOTICE, "bgp", "bird", "%s",
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

static void drainw_answer(struct nr_drainw *w, int code, const char *msg)
{
        char head[16];
        int hl = snprintf(head, sizeof(head), "exit %d\n", code);
        for (unsigned i = 0; i < w->n_fds; i++) {
                /* a few bytes into an empty socket: never blocks; a client gone is no matter */
                if (send(w->fds[i], head, (size_t)hl, MSG_NOSIGNAL | MSG_DONTWAIT) == hl)
                        send(w->fds[i], msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
                close(w->fds[i]);
        }
        w->n_fds = 0;
}

static void drainw_finish(struct nr_daemon *d, int code, const char *msg)
{
        struct nr_drainw *w = &d->drainw;
        bool guests = w->guests_next;
        drainw_answer(w, code, msg);
        w->timer = sd_event_source_disable_unref(w->timer);
        w->guests_next = w->settle = w->had_routes = false;
        w->withdrawn_at = 0;
        if (guests)
                aze_drained(d);
}

static int drainw_tick(sd_event_source *s, uint64_t now, void *userdata)
{
        struct nr_daemon *d = userdata;
        struct nr_drainw *w = &d->drainw;
        unsigned exported = 0;
        char msg[200];
        (void)s;
        if (w->withdrawn_at) { /* the settle pause is over */
                drainw_finish(d, 0, "drained: withdrawn, and Route Server had 1 s to act on it\n");
                return 0;
        }
        if (!bgpb_is_drained(&d->bgp)) {
                drainw_finish(d, 1, "undrained before the withdraw completed\n");
                return 0;
        }
        int r = bgpb_withdrawn(&d->bgp, &exported);
        unsigned ms = (unsigned)((now - w->t0) / 1000);
        if (r > 0) {
                log_obj(LOG_NO_LIMIT | LOG_PRI_NOTICE, "bgp", "bird", "drained: %s",
                        w->had_routes ? "the withdraw went out to every session"
                                      : "nothing was advertised");
                if (w->had_routes && w->settle) {
                        w->withdrawn_at = now;
                        sd_event_source_set_time(w->timer, now + NR_DRAIN_SETTLE_USEC);
                        return 0;
                }
                snprintf(msg, sizeof(msg), "drained: %s (%u ms)\n",
                         w->had_routes ? "withdrawn from every session" : "nothing advertised",
                         ms);
                drainw_finish(d, 0, msg);
                return 0;
        }
        w->had_routes |= r == 0;
        if (now - w->t0 >= NR_DRAIN_MAX_USEC) {
                if (r == 0)
                        snprintf(msg, sizeof(msg), "drained, but BIRD still exports %u route%s "
                                 "after %u ms\n", exported, exported == 1 ? "" : "s", ms);
                else
                        snprintf(msg, sizeof(msg), "drained, but BIRD does not answer: %s\n",
                                 strerror(-r));
                log_obj(LOG_PRI_WARNING, "bgp", "bird", "%.*s", (int)strcspn(msg, "\n"), msg);
                drainw_finish(d, 1, msg);
                return 0;
        }
        sd_event_source_set_time(w->timer, now + NR_DRAIN_POLL_USEC);
        return 0;
}

bool daemon_drain_wait(struct nr_daemon *d, int fd, bool settle, bool guests_next)
{
        struct nr_drainw *w = &d->drainw;
        if (fd >= 0 && w->n_fds >= NR_DRAINW_CLIENTS)
                return false;
        if (!w->timer) {
                uint64_t now;
                sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
                /* the first look after the pass (scheduled at once) reconfigured BIRD */
                if (sd_event_add_time(d->ev, &w->timer, CLOCK_MONOTONIC,
                                      now + NR_DRAIN_POLL_USEC, 1000, drainw_tick, d) < 0)
                        return false;
                sd_event_source_set_enabled(w->timer, SD_EVENT_ON);
                w->t0 = now;
        }
        /* what BIRD exports before the pass reconfigures it: whether a withdraw is coming */
        unsigned exported;
        w->had_routes |= bgpb_withdrawn(&d->bgp, &exported) == 0;
        w->settle |= settle;
        w->guests_next |= guests_next;
        if (fd >= 0)
                w->fds[w->n_fds++] = fd;
        return true;
}

void daemon_drain_wait_close(struct nr_daemon *d)
{
        drainw_answer(&d->drainw, 1, "nestrouterd stopped before the withdraw completed\n");
        d->drainw.timer = sd_event_source_disable_unref(d->drainw.timer);
}
