/* The Azure side of Route Server mode (bgp:), from several hosts' configurations: the
 * RouteServerSubnet, Route Server with its public IP, one BGP peering per host (NIC2's address
 * and the host's ASN), branch-to-branch, NIC2's IP forwarding; and, for the migration, the
 * route-table routes that Route Server replaces. render_azure_rs.c prints it as az, ARM or
 * Bicep. Pure. */
#pragma once

#include "core/azure/azure_plan.h"
#include "core/azure/render_azure.h"

#define NR_AZURE_RS_DEFAULT_NAME "nestrouter-rs"
#define NR_AZURE_RS_SUBNET "RouteServerSubnet"
#define NR_AZURE_RS_MAX_PEERS 8

struct nr_azure_rs_host {
        const char *file;
        char name[NR_AZNAME_MAX];  /* the peering's (and the old route's) name */
        bool ip_known;             /* false: uplinks.lan.address is dhcp */
        uint32_t ip;               /* NIC2's address: the peer IP */
        uint32_t asn;
        const struct nr_prefix *advertise;
        size_t n_advertise;
        uint32_t prepend;
        const char *lan_nic;       /* "" when not given */
};

/* Strings point into the configurations, which must outlive the plan; "" means not given. */
struct nr_azure_rs_plan {
        bool named;
        const char *resource_group, *location, *vnet, *route_server, *route_table;
        struct nr_prefix rs_subnet; /* len 0: not given */
        bool b2b;
        struct nr_azure_rs_host *hosts;
        size_t n;
};

/* Merge the hosts; problems between them (a host without bgp:, more than 8, disagreeing
 * azure: names, Route Server addresses or branch-to-branch, a shared NIC2 address or peering
 * name) go to diags[i] of the later host. Returns 0, -EINVAL, -ENOMEM. */
int azure_rs_build(const struct nr_azure_host *hosts, size_t n, struct nr_azure_rs_plan *p,
                   struct nr_diags *diags);
void azure_rs_free(struct nr_azure_rs_plan *p);

/* The artefacts; NULL on allocation failure. */
char *render_azure_rs(const struct nr_azure_rs_plan *p, enum nr_azure_format f);
/* The az steps that switch these hosts from route tables to Route Server: delete each host's
 * route from the route table, and the table itself (detached first) once it is empty. */
char *render_azure_rs_remove(const struct nr_azure_rs_plan *p);
