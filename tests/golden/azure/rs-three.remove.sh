#!/usr/bin/env bash
# nestrouter: from route tables to Route Server. Run this only once `nestrouterctl status`
# on every host shows both sessions Established and Route Server's learned routes
# (az network routeserver peering list-learned-routes) hold each guest subnet: until then
# the route table is what carries the guests' traffic. A route table's route beats a
# BGP route of the same prefix, so the routes must go for Route Server's to take effect.
set -euo pipefail

RG='rg-nested'
VNET='vnet-nested'
ROUTE_TABLE='Routes-for-nested-VMs'
case "$RG$VNET" in *'<'*) echo "$0: replace the <...> placeholders first" >&2; exit 1 ;; esac

# Each host's route (named as `nestrouterctl azure routes` names it).
az network route-table route delete -g "$RG" --route-table-name "$ROUTE_TABLE" -n 'nested-host-1' -o none
az network route-table route delete -g "$RG" --route-table-name "$ROUTE_TABLE" -n 'nested-host-2' -o none
az network route-table route delete -g "$RG" --route-table-name "$ROUTE_TABLE" -n 'nested-host-1-standby' -o none

# The table, once no route is left: detached from every subnet, then deleted.
if [ "$(az network route-table route list -g "$RG" --route-table-name "$ROUTE_TABLE" --query 'length(@)' -o tsv)" = 0 ]; then
        for id in $(az network route-table show -g "$RG" -n "$ROUTE_TABLE" --query 'subnets[].id' -o tsv); do
                az network vnet subnet update --ids "$id" --remove routeTable -o none
        done
        az network route-table delete -g "$RG" -n "$ROUTE_TABLE" -o none
else
        echo "$0: $ROUTE_TABLE still has routes of other hosts: kept" >&2
fi
