/* The router's nftables ruleset: one `table inet nestrouter` (as data, nft_model.h) whose
 * variable parts (port forwards, their allow-lists, the uplink addresses) live in named sets and
 * maps, so that a reload that only changes those can replace elements and keep every rule,
 * counter and conntrack entry. Pure. */
#include "core/render/render.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/config/names.h"

struct nft_ctx {
        const struct nr_config *cfg;
        const struct nr_facts *facts;
        struct nftm_table *t;
        const char *note;                /* a comment for the next rule */
        const char *up[NR_UPLINK_COUNT]; /* interface of each usable uplink, else NULL */
        char up_match[48];               /* `"eth0"` or `{ "eth0", "eth1" }`; "" when none */
        const char *br;                  /* guest bridge, NULL when unusable */
        char subnet[20];
};

/* One rule; every rule carries a stable id so status can show its counter. */
__attribute__((format(printf, 3, 4))) static void nft_rule(struct nft_ctx *c, const char *id,
                                                            const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        nftm_rulev(c->t, id, c->note, fmt, ap);
        va_end(ap);
        c->note = NULL;
}

__attribute__((format(printf, 2, 3))) static void nft_elem(struct nft_ctx *c, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        nftm_elemv(c->t, fmt, ap);
        va_end(ap);
}

static void nft_set_begin(struct nft_ctx *c, const char *kind, const char *name, const char *type,
                          bool interval, const char *comment)
{
        nftm_set(c->t, !strcmp(kind, "map"), name, type, interval, comment);
}

static struct nr_prefix nft_norm(struct nr_prefix p)
{
        return (struct nr_prefix){prefix_network(p), p.len};
}

/* Interval sets refuse overlapping elements, and CIDR blocks overlap only by containment: drop a
 * prefix another one in the same list covers (of two equal ones, the later). */
static bool nft_prefix_redundant(const struct nr_prefix *v, size_t n, size_t i)
{
        struct nr_prefix p = nft_norm(v[i]);
        for (size_t j = 0; j < n; j++) {
                struct nr_prefix q = nft_norm(v[j]);
                if (j != i && prefix_covers(q, p) && (q.len < p.len || j < i))
                        return true;
        }
        return false;
}

static uint16_t nft_to_port(const struct nr_port_forward *f)
{
        return f->to_port ? f->to_port : f->port;
}

static void nft_set_uplink_addrs(struct nft_ctx *c)
{
        bool any = false;
        uint32_t prev = 0;
        nft_set_begin(c, "set", "uplink_addrs", "ipv4_addr", false,
                      "uplink addresses port forwards listen on");
        for (int r = 0; r < NR_UPLINK_COUNT; r++) {
                const struct nr_uplink_fact *f = &c->facts->uplink[r];
                if (!c->up[r] || !f->have_addr || (any && f->addr.addr == prev))
                        continue;
                nft_elem(c, "%s", ip_s(f->addr.addr).s);
                prev = f->addr.addr;
                any = true;
        }
}

static void nft_set_forwards(struct nft_ctx *c)
{
        const struct nr_config *cfg = c->cfg;

        size_t open = 0;
        nft_set_begin(c, "map", "pf_dnat", "inet_proto . inet_service : ipv4_addr . inet_service",
                      false, "port forwards: proto . port -> target . port");
        nftm_set_reserve(c->t, cfg->n_port_forwards);
        for (size_t i = 0; i < cfg->n_port_forwards; i++) {
                const struct nr_port_forward *f = &cfg->port_forwards[i];
                nft_elem(c, "%s . %u : %s . %u", cfg_proto_name(f->proto), f->port,
                         ip_s(f->to_ip).s, nft_to_port(f));
        }

        nft_set_begin(c, "set", "pf_open", "inet_proto . inet_service", false,
                      "port forwards open to every source");
        for (size_t i = 0; i < cfg->n_port_forwards; i++)
                open += !cfg->port_forwards[i].n_from;
        nftm_set_reserve(c->t, open);
        for (size_t i = 0; i < cfg->n_port_forwards; i++) {
                const struct nr_port_forward *f = &cfg->port_forwards[i];
                if (!f->n_from)
                        nft_elem(c, "%s . %u", cfg_proto_name(f->proto), f->port);
        }
}

