/* (desired, observed) -> ordered operations. Pure. Only nestrouter's own objects are ever
 * changed or removed: routes and rules by their rtm_protocol, the bridge and addresses because
 * an earlier apply (`prev`) put them there. Anything foreign in the way is reported as a
 * conflict and left alone. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct nr_obs_link {
        char name[NR_IFNAMSIZ];
        bool bridge;
        bool up;
        bool stp;                  /* bridge: STP on */
        uint32_t forward_delay;    /* bridge: in centiseconds, as the kernel reports it */
        uint32_t mtu;
        char master[NR_IFNAMSIZ];
};

struct nr_obs_route {
        struct nr_route r;
        uint8_t protocol;
};

struct nr_observed {
        struct nr_obs_link *links; /* the links the desired state names, where they exist */
        size_t n_links;
        struct nr_addr *addrs;     /* addresses on those links */
        size_t n_addrs;
        struct nr_obs_route *routes; /* ours, and foreign ones sharing a key with a desired one */
        size_t n_routes;
        struct nr_rule *rules;     /* rules with our protocol */
        size_t n_rules;
        struct nr_sysctl *sysctls; /* current values of the desired keys; missing keys absent */
        size_t n_sysctls;
        bool nft_present;
        char *nft;                 /* the table as last applied, when present */
        bool nft_bridge_present;
        char *nft_bridge;          /* the same for `table bridge nestrouter` */
        bool dnsmasq_running;
        char *dnsmasq_conf;        /* what the running dnsmasq was started with */
        char *dnsmasq_hosts;
};

enum nr_op_kind {
        NR_OP_LINK_ADD_BRIDGE,
        NR_OP_LINK_SET,            /* up, mtu, STP off, forward delay 0 */
        NR_OP_LINK_SET_MASTER,     /* link.master empty: release */
        NR_OP_LINK_DEL,
        NR_OP_SYSCTL_SET,
        NR_OP_ADDR_ADD,
        NR_OP_ADDR_DEL,
        NR_OP_ROUTE_REPLACE,
        NR_OP_ROUTE_DEL,
        NR_OP_RULE_ADD,
        NR_OP_RULE_DEL,
        NR_OP_NFT_CREATE,          /* the whole table, in one transaction */
        NR_OP_NFT_UPDATE,          /* the table exists but differs: change what differs */
        NR_OP_NFTBR_CREATE,        /* the same for the guest bridge's table */
        NR_OP_NFTBR_UPDATE,
        NR_OP_DNSMASQ_START,       /* write config + hosts, (re)start */
        NR_OP_DNSMASQ_RELOAD,      /* write hosts, SIGHUP */
        NR_OP_DNSMASQ_STOP,
        NR_OP_CONFLICT,            /* something foreign is in the way: reported, not touched */
};

struct nr_op {
        enum nr_op_kind kind;
        union {
                struct nr_link link;
                struct nr_addr addr;
                struct nr_route route;
                struct nr_rule rule;
                struct nr_sysctl sysctl;
        };
        char why[128];             /* for conflicts and status */
};

struct nr_plan {
        struct nr_op *ops;
        size_t n_ops;
        uint8_t route_protocol;
};

/* prev: the desired state of the last apply (NULL at first start), so that objects nestrouter
 * created but no longer wants (a renamed bridge, a changed address) are removed. */
int plan_build(const struct nr_desired *want, const struct nr_observed *have,
               const struct nr_desired *prev, struct nr_plan *out);
void plan_free(struct nr_plan *p);

/* One line per op, e.g. `route replace 10.0.0.0/22 via 10.0.1.1 dev eth1 table main proto 78`.
 * NULL on allocation failure. */
char *plan_render(const struct nr_plan *p);
const char *plan_op_name(enum nr_op_kind k);
/* Writes one op's line (no newline) into buf. */
void plan_op_line(const struct nr_plan *p, const struct nr_op *op, char *buf, size_t size);

void observed_free(struct nr_observed *o);
