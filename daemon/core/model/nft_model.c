/* The nftables table as data: building it, its digests, and its one text form. Pure. */
#include "core/model/nft_model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lib/strbuf.h"

/* XXH64 (xxhash.com's reference algorithm): eight bytes a step where FNV-1a takes one, and a
 * quarter of building a large model went into hashing. */
#define XXP1 0x9E3779B185EBCA87ull
#define XXP2 0xC2B2AE3D27D4EB4Full
#define XXP3 0x165667B19E3779F9ull
#define XXP4 0x85EBCA77C2B2AE63ull
#define XXP5 0x27D4EB2F165667C5ull

static uint64_t rotl64(uint64_t x, int r)
{
        return x << r | x >> (64 - r);
}

static uint64_t xx_round(uint64_t acc, const unsigned char *p)
{
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return rotl64(acc + v * XXP2, 31) * XXP1;
}

uint64_t nftm_hash(const void *s, size_t n, uint64_t seed)
{
        const unsigned char *p = s, *end = p + n;
        uint64_t h = seed + XXP5;
        if (n >= 32) {
                uint64_t v[4] = {seed + XXP1 + XXP2, seed + XXP2, seed, seed - XXP1};
                for (; end - p >= 32; p += 32)
                        for (int i = 0; i < 4; i++)
                                v[i] = xx_round(v[i], p + 8 * i);
                h = rotl64(v[0], 1) + rotl64(v[1], 7) + rotl64(v[2], 12) + rotl64(v[3], 18);
                for (int i = 0; i < 4; i++)
                        h = (h ^ rotl64(v[i] * XXP2, 31) * XXP1) * XXP1 + XXP4;
        }
        h += n;
        for (; end - p >= 8; p += 8)
                h = rotl64(h ^ xx_round(0, p), 27) * XXP1 + XXP4;
        if (end - p >= 4) {
                uint32_t w;
                memcpy(&w, p, sizeof(w));
                h = rotl64(h ^ w * XXP1, 23) * XXP2 + XXP3;
                p += 4;
        }
        for (; p < end; p++)
                h = rotl64(h ^ *p * XXP5, 11) * XXP1;
        h ^= h >> 33;
        h *= XXP2;
        h ^= h >> 29;
        h *= XXP3;
        return h ^ h >> 32;
}

/* FNV-1a 64: the digest in the state file (nftm_dump), as every version has written it, so that
 * a daemon upgraded in place still recognizes the table it applied. */
static uint64_t fnv(const void *s, size_t n, uint64_t seed)
{
        const unsigned char *p = s;
        uint64_t h = seed;
        for (size_t i = 0; i < n; i++) {
                h ^= p[i];
                h *= 0x100000001b3ull;
        }
        return h;
}

typedef uint64_t hash_fn(const void *s, size_t n, uint64_t seed);

static uint64_t hash_str(hash_fn *hf, const char *s, uint64_t seed)
{
        return hf(s, strlen(s) + 1, seed); /* with its NUL: "ab","c" is not "a","bc" */
}

static uint64_t hash_u64(hash_fn *hf, uint64_t v, uint64_t seed)
{
        return hf(&v, sizeof(v), seed);
}

/* Arrays grow by doubling: a capacity is implied by the count (the next power of two). */
static bool grow(void **arr, size_t n, size_t size)
{
        if (n >= 8 && (n & (n - 1)))
                return true;
        void *p = realloc(*arr, (n < 8 ? 8 : 2 * n) * size);
        if (!p)
                return false;
        *arr = p;
        return true;
}

static bool pool_room(struct nftm_table *t, size_t need)
{
        if (t->pool_len + need <= t->pool_cap)
                return true;
        size_t cap = 2 * t->pool_cap + need;
        char *p = cap <= UINT32_MAX ? realloc(t->pool, cap) : NULL;
        if (!p)
                return false;
        t->pool = p;
        t->pool_cap = cap;
        return true;
}

/* Formats of only %s and %u, which are every element's and rule's, without vsnprintf (its
 * format parsing was a fifth of building a large model): the offset, -1 for another format,
 * -2 out of memory. The output is printf's, "(null)" included. Literal text is copied a run
 * at a time. */
