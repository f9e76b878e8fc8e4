/* Status, leases and plan for nestrouterctl. Status observes the system afresh, so "desired vs
 * observed" is what the kernel holds right now, not what the last pass believed. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "core/model/bgp_gate.h"
#include "core/render/render_bird.h"
#include "core/render/render_text.h"
#include "core/lib/strbuf.h"
#include "daemon.h"

struct pending {
        struct nr_plan plan;
        bool ok;                   /* observation and planning worked */
        bool bgp_adv;              /* the health gate's verdict (bgp:) */
        char bgp_why[128];
        bool bgp_deferred;         /* session settings wait for the sessions to restart */
};

static void bgp_verdict(const struct nr_desired *want, const struct nr_observed *have,
                        struct pending *p)
{
        if (!want->bird_conf)
                return;
        p->bgp_adv = bgp_gate(want, have, p->bgp_why, sizeof(p->bgp_why));
        const char *text = p->bgp_adv ? want->bird_conf : want->bird_conf_withdrawn;
        p->bgp_deferred = have->bird_conf && bird_conf_sessions_differ(have->bird_conf, text);
}

static void compute_pending(struct nr_daemon *d, struct nr_desired *want, struct pending *p)
{
        struct nr_observed have;
        memset(p, 0, sizeof(*p));
        if (!d->cfg || daemon_build_desired(d, want) < 0)
                return;
        p->ok = daemon_observe(d, want, &have) >= 0 &&
                plan_build(want, &have, d->have_prev ? &d->prev : NULL, &p->plan) >= 0;
        if (p->ok)
                bgp_verdict(want, &have, p);
        observed_free(&have);
}

static void j_counters(struct nr_buf *b, const struct nr_daemon *d)
{
        const struct nr_counters *n = &d->n;
        buf_printf(b, "\"counters\":{\"passes\":%llu,\"writes\":%llu,\"failures\":%llu,"
                      "\"reloads\":%llu,\"reloads_rejected\":%llu,\"events_netlink\":%llu,"
                      "\"events_nft\":%llu,\"overruns\":%llu,\"repairs\":{",
                   (unsigned long long)n->passes, (unsigned long long)n->writes,
                   (unsigned long long)n->failures, (unsigned long long)n->reloads,
                   (unsigned long long)n->reloads_rejected,
                   (unsigned long long)n->events_netlink, (unsigned long long)n->events_nft,
                   (unsigned long long)n->overruns);
        for (int i = 0; i < NR_OBJ_COUNT; i++)
                buf_printf(b, "%s\"%s\":%llu", i ? "," : "", plan_obj_name(i),
                           (unsigned long long)n->repairs[i]);
        buf_puts(b, "},\"changes\":{");
        for (int i = 0; i < NR_OBJ_COUNT; i++)
                buf_printf(b, "%s\"%s\":%llu", i ? "," : "", plan_obj_name(i),
                           (unsigned long long)n->changes[i]);
        buf_puts(b, "}}");
}

static void j_config(struct nr_buf *b, const struct nr_daemon *d)
{
        buf_puts(b, "\"config\":{\"file\":");
        json_str(b, d->o.config);
        buf_printf(b, ",\"state\":\"%s\",\"applied\":%s,\"errors\":[",
                   d->config_ok ? "ok" : "error", d->cfg ? "true" : "false");
        for (size_t i = 0; i < d->errors.n; i++) {
                const struct nr_diag *g = &d->errors.v[i];
                buf_printf(b, "%s{\"line\":%d,\"column\":%d,\"severity\":\"%s\",\"key\":",
                           i ? "," : "", g->line, g->col,
                           g->sev == NR_SEV_ERROR ? "error" : "warning");
                json_str(b, g->path);
                buf_puts(b, ",\"message\":");
                json_str(b, g->msg);
                buf_puts(b, "}");
        }
        buf_puts(b, "]}");
}

static void j_pending(struct nr_buf *b, const struct pending *p)
{
        char line[400];
        buf_printf(b, ",\"observed_ok\":%s,\"pending\":[", p->ok ? "true" : "false");
        for (size_t i = 0; i < p->plan.n_ops; i++) {
                plan_op_line(&p->plan, &p->plan.ops[i], line, sizeof(line));
                buf_puts(b, i ? "," : "");
                json_str(b, line);
        }
        buf_puts(b, "]");
}

