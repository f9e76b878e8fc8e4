/* config + facts -> desired state. The routes mirror the Windows recipe's two static routes
 * (NAT subnet via NIC1, VNet and on-prem via NIC2) plus per-uplink tables and policy rules so
 * that replies leave by the NIC their request came in on; Azure drops them otherwise. */
#include "core/model/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lib/array.h"
#include "core/render/render.h"
#include "core/render/render_bird.h"

void model_facts_assumed(const struct nr_config *cfg, struct nr_facts *facts)
{
        memset(facts, 0, sizeof(*facts));
        facts->ipv6 = true;
        for (int r = 0; r < NR_UPLINK_COUNT; r++) {
                const struct nr_uplink *u = &cfg->uplinks[r];
                struct nr_uplink_fact *f = &facts->uplink[r];
                if (!u->present)
                        continue;
                f->found = true;
                if (u->match.kind == NR_MATCH_NAME) /* others are found at run time */
                        snprintf(f->ifname, sizeof(f->ifname), "%s", u->match.name);
                else
                        snprintf(f->ifname, sizeof(f->ifname), "<%s>", cfg_uplink_name(r));
                if (!u->dhcp) {
                        f->have_addr = true;
                        f->addr = u->address;
                        f->gateway = u->gateway;
                }
        }
        /* the configured ports; libvirt's taps and the leases are only known at run time */
        for (size_t i = 0; i < cfg->guests.n_ports && facts->n_ports < NR_FACT_PORTS_MAX; i++)
                snprintf(facts->ports[facts->n_ports++], NR_IFNAMSIZ, "%s", cfg->guests.ports[i]);
}

static void note(struct nr_desired *d, const char *fmt, const char *a, const char *b)
{
        if (d->n_notes < sizeof(d->notes) / sizeof(d->notes[0]))
                snprintf(d->notes[d->n_notes++], sizeof(d->notes[0]), fmt, a, b);
}

static int add_route(struct nr_desired *d, uint32_t table, struct nr_prefix dst, uint32_t gw,
                     const char *dev, uint32_t prefsrc)
{
        struct nr_route r = {.table = table, .dst = dst, .gateway = gw, .prefsrc = prefsrc};
        snprintf(r.dev, sizeof(r.dev), "%s", dev);
        NR_PUSH(d->routes, d->n_routes, r);
        return 0;
}

static int add_rule(struct nr_desired *d, uint32_t prio, struct nr_prefix from, uint32_t mark,
                    uint32_t table)
{
        struct nr_rule r = {.priority = prio, .from = from, .table = table};
        if (mark) {
                r.fwmark = mark;
                r.fwmask = NR_MARK_MASK;
        }
        NR_APPEND(d->rules, d->n_rules, r);
        return 0;
}

static int add_sysctl(struct nr_desired *d, const char *key, const char *value)
{
        struct nr_sysctl s;
        snprintf(s.key, sizeof(s.key), "%s", key);
        snprintf(s.value, sizeof(s.value), "%s", value);
        NR_APPEND(d->sysctls, d->n_sysctls, s);
        return 0;
}

/* The router learns nothing it was not configured with: no ICMP redirects on any interface it
 * owns, and no IPv6 router advertisements (a default route, SLAAC addresses) or IPv6 redirects.
 * On the guest bridge that is a guest taking over the router's IPv6; on the uplinks the file
 * asks for no IPv6 at all. */
static int learn_nothing(struct nr_desired *d, const struct nr_facts *facts, const char *dev)
{
        static const char *const v6[] = {"accept_ra", "autoconf", "accept_redirects"};
        char key[96];
        int r = 0;
        snprintf(key, sizeof(key), "net/ipv4/conf/%s/accept_redirects", dev);
        r |= add_sysctl(d, key, "0");
        for (size_t i = 0; facts->ipv6 && i < sizeof(v6) / sizeof(v6[0]); i++) {
                snprintf(key, sizeof(key), "net/ipv6/conf/%s/%s", dev, v6[i]);
                r |= add_sysctl(d, key, "0");
        }
        return r;
}