static void nft_set_pf_from(struct nft_ctx *c)
{
        const struct nr_config *cfg = c->cfg;
        size_t n = 0;

        nft_set_begin(c, "set", "pf_from", "ipv4_addr . inet_proto . inet_service", true,
                      "port forwards with a from list: source . proto . port");
        for (size_t i = 0; i < cfg->n_port_forwards; i++)
                n += cfg->port_forwards[i].n_from;
        nftm_set_reserve(c->t, n);
        for (size_t i = 0; i < cfg->n_port_forwards; i++) {
                const struct nr_port_forward *f = &cfg->port_forwards[i];
                for (size_t j = 0; j < f->n_from; j++)
                        if (!nft_prefix_redundant(f->from, f->n_from, j))
                                nft_elem(c, "%s . %s . %u", prefix_s(nft_norm(f->from[j])).s,
                                         cfg_proto_name(f->proto), f->port);
        }
}

static void nft_set_ssh_from(struct nft_ctx *c)
{
        const struct nr_firewall *fw = &c->cfg->firewall;

        /* declared even when empty, so that adding the first source changes elements and one
         * rule, not the table's structure */
        nft_set_begin(c, "set", "ssh_from", "ipv4_addr", true, "sources SSH is accepted from");
        for (size_t i = 0; i < fw->n_ssh_from; i++)
                if (!nft_prefix_redundant(fw->ssh_from, fw->n_ssh_from, i))
                        nft_elem(c, "%s", prefix_s(nft_norm(fw->ssh_from[i])).s);
}

/* Prometheus scraping node exporter on the appliance (metrics.scrape_from); declared even when
 * empty, like ssh_from */
static void nft_set_metrics_from(struct nft_ctx *c)
{
        const struct nr_metrics_cfg *m = &c->cfg->metrics;

        nft_set_begin(c, "set", "metrics_from", "ipv4_addr", true,
                      "sources node exporter's port is open to");
        for (size_t i = 0; i < m->n_scrape_from; i++)
                if (!nft_prefix_redundant(m->scrape_from, m->n_scrape_from, i))
                        nft_elem(c, "%s", prefix_s(nft_norm(m->scrape_from[i])).s);
}

static void nft_chain_begin(struct nft_ctx *c, const char *name, const char *hook)
{
        nftm_chain(c->t, name, hook);
}

static void nft_chain_prerouting(struct nft_ctx *c)
{
        static const uint32_t marks[NR_UPLINK_COUNT] = {NR_MARK_NAT, NR_MARK_LAN};
        static const char *const ids[NR_UPLINK_COUNT] = {"pre-mark-nat", "pre-mark-lan"};
        const char *pf = "counter dnat ip to meta l4proto . th dport map @pf_dnat";

        nft_chain_begin(c, "prerouting",
                        "type nat hook prerouting priority dstnat; policy accept;");
        nftm_chain_note(c->t, "A connection remembers the uplink it came in by (this chain sees "
                              "only its first\npacket), so that the guest's replies can be "
                              "routed back out by it.");
        for (int r = 0; r < NR_UPLINK_COUNT; r++)
                if (c->up[r])
                        nft_rule(c, ids[r],
                                 "iifname \"%s\" counter ct mark set ct mark and 0x%08x or 0x%08x",
                                 c->up[r], ~NR_MARK_MASK, marks[r]);
        if (c->up_match[0]) {
                nft_rule(c, "pre-pf-open",
                         "iifname %s ip daddr @uplink_addrs meta l4proto . th dport @pf_open %s",
                         c->up_match, pf);
                nft_rule(c, "pre-pf-from",
                         "iifname %s ip daddr @uplink_addrs "
                         "ip saddr . meta l4proto . th dport @pf_from %s",
                         c->up_match, pf);
        }
        if (c->br) {
                /* guests could reach the target directly, so a from list does not limit them.
                 * No `... @pf_dnat` key match before the dnat: older kernels (Debian 12's 6.1)
                 * refuse a map used as a set with EINVAL, and the dnat's own map lookup already
                 * ends the rule for a key the map does not hold. */
                c->note = "Hairpin: guests may use a forward through the uplink address too.";
                nft_rule(c, "pre-pf-hairpin",
                         "iifname \"%s\" ip saddr %s ip daddr @uplink_addrs %s", c->br,
                         c->subnet, pf);
        }
}

