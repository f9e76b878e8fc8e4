/* Incremental nftables updates: the script that turns one table (as data) into the next by
 * elements and single rules, in one transaction — or the word that only recreating the table
 * will do — and the one reader of the kernel's listings (rule handles and counters). Pure. */
#include "core/model/nftdiff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/lib/array.h"
#include "core/lib/strbuf.h"

/* ---------------------------------------------------------------- reading a listing */

/* Lines and words stay spans into the listing until something is kept. */
struct nftd_span {
        const char *s;
        size_t n;
};

static bool nftd_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct nftd_span nftd_trim(const char *s, size_t n)
{
        while (n && nftd_blank(*s)) {
                s++;
                n--;
        }
        while (n && nftd_blank(s[n - 1]))
                n--;
        return (struct nftd_span){s, n};
}

static int nftd_copy(char dst[64], struct nftd_span w)
{
        if (w.n >= 64)
                return -EINVAL;
        memcpy(dst, w.s, w.n);
        dst[w.n] = '\0';
        return 0;
}

/* The next line at *r, trimmed, moving *r past it; false at the end of the text. */
static bool nftd_line(const char **r, struct nftd_span *line)
{
        if (!**r)
                return false;
        const char *e = strchrnul(*r, '\n');
        *line = nftd_trim(*r, (size_t)(e - *r));
        *r = *e ? e + 1 : e;
        return true;
}

/* Digits in [*p, end) as a number; false without digits or on overflow. */
static bool nftd_u64(const char **p, const char *end, uint64_t *v)
{
        const char *s = *p;
        uint64_t x = 0;
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
                uint64_t d = (uint64_t)(*s - '0');
                if (x > (UINT64_MAX - d) / 10)
                        return false;
                x = x * 10 + d;
        }
        if (s == *p)
                return false;
        *p = s;
        *v = x;
        return true;
}

/* Listings end object lines in `# handle N`: takes it off the line, which is then as written. */
static bool nftd_handle_suffix(struct nftd_span *l, uint64_t *handle)
{
        static const char tag[] = "# handle ";
        const size_t tn = sizeof(tag) - 1;
        size_t d = l->n;
        while (d > 0 && l->s[d - 1] >= '0' && l->s[d - 1] <= '9')
                d--;
        if (d == l->n || d < tn || memcmp(l->s + d - tn, tag, tn))
                return false;
        const char *p = l->s + d;
        if (!nftd_u64(&p, l->s + l->n, handle))
                return false;
        *l = nftd_trim(l->s, d - tn);
        return true;
}

/* `KIND NAME {`, with a listing's `# handle N` allowed: 1 and NAME, 0 when the line is not
 * one, -EINVAL when NAME does not fit. */
static int nftd_block_opener(struct nftd_span l, const char *kind, char name[64])
{
        const size_t k = strlen(kind);
        uint64_t handle;

        nftd_handle_suffix(&l, &handle);
        if (l.n < k + 3 || memcmp(l.s, kind, k) || l.s[k] != ' ' || l.s[l.n - 1] != '{')
                return 0;
        struct nftd_span w = nftd_trim(l.s + k + 1, l.n - k - 2);
        if (!w.n || memchr(w.s, ' ', w.n) || memchr(w.s, '\t', w.n))
                return 0;
        return nftd_copy(name, w) < 0 ? -EINVAL : 1;
}

/* A rule's id is its trailing `comment "ID"`: 1 with an id, 0 without, -EINVAL if too long. */
static int nftd_comment_id(struct nftd_span l, char id[64])
{
        static const char tag[] = "comment \"";
        const size_t tn = sizeof(tag) - 1;

        id[0] = '\0';
        if (l.n < tn + 1 || l.s[l.n - 1] != '"')
                return 0;
        const char *q = memrchr(l.s, '"', l.n - 1);
        if (!q || (size_t)(q - l.s) + 1 < tn || memcmp(q + 1 - tn, tag, tn))
                return 0;
        const char *kw = q + 1 - tn;
        if (kw > l.s && !nftd_blank(kw[-1]))
                return 0;
        struct nftd_span w = {q + 1, (size_t)(l.s + l.n - 1 - (q + 1))};
        if (nftd_copy(id, w) < 0)
                return -EINVAL;
        return id[0] ? 1 : 0;
}

