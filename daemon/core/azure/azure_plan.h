/* The Azure side of one or more hosts, merged: one route table with a route per host (its
 * guest subnet -> its NIC2 address, next hop VirtualAppliance), the subnets the table belongs on
 * and each NIC2 whose IP forwarding must be on. render_azure.h prints it. Pure: no syscalls. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config/config.h"
#include "core/config/diag.h"

/* Used when no configuration names the table; the name Microsoft's guide uses. */
#define NR_AZURE_DEFAULT_ROUTE_TABLE "Routes-for-nested-VMs"
#define NR_AZURE_GATEWAY_SUBNET "GatewaySubnet"

/* One host: its parsed, validated configuration and the file it came from. */
struct nr_azure_host {
        const struct nr_config *cfg;
        const char *file;
};

/* The name of a host's route (and of its Route Server peering): azure.vm_name, else the file's
 * basename without .yaml, in the characters Azure allows. */
void azure_route_name(const struct nr_azure_host *h, char out[NR_AZNAME_MAX]);

/* An error about host cfg at key path, at the key's position. */
__attribute__((format(printf, 4, 5))) void azure_error(struct nr_diags *d, const struct nr_config *cfg,
                                                       const char *path, const char *fmt, ...);

/* One azure: name of host i merged into *have (the value so far, "" for none yet, given by host
 * *from): the first host that gives it sets it; another value from a later host is an error at
 * azure.KEY in d, naming the first host's file and ending with why. */
void azure_merge_name(const struct nr_azure_host *hosts, size_t i, struct nr_diags *d,
                      const char **have, size_t *from, const char *mine, const char *key,
                      const char *why);

/* One host's part of the shared table. */
struct nr_azure_route {
        const char *file;
        char name[NR_AZNAME_MAX];  /* route name: azure.vm_name, else the file's basename */
        bool has_lan;              /* false: NAT only, no route and no IP forwarding */
        bool next_hop_known;       /* false: uplinks.lan.address is dhcp */
        uint32_t next_hop;         /* NIC2's address, when known */
        struct nr_prefix guests;   /* the host's floating subnet */
        const char *lan_nic;       /* NIC2's resource name, "" when not given */
};

/* Every host merged into one view. Strings point into the configurations, which must outlive
 * the plan; "" means "not given" (the renderers then print a placeholder). */
struct nr_azure_plan {
        bool named;                /* at least one configuration has an azure: section */
        const char *resource_group, *location, *vnet, *route_table;
        const char **subnets;      /* union over the hosts; GatewaySubnet is left out when
                                    * gateway_subnet (it is handled on its own) */
        size_t n_subnets;
        bool gateway_subnet;
        struct nr_azure_route *routes; /* one per host, in argument order */
        size_t n_routes;
        size_t n_lan;              /* routes with has_lan */
};

/* Merge the hosts. Problems between hosts (overlapping guest subnets, two routes of the same
 * name, disagreeing azure: names, a shared NIC2 address or name) go to diags[i] of the later
 * host at the key concerned, naming the earlier file. `diags` has n entries. Returns 0, -EINVAL
 * when an error was found, -ENOMEM. */
int azure_plan_build(const struct nr_azure_host *hosts, size_t n, struct nr_azure_plan *plan,
                     struct nr_diags *diags);
void azure_plan_free(struct nr_azure_plan *plan);