static long pool_simple(struct nftm_table *t, const char *fmt, va_list ap)
{
        size_t start = t->pool_len;
        for (const char *f = fmt; *f;) {
                char num[12], *q = num + sizeof(num);
                const char *s;
                size_t n;
                if (*f != '%') {
                        s = f;
                        n = (size_t)(strchrnul(f, '%') - f);
                        f += n;
                } else if (f[1] == 's') {
                        s = va_arg(ap, const char *);
                        s = s ? s : "(null)";
                        n = strlen(s);
                        f += 2;
                } else if (f[1] == 'u') {
                        unsigned v = va_arg(ap, unsigned);
                        do
                                *--q = (char)('0' + v % 10);
                        while (v /= 10);
                        s = q;
                        n = (size_t)(num + sizeof(num) - q);
                        f += 2;
                } else {
                        t->pool_len = start;
                        return -1;
                }
                if (!pool_room(t, n + 1)) {
                        t->pool_len = start;
                        return -2;
                }
                memcpy(t->pool + t->pool_len, s, n);
                t->pool_len += n;
        }
        if (!pool_room(t, 1)) {
                t->pool_len = start;
                return -2;
        }
        t->pool[t->pool_len++] = '\0';
        return (long)start;
}

/* Appends a formatted string to the pool: its offset, 0 ("") after a failure. */
static uint32_t pool_vadd(struct nftm_table *t, const char *fmt, va_list ap)
{
        va_list as;
        va_copy(as, ap);
        long r = pool_simple(t, fmt, as);
        va_end(as);
        if (r >= 0 && (size_t)r <= UINT32_MAX)
                return (uint32_t)r;
        if (r == -2) {
                t->oom = true;
                return 0;
        }
        for (;;) {
                size_t room = t->pool_cap - t->pool_len;
                va_list aq;
                va_copy(aq, ap);
                int n = vsnprintf(t->pool + t->pool_len, room, fmt, aq);
                va_end(aq);
                if (n < 0 || t->pool_len + (size_t)n + 1 > UINT32_MAX) {
                        t->oom = true;
                        return 0;
                }
                if ((size_t)n < room) {
                        uint32_t off = (uint32_t)t->pool_len;
                        t->pool_len += (size_t)n + 1;
                        return off;
                }
                size_t cap = 2 * t->pool_cap + (size_t)n + 1;
                char *p = realloc(t->pool, cap);
                if (!p) {
                        t->oom = true;
                        return 0;
                }
                t->pool = p;
                t->pool_cap = cap;
        }
}

__attribute__((format(printf, 2, 3))) static uint32_t pool_add(struct nftm_table *t,
                                                                const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        uint32_t off = pool_vadd(t, fmt, ap);
        va_end(ap);
        return off;
}

struct nftm_table *nftm_new(const char *family, const char *name, const char *comment)
{
        struct nftm_table *t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->refs = 1;
        t->pool_cap = 4096;
        if (!(t->pool = malloc(t->pool_cap))) {
                free(t);
                return NULL;
        }
        t->pool[0] = '\0';
        t->pool_len = 1;
        snprintf(t->family, sizeof(t->family), "%s", family);
        t->name = pool_add(t, "%s", name);
        t->comment = pool_add(t, "%s", comment ? comment : "");
        return t;
}

struct nftm_table *nftm_ref(struct nftm_table *t)
{
        if (t)
                t->refs++;
        return t;
}

void nftm_unref(struct nftm_table *t)
{
        if (!t || --t->refs)
                return;
        for (size_t i = 0; i < t->n_sets; i++) {
                free(t->sets[i].elems);
                free(t->sets[i].ehash);
        }
        for (size_t i = 0; i < t->n_chains; i++)
                free(t->chains[i].rules);
        free(t->sets);
        free(t->chains);
        free(t->pool);
        free(t);
}

void nftm_reserve(struct nftm_table *t, size_t bytes)
{
        size_t cap = t->pool_len + bytes;
        char *p = cap > t->pool_cap && cap <= UINT32_MAX ? realloc(t->pool, cap) : NULL;
        if (p) { /* else the pool grows as it goes */
                t->pool = p;
                t->pool_cap = cap;
        }
}

void nftm_comment(struct nftm_table *t, const char *comment)
{
        t->comment = pool_add(t, "%s", comment);
}

