/* nestrouterd --teardown: remove what nestrouter owns — our routes and rules (by protocol), the
 * nft table, the guest bridge and the addresses a CIDR config put on the uplinks, and a dnsmasq
 * left running. Leases stay in the state dir (they are the guests'), sysctls stay as they are.
 * Uplinks matched by Azure role are found by asking IMDS once, as the daemon does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "azure_watch.h"
#include "core/imds.h"
#include "core/validate.h"
#include "daemon.h"
#include "imds_client.h"
#include "log.h"

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

static void remove_links_and_addrs(struct nlb *nl, const struct nr_config *cfg,
                                   const struct imds_roles *roles)
{
        struct nr_facts facts;
        struct nr_desired want;
        struct nr_observed have = {0};
        struct nr_paths paths = {"/nonexistent", "/nonexistent"};
        char err[256];
        nlb_facts(nl, cfg, roles, &facts);
        if (model_build(cfg, &facts, &paths, &want) < 0)
                return;
        nlb_observe(nl, &want, NULL, &have);
        for (size_t i = 0; i < want.n_addrs; i++) {
                struct nr_op op = {.kind = NR_OP_ADDR_DEL, .addr = want.addrs[i]};
                bool present = false;
                for (size_t j = 0; j < have.n_addrs; j++)
                        present |= !model_addr_cmp(&have.addrs[j], &want.addrs[i]);
                if (present && nlb_apply(nl, &op, want.route_protocol, err, sizeof(err)) == 0)
                        log_info("removed address %s from %s", prefix_s(want.addrs[i].addr).s,
                                 want.addrs[i].dev);
        }
        for (size_t i = 0; i < have.n_links; i++) {
                if (!have.links[i].bridge || strcmp(have.links[i].name, cfg->guests.bridge))
                        continue;
                struct nr_op op = {.kind = NR_OP_LINK_DEL};
                snprintf(op.link.name, sizeof(op.link.name), "%s", cfg->guests.bridge);
                if (nlb_apply(nl, &op, want.route_protocol, err, sizeof(err)) == 0)
                        log_info("removed bridge %s", cfg->guests.bridge);
        }
        observed_free(&have);
        model_free(&want);
}

int daemon_teardown(const struct nr_daemon_opts *o)
{
        struct nr_config cfg;
        struct nr_diags diags = {0};
        struct nlb nl;
        struct nftb nft;
        struct dmb dm;
        sd_event *ev = NULL;
        bool have_cfg = cfg_load_checked(o->config, &cfg, &diags) == 0;
        uint8_t proto = have_cfg ? cfg.router.route_protocol : 78;
        size_t n = 0;
        if (!have_cfg)
                log_warn("%s is not valid: removing routes/rules of protocol %u and the nft "
                         "table only", o->config, proto);
        struct imds_roles roles;
        bool have_roles = false;
        if (sd_event_new(&ev) < 0)
                ev = NULL;
        if (have_cfg) /* first: the way to IMDS may use what is removed below */
                have_roles = teardown_roles(ev, &cfg, &roles);
        int r = nlb_open(&nl);
        if (r >= 0 && (r = nlb_flush_owned(&nl, proto, &n)) >= 0)
                log_info("removed %zu routes and rules", n);
        if (r >= 0 && have_cfg)
                remove_links_and_addrs(&nl, &cfg, have_roles ? &roles : NULL);
        nlb_close(&nl);
        if (nftb_open(&nft, o->state_dir, NULL) >= 0 && nftb_delete_table(&nft) == 0)
                log_info("removed nft tables inet and bridge nestrouter");
        nftb_close(&nft);
        /* opening the dnsmasq backend stops a dnsmasq an earlier daemon left behind */
        if (ev && dmb_open(&dm, ev, o->run_dir, o->state_dir, NULL, NULL) >= 0)
                dmb_close(&dm);
        bgpb_teardown(o->state_dir); /* BIRD's sessions close: Route Server withdraws */
        sd_event_unref(ev);
        cfg_free(&cfg);
        diag_free(&diags);
        return r < 0 ? 1 : 0;
}
