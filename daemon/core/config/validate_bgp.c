/* Cross-field checks of `bgp:` and the Route Server keys of `azure:`: the sessions run over
 * NIC2 (uplinks.lan) to both Route Server instances, and what is advertised must lie outside the
 * VNet's address space (Route Server drops such routes, and the VNet's own routes win anyway). */
#include "core/config/validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/config/yamlval.h"

__attribute__((format(printf, 5, 6))) static void
bdiag(struct nr_config *cfg, struct nr_diags *d, enum nr_severity sev, const char *path,
      const char *fmt, ...)
{
        int line, col;
        pos_get(&cfg->pos, path, &line, &col);
        va_list ap;
        va_start(ap, fmt);
        diag_vadd(d, sev, line, col, path, fmt, ap);
        va_end(ap);
}

#define BERR(...) bdiag(cfg, d, NR_SEV_ERROR, __VA_ARGS__)
#define BWARN(...) bdiag(cfg, d, NR_SEV_WARNING, __VA_ARGS__)

/* The key a prefix of bgp.advertise is reported at: its own, or guests.subnet for the
 * default (asked only for a message: a position is found only when needed). */
static const char *advertise_path(const struct nr_config *cfg, size_t i, char p[YV_PATH_MAX])
{
        int line, col;
        snprintf(p, YV_PATH_MAX, "bgp.advertise[%zu]", i);
        if (pos_get(&cfg->pos, p, &line, &col) != strlen(p))
                snprintf(p, YV_PATH_MAX, "guests.subnet");
        return p;
}

/* The uplinks.lan route (or its own subnet) a peer is reached through; false: none. */
static bool lan_reaches(const struct nr_uplink *lan, uint32_t a)
{
        if (!lan->dhcp && prefix_valid(lan->address) && prefix_contains(lan->address, a))
                return true;
        for (size_t i = 0; i < lan->n_routes; i++)
                if (prefix_valid(lan->routes[i]) && prefix_contains(lan->routes[i], a))
                        return true;
        return false;
}

static void check_peer(struct nr_config *cfg, struct nr_diags *d, size_t i)
{
        const struct nr_bgp *b = &cfg->bgp;
        const struct nr_uplink *lan = &cfg->uplinks[NR_UPLINK_LAN];
        const struct nr_uplink *nat = &cfg->uplinks[NR_UPLINK_NAT];
        const struct nr_prefix rss = cfg->azure.route_server_subnet;
        uint32_t a = b->peers[i];
        char p[YV_PATH_MAX];
        snprintf(p, sizeof(p), "bgp.peers[%zu]", i);
        if (!a)
                return; /* did not parse */
        for (size_t j = 0; j < i; j++)
                if (b->peers[j] == a)
                        BERR(p, "%s is listed twice (also peers[%zu])", ip_s(a).s, j);
        if (cfg->guests.subnet.len && prefix_contains(cfg->guests.subnet, a)) {
                BERR(p, "%s is inside the guest subnet %s; Route Server's instances are in "
                     "the RouteServerSubnet", ip_s(a).s, prefix_s(cfg->guests.subnet).s);
                return;
        }
        if (!lan->dhcp && a == lan->address.addr) {
                BERR(p, "%s is uplinks.lan's own address", ip_s(a).s);
                return;
        }
        if (nat->present && !nat->dhcp && prefix_valid(nat->address) &&
            prefix_contains(nat->address, a)) {
                BERR(p, "%s is in the NAT subnet %s; the sessions run over uplinks.lan (NIC2)",
                     ip_s(a).s, prefix_s((struct nr_prefix){prefix_network(nat->address),
                                                            nat->address.len}).s);
                return;
        }
        if (rss.len && !prefix_contains(rss, a))
                BERR(p, "%s is outside azure.route_server_subnet %s (Route Server's "
                     "instances are its .4 and .5)", ip_s(a).s, prefix_s(rss).s);
        else if (!lan_reaches(lan, a))
                BERR(p, "%s is not reachable through uplinks.lan: add the RouteServerSubnet "
                     "(e.g. %s) to uplinks.lan.routes", ip_s(a).s,
                     rss.len ? prefix_s(rss).s : "10.0.4.0/26");
}

