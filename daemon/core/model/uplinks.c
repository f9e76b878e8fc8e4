/* Uplink matching: interfaces as the kernel shows them + config + IMDS roles -> NIC1, NIC2. */
#include "core/model/uplinks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool mac_candidate(const struct nr_link_fact *l, const uint8_t mac[6])
{
        return l->has_mac && !memcmp(l->mac, mac, 6) && !l->enslaved && !l->aggregate;
}

static const struct nr_link_fact *match_mac(const struct nr_link_fact *links, size_t n,
                                            const uint8_t mac[6])
{
        const struct nr_link_fact *best = NULL;
        for (size_t i = 0; i < n; i++) {
                const struct nr_link_fact *l = &links[i];
                if (!mac_candidate(l, mac))
                        continue;
                if (!best || (l->has_addr4 && !best->has_addr4) ||
                    (l->has_addr4 == best->has_addr4 && l->ifindex < best->ifindex))
                        best = l;
        }
        return best;
}

static const struct nr_link_fact *match_link(const struct nr_link_fact *links, size_t n,
                                             const struct nr_match *m, const uint8_t *azmac)
{
        switch (m->kind) {
        case NR_MATCH_NAME:
                for (size_t i = 0; i < n; i++)
                        if (!strcmp(links[i].name, m->name))
                                return &links[i];
                return NULL;
        case NR_MATCH_MAC:
                return match_mac(links, n, m->mac);
        case NR_MATCH_AZURE_PRIMARY:
        case NR_MATCH_AZURE_SUBNET:
                return azmac ? match_mac(links, n, azmac) : NULL;
        case NR_MATCH_NONE:
                break;
        }
        return NULL;
}

void uplinks_match(const struct nr_config *cfg, const struct imds_roles *roles,
                   const struct nr_link_fact *links, size_t n,
                   struct nr_uplink_fact out[NR_UPLINK_COUNT])
{
        for (int r = 0; r < NR_UPLINK_COUNT; r++) {
                const struct nr_uplink *u = &cfg->uplinks[r];
                struct nr_uplink_fact *f = &out[r];
                const uint8_t *azmac = roles && roles->known[r] ? roles->mac[r] : NULL;
                memset(f, 0, sizeof(*f));
                const struct nr_link_fact *l = u->present ? match_link(links, n, &u->match, azmac)
                                                          : NULL;
                if (!l)
                        continue;
                f->found = true;
                snprintf(f->ifname, sizeof(f->ifname), "%s", l->name);
                if (!u->dhcp) {
                        f->have_addr = true;
                        f->addr = u->address;
                        f->gateway = u->gateway;
                } else if (l->has_global4) {
                        struct nr_prefix net = {prefix_network(l->global4), l->global4.len};
                        f->have_addr = true;
                        f->addr = l->global4;
                        f->gateway = u->gateway_set ? u->gateway : prefix_first_host(net);
                }
        }
}

static void add_port(struct nr_facts *f, const char *name)
{
        for (size_t i = 0; i < f->n_ports; i++)
                if (!strcmp(f->ports[i], name))
                        return;
        if (f->n_ports == NR_FACT_PORTS_MAX) {
                f->ports_truncated = true;
                return;
        }
        snprintf(f->ports[f->n_ports++], NR_IFNAMSIZ, "%s", name);
}

static int port_cmp(const void *a, const void *b)
{
        return strcmp(a, b);
}

void facts_build(const struct nr_config *cfg, const struct imds_roles *roles,
                 const struct nr_link_fact *links, size_t n, bool ipv6, struct nr_facts *facts)
{
        memset(facts, 0, sizeof(*facts));
        facts->ipv6 = ipv6;
        uplinks_match(cfg, roles, links, n, facts->uplink);
        for (size_t i = 0; i < cfg->guests.n_ports; i++)
                add_port(facts, cfg->guests.ports[i]);
        for (size_t i = 0; cfg->guests.bridge[0] && i < n; i++)
                if (!strcmp(links[i].master, cfg->guests.bridge))
                        add_port(facts, links[i].name);
        qsort(facts->ports, facts->n_ports, sizeof(facts->ports[0]), port_cmp);
}
