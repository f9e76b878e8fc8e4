/* The recording fake backend: one in-memory "kernel" shared by five ops tables (netlink, sysctl,
 * nft, dnsmasq, bgp), so the engine dispatches to it exactly as to the real backends. It keeps
 * what a kernel keeps (links with their master, addresses, routes with their protocol, rules,
 * sysctls, two nft tables, one dnsmasq, one BIRD with its sessions) and refuses what a kernel
 * refuses (an address or route on a missing device, a port of a missing bridge). */
#include "backend/fake/fake.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lib/array.h"
#include "core/render/render_bird.h"
#include "engine/engine.h"

void fake_init(struct fake *k)
{
        memset(k, 0, sizeof(*k));
}

void fake_free(struct fake *k)
{
        free(k->links);
        free(k->addrs);
        free(k->routes);
        free(k->rules);
        free(k->sysctls);
        nftm_unref(k->nft);
        nftm_unref(k->nft_bridge);
        free(k->dnsmasq_conf);
        free(k->dnsmasq_hosts);
        free(k->bird_conf);
        buf_free(&k->log);
        memset(k, 0, sizeof(*k));
}

void fake_note(struct fake *k, const char *fmt, ...)
{
        char line[800];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        buf_printf(&k->log, "%s\n", line);
}

const char *fake_transcript(struct fake *k)
{
        return k->log.s ? k->log.s : "";
}

void fake_fail(struct fake *k, const char *prefix, int err, int times)
{
        if (k->n_fails == FAKE_FAILS_MAX)
                return;
        struct fake_fail *f = &k->fails[k->n_fails++];
        snprintf(f->prefix, sizeof(f->prefix), "%s", prefix);
        f->err = err;
        f->times = times;
}

void fake_fail_clear(struct fake *k)
{
        k->n_fails = 0;
}

/* ---- lookups ----------------------------------------------------------------------------- */

static struct nr_obs_link *link_find(struct fake *k, const char *name)
{
        for (size_t i = 0; i < k->n_links; i++)
                if (!strcmp(k->links[i].name, name))
                        return &k->links[i];
        return NULL;
}

static struct nr_obs_route *route_find(struct fake *k, const struct nr_route *r)
{
        for (size_t i = 0; i < k->n_routes; i++)
                if (!model_route_key_cmp(&k->routes[i].r, r))
                        return &k->routes[i];
        return NULL;
}

#define REMOVE_AT(arr, n, i)                                                                  \
        do {                                                                                  \
                memmove(&(arr)[i], &(arr)[(i) + 1], ((n) - (i) - 1) * sizeof(*(arr)));       \
                (n)--;                                                                        \
        } while (0)

static char *dup_or_null(const char *s)
{
        return s ? strdup(s) : NULL;
}

/* ---- drift ------------------------------------------------------------------------------- */

int fake_link_del(struct fake *k, const char *name)
{
        struct nr_obs_link *l = link_find(k, name);
        if (!l)
                return -ENOENT;
        REMOVE_AT(k->links, k->n_links, (size_t)(l - k->links));
        for (size_t i = 0; i < k->n_links; i++)
                if (!strcmp(k->links[i].master, name))
                        k->links[i].master[0] = '\0';
        for (size_t i = k->n_addrs; i-- > 0;)
                if (!strcmp(k->addrs[i].dev, name))
                        REMOVE_AT(k->addrs, k->n_addrs, i);
        for (size_t i = k->n_routes; i-- > 0;)
                if (!strcmp(k->routes[i].r.dev, name))
                        REMOVE_AT(k->routes, k->n_routes, i);
        return 0;
}

int fake_link_add(struct fake *k, const char *name)
{
        struct nr_obs_link l = {.up = true, .mtu = 1500};
        snprintf(l.name, sizeof(l.name), "%s", name);
        NR_APPEND(k->links, k->n_links, l);
        return 0;
}

int fake_link_down(struct fake *k, const char *name)
{
        struct nr_obs_link *l = link_find(k, name);
        if (!l)
                return -ENOENT;
        l->up = false;
        return 0;
}