void nftm_preamble(struct nftm_table *t, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        uint32_t off = pool_vadd(t, fmt, ap);
        va_end(ap);
        if (t->preamble) /* lines add up: join them in a new string */
                off = pool_add(t, "%s%s", nftm_str(t, t->preamble), nftm_str(t, off));
        t->preamble = off;
}

void nftm_set(struct nftm_table *t, bool map, const char *name, const char *type, bool interval,
              const char *comment)
{
        if (!grow((void **)&t->sets, t->n_sets, sizeof(*t->sets))) {
                t->oom = true;
                return;
        }
        struct nftm_set *s = &t->sets[t->n_sets++];
        memset(s, 0, sizeof(*s));
        s->map = map;
        s->interval = interval;
        s->name = pool_add(t, "%s", name);
        s->type = pool_add(t, "%s", type);
        s->comment = pool_add(t, "%s", comment ? comment : "");
}

void nftm_objects(struct nftm_table *t, const char *name, const char *type)
{
        nftm_set(t, false, name, type, false, NULL);
        if (!t->oom)
                t->sets[t->n_sets - 1].objects = true;
}

/* The elements' arrays of s, for cap of them. */
static bool set_room(struct nftm_set *s, size_t cap)
{
        uint32_t *e = realloc(s->elems, cap * sizeof(*s->elems));
        if (e)
                s->elems = e;
        uint64_t *h = e ? realloc(s->ehash, cap * sizeof(*s->ehash)) : NULL;
        if (h) {
                s->ehash = h;
                s->cap = cap;
        }
        return h != NULL;
}

static bool chain_room(struct nftm_chain *c, size_t cap)
{
        struct nftm_rule *r = realloc(c->rules, cap * sizeof(*c->rules));
        if (!r)
                return false;
        c->rules = r;
        c->cap = cap;
        return true;
}

void nftm_set_reserve(struct nftm_table *t, size_t n)
{
        struct nftm_set *s = t->n_sets ? &t->sets[t->n_sets - 1] : NULL;
        if (s && s->n_elems + n > s->cap)
                set_room(s, s->n_elems + n); /* else it grows as it goes */
}

void nftm_chain_reserve(struct nftm_table *t, size_t n)
{
        struct nftm_chain *c = t->n_chains ? &t->chains[t->n_chains - 1] : NULL;
        if (c && c->n_rules + n > c->cap)
                chain_room(c, c->n_rules + n);
}

void nftm_elemv(struct nftm_table *t, const char *fmt, va_list ap)
{
        if (!t->n_sets) {
                t->oom = true;
                return;
        }
        struct nftm_set *s = &t->sets[t->n_sets - 1];
        if (s->n_elems == s->cap && !set_room(s, s->cap ? 2 * s->cap : 8)) {
                t->oom = true;
                return;
        }
        uint32_t off = pool_vadd(t, fmt, ap);
        s->elems[s->n_elems] = off;
        /* the string just added, with its NUL, as hash_str takes it */
        s->ehash[s->n_elems++] = t->oom ? 0 : nftm_hash(t->pool + off, t->pool_len - off,
                                                        NFTM_HASH_SEED);
}

void nftm_elem(struct nftm_table *t, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        nftm_elemv(t, fmt, ap);
        va_end(ap);
}

void nftm_chain(struct nftm_table *t, const char *name, const char *hook)
{
        if (!grow((void **)&t->chains, t->n_chains, sizeof(*t->chains))) {
                t->oom = true;
                return;
        }
        struct nftm_chain *c = &t->chains[t->n_chains++];
        memset(c, 0, sizeof(*c));
        c->name = pool_add(t, "%s", name);
        c->hook = pool_add(t, "%s", hook ? hook : "");
}

void nftm_chain_note(struct nftm_table *t, const char *note)
{
        if (t->n_chains)
                t->chains[t->n_chains - 1].note = note;
}

void nftm_rulev(struct nftm_table *t, const char *id, const char *note, const char *fmt,
                va_list ap)
{
        if (!t->n_chains) {
                t->oom = true;
                return;
        }
        struct nftm_chain *c = &t->chains[t->n_chains - 1];
        if (c->n_rules == c->cap && !chain_room(c, c->cap ? 2 * c->cap : 8)) {
                t->oom = true;
                return;
        }
        struct nftm_rule *r = &c->rules[c->n_rules++];
        r->text = pool_vadd(t, fmt, ap);
        r->id = id && *id ? pool_add(t, "%s", id) : 0;
        r->note = note;
}