/* `TAG P bytes B` in the line (a rule's `counter packets `, a counter object's `packets `):
 * false when it has none. */
static bool nftd_counter_values(struct nftd_span l, const char *tag, uint64_t *packets,
                                uint64_t *bytes)
{
        static const char mid[] = " bytes ";
        const char *end = l.s + l.n;
        const char *p = memmem(l.s, l.n, tag, strlen(tag));

        if (!p)
                return false;
        p += strlen(tag);
        if (!nftd_u64(&p, end, packets) || (size_t)(end - p) < sizeof(mid) - 1 ||
            memcmp(p, mid, sizeof(mid) - 1))
                return false;
        p += sizeof(mid) - 1;
        return nftd_u64(&p, end, bytes);
}

/* A named counter's block: its `packets P bytes B` line is reported as a line of the chain ""
 * with the counter's name for its id. */
static int nftd_object_line(struct nftd_span l, const char name[64],
                            int (*fn)(void *ud, const struct nftd_seen *r), void *ud)
{
        struct nftd_seen seen = {.chain = ""};
        if (!nftd_counter_values(l, "packets ", &seen.packets, &seen.bytes) ||
            memcmp(l.s, "packets ", 8))
                return 0;
        seen.has_counter = true;
        strcpy(seen.id, name);
        return fn(ud, &seen);
}

int nftd_walk_listing(const char *listing, int (*fn)(void *ud, const struct nftd_seen *r),
                      void *ud)
{
        const char *r = listing;
        struct nftd_span l;
        char chain[64] = "", object[64] = "";
        bool in_chain = false, in_object = false;

        while (nftd_line(&r, &l)) {
                struct nftd_seen seen = {.chain = chain};
                int k = nftd_block_opener(l, "chain", chain), ko = 0;
                if (k < 0 || (!k && !in_chain &&
                              (ko = nftd_block_opener(l, "counter", object)) < 0))
                        return k < 0 ? k : ko;
                if (k || ko || (l.n == 1 && l.s[0] == '}')) {
                        in_chain = k;
                        in_object = ko;
                        continue;
                }
                if (in_object && (k = nftd_object_line(l, object, fn, ud)) < 0)
                        return k;
                if (!in_chain || !l.n || l.s[0] == '#')
                        continue;
                seen.has_handle = nftd_handle_suffix(&l, &seen.handle);
                if ((k = nftd_comment_id(l, seen.id)) < 0)
                        return k;
                seen.has_counter = nftd_counter_values(l, "counter packets ", &seen.packets,
                                                       &seen.bytes);
                if (k && (k = fn(ud, &seen)) < 0)
                        return k;
        }
        return 0;
}

static uint64_t nftd_rule_key(const char *chain, const char *id)
{
        return nftm_hash(id, strlen(id) + 1, nftm_hash(chain, strlen(chain) + 1, NFTM_HASH_SEED));
}

static int nftd_handle_line(void *ud, const struct nftd_seen *r)
{
        struct nftd_handles *h = ud;
        if (!r->has_handle)
                return 0;
        NR_GROW(h->v, h->n);
        h->v[h->n - 1] = (struct nftd_handle){nftd_rule_key(r->chain, r->id), r->handle};
        return 0;
}

static int nftd_handle_cmp(const void *pa, const void *pb)
{
        const struct nftd_handle *a = pa, *b = pb;
        return a->key < b->key ? -1 : a->key > b->key;
}

int nftd_parse_handles(const char *listing, struct nftd_handles *h)
{
        memset(h, 0, sizeof(*h));
        int ret = nftd_walk_listing(listing, nftd_handle_line, h);
        if (ret < 0)
                nftd_handles_free(h);
        else if (h->n > 1)
                qsort(h->v, h->n, sizeof(*h->v), nftd_handle_cmp);
        return ret;
}