int fake_link_release(struct fake *k, const char *name)
{
        struct nr_obs_link *l = link_find(k, name);
        if (!l)
                return -ENOENT;
        l->master[0] = '\0';
        return 0;
}

int fake_addr_del(struct fake *k, const char *dev, const char *cidr)
{
        struct nr_addr a = {0};
        snprintf(a.dev, sizeof(a.dev), "%s", dev);
        if (prefix_parse(cidr, &a.addr) < 0)
                return -EINVAL;
        for (size_t i = 0; i < k->n_addrs; i++)
                if (!model_addr_cmp(&k->addrs[i], &a)) {
                        REMOVE_AT(k->addrs, k->n_addrs, i);
                        return 0;
                }
        return -ENOENT;
}

static int route_key(const char *dst, uint32_t table, struct nr_route *r)
{
        memset(r, 0, sizeof(*r));
        r->table = table;
        if (!strcmp(dst, "default"))
                return 0;
        return prefix_parse(dst, &r->dst) < 0 ? -EINVAL : 0;
}

int fake_route_del(struct fake *k, const char *dst, uint32_t table)
{
        struct nr_route key;
        if (route_key(dst, table, &key) < 0)
                return -EINVAL;
        struct nr_obs_route *o = route_find(k, &key);
        if (!o)
                return -ENOENT;
        REMOVE_AT(k->routes, k->n_routes, (size_t)(o - k->routes));
        return 0;
}

int fake_route_foreign(struct fake *k, const char *dst, uint32_t table, const char *dev,
                       uint8_t protocol)
{
        struct nr_obs_route o = {.protocol = protocol};
        if (route_key(dst, table, &o.r) < 0)
                return -EINVAL;
        snprintf(o.r.dev, sizeof(o.r.dev), "%s", dev);
        struct nr_obs_route *cur = route_find(k, &o.r);
        if (cur)
                *cur = o;
        else
                NR_APPEND(k->routes, k->n_routes, o);
        return 0;
}

int fake_rule_del(struct fake *k, uint32_t priority)
{
        for (size_t i = 0; i < k->n_rules; i++)
                if (k->rules[i].priority == priority) {
                        REMOVE_AT(k->rules, k->n_rules, i);
                        return 0;
                }
        return -ENOENT;
}

int fake_sysctl_set(struct fake *k, const char *key, const char *value)
{
        for (size_t i = 0; i < k->n_sysctls; i++)
                if (!strcmp(k->sysctls[i].key, key)) {
                        snprintf(k->sysctls[i].value, sizeof(k->sysctls[i].value), "%s", value);
                        return 0;
                }
        return -ENOENT;
}

int fake_nft_del(struct fake *k, bool bridge)
{
        struct nftm_table **t = bridge ? &k->nft_bridge : &k->nft;
        if (!*t)
                return -ENOENT;
        nftm_unref(*t);
        *t = NULL;
        return 0;
}

int fake_nft_tamper(struct fake *k, bool bridge)
{
        struct nftm_table **t = bridge ? &k->nft_bridge : &k->nft;
        if (!*t)
                return -ENOENT;
        /* another table of the same name: what the kernel holds is no longer what was loaded */
        struct nftm_table *v = nftm_new((*t)->family, nftm_str(*t, (*t)->name), "");
        if (!v)
                return -ENOMEM;
        nftm_chain(v, "input", "");
        nftm_rule(v, "", NULL, "a rule changed by hand");
        if (nftm_finish(v) < 0) {
                nftm_unref(v);
                return -ENOMEM;
        }
        nftm_unref(*t);
        *t = v;
        return 0;
}

int fake_dnsmasq_kill(struct fake *k)
{
        if (!k->dnsmasq_running)
                return -ENOENT;
        k->dnsmasq_running = false;
        return 0;
}

int fake_bird_kill(struct fake *k)
{
        if (!k->bird_running)
                return -ENOENT;
        k->bird_running = false;
        k->bgp_up = 0;
        return 0;
}

int fake_bgp_sessions_down(struct fake *k)
{
        if (!k->bgp_up)
                return -ENOENT;
        k->bgp_up = 0;
        return 0;
}

