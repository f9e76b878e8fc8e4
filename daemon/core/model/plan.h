/* (desired, observed) -> ordered operations. Pure. Only nestrouter's own objects are ever
 * changed or removed: routes and rules by their rtm_protocol, the bridge and addresses because
 * an earlier apply (`prev`) put them there. Anything foreign in the way is reported as a
 * conflict and left alone. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model/model.h"

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

/* A libvirt domain as the virt helper last reported it. */
struct nr_obs_dom {
        char name[NR_NAME_MAX];
        bool owned;                /* carries nestrouter's metadata */
        bool persistent;           /* defined (not only running) */
        bool active;               /* running, paused, ... */
        bool started;              /* started (or found running) since this boot */
        char conf_hash[17];        /* the definition's hash in our metadata */
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
        struct nftm_table *nft;    /* the table as last applied (a reference), when present
                                    * and as we left it */
        bool nft_bridge_present;
        struct nftm_table *nft_bridge; /* the same for `table bridge nestrouter` */
        bool dnsmasq_running;
        char *dnsmasq_conf;        /* what the running dnsmasq was started with */
        char *dnsmasq_hosts;
        bool bird_running;         /* BIRD answers on its control socket */
        char *bird_conf;           /* the text it was last configured with */
        unsigned bgp_up;           /* bit i: session NR_BIRD_PROTO_PREFIX(i+1) is Established */
        bool doms_known;           /* libvirt answered: doms is every domain it has */
        struct nr_obs_dom *doms;
        size_t n_doms;
};

/* What an op is about: the journal's object kind, the status counters' index, and with the
 * object's key (plan_op_object) the unit of per-object failure and backoff. */
enum nr_obj {
        NR_OBJ_LINK,
        NR_OBJ_SYSCTL,
        NR_OBJ_ADDR,
        NR_OBJ_ROUTE,
        NR_OBJ_RULE,
        NR_OBJ_NFT,
        NR_OBJ_DNSMASQ,
        NR_OBJ_BGP,                /* BIRD and what it advertises */
        NR_OBJ_VM,                 /* a nested guest's libvirt domain */
        NR_OBJ_COUNT,
};

/* Who applies an op (backend/backend.h): every op names exactly one. */
enum nr_backend_id {
        NR_BACKEND_NETLINK,        /* links, addresses, routes, rules */
        NR_BACKEND_SYSCTL,
        NR_BACKEND_NFT,            /* both nft tables */
        NR_BACKEND_DNSMASQ,
        NR_BACKEND_BGP,            /* BIRD, through its control socket */
        NR_BACKEND_VIRT,           /* libvirt, through the virt helper */
        NR_BACKEND_COUNT,
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
        NR_OP_NFT_DELETE,          /* the table is not wanted at all (teardown) */
        NR_OP_NFTBR_DELETE,
        NR_OP_DNSMASQ_START,       /* write config + hosts, (re)start */
        NR_OP_DNSMASQ_RELOAD,      /* write hosts, SIGHUP */
        NR_OP_DNSMASQ_STOP,
        NR_OP_BGP_START,           /* write bird.conf, start BIRD */
        NR_OP_BGP_CONFIGURE,       /* write bird.conf, `configure` (no session reset) */
        NR_OP_BGP_STOP,            /* bgp: removed: BIRD shuts the sessions down and exits */
        NR_OP_VM_DEFINE,           /* define the domain (new, or its definition changed) */
        NR_OP_VM_START,            /* autostart: once per boot */
        NR_OP_VM_UNDEFINE,         /* ours, no longer configured: a running one runs on */
        NR_OP_CONFLICT,            /* something foreign is in the way: reported, not touched */
};

struct nr_op {
        enum nr_op_kind kind;
        enum nr_obj obj;           /* set by the planner; a conflict's is the object in the way */
        union {
                struct nr_link link;
                struct nr_addr addr;
                struct nr_route route;
                struct nr_rule rule;
                struct nr_sysctl sysctl;
                struct nr_bgp_op {
                        bool advertise;    /* want->bird_conf, else bird_conf_withdrawn */
                        bool keep_sessions;/* established sessions keep their settings
                                            * (bird_conf_keep_sessions on the running text) */
                } bgp;
                struct nr_vm_op {
                        char name[NR_NAME_MAX];
                        bool update;       /* define: the domain exists (a new definition) */
                        bool running;      /* it runs: a definition applies at its next start,
                                            * an undefined one runs until it stops */
                } vm;
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
/* The object kind of an op kind (a conflict has none of its own: NR_OBJ_COUNT). */
enum nr_obj plan_kind_obj(enum nr_op_kind k);
enum nr_backend_id plan_obj_backend(enum nr_obj o);
/* "link", "route", ...: the journal's NR_OBJECT_KIND, the status' kind names. */
const char *plan_obj_name(enum nr_obj o);
/* The object an op is about, as `journalctl NR_OBJECT=` would ask for it and as per-object
 * backoff keys it: an interface, "10.0.2.1/24 dev nr0", "default table 1001", a sysctl key,
 * "inet nestrouter", "dnsmasq". */
void plan_op_object(const struct nr_op *op, char *buf, size_t size);
/* Writes one op's line (no newline) into buf. */
void plan_op_line(const struct nr_plan *p, const struct nr_op *op, char *buf, size_t size);

void observed_free(struct nr_observed *o);