void nftd_handles_free(struct nftd_handles *h)
{
        free(h->v);
        memset(h, 0, sizeof(*h));
}

bool nftd_handle_find(const struct nftd_handles *h, const char *chain, const char *id,
                      uint64_t *handle)
{
        if (!h || !id[0])
                return false;
        struct nftd_handle k = {nftd_rule_key(chain, id), 0};
        const struct nftd_handle *e = bsearch(&k, h->v, h->n, sizeof(*h->v), nftd_handle_cmp);
        if (e)
                *handle = e->handle;
        return e != NULL;
}

static int nftd_counter_line(void *ud, const struct nftd_seen *r)
{
        struct nftd_counters *c = ud;
        if (!r->has_counter)
                return 0;
        NR_GROW(c->v, c->n);
        struct nftd_counter *e = &c->v[c->n - 1];
        strcpy(e->chain, r->chain);
        strcpy(e->id, r->id);
        e->packets = r->packets;
        e->bytes = r->bytes;
        return 0;
}

int nftd_parse_counters(const char *listing, struct nftd_counters *c)
{
        memset(c, 0, sizeof(*c));
        int ret = nftd_walk_listing(listing, nftd_counter_line, c);
        if (ret < 0)
                nftd_counters_free(c);
        return ret;
}

void nftd_counters_free(struct nftd_counters *c)
{
        free(c->v);
        memset(c, 0, sizeof(*c));
}

/* ---------------------------------------------------------------- the delta */

/* An open-addressing index of array positions by a 64-bit digest; slots hold position + 1.
 * Four bytes a slot: the index of a 4,096-element set stays in memory already in use, where
 * eight-byte slots needed a fresh mapping (each page a fault) every time. */
struct nftd_index {
        uint32_t *slot;
        size_t mask;
};

static int nftd_index_init(struct nftd_index *x, size_t n)
{
        size_t cap = 16;
        while (cap < 2 * n)
                cap *= 2;
        x->slot = n < UINT32_MAX ? calloc(cap, sizeof(*x->slot)) : NULL;
        x->mask = cap - 1;
        return x->slot ? 0 : -ENOMEM;
}

static void nftd_index_put(struct nftd_index *x, uint64_t h, size_t i)
{
        size_t p = (size_t)h & x->mask;
        while (x->slot[p])
                p = (p + 1) & x->mask;
        x->slot[p] = (uint32_t)i + 1;
}

struct nftd_dctx {
        const struct nftm_table *old, *new;
        const struct nftd_handles *h;
        struct nftd_ops ops;
        bool full;
        int err;
};

static int nftd_push(struct nftd_ops *ops, struct nftd_op op)
{
        NR_PUSH(ops->v, ops->n, op);
        return 0;
}

static void nftd_op(struct nftd_dctx *d, enum nftd_op_kind kind, const char *where,
                    const char *text, size_t text_len, const char *id, uint64_t handle)
{
        struct nftd_op op = {kind, where, text, text_len, id, handle};
        if (!d->err && nftd_push(&d->ops, op) < 0)
                d->err = -ENOMEM;
}

/* Which rule of the other version each rule is: by id, and the rules without one by their
 * place among those without. SIZE_MAX: none. */
struct nftd_match {
        size_t *n2o, *o2n;
};

static const char *nftd_s(const struct nftm_table *t, uint32_t off)
{
        return nftm_str(t, off);
}

/* Element i of `s` in `x` (an index of `other`'s elements): true when `other` has it. */
static bool nftd_elem_in(const struct nftd_index *x, const struct nftm_table *st,
                         const struct nftm_set *s, size_t i, const struct nftm_table *ot,
                         const struct nftm_set *other)
{
        uint64_t h = s->ehash[i];
        const char *e = nftd_s(st, s->elems[i]);
        for (size_t p = (size_t)h & x->mask; x->slot[p]; p = (p + 1) & x->mask) {
                size_t j = x->slot[p] - 1;
                if (other->ehash[j] == h && !strcmp(nftd_s(ot, other->elems[j]), e))
                        return true;
        }
        return false;
}

