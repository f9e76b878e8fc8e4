/* Several hosts merged into one Route Server (azure_rs.h), with the checks between them. */
#include "core/azure/azure_rs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rs_merge {
        const struct nr_azure_host *hosts;
        struct nr_azure_rs_plan *p;
        struct nr_diags *diags;
        size_t from[6];            /* the host that gave each merged value */
        bool set[6];               /* [4]: the Route Server subnet given (names: non-empty) */
};

static void merge_str(struct rs_merge *m, size_t i, int slot, const char **have, const char *mine,
                      const char *key)
{
        azure_merge_name(m->hosts, i, &m->diags[i], have, &m->from[slot], mine, key,
                         "the hosts share one Route Server");
}

static void merge_azure(struct rs_merge *m, size_t i)
{
        const struct nr_azure *a = &m->hosts[i].cfg->azure;
        struct nr_azure_rs_plan *p = m->p;
        if (!a->present)
                return;
        p->named = true;
        merge_str(m, i, 0, &p->resource_group, a->resource_group, "resource_group");
        merge_str(m, i, 1, &p->location, a->location, "location");
        merge_str(m, i, 2, &p->vnet, a->vnet, "vnet");
        merge_str(m, i, 3, &p->route_server, a->route_server, "route_server");
        merge_str(m, i, 5, &p->route_table, a->route_table, "route_table");
        if (!a->route_server_subnet.len)
                return;
        if (!m->set[4]) {
                p->rs_subnet = a->route_server_subnet;
                p->b2b = a->branch_to_branch;
                m->set[4] = true;
                m->from[4] = i;
                return;
        }
        const char *other = m->hosts[m->from[4]].file;
        if (p->rs_subnet.addr != a->route_server_subnet.addr ||
            p->rs_subnet.len != a->route_server_subnet.len)
                azure_error(&m->diags[i], m->hosts[i].cfg, "azure.route_server_subnet",
                         "%s differs from %s's %s", prefix_s(a->route_server_subnet).s, other,
                         prefix_s(p->rs_subnet).s);
        if (p->b2b != a->branch_to_branch)
                azure_error(&m->diags[i], m->hosts[i].cfg, "azure.branch_to_branch",
                         "%s differs from %s's %s: Route Server has one setting",
                         a->branch_to_branch ? "true" : "false", other, p->b2b ? "true" : "false");
}

static bool same_peers(const struct nr_bgp *a, const struct nr_bgp *b)
{
        if (a->n_peers != b->n_peers)
                return false;
        for (size_t i = 0; i < a->n_peers; i++)
                if (a->peers[i] != b->peers[i])
                        return false;
        return true;
}

static void check_host(struct rs_merge *m, size_t i, size_t *first_bgp)
{
        const struct nr_config *cfg = m->hosts[i].cfg;
        const struct nr_azure_rs_host *h = &m->p->hosts[i];
        struct nr_diags *d = &m->diags[i];
        if (!cfg->bgp.present) {
                azure_error(d, cfg, "bgp", "no bgp: section: in Route Server mode every host "
                         "peers over BGP (bgp.asn, bgp.peers)");
                return;
        }
        if (*first_bgp == (size_t)-1)
                *first_bgp = i;
        else if (!same_peers(&cfg->bgp, &m->hosts[*first_bgp].cfg->bgp))
                azure_error(d, cfg, "bgp.peers", "differ from %s's: the hosts peer with the same "
                         "Route Server instances", m->hosts[*first_bgp].file);
        if (i >= NR_AZURE_RS_MAX_PEERS)
                azure_error(d, cfg, "bgp", "host %zu: Route Server peers with at most %d "
                         "appliances", i + 1, NR_AZURE_RS_MAX_PEERS);
        for (size_t j = 0; j < i; j++) {
                const struct nr_azure_rs_host *o = &m->p->hosts[j];
                if (!strcasecmp(h->name, o->name))
                        azure_error(d, cfg, "azure.vm_name", "peering name '%s' is also %s's: give "
                                 "one of them another azure.vm_name", h->name, o->file);
                if (h->ip_known && o->ip_known && h->ip == o->ip)
                        azure_error(d, cfg, "uplinks.lan.address", "%s is also %s's NIC2 address",
                                 ip_s(h->ip).s, o->file);
        }
}

static void fill_host(const struct nr_azure_host *src, struct nr_azure_rs_host *h)
{
        const struct nr_config *cfg = src->cfg;
        const struct nr_uplink *lan = &cfg->uplinks[NR_UPLINK_LAN];
        h->file = src->file;
        azure_route_name(src, h->name);
        h->ip_known = lan->present && !lan->dhcp;
        h->ip = h->ip_known ? lan->address.addr : 0;
        h->asn = cfg->bgp.asn;
        h->advertise = cfg->bgp.advertise;
        h->n_advertise = cfg->bgp.n_advertise;
        h->prepend = cfg->bgp.prepend;
        h->lan_nic = cfg->azure.lan_nic;
}

int azure_rs_build(const struct nr_azure_host *hosts, size_t n, struct nr_azure_rs_plan *p,
                   struct nr_diags *diags)
{
        memset(p, 0, sizeof(*p));
        p->resource_group = p->location = p->vnet = p->route_server = p->route_table = "";
        p->hosts = calloc(n ? n : 1, sizeof(*p->hosts));
        if (!p->hosts)
                return -ENOMEM;
        struct rs_merge m = {.hosts = hosts, .p = p, .diags = diags};
        size_t first_bgp = (size_t)-1;
        for (size_t i = 0; i < n; i++) {
                fill_host(&hosts[i], &p->hosts[i]);
                p->n++;
                merge_azure(&m, i);
                check_host(&m, i, &first_bgp);
        }
        for (size_t i = 0; i < n; i++)
                if (diags[i].n_errors)
                        return -EINVAL;
        return 0;
}

void azure_rs_free(struct nr_azure_rs_plan *p)
{
        free(p->hosts);
        memset(p, 0, sizeof(*p));
}