/* Replies from guests carry their connection's uplink mark. Every packet from a guest passes
 * mangle_prerouting, and most belong to connections the guests opened, which carry no mark:
 * they pay one rule there, the marked ones jump here. `meta mark set meta mark and ~MASK or
 * (ct mark and MASK)` needs two registers, which nft 1.0.6 cannot express; `meta mark set ct
 * mark and MASK` would wipe the other mark bits. Only two values are possible, so one rule per
 * value with constants keeps every other bit of the packet mark. */
static void nft_chain_mark_restore(struct nft_ctx *c)
{
        static const uint32_t marks[NR_UPLINK_COUNT] = {NR_MARK_NAT, NR_MARK_LAN};
        static const char *const ids[NR_UPLINK_COUNT] = {"mark-restore-nat", "mark-restore-lan"};

        nftm_chain(c->t, "mark_restore", NULL);
        for (int r = 0; r < NR_UPLINK_COUNT; r++)
                nft_rule(c, ids[r],
                         "ct mark and 0x%08x == 0x%08x "
                         "counter meta mark set meta mark and 0x%08x or 0x%08x",
                         NR_MARK_MASK, marks[r], ~NR_MARK_MASK, marks[r]);
}

static void nft_chain_mangle(struct nft_ctx *c)
{
        nft_chain_begin(c, "mangle_prerouting",
                        "type filter hook prerouting priority mangle; policy accept;");
        if (!c->br)
                return;
        c->note = "Replies from guests carry their connection's uplink mark, so the fwmark "
                  "policy\nrule sends them out by the uplink the connection came in by.";
        /* the mark first: a guest's own connections (the bulk of its packets) have none, and
         * loading a ct field is cheaper than copying and comparing an interface name */
        nft_rule(c, "mark-restore", "ct mark and 0x%08x != 0x00000000 iifname \"%s\" "
                 "counter jump mark_restore", NR_MARK_MASK, c->br);
}

static void nft_input_guests(struct nft_ctx *c)
{
        if (!c->br)
                return;
        /* DHCP DISCOVER comes from 0.0.0.0, so no source check here */
        if (c->cfg->guests.dhcp.enabled)
                nft_rule(c, "in-guest-dhcp", "iifname \"%s\" udp dport 67 counter accept", c->br);
        if (render_dns_served(c->cfg))
                nft_rule(c, "in-guest-dns",
                         "iifname \"%s\" ip saddr %s meta l4proto { tcp, udp } th dport 53 "
                         "counter accept",
                         c->br, c->subnet);
        nft_rule(c, "in-guest-drop", "iifname \"%s\" counter drop", c->br);
}

static void nft_input_uplinks(struct nft_ctx *c)
{
        static const char *const ids[NR_UPLINK_COUNT] = {"in-dhcp-client-nat",
                                                         "in-dhcp-client-lan"};
        /* on the uplinks' own addresses only: not on the guests' gateway, reached through them */
        if (c->cfg->firewall.ssh && c->up_match[0])
                nft_rule(c, "in-ssh",
                         "iifname %s ip daddr @uplink_addrs tcp dport 22%s counter accept",
                         c->up_match, c->cfg->firewall.n_ssh_from ? " ip saddr @ssh_from" : "");
        if (c->cfg->metrics.n_scrape_from && c->up_match[0])
                nft_rule(c, "in-metrics", "iifname %s tcp dport %u ip saddr @metrics_from "
                                          "counter accept",
                         c->up_match, c->cfg->metrics.scrape_port);
        for (int r = 0; r < NR_UPLINK_COUNT; r++) {
                if (!c->up[r] || !c->cfg->uplinks[r].dhcp)
                        continue;
                /* Renewals are replies conntrack knows; a REBINDING request goes to the
                 * broadcast address, so its unicast answer looks new and needs this. */
                nft_rule(c, ids[r], "iifname \"%s\" udp sport 67 udp dport 68 counter accept",
                         c->up[r]);
        }
}