/* The kernel deletes a map element by its key alone: the part before " : ". */
static size_t nftd_key_len(const char *e, bool key_only)
{
        const char *c = key_only ? strstr(e, " : ") : NULL;
        return c ? (size_t)(c - e) : strlen(e);
}

/* Element i of `s` is element j of `other` (same digest, same text). */
static bool nftd_elem_is(const struct nftm_table *st, const struct nftm_set *s, size_t i,
                         const struct nftm_table *ot, const struct nftm_set *other, size_t j)
{
        return s->ehash[i] == other->ehash[j] &&
               !strcmp(nftd_s(st, s->elems[i]), nftd_s(ot, other->elems[j]));
}

/* Whether `other` has element i of `s`, by a scan of its digests: for the few elements a reload
 * changes, no index of thousands is built. */
static bool nftd_elem_scan(const struct nftm_table *st, const struct nftm_set *s, size_t i,
                           const struct nftm_table *ot, const struct nftm_set *other)
{
        for (size_t j = 0; j < other->n_elems; j++)
                if (nftd_elem_is(st, s, i, ot, other, j))
                        return true;
        return false;
}

static void nftd_elem_put(struct nftd_dctx *d, enum nftd_op_kind kind,
                          const struct nftm_table *ft, const struct nftm_set *from, size_t i,
                          bool key_only)
{
        const char *e = nftd_s(ft, from->elems[i]);
        const char *where = nftd_s(ft, from->objects ? from->type : from->name);
        nftd_op(d, kind, where, e, nftd_key_len(e, key_only), NULL, 0);
}

/* One op for each element of `from` that `other` lacks. Both
 * keep their order, so the elements they begin and end with alike are in `other` and skipped
 * without a lookup; the rest is looked up (a scan when it is a few, else an index). */
static void nftd_elems_op(struct nftd_dctx *d, enum nftd_op_kind kind, const struct nftm_table *ft,
                          const struct nftm_set *from, const struct nftm_table *ot,
                          const struct nftm_set *other, bool key_only)
{
        struct nftd_index x = {0};
        size_t head = 0, tail = 0;

        while (head < from->n_elems && head < other->n_elems &&
               nftd_elem_is(ft, from, head, ot, other, head))
                head++;
        while (tail < from->n_elems - head && tail < other->n_elems - head &&
               nftd_elem_is(ft, from, from->n_elems - 1 - tail, ot, other,
                            other->n_elems - 1 - tail))
                tail++;
        size_t end = from->n_elems - tail;
        bool scan = end - head <= 16;
        if (!scan) {
                if (nftd_index_init(&x, other->n_elems) < 0) {
                        d->err = -ENOMEM;
                        return;
                }
                for (size_t j = 0; j < other->n_elems; j++)
                        nftd_index_put(&x, other->ehash[j], j);
        }
        for (size_t i = head; i < end; i++)
                if (!(scan ? nftd_elem_scan(ft, from, i, ot, other)
                           : nftd_elem_in(&x, ft, from, i, ot, other)))
                        nftd_elem_put(d, kind, ft, from, i, key_only);
        free(x.slot);
}

/* The old version of ns when its elements changed; NULL when they did not, or when it was
 * added or redefined (then d->full: only the whole table will do). */
static const struct nftm_set *nftd_old_set(struct nftd_dctx *d, const struct nftm_set *ns)
{
        const struct nftm_table *o = d->old, *n = d->new;
        const struct nftm_set *os = nftm_find_set(o, nftd_s(n, ns->name));
        if (!os || os->map != ns->map || os->interval != ns->interval ||
            os->objects != ns->objects || strcmp(nftd_s(o, os->type), nftd_s(n, ns->type)) ||
            strcmp(nftd_s(o, os->comment), nftd_s(n, ns->comment))) {
                d->full = true;
                return NULL;
        }
        return os->digest == ns->digest ? NULL : os;
}

/* Element changes only: a set added, removed or redefined needs the whole table. A changed map
 * value is a delete of its key and an add; deletes go first so the add finds the key free (and
 * an interval set never sees the old and new prefix overlap). Named objects are added before
 * every set (a map's new element may refer to one) and deleted after everything else
 * (nftd_delta_objects_gone: no element may refer to them any more). */
