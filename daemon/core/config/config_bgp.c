/* The `bgp:` section: peering with Azure Route Server. Per-value checks here (the ASN against
 * what Azure reserves, timers, the prepend count); checks against other sections (the peers'
 * reachability through NIC2, prefixes inside the VNet space) are in validate_bgp.c. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config/config_walk.h"
#include "core/lib/strbuf.h"

/* What Route Server refuses as a peer's ASN (../shared/reference/azure.md §4). */
static const char *asn_refused(long long x)
{
        if (x == NR_BGP_ASN_ROUTE_SERVER)
                return "Route Server's own";
        if (x >= 65517 && x <= 65520)
                return "reserved by Azure";
        if (x == 8074 || x == 8075)
                return "Microsoft's";
        if (x == 12076)
                return "ExpressRoute's (Microsoft)";
        if (x == 23456)
                return "AS_TRANS (RFC 6793)";
        if (x >= 64496 && x <= 64511)
                return "for documentation (RFC 5398)";
        if (x == 65535)
                return "reserved (RFC 7300)";
        return NULL;
}

static bool check_asn(struct pctx *c, const struct yf_node *v, const char *p, const void *val)
{
        long long x = *(const long long *)val;
        const char *why = asn_refused(x);
        if (x == 0)
                yv_error(&c->yv, v, p, "ASN 0 is reserved; private ASNs are 64512 to 65514");
        else if (x > 65535)
                yv_error(&c->yv, v, p, "ASN %lld is a 4-byte ASN; Route Server peers only with "
                         "16-bit ASNs (private: 64512 to 65514)", x);
        else if (why)
                yv_error(&c->yv, v, p, "ASN %lld is %s; Route Server refuses it as a peer "
                         "(private: 64512 to 65514)", x, why);
        return x != 0 && x <= 65535 && !why;
}

static void k_peers(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_bgp *b = o;
        char sub[YV_PATH_MAX];
        size_t n = cw_seq_len(c, v, p);
        if (n > NR_BGP_MAX_PEERS) {
                yv_error(&c->yv, v, p, "%zu peers; at most %d (Route Server has two instances)",
                         n, NR_BGP_MAX_PEERS);
                return;
        }
        b->peers = cw_calloc(n, sizeof(*b->peers));
        b->n_peers = n;
        for (size_t i = 0; i < n; i++) {
                const struct yf_node *it = cw_seq_item(c, v, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", p, i);
                yv_ip(&c->yv, it, sub, &b->peers[i]);
        }
}

static bool check_router_id(struct pctx *c, const struct yf_node *v, const char *p, const void *val)
{
        if (*(const uint32_t *)val)
                return true;
        yv_error(&c->yv, v, p, "0.0.0.0 is no router ID");
        return false;
}

static bool check_hold(struct pctx *c, const struct yf_node *v, const char *p, const void *val)
{
        long long t = *(const long long *)val;
        /* RFC 4271 4.2: zero (no keepalives) or at least three seconds */
        if (t == 1 || t == 2) {
                yv_error(&c->yv, v, p, "a hold time must be 0 or at least 3s (RFC 4271)");
                return false;
        }
        return true;
}

static void put_peers(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const struct nr_bgp *g = obj;
        buf_printf(b, "%*s%s: [", indent, "", k->name);
        for (size_t i = 0; i < g->n_peers; i++)
                buf_printf(b, "%s%s", i ? ", " : "", ip_s(g->peers[i]).s);
        buf_puts(b, "]\n");
}

static void k_advertise(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_bgp *b = o;
        b->n_advertise = cw_prefix_list(c, v, p, &b->advertise);
        b->advertise_set = true;
}

#define BGP_TIMER(field)                                                                      \
        .kind = CFG_DURATION, CFG_FIELD(struct nr_bgp, field), .min = 0, .max = 65535,        \
        .range_msg = "BGP timers are at most 65535s (18h12m15s)"

const struct keydef cfg_bgp_keys[] = {
        {.name = "asn", .required = true, .kind = CFG_UINT, CFG_FIELD(struct nr_bgp, asn),
         .min = 0, .max = 4294967295LL, .check = check_asn,
         .doc_type = "integer 1–65535, not 65515, 65517–65520, 8074, 8075, 12076, 23456, "
                     "64496–64511, 65535"},
        {.name = "peer_asn", .kind = CFG_UINT, CFG_FIELD(struct nr_bgp, peer_asn), .min = 1,
         .max = 65535, .def = NR_BGP_ASN_ROUTE_SERVER, .doc_type = "integer 1–65535, not `asn`"},
        {.name = "peers", .fn = k_peers, .required = true, .print = put_peers,
         .doc_type = "list of 1 to 8 IPv4 addresses"},
        {.name = "router_id", .kind = CFG_IPV4, .flags = CFG_F_OMIT_ZERO,
         CFG_FIELD(struct nr_bgp, router_id), .check = check_router_id,
         .doc_type = "IPv4 address, not 0.0.0.0", .doc_default = "`uplinks.lan.address`"},
        /* Route Server's: keepalive 60 s, hold 180 s */
        {.name = "hold_time", BGP_TIMER(hold_time), .check = check_hold, .def = 180,
         .doc_type = "duration, `0` or 3s to 65535s"},
        {.name = "keepalive", BGP_TIMER(keepalive),
         .doc_type = "duration, at most 65535s, shorter than `hold_time`",
         .doc_default = "`hold_time / 3`"},
        /* NIC2 -> the subnet's gateway -> Route Server */
        {.name = "multihop", .kind = CFG_UINT, CFG_FIELD(struct nr_bgp, multihop), .min = 1,
         .max = 255, .def = 2, .doc_type = "integer 1–255"},
        {.name = "advertise", .fn = k_advertise, .kind = CFG_PREFIX_LIST,
         CFG_FIELD(struct nr_bgp, advertise), .off_n = offsetof(struct nr_bgp, n_advertise),
         .doc_type = "list of IPv4 prefixes", .doc_default = "`[<guests.subnet>]`"},
        {.name = "prepend", .kind = CFG_UINT, CFG_FIELD(struct nr_bgp, prepend), .min = 0,
         .max = NR_BGP_MAX_PREPEND, .doc_type = "integer 0–8"},
        {.name = "install_routes", .kind = CFG_BOOL, CFG_FIELD(struct nr_bgp, install_routes),
         .doc_type = "boolean"},
        {0},
};

void cfg_k_bgp(struct pctx *c, const struct yf_node *v, const char *path, void *obj)
{
        (void)obj;
        if (yv_is_null(v)) {
                yv_error(&c->yv, v, path, "is empty; give asn and peers, or remove it");
                return;
        }
        c->cfg->bgp.present = true;
        cw_map(c, v, path, cfg_bgp_keys, &c->cfg->bgp);
}

void cfg_bgp_defaults(struct nr_config *cfg)
{
        struct nr_bgp *b = &cfg->bgp;
        if (!b->present)
                return;
        if (!b->keepalive)
                b->keepalive = b->hold_time / 3;
        if (!b->advertise_set && cfg->guests.subnet.len) {
                b->advertise = calloc(1, sizeof(*b->advertise));
                if (b->advertise) {
                        b->advertise[0] = cfg->guests.subnet;
                        b->n_advertise = 1;
                }
                b->advertise_set = true;
        }
}