static void check_advertise(struct nr_config *cfg, struct nr_diags *d, size_t i)
{
        const struct nr_bgp *b = &cfg->bgp;
        const struct nr_azure *az = &cfg->azure;
        struct nr_prefix a = b->advertise[i];
        char p[YV_PATH_MAX];
        if (!prefix_valid(a))
                return;
        for (size_t j = 0; j < i; j++)
                if (b->advertise[j].addr == a.addr && b->advertise[j].len == a.len)
                        BERR(advertise_path(cfg, i, p), "%s is listed twice (also advertise[%zu])",
                             prefix_s(a).s, j);
        for (size_t k = 0; k < az->n_address_space; k++)
                if (prefix_valid(az->address_space[k]) && prefix_covers(az->address_space[k], a))
                        BERR(advertise_path(cfg, i, p),
                             "%s is inside the VNet's address space %s (azure.address_space): "
                             "Route Server ignores it and the VNet's own route wins; use a "
                             "prefix outside the VNet, e.g. 10.100.0.0/24",
                             prefix_s(a).s, prefix_s(az->address_space[k]).s);
        if (a.len == 0)
                BWARN(advertise_path(cfg, i, p),
                      "advertising a default route sends every VNet subnet's internet "
                      "traffic here, this host's own subnets included (they need a route "
                      "table with 0.0.0.0/0 -> Internet)");
}

static void check_timers(struct nr_config *cfg, struct nr_diags *d)
{
        const struct nr_bgp *b = &cfg->bgp;
        if (b->hold_time && b->keepalive >= b->hold_time)
                BERR("bgp.keepalive", "keepalive %us must be shorter than the hold time %us "
                     "(a third of it is usual)", b->keepalive, b->hold_time);
        else if (b->hold_time && b->keepalive > b->hold_time / 3)
                BWARN("bgp.keepalive", "keepalive %us is more than a third of the hold time "
                      "%us; one lost keepalive can drop the session", b->keepalive,
                      b->hold_time);
}

static void check_rs_subnet(struct nr_config *cfg, struct nr_diags *d)
{
        const struct nr_azure *az = &cfg->azure;
        struct nr_prefix rss = az->route_server_subnet;
        if (!rss.len)
                return;
        bool inside = !az->n_address_space;
        for (size_t k = 0; k < az->n_address_space; k++)
                inside |= prefix_valid(az->address_space[k]) &&
                          prefix_covers(az->address_space[k], rss);
        if (!inside)
                BERR("azure.route_server_subnet", "%s is outside the VNet's address space "
                     "(azure.address_space): add a prefix for it to the VNet", prefix_s(rss).s);
        if (cfg->guests.subnet.len && prefix_overlaps(rss, cfg->guests.subnet))
                BERR("azure.route_server_subnet", "%s overlaps the guest subnet %s",
                     prefix_s(rss).s, prefix_s(cfg->guests.subnet).s);
}

void cfg_validate_bgp(struct nr_config *cfg, struct nr_diags *d)
{
        const struct nr_bgp *b = &cfg->bgp;
        check_rs_subnet(cfg, d);
        if (!b->present)
                return;
        if (b->asn && b->asn == b->peer_asn)
                BERR("bgp.asn", "ASN %u is also peer_asn; Route Server peers over eBGP, so the "
                     "host needs an ASN of its own", b->asn);
        if (b->n_peers == 1)
                BWARN("bgp.peers", "one peer: Route Server has two instances "
                      "(virtualRouterIps) and both must be peered, advertising the same routes");
        if (!cfg->uplinks[NR_UPLINK_LAN].present)
                BERR("bgp", "needs uplinks.lan: the sessions with Route Server run over NIC2, "
                     "the NIC whose address Azure sends the guests' traffic to");
        for (size_t i = 0; cfg->uplinks[NR_UPLINK_LAN].present && i < b->n_peers; i++)
                check_peer(cfg, d, i);
        if (!b->n_advertise)
                BWARN("bgp", "nothing to advertise (no guest subnet, advertise: [])");
        for (size_t i = 0; i < b->n_advertise; i++)
                check_advertise(cfg, d, i);
        check_timers(cfg, d);
}