static void nftd_delta_sets(struct nftd_dctx *d)
{
        const struct nftm_table *o = d->old, *n = d->new;

        if (o->n_sets != n->n_sets)
                d->full = true;
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < n->n_sets && !d->full && !d->err; i++) {
                        const struct nftm_set *ns = &n->sets[i];
                        const struct nftm_set *os;
                        if (ns->objects != !pass || !(os = nftd_old_set(d, ns)))
                                continue;
                        if (ns->objects) {
                                nftd_elems_op(d, NFTD_OBJ_ADD, n, ns, o, os, false);
                                continue;
                        }
                        nftd_elems_op(d, NFTD_ELEM_DELETE, o, os, n, ns, os->map);
                        nftd_elems_op(d, NFTD_ELEM_ADD, n, ns, o, os, false);
                }
        }
}

static void nftd_delta_objects_gone(struct nftd_dctx *d)
{
        const struct nftm_table *o = d->old, *n = d->new;
        for (size_t i = 0; i < n->n_sets && !d->full && !d->err; i++) {
                const struct nftm_set *ns = &n->sets[i];
                const struct nftm_set *os;
                if (ns->objects && (os = nftd_old_set(d, ns)))
                        nftd_elems_op(d, NFTD_OBJ_DELETE, o, os, n, ns, false);
        }
}

/* The digest of each rule's id (its low half; 0 for a rule without one): every rule is hashed
 * once, and a lookup compares digests before it compares text. NULL without memory. */
static uint32_t *nftd_id_hashes(const struct nftm_table *t, const struct nftm_chain *c)
{
        uint32_t *h = malloc((c->n_rules + 1) * sizeof(*h));
        for (size_t i = 0; h && i < c->n_rules; i++) {
                const char *id = nftd_s(t, c->rules[i].id);
                h[i] = id[0] ? (uint32_t)nftm_hash(id, strlen(id), NFTM_HASH_SEED) : 0;
        }
        return h;
}

/* For each rule of `c` (in table t, its ids' digests hc), the same rule in `other` (ho): 0, or
 * -EEXIST when an id repeats in `other` (rules could not be told apart), -ENOMEM. */
static int nftd_match_side(const struct nftm_table *t, const struct nftm_chain *c,
                           const uint32_t *hc, const struct nftm_table *ot,
                           const struct nftm_chain *other, const uint32_t *ho, size_t *out)
{
        struct nftd_index x;
        size_t nth = 0, n_idless = 0, *idless;
        int ret = 0;

        for (size_t j = 0; j < other->n_rules; j++)
                n_idless += !nftd_s(ot, other->rules[j].id)[0];
        idless = malloc((n_idless + 1) * sizeof(*idless));
        n_idless = 0;
        if (!idless || nftd_index_init(&x, other->n_rules) < 0) {
                free(idless);
                return -ENOMEM;
        }
        for (size_t j = 0; j < other->n_rules; j++) {
                const char *id = nftd_s(ot, other->rules[j].id);
                if (!id[0]) {
                        idless[n_idless++] = j;
                        continue;
                }
                for (size_t p = (size_t)ho[j] & x.mask; x.slot[p]; p = (p + 1) & x.mask) {
                        size_t k = x.slot[p] - 1;
                        if (ho[k] == ho[j] && !strcmp(nftd_s(ot, other->rules[k].id), id))
                                ret = -EEXIST;
                }
                nftd_index_put(&x, ho[j], j);
        }
        for (size_t i = 0; i < c->n_rules; i++) {
                const char *id = nftd_s(t, c->rules[i].id);
                out[i] = SIZE_MAX;
                if (!id[0]) {
                        out[i] = nth < n_idless ? idless[nth] : SIZE_MAX;
                        nth++;
                        continue;
                }
                /* without a repeated id (else -EEXIST) at most one rule matches */
                for (size_t p = (size_t)hc[i] & x.mask; x.slot[p]; p = (p + 1) & x.mask) {
                        size_t k = x.slot[p] - 1;
                        if (ho[k] == hc[i] && !strcmp(nftd_s(ot, other->rules[k].id), id)) {
                                out[i] = k;
                                break;
                        }
                }
        }
        free(x.slot);
        free(idless);
        return ret;
}

