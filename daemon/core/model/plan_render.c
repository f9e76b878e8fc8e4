/* Plan ops as text, in `ip`-like words, for `--plan`, `nestrouterctl plan`, logs and the fake
 * backend's transcripts. */
#include <stdio.h>
#include <string.h>

#include "core/model/plan.h"
#include "core/lib/strbuf.h"

const char *plan_op_name(enum nr_op_kind k)
{
        switch (k) {
        case NR_OP_LINK_ADD_BRIDGE:
                return "link add";
        case NR_OP_LINK_SET:
                return "link set";
        case NR_OP_LINK_SET_MASTER:
                return "link master";
        case NR_OP_LINK_DEL:
                return "link del";
        case NR_OP_SYSCTL_SET:
                return "sysctl";
        case NR_OP_ADDR_ADD:
                return "addr add";
        case NR_OP_ADDR_DEL:
                return "addr del";
        case NR_OP_ROUTE_REPLACE:
                return "route replace";
        case NR_OP_ROUTE_DEL:
                return "route del";
        case NR_OP_RULE_ADD:
                return "rule add";
        case NR_OP_RULE_DEL:
                return "rule del";
        case NR_OP_NFT_CREATE:
                return "nft create";
        case NR_OP_NFT_UPDATE:
                return "nft update";
        case NR_OP_NFTBR_CREATE:
                return "nft create";
        case NR_OP_NFTBR_UPDATE:
                return "nft update";
        case NR_OP_NFT_DELETE:
        case NR_OP_NFTBR_DELETE:
                return "nft delete";
        case NR_OP_DNSMASQ_START:
                return "dnsmasq start";
        case NR_OP_DNSMASQ_RELOAD:
                return "dnsmasq reload";
        case NR_OP_DNSMASQ_STOP:
                return "dnsmasq stop";
        case NR_OP_BGP_START:
                return "bgp start";
        case NR_OP_BGP_CONFIGURE:
                return "bgp configure";
        case NR_OP_BGP_STOP:
                return "bgp stop";
        case NR_OP_VM_DEFINE:
                return "vm define";
        case NR_OP_VM_START:
                return "vm start";
        case NR_OP_VM_UNDEFINE:
                return "vm undefine";
        case NR_OP_CONFLICT:
                return "conflict";
        }
        return "?";
}

static void table_s(uint32_t t, char *buf, size_t size)
{
        if (t == NR_TABLE_MAIN)
                snprintf(buf, size, "main");
        else
                snprintf(buf, size, "%u", t);
}

static void route_line(const struct nr_plan *p, const struct nr_route *r, char *buf, size_t size)
{
        char tab[16], gw[32] = "", src[32] = "";
        table_s(r->table, tab, sizeof(tab));
        if (r->gateway)
                snprintf(gw, sizeof(gw), " via %s", ip_s(r->gateway).s);
        if (r->prefsrc)
                snprintf(src, sizeof(src), " src %s", ip_s(r->prefsrc).s);
        snprintf(buf, size, "%s%s dev %s%s table %s proto %u",
                 r->dst.len ? prefix_s(r->dst).s : "default", gw, r->dev, src, tab,
                 p->route_protocol);
}

static void rule_line(const struct nr_plan *p, const struct nr_rule *r, char *buf, size_t size)
{
        char from[40] = "", mark[48] = "", tab[16];
        table_s(r->table, tab, sizeof(tab));
        if (r->from.len)
                snprintf(from, sizeof(from), " from %s", prefix_s(r->from).s);
        if (r->fwmask)
                snprintf(mark, sizeof(mark), " fwmark 0x%x/0x%x", r->fwmark, r->fwmask);
        snprintf(buf, size, "pref %u%s%s lookup %s proto %u", r->priority, from, mark, tab,
                 p->route_protocol);
}

static void link_line(const struct nr_op *op, char *buf, size_t size)
{
        const struct nr_link *l = &op->link;
        char mtu[24] = "";
        if (l->mtu)
                snprintf(mtu, sizeof(mtu), " mtu %u", l->mtu);
        if (op->kind == NR_OP_LINK_SET_MASTER)
                snprintf(buf, size, "%s %s%s up", l->name, l->master[0] ? "master " : "nomaster",
                         l->master);
        else if (op->kind == NR_OP_LINK_DEL)
                snprintf(buf, size, "%s", l->name);
        else
                snprintf(buf, size, "%s type bridge stp 0 forward_delay 0%s up", l->name, mtu);
}