static void j_nft(struct nr_buf *b, struct nr_daemon *d)
{
        struct nftd_counters c = {0};
        buf_printf(b, ",\"nft\":{\"flowtable\":%s,\"full_applies\":%lu,\"delta_applies\":%lu,"
                      "\"direct_applies\":%lu,\"listings\":%lu,\"foreign_commits\":%lu,"
                      "\"trusted\":%s,\"state_saved\":%s,\"state_in_run_dir\":%s,\"rules\":[",
                   d->nft.flowtable ? "true" : "false", d->nft.full_applies,
                   d->nft.delta_applies, d->nft.direct_applies, d->nft.listings,
                   d->nft.foreign_commits,
                   d->nft.trusted ? "true" : "false", d->nft.save_errno ? "false" : "true",
                   d->nft.save_errno && d->nft.spare_saved ? "true" : "false");
        bool ok = nftb_counters(&d->nft, &c) >= 0;
        /* rules by chain and comment id, then the named counters (one per port forward) */
        for (int objects = 0; objects < 2; objects++) {
                const char *sep = "";
                if (objects)
                        buf_puts(b, "],\"counters\":[");
                for (size_t i = 0; ok && i < c.n; i++) {
                        const struct nftd_counter *e = &c.v[i];
                        if ((e->chain[0] == 0) != objects)
                                continue;
                        buf_puts(b, sep);
                        sep = ",";
                        if (!objects)
                                buf_printf(b, "{\"chain\":\"%s\",\"id\":", e->chain);
                        else
                                buf_puts(b, "{\"name\":");
                        buf_printf(b, "\"%s\",\"packets\":%llu,\"bytes\":%llu}", e->id,
                                   (unsigned long long)e->packets, (unsigned long long)e->bytes);
                }
        }
        nftd_counters_free(&c);
        buf_printf(b, "]},\"dnsmasq\":{\"pid\":%d,\"starts\":%u,\"crashes\":%u",
                   (int)d->dm.sup.pid, d->dm.sup.starts, d->dm.sup.crashes);
        sup_status_json(&d->dm.sup, b); /* last_exit, stopping, fails_in_row, restart_in_ms */
        buf_puts(b, "}");
}

/* Which device each uplink is, and where an Azure role came from. */
static void uplinks(struct nr_daemon *d, struct nr_buf *b, bool json)
{
        static const char *const names[NR_UPLINK_COUNT] = {"nat", "lan"};
        struct nr_facts facts;
        struct imds_roles roles;
        if (!d->cfg)
                return;
        azw_roles(d, &roles);
        daemon_facts(&d->nl, d->cfg, &roles, &facts);
        buf_puts(b, json ? ",\"uplinks\":{" : "");
        for (int r = 0, n = 0; r < NR_UPLINK_COUNT; r++) {
                const struct nr_uplink_fact *f = &facts.uplink[r];
                if (!d->cfg->uplinks[r].present)
                        continue;
                if (json)
                        buf_printf(b, "%s\"%s\":{\"found\":%s,\"ifname\":\"%s\",\"imds_mac\":\"%s\"}",
                                   n++ ? "," : "", names[r], f->found ? "true" : "false",
                                   f->found ? f->ifname : "",
                                   roles.known[r] ? mac_s(roles.mac[r]).s : "");
                else
                        buf_printf(b, "uplink:    %s: %s%s%s\n", names[r],
                                   f->found ? f->ifname : "not found",
                                   roles.known[r] ? ", Azure NIC " : "",
                                   roles.known[r] ? mac_s(roles.mac[r]).s : "");
        }
        if (json) {
                buf_printf(b, "},\"imds\":{\"wanted\":%s,\"have_network\":%s,\"fetches\":%llu,"
                              "\"failures\":%llu,\"last_error\":",
                           azw_wanted(d->cfg) ? "true" : "false",
                           d->azw.have_net ? "true" : "false",
                           (unsigned long long)d->azw.fetches,
                           (unsigned long long)d->azw.failures);
                json_str(b, d->azw.last_error);
                buf_printf(b, ",\"events_polls\":%llu,\"events_acked\":%llu,\"events_active\":",
                           (unsigned long long)d->aze.polls, (unsigned long long)d->aze.acks);
                json_str(b, d->aze.active);
                buf_puts(b, ",\"events_last\":");
                json_str(b, d->aze.last);
                buf_puts(b, "}");
        } else {
                if (d->azw.last_error[0])
                        buf_printf(b, "imds:      %s\n", d->azw.last_error);
                if (d->aze.active[0])
                        buf_printf(b, "imds:      %s (event %s): shutting the guests down\n",
                                   d->aze.active_type, d->aze.active);
                if (d->aze.last[0])
                        buf_printf(b, "imds:      %s\n", d->aze.last);
        }
}

