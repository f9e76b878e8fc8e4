/* The planner. Order: links, sysctls, addresses, routes, rules, nftables, dnsmasq, BIRD, guests; removals
 * first and in reverse dependency order (rules, routes, addresses, links). A converged system
 * yields an empty plan, which is what keeps the daemon from writing anything when idle. */
#include "core/model/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/bgp_gate.h"
#include "core/render/render_bird.h"
#include "core/lib/strbuf.h"

static int push(struct nr_plan *p, const struct nr_op *op)
{
        struct nr_op *v = realloc(p->ops, (p->n_ops + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        p->ops = v;
        p->ops[p->n_ops] = *op;
        if (op->kind != NR_OP_CONFLICT)
                p->ops[p->n_ops].obj = plan_kind_obj(op->kind);
        p->n_ops++;
        return 0;
}

static const struct nr_obs_link *find_link(const struct nr_observed *h, const char *name)
{
        for (size_t i = 0; h && i < h->n_links; i++)
                if (!strcmp(h->links[i].name, name))
                        return &h->links[i];
        return NULL;
}

static bool have_addr(const struct nr_observed *h, const struct nr_addr *a)
{
        for (size_t i = 0; h && i < h->n_addrs; i++)
                if (!model_addr_cmp(&h->addrs[i], a))
                        return true;
        return false;
}

static bool want_addr(const struct nr_desired *w, const struct nr_addr *a)
{
        for (size_t i = 0; i < w->n_addrs; i++)
                if (!model_addr_cmp(&w->addrs[i], a))
                        return true;
        return false;
}

static int plan_links(const struct nr_desired *w, const struct nr_observed *h, struct nr_plan *p)
{
        int r = 0;
        for (size_t i = 0; i < w->n_links && r >= 0; i++) {
                const struct nr_link *l = &w->links[i];
                const struct nr_obs_link *o = find_link(h, l->name);
                struct nr_op op = {.link = *l};
                if (l->bridge && !o) {
                        op.kind = NR_OP_LINK_ADD_BRIDGE;
                        r = push(p, &op);
                } else if (l->bridge && !o->bridge) {
                        op.kind = NR_OP_CONFLICT;
                        op.obj = NR_OBJ_LINK;
                        snprintf(op.why, sizeof(op.why), "%s exists and is not a bridge", l->name);
                        r = push(p, &op);
                } else if (l->bridge && (!o->up || o->stp || o->forward_delay ||
                                         (l->mtu && o->mtu != l->mtu))) {
                        op.kind = NR_OP_LINK_SET;
                        r = push(p, &op);
                } else if (!l->bridge && !o) {
                        op.kind = NR_OP_CONFLICT;
                        op.obj = NR_OBJ_LINK;
                        snprintf(op.why, sizeof(op.why), "port %s does not exist (yet)", l->name);
                        r = push(p, &op);
                } else if (!l->bridge && (strcmp(o->master, l->master) || !o->up)) {
                        op.kind = NR_OP_LINK_SET_MASTER;
                        r = push(p, &op);
                }
        }
        return r;
}

static int plan_sysctls(const struct nr_desired *w, const struct nr_observed *h,
                        struct nr_plan *p)
{
        for (size_t i = 0; i < w->n_sysctls; i++) {
                const struct nr_sysctl *s = &w->sysctls[i];
                bool ok = false;
                for (size_t j = 0; h && j < h->n_sysctls && !ok; j++)
                        ok = !strcmp(h->sysctls[j].key, s->key) &&
                             !strcmp(h->sysctls[j].value, s->value);
                struct nr_op op = {.kind = NR_OP_SYSCTL_SET, .sysctl = *s};
                if (!ok && push(p, &op) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Desired and observed routes matched by key (table, destination, metric): thousands compared
 * pairwise were most of a pass. Each list is sorted once by key (ties in list order; the
 * desired routes usually come sorted already) and the two are walked side by side. */
struct route_ix {
        const struct nr_route *r;
        size_t i;
};

static int route_ix_cmp(const void *a, const void *b)
{
        const struct route_ix *x = a, *y = b;
        int c = model_route_key_cmp(x->r, y->r);
        return c ? c : x->i < y->i ? -1 : x->i > y->i;
}

/* n routes at base, stride bytes apart (each starting with its struct nr_route), by key. */
static struct route_ix *route_index(const void *base, size_t n, size_t stride)
{
        struct route_ix *ix = malloc((n + 1) * sizeof(*ix));
        bool sorted = true;
        for (size_t i = 0; ix && i < n; i++) {
                ix[i] = (struct route_ix){(const struct nr_route *)((const char *)base + i * stride),
                                          i};
                sorted = sorted && (!i || model_route_key_cmp(ix[i - 1].r, ix[i].r) <= 0);
        }
        if (ix && !sorted)
                qsort(ix, n, sizeof(*ix), route_ix_cmp);
        return ix;
}

struct route_match {
        ptrdiff_t *w2h; /* per desired route: the first observed one with its key, or -1 */
        bool *h_wanted; /* per observed route: a desired one has its key */
};

static void route_match_free(struct route_match *m)
{
        free(m->w2h);
        free(m->h_wanted);
}

static int route_match(const struct nr_desired *w, const struct nr_observed *h,
                       struct route_match *m)
{
        size_t nw = w->n_routes, nh = h ? h->n_routes : 0;
        struct route_ix *wx = route_index(w->routes, nw, sizeof(*w->routes));
        struct route_ix *hx = route_index(h ? h->routes : NULL, nh, sizeof(*h->routes));
        m->w2h = malloc((nw + 1) * sizeof(*m->w2h));
        m->h_wanted = calloc(nh + 1, sizeof(*m->h_wanted));
        int r = wx && hx && m->w2h && m->h_wanted ? 0 : -ENOMEM;
        for (size_t a = 0, b = 0; r >= 0 && a < nw;) {
                int c = b < nh ? model_route_key_cmp(wx[a].r, hx[b].r) : -1;
                if (c > 0) {
                        b++;
                        continue;
                }
                /* hx[b] (if c == 0) is the first observed route with this key */
                m->w2h[wx[a].i] = c ? -1 : (ptrdiff_t)hx[b].i;
                for (size_t k = b; !c && k < nh && !model_route_key_cmp(wx[a].r, hx[k].r); k++)
                        m->h_wanted[hx[k].i] = true;
                a++;
        }
        free(wx);
        free(hx);
        if (r < 0)
                route_match_free(m);
        return r;
}

static int plan_routes(const struct nr_desired *w, const struct nr_observed *h,
                       const struct route_match *m, struct nr_plan *p)
{
        for (size_t i = 0; i < w->n_routes; i++) {
                const struct nr_route *rt = &w->routes[i];
                const struct nr_obs_route *o = m->w2h[i] >= 0 ? &h->routes[m->w2h[i]] : NULL;
                struct nr_op op = {.kind = NR_OP_ROUTE_REPLACE, .route = *rt};
                if (o && o->protocol != w->route_protocol) {
                        op.kind = NR_OP_CONFLICT;
                        op.obj = NR_OBJ_ROUTE;
                        snprintf(op.why, sizeof(op.why),
                                 "a route to %s in table %u (proto %u) is not ours",
                                 prefix_s(rt->dst).s, rt->table, o->protocol);
                } else if (o && model_route_equal(&o->r, rt)) {
                        continue;
                }
                if (push(p, &op) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int plan_rules(const struct nr_desired *w, const struct nr_observed *h, struct nr_plan *p)
{
        for (size_t i = 0; i < w->n_rules; i++) {
                bool ok = false;
                for (size_t j = 0; h && j < h->n_rules && !ok; j++)
                        ok = !model_rule_cmp(&h->rules[j], &w->rules[i]);
                struct nr_op op = {.kind = NR_OP_RULE_ADD, .rule = w->rules[i]};
                if (!ok && push(p, &op) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Removals: our rules and routes that are no longer wanted, then addresses and links an earlier
 * apply created. Foreign objects are never in these lists to begin with. */
static int plan_removals(const struct nr_desired *w, const struct nr_observed *h,
                         const struct nr_desired *prev, const struct route_match *m,
                         struct nr_plan *p)
{
        for (size_t i = 0; h && i < h->n_rules; i++) {
                bool keep = false;
                for (size_t j = 0; j < w->n_rules && !keep; j++)
                        keep = !model_rule_cmp(&h->rules[i], &w->rules[j]);
                struct nr_op op = {.kind = NR_OP_RULE_DEL, .rule = h->rules[i]};
                if (!keep && push(p, &op) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; h && i < h->n_routes; i++) {
                const struct nr_obs_route *o = &h->routes[i];
                bool keep = o->protocol != w->route_protocol || m->h_wanted[i];
                struct nr_op op = {.kind = NR_OP_ROUTE_DEL, .route = o->r};
                if (!keep && push(p, &op) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; prev && i < prev->n_addrs; i++) {
                const struct nr_addr *a = &prev->addrs[i];
                struct nr_op op = {.kind = NR_OP_ADDR_DEL, .addr = *a};
                if (!want_addr(w, a) && have_addr(h, a) && push(p, &op) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; prev && i < prev->n_links; i++) {
                const struct nr_link *l = &prev->links[i];
                bool keep = l->adopted;
                for (size_t j = 0; j < w->n_links && !keep; j++)
                        keep = !strcmp(w->links[j].name, l->name) && w->links[j].bridge == l->bridge;
                struct nr_op op = {.kind = l->bridge ? NR_OP_LINK_DEL : NR_OP_LINK_SET_MASTER,
                                   .link = *l};
                op.link.master[0] = '\0';
                if (!keep && find_link(h, l->name) && push(p, &op) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static bool str_eq(const char *a, const char *b)
{
        return a && b && !strcmp(a, b);
}

static int plan_services(const struct nr_desired *w, const struct nr_observed *h,
                         struct nr_plan *p)
{
        struct nr_op op = {0};
        int r = 0;
        bool present = h && h->nft_present, br_present = h && h->nft_bridge_present;
        if (!w->nft && present) {
                op.kind = NR_OP_NFT_DELETE;
                r |= push(p, &op);
        } else if (!w->nft) {
        } else if (!present) {
                op.kind = NR_OP_NFT_CREATE;
                r |= push(p, &op);
        } else if (!nftm_equal(h->nft, w->nft)) {
                op.kind = NR_OP_NFT_UPDATE;
                r |= push(p, &op);
        }
        if (!w->nft_bridge && br_present) {
                op.kind = NR_OP_NFTBR_DELETE;
                r |= push(p, &op);
        } else if (!w->nft_bridge) {
        } else if (!br_present) {
                op.kind = NR_OP_NFTBR_CREATE;
                r |= push(p, &op);
        } else if (!nftm_equal(h->nft_bridge, w->nft_bridge)) {
                op.kind = NR_OP_NFTBR_UPDATE;
                r |= push(p, &op);
        }
        bool running = h && h->dnsmasq_running;
        if (!w->dhcp && running) {
                op.kind = NR_OP_DNSMASQ_STOP;
                r |= push(p, &op);
        } else if (w->dhcp && (!running || !str_eq(h->dnsmasq_conf, w->dnsmasq_conf))) {
                op.kind = NR_OP_DNSMASQ_START;
                r |= push(p, &op);
        } else if (w->dhcp && !str_eq(h->dnsmasq_hosts, w->dnsmasq_hosts)) {
                op.kind = NR_OP_DNSMASQ_RELOAD;
                r |= push(p, &op);
        }
        return r < 0 ? -ENOMEM : 0;
}

/* BIRD: the health gate picks the configuration; a change only to the settings of sessions
 * that are up is deferred (it would reset them) while the policy part is applied at once. */
static int plan_bgp(const struct nr_desired *w, const struct nr_observed *h, struct nr_plan *p)
{
        struct nr_op op = {0};
        bool running = h && h->bird_running;
        if (!w->bird_conf) {
                if (!running)
                        return 0;
                op.kind = NR_OP_BGP_STOP;
                return push(p, &op) < 0 ? -ENOMEM : 0;
        }
        op.bgp.advertise = bgp_gate(w, h, op.why, sizeof(op.why));
        const char *text = op.bgp.advertise ? w->bird_conf : w->bird_conf_withdrawn;
        if (!running) {
                op.kind = NR_OP_BGP_START;
                return push(p, &op) < 0 ? -ENOMEM : 0;
        }
        if (str_eq(h->bird_conf, text))
                return 0;
        op.kind = NR_OP_BGP_CONFIGURE;
        if (h->bgp_up && bird_conf_sessions_differ(h->bird_conf, text)) {
                char *kept = bird_conf_keep_sessions(h->bird_conf, text, h->bgp_up);
                bool same = kept && str_eq(kept, h->bird_conf);
                op.bgp.keep_sessions = kept != NULL;
                free(kept);
                if (same)
                        return 0; /* only session settings changed: they wait */
        }
        return push(p, &op) < 0 ? -ENOMEM : 0;
}

static const struct nr_obs_dom *find_dom(const struct nr_observed *h, const char *name)
{
        for (size_t i = 0; h && i < h->n_doms; i++)
                if (!strcmp(h->doms[i].name, name))
                        return &h->doms[i];
        return NULL;
}

static bool dom_wanted(const struct nr_desired *w, const char *name)
{
        for (size_t i = 0; i < w->n_doms; i++)
                if (!strcmp(w->doms[i].name, name))
                        return true;
        return false;
}

/* One configured guest: a foreign domain of its name is a conflict; a ready one is defined when
 * libvirt lacks its definition, and started once per boot when autostarted. */
static int plan_dom(const struct nr_dom *d, const struct nr_obs_dom *h, struct nr_plan *p)
{
        struct nr_op op = {.obj = NR_OBJ_VM};
        int r = 0;
        snprintf(op.vm.name, sizeof(op.vm.name), "%s", d->name);
        if (h && !h->owned) {
                op.kind = NR_OP_CONFLICT;
                snprintf(op.why, sizeof(op.why),
                         "a domain named %s exists that nestrouter does not own; left alone",
                         d->name);
                return push(p, &op);
        }
        if (!d->ready)
                return 0;
        op.vm.running = h && h->active;
        if (!h || !h->persistent || strcmp(h->conf_hash, d->hash)) {
                op.kind = NR_OP_VM_DEFINE;
                op.vm.update = h != NULL;
                r = push(p, &op);
        }
        if (r >= 0 && d->autostart && !(h && (h->active || h->started))) {
                op.kind = NR_OP_VM_START;
                r = push(p, &op);
        }
        return r;
}

/* Guests, when this state plans them and libvirt has answered; ours that are no longer
 * configured lose their definition (a running one keeps running until it stops). */
static int plan_doms(const struct nr_desired *w, const struct nr_observed *h, struct nr_plan *p)
{
        int r = 0;
        if (!w->doms_on || (h && !h->doms_known))
                return 0;
        for (size_t i = 0; r >= 0 && i < w->n_doms; i++)
                r = plan_dom(&w->doms[i], find_dom(h, w->doms[i].name), p);
        for (size_t i = 0; r >= 0 && h && i < h->n_doms; i++) {
                const struct nr_obs_dom *d = &h->doms[i];
                if (!d->owned || !d->persistent || dom_wanted(w, d->name))
                        continue;
                struct nr_op op = {.kind = NR_OP_VM_UNDEFINE, .vm.running = d->active};
                snprintf(op.vm.name, sizeof(op.vm.name), "%s", d->name);
                r = push(p, &op);
        }
        return r;
}

int plan_build(const struct nr_desired *want, const struct nr_observed *have,
               const struct nr_desired *prev, struct nr_plan *out)
{
        struct route_match m;
        memset(out, 0, sizeof(*out));
        out->route_protocol = want->route_protocol;
        int r = route_match(want, have, &m);
        if (r < 0)
                return r;
        r = plan_removals(want, have, prev, &m, out);
        if (r >= 0)
                r = plan_links(want, have, out);
        if (r >= 0)
                r = plan_sysctls(want, have, out);
        for (size_t i = 0; r >= 0 && i < want->n_addrs; i++) {
                struct nr_op op = {.kind = NR_OP_ADDR_ADD, .addr = want->addrs[i]};
                if (!have_addr(have, &want->addrs[i]))
                        r = push(out, &op);
        }
        if (r >= 0)
                r = plan_routes(want, have, &m, out);
        if (r >= 0)
                r = plan_rules(want, have, out);
        if (r >= 0)
                r = plan_services(want, have, out);
        if (r >= 0)
                r = plan_bgp(want, have, out);
        if (r >= 0)
                r = plan_doms(want, have, out);
        route_match_free(&m);
        if (r < 0)
                plan_free(out);
        return r;
}

void plan_free(struct nr_plan *p)
{
        free(p->ops);
        memset(p, 0, sizeof(*p));
}

void observed_free(struct nr_observed *o)
{
        free(o->links);
        free(o->addrs);
        free(o->routes);
        free(o->rules);
        free(o->sysctls);
        nftm_unref(o->nft);
        nftm_unref(o->nft_bridge);
        free(o->dnsmasq_conf);
        free(o->dnsmasq_hosts);
        free(o->bird_conf);
        free(o->doms);
        memset(o, 0, sizeof(*o));
}