/* ---- observe ----------------------------------------------------------------------------- */

static bool named_by(const struct nr_desired *w, const char *name)
{
        for (size_t i = 0; w && i < w->n_links; i++)
                if (!strcmp(w->links[i].name, name))
                        return true;
        for (size_t i = 0; w && i < w->n_addrs; i++)
                if (!strcmp(w->addrs[i].dev, name))
                        return true;
        return false;
}

static bool key_wanted(const struct nr_desired *w, const struct nr_route *r)
{
        for (size_t i = 0; i < w->n_routes; i++)
                if (!model_route_key_cmp(&w->routes[i], r))
                        return true;
        return false;
}

/* As the netlink backend: the links want or prev names, their addresses, our routes and the
 * foreign ones in the way of a wanted one, our rules. */
static int nl_observe(void *self, const struct nr_desired *w, const struct nr_desired *prev,
                      struct nr_observed *h)
{
        struct fake *k = self;
        for (size_t i = 0; i < k->n_links; i++)
                if (named_by(w, k->links[i].name) || named_by(prev, k->links[i].name))
                        NR_APPEND(h->links, h->n_links, k->links[i]);
        for (size_t i = 0; i < k->n_addrs; i++)
                if (named_by(w, k->addrs[i].dev) || named_by(prev, k->addrs[i].dev))
                        NR_APPEND(h->addrs, h->n_addrs, k->addrs[i]);
        for (size_t i = 0; i < k->n_routes; i++)
                if (k->routes[i].protocol == w->route_protocol || key_wanted(w, &k->routes[i].r))
                        NR_APPEND(h->routes, h->n_routes, k->routes[i]);
        for (size_t i = 0; i < k->n_rules; i++)
                NR_APPEND(h->rules, h->n_rules, k->rules[i]);
        return 0;
}

static int sysctl_observe_fake(void *self, const struct nr_desired *w,
                               const struct nr_desired *prev, struct nr_observed *h)
{
        struct fake *k = self;
        (void)prev;
        for (size_t i = 0; i < w->n_sysctls; i++)
                for (size_t j = 0; j < k->n_sysctls; j++)
                        if (!strcmp(k->sysctls[j].key, w->sysctls[i].key))
                                NR_APPEND(h->sysctls, h->n_sysctls, k->sysctls[j]);
        return 0;
}

static int nft_observe(void *self, const struct nr_desired *w, const struct nr_desired *prev,
                       struct nr_observed *h)
{
        struct fake *k = self;
        (void)w, (void)prev;
        h->nft_present = k->nft != NULL;
        h->nft_bridge_present = k->nft_bridge != NULL;
        h->nft = nftm_ref(k->nft);
        h->nft_bridge = nftm_ref(k->nft_bridge);
        return 0;
}

static int dm_observe(void *self, const struct nr_desired *w, const struct nr_desired *prev,
                      struct nr_observed *h)
{
        struct fake *k = self;
        (void)w, (void)prev;
        h->dnsmasq_running = k->dnsmasq_running;
        if (!k->dnsmasq_running)
                return 0;
        if ((k->dnsmasq_conf && !(h->dnsmasq_conf = strdup(k->dnsmasq_conf))) ||
            (k->dnsmasq_hosts && !(h->dnsmasq_hosts = strdup(k->dnsmasq_hosts))))
                return -ENOMEM;
        return 0;
}

/* As the bgp backend: BIRD's text and its Established sessions, when it runs. */
static int bgp_observe(void *self, const struct nr_desired *w, const struct nr_desired *prev,
                       struct nr_observed *h)
{
        struct fake *k = self;
        (void)w, (void)prev;
        if (!k->bird_running)
                return 0;
        h->bird_running = true;
        h->bgp_up = k->bgp_up;
        if (k->bird_conf && !(h->bird_conf = strdup(k->bird_conf)))
                return -ENOMEM;
        return 0;
}

/* ---- apply ------------------------------------------------------------------------------- */

static int refuse(char *err, size_t errlen, int r, const char *what)
{
        snprintf(err, errlen, "%s: %s", what, strerror(-r));
        return r;
}

