/* What the kernel holds of the objects the desired state names: links (bridge, ports),
 * addresses on them, our routes and rules, and foreign routes in our way. */
#include <errno.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lib/array.h"
#include "backend/netlink/nl.h"
#include "backend/netlink/nl_msg.h"

static bool named_by(const struct nr_desired *w, const char *name)
{
        for (size_t i = 0; i < w->n_links; i++)
                if (!strcmp(w->links[i].name, name))
                        return true;
        for (size_t i = 0; i < w->n_addrs; i++)
                if (!strcmp(w->addrs[i].dev, name))
                        return true;
        return false;
}

static bool wanted_link(const struct nr_desired *w, const struct nr_desired *prev,
                        const char *name)
{
        return named_by(w, name) || (prev && named_by(prev, name));
}

static uint32_t sysfs_u32(const char *dev, const char *attr)
{
        char path[128];
        unsigned v = 0;
        snprintf(path, sizeof(path), "/sys/class/net/%s/bridge/%s", dev, attr);
        FILE *f = fopen(path, "re");
        if (f) {
                if (fscanf(f, "%u", &v) != 1)
                        v = 0;
                fclose(f);
        }
        return v;
}

static int observe_links(struct nlb *b, const struct nr_desired *w, const struct nr_desired *prev,
                         struct nr_observed *h)
{
        for (struct nl_object *o = nl_cache_get_first(b->links); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *)o;
                const char *name = rtnl_link_get_name(l);
                if (!wanted_link(w, prev, name))
                        continue;
                struct nr_obs_link ol = {0};
                const char *type = rtnl_link_get_type(l);
                snprintf(ol.name, sizeof(ol.name), "%s", name);
                ol.bridge = type && !strcmp(type, "bridge");
                ol.up = rtnl_link_get_flags(l) & IFF_UP;
                ol.mtu = rtnl_link_get_mtu(l);
                if (rtnl_link_get_master(l))
                        nlb_ifname(b, rtnl_link_get_master(l), ol.master);
                if (ol.bridge) {
                        ol.stp = sysfs_u32(name, "stp_state") != 0;
                        ol.forward_delay = sysfs_u32(name, "forward_delay");
                }
                NR_APPEND(h->links, h->n_links, ol);
        }
        return 0;
}

static int observe_addrs(struct nlb *b, const struct nr_desired *w, const struct nr_desired *prev,
                         struct nr_observed *h)
{
        for (struct nl_object *o = nl_cache_get_first(b->addrs); o; o = nl_cache_get_next(o)) {
                struct rtnl_addr *a = (struct rtnl_addr *)o;
                struct nr_addr oa = {0};
                if (rtnl_addr_get_family(a) != AF_INET)
                        continue;
                nlb_ifname(b, rtnl_addr_get_ifindex(a), oa.dev);
                if (!wanted_link(w, prev, oa.dev))
                        continue;
                oa.addr.addr = nlb_ip(rtnl_addr_get_local(a));
                oa.addr.len = (uint8_t)rtnl_addr_get_prefixlen(a);
                NR_APPEND(h->addrs, h->n_addrs, oa);
        }
        return 0;
}

static bool key_wanted(const struct nr_desired *w, const struct nr_route *r)
{
        for (size_t i = 0; i < w->n_routes; i++)
                if (!model_route_key_cmp(&w->routes[i], r))
                        return true;
        return false;
}

static void route_from_nl(struct nlb *b, struct rtnl_route *rt, struct nr_route *r)
{
        struct nl_addr *dst = rtnl_route_get_dst(rt);
        memset(r, 0, sizeof(*r));
        r->table = rtnl_route_get_table(rt);
        r->dst.addr = nlb_ip(dst);
        r->dst.len = dst ? (uint8_t)nl_addr_get_prefixlen(dst) : 0;
        r->metric = rtnl_route_get_priority(rt);
        r->prefsrc = nlb_ip(rtnl_route_get_pref_src(rt));
        if (rtnl_route_get_nnexthops(rt) >= 1) {
                struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, 0);
                r->gateway = nlb_ip(rtnl_route_nh_get_gateway(nh));
                nlb_ifname(b, rtnl_route_nh_get_ifindex(nh), r->dev);
        }
}

static int observe_routes(struct nlb *b, const struct nr_desired *w, struct nr_observed *h)
{
        struct nl_cache *cache;
        int r = rtnl_route_alloc_cache(b->sk, AF_INET, 0, &cache);
        if (r < 0)
                return nlb_errno(r);
        r = 0;
        for (struct nl_object *o = nl_cache_get_first(cache); o && r == 0;
             o = nl_cache_get_next(o)) {
                struct rtnl_route *rt = (struct rtnl_route *)o;
                if (rtnl_route_get_type(rt) != RTN_UNICAST || rtnl_route_get_table(rt) == 255)
                        continue;
                struct nr_obs_route or = {.protocol = rtnl_route_get_protocol(rt)};
                route_from_nl(b, rt, &or.r);
                if (or.protocol != w->route_protocol && !key_wanted(w, &or.r))
                        continue;
                void *p = realloc(h->routes, (h->n_routes + 1) * sizeof(*h->routes));
                if (!p)
                        r = -ENOMEM;
                else
                        (h->routes = p)[h->n_routes++] = or;
        }
        nl_cache_free(cache);
        return r;
}

static int observe_rules(struct nlb *b, const struct nr_desired *w, struct nr_observed *h)
{
        struct nl_cache *cache;
        int r = rtnl_rule_alloc_cache(b->sk, AF_INET, &cache);
        if (r < 0)
                return nlb_errno(r);
        r = 0;
        for (struct nl_object *o = nl_cache_get_first(cache); o && r == 0;
             o = nl_cache_get_next(o)) {
                struct rtnl_rule *ru = (struct rtnl_rule *)o;
                uint8_t proto = 0;
                if (rtnl_rule_get_protocol(ru, &proto) < 0 || proto != w->route_protocol)
                        continue;
                struct nr_rule x = {
                        .priority = rtnl_rule_get_prio(ru),
                        .table = rtnl_rule_get_table(ru),
                };
                struct nl_addr *src = rtnl_rule_get_src(ru);
                if (src) {
                        x.from.addr = nlb_ip(src);
                        x.from.len = (uint8_t)nl_addr_get_prefixlen(src);
                }
                uint32_t mark = rtnl_rule_get_mark(ru), mask = rtnl_rule_get_mask(ru);
                if (mark != UINT32_MAX && mark) {
                        x.fwmark = mark;
                        x.fwmask = mask;
                }
                const char *iif = rtnl_rule_get_iif(ru);
                if (iif)
                        snprintf(x.iif, sizeof(x.iif), "%s", iif);
                void *p = realloc(h->rules, (h->n_rules + 1) * sizeof(*h->rules));
                if (!p)
                        r = -ENOMEM;
                else
                        (h->rules = p)[h->n_rules++] = x;
        }
        nl_cache_free(cache);
        return r;
}

int nlb_observe(struct nlb *b, const struct nr_desired *want, const struct nr_desired *prev,
                struct nr_observed *have)
{
        int r;
        if (!b->links && (r = nlb_refresh(b)) < 0)
                return r;
        if ((r = observe_links(b, want, prev, have)) < 0 ||
            (r = observe_addrs(b, want, prev, have)) < 0 ||
            (r = observe_routes(b, want, have)) < 0 || (r = observe_rules(b, want, have)) < 0)
                return r;
        return 0;
}
