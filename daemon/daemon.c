/* The reconcile pass and the configuration lifecycle: observe everything, plan, apply, count.
 * A pass is idempotent and cheap; every trigger (kernel event, nft event, dnsmasq exit, timer,
 * reload) just schedules one, and bursts of triggers coalesce into a single pass. */
#include "daemon.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "lib/clock.h"
#include "backend/dnsmasq/dm_leases.h"
#include "backend/sysctl/sysctl.h"
#include "core/model/owned.h"
#include "core/render/render.h"
#include "lib/fileio.h"
#include "core/config/validate.h"
#include "lib/log.h"

#define RETRY_USEC (1000000ull)

void daemon_facts(struct nlb *nl, const struct nr_config *cfg, const struct imds_roles *roles,
                  struct nr_facts *facts)
{
        struct nr_link_fact *links;
        size_t n;
        bool ipv6;
        int r = nlb_link_facts(nl, &links, &n, &ipv6);
        facts_build(cfg, roles, links, r < 0 ? 0 : n, ipv6, facts);
        free(links);
}

int daemon_build_desired(struct nr_daemon *d, struct nr_desired *want)
{
        struct nr_facts facts;
        struct nr_paths paths = {d->o.run_dir, d->o.state_dir};
        struct imds_roles roles;
        azw_roles(d, &roles);
        char leases[4096];
        daemon_facts(&d->nl, d->cfg, &roles, &facts);
        dmb_leases_path(&d->dm, leases, sizeof(leases));
        dmb_lease_facts(leases, &facts);
        facts.bgp_drained = bgpb_is_drained(&d->bgp);
        return model_build_from(d->cfg, &facts, &paths, d->have_prev ? &d->prev : NULL, want);
}

int daemon_observe(struct nr_daemon *d, const struct nr_desired *want, struct nr_observed *have)
{
        return engine_observe(&d->eng, want, d->have_prev ? &d->prev : NULL, have);
}

static uint64_t engine_clock(void *ctx)
{
        (void)ctx;
        return now_usec();
}

static void engine_say(void *ctx, int pri, enum nr_obj o, const char *object, const char *msg)
{
        (void)ctx;
        log_obj(pri, plan_obj_name(o), object, "%s", msg);
}


static void notify_status(struct nr_daemon *d, unsigned failed)
{
        uint64_t rep = 0;
        for (int i = 0; i < NR_OBJ_COUNT; i++)
                rep += d->n.repairs[i];
        sd_notifyf(0, "STATUS=%s; %zu routes, %zu rules; %llu repairs; %u failing",
                   failed ? "degraded" : "converged", d->prev.n_routes, d->prev.n_rules,
                   (unsigned long long)rep, failed);
}

static int on_settle(sd_event_source *s, void *userdata)
{
        struct nr_daemon *d = userdata;
        (void)s;
        int r = nftb_settle(&d->nft);
        if (r < 0) {
                d->n.failures++;
                d->converged = false;
                snprintf(d->last_error, sizeof(d->last_error), "nft: listing the table: %s",
                         strerror(-r));
                log_obj(LOG_PRI_ERR, "nft", "inet " NR_NFT_TABLE,
                        "nft: cannot list the table just applied: %s", strerror(-r));
                notify_status(d, 1);
                daemon_schedule(d, RETRY_USEC);
        } else if (!d->nft.trusted) {
                daemon_schedule(d, 0); /* a foreign commit since our apply: look again */
        } else if (d->nft.save_errno) {
                d->converged = false; /* the next pass retries the save */
                snprintf(d->last_error, sizeof(d->last_error),
                         "nft: cannot save state in %s: %s", d->o.state_dir,
                         strerror(d->nft.save_errno));
                notify_status(d, 1);
                daemon_schedule(d, RETRY_USEC);
        }
        return 0;
}

static void schedule_settle(struct nr_daemon *d)
{
        if (!d->settle_src && sd_event_add_defer(d->ev, &d->settle_src, on_settle, d) < 0) {
                on_settle(NULL, d); /* no event source: list now */
                return;
        }
        sd_event_source_set_enabled(d->settle_src, SD_EVENT_ONESHOT);
}

/* Ports that the guest bridge held before it was deleted and created again (libvirt's taps,
 * foreign ports; configured ones are desired anyway) are desired on the new one too. Only in a
 * pass: the bridge's port list is remembered here, once per pass. */
