/* Polls /metadata/instance/network: every 2 s until each role the config asks for is known,
 * then every minute. A changed document schedules a reconcile pass; a failed fetch keeps the
 * last good document (IMDS being briefly away must not tear the uplinks down). */
#include "azure/azure_watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "daemon.h"
#include "azure/imds_client.h"
#include "lib/log.h"


/* tests shorten both: NR_IMDS_POLL_SEC (2 s, while a role is unknown), NR_IMDS_REFRESH_SEC (60 s) */
static uint64_t env_usec(const char *name, long dflt)
{
        const char *s = getenv(name);
        long v = s ? strtol(s, NULL, 10) : dflt;
        return (uint64_t)(v > 0 ? v : dflt) * 1000000ull;
}

static bool is_azure(const struct nr_match *m)
{
        return m->kind == NR_MATCH_AZURE_PRIMARY || m->kind == NR_MATCH_AZURE_SUBNET;
}

bool azw_wanted(const struct nr_config *cfg)
{
        for (int r = 0; cfg && r < NR_UPLINK_COUNT; r++)
                if (cfg->uplinks[r].present && is_azure(&cfg->uplinks[r].match))
                        return true;
        return false;
}

void azw_roles(const struct nr_daemon *d, struct imds_roles *out)
{
        struct imds_network none = {0};
        imds_resolve_roles(d->cfg, d->azw.have_net ? &d->azw.net : &none, d->azw.local, out);
}

static bool roles_complete(const struct nr_daemon *d)
{
        struct imds_roles roles;
        azw_roles(d, &roles);
        for (int r = 0; r < NR_UPLINK_COUNT; r++)
                if (d->cfg->uplinks[r].present && is_azure(&d->cfg->uplinks[r].match) &&
                    !roles.known[r])
                        return false;
        return true;
}

static void rearm(struct nr_daemon *d)
{
        uint64_t now;
        sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
        uint64_t delay = d->cfg && d->azw.have_net && roles_complete(d)
                                 ? env_usec("NR_IMDS_REFRESH_SEC", 60)
                                 : env_usec("NR_IMDS_POLL_SEC", 2);
        sd_event_source_set_time(d->azw.timer, now + delay);
        sd_event_source_set_enabled(d->azw.timer, SD_EVENT_ONESHOT);
}

static void set_error(struct nr_azw *w, const char *msg)
{
        if (strcmp(msg, w->last_error))
                log_warn("imds: %s", msg); /* once per distinct failure, not every poll */
        snprintf(w->last_error, sizeof(w->last_error), "%s", msg);
        w->failures++;
}

static void on_network(void *userdata, int status, const char *body, size_t len, uint32_t local)
{
        struct nr_daemon *d = userdata;
        struct nr_azw *w = &d->azw;
        struct imds_network net;
        const char *err = NULL;
        w->busy = false;
        w->fetches++;
        char msg[sizeof(w->last_error)];
        if (status < 0) {
                snprintf(msg, sizeof(msg), "network document: %s", strerror(-status));
                set_error(w, msg);
        } else if (status != 200) {
                snprintf(msg, sizeof(msg), "network document: HTTP %d", status);
                set_error(w, msg);
        } else if (imds_parse_network(body, len, &net, &err) < 0) {
                snprintf(msg, sizeof(msg), "network document: %s", err ? err : "malformed");
                set_error(w, msg);
        } else {
                struct imds_roles before, after;
                azw_roles(d, &before);
                w->net = net;
                w->local = local;
                w->have_net = true;
                w->last_error[0] = '\0';
                azw_roles(d, &after);
                if (d->cfg && memcmp(&before, &after, sizeof(after))) {
                        for (int r = 0; r < NR_UPLINK_COUNT; r++)
                                if (after.known[r])
                                        log_info("imds: uplink %s is the NIC with MAC %s",
                                                 r == NR_UPLINK_NAT ? "nat" : "lan",
                                                 mac_s(after.mac[r]).s);
                        /* what the new roles bring is a change, not drift being repaired */
                        d->config_changed = true;
                        daemon_schedule(d, 0);
                }
        }
        if (azw_wanted(d->cfg))
                rearm(d);
}

/* Bind to NIC1 when we already know which device it is (by name or MAC, or from an earlier
 * document); before that the kernel's route to IMDS (Azure's DHCP puts it on NIC1) decides. */
static void nic1_dev(struct nr_daemon *d, char *dev)
{
        struct nr_facts facts;
        struct imds_roles roles;
        azw_roles(d, &roles);
        dev[0] = '\0';
        if (nlb_refresh(&d->nl) < 0)
                return;
        daemon_facts(&d->nl, d->cfg, &roles, &facts);
        if (facts.uplink[NR_UPLINK_NAT].found)
                snprintf(dev, NR_IFNAMSIZ, "%s", facts.uplink[NR_UPLINK_NAT].ifname);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct nr_daemon *d = userdata;
        char dev[NR_IFNAMSIZ];
        (void)s;
        (void)usec;
        if (d->azw.busy || !azw_wanted(d->cfg))
                return 0;
        nic1_dev(d, dev);
        int r = imdsc_request(d->ev, dev, IMDSC_NETWORK_PATH, NULL, on_network, d);
        if (r < 0) {
                log_warn_errno(r, "imds: cannot start a request: %m");
                rearm(d);
                return 0;
        }
        d->azw.busy = true;
        return 0;
}

void azw_kick(struct nr_daemon *d)
{
        if (!azw_wanted(d->cfg) || d->azw.busy)
                return;
        if (!d->azw.timer &&
            sd_event_add_time(d->ev, &d->azw.timer, CLOCK_MONOTONIC, 0, 10000, on_timer, d) < 0)
                return;
        sd_event_source_set_time(d->azw.timer, 1); /* now: the first poll does not wait */
        sd_event_source_set_enabled(d->azw.timer, SD_EVENT_ONESHOT);
}

void azw_close(struct nr_azw *w)
{
        w->timer = sd_event_source_disable_unref(w->timer);
}