void nftm_rule(struct nftm_table *t, const char *id, const char *note, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        nftm_rulev(t, id, note, fmt, ap);
        va_end(ap);
}

/* The digests by hf: nftm_hash's for the table in memory (an element's is its ehash), FNV-1a
 * for the state file's. */
static uint64_t set_digest(const struct nftm_table *t, const struct nftm_set *s, hash_fn *hf)
{
        uint64_t h = hash_u64(hf, (uint64_t)s->objects << 2 | (uint64_t)s->map << 1 | s->interval,
                              NFTM_HASH_SEED);
        h = hash_str(hf, nftm_str(t, s->name), h);
        h = hash_str(hf, nftm_str(t, s->type), h);
        h = hash_str(hf, nftm_str(t, s->comment), h);
        if (hf == nftm_hash) {
                /* the elements' digests are XXH64 already: folding them in needs only one
                 * multiply each, not a hash call (the state file's FNV digest hashes them) */
                for (size_t i = 0; i < s->n_elems; i++)
                        h = rotl64(h ^ s->ehash[i], 27) * XXP1 + XXP4;
        } else {
                for (size_t i = 0; i < s->n_elems; i++)
                        h = hash_u64(hf, hash_str(hf, nftm_str(t, s->elems[i]), NFTM_HASH_SEED),
                                     h);
        }
        return hash_u64(hf, s->n_elems, h);
}

static uint64_t chain_digest(const struct nftm_table *t, const struct nftm_chain *c, hash_fn *hf)
{
        uint64_t h = hash_str(hf, nftm_str(t, c->name), NFTM_HASH_SEED);
        h = hash_str(hf, nftm_str(t, c->hook), h);
        for (size_t i = 0; i < c->n_rules; i++) {
                h = hash_str(hf, nftm_str(t, c->rules[i].id), h);
                h = hash_str(hf, nftm_str(t, c->rules[i].text), h);
        }
        return hash_u64(hf, c->n_rules, h);
}

/* The whole table's; by nftm_hash from the parts' digests nftm_finish keeps. */
static uint64_t table_digest(const struct nftm_table *t, hash_fn *hf)
{
        uint64_t h = hash_str(hf, t->family, NFTM_HASH_SEED);
        h = hash_str(hf, nftm_str(t, t->name), h);
        h = hash_str(hf, nftm_str(t, t->comment), h);
        for (size_t i = 0; i < t->n_sets; i++)
                h = hash_u64(hf, hf == nftm_hash ? t->sets[i].digest
                                                  : set_digest(t, &t->sets[i], hf),
                             h);
        h = hash_u64(hf, t->n_sets, h);
        for (size_t i = 0; i < t->n_chains; i++)
                h = hash_u64(hf, hf == nftm_hash ? t->chains[i].digest
                                                  : chain_digest(t, &t->chains[i], hf),
                             h);
        return hash_u64(hf, t->n_chains, h);
}

static uint64_t file_digest(const struct nftm_table *t)
{
        return table_digest(t, fnv);
}

int nftm_finish(struct nftm_table *t)
{
        if (t->oom)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_sets; i++)
                t->sets[i].digest = set_digest(t, &t->sets[i], nftm_hash);
        for (size_t i = 0; i < t->n_chains; i++)
                t->chains[i].digest = chain_digest(t, &t->chains[i], nftm_hash);
        t->digest = table_digest(t, nftm_hash);
        return 0;
}

bool nftm_equal(const struct nftm_table *a, const struct nftm_table *b)
{
        return a && b && !a->oom && !b->oom && a->digest == b->digest;
}

const struct nftm_set *nftm_find_set(const struct nftm_table *t, const char *name)
{
        for (size_t i = 0; i < t->n_sets; i++)
                if (!strcmp(nftm_str(t, t->sets[i].name), name))
                        return &t->sets[i];
        return NULL;
}

const struct nftm_chain *nftm_find_chain(const struct nftm_table *t, const char *name)
{
        for (size_t i = 0; i < t->n_chains; i++)
                if (!strcmp(nftm_str(t, t->chains[i].name), name))
                        return &t->chains[i];
        return NULL;
}

