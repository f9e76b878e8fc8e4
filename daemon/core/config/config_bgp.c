/* The `bgp:` section: peering with Azure Route Server. Per-value checks here (the ASN against
 * what Azure reserves, timers, the prepend count); checks against other sections (the peers'
 * reachability through NIC2, prefixes inside the VNet space) are in validate_bgp.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config/config_walk.h"

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

static void k_asn(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        long long x;
        if (!yv_int(&c->yv, v, p, 0, 4294967295LL, &x))
                return;
        const char *why = asn_refused(x);
        if (x == 0)
                yv_error(&c->yv, v, p, "ASN 0 is reserved; private ASNs are 64512 to 65514");
        else if (x > 65535)
                yv_error(&c->yv, v, p, "ASN %lld is a 4-byte ASN; Route Server peers only with "
                         "16-bit ASNs (private: 64512 to 65514)", x);
        else if (why)
                yv_error(&c->yv, v, p, "ASN %lld is %s; Route Server refuses it as a peer "
                         "(private: 64512 to 65514)", x, why);
        else
                ((struct nr_bgp *)o)->asn = (uint32_t)x;
}

static void k_peer_asn(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        long long x;
        if (yv_int(&c->yv, v, p, 1, 65535, &x))
                ((struct nr_bgp *)o)->peer_asn = (uint32_t)x;
}

static void k_peers(struct pctx *c, yaml_node_t *v, const char *p, void *o)
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
                yaml_node_t *it = cw_seq_item(c, v, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", p, i);
                cw_pos(c, sub, it);
                yv_ip(&c->yv, it, sub, &b->peers[i]);
        }
}

static void k_router_id(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        uint32_t a;
        if (!yv_ip(&c->yv, v, p, &a))
                return;
        if (a == 0)
                yv_error(&c->yv, v, p, "0.0.0.0 is no router ID");
        else
                ((struct nr_bgp *)o)->router_id = a;
}

static bool timer(struct pctx *c, yaml_node_t *v, const char *p, uint32_t *out)
{
        uint32_t t;
        if (!yv_duration(&c->yv, v, p, &t))
                return false;
        if (t > 65535) {
                yv_error(&c->yv, v, p, "BGP timers are at most 65535s (18h12m15s)");
                return false;
        }
        *out = t;
        return true;
}

static void k_hold(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        uint32_t t;
        if (!timer(c, v, p, &t))
                return;
        /* RFC 4271 4.2: zero (no keepalives) or at least three seconds */
        if (t == 1 || t == 2)
                yv_error(&c->yv, v, p, "a hold time must be 0 or at least 3s (RFC 4271)");
        else
                ((struct nr_bgp *)o)->hold_time = t;
}

static void k_keepalive(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        timer(c, v, p, &((struct nr_bgp *)o)->keepalive);
}

static void k_multihop(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        long long x;
        if (yv_int(&c->yv, v, p, 1, 255, &x))
                ((struct nr_bgp *)o)->multihop = (uint32_t)x;
}

static void k_advertise(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_bgp *b = o;
        b->n_advertise = cw_prefix_list(c, v, p, &b->advertise);
        b->advertise_set = true;
}

static void k_prepend(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        long long x;
        if (yv_int(&c->yv, v, p, 0, NR_BGP_MAX_PREPEND, &x))
                ((struct nr_bgp *)o)->prepend = (uint32_t)x;
}

static void k_install(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_bool(&c->yv, v, p, &((struct nr_bgp *)o)->install_routes);
}

void cfg_k_bgp(struct pctx *c, yaml_node_t *v, const char *path, void *obj)
{
        static const struct keydef keys[] = {
                {"asn", k_asn, true},
                {"peers", k_peers, true},
                {"peer_asn", k_peer_asn, false},
                {"router_id", k_router_id, false},
                {"hold_time", k_hold, false},
                {"keepalive", k_keepalive, false},
                {"multihop", k_multihop, false},
                {"advertise", k_advertise, false},
                {"prepend", k_prepend, false},
                {"install_routes", k_install, false},
                {0},
        };
        (void)obj;
        if (yv_is_null(v)) {
                yv_error(&c->yv, v, path, "is empty; give asn and peers, or remove it");
                return;
        }
        c->cfg->bgp.present = true;
        cw_map(c, v, path, keys, &c->cfg->bgp);
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
