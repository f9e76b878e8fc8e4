/* Prometheus metrics, daemon side: read the counters (the daemon's, the nft rules' from the
 * kernel, the lease file) into struct nr_metrics, render them (core/render/render_metrics.c) and write
 * them atomically (temp file + rename: node exporter never reads half a file, and ignores the
 * temp file, which does not end in .prom) on a timer. */
#include "control/metrics.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "core/render/render_metrics.h"
#include "daemon.h"
#include "lib/fileio.h"
#include "lib/log.h"

#define MAX_GUESTS 256

/* unexpired leases in dnsmasq's lease file ("EXPIRY MAC IP HOST ID", expiry 0: infinite) */
static uint64_t count_leases(struct nr_daemon *d)
{
        char path[4096], line[512];
        uint64_t n = 0;
        long long now = (long long)time(NULL);
        dmb_leases_path(&d->dm, path, sizeof(path));
        FILE *f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f)) {
                long long exp;
                if (sscanf(line, "%lld", &exp) == 1 && (exp == 0 || exp > now))
                        n++;
        }
        if (f)
                fclose(f);
        return n;
}

static void gather_dhcp(struct nr_daemon *d, struct nr_metrics *m)
{
        const struct nr_dhcp *h = d->cfg ? &d->cfg->guests.dhcp : NULL;
        m->dnsmasq_up = d->dm.sup.pid > 0;
        m->dnsmasq_starts = d->dm.sup.starts;
        m->dnsmasq_crashes = d->dm.sup.crashes;
        m->dhcp_enabled = h && h->enabled;
        if (!m->dhcp_enabled)
                return;
        m->dhcp_leases = count_leases(d);
        m->dhcp_pool_size = h->range_end >= h->range_start && h->range_start
                                    ? (uint64_t)(h->range_end - h->range_start) + 1
                                    : 0;
        m->dhcp_reservations = h->n_reservations;
        for (size_t i = 0; i < d->cfg->n_vms; i++)
                m->dhcp_reservations += d->cfg->vms[i].ip != 0;
}

/* the configured forwards, named as the config names them */
static struct nr_mforward *gather_forwards(const struct nr_config *cfg, size_t *n)
{
        *n = 0;
        if (!cfg || !cfg->n_port_forwards)
                return NULL;
        struct nr_mforward *v = calloc(cfg->n_port_forwards, sizeof(*v));
        if (!v)
                return NULL;
        for (size_t i = 0; i < cfg->n_port_forwards; i++) {
                const struct nr_port_forward *f = &cfg->port_forwards[i];
                unsigned to_port = f->to_port ? f->to_port : f->port;
                v[i].proto = cfg_proto_name(f->proto);
                v[i].port = f->port;
                v[i].name = f->to_name;
                snprintf(v[i].target, sizeof(v[i].target), "%s:%u", ip_s(f->to_ip).s, to_port);
        }
        *n = cfg->n_port_forwards;
        return v;
}

char *daemon_metrics(struct nr_daemon *d)
{
        struct nr_mkind rep[NR_OBJ_COUNT], chg[NR_OBJ_COUNT], fail[NR_OBJ_COUNT];
        struct nftd_counters rules = {0};
        struct nr_mguest *guests = calloc(MAX_GUESTS, sizeof(*guests));
        if (!guests)
                return NULL;
        for (int i = 0; i < NR_OBJ_COUNT; i++) {
                rep[i] = (struct nr_mkind){plan_obj_name(i), d->n.repairs[i]};
                chg[i] = (struct nr_mkind){plan_obj_name(i), d->n.changes[i]};
                fail[i] = (struct nr_mkind){plan_obj_name(i), 0};
        }
        size_t n_fail;
        const struct nr_engine_fail *f = engine_failures(&d->eng, &n_fail);
        for (size_t i = 0; i < n_fail; i++)
                if (f[i].obj < NR_OBJ_COUNT)
                        fail[f[i].obj].n++;
        f = engine_failures(&d->virt.eng, &n_fail); /* the guests' */
        for (size_t i = 0; i < n_fail; i++)
                if (f[i].obj < NR_OBJ_COUNT)
                        fail[f[i].obj].n++;
        struct nr_metrics m = {
                .config_ok = d->config_ok, .config_applied = d->cfg != NULL,
                .converged = d->converged, .reloads = d->n.reloads,
                .reloads_rejected = d->n.reloads_rejected, .writes = d->n.writes,
                .failures = d->n.failures, .backoffs = d->n.backoffs,
                .events_netlink = d->n.events_netlink, .events_nft = d->n.events_nft,
                .overruns = d->n.overruns, .repairs = rep, .changes = chg, .failing = fail,
                .n_kinds = NR_OBJ_COUNT, .pass = d->n.pass_hist,
                .last_pass_usec = d->last_pass_usec,
                .nft_full_applies = d->nft.full_applies, .nft_delta_applies = d->nft.delta_applies,
                .nft_listings = d->nft.listings, .nft_foreign_commits = d->nft.foreign_commits,
                .imds_fetches = d->azw.fetches, .imds_failures = d->azw.failures,
        };
        /* the table exists only once a configuration was applied */
        m.rules_ok = d->cfg && nftb_counters(&d->nft, &rules) >= 0;
        m.rules = rules.v;
        m.n_rules = m.rules_ok ? rules.n : 0;
        struct nr_mforward *fw = gather_forwards(d->cfg, &m.n_forwards);
        m.forwards = fw;
        gather_dhcp(d, &m);
        m.guests = guests;
        m.n_guests = virtb_metrics_guests(&d->virt, guests, MAX_GUESTS);
        char *text = render_metrics(&m);
        nftd_counters_free(&rules);
        free(fw);
        free(guests);
        return text;
}