static int link_add_bridge(struct fake *k, const struct nr_link *l, char *err, size_t errlen)
{
        if (link_find(k, l->name))
                return refuse(err, errlen, -EEXIST, l->name);
        NR_GROW(k->links, k->n_links);
        struct nr_obs_link *o = &k->links[k->n_links - 1];
        snprintf(o->name, sizeof(o->name), "%s", l->name);
        o->bridge = true;
        o->mtu = l->mtu ? l->mtu : 1500;
        o->up = true;
        return 0;
}

static int apply_link(struct fake *k, const struct nr_op *op, char *err, size_t errlen)
{
        const struct nr_link *l = &op->link;
        struct nr_obs_link *o = link_find(k, l->name);
        if (op->kind == NR_OP_LINK_ADD_BRIDGE)
                return link_add_bridge(k, l, err, errlen);
        if (!o)
                return refuse(err, errlen, -ENODEV, l->name);
        if (op->kind == NR_OP_LINK_DEL)
                return fake_link_del(k, l->name);
        if (op->kind == NR_OP_LINK_SET_MASTER) {
                if (l->master[0] && !link_find(k, l->master))
                        return refuse(err, errlen, -ENODEV, l->master);
                snprintf(o->master, sizeof(o->master), "%s", l->master);
        } else {
                o->stp = false;
                o->forward_delay = 0;
                if (l->mtu)
                        o->mtu = l->mtu;
        }
        o->up = true;
        return 0;
}

static int apply_addr(struct fake *k, const struct nr_op *op, char *err, size_t errlen)
{
        const struct nr_addr *a = &op->addr;
        for (size_t i = 0; i < k->n_addrs; i++)
                if (!model_addr_cmp(&k->addrs[i], a)) {
                        if (op->kind == NR_OP_ADDR_ADD)
                                return refuse(err, errlen, -EEXIST, a->dev);
                        REMOVE_AT(k->addrs, k->n_addrs, i);
                        return 0;
                }
        if (op->kind == NR_OP_ADDR_DEL)
                return refuse(err, errlen, -EADDRNOTAVAIL, a->dev);
        if (!link_find(k, a->dev))
                return refuse(err, errlen, -ENODEV, a->dev);
        NR_APPEND(k->addrs, k->n_addrs, *a);
        return 0;
}

static int apply_route(struct fake *k, const struct nr_op *op, uint8_t proto, char *err,
                       size_t errlen)
{
        struct nr_obs_route *o = route_find(k, &op->route);
        if (op->kind == NR_OP_ROUTE_DEL) {
                if (!o || o->protocol != proto)
                        return refuse(err, errlen, -ESRCH, "route");
                REMOVE_AT(k->routes, k->n_routes, (size_t)(o - k->routes));
                return 0;
        }
        if (op->route.dev[0] && !link_find(k, op->route.dev))
                return refuse(err, errlen, -ENODEV, op->route.dev);
        struct nr_obs_route n = {.r = op->route, .protocol = proto};
        if (o)
                *o = n;
        else
                NR_APPEND(k->routes, k->n_routes, n);
        return 0;
}

static int apply_rule(struct fake *k, const struct nr_op *op, char *err, size_t errlen)
{
        for (size_t i = 0; i < k->n_rules; i++)
                if (!model_rule_cmp(&k->rules[i], &op->rule)) {
                        if (op->kind == NR_OP_RULE_ADD)
                                return refuse(err, errlen, -EEXIST, "rule");
                        REMOVE_AT(k->rules, k->n_rules, i);
                        return 0;
                }
        if (op->kind == NR_OP_RULE_DEL)
                return refuse(err, errlen, -ENOENT, "rule");
        NR_APPEND(k->rules, k->n_rules, op->rule);
        return 0;
}

static int apply_sysctl(struct fake *k, const struct nr_op *op)
{
        if (fake_sysctl_set(k, op->sysctl.key, op->sysctl.value) == 0)
                return 0;
        NR_APPEND(k->sysctls, k->n_sysctls, op->sysctl);
        return 0;
}

