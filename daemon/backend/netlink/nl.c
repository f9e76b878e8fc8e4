/* Netlink backend on libnl-route-3 (the route dump is read with libmnl: nl_observe.c).
 * Observation is a fresh dump per reconcile pass (cheap at this scale, and never stale); only
 * routes and rules carrying our rtm_protocol are ever deleted. The bridge is created with a
 * hand-built RTM_NEWLINK (libnl 3.7 cannot set IFLA_BR_STP_STATE / IFLA_BR_FORWARD_DELAY);
 * see nl_msg.c. */
#include "backend/netlink/nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
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
#include <unistd.h>

#include "core/model/uplinks.h"
#include "backend/netlink/nl_msg.h"

int nlb_errno(int nlerr)
{
        switch (-nlerr) {
        case NLE_EXIST: return -EEXIST;
        case NLE_OBJ_NOTFOUND: return -ENOENT;
        case NLE_NODEV: return -ENODEV;
        case NLE_PERM: return -EPERM;
        case NLE_NOACCESS: return -EACCES;
        case NLE_INVAL: return -EINVAL;
        case NLE_NOMEM: return -ENOMEM;
        case NLE_BUSY: return -EBUSY;
        case NLE_RANGE: return -ERANGE;
        case NLE_AGAIN: return -EAGAIN;
        case NLE_NOADDR: return -EADDRNOTAVAIL;
        default: return -EIO;
        }
}

static int on_event(struct nl_msg *msg, void *arg)
{
        struct nlb *b = arg;
        uint16_t type = nlmsg_hdr(msg)->nlmsg_type;
        b->events++;
        if (type == RTM_NEWLINK || type == RTM_DELLINK)
                b->link_events++;
        return NL_OK;
}

int nlb_open(struct nlb *b)
{
        memset(b, 0, sizeof(*b));
        b->sk = nl_socket_alloc();
        b->mon = nl_socket_alloc();
        if (!b->sk || !b->mon)
                return -ENOMEM;
        int r = nl_connect(b->sk, NETLINK_ROUTE);
        if (r < 0)
                return nlb_errno(r);
        nl_socket_set_buffer_size(b->sk, 1 << 20, 1 << 20);
        nl_socket_disable_seq_check(b->mon);
        nl_socket_modify_cb(b->mon, NL_CB_VALID, NL_CB_CUSTOM, on_event, b);
        if ((r = nl_connect(b->mon, NETLINK_ROUTE)) < 0 ||
            (r = nl_socket_add_memberships(b->mon, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
                                           RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV4_RULE,
                                           RTNLGRP_IPV4_NETCONF, 0)) < 0 ||
            (r = nl_socket_set_nonblocking(b->mon)) < 0)
                return nlb_errno(r);
        nl_socket_set_buffer_size(b->mon, 4 << 20, 0);
        b->dump = mnl_socket_open(NETLINK_ROUTE);
        if (!b->dump || mnl_socket_bind(b->dump, 0, MNL_SOCKET_AUTOPID) < 0)
                return -errno;
        return 0;
}

void nlb_close(struct nlb *b)
{
        if (b->links)
                nl_cache_free(b->links);
        if (b->addrs)
                nl_cache_free(b->addrs);
        nl_socket_free(b->sk);
        nl_socket_free(b->mon);
        if (b->dump)
                mnl_socket_close(b->dump);
        free(b->br_ports);
        memset(b, 0, sizeof(*b));
}

int nlb_refresh(struct nlb *b)
{
        struct nl_cache *links = NULL, *addrs = NULL;
        int r = rtnl_link_alloc_cache(b->sk, AF_UNSPEC, &links);
        if (r >= 0)
                r = rtnl_addr_alloc_cache(b->sk, &addrs);
        if (r < 0) {
                if (links)
                        nl_cache_free(links);
                return nlb_errno(r);
        }
        if (b->links)
                nl_cache_free(b->links);
        if (b->addrs)
                nl_cache_free(b->addrs);
        b->links = links;
        b->addrs = addrs;
        return 0;
}

int nlb_monitor_fd(struct nlb *b)
{
        return nl_socket_get_fd(b->mon);
}

int nlb_monitor_drain(struct nlb *b)
{
        unsigned long before = b->events;
        bool overrun = false;
        for (int i = 0; i < 1024; i++) { /* bounded: a flood is handled as an overrun */
                int r = nl_recvmsgs_default(b->mon);
                if (r == -NLE_AGAIN)
                        break;
                if (r == -NLE_NOMEM || r == -NLE_MSG_OVERFLOW) {
                        overrun = true;
                        b->overruns++;
                }
                if (r < 0 && r != -NLE_NOMEM && r != -NLE_MSG_OVERFLOW)
                        break;
        }
        return overrun ? -ENOBUFS : (int)(b->events - before);
}

/* ---- conversions ------------------------------------------------------------------------- */

uint32_t nlb_ip(struct nl_addr *a)
{
        uint32_t be = 0;
        if (a && nl_addr_get_family(a) == AF_INET && nl_addr_get_len(a) == 4)
                memcpy(&be, nl_addr_get_binary_addr(a), 4);
        return ntohl(be);
}

struct nl_addr *nlb_addr(uint32_t ip, uint8_t len)
{
        uint32_t be = htonl(ip);
        struct nl_addr *a = nl_addr_build(AF_INET, &be, 4);
        if (a)
                nl_addr_set_prefixlen(a, len);
        return a;
}

const char *nlb_ifname(struct nlb *b, int ifindex, char *buf)
{
        buf[0] = '\0';
        if (b->links)
                rtnl_link_i2name(b->links, ifindex, buf, NR_IFNAMSIZ);
        return buf;
}