void plan_op_line(const struct nr_plan *p, const struct nr_op *op, char *buf, size_t size)
{
        char body[256];
        switch (op->kind) {
        case NR_OP_LINK_ADD_BRIDGE:
        case NR_OP_LINK_SET:
        case NR_OP_LINK_SET_MASTER:
        case NR_OP_LINK_DEL:
                link_line(op, body, sizeof(body));
                break;
        case NR_OP_SYSCTL_SET:
                snprintf(body, sizeof(body), "%s = %s", op->sysctl.key, op->sysctl.value);
                break;
        case NR_OP_ADDR_ADD:
        case NR_OP_ADDR_DEL:
                snprintf(body, sizeof(body), "%s dev %s", prefix_s(op->addr.addr).s,
                         op->addr.dev);
                break;
        case NR_OP_ROUTE_REPLACE:
        case NR_OP_ROUTE_DEL:
                route_line(p, &op->route, body, sizeof(body));
                break;
        case NR_OP_RULE_ADD:
        case NR_OP_RULE_DEL:
                rule_line(p, &op->rule, body, sizeof(body));
                break;
        case NR_OP_NFT_CREATE:
        case NR_OP_NFT_UPDATE:
        case NR_OP_NFT_DELETE:
                snprintf(body, sizeof(body), "table inet nestrouter");
                break;
        case NR_OP_NFTBR_CREATE:
        case NR_OP_NFTBR_UPDATE:
        case NR_OP_NFTBR_DELETE:
                snprintf(body, sizeof(body), "table bridge nestrouter");
                break;
        case NR_OP_DNSMASQ_START:
        case NR_OP_DNSMASQ_RELOAD:
        case NR_OP_DNSMASQ_STOP:
                snprintf(body, sizeof(body), "guest DHCP/DNS");
                break;
        case NR_OP_BGP_START:
        case NR_OP_BGP_CONFIGURE:
                if (op->bgp.advertise)
                        snprintf(body, sizeof(body), "BIRD, advertising%s",
                                 op->bgp.keep_sessions ? ", sessions kept" : "");
                else
                        snprintf(body, sizeof(body), "BIRD, withdrawn (%s)%s", op->why,
                                 op->bgp.keep_sessions ? ", sessions kept" : "");
                break;
        case NR_OP_BGP_STOP:
                snprintf(body, sizeof(body), "BIRD");
                break;
        case NR_OP_VM_DEFINE:
                snprintf(body, sizeof(body), "%s%s", op->vm.name,
                         !op->vm.update ? ""
                         : op->vm.running ? " (new definition: applies when it next starts)"
                                          : " (new definition)");
                break;
        case NR_OP_VM_START:
                snprintf(body, sizeof(body), "%s (autostart)", op->vm.name);
                break;
        case NR_OP_VM_UNDEFINE:
                snprintf(body, sizeof(body), "%s (no longer configured%s)", op->vm.name,
                         op->vm.running ? "; it runs until it stops" : "");
                break;
        case NR_OP_CONFLICT:
                snprintf(body, sizeof(body), "%s", op->why);
                break;
        }
        snprintf(buf, size, "%s %s", plan_op_name(op->kind), body);
}

char *plan_render(const struct nr_plan *p)
{
        struct nr_buf b = {0};
        char line[400];
        for (size_t i = 0; i < p->n_ops; i++) {
                plan_op_line(p, &p->ops[i], line, sizeof(line));
                buf_printf(&b, "%s\n", line);
        }
        if (!p->n_ops)
                buf_puts(&b, "");
        return buf_finish(&b);
}