/* An uplink's own table: its subnet, its default route and the guest subnet, so that a reply
 * sourced from the uplink's address (or marked as belonging to it) never takes the other NIC
 * and still reaches the guests. */
static int uplink_objects(const struct nr_config *cfg, const struct nr_facts *facts,
                          enum nr_uplink_role role, struct nr_desired *d)
{
        const struct nr_uplink *u = &cfg->uplinks[role];
        const struct nr_uplink_fact *f = &facts->uplink[role];
        const struct nr_guests *g = &cfg->guests;
        const char *name = cfg_uplink_name(role);
        const struct nr_prefix any = {0, 0};
        int r = 0;

        if (!f->found) {
                note(d, "uplinks.%s: no interface matches%s", name, " (yet)");
                return 0;
        }
        if (!u->dhcp) {
                struct nr_addr a = {.addr = u->address};
                snprintf(a.dev, sizeof(a.dev), "%s", f->ifname);
                NR_APPEND(d->addrs, d->n_addrs, a);
        }
        char key[96];
        snprintf(key, sizeof(key), "net/ipv4/conf/%s/rp_filter", f->ifname);
        if (add_sysctl(d, key, "2") < 0)
                return -ENOMEM;
        /* a route back out of the same uplink is normal on Azure; redirects there only confuse */
        snprintf(key, sizeof(key), "net/ipv4/conf/%s/send_redirects", f->ifname);
        if (add_sysctl(d, key, "0") < 0 || learn_nothing(d, facts, f->ifname) < 0)
                return -ENOMEM;
        if (!f->have_addr) {
                note(d, "uplinks.%s (%s): waiting for an address from DHCP", name, f->ifname);
                return 0;
        }
        struct nr_prefix net = {prefix_network(f->addr), f->addr.len};
        struct nr_prefix host = {f->addr.addr, 32};
        uint32_t prio = cfg->router.rule_priority;
        uint32_t mark = role == NR_UPLINK_NAT ? NR_MARK_NAT : NR_MARK_LAN;

        if (role == NR_UPLINK_NAT && !u->dhcp)
                r |= add_route(d, NR_TABLE_MAIN, any, f->gateway, f->ifname, 0);
        for (size_t i = 0; i < u->n_routes; i++)
                r |= add_route(d, NR_TABLE_MAIN, u->routes[i], f->gateway, f->ifname, 0);
        r |= add_route(d, u->table, net, 0, f->ifname, f->addr.addr);
        r |= add_route(d, u->table, any, f->gateway, f->ifname, 0);
        r |= add_route(d, u->table, g->subnet, 0, g->bridge, g->gateway);
        r |= add_rule(d, prio + (uint32_t)role, any, mark, u->table);
        r |= add_rule(d, prio + 2 + (uint32_t)role, host, 0, u->table);
        return r < 0 ? -ENOMEM : 0;
}

static int guest_objects(const struct nr_config *cfg, const struct nr_facts *facts,
                         struct nr_desired *d)
{
        const struct nr_guests *g = &cfg->guests;
        struct nr_link br = {.bridge = true, .mtu = g->mtu};
        snprintf(br.name, sizeof(br.name), "%s", g->bridge);
        NR_APPEND(d->links, d->n_links, br);
        for (size_t i = 0; i < g->n_ports; i++) {
                struct nr_link p = {0};
                snprintf(p.name, sizeof(p.name), "%s", g->ports[i]);
                snprintf(p.master, sizeof(p.master), "%s", g->bridge);
                NR_APPEND(d->links, d->n_links, p);
        }
        struct nr_addr a = {.addr = {g->gateway, g->subnet.len}};
        snprintf(a.dev, sizeof(a.dev), "%s", g->bridge);
        NR_APPEND(d->addrs, d->n_addrs, a);