/* Rules without an id cannot be addressed, so they must be the same, in the same order. */
static bool nftd_idless_same(const struct nftd_dctx *d, const struct nftm_chain *o,
                             const struct nftm_chain *n)
{
        size_t i = 0, j = 0;

        for (;;) {
                while (i < o->n_rules && o->rules[i].id)
                        i++;
                while (j < n->n_rules && n->rules[j].id)
                        j++;
                if (i == o->n_rules || j == n->n_rules)
                        return i == o->n_rules && j == n->n_rules;
                if (strcmp(nftd_s(d->old, o->rules[i++].text), nftd_s(d->new, n->rules[j++].text)))
                        return false;
        }
}

/* Rules can be patched one by one unless ids repeat, an id-less rule changed, or the rules
 * both versions have moved relative to each other (the kernel cannot move a rule). */
static bool nftd_rules_patchable(const struct nftd_dctx *d, const struct nftm_chain *o,
                                 const struct nftm_chain *n, const struct nftd_match *m)
{
        size_t last = SIZE_MAX;

        if (!nftd_idless_same(d, o, n))
                return false;
        for (size_t i = 0; i < n->n_rules; i++) {
                size_t j = m->n2o[i];
                if (j == SIZE_MAX)
                        continue;
                if (last != SIZE_MAX && j <= last)
                        return false;
                last = j;
        }
        return true;
}

/* A rule of `new` as an op: its text and its comment id. */
static void nftd_rule_op(struct nftd_dctx *d, enum nftd_op_kind kind, const char *chain,
                         const struct nftm_rule *r, uint64_t handle)
{
        const char *text = nftd_s(d->new, r->text);
        nftd_op(d, kind, chain, text, strlen(text), r->id ? nftd_s(d->new, r->id) : NULL, handle);
}

static bool nftd_handle_of(const struct nftd_dctx *d, const char *chain, uint32_t id,
                           const struct nftm_table *t, uint64_t *handle)
{
        return id && nftd_handle_find(d->h, chain, nftd_s(t, id), handle);
}

static void nftd_rule_deletes(struct nftd_dctx *d, const struct nftm_chain *o,
                              const struct nftd_match *m)
{
        const char *chain = nftd_s(d->old, o->name);
        uint64_t h;

        for (size_t i = 0; i < o->n_rules && !d->full; i++) {
                if (m->o2n[i] != SIZE_MAX)
                        continue;
                if (!nftd_handle_of(d, chain, o->rules[i].id, d->old, &h))
                        d->full = true;
                else
                        nftd_op(d, NFTD_RULE_DELETE, chain, NULL, 0, NULL, h);
        }
}

/* The replaced rule keeps its handle, so these go after the adds that use it as an anchor. */
static void nftd_rule_replaces(struct nftd_dctx *d, const struct nftm_chain *o,
                               const struct nftm_chain *n, const struct nftd_match *m)
{
        const char *chain = nftd_s(d->new, n->name);
        uint64_t h;

        for (size_t i = 0; i < n->n_rules && !d->full; i++) {
                size_t j = m->n2o[i];
                if (j == SIZE_MAX || !strcmp(nftd_s(d->old, o->rules[j].text),
                                             nftd_s(d->new, n->rules[i].text)))
                        continue;
                if (!nftd_handle_of(d, chain, n->rules[i].id, d->new, &h)) {
                        d->full = true;
                } else {
                        nftd_rule_op(d, NFTD_RULE_REPLACE, chain, &n->rules[i], h);
                }
        }
}

/* New rules [a, b) of n, between the rules both versions have. `add ... position H` puts a rule
 * right after H, so a run after one anchor goes in backwards; `insert ... position H` puts it
 * right before H, so a run before one goes in forwards. A run at the end of the chain whose
 * anchor has no known handle is appended in order (plain `add` goes after every rule), so a
 * forward added at the end of the file needs no listing of the table. Without any common rule,
 * every old one is deleted and plain adds in order build the chain. */
