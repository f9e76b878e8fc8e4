/* The guest bridge's own nftables table, `table bridge nestrouter`: who may say what on the
 * bridge. Bridged frames never reach the inet table's hooks (a guest's ARP reply to another
 * guest, a frame to a guest's MAC), so the address bindings are enforced here, per frame coming
 * in from a port of the bridge. Pure. */
#include "core/render/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config/names.h"

struct nftbr_bind {
        uint8_t mac[6];
        uint32_t ip;
};

static int bind_cmp(const void *pa, const void *pb)
{
        const struct nftbr_bind *a = pa, *b = pb;
        if (a->ip != b->ip)
                return a->ip < b->ip ? -1 : 1;
        return memcmp(a->mac, b->mac, sizeof(a->mac));
}

static bool res_has_ip(const struct nr_reservation *res, size_t n_res, uint32_t ip)
{
        for (size_t i = 0; i < n_res; i++)
                if (res[i].has_mac && res[i].ip == ip)
                        return true;
        return false;
}

/* Reservations with a MAC, then leases of addresses no reservation holds (a stale lease of a
 * reserved address must not let its old owner keep it), sorted and without duplicates. */
static struct nftbr_bind *collect_binds(const struct nr_config *cfg, const struct nr_facts *facts,
                                        const struct nr_reservation *res, size_t n_res,
                                        size_t *n)
{
        struct nftbr_bind *v = calloc(n_res + facts->n_leases + 1, sizeof(*v));
        size_t k = 0;
        if (!v)
                return NULL;
        for (size_t i = 0; i < n_res; i++) {
                /* validation refuses both, and guest_ingress's fast path relies on it */
                if (!res[i].has_mac || res[i].ip == cfg->guests.gateway ||
                    !prefix_contains(cfg->guests.subnet, res[i].ip))
                        continue;
                memcpy(v[k].mac, res[i].mac, 6);
                v[k++].ip = res[i].ip;
        }
        for (size_t i = 0; i < facts->n_leases; i++) {
                const struct nr_lease_fact *l = &facts->leases[i];
                if (!prefix_contains(cfg->guests.subnet, l->ip) || l->ip == cfg->guests.gateway ||
                    res_has_ip(res, n_res, l->ip))
                        continue;
                memcpy(v[k].mac, l->mac, 6);
                v[k++].ip = l->ip;
        }
        qsort(v, k, sizeof(*v), bind_cmp);
        size_t out = 0;
        for (size_t i = 0; i < k; i++)
                if (!out || bind_cmp(&v[out - 1], &v[i]))
                        v[out++] = v[i];
        *n = out;
        return v;
}

static size_t mac_hash(const uint8_t mac[6])
{
        uint64_t h = 0;
        memcpy(&h, mac, 6);
        return (size_t)((h * 0x9e3779b97f4a7c15ull) >> 32);
}

static void sets(struct nftm_table *t, const struct nr_config *cfg, const struct nr_facts *facts,
                 const struct nftbr_bind *v, size_t nb)
{
        char comment[96];
        snprintf(comment, sizeof(comment), "the ports of %s", cfg->guests.bridge);
        nftm_set(t, false, "ports", "ifname", false, comment);
        for (size_t i = 0; i < facts->n_ports; i++)
                if (name_ifname_ok(facts->ports[i]))
                        nftm_elem(t, "\"%s\"", facts->ports[i]);

        nftm_set(t, false, "bound", "ether_addr . ipv4_addr",
                 false, "reserved and leased addresses: MAC . address");
        for (size_t i = 0; i < nb; i++)
                nftm_elem(t, "%s . %s", mac_s(v[i].mac).s, ip_s(v[i].ip).s);

        nftm_set(t, false, "bound_ips", "ipv4_addr", false,
                 "addresses only their bound MAC may use");
        for (size_t i = 0; i < nb; i++)
                if (!i || v[i].ip != v[i - 1].ip)
                        nftm_elem(t, "%s", ip_s(v[i].ip).s);

        /* a MAC bound to two addresses (a reservation and an old lease) is one element, where
         * it first appears */
        nftm_set(t, false, "bound_macs", "ether_addr", false,
                 "MACs that may use only their bound addresses");
        size_t mask = 15;
        while (mask < 2 * nb)
                mask = 2 * mask + 1;
        uint32_t *seen = calloc(mask + 1, sizeof(*seen)); /* index + 1 into v */
        if (!seen) {
                t->oom = true; /* nftm_finish refuses the table */
                return;
        }
        for (size_t i = 0; i < nb; i++) {
                size_t p = mac_hash(v[i].mac) & mask;
                while (seen[p] && memcmp(v[seen[p] - 1].mac, v[i].mac, 6))
                        p = (p + 1) & mask;
                if (seen[p])
                        continue;
                seen[p] = (uint32_t)i + 1;
                nftm_elem(t, "%s", mac_s(v[i].mac).s);
        }
        free(seen);
}