static int adopt_orphans(struct nr_daemon *d, struct nr_desired *want)
{
        const char *br = d->cfg->guests.bridge;
        char (*orphans)[16];
        size_t n = nlb_bridge_orphans(&d->nl, br, &orphans);
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++) {
                bool known = false;
                for (size_t j = 0; j < want->n_links; j++)
                        known |= !strcmp(want->links[j].name, orphans[i]);
                if (known)
                        continue;
                struct nr_link p = {.adopted = true};
                snprintf(p.name, sizeof(p.name), "%s", orphans[i]);
                snprintf(p.master, sizeof(p.master), "%s", br);
                log_notice("%s: was a port of %s before it was replaced; attaching it again",
                           p.name, br);
                void *nv = realloc(want->links, (want->n_links + 1) * sizeof(*want->links));
                if (!nv) {
                        r = -ENOMEM;
                        break;
                }
                want->links = nv;
                want->links[want->n_links++] = p;
        }
        free(orphans);
        return r;
}

/* The ownership record (core/model/owned.h) follows what the last pass wanted; written only when it
 * changes. A failed write is retried at the next change and logged: the running daemon still
 * knows (prev), only a restart with a changed file would miss it. */
static void owned_save(struct nr_daemon *d)
{
        char path[4096];
        char *text = owned_render(&d->prev);
        if (!text || (d->owned_text && !strcmp(text, d->owned_text))) {
                free(text);
                return;
        }
        snprintf(path, sizeof(path), "%s/%s", d->o.state_dir, NR_OWNED_FILE);
        int r = file_write_atomic(path, text, 0644);
        if (r < 0) {
                log_obj_errno(LOG_PRI_WARNING, r, "state", path,
                              "%s: %m (a restart with a changed file may leave objects behind)",
                              path);
                free(text);
                return;
        }
        free(d->owned_text);
        d->owned_text = text;
}

/* At start: what an earlier run made, so that what the file no longer wants is removed. */
void daemon_owned_load(struct nr_daemon *d)
{
        char path[4096];
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/%s", d->o.state_dir, NR_OWNED_FILE);
        char *text = file_read(path, &len);
        if (!text)
                return;
        if (owned_parse(text, len, &d->prev) == 0) {
                d->have_prev = true;
                d->owned_text = text;
                log_info("%s: %zu links and %zu addresses made by an earlier run", path,
                         d->prev.n_links, d->prev.n_addrs);
                return;
        }
        free(text);
}

static int reconcile(struct nr_daemon *d)
{
        struct nr_desired want;
        struct nr_pass_result res;
        uint64_t t0 = now_usec();
        bool reloaded = d->config_changed;
        int r = nlb_refresh(&d->nl);
        if (r >= 0)
                r = daemon_build_desired(d, &want);
        if (r < 0)
                return log_err_errno(r, "reconcile: %m");
        if ((r = adopt_orphans(d, &want)) < 0 ||
            (r = engine_pass(&d->eng, &want, d->have_prev ? &d->prev : NULL, d->config_changed,
                             &res)) < 0) {
                model_free(&want);
                return log_err_errno(r, "reconcile: %m");
        }
        unsigned failed = res.failed;
        if (d->nft.save_errno) {
                failed++;
                snprintf(d->last_error, sizeof(d->last_error),
                         "nft: cannot save state in %s: %s", d->o.state_dir,
                         strerror(d->nft.save_errno));
                if (!res.retry_at_usec)
                        res.retry_at_usec = now_usec() + RETRY_USEC;
        }
        if (!d->ready_sent) {
                sd_notify(0, "READY=1");
                d->ready_sent = true;
        }
        /* the nft baseline listing is bookkeeping for drift, not applying: after the report */
        if (nftb_settle_due(&d->nft))
                schedule_settle(d);
        if (d->have_prev)
                model_free(&d->prev);
        d->prev = want;
        d->have_prev = true;
        owned_save(d);
        d->converged = failed == 0;
        if (!failed)
                d->config_changed = false;
        if (res.retry_at_usec) {
                uint64_t now = now_usec();
                daemon_schedule(d, res.retry_at_usec > now ? res.retry_at_usec - now : 0);
        }
        d->last_pass_usec = now_usec() - t0;
        metrics_pass_observe(&d->n.pass_hist, d->last_pass_usec);
        log_debug("pass %llu: %zu ops planned, %u failed, %llu us%s",
                  (unsigned long long)d->n.passes, res.n_ops, failed,
                  (unsigned long long)d->last_pass_usec, d->nft.trusted ? "" : "; nft listed");
        virtb_network_pass(&d->virt); /* guests: the bridge exists now; their own pass follows */
        notify_status(d, failed);
        if (res.n_ops)
                metrics_write(d); /* something changed: the textfile need not wait */
        log_flush_repeats(false);
        /* a large file parsed and rendered leaves freed heap behind: give it back after a
         * reload (not after every pass), once the pass has been reported */
        daemon_free_retired(d);
        if (reloaded)
                malloc_trim(0);
        return 0;
}

static void on_pass(void *userdata)
{
        struct nr_daemon *d = userdata;
        if (d->cfg)
                reconcile(d);
}