static int set_text(char **dst, const char *src)
{
        char *v = dup_or_null(src);
        if (src && !v)
                return -ENOMEM;
        free(*dst);
        *dst = v;
        return 0;
}

static int set_table(struct nftm_table **dst, struct nftm_table *src)
{
        nftm_unref(*dst);
        *dst = nftm_ref(src);
        return 0;
}

static int apply_nft(struct fake *k, const struct nr_desired *w, const struct nr_op *op)
{
        bool br = op->kind == NR_OP_NFTBR_CREATE || op->kind == NR_OP_NFTBR_UPDATE ||
                  op->kind == NR_OP_NFTBR_DELETE;
        if (op->kind == NR_OP_NFT_DELETE || op->kind == NR_OP_NFTBR_DELETE)
                return set_table(br ? &k->nft_bridge : &k->nft, NULL);
        return set_table(br ? &k->nft_bridge : &k->nft, br ? w->nft_bridge : w->nft);
}

static int apply_dnsmasq(struct fake *k, const struct nr_desired *w, const struct nr_op *op)
{
        if (op->kind == NR_OP_DNSMASQ_STOP) {
                k->dnsmasq_running = false;
                return 0;
        }
        int r = set_text(&k->dnsmasq_hosts, w->dnsmasq_hosts);
        if (r >= 0 && op->kind == NR_OP_DNSMASQ_START)
                r = set_text(&k->dnsmasq_conf, w->dnsmasq_conf);
        if (r >= 0 && op->kind == NR_OP_DNSMASQ_START)
                k->dnsmasq_running = true;
        return r;
}

/* The sessions a text configures: bit n-1 for each `protocol bgp nr_rsn`. */
static unsigned bird_sessions_in(const char *conf)
{
        unsigned bits = 0, n;
        const char *p = conf;
        while (p && (p = strstr(p, "protocol bgp " NR_BIRD_PROTO_PREFIX))) {
                p += strlen("protocol bgp " NR_BIRD_PROTO_PREFIX);
                if (sscanf(p, "%u", &n) == 1 && n >= 1 && n <= 32)
                        bits |= 1u << (n - 1);
        }
        return bits;
}

/* What BIRD now sends its peers and what became of the sessions, as one transcript line: the
 * static routes of the text (the advertised prefixes), and whether the sessions stayed up. */
static void bird_note(struct fake *k, const char *sessions)
{
        struct nr_buf b = {0};
        const char *p = k->bird_conf;
        unsigned n = 0;
        while (p && (p = strstr(p, "        route "))) {
                p += strlen("        route ");
                buf_printf(&b, "%s%.*s", n++ ? ", " : "", (int)strcspn(p, " ;\n"), p);
        }
        fake_note(k, "    BIRD advertises %s; sessions %s", n ? b.s : "nothing", sessions);
        buf_free(&b);
}

/* As bgpb_apply: a start brings the sessions up; a configure keeps the settings of sessions
 * that are up when asked to, and BIRD restarts a session whose settings changed. */
static int apply_bgp(struct fake *k, const struct nr_desired *w, const struct nr_op *op)
{
        const char *text = op->bgp.advertise ? w->bird_conf : w->bird_conf_withdrawn;
        if (op->kind == NR_OP_BGP_STOP) {
                fake_bird_kill(k);
                free(k->bird_conf);
                k->bird_conf = NULL;
                return 0;
        }
        if (!text)
                return -EINVAL;
        char *kept = op->kind == NR_OP_BGP_CONFIGURE && op->bgp.keep_sessions
                             ? bird_conf_keep_sessions(k->bird_conf, text, k->bgp_up)
                             : NULL;
        char *next = strdup(kept ? kept : text);
        free(kept);
        if (!next)
                return -ENOMEM;
        /* a session that was down just comes up with the new settings */
        bool differ = bird_conf_sessions_differ(k->bird_conf, next);
        bool start = op->kind == NR_OP_BGP_START || (differ && !k->bgp_up);
        bool restarted = !start && differ;
        if (restarted)
                k->bgp_restarts++;
        free(k->bird_conf);
        k->bird_conf = next;
        k->bird_running = true;
        /* the peers answer: every session of the text is Established */
        k->bgp_up = bird_sessions_in(next);
        bird_note(k, start ? "started" : restarted ? "restarted" : "kept");
        return 0;
}

