/* nestrouterd --teardown: remove what nestrouter owns — our routes and rules (by protocol), the
 * nft table, the guest bridge and the addresses a CIDR config put on the uplinks, and a dnsmasq
 * left running. Leases stay in the state dir (they are the guests'), sysctls stay as they are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "core/validate.h"
#include "daemon.h"
#include "log.h"

static void remove_links_and_addrs(struct nlb *nl, const struct nr_config *cfg)
{
        struct nr_facts facts;
        struct nr_desired want;
        struct nr_observed have = {0};
        struct nr_paths paths = {"/nonexistent", "/nonexistent"};
        char err[256];
        nlb_facts(nl, cfg, NULL, &facts);
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
        int r = nlb_open(&nl);
        if (r >= 0 && (r = nlb_flush_owned(&nl, proto, &n)) >= 0)
                log_info("removed %zu routes and rules", n);
        if (r >= 0 && have_cfg)
                remove_links_and_addrs(&nl, &cfg);
        nlb_close(&nl);
        if (nftb_open(&nft, o->state_dir) >= 0 && nftb_delete_table(&nft) == 0)
                log_info("removed nft table inet nestrouter");
        nftb_close(&nft);
        /* opening the dnsmasq backend stops a dnsmasq an earlier daemon left behind */
        if (sd_event_new(&ev) >= 0 && dmb_open(&dm, ev, o->run_dir, o->state_dir, NULL, NULL) >= 0)
                dmb_close(&dm);
        sd_event_unref(ev);
        cfg_free(&cfg);
        diag_free(&diags);
        return r < 0 ? 1 : 0;
}
