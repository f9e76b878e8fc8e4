/* nestrouterd --teardown: the engine planning towards the empty state with what nestrouter
 * owns as the previous one — our routes and rules (by protocol), both nft tables, the guest
 * bridge and the addresses a CIDR config put on the uplinks (from the ownership record and the
 * configuration) — and a dnsmasq left running. Leases stay in the state dir (they are the guests'), sysctls stay as they are.
 * Uplinks matched by Azure role are found by asking IMDS once, as the daemon does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-event.h>

#include "azure/azure_watch.h"
#include "lib/clock.h"
#include "core/model/owned.h"
#include "core/azure/imds.h"
#include "core/config/validate.h"
#include "daemon.h"
#include "lib/fileio.h"
#include "azure/imds_client.h"
#include "lib/log.h"

struct td_imds {
        bool done, have;
        struct imds_network net;
        uint32_t local;
};

static void on_network(void *userdata, int status, const char *body, size_t len, uint32_t local)
{
        struct td_imds *t = userdata;
        const char *err = "no answer";
        t->done = true;
        if (status == 200 && body && imds_parse_network(body, len, &t->net, &err) == 0) {
                t->have = true;
                t->local = local;
        } else {
                log_warn("teardown: IMDS network document (status %d): %s; uplinks matched by "
                         "Azure role keep their addresses", status, status == 200 ? err : "");
        }
}

/* The roles of the Azure-matched uplinks, from one IMDS request (bounded by the client's 3 s
 * timeout); false when the config has none or IMDS did not tell. */
static bool teardown_roles(sd_event *ev, const struct nr_config *cfg, struct imds_roles *roles)
{
        struct td_imds t = {0};
        if (!ev || !azw_wanted(cfg) ||
            imdsc_request(ev, NULL, IMDSC_NETWORK_PATH, NULL, on_network, &t) < 0)
                return false;
        for (int i = 0; i < 100 && !t.done; i++)
                sd_event_run(ev, 100000);
        imdsc_cancel_all(); /* nothing, unless the loop above ran out first */
        if (t.have)
                imds_resolve_roles(cfg, &t.net, t.local, roles);
        return t.have;
}

static void add_link(struct nr_desired *d, const struct nr_link *l)
{
        for (size_t i = 0; i < d->n_links; i++)
                if (!strcmp(d->links[i].name, l->name))
                        return;
        void *v = realloc(d->links, (d->n_links + 1) * sizeof(*d->links));
        if (v)
                (d->links = v)[d->n_links++] = *l;
}

static void add_addr(struct nr_desired *d, const struct nr_addr *a)
{
        for (size_t i = 0; i < d->n_addrs; i++)
                if (!model_addr_cmp(&d->addrs[i], a))
                        return;
        void *v = realloc(d->addrs, (d->n_addrs + 1) * sizeof(*d->addrs));
        if (v)
                (d->addrs = v)[d->n_addrs++] = *a;
}

/* What we own: the ownership record an earlier run left in the state dir, and what the
 * configuration makes (a record lost with the state dir, or never written by an older version). */
static void owned_objects(struct nlb *nl, const struct nr_daemon_opts *o,
                          const struct nr_config *cfg, const struct imds_roles *roles,
                          uint8_t proto, struct nr_desired *prev)
{
        char path[4096];
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/%s", o->state_dir, NR_OWNED_FILE);
        char *text = file_read(path, &len);
        if (!text || owned_parse(text, len, prev) < 0)
                memset(prev, 0, sizeof(*prev));
        free(text);
        prev->route_protocol = proto;
        if (!cfg)
                return;
        struct nr_facts facts;
        struct nr_desired want;
        struct nr_paths paths = {"/nonexistent", "/nonexistent"};
        daemon_facts(nl, cfg, roles, &facts);
        if (model_build(cfg, &facts, &paths, &want) < 0)
                return;
        for (size_t i = 0; i < want.n_links; i++)
                add_link(prev, &want.links[i]);
        for (size_t i = 0; i < want.n_addrs; i++)
                add_addr(prev, &want.addrs[i]);
        model_free(&want);
}

static uint64_t td_clock(void *ctx)
{
        (void)ctx;
        return now_usec();
}

static void td_say(void *ctx, int pri, enum nr_obj o, const char *object, const char *msg)
{
        (void)ctx;
        log_obj(pri == LOG_PRI_INFO ? LOG_PRI_NOTICE : pri, plan_obj_name(o), object, "%s", msg);
}

/* The engine planning towards nothing, with what we own as the previous state: our routes and
 * rules (by protocol), the addresses and bridge we made, both nft tables. No dnsmasq backend:
 * opening it (below) stops the one an earlier daemon left. Returns the number of failed ops. */
static unsigned remove_owned(struct nlb *nl, struct nftb *nft, struct nr_desired *prev)
{
        struct nr_counters n = {0};
        struct nr_engine e;
        struct nr_desired none;
        struct nr_pass_result res = {0};
        char err[700] = "";
        engine_init(&e, &n, err, sizeof(err), td_clock, td_say, NULL);
        engine_set_backend(&e, NR_BACKEND_NETLINK, &nlb_ops, nl);
        engine_set_backend(&e, NR_BACKEND_NFT, &nftb_ops, nft);
        model_empty(prev->route_protocol, &none);
        int r = engine_pass(&e, &none, prev, true, &res);
        engine_free(&e);
        if (r < 0) {
                log_err_errno(r, "teardown: %m");
                return 1;
        }
        log_info("teardown: %llu objects removed, %u failed", (unsigned long long)n.writes,
                 res.failed);
        return res.failed;
}

int daemon_teardown(const struct nr_daemon_opts *o)
{
        struct nr_config cfg;
        struct nr_diags diags = {0};
        struct nlb nl;
        struct nftb nft;
        struct dmb dm;
        struct nr_desired prev = {0};
        sd_event *ev = NULL;
        bool have_cfg = cfg_load_checked(o->config, &cfg, &diags) == 0;
        uint8_t proto = have_cfg ? cfg.router.route_protocol : 78;
        if (!have_cfg)
                log_warn("%s is not valid: removing routes/rules of protocol %u, the nft tables "
                         "and what the ownership record names only", o->config, proto);
        struct imds_roles roles;
        bool have_roles = false;
        if (sd_event_new(&ev) < 0)
                ev = NULL;
        if (have_cfg) /* first: the way to IMDS may use what is removed below */
                have_roles = teardown_roles(ev, &cfg, &roles);
        unsigned failed = 1;
        int r = nlb_open(&nl);
        if (r >= 0)
                r = nlb_refresh(&nl);
        if (r >= 0 && (r = nftb_open(&nft, o->state_dir, NULL)) >= 0) {
                owned_objects(&nl, o, have_cfg ? &cfg : NULL, have_roles ? &roles : NULL, proto,
                              &prev);
                failed = remove_owned(&nl, &nft, &prev);
                nftb_close(&nft);
        }
        if (r < 0)
                log_err_errno(r, "teardown: %m");
        nlb_close(&nl);
        if (!failed) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s", o->state_dir, NR_OWNED_FILE);
                unlink(path); /* nothing is ours any more */
        }
        /* opening the dnsmasq backend stops a dnsmasq an earlier daemon left behind */
        if (ev && dmb_open(&dm, ev, o->run_dir, o->state_dir, NULL, NULL) >= 0)
                dmb_close(&dm);
        bgpb_teardown(o->state_dir); /* BIRD's sessions close: Route Server withdraws */
        sd_event_unref(ev);
        model_free(&prev);
        cfg_free(&cfg);
        diag_free(&diags);
        return failed ? 1 : 0;
}
