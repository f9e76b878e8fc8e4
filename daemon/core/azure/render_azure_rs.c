/* `nestrouterctl azure routeserver`: the merged Route Server plan (azure_rs.c) as an az CLI
 * script, an ARM template or Bicep, and the az steps that retire the route table it replaces.
 * ARM models Route Server as a virtual hub (Microsoft.Network/virtualHubs) with an IP
 * configuration in RouteServerSubnet and one bgpConnection per peer. */
#include "core/azure/azure_rs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/azure/render_azure.h"
#include "core/render/render_text.h"
#include "core/lib/strbuf.h"

#define ARM_API "2023-09-01"
#define PH_RG "<resource group>"
#define PH_VNET "<virtual network>"
#define PH_SUBNET "<RouteServerSubnet prefix, /26 or larger>"

static const char *or_ph(const char *v, const char *ph)
{
        return v && v[0] ? v : ph;
}

static const char *rs_name(const struct nr_azure_rs_plan *p)
{
        return or_ph(p->route_server, NR_AZURE_RS_DEFAULT_NAME);
}

static void put_safe(struct nr_buf *b, const char *s)
{
        for (; *s; s++)
                buf_printf(b, "%c", (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* "host NAME (FILE): NIC2 A, ASN N, advertises P, Q (prepend K)" for comments */
static void host_line(struct nr_buf *b, const struct nr_azure_rs_host *h)
{
        buf_printf(b, "Host %s (", h->name);
        put_safe(b, h->file);
        if (h->ip_known)
                buf_printf(b, "): NIC2 %s, ASN %u, advertises ", ip_s(h->ip).s, h->asn);
        else
                buf_printf(b, "): NIC2 <dhcp>, ASN %u, advertises ", h->asn);
        for (size_t k = 0; k < h->n_advertise; k++)
                buf_printf(b, "%s%s", k ? ", " : "", prefix_s(h->advertise[k]).s);
        if (h->prepend)
                buf_printf(b, " (AS path prepended %u times: standby)", h->prepend);
}

/* ---- az ---------------------------------------------------------------------------------- */

static void az_names(struct nr_buf *b, const struct nr_azure_rs_plan *p, struct nr_buf *missing)
{
        buf_puts(b, p->named ? "# Names, from the azure: section.\n"
                             : "# Names: replace each <...> (no azure: section).\n");
        render_az_var(b, "RG", or_ph(p->resource_group, PH_RG), NULL);
        render_az_var(b, "LOCATION", p->location, "empty: the resource group's region");
        render_az_var(b, "VNET", or_ph(p->vnet, PH_VNET), NULL);
        render_az_var(b, "ROUTE_SERVER", rs_name(p), NULL);
        buf_puts(b, "PIP=\"$ROUTE_SERVER-pip\"\n");
        render_az_var(b, "RS_SUBNET_PREFIX",
                      p->rs_subnet.len ? prefix_s(p->rs_subnet).s : PH_SUBNET,
                      "azure.route_server_subnet; inside the VNet's address space");
        render_az_var(b, "B2B", p->b2b ? "true" : "false",
                      "azure.branch_to_branch: routes to the VPN/ExpressRoute gateways");
        buf_puts(missing, p->resource_group[0] ? "" : " RG");
        buf_puts(missing, p->vnet[0] ? "" : " VNET");
        buf_puts(missing, p->rs_subnet.len ? "" : " RS_SUBNET_PREFIX");
        for (size_t i = 0; i < p->n; i++) {
                const struct nr_azure_rs_host *h = &p->hosts[i];
                char v[32], nic[NR_AZNAME_MAX + 32];
                buf_puts(b, "\n# ");
                host_line(b, h);
                buf_puts(b, ".\n");
                snprintf(v, sizeof(v), "PEER_%zu", i + 1);
                render_az_var(b, v, h->name, NULL);
                snprintf(v, sizeof(v), "PEER_IP_%zu", i + 1);
                render_az_var(b, v, h->ip_known ? ip_s(h->ip).s : "<NIC2 address>",
                              h->ip_known ? NULL : "uplinks.lan.address is dhcp");
                if (!h->ip_known)
                        buf_printf(missing, " PEER_IP_%zu", i + 1);
                snprintf(v, sizeof(v), "PEER_ASN_%zu", i + 1);
                render_az_var(b, v, (snprintf(nic, sizeof(nic), "%u", h->asn), nic), NULL);
                snprintf(v, sizeof(v), "NIC2_%zu", i + 1);
                if (h->lan_nic[0])
                        snprintf(nic, sizeof(nic), "%s", h->lan_nic);
                else
                        snprintf(nic, sizeof(nic), "<NIC2 of %s>", h->name);
                render_az_var(b, v, nic, NULL);
                if (!h->lan_nic[0])
                        buf_printf(missing, " NIC2_%zu", i + 1);
        }
}

static const char az_create[] =
        "\n# The RouteServerSubnet (that exact name), only when missing: no route table or NSG "
        "may be on it.\n"
        "if ! az network vnet subnet show -g \"$RG\" --vnet-name \"$VNET\" -n RouteServerSubnet "
        "-o none 2>/dev/null; then\n"
        "        az network vnet subnet create -g \"$RG\" --vnet-name \"$VNET\" -n "
        "RouteServerSubnet \\\n"
        "                --address-prefixes \"$RS_SUBNET_PREFIX\" -o none\n"
        "fi\n"
        "SUBNET_ID=$(az network vnet subnet show -g \"$RG\" --vnet-name \"$VNET\" -n "
        "RouteServerSubnet --query id -o tsv)\n"
        "\n# Route Server and its Standard public IP (creating it next to a VPN or "
        "ExpressRoute gateway\n# interrupts the gateway's traffic for about 10 minutes).\n"
        "if ! az network routeserver show -g \"$RG\" -n \"$ROUTE_SERVER\" -o none 2>/dev/null; "
        "then\n"
        "        az network public-ip create -g \"$RG\" -n \"$PIP\" --sku Standard "
        "--allocation-method Static \\\n"
        "                --version IPv4 "
        "${LOCATION:+--location \"$LOCATION\"} -o none\n"
        "        az network routeserver create -g \"$RG\" -n \"$ROUTE_SERVER\" --hosted-subnet "
        "\"$SUBNET_ID\" \\\n"
        "                --public-ip-address \"$PIP\" ${LOCATION:+--location \"$LOCATION\"} "
        "-o none\n"
        "fi\n"
        "az network routeserver update -g \"$RG\" -n \"$ROUTE_SERVER\" --allow-b2b-traffic "
        "\"$B2B\" -o none\n";

static char *render_az(const struct nr_azure_rs_plan *p)
{
        struct nr_buf b = {0}, missing = {0};
        buf_puts(&b, "#!/usr/bin/env bash\n"
                     "# nestrouter, Route Server mode: each host advertises its guest subnet over "
                     "BGP; Azure Route\n# Server programs the routes into every NIC of the "
                     "VNet (no route table).\n"
                     "# Generated by `nestrouterctl azure routeserver --format az` from ");
        for (size_t i = 0; i < p->n; i++) {
                buf_puts(&b, i ? ", " : "");
                put_safe(&b, p->hosts[i].file);
        }
        buf_puts(&b, ".\n# Safe to run again: it creates what is missing and never removes "
                     "anything\n# (`nestrouterctl azure routeserver --remove` retires the "
                     "route table).\nset -euo pipefail\n\n");
        buf_puts(&missing, "");
        az_names(&b, p, &missing);
        char *m = buf_finish(&missing);
        if (!m) {
                buf_free(&b);
                return NULL;
        }
        render_az_check_missing(&b, m);
        free(m);
        buf_puts(&b, az_create);
        buf_puts(&b, "\n# One peering per host: its NIC2 address and ASN.\n");
        for (size_t i = 1; i <= p->n; i++)
                buf_printf(&b, "az network routeserver peering create -g \"$RG\" --routeserver "
                               "\"$ROUTE_SERVER\" -n \"$PEER_%zu\" \\\n"
                               "        --peer-ip \"$PEER_IP_%zu\" --peer-asn \"$PEER_ASN_%zu\" "
                               "-o none\n", i, i, i);
        buf_puts(&b, "\n# IP forwarding on each NIC2: guests' packets carry their own "
                     "addresses.\n");
        for (size_t i = 1; i <= p->n; i++)
                buf_printf(&b, "az network nic update -g \"$RG\" -n \"$NIC2_%zu\" "
                               "--ip-forwarding true -o none\n", i);
        buf_puts(&b, "\n# The two instance addresses every host lists in bgp.peers:\n"
                     "az network routeserver show -g \"$RG\" -n \"$ROUTE_SERVER\" --query "
                     "virtualRouterIps -o tsv\n");
        return buf_finish(&b);
}

/* ---- ARM --------------------------------------------------------------------------------- */

static void arm_param(struct nr_buf *b, const char *name, const char *deflt, const char *desc,
                      bool last)
{
        buf_printf(b, "    \"%s\": {\n      \"type\": \"string\",\n", name);
        if (deflt) {
                buf_puts(b, "      \"defaultValue\": ");
                json_str(b, deflt);
                buf_puts(b, ",\n");
        }
        buf_puts(b, "      \"metadata\": {\"description\": ");
        json_str(b, desc);
        buf_printf(b, "}\n    }%s\n", last ? "" : ",");
}

static void arm_parameters(struct nr_buf *b, const struct nr_azure_rs_plan *p)
{
        buf_puts(b, "  \"parameters\": {\n");
        arm_param(b, "location", p->location[0] ? p->location : "[resourceGroup().location]",
                  "The region of the virtual network", false);
        arm_param(b, "vnetName", p->vnet[0] ? p->vnet : NULL, "The virtual network", false);
        arm_param(b, "routeServerName", rs_name(p), "Route Server", false);
        arm_param(b, "routeServerSubnetPrefix", p->rs_subnet.len ? prefix_s(p->rs_subnet).s : NULL,
                  "RouteServerSubnet's prefix, /26 or larger, inside the VNet", false);
        for (size_t i = 0; i < p->n; i++) {
                char name[32], desc[160];
                if (p->hosts[i].ip_known)
                        continue;
                snprintf(name, sizeof(name), "peerIp%zu", i + 1);
                snprintf(desc, sizeof(desc), "NIC2's private IP address of %s (address: dhcp)",
                         p->hosts[i].name);
                arm_param(b, name, NULL, desc, false);
        }
        buf_printf(b, "    \"allowBranchToBranchTraffic\": {\n      \"type\": \"bool\",\n"
                      "      \"defaultValue\": %s\n    }\n  },\n", p->b2b ? "true" : "false");
}

static void arm_resources(struct nr_buf *b, const struct nr_azure_rs_plan *p)
{
        buf_puts(b, "  \"resources\": [\n"
                    "    {\n      \"type\": \"Microsoft.Network/virtualNetworks/subnets\",\n"
                    "      \"apiVersion\": \"" ARM_API "\",\n"
                    "      \"name\": \"[format('{0}/RouteServerSubnet', parameters('vnetName'))]\",\n"
                    "      \"properties\": {\"addressPrefix\": \"[parameters('routeServerSubnetPrefix')]\"}\n"
                    "    },\n"
                    "    {\n      \"type\": \"Microsoft.Network/publicIPAddresses\",\n"
                    "      \"apiVersion\": \"" ARM_API "\",\n"
                    "      \"name\": \"[format('{0}-pip', parameters('routeServerName'))]\",\n"
                    "      \"location\": \"[parameters('location')]\",\n"
                    "      \"sku\": {\"name\": \"Standard\"},\n"
                    "      \"properties\": {\"publicIPAllocationMethod\": \"Static\", "
                    "\"publicIPAddressVersion\": \"IPv4\"}\n"
                    "    },\n"
                    "    {\n      \"type\": \"Microsoft.Network/virtualHubs\",\n"
                    "      \"apiVersion\": \"" ARM_API "\",\n"
                    "      \"name\": \"[parameters('routeServerName')]\",\n"
                    "      \"location\": \"[parameters('location')]\",\n"
                    "      \"properties\": {\"sku\": \"Standard\", \"allowBranchToBranchTraffic\": "
                    "\"[parameters('allowBranchToBranchTraffic')]\"}\n"
                    "    },\n"
                    "    {\n      \"type\": \"Microsoft.Network/virtualHubs/ipConfigurations\",\n"
                    "      \"apiVersion\": \"" ARM_API "\",\n"
                    "      \"name\": \"[format('{0}/ipconfig1', parameters('routeServerName'))]\",\n"
                    "      \"dependsOn\": [\n"
                    "        \"[resourceId('Microsoft.Network/virtualHubs', parameters('routeServerName'))]\",\n"
                    "        \"[resourceId('Microsoft.Network/virtualNetworks/subnets', "
                    "parameters('vnetName'), 'RouteServerSubnet')]\",\n"
                    "        \"[resourceId('Microsoft.Network/publicIPAddresses', "
                    "format('{0}-pip', parameters('routeServerName')))]\"\n"
                    "      ],\n"
                    "      \"properties\": {\n"
                    "        \"subnet\": {\"id\": \"[resourceId('Microsoft.Network/virtualNetworks/subnets', "
                    "parameters('vnetName'), 'RouteServerSubnet')]\"},\n"
                    "        \"publicIPAddress\": {\"id\": \"[resourceId('Microsoft.Network/publicIPAddresses', "
                    "format('{0}-pip', parameters('routeServerName')))]\"}\n"
                    "      }\n"
                    "    }");
        for (size_t i = 0; i < p->n; i++) {
                const struct nr_azure_rs_host *h = &p->hosts[i];
                /* one at a time: Route Server refuses concurrent changes of its peerings */
                buf_puts(b, ",\n    {\n      \"type\": \"Microsoft.Network/virtualHubs/bgpConnections\",\n"
                            "      \"apiVersion\": \"" ARM_API "\",\n"
                            "      \"name\": \"[format('{0}/{1}', parameters('routeServerName'), ");
                buf_puts(b, "'");
                put_safe(b, h->name);
                buf_puts(b, "')]\",\n      \"dependsOn\": [\"");
                if (i == 0)
                        buf_puts(b, "[resourceId('Microsoft.Network/virtualHubs/ipConfigurations', "
                                    "parameters('routeServerName'), 'ipconfig1')]");
                else
                        buf_printf(b, "[resourceId('Microsoft.Network/virtualHubs/bgpConnections', "
                                      "parameters('routeServerName'), '%s')]", p->hosts[i - 1].name);
                buf_puts(b, "\"],\n      \"properties\": {\"peerIp\": ");
                if (h->ip_known)
                        buf_printf(b, "\"%s\"", ip_s(h->ip).s);
                else
                        buf_printf(b, "\"[parameters('peerIp%zu')]\"", i + 1);
                buf_printf(b, ", \"peerAsn\": %u}\n    }", h->asn);
        }
        buf_puts(b, "\n  ],\n");
}

static char *render_arm(const struct nr_azure_rs_plan *p)
{
        struct nr_buf b = {0};
        buf_puts(&b, "{\n  \"$schema\": \"https://schema.management.azure.com/schemas/"
                     "2019-04-01/deploymentTemplate.json#\",\n"
                     "  \"contentVersion\": \"1.0.0.0\",\n"
                     "  \"metadata\": {\n"
                     "    \"generator\": \"nestrouterctl azure routeserver --format arm\",\n"
                     "    \"hosts\": [");
        for (size_t i = 0; i < p->n; i++) {
                struct nr_buf t = {0};
                host_line(&t, &p->hosts[i]);
                char *s = buf_finish(&t);
                buf_puts(&b, i ? ",\n      " : "\n      ");
                json_str(&b, s ? s : "");
                free(s);
        }
        buf_puts(&b, "\n    ],\n    \"notes\": [\n"
                     "      \"IP forwarding on each NIC2 is not deployed here (a NIC PUT replaces "
                     "the whole NIC): use the --format az script or the portal.\",\n"
                     "      \"The output virtualRouterIps are the two addresses every host lists "
                     "in bgp.peers.\"\n    ]\n  },\n");
        arm_parameters(&b, p);
        arm_resources(&b, p);
        buf_puts(&b, "  \"outputs\": {\n    \"virtualRouterIps\": {\n      \"type\": \"array\",\n"
                     "      \"value\": \"[reference(resourceId('Microsoft.Network/virtualHubs', "
                     "parameters('routeServerName')), '" ARM_API "').virtualRouterIps]\"\n"
                     "    }\n  }\n}\n");
        return buf_finish(&b);
}

/* ---- Bicep ------------------------------------------------------------------------------- */

static void bicep_param(struct nr_buf *b, const char *decl, const char *deflt)
{
        buf_printf(b, "param %s", decl);
        if (deflt) {
                buf_puts(b, " = '");
                put_safe(b, deflt);
                buf_puts(b, "'");
        }
        buf_puts(b, "\n");
}

static char *render_bicep(const struct nr_azure_rs_plan *p)
{
        struct nr_buf b = {0};
        buf_puts(&b, "// nestrouter, Route Server mode. Generated by `nestrouterctl azure "
                     "routeserver --format bicep`.\n");
        for (size_t i = 0; i < p->n; i++) {
                buf_puts(&b, "// ");
                host_line(&b, &p->hosts[i]);
                buf_puts(&b, ".\n");
        }
        buf_puts(&b, "// IP forwarding on each NIC2 is left to the --format az script (a NIC "
                     "resource here would\n// replace the whole NIC).\n\n");
        if (p->location[0])
                bicep_param(&b, "location string", p->location);
        else
                buf_puts(&b, "param location string = resourceGroup().location\n");
        bicep_param(&b, "vnetName string", p->vnet[0] ? p->vnet : NULL);
        bicep_param(&b, "routeServerName string", rs_name(p));
        bicep_param(&b, "routeServerSubnetPrefix string",
                    p->rs_subnet.len ? prefix_s(p->rs_subnet).s : NULL);
        buf_printf(&b, "param allowBranchToBranchTraffic bool = %s\n", p->b2b ? "true" : "false");
        for (size_t i = 0; i < p->n; i++)
                if (!p->hosts[i].ip_known)
                        buf_printf(&b, "@description('NIC2 address of %s (address: dhcp)')\n"
                                       "param peerIp%zu string\n", p->hosts[i].name, i + 1);
        buf_puts(&b, "\nresource vnet 'Microsoft.Network/virtualNetworks@" ARM_API "' existing = {\n"
                     "  name: vnetName\n}\n\n"
                     "resource subnet 'Microsoft.Network/virtualNetworks/subnets@" ARM_API "' = {\n"
                     "  parent: vnet\n  name: 'RouteServerSubnet'\n"
                     "  properties: {\n    addressPrefix: routeServerSubnetPrefix\n  }\n}\n\n"
                     "resource pip 'Microsoft.Network/publicIPAddresses@" ARM_API "' = {\n"
                     "  name: '${routeServerName}-pip'\n  location: location\n"
                     "  sku: {\n    name: 'Standard'\n  }\n"
                     "  properties: {\n    publicIPAllocationMethod: 'Static'\n"
                     "    publicIPAddressVersion: 'IPv4'\n  }\n}\n\n"
                     "resource routeServer 'Microsoft.Network/virtualHubs@" ARM_API "' = {\n"
                     "  name: routeServerName\n  location: location\n"
                     "  properties: {\n    sku: 'Standard'\n"
                     "    allowBranchToBranchTraffic: allowBranchToBranchTraffic\n  }\n}\n\n"
                     "resource ipconfig 'Microsoft.Network/virtualHubs/ipConfigurations@" ARM_API
                     "' = {\n  parent: routeServer\n  name: 'ipconfig1'\n"
                     "  properties: {\n    subnet: {\n      id: subnet.id\n    }\n"
                     "    publicIPAddress: {\n      id: pip.id\n    }\n  }\n}\n");
        for (size_t i = 0; i < p->n; i++) {
                const struct nr_azure_rs_host *h = &p->hosts[i];
                buf_printf(&b, "\nresource peer%zu 'Microsoft.Network/virtualHubs/bgpConnections@"
                               ARM_API "' = {\n  parent: routeServer\n  name: '", i + 1);
                put_safe(&b, h->name);
                /* one at a time: Route Server refuses concurrent peering changes */
                buf_puts(&b, "'\n  dependsOn: [\n    ");
                if (i)
                        buf_printf(&b, "peer%zu", i);
                else
                        buf_puts(&b, "ipconfig");
                buf_puts(&b, "\n  ]\n  properties: {\n");
                if (h->ip_known)
                        buf_printf(&b, "    peerIp: '%s'\n", ip_s(h->ip).s);
                else
                        buf_printf(&b, "    peerIp: peerIp%zu\n", i + 1);
                buf_printf(&b, "    peerAsn: %u\n  }\n}\n", h->asn);
        }
        buf_puts(&b, "\noutput virtualRouterIps array = routeServer.properties.virtualRouterIps\n");
        return buf_finish(&b);
}

char *render_azure_rs(const struct nr_azure_rs_plan *p, enum nr_azure_format f)
{
        switch (f) {
        case NR_AZURE_FORMAT_AZ:
                return render_az(p);
        case NR_AZURE_FORMAT_ARM:
                return render_arm(p);
        case NR_AZURE_FORMAT_BICEP:
                return render_bicep(p);
        }
        return NULL;
}

/* ---- migration --------------------------------------------------------------------------- */

char *render_azure_rs_remove(const struct nr_azure_rs_plan *p)
{
        struct nr_buf b = {0};
        buf_puts(&b, "#!/usr/bin/env bash\n"
                     "# nestrouter: from route tables to Route Server. Run this only once "
                     "`nestrouterctl status`\n# on every host shows both sessions Established "
                     "and Route Server's learned routes\n# (az network routeserver peering "
                     "list-learned-routes) hold each guest subnet: until then\n# the route "
                     "table is what carries the guests' traffic. A route table's route beats "
                     "a\n# BGP route of the same prefix, so the routes must go for Route "
                     "Server's to take effect.\nset -euo pipefail\n\n");
        render_az_var(&b, "RG", or_ph(p->resource_group, PH_RG), NULL);
        render_az_var(&b, "VNET", or_ph(p->vnet, PH_VNET), NULL);
        render_az_var(&b, "ROUTE_TABLE", or_ph(p->route_table, NR_AZURE_DEFAULT_ROUTE_TABLE), NULL);
        buf_puts(&b, "case \"$RG$VNET\" in *'<'*) echo \"$0: replace the <...> placeholders "
                     "first\" >&2; exit 1 ;; esac\n\n"
                     "# Each host's route (named as `nestrouterctl azure routes` names it).\n");
        for (size_t i = 0; i < p->n; i++) {
                buf_puts(&b, "az network route-table route delete -g \"$RG\" --route-table-name "
                             "\"$ROUTE_TABLE\" -n '");
                put_safe(&b, p->hosts[i].name);
                buf_puts(&b, "' -o none\n");
        }
        buf_puts(&b, "\n# The table, once no route is left: detached from every subnet, then "
                     "deleted.\n"
                     "if [ \"$(az network route-table route list -g \"$RG\" --route-table-name "
                     "\"$ROUTE_TABLE\" --query 'length(@)' -o tsv)\" = 0 ]; then\n"
                     "        for id in $(az network route-table show -g \"$RG\" -n "
                     "\"$ROUTE_TABLE\" --query 'subnets[].id' -o tsv); do\n"
                     "                az network vnet subnet update --ids \"$id\" --remove "
                     "routeTable -o none\n"
                     "        done\n"
                     "        az network route-table delete -g \"$RG\" -n \"$ROUTE_TABLE\" -o none\n"
                     "else\n"
                     "        echo \"$0: $ROUTE_TABLE still has routes of other hosts: kept\" >&2\n"
                     "fi\n");
        return buf_finish(&b);
}