enum nr_obj plan_kind_obj(enum nr_op_kind k)
{
        switch (k) {
        case NR_OP_LINK_ADD_BRIDGE:
        case NR_OP_LINK_SET:
        case NR_OP_LINK_SET_MASTER:
        case NR_OP_LINK_DEL:
                return NR_OBJ_LINK;
        case NR_OP_SYSCTL_SET:
                return NR_OBJ_SYSCTL;
        case NR_OP_ADDR_ADD:
        case NR_OP_ADDR_DEL:
                return NR_OBJ_ADDR;
        case NR_OP_ROUTE_REPLACE:
        case NR_OP_ROUTE_DEL:
                return NR_OBJ_ROUTE;
        case NR_OP_RULE_ADD:
        case NR_OP_RULE_DEL:
                return NR_OBJ_RULE;
        case NR_OP_NFT_CREATE:
        case NR_OP_NFT_UPDATE:
        case NR_OP_NFTBR_CREATE:
        case NR_OP_NFTBR_UPDATE:
        case NR_OP_NFT_DELETE:
        case NR_OP_NFTBR_DELETE:
                return NR_OBJ_NFT;
        case NR_OP_DNSMASQ_START:
        case NR_OP_DNSMASQ_RELOAD:
        case NR_OP_DNSMASQ_STOP:
                return NR_OBJ_DNSMASQ;
        case NR_OP_BGP_START:
        case NR_OP_BGP_CONFIGURE:
        case NR_OP_BGP_STOP:
                return NR_OBJ_BGP;
        case NR_OP_VM_DEFINE:
        case NR_OP_VM_START:
        case NR_OP_VM_UNDEFINE:
                return NR_OBJ_VM;
        case NR_OP_CONFLICT:
                break;
        }
        return NR_OBJ_COUNT;
}

enum nr_backend_id plan_obj_backend(enum nr_obj o)
{
        switch (o) {
        case NR_OBJ_LINK:
        case NR_OBJ_ADDR:
        case NR_OBJ_ROUTE:
        case NR_OBJ_RULE:
                return NR_BACKEND_NETLINK;
        case NR_OBJ_SYSCTL:
                return NR_BACKEND_SYSCTL;
        case NR_OBJ_NFT:
                return NR_BACKEND_NFT;
        case NR_OBJ_BGP:
                return NR_BACKEND_BGP;
        case NR_OBJ_VM:
                return NR_BACKEND_VIRT;
        case NR_OBJ_DNSMASQ:
        case NR_OBJ_COUNT:
                break;
        }
        return NR_BACKEND_DNSMASQ;
}

const char *plan_obj_name(enum nr_obj o)
{
        static const char *const names[NR_OBJ_COUNT] = {
                "link", "sysctl", "address", "route", "rule", "nft", "dnsmasq", "bgp", "vm",
        };
        return o < NR_OBJ_COUNT ? names[o] : "?";
}

void plan_op_object(const struct nr_op *op, char *buf, size_t size)
{
        char tab[16];
        switch (op->obj) {
        case NR_OBJ_LINK:
                snprintf(buf, size, "%s", op->link.name);
                return;
        case NR_OBJ_SYSCTL:
                snprintf(buf, size, "%s", op->sysctl.key);
                return;
        case NR_OBJ_ADDR:
                snprintf(buf, size, "%s dev %s", prefix_s(op->addr.addr).s, op->addr.dev);
                return;
        case NR_OBJ_ROUTE:
                table_s(op->route.table, tab, sizeof(tab));
                snprintf(buf, size, "%s table %s",
                         op->route.dst.len ? prefix_s(op->route.dst).s : "default", tab);
                return;
        case NR_OBJ_RULE:
                snprintf(buf, size, "pref %u", op->rule.priority);
                return;
        case NR_OBJ_NFT:
                snprintf(buf, size, "%s nestrouter",
                         op->kind == NR_OP_NFTBR_CREATE || op->kind == NR_OP_NFTBR_UPDATE ||
                                         op->kind == NR_OP_NFTBR_DELETE
                                 ? "bridge"
                                 : "inet");
                return;
        case NR_OBJ_BGP:
                snprintf(buf, size, "bird");
                return;
        case NR_OBJ_VM:
                snprintf(buf, size, "%s", op->vm.name);
                return;
        case NR_OBJ_DNSMASQ:
        case NR_OBJ_COUNT:
                break;
        }
        snprintf(buf, size, "dnsmasq");
}