/* Objects failing or in conflict, with their reason and next retry (engine.c's backoff). */
static void failing(const struct nr_daemon *d, struct nr_buf *b, bool json)
{
        size_t n_net, n_vm;
        const struct nr_engine_fail *net = engine_failures(&d->eng, &n_net);
        const struct nr_engine_fail *vm = engine_failures(&d->virt.eng, &n_vm);
        uint64_t now = now_usec();
        if (json)
                buf_puts(b, ",\"failing\":[");
        for (size_t i = 0; i < n_net + n_vm; i++) { /* the network's objects, then the guests' */
                const struct nr_engine_fail *f = i < n_net ? &net[i] : &vm[i - n_net];
                double retry = f->next_usec > now ? (double)(f->next_usec - now) / 1e6 : 0;
                double since = (double)(now - f->since_usec) / 1e6;
                if (!json) {
                        buf_printf(b, "  failing: %s %s: %s%s (%u attempts in %.0f s, next in "
                                      "%.0f s)\n",
                                   plan_obj_name(f->obj), f->object,
                                   f->conflict ? "conflict: " : "", f->reason, f->attempts, since,
                                   retry);
                        continue;
                }
                buf_printf(b, "%s{\"kind\":\"%s\",\"object\":", i ? "," : "",
                           plan_obj_name(f->obj));
                json_str(b, f->object);
                buf_puts(b, ",\"reason\":");
                json_str(b, f->reason);
                buf_printf(b, ",\"conflict\":%s,\"attempts\":%u,\"since_seconds\":%.1f,"
                              "\"retry_in_seconds\":%.1f}",
                           f->conflict ? "true" : "false", f->attempts, since, retry);
        }
        if (json)
                buf_puts(b, "]");
}

static char *status_json(struct nr_daemon *d, struct nr_desired *want, const struct pending *p)
{
        struct nr_buf b = {0};
        buf_puts(&b, "{");
        j_config(&b, d);
        buf_printf(&b, ",\"converged\":%s,\"last_pass_usec\":%llu,\"last_error\":",
                   d->converged && p->plan.n_ops == 0 ? "true" : "false",
                   (unsigned long long)d->last_pass_usec);
        json_str(&b, d->last_error);
        unsigned left = 0;
        bool pend = confirm_pending(d, &left);
        buf_printf(&b, ",\"confirm\":{\"pending\":%s,\"seconds_left\":%u,\"confirmed\":%lu,"
                       "\"rolled_back\":%lu},",
                   pend ? "true" : "false", left, d->confirm.confirmed, d->confirm.rolled_back);
        j_counters(&b, d);
        failing(d, &b, true);
        j_pending(&b, p);
        j_nft(&b, d);
        uplinks(d, &b, true);
        virtb_status_json(&d->virt, &b); /* ,"guests":{...} */
        if (want->bird_conf)
                bgpb_status_json(&d->bgp, &b, p->bgp_adv, p->bgp_why, p->bgp_deferred);
        if (d->cfg) {
                char *desired = render_desired_json(want);
                if (desired) {
                        desired[strcspn(desired, "\n")] = '\0';
                        buf_printf(&b, ",\"desired\":%s", desired);
                }
                free(desired);
        }
        buf_puts(&b, "}\n");
        return buf_finish(&b);
}

