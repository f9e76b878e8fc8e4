/* Applying link, address, route and rule ops. Every route and rule carries our rtm_protocol;
 * deletions name it too, so the kernel itself refuses to delete a foreign object. */
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <stdio.h>
#include <string.h>

#include "backend/netlink/nl.h"
#include "backend/netlink/nl_msg.h"

static int send_msg(struct nlb *b, struct nl_msg *m)
{
        if (!m)
                return -ENOMEM;
        int r = nl_send_auto(b->sk, m);
        nlmsg_free(m);
        if (r < 0)
                return nlb_errno(r);
        r = nl_wait_for_ack(b->sk);
        return r < 0 ? nlb_errno(r) : 0;
}

static int apply_link(struct nlb *b, const struct nr_op *op)
{
        const struct nr_link *l = &op->link;
        if (op->kind == NR_OP_LINK_ADD_BRIDGE || op->kind == NR_OP_LINK_SET)
                return send_msg(b, nlmsg_bridge(l->name, l->mtu, op->kind == NR_OP_LINK_ADD_BRIDGE));
        if (op->kind == NR_OP_LINK_DEL)
                return send_msg(b, nlmsg_del_link(l->name));
        /* NR_OP_LINK_SET_MASTER; an empty master releases the port */
        int idx = nlb_ifindex(b, l->name);
        int master = l->master[0] ? nlb_ifindex(b, l->master) : 0;
        if (!idx || (l->master[0] && !master))
                return -ENODEV;
        return send_msg(b, nlmsg_set_master(idx, master));
}

static int apply_addr(struct nlb *b, const struct nr_op *op)
{
        const struct nr_addr *a = &op->addr;
        int idx = nlb_ifindex(b, a->dev);
        if (!idx)
                return -ENODEV;
        struct rtnl_addr *ra = rtnl_addr_alloc();
        struct nl_addr *local = nlb_addr(a->addr.addr, a->addr.len);
        struct nl_addr *bcast = nlb_addr(prefix_broadcast(a->addr), 32);
        int r = -ENOMEM;
        if (ra && local && bcast) {
                rtnl_addr_set_ifindex(ra, idx);
                rtnl_addr_set_local(ra, local);
                rtnl_addr_set_prefixlen(ra, a->addr.len);
                if (a->addr.len < 31)
                        rtnl_addr_set_broadcast(ra, bcast);
                r = op->kind == NR_OP_ADDR_ADD ? rtnl_addr_add(b->sk, ra, 0)
                                               : rtnl_addr_delete(b->sk, ra, 0);
                r = r < 0 ? nlb_errno(r) : 0;
                if (r == -EEXIST && op->kind == NR_OP_ADDR_ADD)
                        r = 0;
        }
        nl_addr_put(local);
        nl_addr_put(bcast);
        rtnl_addr_put(ra);
        return r;
}

static struct rtnl_route *build_route(struct nlb *b, const struct nr_route *rt, uint8_t proto)
{
        struct rtnl_route *r = rtnl_route_alloc();
        struct nl_addr *dst = nlb_addr(rt->dst.addr, rt->dst.len);
        if (!r || !dst)
                goto fail;
        rtnl_route_set_family(r, AF_INET);
        rtnl_route_set_table(r, rt->table);
        rtnl_route_set_dst(r, dst);
        rtnl_route_set_protocol(r, proto);
        rtnl_route_set_type(r, RTN_UNICAST);
        rtnl_route_set_priority(r, rt->metric);
        rtnl_route_set_scope(r, rt->gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
        if (rt->prefsrc) {
                struct nl_addr *src = nlb_addr(rt->prefsrc, 32);
                if (!src)
                        goto fail;
                rtnl_route_set_pref_src(r, src);
                nl_addr_put(src);
        }
        int idx = nlb_ifindex(b, rt->dev);
        if (idx || rt->gateway) {
                struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
                if (!nh)
                        goto fail;
                if (idx)
                        rtnl_route_nh_set_ifindex(nh, idx);
                if (rt->gateway) {
                        struct nl_addr *gw = nlb_addr(rt->gateway, 32);
                        rtnl_route_nh_set_gateway(nh, gw);
                        nl_addr_put(gw);
                }
                rtnl_route_add_nexthop(r, nh);
        }
        nl_addr_put(dst);
        return r;
fail:
        nl_addr_put(dst);
        rtnl_route_put(r);
        return NULL;
}

static int apply_route(struct nlb *b, const struct nr_op *op, uint8_t proto)
{
        if (op->kind == NR_OP_ROUTE_REPLACE && !nlb_ifindex(b, op->route.dev))
                return -ENODEV;
        struct rtnl_route *r = build_route(b, &op->route, proto);
        if (!r)
                return -ENOMEM;
        int e = op->kind == NR_OP_ROUTE_REPLACE ? rtnl_route_add(b->sk, r, NLM_F_REPLACE)
                                                : rtnl_route_delete(b->sk, r, 0);
        rtnl_route_put(r);
        return e < 0 ? nlb_errno(e) : 0;
}

static int apply_rule(struct nlb *b, const struct nr_op *op, uint8_t proto)
{
        const struct nr_rule *x = &op->rule;
        struct rtnl_rule *r = rtnl_rule_alloc();
        if (!r)
                return -ENOMEM;
        rtnl_rule_set_family(r, AF_INET);
        rtnl_rule_set_prio(r, x->priority);
        rtnl_rule_set_table(r, x->table);
        rtnl_rule_set_action(r, FR_ACT_TO_TBL);
        rtnl_rule_set_protocol(r, proto);
        if (x->from.len) {
                struct nl_addr *src = nlb_addr(x->from.addr, x->from.len);
                rtnl_rule_set_src(r, src);
                nl_addr_put(src);
        }
        if (x->fwmask) {
                rtnl_rule_set_mark(r, x->fwmark);
                rtnl_rule_set_mask(r, x->fwmask);
        }
        if (x->iif[0])
                rtnl_rule_set_iif(r, x->iif);
        int e = op->kind == NR_OP_RULE_ADD ? rtnl_rule_add(b->sk, r, NLM_F_EXCL)
                                           : rtnl_rule_delete(b->sk, r, 0);
        rtnl_rule_put(r);
        e = e < 0 ? nlb_errno(e) : 0;
        return e == -EEXIST && op->kind == NR_OP_RULE_ADD ? 0 : e;
}

int nlb_apply(struct nlb *b, const struct nr_op *op, uint8_t proto, char *err, size_t errlen)
{
        /* the engine hands this backend only ops whose object is one of these four */
        int r = -EINVAL;
        switch (op->obj) {
        case NR_OBJ_LINK:
                r = apply_link(b, op);
                break;
        case NR_OBJ_ADDR:
                r = apply_addr(b, op);
                break;
        case NR_OBJ_ROUTE:
                r = apply_route(b, op, proto);
                break;
        case NR_OBJ_RULE:
                r = apply_rule(b, op, proto);
                break;
        case NR_OBJ_SYSCTL:
        case NR_OBJ_NFT:
        case NR_OBJ_DNSMASQ:
        case NR_OBJ_BGP:
        case NR_OBJ_VM:
        case NR_OBJ_COUNT:
                break;
        }
        if (r < 0)
                snprintf(err, errlen, "%s", strerror(-r));
        /* links changed: the next op may name a device this one created */
        if (r == 0 && (op->kind == NR_OP_LINK_ADD_BRIDGE || op->kind == NR_OP_LINK_DEL))
                nlb_refresh(b);
        return r;
}