        char key[96];
        int r = add_sysctl(d, "net/ipv4/ip_forward", "1");
        /* the kernel ORs all/ and the device's value: both must be 0 to stop redirects */
        r |= add_sysctl(d, "net/ipv4/conf/all/send_redirects", "0");
        snprintf(key, sizeof(key), "net/ipv4/conf/%s/send_redirects", g->bridge);
        r |= add_sysctl(d, key, "0");
        r |= learn_nothing(d, facts, g->bridge);
        return r < 0 ? -ENOMEM : 0;
}

/* Configured reservations, then the VMs' (a VM named like a reservation is that host). */
/* BIRD's configuration in both states; which one applies is the planner's health gate
 * (bgp_gate.h), decided from what a pass observes. */
static int bgp_objects(const struct nr_config *cfg, const struct nr_facts *facts,
                       struct nr_desired *d)
{
        if (!cfg->bgp.present)
                return 0;
        const struct nr_uplink_fact *lan = &facts->uplink[NR_UPLINK_LAN];
        d->bgp_drained = facts->bgp_drained;
        d->bird_conf = render_bird(cfg, lan, true, NULL);
        /* one fixed reason: the reason changing must not rewrite the file */
        d->bird_conf_withdrawn = render_bird(cfg, lan, false, "drained or unhealthy: "
                                             "nestrouterctl status says which");
        return d->bird_conf && d->bird_conf_withdrawn ? 0 : -ENOMEM;
}

static int merge_reservations(const struct nr_config *cfg, struct nr_desired *d)
{
        const struct nr_dhcp *dh = &cfg->guests.dhcp;
        /* room for every VM's too: thousands appended one at a time were copied over and over */
        d->reservations = malloc((dh->n_reservations + cfg->n_vms + 1) * sizeof(*d->reservations));
        if (!d->reservations)
                return -ENOMEM;
        if (dh->n_reservations)
                memcpy(d->reservations, dh->reservations,
                       dh->n_reservations * sizeof(*d->reservations));
        d->n_reservations = dh->n_reservations;
        for (size_t i = 0; i < cfg->n_vms; i++) {
                const struct nr_vm *vm = &cfg->vms[i];
                bool known = false;
                for (size_t j = 0; j < dh->n_reservations; j++)
                        known |= !strcmp(dh->reservations[j].name, vm->name);
                if (known || !vm->ip)
                        continue;
                struct nr_reservation r = {.has_mac = true, .ip = vm->ip, .from_vm = true};
                memcpy(r.mac, vm->mac, 6);
                snprintf(r.name, sizeof(r.name), "%s", vm->name);
                d->reservations[d->n_reservations++] = r;
        }
        return 0;
}

int model_route_key_cmp(const struct nr_route *a, const struct nr_route *b)
{
        if (a->table != b->table)
                return a->table < b->table ? -1 : 1;
        if (a->dst.len != b->dst.len)
                return a->dst.len < b->dst.len ? -1 : 1;
        if (a->dst.addr != b->dst.addr)
                return a->dst.addr < b->dst.addr ? -1 : 1;
        if (a->metric != b->metric)
                return a->metric < b->metric ? -1 : 1;
        return 0;
}

bool model_route_equal(const struct nr_route *a, const struct nr_route *b)
{
        return model_route_key_cmp(a, b) == 0 && a->gateway == b->gateway &&
               !strcmp(a->dev, b->dev) && a->prefsrc == b->prefsrc;
}

int model_rule_cmp(const struct nr_rule *a, const struct nr_rule *b)
{
        if (a->priority != b->priority)
                return a->priority < b->priority ? -1 : 1;
        if (a->from.addr != b->from.addr || a->from.len != b->from.len)
                return a->from.addr < b->from.addr ||
                                       (a->from.addr == b->from.addr && a->from.len < b->from.len)
                               ? -1
                               : 1;
        if (a->fwmark != b->fwmark || a->fwmask != b->fwmask)
                return a->fwmark < b->fwmark || (a->fwmark == b->fwmark && a->fwmask < b->fwmask)
                               ? -1
                               : 1;
        if (a->table != b->table)
                return a->table < b->table ? -1 : 1;
        return strcmp(a->iif, b->iif);
}