int nlb_ifindex(struct nlb *b, const char *name)
{
        return b->links ? rtnl_link_name2i(b->links, name) : 0;
}

/* ---- the bridge's ports across its re-creation --------------------------------------------- */

static size_t ports_of(struct nlb *b, int master, char (**out)[16])
{
        size_t n = 0;
        *out = NULL;
        for (struct nl_object *o = nl_cache_get_first(b->links); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *)o;
                if (rtnl_link_get_master(l) != master)
                        continue;
                char (*nv)[16] = realloc(*out, (n + 1) * sizeof(**out));
                if (!nv)
                        break;
                *out = nv;
                snprintf((*out)[n++], sizeof(**out), "%s", rtnl_link_get_name(l));
        }
        return n;
}

size_t nlb_bridge_orphans(struct nlb *b, const char *bridge, char (**out)[16])
{
        *out = NULL;
        int now = b->links ? nlb_ifindex(b, bridge) : 0;
        if (!now)
                return 0; /* gone: keep what it had until it is back */
        size_t n = 0;
        if (b->br_ifindex && now != b->br_ifindex) {
                for (size_t i = 0; i < b->n_br_ports; i++) {
                        struct rtnl_link *l = rtnl_link_get_by_name(b->links, b->br_ports[i]);
                        bool free_port = l && !rtnl_link_get_master(l);
                        if (l)
                                rtnl_link_put(l);
                        if (!free_port)
                                continue;
                        char (*nv)[16] = realloc(*out, (n + 1) * sizeof(**out));
                        if (!nv)
                                break;
                        *out = nv;
                        snprintf((*out)[n++], sizeof(**out), "%s", b->br_ports[i]);
                }
                b->ports_readopted += n;
        }
        /* what it holds now, plus the ports on their way back to it */
        char (*cur)[16];
        size_t m = ports_of(b, now, &cur);
        char (*all)[16] = realloc(cur, (m + n + 1) * sizeof(*cur));
        if (all) {
                if (n)
                        memcpy(all + m, *out, n * sizeof(*all));
                free(b->br_ports);
                b->br_ports = all;
                b->n_br_ports = m + n;
        } else {
                free(cur);
        }
        b->br_ifindex = now;
        return n;
}

/* ---- facts ------------------------------------------------------------------------------- */

static bool first_addr(struct nlb *b, int ifindex, struct nr_prefix *out, bool *any)
{
        *any = false;
        for (struct nl_object *o = nl_cache_get_first(b->addrs); o; o = nl_cache_get_next(o)) {
                struct rtnl_addr *a = (struct rtnl_addr *)o;
                if (rtnl_addr_get_family(a) != AF_INET || rtnl_addr_get_ifindex(a) != ifindex)
                        continue;
                *any = true;
                if (rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE)
                        continue;
                out->addr = nlb_ip(rtnl_addr_get_local(a));
                out->len = (uint8_t)rtnl_addr_get_prefixlen(a);
                return true;
        }
        return false;
}

/* One interface as the kernel shows it; which one is an uplink is core/model/uplinks.c's call. */
static void link_fact(struct nlb *b, struct rtnl_link *l, struct nr_link_fact *f)
{
        memset(f, 0, sizeof(*f));
        snprintf(f->name, sizeof(f->name), "%s", rtnl_link_get_name(l));
        f->ifindex = rtnl_link_get_ifindex(l);
        struct nl_addr *hw = rtnl_link_get_addr(l);
        if (hw && nl_addr_get_len(hw) == 6) {
                f->has_mac = true;
                memcpy(f->mac, nl_addr_get_binary_addr(hw), 6);
        }
        f->enslaved = rtnl_link_get_master(l) || (rtnl_link_get_flags(l) & IFF_SLAVE);
        if (rtnl_link_get_master(l))
                nlb_ifname(b, rtnl_link_get_master(l), f->master);
        const char *type = rtnl_link_get_type(l);
        f->aggregate = type && (!strcmp(type, "bridge") || !strcmp(type, "bond"));
        if (b->addrs)
                f->has_global4 = first_addr(b, f->ifindex, &f->global4, &f->has_addr4);
}

int nlb_link_facts(struct nlb *b, struct nr_link_fact **out, size_t *n_out, bool *ipv6)
{
        *ipv6 = access("/proc/sys/net/ipv6/conf", F_OK) == 0; /* not with ipv6.disable=1 */
        size_t n = 0, cap = b->links ? (size_t)nl_cache_nitems(b->links) : 0;
        struct nr_link_fact *links = calloc(cap ? cap : 1, sizeof(*links));
        *out = links;
        *n_out = 0;
        if (!links)
                return -ENOMEM;
        for (struct nl_object *o = b->links ? nl_cache_get_first(b->links) : NULL; o && n < cap;
             o = nl_cache_get_next(o))
                link_fact(b, (struct rtnl_link *)o, &links[n++]);
        *n_out = n;
        return 0;
}

/* ---- the engine's view (backend/backend.h) ----------------------------------------------- */

static int ops_observe(void *self, const struct nr_desired *want, const struct nr_desired *prev,
                       struct nr_observed *have)
{
        return nlb_observe(self, want, prev, have);
}

static int ops_apply(void *self, const struct nr_desired *want, const struct nr_op *op,
                     char *err, size_t errlen)
{
        return nlb_apply(self, op, want->route_protocol, err, errlen);
}

const struct nr_backend_ops nlb_ops = {
        .name = "netlink",
        .observe = ops_observe,
        .apply = ops_apply,
};
