/* Incremental nftables updates: parse rendered tables and live listings, and work out the script
 * that turns one rendering into the next by elements and single rules, in one transaction — or
 * say that only recreating the table will do. Pure: no syscalls. */
#include "nftdiff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "strbuf.h"

/* Lines and words stay spans into the input until something is kept. */
struct nftd_span {
        const char *s;
        size_t n;
};

struct nftd_dctx {
        const struct nftd_table *old, *new;
        const struct nftd_handles *h;
        struct nr_buf b;
        bool full;
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

static bool nftd_is(struct nftd_span l, const char *lit)
{
        return l.n == strlen(lit) && !memcmp(l.s, lit, l.n);
}

static bool nftd_starts(struct nftd_span l, const char *lit)
{
        size_t n = strlen(lit);
        return l.n >= n && !memcmp(l.s, lit, n);
}

/* Blank lines and '#' comments never reach the kernel, so they never make a difference. */
static bool nftd_ignored(struct nftd_span l)
{
        return !l.n || l.s[0] == '#';
}

static const char *nftd_str(const char *s)
{
        return s ? s : "";
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

/* `KIND NAME {`, with a listing's `# handle N` allowed: 1 and NAME, 0 when the line is not one,
 * -EINVAL when NAME does not fit. */
static int nftd_opener(struct nftd_span l, const char *kind, char name[64])
{
        uint64_t handle;
        size_t k = strlen(kind);

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

static int nftd_add_elem(struct nftd_set *s, const char *from, const char *to)
{
        struct nftd_span e = nftd_trim(from, (size_t)(to - from));
        if (!e.n)
                return 0;
        NR_GROW(s->elems, s->n_elems);
        s->elems[s->n_elems - 1] = strndup(e.s, e.n);
        return s->elems[s->n_elems - 1] ? 0 : -ENOMEM;
}

/* `elements = { a, b,` continued on further lines up to the matching '}': the elements are
 * split at commas outside quotes and braces. `open` points at the '{' in the whole text. */
static int nftd_elements(const char **r, const char *open, struct nftd_set *s)
{
        const char *p = open + 1, *start = p;
        int depth = 0, ret;
        bool quoted = false;

        for (;; p++) {
                if (!*p)
                        return -EINVAL;
                if (*p == '"')
                        quoted = !quoted;
                if (quoted)
                        continue;
                if (*p == '{') {
                        depth++;
                } else if (*p == '}') {
                        if (depth-- == 0)
                                break;
                } else if (*p == ',' && depth == 0) {
                        if ((ret = nftd_add_elem(s, start, p)) < 0)
                                return ret;
                        start = p + 1;
                }
        }
        if ((ret = nftd_add_elem(s, start, p)) < 0)
                return ret;
        *r = strchrnul(p, '\n');
        if (**r)
                (*r)++;
        return 0;
}

static void nftd_join(struct nr_buf *b, struct nftd_span l)
{
        buf_printf(b, "%s%.*s", b->len ? "\n" : "", (int)l.n, l.s);
}

static int nftd_finish(struct nr_buf *b, char **out)
{
        *out = buf_finish(b);
        return *out ? 0 : -ENOMEM;
}

static int nftd_set_body(const char **r, struct nftd_set *s, struct nr_buf *hdr)
{
        struct nftd_span l;
        int ret;

        while (nftd_line(r, &l)) {
                if (nftd_ignored(l))
                        continue;
                if (nftd_is(l, "}"))
                        return 0;
                if (nftd_starts(l, "elements = {")) {
                        const char *open = memchr(l.s, '{', l.n);
                        if ((ret = nftd_elements(r, open, s)) < 0)
                                return ret;
                        continue;
                }
                nftd_join(hdr, l);
        }
        return -EINVAL;
}

static int nftd_add_set(const char **r, struct nftd_table *t, const char *name,
                        bool is_map)
{
        struct nr_buf hdr = {0};

        NR_GROW(t->sets, t->n_sets);
        struct nftd_set *s = &t->sets[t->n_sets - 1];
        strcpy(s->name, name);
        s->is_map = is_map;
        int ret = nftd_set_body(r, s, &hdr);
        if (ret < 0) {
                buf_free(&hdr);
                return ret;
        }
        return nftd_finish(&hdr, &s->header);
}

static int nftd_add_rule(struct nftd_chain *c, struct nftd_span l)
{
        uint64_t handle;

        /* a listing fed in here still yields the rule as written */
        nftd_handle_suffix(&l, &handle);
        NR_GROW(c->rules, c->n_rules);
        struct nftd_rule *rule = &c->rules[c->n_rules - 1];
        int ret = nftd_comment_id(l, rule->id);
        if (ret < 0)
                return ret;
        rule->text = strndup(l.s, l.n);
        return rule->text ? 0 : -ENOMEM;
}

static int nftd_chain_body(const char **r, struct nftd_chain *c, struct nr_buf *hdr)
{
        struct nftd_span l;
        int ret;

        while (nftd_line(r, &l)) {
                if (nftd_ignored(l))
                        continue;
                if (nftd_is(l, "}"))
                        return 0;
                if (nftd_starts(l, "type ") || nftd_starts(l, "policy ")) {
                        nftd_join(hdr, l);
                        continue;
                }
                if ((ret = nftd_add_rule(c, l)) < 0)
                        return ret;
        }
        return -EINVAL;
}

static int nftd_add_chain(const char **r, struct nftd_table *t, const char *name)
{
        struct nr_buf hdr = {0};

        NR_GROW(t->chains, t->n_chains);
        struct nftd_chain *c = &t->chains[t->n_chains - 1];
        strcpy(c->name, name);
        int ret = nftd_chain_body(r, c, &hdr);
        if (ret < 0) {
                buf_free(&hdr);
                return ret;
        }
        return nftd_finish(&hdr, &c->header);
}

/* Objects this module does not patch (flowtables, named counters, ...) become part of `top`, so
 * any change to them asks for the whole table. */
static int nftd_opaque_block(const char **r, struct nftd_span open, struct nr_buf *top)
{
        struct nftd_span l;

        nftd_join(top, open);
        while (nftd_line(r, &l)) {
                if (nftd_ignored(l))
                        continue;
                nftd_join(top, l);
                if (nftd_is(l, "}"))
                        return 0;
        }
        return -EINVAL;
}

/* 1 when the line opened a block (now read), 0 when it is a table-level line. */
static int nftd_block(const char **r, struct nftd_table *t, struct nftd_span l,
                      struct nr_buf *top)
{
        char name[64];
        int k;

        if ((k = nftd_opener(l, "set", name)) != 0)
                return k < 0 ? k : nftd_add_set(r, t, name, false) ?: 1;
        if ((k = nftd_opener(l, "map", name)) != 0)
                return k < 0 ? k : nftd_add_set(r, t, name, true) ?: 1;
        if ((k = nftd_opener(l, "chain", name)) != 0)
                return k < 0 ? k : nftd_add_chain(r, t, name) ?: 1;
        if (l.s[l.n - 1] == '{')
                return nftd_opaque_block(r, l, top) ?: 1;
        return 0;
}

static int nftd_table_body(const char **r, struct nftd_table *t, struct nr_buf *top)
{
        struct nftd_span l;

        while (nftd_line(r, &l)) {
                if (nftd_ignored(l))
                        continue;
                if (nftd_is(l, "}"))
                        return 0;
                int k = nftd_block(r, t, l, top);
                if (k < 0)
                        return k;
                if (k == 0)
                        nftd_join(top, l);
        }
        return -EINVAL;
}

/* The table, then nothing but blank and comment lines. */
static int nftd_parse_text(const char **r, struct nftd_table *t, struct nr_buf *top)
{
        struct nftd_span l;
        bool seen = false;
        int ret;

        while (nftd_line(r, &l)) {
                if (nftd_ignored(l))
                        continue;
                ret = seen ? 0 : nftd_opener(l, "table inet", t->name);
                if (!seen)
                        strcpy(t->family, ret ? "inet" : "bridge");
                if (!seen && ret == 0)
                        ret = nftd_opener(l, "table bridge", t->name);
                if (ret <= 0)
                        return ret ?: -EINVAL;
                if ((ret = nftd_table_body(r, t, top)) < 0)
                        return ret;
                seen = true;
        }
        return seen ? 0 : -EINVAL;
}

int nftd_parse(const char *text, struct nftd_table *t)
{
        const char *r = text;
        struct nr_buf top = {0};

        memset(t, 0, sizeof(*t));
        int ret = nftd_parse_text(&r, t, &top);
        if (ret >= 0)
                ret = nftd_finish(&top, &t->top);
        else
                buf_free(&top);
        if (ret < 0)
                nftd_table_free(t);
        return ret;
}

void nftd_table_free(struct nftd_table *t)
{
        for (size_t i = 0; i < t->n_sets; i++) {
                for (size_t j = 0; j < t->sets[i].n_elems; j++)
                        free(t->sets[i].elems[j]);
                free(t->sets[i].elems);
                free(t->sets[i].header);
        }
        for (size_t i = 0; i < t->n_chains; i++) {
                for (size_t j = 0; j < t->chains[i].n_rules; j++)
                        free(t->chains[i].rules[j].text);
                free(t->chains[i].rules);
                free(t->chains[i].header);
        }
        free(t->sets);
        free(t->chains);
        free(t->top);
        memset(t, 0, sizeof(*t));
}

/* Calls fn for every line inside a chain block of a listing, with the chain's name. */
static int nftd_walk_rules(const char *listing,
                           int (*fn)(void *ud, const char *chain, struct nftd_span l), void *ud)
{
        const char *r = listing;
        struct nftd_span l;
        char chain[64] = "";
        bool in_chain = false;

        while (nftd_line(&r, &l)) {
                int k = nftd_opener(l, "chain", chain);
                if (k < 0)
                        return k;
                if (k || nftd_is(l, "}")) {
                        in_chain = k;
                        continue;
                }
                if (in_chain && !nftd_ignored(l) && (k = fn(ud, chain, l)) < 0)
                        return k;
        }
        return 0;
}

static int nftd_handle_line(void *ud, const char *chain, struct nftd_span l)
{
        struct nftd_handles *h = ud;
        uint64_t handle;
        char id[64];

        if (!nftd_handle_suffix(&l, &handle))
                return 0;
        int k = nftd_comment_id(l, id);
        if (k <= 0)
                return k;
        NR_GROW(h->v, h->n);
        struct nftd_handle *e = &h->v[h->n - 1];
        strcpy(e->chain, chain);
        strcpy(e->id, id);
        e->handle = handle;
        return 0;
}

int nftd_parse_handles(const char *listing, struct nftd_handles *h)
{
        memset(h, 0, sizeof(*h));
        int ret = nftd_walk_rules(listing, nftd_handle_line, h);
        if (ret < 0)
                nftd_handles_free(h);
        return ret;
}

void nftd_handles_free(struct nftd_handles *h)
{
        free(h->v);
        memset(h, 0, sizeof(*h));
}

/* `counter packets P bytes B` in the line: false when it has none. */
static bool nftd_counter_values(struct nftd_span l, uint64_t *packets, uint64_t *bytes)
{
        static const char tag[] = "counter packets ", mid[] = " bytes ";
        const char *end = l.s + l.n;
        const char *p = memmem(l.s, l.n, tag, sizeof(tag) - 1);

        if (!p)
                return false;
        p += sizeof(tag) - 1;
        if (!nftd_u64(&p, end, packets) || (size_t)(end - p) < sizeof(mid) - 1 ||
            memcmp(p, mid, sizeof(mid) - 1))
                return false;
        p += sizeof(mid) - 1;
        return nftd_u64(&p, end, bytes);
}

static int nftd_counter_line(void *ud, const char *chain, struct nftd_span l)
{
        struct nftd_counters *c = ud;
        uint64_t handle, packets, bytes;
        char id[64];

        nftd_handle_suffix(&l, &handle);
        int k = nftd_comment_id(l, id);
        if (k <= 0 || !nftd_counter_values(l, &packets, &bytes))
                return k;
        NR_GROW(c->v, c->n);
        struct nftd_counter *e = &c->v[c->n - 1];
        strcpy(e->chain, chain);
        strcpy(e->id, id);
        e->packets = packets;
        e->bytes = bytes;
        return 0;
}

int nftd_parse_counters(const char *listing, struct nftd_counters *c)
{
        memset(c, 0, sizeof(*c));
        int ret = nftd_walk_rules(listing, nftd_counter_line, c);
        if (ret < 0)
                nftd_counters_free(c);
        return ret;
}

void nftd_counters_free(struct nftd_counters *c)
{
        free(c->v);
        memset(c, 0, sizeof(*c));
}

static const struct nftd_set *nftd_find_set(const struct nftd_table *t, const char *name)
{
        for (size_t i = 0; i < t->n_sets; i++)
                if (!strcmp(t->sets[i].name, name))
                        return &t->sets[i];
        return NULL;
}

static const struct nftd_chain *nftd_find_chain(const struct nftd_table *t, const char *name)
{
        for (size_t i = 0; i < t->n_chains; i++)
                if (!strcmp(t->chains[i].name, name))
                        return &t->chains[i];
        return NULL;
}

static int nftd_strp_cmp(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* e among the n texts of sorted (qsort'ed with nftd_strp_cmp); without sorted (no memory for
 * it) among the elements of s, one by one. */
static bool nftd_has_elem(const struct nftd_set *s, const char **sorted, const char *e)
{
        if (sorted)
                return bsearch(&e, sorted, s->n_elems, sizeof(*sorted), nftd_strp_cmp) != NULL;
        for (size_t i = 0; i < s->n_elems; i++)
                if (!strcmp(s->elems[i], e))
                        return true;
        return false;
}

/* The kernel deletes a map element by its key alone: the part before " : ". */
static int nftd_key_len(const char *e, bool key_only)
{
        const char *c = key_only ? strstr(e, " : ") : NULL;
        return (int)(c ? (size_t)(c - e) : strlen(e));
}

/* One `VERB element` line for the elements of `from` that `other` lacks; none if none. */
static void nftd_elems_op(struct nftd_dctx *d, const char *verb, const struct nftd_set *from,
                          const struct nftd_set *other, bool key_only)
{
        size_t n = 0;
        /* thousands of elements (port forwards): a sorted copy, not a scan per element */
        const char **sorted = other->n_elems ? malloc(other->n_elems * sizeof(*sorted)) : NULL;
        if (sorted) {
                memcpy(sorted, other->elems, other->n_elems * sizeof(*sorted));
                qsort(sorted, other->n_elems, sizeof(*sorted), nftd_strp_cmp);
        }

        for (size_t i = 0; i < from->n_elems; i++) {
                const char *e = from->elems[i];
                if (nftd_has_elem(other, sorted, e))
                        continue;
                if (!n++)
                        buf_printf(&d->b, "%s element %s %s %s { ", verb, d->new->family, d->new->name,
                                   from->name);
                else
                        buf_puts(&d->b, ", ");
                buf_printf(&d->b, "%.*s", nftd_key_len(e, key_only), e);
        }
        free(sorted);
        if (n)
                buf_puts(&d->b, " }\n");
}

/* Element changes only: a set added, removed or redefined needs the whole table. A changed map
 * value is a delete of its key and an add; deletes go first so the add finds the key free (and
 * an interval set never sees the old and new prefix overlap). */
static void nftd_delta_sets(struct nftd_dctx *d)
{
        const struct nftd_table *o = d->old, *n = d->new;

        for (size_t i = 0; i < o->n_sets; i++)
                if (!nftd_find_set(n, o->sets[i].name))
                        d->full = true;
        if (o->n_sets != n->n_sets)
                d->full = true;
        for (size_t i = 0; i < n->n_sets && !d->full; i++) {
                const struct nftd_set *ns = &n->sets[i], *os = nftd_find_set(o, ns->name);
                if (!os || os->is_map != ns->is_map ||
                    strcmp(nftd_str(os->header), nftd_str(ns->header))) {
                        d->full = true;
                        return;
                }
                nftd_elems_op(d, "delete", os, ns, os->is_map);
                nftd_elems_op(d, "add", ns, os, false);
        }
}

static bool nftd_handle_of(const struct nftd_dctx *d, const char *chain, const char *id,
                           uint64_t *handle)
{
        if (!id[0] || !d->h)
                return false;
        for (size_t i = 0; i < d->h->n; i++)
                if (!strcmp(d->h->v[i].chain, chain) && !strcmp(d->h->v[i].id, id)) {
                        *handle = d->h->v[i].handle;
                        return true;
                }
        return false;
}

/* Rule i of `c` in `other`: by id, and a rule without one by its place among those without. */
static size_t nftd_rule_match(const struct nftd_chain *c, const struct nftd_chain *other,
                              size_t i)
{
        const char *id = c->rules[i].id;
        size_t nth = 0;

        for (size_t j = 0; j < i && !id[0]; j++)
                nth += !c->rules[j].id[0];
        for (size_t j = 0; j < other->n_rules; j++) {
                const char *oid = other->rules[j].id;
                if (id[0] ? !strcmp(oid, id) : !oid[0] && nth-- == 0)
                        return j;
        }
        return SIZE_MAX;
}

static bool nftd_dup_ids(const struct nftd_chain *c)
{
        for (size_t i = 0; i < c->n_rules; i++)
                for (size_t j = i + 1; j < c->n_rules && c->rules[i].id[0]; j++)
                        if (!strcmp(c->rules[i].id, c->rules[j].id))
                                return true;
        return false;
}

/* Rules without an id cannot be addressed, so they must be the same, in the same order. */
static bool nftd_idless_same(const struct nftd_chain *o, const struct nftd_chain *n)
{
        size_t i = 0, j = 0;

        for (;;) {
                while (i < o->n_rules && o->rules[i].id[0])
                        i++;
                while (j < n->n_rules && n->rules[j].id[0])
                        j++;
                if (i == o->n_rules || j == n->n_rules)
                        return i == o->n_rules && j == n->n_rules;
                if (strcmp(o->rules[i++].text, n->rules[j++].text))
                        return false;
        }
}

/* Rules can be patched one by one unless ids repeat, an id-less rule changed, or the rules
 * both versions have moved relative to each other (the kernel cannot move a rule). */
static bool nftd_rules_patchable(const struct nftd_chain *o, const struct nftd_chain *n)
{
        size_t last = SIZE_MAX;

        if (nftd_dup_ids(o) || nftd_dup_ids(n) || !nftd_idless_same(o, n))
                return false;
        for (size_t i = 0; i < n->n_rules; i++) {
                size_t j = nftd_rule_match(n, o, i);
                if (j == SIZE_MAX)
                        continue;
                if (last != SIZE_MAX && j <= last)
                        return false;
                last = j;
        }
        return true;
}

static void nftd_rule_deletes(struct nftd_dctx *d, const struct nftd_chain *o,
                              const struct nftd_chain *n)
{
        uint64_t h;

        for (size_t i = 0; i < o->n_rules && !d->full; i++) {
                if (nftd_rule_match(o, n, i) != SIZE_MAX)
                        continue;
                if (!nftd_handle_of(d, o->name, o->rules[i].id, &h))
                        d->full = true;
                else
                        buf_printf(&d->b, "delete rule %s %s %s handle %" PRIu64 "\n",
                                   d->new->family, d->new->name, o->name, h);
        }
}

/* The replaced rule keeps its handle, so these go after the adds that use it as an anchor. */
static void nftd_rule_replaces(struct nftd_dctx *d, const struct nftd_chain *o,
                               const struct nftd_chain *n)
{
        uint64_t h;

        for (size_t i = 0; i < n->n_rules && !d->full; i++) {
                size_t j = nftd_rule_match(n, o, i);
                if (j == SIZE_MAX || !strcmp(o->rules[j].text, n->rules[i].text))
                        continue;
                if (!nftd_handle_of(d, n->name, n->rules[i].id, &h))
                        d->full = true;
                else
                        buf_printf(&d->b, "replace rule %s %s %s handle %" PRIu64 " %s\n",
                                   d->new->family, d->new->name, n->name, h, n->rules[i].text);
        }
}

/* New rules [a, b) of n, between the rules both versions have. `add ... position H` puts a rule
 * right after H, so a run after one anchor goes in backwards; `insert ... position H` puts it
 * right before H, so a run before one goes in forwards. Without any common rule, every old one
 * is deleted and plain adds in order build the chain. */
static void nftd_add_run(struct nftd_dctx *d, const struct nftd_chain *n, size_t a, size_t b,
                         bool anchored)
{
        const char *f = d->new->family, *t = d->new->name, *c = n->name;
        uint64_t h;

        if (!anchored) {
                for (size_t i = a; i < b; i++)
                        buf_printf(&d->b, "add rule %s %s %s %s\n", f, t, c, n->rules[i].text);
        } else if (a > 0 && n->rules[a - 1].id[0]) {
                if (!nftd_handle_of(d, c, n->rules[a - 1].id, &h)) {
                        d->full = true;
                        return;
                }
                for (size_t i = b; i-- > a;)
                        buf_printf(&d->b, "add rule %s %s %s position %" PRIu64 " %s\n", f, t,
                                   c, h, n->rules[i].text);
        } else if (b < n->n_rules && nftd_handle_of(d, c, n->rules[b].id, &h)) {
                for (size_t i = a; i < b; i++)
                        buf_printf(&d->b, "insert rule %s %s %s position %" PRIu64 " %s\n",
                                   f, t, c, h, n->rules[i].text);
        } else {
                d->full = true;
        }
}

static void nftd_rule_adds(struct nftd_dctx *d, const struct nftd_chain *o,
                           const struct nftd_chain *n)
{
        bool anchored = false;

        for (size_t i = 0; i < n->n_rules; i++)
                anchored |= nftd_rule_match(n, o, i) != SIZE_MAX;
        for (size_t a = 0; a < n->n_rules && !d->full;) {
                size_t b = a;
                while (b < n->n_rules && nftd_rule_match(n, o, b) == SIZE_MAX)
                        b++;
                if (b > a)
                        nftd_add_run(d, n, a, b, anchored);
                a = b + 1;
        }
}

static void nftd_delta_chains(struct nftd_dctx *d)
{
        const struct nftd_table *o = d->old, *n = d->new;

        for (size_t i = 0; i < o->n_chains; i++)
                if (!nftd_find_chain(n, o->chains[i].name))
                        d->full = true;
        if (o->n_chains != n->n_chains)
                d->full = true;
        for (size_t i = 0; i < n->n_chains && !d->full; i++) {
                const struct nftd_chain *nc = &n->chains[i], *oc = nftd_find_chain(o, nc->name);
                if (!oc || strcmp(nftd_str(oc->header), nftd_str(nc->header)) ||
                    !nftd_rules_patchable(oc, nc)) {
                        d->full = true;
                        return;
                }
                nftd_rule_deletes(d, oc, nc);
                nftd_rule_adds(d, oc, nc);
                nftd_rule_replaces(d, oc, nc);
        }
}

int nftd_delta(const struct nftd_table *old, const struct nftd_table *new,
               const struct nftd_handles *h, char **script, bool *full)
{
        struct nftd_dctx d = {.old = old, .new = new, .h = h};

        *script = NULL;
        *full = false;
        if (strcmp(old->family, new->family) || strcmp(old->name, new->name) ||
            strcmp(nftd_str(old->top), nftd_str(new->top)))
                d.full = true;
        if (!d.full)
                nftd_delta_sets(&d);
        if (!d.full)
                nftd_delta_chains(&d);
        if (d.full) {
                buf_free(&d.b);
                *full = true;
                return 0;
        }
        return nftd_finish(&d.b, script);
}