int fake_injected(struct fake *k, const char *line, char *err, size_t errlen)
{
        for (size_t i = 0; i < k->n_fails; i++) {
                struct fake_fail *f = &k->fails[i];
                if (!f->times || strncmp(line, f->prefix, strlen(f->prefix)))
                        continue;
                if (f->times > 0)
                        f->times--;
                snprintf(err, errlen, "%s", strerror(f->err));
                return -f->err;
        }
        return 0;
}

static int fake_apply(void *self, const struct nr_desired *w, const struct nr_op *op, char *err,
                      size_t errlen)
{
        struct fake *k = self;
        struct nr_plan p = {.route_protocol = w->route_protocol};
        char line[400];
        plan_op_line(&p, op, line, sizeof(line));
        int r = fake_injected(k, line, err, errlen);
        if (r == 0) {
                switch (op->obj) {
                case NR_OBJ_LINK:
                        r = apply_link(k, op, err, errlen);
                        break;
                case NR_OBJ_ADDR:
                        r = apply_addr(k, op, err, errlen);
                        break;
                case NR_OBJ_ROUTE:
                        r = apply_route(k, op, w->route_protocol, err, errlen);
                        break;
                case NR_OBJ_RULE:
                        r = apply_rule(k, op, err, errlen);
                        break;
                case NR_OBJ_SYSCTL:
                        r = apply_sysctl(k, op);
                        break;
                case NR_OBJ_NFT:
                        r = apply_nft(k, w, op);
                        break;
                case NR_OBJ_DNSMASQ:
                        r = apply_dnsmasq(k, w, op);
                        break;
                case NR_OBJ_BGP:
                        fake_note(k, "  %s", line); /* BIRD's own line follows it */
                        r = apply_bgp(k, w, op);
                        break;
                case NR_OBJ_VM: /* fake_virt.c's, attached as the virt backend */
                        r = refuse(err, errlen, -EINVAL, "not the virt backend");
                        break;
                case NR_OBJ_COUNT:
                        r = refuse(err, errlen, -EINVAL, "no object");
                        break;
                }
        }
        if (r < 0)
                fake_note(k, "  %s: FAILED: %s", line, err);
        else if (op->obj != NR_OBJ_BGP)
                fake_note(k, "  %s", line);
        return r;
}

static const struct nr_backend_ops fake_nl_ops = {
        .name = "fake-netlink", .observe = nl_observe, .apply = fake_apply};
static const struct nr_backend_ops fake_sysctl_ops = {
        .name = "fake-sysctl", .observe = sysctl_observe_fake, .apply = fake_apply};
static const struct nr_backend_ops fake_nft_ops = {
        .name = "fake-nft", .observe = nft_observe, .apply = fake_apply};
static const struct nr_backend_ops fake_dm_ops = {
        .name = "fake-dnsmasq", .observe = dm_observe, .apply = fake_apply};

/* as the bgp backend's: a new text for a running BIRD follows a decision, not drift */
static bool bgp_is_change(void *self, const struct nr_op *op)
{
        (void)self;
        return op->kind == NR_OP_BGP_CONFIGURE;
}

static const struct nr_backend_ops fake_bgp_ops = {
        .name = "fake-bgp", .observe = bgp_observe, .apply = fake_apply,
        .is_change = bgp_is_change};

void fake_attach(struct fake *k, struct nr_engine *e)
{
        engine_set_backend(e, NR_BACKEND_NETLINK, &fake_nl_ops, k);
        engine_set_backend(e, NR_BACKEND_SYSCTL, &fake_sysctl_ops, k);
        engine_set_backend(e, NR_BACKEND_NFT, &fake_nft_ops, k);
        engine_set_backend(e, NR_BACKEND_DNSMASQ, &fake_dm_ops, k);
        engine_set_backend(e, NR_BACKEND_BGP, &fake_bgp_ops, k);
}