static void nftd_add_run(struct nftd_dctx *d, const struct nftm_chain *n, size_t a, size_t b,
                         bool anchored)
{
        const char *c = nftd_s(d->new, n->name);
        uint64_t h;

        if (!anchored || (b == n->n_rules && !(a > 0 && nftd_handle_of(d, c, n->rules[a - 1].id,
                                                                        d->new, &h)))) {
                for (size_t i = a; i < b; i++)
                        nftd_rule_op(d, NFTD_RULE_APPEND, c, &n->rules[i], 0);
        } else if (a > 0 && n->rules[a - 1].id) {
                if (!nftd_handle_of(d, c, n->rules[a - 1].id, d->new, &h)) {
                        d->full = true;
                        return;
                }
                for (size_t i = b; i-- > a;)
                        nftd_rule_op(d, NFTD_RULE_AFTER, c, &n->rules[i], h);
        } else if (b < n->n_rules && nftd_handle_of(d, c, n->rules[b].id, d->new, &h)) {
                for (size_t i = a; i < b; i++)
                        nftd_rule_op(d, NFTD_RULE_BEFORE, c, &n->rules[i], h);
        } else {
                d->full = true;
        }
}

static void nftd_rule_adds(struct nftd_dctx *d, const struct nftm_chain *n,
                           const struct nftd_match *m)
{
        bool anchored = false;

        for (size_t i = 0; i < n->n_rules; i++)
                anchored |= m->n2o[i] != SIZE_MAX;
        for (size_t a = 0; a < n->n_rules && !d->full;) {
                size_t b = a;
                while (b < n->n_rules && m->n2o[b] == SIZE_MAX)
                        b++;
                if (b > a)
                        nftd_add_run(d, n, a, b, anchored);
                a = b + 1;
        }
}

static void nftd_delta_chain(struct nftd_dctx *d, const struct nftm_chain *oc,
                             const struct nftm_chain *nc)
{
        struct nftd_match m = {calloc(nc->n_rules + 1, sizeof(size_t)),
                               calloc(oc->n_rules + 1, sizeof(size_t))};
        uint32_t *hn = nftd_id_hashes(d->new, nc), *ho = nftd_id_hashes(d->old, oc);
        int r = m.n2o && m.o2n && hn && ho ? 0 : -ENOMEM;
        if (r >= 0)
                r = nftd_match_side(d->new, nc, hn, d->old, oc, ho, m.n2o);
        if (r >= 0)
                r = nftd_match_side(d->old, oc, ho, d->new, nc, hn, m.o2n);
        free(hn);
        free(ho);
        if (r == -ENOMEM)
                d->err = r;
        else if (r < 0 || !nftd_rules_patchable(d, oc, nc, &m))
                d->full = true;
        if (!d->full && !d->err) {
                nftd_rule_deletes(d, oc, &m);
                nftd_rule_adds(d, nc, &m);
                nftd_rule_replaces(d, oc, nc, &m);
        }
        free(m.n2o);
        free(m.o2n);
}

static void nftd_delta_chains(struct nftd_dctx *d)
{
        const struct nftm_table *o = d->old, *n = d->new;

        if (o->n_chains != n->n_chains)
                d->full = true;
        for (size_t i = 0; i < n->n_chains && !d->full && !d->err; i++) {
                const struct nftm_chain *nc = &n->chains[i];
                const struct nftm_chain *oc = nftm_find_chain(o, nftd_s(n, nc->name));
                if (!oc || strcmp(nftd_s(o, oc->hook), nftd_s(n, nc->hook))) {
                        d->full = true;
                        return;
                }
                if (oc->digest != nc->digest)
                        nftd_delta_chain(d, oc, nc);
        }
}

void nftd_ops_free(struct nftd_ops *ops)
{
        free(ops->v);
        *ops = (struct nftd_ops){0};
}

