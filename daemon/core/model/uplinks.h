/* Which interface is each uplink: the policy half of the facts. The netlink backend reports
 * the interfaces as the kernel shows them (struct nr_link_fact); this decides, from the config
 * and the roles IMDS gave, which one is NIC1 and NIC2, and what address and gateway each has.
 * Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config/config.h"
#include "core/azure/imds.h"
#include "core/model/model.h"

struct nr_link_fact {
        char name[NR_IFNAMSIZ];
        int ifindex;
        bool has_mac;
        uint8_t mac[6];
        bool enslaved;             /* has a master, or IFF_SLAVE: Azure's Accelerated Networking
                                    * VF is a slave of the synthetic NIC with the same MAC */
        bool aggregate;            /* a bridge or a bond: it may carry a member's MAC */
        char master[NR_IFNAMSIZ];  /* the bridge (or bond) it is enslaved to, "" none */
        bool has_addr4;            /* any IPv4 address */
        bool has_global4;          /* a universe-scope IPv4 address, the first in `global4` */
        struct nr_prefix global4;
};

/* Fills out[role] for every present uplink: found, ifname, and the address and gateway (the
 * configured ones; with `address: dhcp` the interface's first global address and the
 * configured gateway, else the first host of its subnet). A MAC match (also the Azure roles,
 * by the MAC IMDS gave; `roles` may be NULL: then they match nothing) never picks an enslaved
 * interface, a bridge or a bond; among the rest one with an IPv4 address wins (a VF that shows
 * up before it is enslaved has none), then the lowest ifindex, so the answer does not depend on
 * the order the kernel lists links in. */
void uplinks_match(const struct nr_config *cfg, const struct imds_roles *roles,
                   const struct nr_link_fact *links, size_t n,
                   struct nr_uplink_fact out[NR_UPLINK_COUNT]);

/* The facts the model needs, from the interfaces as the kernel shows them: the uplinks
 * (uplinks_match) and the guest bridge's ports — the configured ones (even before they are
 * enslaved: they will be) and every interface whose master is the bridge (libvirt's taps),
 * sorted. ipv6: the kernel has IPv6. Leases are added by the caller. */
void facts_build(const struct nr_config *cfg, const struct imds_roles *roles,
                 const struct nr_link_fact *links, size_t n, bool ipv6, struct nr_facts *facts);