void daemon_schedule(struct nr_daemon *d, uint64_t delay_usec)
{
        if (debounce_schedule(&d->pass, delay_usec) < 0)
                log_err("cannot schedule a reconcile pass");
}

/* The engine over the real backends; called once the backends are open. */
void daemon_engine_init(struct nr_daemon *d)
{
        engine_init(&d->eng, &d->n, d->last_error, sizeof(d->last_error), engine_clock,
                    engine_say, d);
        engine_set_backend(&d->eng, NR_BACKEND_NETLINK, &nlb_ops, &d->nl);
        engine_set_backend(&d->eng, NR_BACKEND_SYSCTL, &sysctl_ops, NULL);
        engine_set_backend(&d->eng, NR_BACKEND_NFT, &nftb_ops, &d->nft);
        engine_set_backend(&d->eng, NR_BACKEND_DNSMASQ, &dmb_ops, &d->dm);
        engine_set_backend(&d->eng, NR_BACKEND_BGP, &bgpb_ops, &d->bgp);
        debounce_init(&d->pass, d->ev, on_pass, d);
}

/* Makes cfg (read from text) the running configuration; returns what it replaced. */
void daemon_adopt_config(struct nr_daemon *d, struct nr_config *cfg, char *text,
                         struct nr_config **old, char **old_text)
{
        *old = d->cfg;
        *old_text = d->cfg_text;
        d->cfg = cfg;
        d->cfg_text = text;
        virtb_set_config(&d->virt, d->cfg); /* guests: re-render in their own pass */
        metrics_configure(d);
        d->config_ok = true;
        d->config_changed = true;
        engine_retry_now(&d->eng); /* a new file may cure what was failing */
        azw_kick(d);
        aze_kick(d);
        daemon_schedule(d, 0);
}

static void log_rejected(struct nr_daemon *d)
{
        for (size_t i = 0; i < d->errors.n; i++) {
                const struct nr_diag *g = &d->errors.v[i];
                /* each read answers a reload or an edit: never counted as a repeat */
                log_obj(LOG_NO_LIMIT | (g->sev == NR_SEV_ERROR ? LOG_PRI_ERR : LOG_PRI_WARNING),
                        "config", d->o.config, "%s:%d:%d: %s: %s%s%s", d->o.config, g->line,
                        g->col, g->sev == NR_SEV_ERROR ? "error" : "warning", g->path,
                        g->path[0] ? ": " : "", g->msg);
        }
        log_obj(LOG_NO_LIMIT | LOG_PRI_ERR, "config", d->o.config,
                "%s: configuration rejected; %s", d->o.config,
                d->cfg ? "keeping the running configuration" : "nothing applied");
}

void daemon_free_retired(struct nr_daemon *d)
{
        confirm_drop(d->retired, d->retired_text);
        d->retired = NULL;
        d->retired_text = NULL;
}

/* The replaced configuration of 4,096 forwards takes a fifth of a millisecond to free: that
 * waits until the pass the reload asked for has been reported. */
void daemon_retire_config(struct nr_daemon *d, struct nr_config *old, char *old_text)
{
        daemon_free_retired(d);
        d->retired = old;
        d->retired_text = old_text;
}

int daemon_reload_confirm(struct nr_daemon *d, unsigned confirm_s)
{
        struct nr_config *cfg = calloc(1, sizeof(*cfg));
        char *text = NULL;
        size_t len = 0;
        if (!cfg)
                return -ENOMEM;
        sd_notify(0, "RELOADING=1");
        diag_free(&d->errors);
        int r = cfg_read_text(d->o.config, &text, &len, &d->errors);
        if (r >= 0)
                r = cfg_check_text(d->o.config, text, len, cfg, &d->errors);
        d->n.reloads++;
        if (r < 0) {
                d->n.reloads_rejected++;
                d->config_ok = false;
                log_rejected(d);
                cfg_free(cfg);
                free(cfg);
                free(text);
                sd_notifyf(0, "READY=1\nSTATUS=config error: %s rejected (%zu errors)",
                           d->o.config, d->errors.n_errors);
                d->ready_sent = true;
                return -EINVAL;
        }
        struct nr_config *old;
        char *old_text;
        bool had = d->cfg != NULL;
        daemon_adopt_config(d, cfg, text, &old, &old_text);
        log_obj(LOG_PRI_INFO, "config", d->o.config, "%s: configuration loaded%s", d->o.config,
                confirm_s && had ? " (to be confirmed)" : "");
        if (confirm_s && had)
                r = confirm_begin(d, old, old_text, confirm_s);
        else if (confirm_pending(d, NULL))
                confirm_drop(old, old_text);
        else if (old)
                daemon_retire_config(d, old, old_text);
        if (d->ready_sent)
                sd_notify(0, "READY=1");
        return r < 0 ? r : 0;
}

int daemon_reload(struct nr_daemon *d)
{
        return daemon_reload_confirm(d, 0);
}