int model_addr_cmp(const struct nr_addr *a, const struct nr_addr *b)
{
        int c = strcmp(a->dev, b->dev);
        if (c)
                return c;
        if (a->addr.addr != b->addr.addr)
                return a->addr.addr < b->addr.addr ? -1 : 1;
        return a->addr.len < b->addr.len ? -1 : a->addr.len > b->addr.len;
}

static int route_qcmp(const void *a, const void *b)
{
        return model_route_key_cmp(a, b);
}

static int rule_qcmp(const void *a, const void *b)
{
        return model_rule_cmp(a, b);
}

static int addr_qcmp(const void *a, const void *b)
{
        return model_addr_cmp(a, b);
}

static int bridge_inputs(const struct nr_config *cfg, const struct nr_facts *facts,
                         struct nr_bridge_inputs *in)
{
        const struct nr_guests *g = &cfg->guests;
        snprintf(in->bridge, sizeof(in->bridge), "%s", g->bridge);
        in->gateway = g->gateway;
        in->subnet = g->subnet;
        in->isolation = g->isolation;
        in->ports_truncated = facts->ports_truncated;
        in->leases_truncated = facts->leases_truncated;
        in->ports = malloc((facts->n_ports + 1) * sizeof(*in->ports));
        in->leases = malloc((facts->n_leases + 1) * sizeof(*in->leases));
        if (!in->ports || !in->leases)
                return -ENOMEM;
        for (size_t i = 0; i < facts->n_ports; i++)
                snprintf(in->ports[i], sizeof(in->ports[i]), "%s", facts->ports[i]);
        if (facts->n_leases)
                memcpy(in->leases, facts->leases, facts->n_leases * sizeof(*in->leases));
        in->n_ports = facts->n_ports;
        in->n_leases = facts->n_leases;
        return 0;
}

static bool bridge_inputs_equal(const struct nr_bridge_inputs *a,
                                const struct nr_bridge_inputs *b)
{
        if (strcmp(a->bridge, b->bridge) || a->gateway != b->gateway ||
            a->subnet.addr != b->subnet.addr || a->subnet.len != b->subnet.len ||
            a->isolation != b->isolation || a->ports_truncated != b->ports_truncated ||
            a->leases_truncated != b->leases_truncated || a->n_ports != b->n_ports ||
            a->n_leases != b->n_leases)
                return false;
        for (size_t i = 0; i < a->n_ports; i++)
                if (strcmp(a->ports[i], b->ports[i]))
                        return false;
        for (size_t i = 0; i < a->n_leases; i++)
                if (a->leases[i].ip != b->leases[i].ip ||
                    memcmp(a->leases[i].mac, b->leases[i].mac, sizeof(a->leases[i].mac)))
                        return false;
        return true;
}

static bool reservations_equal(const struct nr_desired *a, const struct nr_desired *b)
{
        if (a->n_reservations != b->n_reservations)
                return false;
        for (size_t i = 0; i < a->n_reservations; i++) {
                const struct nr_reservation *x = &a->reservations[i], *y = &b->reservations[i];
                if (strcmp(x->name, y->name) || x->has_mac != y->has_mac || x->ip != y->ip ||
                    x->from_vm != y->from_vm || memcmp(x->mac, y->mac, sizeof(x->mac)))
                        return false;
        }
        return true;
}

/* The bridge table: prev's when it was made from the same inputs (it is immutable and shared
 * by reference), else rendered. */
