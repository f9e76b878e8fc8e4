/* The guest bridge's own nftables table, `table bridge nestrouter`: who may say what on the
 * bridge. Bridged frames never reach the inet table's hooks (a guest's ARP reply to another
 * guest, a frame to a guest's MAC), so the address bindings are enforced here, per frame coming
 * in from a port of the bridge. Pure. */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "strbuf.h"

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
                if (!res[i].has_mac || res[i].ip == cfg->guests.gateway)
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

static void set_begin(struct nr_buf *b, const char *name, const char *type, const char *comment)
{
        buf_printf(b, "\n\tset %s {\n\t\ttype %s\n\t\tcomment \"%s\"\n", name, type, comment);
}

/* Elements like render_nft.c writes them: none at all when empty (nft refuses `{ }`). */
static void set_elem(struct nr_buf *b, size_t *n, const char *text)
{
        buf_puts(b, (*n)++ ? ",\n\t\t\t     " : "\t\telements = { ");
        buf_puts(b, text);
}

static void set_end(struct nr_buf *b, size_t n)
{
        buf_puts(b, n ? " }\n\t}\n" : "\t}\n");
}

static void sets(struct nr_buf *b, const struct nr_config *cfg, const struct nr_facts *facts,
                 const struct nftbr_bind *v, size_t nb)
{
        char text[64];
        size_t n = 0;
        buf_printf(b, "\n\tset ports {\n\t\ttype ifname\n\t\tcomment \"the ports of %s\"\n",
                   cfg->guests.bridge);
        for (size_t i = 0; i < facts->n_ports; i++) {
                if (!name_ifname_ok(facts->ports[i]))
                        continue;
                snprintf(text, sizeof(text), "\"%s\"", facts->ports[i]);
                set_elem(b, &n, text);
        }
        set_end(b, n);

        n = 0;
        set_begin(b, "bound", "ether_addr . ipv4_addr",
                  "reserved and leased addresses: MAC . address");
        for (size_t i = 0; i < nb; i++) {
                snprintf(text, sizeof(text), "%s . %s", mac_s(v[i].mac).s, ip_s(v[i].ip).s);
                set_elem(b, &n, text);
        }
        set_end(b, n);

        n = 0;
        set_begin(b, "bound_ips", "ipv4_addr", "addresses only their bound MAC may use");
        for (size_t i = 0; i < nb; i++)
                if (!i || v[i].ip != v[i - 1].ip)
                        set_elem(b, &n, ip_s(v[i].ip).s);
        set_end(b, n);

        /* a MAC bound to two addresses (a reservation and an old lease) is one element */
        n = 0;
        set_begin(b, "bound_macs", "ether_addr", "MACs that may use only their bound addresses");
        for (size_t i = 0; i < nb; i++) {
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                        seen = !memcmp(v[j].mac, v[i].mac, 6);
                if (!seen)
                        set_elem(b, &n, mac_s(v[i].mac).s);
        }
        set_end(b, n);
}

static void rule(struct nr_buf *b, const char *id, const char *text)
{
        buf_printf(b, "\t\t%s comment \"%s\"\n", text, id);
}

/* Everything a port sends that claims an address: the gateway's is the router's alone, a bound
 * one its MAC's alone (as ARP sender hardware address and as the frame's source), and nothing
 * outside the guest subnet. The unbound rest of the subnet is free for all (a dynamic guest
 * before its lease is written, a guest configured by hand). */
static void chain_ingress(struct nr_buf *b, const char *gw, const char *subnet)
{
        char r[192];
        buf_puts(b, "\n\tchain guest_ingress {\n"
                    "\t\ttype filter hook prerouting priority filter; policy accept;\n");
        rule(b, "br-not-guest", "iifname != @ports accept");
        snprintf(r, sizeof(r), "arp saddr ip %s counter drop", gw);
        rule(b, "br-arp-gateway", r);
        snprintf(r, sizeof(r), "arp saddr ip != { 0.0.0.0, %s } counter drop", subnet);
        rule(b, "br-arp-subnet", r);
        rule(b, "br-arp-bound",
             "arp saddr ip @bound_ips arp saddr ether . arp saddr ip != @bound counter drop");
        rule(b, "br-arp-bound-src",
             "arp saddr ip @bound_ips ether saddr . arp saddr ip != @bound counter drop");
        /* a bound MAC claiming another address would also move that MAC's bridge FDB entry */
        rule(b, "br-arp-mac",
             "ether saddr @bound_macs arp saddr ip != 0.0.0.0 "
             "ether saddr . arp saddr ip != @bound counter drop");
        snprintf(r, sizeof(r), "ip saddr %s counter drop", gw);
        rule(b, "br-ip-gateway", r);
        /* 0.0.0.0 only for a client asking for its address */
        rule(b, "br-ip-dhcp", "ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept");
        snprintf(r, sizeof(r), "ip saddr != %s counter drop", subnet);
        rule(b, "br-ip-subnet", r);
        rule(b, "br-ip-bound", "ip saddr @bound_ips ether saddr . ip saddr != @bound counter drop");
        rule(b, "br-ip-mac", "ether saddr @bound_macs ether saddr . ip saddr != @bound counter drop");
        buf_puts(b, "\t}\n");
}

/* guests.isolation: the forward hook sees only frames going from one port to another; frames
 * to the router itself (DHCP, ARP for the gateway, routed traffic) take the input hook. */
static void chain_forward(struct nr_buf *b)
{
        buf_puts(b, "\n\tchain guest_forward {\n"
                    "\t\ttype filter hook forward priority filter; policy accept;\n");
        rule(b, "br-isolate", "iifname @ports oifname @ports counter drop");
        buf_puts(b, "\t}\n");
}

char *render_nft_bridge(const struct nr_config *cfg, const struct nr_facts *facts,
                        const struct nr_reservation *res, size_t n_res)
{
        const struct nr_guests *g = &cfg->guests;
        struct nr_buf b = {0};
        char gw[20], subnet[20];
        size_t nb = 0;
        struct nftbr_bind *v = collect_binds(cfg, facts, res, n_res, &nb);
        if (!v)
                return NULL;
        snprintf(gw, sizeof(gw), "%s", ip_s(g->gateway).s);
        snprintf(subnet, sizeof(subnet), "%s",
                 prefix_s((struct nr_prefix){prefix_network(g->subnet), g->subnet.len}).s);
        buf_printf(&b, "# nestrouter: address bindings on the ports of %s %s%s\n",
                   name_ifname_ok(g->bridge) ? g->bridge : "(unusable bridge name)", subnet,
                   g->isolation ? ", guests isolated from each other" : "");
        if (facts->ports_truncated || facts->leases_truncated)
                buf_puts(&b, "# more ports or leases than nestrouterd tracks: some are left out\n");
        buf_printf(&b, "table bridge %s {\n", NR_NFT_TABLE);
        buf_puts(&b, "\tcomment \"managed by nestrouterd; edits are overwritten\"\n");
        sets(&b, cfg, facts, v, nb);
        chain_ingress(&b, gw, subnet);
        if (g->isolation)
                chain_forward(&b);
        buf_puts(&b, "}\n");
        free(v);
        return buf_finish(&b);
}