int nftd_delta_ops(const struct nftm_table *old, const struct nftm_table *new,
                   const struct nftd_handles *h, struct nftd_ops *ops, bool *full)
{
        struct nftd_dctx d = {.old = old, .new = new, .h = h};

        *ops = (struct nftd_ops){0};
        *full = false;
        if (old->oom || new->oom)
                return -ENOMEM;
        if (strcmp(old->family, new->family) || strcmp(nftd_s(old, old->name), nftd_s(new, new->name)) ||
            strcmp(nftd_s(old, old->comment), nftd_s(new, new->comment)))
                d.full = true;
        if (!d.full)
                nftd_delta_sets(&d);
        if (!d.full && !d.err)
                nftd_delta_chains(&d);
        if (!d.full && !d.err)
                nftd_delta_objects_gone(&d);
        if (d.full || d.err) {
                nftd_ops_free(&d.ops);
                *full = d.full && !d.err;
                return d.err;
        }
        *ops = d.ops;
        ops->family = new->family;
        ops->table = nftd_s(new, new->name);
        return 0;
}

static const char *const nftd_rule_verbs[] = {
        [NFTD_RULE_DELETE] = "delete", [NFTD_RULE_APPEND] = "add", [NFTD_RULE_AFTER] = "add",
        [NFTD_RULE_BEFORE] = "insert", [NFTD_RULE_REPLACE] = "replace",
};

static void nftd_rule_line(struct nr_buf *b, const struct nftd_ops *ops, const struct nftd_op *o)
{
        buf_printf(b, "%s rule %s %s %s", nftd_rule_verbs[o->kind], ops->family, ops->table,
                   o->where);
        if (o->kind == NFTD_RULE_DELETE || o->kind == NFTD_RULE_REPLACE)
                buf_printf(b, " handle %" PRIu64, o->handle);
        else if (o->kind != NFTD_RULE_APPEND)
                buf_printf(b, " position %" PRIu64, o->handle);
        if (o->kind != NFTD_RULE_DELETE)
                buf_printf(b, " %s", o->text);
        if (o->id)
                buf_printf(b, " comment \"%s\"", o->id);
        buf_puts(b, "\n");
}

static bool nftd_is_elem(const struct nftd_op *o)
{
        return o->kind == NFTD_ELEM_DELETE || o->kind == NFTD_ELEM_ADD;
}

char *nftd_ops_text(const struct nftd_ops *ops)
{
        struct nr_buf b = {0};
        for (size_t i = 0; i < ops->n; i++) {
                const struct nftd_op *o = &ops->v[i], *prev = i ? &ops->v[i - 1] : NULL;
                if (o->kind == NFTD_OBJ_ADD || o->kind == NFTD_OBJ_DELETE) {
                        buf_printf(&b, "%s %s %s %s %.*s\n",
                                   o->kind == NFTD_OBJ_ADD ? "add" : "delete", o->where,
                                   ops->family, ops->table, (int)o->text_len, o->text);
                        continue;
                }
                if (!nftd_is_elem(o)) {
                        nftd_rule_line(&b, ops, o);
                        continue;
                }
                if (prev && prev->kind == o->kind && !strcmp(prev->where, o->where))
                        buf_puts(&b, ", ");
                else
                        buf_printf(&b, "%s element %s %s %s { ",
                                   o->kind == NFTD_ELEM_ADD ? "add" : "delete", ops->family,
                                   ops->table, o->where);
                buf_printf(&b, "%.*s", (int)o->text_len, o->text);
                const struct nftd_op *next = i + 1 < ops->n ? &ops->v[i + 1] : NULL;
                if (!next || next->kind != o->kind || strcmp(next->where, o->where))
                        buf_puts(&b, " }\n");
        }
        return buf_finish(&b);
}

int nftd_delta(const struct nftm_table *old, const struct nftm_table *new,
               const struct nftd_handles *h, char **script, bool *full)
{
        struct nftd_ops ops;
        *script = NULL;
        int r = nftd_delta_ops(old, new, h, &ops, full);
        if (r < 0 || *full)
                return r;
        *script = nftd_ops_text(&ops);
        nftd_ops_free(&ops);
        return *script ? 0 : -ENOMEM;
}
