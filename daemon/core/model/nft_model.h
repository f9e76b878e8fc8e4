/* An nftables table as data: sets and maps with their elements, chains with their rules and the
 * rules' comment ids. The renderers build it, the planner compares two by digest, nftdiff works
 * out the difference between two, and only the nft backend turns one into text (nftm_text), for
 * the one transaction that creates the table. Pure.
 *
 * A table is built once and then never changes: its strings live in one pool (offsets, so the
 * pool can grow while building), and every part carries a digest of its content so that equal
 * parts are found without comparing text. Shared by reference (the desired state and the nft
 * backend's "last applied" are often the same table). */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nftm_set {
        uint32_t name, type, comment; /* pool offsets */
        bool map;                  /* elements are `KEY : VALUE` */
        bool interval;
        bool objects;              /* not a set: named stateful objects of `type` (counter),
                                    * one per element, the element being its name */
        uint32_t *elems;           /* element texts as nft writes them, in order */
        uint64_t *ehash;           /* the digest of each element's text */
        size_t n_elems, cap;       /* cap: room in both arrays */
        uint64_t digest;           /* of everything above */
};

struct nftm_rule {
        uint32_t id;               /* the comment id ("" when none) */
        uint32_t text;             /* the rule without its comment */
        const char *note;          /* a static '#' comment to print above it, or NULL: never
                                    * reaches the kernel, so not part of any digest */
};

struct nftm_chain {
        uint32_t name;
        uint32_t hook;             /* `type ... hook ... priority ...; policy ...;`, "" for a
                                    * regular chain */
        const char *note;          /* a static '#' comment below the hook line, or NULL */
        struct nftm_rule *rules;
        size_t n_rules, cap;
        uint64_t digest;
};

struct nftm_table {
        unsigned refs;
        bool oom;                  /* an allocation failed while building: unusable */
        char family[8];            /* inet or bridge */
        uint32_t name, comment;
        uint32_t preamble;         /* '#' lines printed above the table (not in the digest) */
        struct nftm_set *sets;
        size_t n_sets;
        struct nftm_chain *chains;
        size_t n_chains;
        char *pool;
        size_t pool_len, pool_cap;
        uint64_t digest;           /* valid once nftm_finish ran */
};

/* A new empty table with one reference; NULL without memory. */
struct nftm_table *nftm_new(const char *family, const char *name, const char *comment);
struct nftm_table *nftm_ref(struct nftm_table *t);
void nftm_unref(struct nftm_table *t);

static inline const char *nftm_str(const struct nftm_table *t, uint32_t off)
{
        return t->pool + off;
}

/* Room for this many more bytes of strings at once: a table of thousands of elements then
 * needs no growing (each step copied the strings and touched new memory). */
void nftm_reserve(struct nftm_table *t, size_t bytes);
/* The table's comment (replaces the one nftm_new set). */
void nftm_comment(struct nftm_table *t, const char *comment);
/* Builders: they append to the last set or chain. Failures are remembered (t->oom) and reported
 * by nftm_finish, so building code need not check each call. */
void nftm_preamble(struct nftm_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nftm_set(struct nftm_table *t, bool map, const char *name, const char *type, bool interval,
              const char *comment);
/* Named objects of one type (`counter`): each element added after it is one object's name.
 * nftm_text writes them before the sets, as `counter NAME { }`, so that maps can refer to them;
 * `name` only tells this group from the sets. */
void nftm_objects(struct nftm_table *t, const char *name, const char *type);
void nftm_elem(struct nftm_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nftm_elemv(struct nftm_table *t, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
void nftm_chain(struct nftm_table *t, const char *name, const char *hook);
/* Room for n more elements in the last set, or rules in the last chain: thousands then need no
 * growing (a hint, like nftm_reserve). */
void nftm_set_reserve(struct nftm_table *t, size_t n);
void nftm_chain_reserve(struct nftm_table *t, size_t n);
/* A static comment printed at the top of the last chain (never part of a digest). */
void nftm_chain_note(struct nftm_table *t, const char *note);
/* A rule with comment id `id` ("" for none) and an optional note above it. */
void nftm_rule(struct nftm_table *t, const char *id, const char *note, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void nftm_rulev(struct nftm_table *t, const char *id, const char *note, const char *fmt,
                va_list ap) __attribute__((format(printf, 4, 0)));
/* Seals the table: computes the digests. 0, or -ENOMEM when a builder failed. */
int nftm_finish(struct nftm_table *t);

/* Same content (digests; comments and notes aside). Either may be NULL: then false. */
bool nftm_equal(const struct nftm_table *a, const struct nftm_table *b);

/* The whole `table FAMILY NAME { ... }` as nft -f takes it, with the preamble lines above it.
 * NULL without memory. */
char *nftm_text(const struct nftm_table *t);

/* The table as data in a line format (what the nft backend keeps in the state dir, so that a
 * restarted daemon knows the table it applied before, parts and all): every part that counts
 * (no preamble, no notes), and the digest last. NULL without memory. */
char *nftm_dump(const struct nftm_table *t);
/* A dump read back: 0, -EINVAL when it is not one or its digest does not match (a file from
 * another version, a truncated one), -ENOMEM. */
int nftm_load(const char *dump, struct nftm_table **out);

/* Lookups by name: NULL when absent. */
const struct nftm_set *nftm_find_set(const struct nftm_table *t, const char *name);
const struct nftm_chain *nftm_find_chain(const struct nftm_table *t, const char *name);

/* The digest of a string (XXH64), the one every digest in memory builds on. The state file's
 * digest (nftm_dump, nftm_load) is FNV-1a 64 over the same parts, as it always was. */
uint64_t nftm_hash(const void *s, size_t n, uint64_t seed);
#define NFTM_HASH_SEED 0xcbf29ce484222325ull