static void text_set(struct nr_buf *b, const struct nftm_table *t, const struct nftm_set *s)
{
        if (s->objects) {
                for (size_t i = 0; i < s->n_elems; i++)
                        buf_printf(b, "\n\t%s %s {\n\t}\n", nftm_str(t, s->type),
                                   nftm_str(t, s->elems[i]));
                return;
        }
        buf_printf(b, "\n\t%s %s {\n\t\ttype %s\n", s->map ? "map" : "set", nftm_str(t, s->name),
                   nftm_str(t, s->type));
        if (s->interval)
                buf_puts(b, "\t\tflags interval\n");
        buf_printf(b, "\t\tcomment \"%s\"\n", nftm_str(t, s->comment));
        /* nft rejects `elements = { }`: an empty set has no elements line at all */
        for (size_t i = 0; i < s->n_elems; i++) {
                buf_puts(b, i ? ",\n\t\t\t     " : "\t\telements = { ");
                buf_puts(b, nftm_str(t, s->elems[i]));
        }
        buf_puts(b, s->n_elems ? " }\n\t}\n" : "\t}\n");
}

static void text_note(struct nr_buf *b, const char *note)
{
        for (const char *p = note; *p;) {
                const char *e = strchrnul(p, '\n');
                buf_printf(b, "\t\t# %.*s\n", (int)(e - p), p);
                p = *e ? e + 1 : e;
        }
}

static void text_chain(struct nr_buf *b, const struct nftm_table *t, const struct nftm_chain *c)
{
        buf_printf(b, "\n\tchain %s {\n", nftm_str(t, c->name));
        if (*nftm_str(t, c->hook))
                buf_printf(b, "\t\t%s\n", nftm_str(t, c->hook));
        if (c->note)
                text_note(b, c->note);
        for (size_t i = 0; i < c->n_rules; i++) {
                const struct nftm_rule *r = &c->rules[i];
                if (r->note)
                        text_note(b, r->note);
                buf_printf(b, "\t\t%s", nftm_str(t, r->text));
                if (r->id)
                        buf_printf(b, " comment \"%s\"", nftm_str(t, r->id));
                buf_puts(b, "\n");
        }
        buf_puts(b, "\t}\n");
}

char *nftm_text(const struct nftm_table *t)
{
        struct nr_buf b = {0};
        if (t->oom)
                return NULL;
        buf_puts(&b, nftm_str(t, t->preamble));
        buf_printf(&b, "table %s %s {\n", t->family, nftm_str(t, t->name));
        if (*nftm_str(t, t->comment))
                buf_printf(&b, "\tcomment \"%s\"\n", nftm_str(t, t->comment));
        for (int pass = 0; pass < 2; pass++) /* objects first: maps refer to them */
                for (size_t i = 0; i < t->n_sets; i++)
                        if (t->sets[i].objects == !pass)
                                text_set(&b, t, &t->sets[i]);
        for (size_t i = 0; i < t->n_chains; i++)
                text_chain(&b, t, &t->chains[i]);
        buf_puts(&b, "}\n");
        return buf_finish(&b);
}

/* ---------------------------------------------------------------- dump and load */

#define DUMP_MAGIC "nestrouterd nft model 1"

/* Tabs separate fields and newlines records: both, and the backslash, are escaped. */
static void dump_str(struct nr_buf *b, const char *s)
{
        buf_puts(b, "\t");
        for (const char *p = s; *p; p++) {
                const char *e = *p == '\t' ? "\\t" : *p == '\n' ? "\\n" : *p == '\\' ? "\\\\" : NULL;
                if (e) {
                        buf_puts(b, e);
                } else {
                        const char *q = p + strcspn(p, "\t\n\\");
                        buf_printf(b, "%.*s", (int)(q - p), p);
                        p = q - 1;
                }
        }
}

