/* The netlink backend (libnl-route-3; libmnl for the route dump): finds the uplinks, observes
 * links, addresses, routes and rules, applies link/address/route/rule ops, and watches
 * rtnetlink events for drift. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config/config.h"
#include "core/azure/imds.h"
#include "core/model/uplinks.h"
#include "core/model/model.h"
#include "backend/backend.h"
#include "core/model/plan.h"

struct nl_sock;
struct nl_cache;
struct mnl_socket;

struct nlb {
        struct nl_sock *sk;        /* requests and dumps */
        struct mnl_socket *dump;   /* the route dump, read without libnl's objects */
        uint32_t dump_seq;
        struct nl_sock *mon;       /* event subscriptions */
        struct nl_cache *links;    /* refreshed by nlb_refresh */
        struct nl_cache *addrs;
        unsigned long events;      /* event messages seen */
        unsigned long link_events; /* of which links appeared, changed or went away */
        unsigned long overruns;    /* ENOBUFS on the event socket */
        /* The guest bridge's ports as last seen (libvirt's taps, ports we were told about): a
         * bridge that is deleted takes them all with it, and its new instance gets them back */
        int br_ifindex;
        char (*br_ports)[16];
        size_t n_br_ports;
        unsigned long ports_readopted;
};

int nlb_open(struct nlb *b);

/* After nlb_refresh: the ports `bridge` had before it was replaced (deleted and created
 * again, so another ifindex), which exist now and have no master. They are remembered from
 * each call in which the bridge exists; returns how many names went into *out (caller frees). */
size_t nlb_bridge_orphans(struct nlb *b, const char *bridge, char (**out)[16]);
void nlb_close(struct nlb *b);

/* Re-dump links and addresses (used by facts and observe of one reconcile pass). */
int nlb_refresh(struct nlb *b);

/* Every interface as the kernel shows it (name, MAC, master, addresses: core/model/uplinks.h), from
 * the cache of the last nlb_refresh; which one is an uplink or a port of the guest bridge is
 * the core's call (facts_build). *out is the caller's to free. */
int nlb_link_facts(struct nlb *b, struct nr_link_fact **out, size_t *n, bool *ipv6);

/* Fill the link, address, route and rule parts of `have` for the objects `want` or `prev` (the
 * last pass's desired state, may be NULL) name: a renamed bridge must be seen to be removed. */
int nlb_observe(struct nlb *b, const struct nr_desired *want, const struct nr_desired *prev,
                struct nr_observed *have);

/* Apply one link/address/route/rule op. Returns 0 or -errno; err gets a message. */
int nlb_apply(struct nlb *b, const struct nr_op *op, uint8_t proto, char *err, size_t errlen);

/* Event socket: fd to poll; drain returns the number of messages read, or -ENOBUFS when the
 * kernel dropped some (the caller re-dumps everything, which every pass does anyway). */
int nlb_monitor_fd(struct nlb *b);
int nlb_monitor_drain(struct nlb *b);


/* observe/apply for the engine */
extern const struct nr_backend_ops nlb_ops;