static char *status_text(struct nr_daemon *d, const struct nr_desired *want,
                         const struct pending *p)
{
        struct nr_buf b = {0};
        char line[400];
        buf_printf(&b, "config:    %s (%s)\n", d->o.config,
                   d->config_ok ? "ok" : d->cfg ? "rejected; running the previous one"
                                                : "error; nothing applied");
        unsigned left = 0;
        if (confirm_pending(d, &left))
                buf_printf(&b, "confirm:   pending: rolls back in %u s unless `nestrouterctl "
                               "confirm`\n",
                           left);
        for (size_t i = 0; i < d->errors.n; i++)
                buf_printf(&b, "  %d:%d: %s%s%s\n", d->errors.v[i].line, d->errors.v[i].col,
                           d->errors.v[i].path, d->errors.v[i].path[0] ? ": " : "",
                           d->errors.v[i].msg);
        if (d->cfg)
                buf_printf(&b, "objects:   %zu links, %zu addresses, %zu routes, %zu rules, "
                               "%zu sysctls, nft table, dnsmasq pid %d\n",
                           want->n_links, want->n_addrs, want->n_routes, want->n_rules,
                           want->n_sysctls, (int)d->dm.sup.pid);
        sup_status_text(&d->dm.sup, line, sizeof(line));
        if (line[0])
                buf_printf(&b, "dnsmasq:   %s%s\n", d->dm.sup.stopping ? "stopping; " : "", line);
        uplinks(d, &b, false);
        for (size_t i = 0; i < want->n_notes; i++)
                buf_printf(&b, "note:      %s\n", want->notes[i]);
        buf_printf(&b, "state:     %s\n",
                   p->plan.n_ops || !d->converged ? "not converged" : "converged");
        for (size_t i = 0; i < p->plan.n_ops; i++) {
                plan_op_line(&p->plan, &p->plan.ops[i], line, sizeof(line));
                buf_printf(&b, "  pending: %s\n", line);
        }
        failing(d, &b, false);
        buf_printf(&b, "counters:  %llu passes, %llu writes, %llu failures, repairs:",
                   (unsigned long long)d->n.passes, (unsigned long long)d->n.writes,
                   (unsigned long long)d->n.failures);
        for (int i = 0; i < NR_OBJ_COUNT; i++)
                buf_printf(&b, " %s %llu", plan_obj_name(i), (unsigned long long)d->n.repairs[i]);
        buf_puts(&b, "\n");
        virtb_status_text(&d->virt, &b); /* guests: ... */
        if (want->bird_conf)
                bgpb_status_text(&d->bgp, &b, p->bgp_adv, p->bgp_why, p->bgp_deferred);
        if (d->last_error[0])
                buf_printf(&b, "last error: %s\n", d->last_error);
        return buf_finish(&b);
}

char *daemon_status(struct nr_daemon *d, bool json)
{
        struct nr_desired want = {0};
        struct pending p;
        compute_pending(d, &want, &p);
        char *s = json ? status_json(d, &want, &p) : status_text(d, &want, &p);
        plan_free(&p.plan);
        model_free(&want);
        /* a status is a pass's worth of memory (desired, observed, the table's counters): give
         * it back, or a client polling status keeps the daemon at that high-water mark */
        malloc_trim(0);
        return s;
}

char *daemon_plan_text(struct nr_daemon *d)
{
        struct nr_desired want = {0};
        struct pending p;
        compute_pending(d, &want, &p);
        char *s = plan_render(&p.plan);
        plan_free(&p.plan);
        model_free(&want);
        char *g = d->virt.cfg ? virtb_plan_text(&d->virt) : NULL;
        if (s && g && *g) { /* the guests' ops follow the network's */
                struct nr_buf b = {0};
                buf_printf(&b, "%s%s", s, g);
                free(s);
                s = buf_finish(&b);
        }
        free(g);
        return s;
}

char *daemon_leases(struct nr_daemon *d, bool json)
{
        char path[4096], line[512];
        struct nr_buf b = {0};
        dmb_leases_path(&d->dm, path, sizeof(path));
        FILE *f = fopen(path, "re");
        buf_puts(&b, json ? "[" : "");
        if (!json)
                buf_printf(&b, "%-17s  %-15s  %-20s  %s\n", "MAC", "IP", "HOSTNAME", "EXPIRES");
        for (int i = 0; f && fgets(line, sizeof(line), f); ) {
                long long exp;
                char mac[32], ip[32], host[128];
                if (sscanf(line, "%lld %31s %31s %127s", &exp, mac, ip, host) != 4)
                        continue;
                if (json) {
                        buf_printf(&b, "%s{\"mac\":\"%s\",\"ip\":\"%s\",\"hostname\":", i++ ? "," : "",
                                   mac, ip);
                        json_str(&b, strcmp(host, "*") ? host : "");
                        buf_printf(&b, ",\"expires\":%lld}", exp);
                        continue;
                }
                char when[32] = "never";
                time_t t = (time_t)exp;
                struct tm tm;
                if (exp && gmtime_r(&t, &tm))
                        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
                buf_printf(&b, "%-17s  %-15s  %-20s  %s\n", mac, ip, host, when);
        }
        if (f)
                fclose(f);
        buf_puts(&b, json ? "]\n" : "");
        return buf_finish(&b);
}