char *nftm_dump(const struct nftm_table *t)
{
        struct nr_buf b = {0};
        if (t->oom)
                return NULL;
        buf_printf(&b, DUMP_MAGIC "\ntable\t%s", t->family);
        dump_str(&b, nftm_str(t, t->name));
        dump_str(&b, nftm_str(t, t->comment));
        for (size_t i = 0; i < t->n_sets; i++) {
                const struct nftm_set *s = &t->sets[i];
                /* the kind: 0 a set, 1 a map, 2 objects */
                buf_printf(&b, "\nset\t%d\t%d", s->objects ? 2 : s->map, s->interval);
                dump_str(&b, nftm_str(t, s->name));
                dump_str(&b, nftm_str(t, s->type));
                dump_str(&b, nftm_str(t, s->comment));
                for (size_t j = 0; j < s->n_elems; j++) {
                        buf_puts(&b, "\ne");
                        dump_str(&b, nftm_str(t, s->elems[j]));
                }
        }
        for (size_t i = 0; i < t->n_chains; i++) {
                const struct nftm_chain *c = &t->chains[i];
                buf_puts(&b, "\nchain");
                dump_str(&b, nftm_str(t, c->name));
                dump_str(&b, nftm_str(t, c->hook));
                for (size_t j = 0; j < c->n_rules; j++) {
                        buf_puts(&b, "\nr");
                        dump_str(&b, nftm_str(t, c->rules[j].id));
                        dump_str(&b, nftm_str(t, c->rules[j].text));
                }
        }
        buf_printf(&b, "\ndigest\t%016llx\n", (unsigned long long)file_digest(t));
        return buf_finish(&b);
}

/* The record at *r split into at most n fields (unescaped in place); the count, or -1 at the
 * end of the text. */
static int load_fields(char **r, char **f, int n)
{
        if (!**r)
                return -1;
        char *line = *r, *e = strchrnul(line, '\n');
        *r = *e ? e + 1 : e;
        *e = '\0';
        int k = 0;
        for (char *p = line; k < n;) {
                f[k++] = p;
                char *w = p;
                for (; *p && *p != '\t'; p++) {
                        if (*p == '\\' && (p[1] == 't' || p[1] == 'n' || p[1] == '\\')) {
                                p++;
                                *w++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : '\\';
                        } else {
                                *w++ = *p;
                        }
                }
                bool more = *p == '\t';
                *w = '\0';
                if (!more)
                        break;
                p++;
        }
        return k;
}

/* One record into t: 1 for the digest record (*digest set), 0 for the others, -EINVAL. */
static int load_record(struct nftm_table *t, char **f, int k, unsigned long long *digest)
{
        if (!strcmp(f[0], "set") && k == 6 && !strcmp(f[1], "2")) {
                nftm_objects(t, f[3], f[4]);
        } else if (!strcmp(f[0], "set") && k == 6) {
                nftm_set(t, !strcmp(f[1], "1"), f[3], f[4], !strcmp(f[2], "1"), f[5]);
        } else if (!strcmp(f[0], "e") && k == 2 && t->n_sets) {
                nftm_elem(t, "%s", f[1]);
        } else if (!strcmp(f[0], "chain") && k == 3) {
                nftm_chain(t, f[1], f[2]);
        } else if (!strcmp(f[0], "r") && k == 3 && t->n_chains) {
                nftm_rule(t, f[1], NULL, "%s", f[2]);
        } else if (!strcmp(f[0], "digest") && k == 2 && sscanf(f[1], "%llx", digest) == 1) {
                return 1;
        } else {
                return -EINVAL;
        }
        return 0;
}

int nftm_load(const char *dump, struct nftm_table **out)
{
        char *copy = strdup(dump), *r = copy, *f[6];
        struct nftm_table *t = NULL;
        unsigned long long digest = 0;
        int k, ret = -EINVAL;
        *out = NULL;
        if (!copy)
                return -ENOMEM;
        if (load_fields(&r, f, 1) == 1 && !strcmp(f[0], DUMP_MAGIC) &&
            load_fields(&r, f, 4) == 4 && !strcmp(f[0], "table") &&
            !(t = nftm_new(f[1], f[2], f[3])))
                ret = -ENOMEM;
        while (t && (k = load_fields(&r, f, 6)) > 0 && (ret = load_record(t, f, k, &digest)) == 0)
                ;
        if (t && ret == 1)
                ret = nftm_finish(t) < 0 ? -ENOMEM : file_digest(t) == digest ? 0 : -EINVAL;
        else if (ret >= 0)
                ret = -EINVAL;
        free(copy);
        if (ret < 0) {
                nftm_unref(t);
                return ret;
        }
        *out = t;
        return 0;
}