void metrics_write(struct nr_daemon *d)
{
        struct nr_mwriter *w = &d->mw;
        if (!w->path[0])
                return;
        char *text = daemon_metrics(d);
        if (!text)
                return;
        int r = file_write_atomic(w->path, text, 0644);
        free(text);
        if (r == -ENOENT) {
                /* node exporter's directory: not ours to create (the package makes it) */
                if (!w->dir_missing)
                        log_obj(LOG_PRI_NOTICE, "metrics", w->path,
                                "%s: the directory does not exist (is prometheus-node-exporter "
                                "installed?); not writing metrics until it does",
                                w->path);
                w->dir_missing = true;
                return;
        }
        if (r < 0) {
                w->failures++;
                log_obj_errno(LOG_PRI_WARNING, r, "metrics", w->path, "%s: %m", w->path);
                return;
        }
        if (w->dir_missing)
                log_obj(LOG_PRI_INFO, "metrics", w->path, "%s: writing metrics", w->path);
        w->dir_missing = false;
        w->writes++;
}

static uint64_t interval_usec(const struct nr_daemon *d)
{
        return (uint64_t)(d->cfg ? d->cfg->metrics.interval : 15) * 1000000ull;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct nr_daemon *d = userdata;
        sd_event_source_set_time(s, usec + interval_usec(d));
        metrics_write(d);
        log_flush_repeats(false); /* counts of suppressed messages whose window has passed */
        return 0;
}

int metrics_open(struct nr_daemon *d)
{
        uint64_t now;
        sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
        int r = sd_event_add_time(d->ev, &d->mw.timer, CLOCK_MONOTONIC, now + interval_usec(d),
                                  100000, on_tick, d);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(d->mw.timer, SD_EVENT_ON);
}

static void remove_file(struct nr_mwriter *w)
{
        if (w->path[0] && unlink(w->path) < 0 && errno != ENOENT)
                log_obj_errno(LOG_PRI_WARNING, -errno, "metrics", w->path, "%s: removing: %m",
                              w->path);
}

void metrics_configure(struct nr_daemon *d)
{
        struct nr_mwriter *w = &d->mw;
        const char *want = d->cfg ? d->cfg->metrics.textfile : "";
        if (strcmp(w->path, want)) {
                remove_file(w);
                snprintf(w->path, sizeof(w->path), "%s", want);
                w->dir_missing = false;
                log_obj(LOG_PRI_INFO, "metrics", w->path[0] ? w->path : "textfile",
                        "metrics: %s%s", w->path[0] ? "writing " : "not written (textfile: false)",
                        w->path);
        }
        uint64_t now;
        if (w->timer && sd_event_now(d->ev, CLOCK_MONOTONIC, &now) >= 0)
                sd_event_source_set_time(w->timer, now + interval_usec(d));
}

void metrics_close(struct nr_daemon *d)
{
        remove_file(&d->mw);
        d->mw.path[0] = '\0';
        d->mw.timer = sd_event_source_disable_unref(d->mw.timer);
}