static int bridge_table(const struct nr_config *cfg, const struct nr_facts *facts,
                        const struct nr_desired *prev, struct nr_desired *d)
{
        if (bridge_inputs(cfg, facts, &d->bridge_in) < 0)
                return -ENOMEM;
        if (prev && prev->nft_bridge && prev->bridge_in.ports &&
            bridge_inputs_equal(&prev->bridge_in, &d->bridge_in) && reservations_equal(prev, d))
                d->nft_bridge = nftm_ref(prev->nft_bridge);
        else
                d->nft_bridge = render_nft_bridge(cfg, facts, d->reservations, d->n_reservations);
        return d->nft_bridge ? 0 : -ENOMEM;
}

int model_build(const struct nr_config *cfg, const struct nr_facts *facts,
                const struct nr_paths *paths, struct nr_desired *d)
{
        return model_build_from(cfg, facts, paths, NULL, d);
}

int model_build_from(const struct nr_config *cfg, const struct nr_facts *facts,
                     const struct nr_paths *paths, const struct nr_desired *prev,
                     struct nr_desired *d)
{
        int r;
        memset(d, 0, sizeof(*d));
        d->route_protocol = cfg->router.route_protocol;
        if ((r = guest_objects(cfg, facts, d)) < 0)
                goto fail;
        for (int role = 0; role < NR_UPLINK_COUNT; role++)
                if (cfg->uplinks[role].present &&
                    (r = uplink_objects(cfg, facts, (enum nr_uplink_role)role, d)) < 0)
                        goto fail;
        if ((r = merge_reservations(cfg, d)) < 0)
                goto fail;
        if (d->n_routes > 1)
                qsort(d->routes, d->n_routes, sizeof(*d->routes), route_qcmp);
        if (d->n_rules > 1)
                qsort(d->rules, d->n_rules, sizeof(*d->rules), rule_qcmp);
        if (d->n_addrs > 1)
                qsort(d->addrs, d->n_addrs, sizeof(*d->addrs), addr_qcmp);
        r = -ENOMEM;
        if (!(d->nft = render_nft(cfg, facts)))
                goto fail;
        if (bridge_table(cfg, facts, prev, d) < 0)
                goto fail;
        d->dhcp = cfg->guests.dhcp.enabled;
        snprintf(d->dhcp_bridge, sizeof(d->dhcp_bridge), "%s", cfg->guests.bridge);
        if ((r = render_dnsmasq(cfg, d->reservations, d->n_reservations, paths, &d->dnsmasq_conf,
                                &d->dnsmasq_hosts)) < 0)
                goto fail;
        if ((r = bgp_objects(cfg, facts, d)) < 0)
                goto fail;
        return 0;
fail:
        model_free(d);
        return r;
}

int model_empty(uint8_t route_protocol, struct nr_desired *out)
{
        memset(out, 0, sizeof(*out));
        out->route_protocol = route_protocol;
        return 0;
}

int model_doms(const struct nr_config *cfg, bool hold, struct nr_desired *out)
{
        memset(out, 0, sizeof(*out));
        out->doms_on = true;
        out->route_protocol = cfg->router.route_protocol;
        if (!cfg->n_vms)
                return 0;
        if (!(out->doms = calloc(cfg->n_vms, sizeof(*out->doms))))
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_vms; i++) {
                struct nr_dom *d = &out->doms[i];
                snprintf(d->name, sizeof(d->name), "%s", cfg->vms[i].name);
                d->autostart = cfg->vms[i].autostart && !hold;
        }
        out->n_doms = cfg->n_vms;
        return 0;
}

void model_free(struct nr_desired *d)
{
        free(d->doms);
        free(d->links);
        free(d->addrs);
        free(d->routes);
        free(d->rules);
        free(d->sysctls);
        free(d->reservations);
        nftm_unref(d->nft);
        nftm_unref(d->nft_bridge);
        free(d->bridge_in.ports);
        free(d->bridge_in.leases);
        free(d->dnsmasq_conf);
        free(d->dnsmasq_hosts);
        free(d->bird_conf);
        free(d->bird_conf_withdrawn);
        memset(d, 0, sizeof(*d));
}