static void nft_chain_input(struct nft_ctx *c)
{
        nft_chain_begin(c, "input", "type filter hook input priority filter; policy drop;");
        nft_rule(c, "in-lo", "iif \"lo\" counter accept");
        nft_rule(c, "in-invalid", "ct state invalid counter drop");
        nft_rule(c, "in-established", "ct state established,related counter accept");
        /* A guest must not become the router's IPv6 router or redirect its traffic (the
         * sysctls say the same; this also counts the attempts) */
        if (c->br)
                nft_rule(c, "in-guest-ra",
                         "iifname \"%s\" icmpv6 type { nd-router-advert, nd-redirect } "
                         "counter drop",
                         c->br);
        /* ICMPv6 too: dropping neighbour discovery would break any IPv6 the host has */
        nft_rule(c, "in-icmp", "meta l4proto { icmp, ipv6-icmp } counter accept");
        nft_input_guests(c);
        nft_input_uplinks(c);
        nft_rule(c, "in-drop", "counter");
}

static void nft_forward_guests(struct nft_ctx *c)
{
        const char *br = c->br;
        if (!br)
                return;
        /* 169.254/16 is link-local and never routed (RFC 3927); here it is IMDS, which would
         * hand a guest the host's managed-identity tokens */
        nft_rule(c, "fwd-guest-imds", "iifname \"%s\" ip daddr 169.254.0.0/16 counter drop", br);
        if (c->cfg->firewall.block_metadata) {
                nft_rule(c, "fwd-guest-azdns",
                         "iifname \"%s\" ip daddr 168.63.129.16 "
                         "meta l4proto { tcp, udp } th dport 53 counter accept",
                         br);
                nft_rule(c, "fwd-guest-wireserver",
                         "iifname \"%s\" ip daddr 168.63.129.16 counter drop", br);
        }
        nft_rule(c, "fwd-guest-out", "iifname \"%s\" ip saddr %s counter accept", br, c->subnet);
}

/* Packets and bytes of each port forward, both directions, for the metrics: a named counter
 * per forward (`fwd-pf-PROTO-PORT`), found by a map per protocol from the port the connection
 * was opened to (conntrack keeps it: `ct original proto-dst`, which nft 1.0.6 cannot concatenate
 * with the protocol, hence two maps). A packet costs one lookup however many forwards there
 * are, and a reload adding a forward adds a counter and elements: no rule, so the kernel does
 * not rebuild a chain of thousands of rules. Only DNATed connections get here (`ct status
 * dnat`), so other traffic pays nothing of it. */
/* `fwd-pf-PROTO-PORT`: one per forward, so not through snprintf */
static void nft_pf_id(char id[32], const struct nr_port_forward *f)
{
        char digits[8], *q = digits + sizeof(digits);
        unsigned v = f->port;
        *--q = '\0';
        do
                *--q = (char)('0' + v % 10);
        while (v /= 10);
        char *p = stpcpy(stpcpy(id, "fwd-pf-"), cfg_proto_name(f->proto));
        *p++ = '-';
        strcpy(p, q);
}

static const enum nr_proto nft_pf_protos[] = {NR_PROTO_TCP, NR_PROTO_UDP};

static void nft_set_pf_counters(struct nft_ctx *c)
{
        const struct nr_config *cfg = c->cfg;
        char id[32], map[32];
        nftm_objects(c->t, "pf_counters", "counter");
        nftm_set_reserve(c->t, cfg->n_port_forwards);
        for (size_t i = 0; i < cfg->n_port_forwards; i++) {
                nft_pf_id(id, &cfg->port_forwards[i]);
                nft_elem(c, "%s", id);
        }
        for (size_t k = 0; k < sizeof(nft_pf_protos) / sizeof(*nft_pf_protos); k++) {
                const char *proto = cfg_proto_name(nft_pf_protos[k]);
                snprintf(map, sizeof(map), "pf_count_%s", proto);
                nft_set_begin(c, "map", map, "inet_service : counter", false,
                              "port forwards' counters by the port a connection was opened to");
                for (size_t i = 0; i < cfg->n_port_forwards; i++) {
                        const struct nr_port_forward *f = &cfg->port_forwards[i];
                        if (f->proto != nft_pf_protos[k])
                                continue;
                        nft_pf_id(id, f);
                        nft_elem(c, "%u : \"%s\"", f->port, id);
                }
        }
}