/* Everything a port sends that claims an address: the gateway's is the router's alone, a bound
 * one its MAC's alone (as ARP sender hardware address and as the frame's source), and nothing
 * outside the guest subnet. The unbound rest of the subnet is free for all (a dynamic guest
 * before its lease is written, a guest configured by hand). */
static void chain_ingress(struct nftm_table *t, const char *gw, const char *subnet)
{
        nftm_chain(t, "guest_ingress",
                   "type filter hook prerouting priority filter; policy accept;");
        /* The fast path for a guest's IPv4 traffic (issue 11: every routed packet of a guest
         * crossed all the rules below): a frame whose MAC and source address are a bound pair
         * passes every IP rule below anyway (a bound address is in the subnet and never the
         * gateway's, collect_binds), so it is accepted at once. ARP and unbound pairs go on.
         * It comes before the port check: a bound pair is accepted from any port (from one that
         * is not a guest's, br-not-guest accepts everything anyway), so a guest's packet costs
         * one set lookup here, not two (64-byte UDP to the internet: +2.5 points of the
         * hand-written baseline, docs/benchmarks.md). */
        nftm_rule(t, "br-ip-bound-ok", NULL, "ether saddr . ip saddr @bound accept");
        nftm_rule(t, "br-not-guest", NULL, "iifname != @ports accept");
        nftm_rule(t, "br-arp-gateway", NULL, "arp saddr ip %s counter drop", gw);
        nftm_rule(t, "br-arp-subnet", NULL, "arp saddr ip != { 0.0.0.0, %s } counter drop", subnet);
        nftm_rule(t, "br-arp-bound", NULL,
                  "arp saddr ip @bound_ips arp saddr ether . arp saddr ip != @bound counter drop");
        nftm_rule(t, "br-arp-bound-src", NULL,
                  "arp saddr ip @bound_ips ether saddr . arp saddr ip != @bound counter drop");
        /* a bound MAC claiming another address would also move that MAC's bridge FDB entry */
        nftm_rule(t, "br-arp-mac", NULL,
                  "ether saddr @bound_macs arp saddr ip != 0.0.0.0 "
                  "ether saddr . arp saddr ip != @bound counter drop");
        nftm_rule(t, "br-ip-gateway", NULL, "ip saddr %s counter drop", gw);
        /* 0.0.0.0 only for a client asking for its address */
        nftm_rule(t, "br-ip-dhcp", NULL, "ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept");
        nftm_rule(t, "br-ip-subnet", NULL, "ip saddr != %s counter drop", subnet);
        nftm_rule(t, "br-ip-bound", NULL,
                  "ip saddr @bound_ips ether saddr . ip saddr != @bound counter drop");
        nftm_rule(t, "br-ip-mac", NULL,
                  "ether saddr @bound_macs ether saddr . ip saddr != @bound counter drop");
}

/* guests.isolation: the forward hook sees only frames going from one port to another; frames
 * to the router itself (DHCP, ARP for the gateway, routed traffic) take the input hook. */
static void chain_forward(struct nftm_table *t)
{
        nftm_chain(t, "guest_forward", "type filter hook forward priority filter; policy accept;");
        nftm_rule(t, "br-isolate", NULL, "iifname @ports oifname @ports counter drop");
}

struct nftm_table *render_nft_bridge(const struct nr_config *cfg, const struct nr_facts *facts,
                                     const struct nr_reservation *res, size_t n_res)
{
        const struct nr_guests *g = &cfg->guests;
        char gw[20], subnet[20];
        size_t nb = 0;
        struct nftbr_bind *v = collect_binds(cfg, facts, res, n_res, &nb);
        struct nftm_table *t =
                nftm_new("bridge", NR_NFT_TABLE, "managed by nestrouterd; edits are overwritten");
        if (!v || !t) {
                free(v);
                nftm_unref(t);
                return NULL;
        }
        snprintf(gw, sizeof(gw), "%s", ip_s(g->gateway).s);
        snprintf(subnet, sizeof(subnet), "%s",
                 prefix_s((struct nr_prefix){prefix_network(g->subnet), g->subnet.len}).s);
        nftm_preamble(t, "# nestrouter: address bindings on the ports of %s %s%s\n",
                      name_ifname_ok(g->bridge) ? g->bridge : "(unusable bridge name)", subnet,
                      g->isolation ? ", guests isolated from each other" : "");
        if (facts->ports_truncated || facts->leases_truncated)
                nftm_preamble(t, "# more ports or leases than nestrouterd tracks: some are left out\n");
        sets(t, cfg, facts, v, nb);
        chain_ingress(t, gw, subnet);
        if (g->isolation)
                chain_forward(t);
        free(v);
        if (nftm_finish(t) < 0) {
                nftm_unref(t);
                return NULL;
        }
        return t;
}
