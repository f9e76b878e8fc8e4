/* Several hosts' configurations merged into the one route table they share: the route of each
 * host, the names of the Azure resources, and the checks between hosts (render_azure.c prints
 * the result). Pure. */
#include "core/azure/azure_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- helpers ----------------------------------------------------------------------------- */

void azure_error(struct nr_diags *d, const struct nr_config *cfg, const char *path, const char *fmt,
                 ...)
{
        int line, col;
        pos_get(&cfg->pos, path, &line, &col);
        va_list ap;
        va_start(ap, fmt);
        diag_vadd(d, NR_SEV_ERROR, line, col, path, fmt, ap);
        va_end(ap);
}

static bool route_char_ok(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
}

/* Azure route names: letters, digits, '_', '.', '-', at most 80, starting with a letter or
 * digit and ending with one or '_'. Anything else in a VM or file name becomes '-'. */
void azure_route_name(const struct nr_azure_host *h, char out[NR_AZNAME_MAX])
{
        const char *src = h->cfg->azure.vm_name;
        size_t len = strlen(src);
        if (!len) {
                const char *slash = strrchr(h->file, '/');
                src = slash ? slash + 1 : h->file;
                len = strlen(src);
                const char *dot = strrchr(src, '.');
                if (dot && dot != src && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
                        len = (size_t)(dot - src);
        }
        size_t o = 0;
        for (size_t i = 0; i < len && o < 80; i++)
                out[o++] = route_char_ok(src[i]) ? src[i] : '-';
        out[o] = '\0';
        while (o && (out[o - 1] == '.' || out[o - 1] == '-'))
                out[--o] = '\0';
        size_t skip = strspn(out, "_.-");
        memmove(out, out + skip, o - skip + 1);
        if (!out[0])
                strcpy(out, "nestrouter");
}

/* ---- merging the hosts ------------------------------------------------------------------- */

struct merge {
        const struct nr_azure_host *hosts;
        struct nr_azure_plan *plan;
        struct nr_diags *diags;
        size_t from[4];            /* which host gave resource_group, location, vnet, route_table */
        size_t gws_from;
        bool gws_set;
};

void azure_merge_name(const struct nr_azure_host *hosts, size_t i, struct nr_diags *d,
                      const char **have, size_t *from, const char *mine, const char *key,
                      const char *why)
{
        if (!mine[0])
                return;
        if (!(*have)[0]) {
                *have = mine;
                *from = i;
                return;
        }
        if (strcasecmp(*have, mine)) {
                char path[64];
                snprintf(path, sizeof(path), "azure.%s", key);
                azure_error(d, hosts[i].cfg, path, "'%s' differs from %s's '%s': %s", mine,
                            hosts[*from].file, *have, why);
        }
}

static void merge_name(struct merge *m, size_t i, int slot, const char **have, const char *mine,
                       const char *key)
{
        azure_merge_name(m->hosts, i, &m->diags[i], have, &m->from[slot], mine, key,
                         "one route table serves every host, so the azure: names must agree "
                         "(or be left out)");
}

static bool has_subnet(const struct nr_azure_plan *p, const char *name)
{
        for (size_t i = 0; i < p->n_subnets; i++)
                if (!strcasecmp(p->subnets[i], name))
                        return true;
        return false;
}

static void merge_azure(struct merge *m, size_t i)
{
        const struct nr_azure *a = &m->hosts[i].cfg->azure;
        struct nr_azure_plan *p = m->plan;
        if (!a->present)
                return;
        p->named = true;
        merge_name(m, i, 0, &p->resource_group, a->resource_group, "resource_group");
        merge_name(m, i, 1, &p->location, a->location, "location");
        merge_name(m, i, 2, &p->vnet, a->vnet, "vnet");
        merge_name(m, i, 3, &p->route_table, a->route_table, "route_table");
        if (!m->gws_set) {
                m->gws_set = true;
                m->gws_from = i;
                p->gateway_subnet = a->gateway_subnet;
        } else if (p->gateway_subnet != a->gateway_subnet) {
                azure_error(&m->diags[i], m->hosts[i].cfg, "azure.gateway_subnet",
                         "%s differs from %s's %s: the route table is either on GatewaySubnet "
                         "or not", a->gateway_subnet ? "true" : "false",
                         m->hosts[m->gws_from].file, p->gateway_subnet ? "true" : "false");
        }
        for (size_t k = 0; k < a->n_subnets; k++)
                if (!has_subnet(p, a->subnets[k]))
                        p->subnets[p->n_subnets++] = a->subnets[k];
}

static struct nr_prefix subnet_of(struct nr_prefix p)
{
        return (struct nr_prefix){prefix_network(p), p.len};
}

/* Host i's guests against host j's guests and uplink subnets (both directions). */
static void check_pair(struct merge *m, size_t i, size_t j)
{
        const struct nr_config *a = m->hosts[i].cfg, *b = m->hosts[j].cfg;
        const char *bf = m->hosts[j].file;
        struct nr_diags *d = &m->diags[i];
        if (prefix_overlaps(a->guests.subnet, b->guests.subnet))
                azure_error(d, a, "guests.subnet",
                         "%s overlaps %s's guest subnet %s: every host needs its own floating "
                         "subnet (one route each)",
                         prefix_s(a->guests.subnet).s, bf, prefix_s(b->guests.subnet).s);
        for (int r = 0; r < NR_UPLINK_COUNT; r++) {
                char path[64];
                const struct nr_uplink *ua = &a->uplinks[r], *ub = &b->uplinks[r];
                if (ub->present && !ub->dhcp && prefix_overlaps(a->guests.subnet, ub->address))
                        azure_error(d, a, "guests.subnet", "%s overlaps %s's %s subnet %s",
                                 prefix_s(a->guests.subnet).s, bf, cfg_uplink_name(r),
                                 prefix_s(subnet_of(ub->address)).s);
                snprintf(path, sizeof(path), "uplinks.%s.address", cfg_uplink_name(r));
                if (ua->present && !ua->dhcp && prefix_overlaps(ua->address, b->guests.subnet))
                        azure_error(d, a, path, "the %s subnet %s overlaps %s's guest subnet %s",
                                 cfg_uplink_name(r), prefix_s(subnet_of(ua->address)).s, bf,
                                 prefix_s(b->guests.subnet).s);
        }
}

static void check_routes(struct merge *m, size_t i)
{
        const struct nr_azure_route *r = &m->plan->routes[i];
        const struct nr_config *cfg = m->hosts[i].cfg;
        for (size_t j = 0; j < i; j++) {
                const struct nr_azure_route *o = &m->plan->routes[j];
                if (!strcasecmp(r->name, o->name))
                        azure_error(&m->diags[i], cfg, "azure.vm_name",
                                 "route name '%s'%s is also %s's: give one of them another "
                                 "azure.vm_name", r->name,
                                 cfg->azure.vm_name[0] ? "" : " (from the file name)", o->file);
                if (r->has_lan && o->has_lan && r->next_hop_known && o->next_hop_known &&
                    r->next_hop == o->next_hop)
                        azure_error(&m->diags[i], cfg, "uplinks.lan.address",
                                 "%s is also %s's NIC2 address", ip_s(r->next_hop).s, o->file);
                if (r->lan_nic[0] && !strcasecmp(r->lan_nic, o->lan_nic))
                        azure_error(&m->diags[i], cfg, "azure.lan_nic",
                                 "NIC %s is also %s's NIC2", r->lan_nic, o->file);
                check_pair(m, i, j);
        }
}

static void fill_route(const struct nr_azure_host *h, struct nr_azure_route *r)
{
        const struct nr_uplink *lan = &h->cfg->uplinks[NR_UPLINK_LAN];
        r->file = h->file;
        azure_route_name(h, r->name);
        r->guests = h->cfg->guests.subnet;
        r->has_lan = lan->present;
        r->next_hop_known = lan->present && !lan->dhcp;
        r->next_hop = r->next_hop_known ? lan->address.addr : 0;
        r->lan_nic = h->cfg->azure.lan_nic;
}

int azure_plan_build(const struct nr_azure_host *hosts, size_t n, struct nr_azure_plan *plan,
                     struct nr_diags *diags)
{
        memset(plan, 0, sizeof(*plan));
        plan->resource_group = plan->location = plan->vnet = plan->route_table = "";
        plan->gateway_subnet = true;
        size_t n_sub = 0;
        for (size_t i = 0; i < n; i++)
                n_sub += hosts[i].cfg->azure.n_subnets;
        plan->routes = calloc(n ? n : 1, sizeof(*plan->routes));
        plan->subnets = calloc(n_sub ? n_sub : 1, sizeof(*plan->subnets));
        if (!plan->routes || !plan->subnets) {
                azure_plan_free(plan);
                return -ENOMEM;
        }
        struct merge m = {.hosts = hosts, .plan = plan, .diags = diags};
        for (size_t i = 0; i < n; i++) {
                merge_azure(&m, i);
                fill_route(&hosts[i], &plan->routes[i]);
                plan->n_lan += plan->routes[i].has_lan;
                plan->n_routes++;
                check_routes(&m, i);
        }
        if (plan->gateway_subnet) { /* handled on its own: it may not exist yet */
                size_t o = 0;
                for (size_t k = 0; k < plan->n_subnets; k++)
                        if (strcasecmp(plan->subnets[k], NR_AZURE_GATEWAY_SUBNET))
                                plan->subnets[o++] = plan->subnets[k];
                plan->n_subnets = o;
        }
        for (size_t i = 0; i < n; i++)
                if (diags[i].n_errors)
                        return -EINVAL;
        return 0;
}

void azure_plan_free(struct nr_azure_plan *plan)
{
        free(plan->routes);
        free(plan->subnets);
        memset(plan, 0, sizeof(*plan));
}