static void nft_chain_pf_count(struct nft_ctx *c)
{
        nftm_chain(c->t, "pf_count", NULL);
        for (size_t k = 0; k < sizeof(nft_pf_protos) / sizeof(*nft_pf_protos); k++) {
                const char *proto = cfg_proto_name(nft_pf_protos[k]);
                char id[32];
                snprintf(id, sizeof(id), "pf-count-%s", proto);
                nft_rule(c, id,
                         "meta l4proto %s counter name ct original proto-dst map @pf_count_%s",
                         proto, proto);
        }
}

/* Where fwd-established sends the packets of an established port-forwarded connection: through
 * the per-forward counters, then accepted (a jump from the vmap would come back into `forward`
 * and walk the rules for new connections). */
static void nft_chain_pf_established(struct nft_ctx *c)
{
        nftm_chain(c->t, "pf_established", NULL);
        nft_rule(c, "fwd-est-pf-count", "counter jump pf_count");
        nft_rule(c, "fwd-est-pf-accept", "counter accept");
}

/* The order is chosen so that a packet of an established connection meets its verdict in the
 * second rule (issue 11: at most two rule evaluations beyond conntrack), and every rule it skips
 * only matters for packets that are not established:
 *  - fwd-mss-clamp comes first so that the SYN/ACK, a reply and so "established", is clamped
 *    before fwd-established accepts it. For any other packet it costs the protocol test (UDP)
 *    or that and the flags test (TCP).
 *  - fwd-established accepts every established or related packet. Its vmap sends a
 *    port-forwarded connection's packets through pf_count first, so the per-forward counters
 *    see both directions of every packet.
 *  - fwd-guest-spoof comes after it. A guest's packet with an outside source can only be
 *    "established" if it repeats the tuple of a connection the router already tracks, and is
 *    then routed back onto the bridge (conntrack does not key on the interface); the bridge
 *    table drops every frame with a source outside the guest subnet, or a bound address from
 *    the wrong MAC, from each port it knows, before the inet hooks see it. A new connection
 *    with a spoofed source still meets this rule.
 *  - fwd-invalid, fwd-to-pf-count (the first packet of a port-forwarded connection) and the
 *    policy rules see only invalid packets and new connections. */
static void nft_chain_forward(struct nft_ctx *c)
{
        const char *lan = c->up[NR_UPLINK_LAN], *nat = c->up[NR_UPLINK_NAT];

        nft_chain_begin(c, "forward", "type filter hook forward priority filter; policy drop;");
        /* SYN and SYN/ACK; the kernel only ever lowers the MSS option, never raises it */
        nft_rule(c, "fwd-mss-clamp", "tcp flags syn counter tcp option maxseg size set rt mtu");
        nft_rule(c, "fwd-established",
                 "ct state established,related counter ct status & dnat vmap "
                 "{ 0x0 : accept, dnat : goto pf_established }");
        nft_rule(c, "fwd-invalid", "ct state invalid counter drop");
        if (c->br)
                nft_rule(c, "fwd-guest-spoof", "iifname \"%s\" ip saddr != %s counter drop", c->br,
                         c->subnet);
        if (c->cfg->n_port_forwards)
                nft_rule(c, "fwd-to-pf-count", "ct status dnat counter jump pf_count");
        nft_forward_guests(c);
        if (lan)
                nft_rule(c, "fwd-lan-in", "iifname \"%s\" ip daddr %s counter accept", lan,
                         c->subnet);
        if (nat)
                nft_rule(c, "fwd-nat-pf",
                         "iifname \"%s\" ip daddr %s ct status dnat counter accept", nat,
                         c->subnet);
        nft_rule(c, "fwd-drop", "counter");
}

static void nft_chain_postrouting(struct nft_ctx *c)
{
        const char *nat = c->up[NR_UPLINK_NAT];

        nft_chain_begin(c, "postrouting",
                        "type nat hook postrouting priority srcnat; policy accept;");
        /* never what leaves by the LAN uplink: that side is routed, guests keep their address */
        if (nat)
                nft_rule(c, "post-masq-nat", "oifname \"%s\" ip saddr %s counter masquerade", nat,
                         c->subnet);
        if (c->br) {
                c->note = "Hairpin: the target must answer through us, not straight to the "
                          "guest.";
                nft_rule(c, "post-hairpin",
                         "oifname \"%s\" ip saddr %s ip daddr %s ct status dnat "
                         "counter masquerade",
                         c->br, c->subnet, c->subnet);
        }
}

static void nft_ctx_init(struct nft_ctx *c, const struct nr_config *cfg,
                         const struct nr_facts *facts)
{
        size_t n = 0;
        memset(c, 0, sizeof(*c));
        c->cfg = cfg;
        c->facts = facts;
        c->br = name_ifname_ok(cfg->guests.bridge) ? cfg->guests.bridge : NULL;
        snprintf(c->subnet, sizeof(c->subnet), "%s", prefix_s(nft_norm(cfg->guests.subnet)).s);
        for (int r = 0; r < NR_UPLINK_COUNT; r++) {
                const struct nr_uplink_fact *f = &facts->uplink[r];
                if (cfg->uplinks[r].present && f->found && name_ifname_ok(f->ifname) &&
                    !(c->up[0] && !strcmp(c->up[0], f->ifname)))
                        c->up[r] = f->ifname;
                n += c->up[r] != NULL;
        }
        if (n == 2)
                snprintf(c->up_match, sizeof(c->up_match), "{ \"%s\", \"%s\" }", c->up[0],
                         c->up[1]);
        else if (n == 1)
                snprintf(c->up_match, sizeof(c->up_match), "\"%s\"",
                         c->up[0] ? c->up[0] : c->up[1]);
}

static void nft_header(struct nft_ctx *c)
{
        nftm_preamble(c->t, "# nestrouter: guests on %s %s",
                      c->br ? c->br : "(unusable bridge name)", c->subnet);
        for (int r = 0; r < NR_UPLINK_COUNT; r++) {
                const char *name = r == NR_UPLINK_NAT ? "nat" : "lan";
                if (c->up[r])
                        nftm_preamble(c->t, ", %s uplink %s", name, c->up[r]);
                else if (c->cfg->uplinks[r].present)
                        nftm_preamble(c->t, ", %s uplink not usable yet (rules left out)", name);
        }
        nftm_preamble(c->t, "\n");
}

struct nftm_table *render_nft(const struct nr_config *cfg, const struct nr_facts *facts)
{
        struct nft_ctx c;
        nft_ctx_init(&c, cfg, facts);
        if (!(c.t = nftm_new("inet", NR_NFT_TABLE, "managed by nestrouterd; edits are overwritten")))
                return NULL;
        /* per forward: its map and set elements, its counter's name and map element (~130
         * bytes), and a set element per source of its from list */
        size_t pool = 4096;
        for (size_t i = 0; i < cfg->n_port_forwards; i++)
                pool += 140 + 40 * cfg->port_forwards[i].n_from;
        nftm_reserve(c.t, pool);
        nft_header(&c);
        nft_set_uplink_addrs(&c);
        nft_set_forwards(&c);
        nft_set_pf_counters(&c);
        nft_set_pf_from(&c);
        nft_set_ssh_from(&c);
        nft_set_metrics_from(&c);
        nft_chain_prerouting(&c);
        nft_chain_mark_restore(&c);
        nft_chain_mangle(&c);
        nft_chain_input(&c);
        nft_chain_pf_count(&c);
        nft_chain_pf_established(&c);
        nft_chain_forward(&c);
        nft_chain_postrouting(&c);
        if (nftm_finish(c.t) < 0) {
                nftm_unref(c.t);
                return NULL;
        }
        return c.t;
}
