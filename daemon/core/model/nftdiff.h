/* Incremental nftables updates. A reload must change only what differs in a table — set and map
 * elements, single rules — in one transaction, so that counters and the rest of the table
 * survive. Pure: two tables as data (nft_model.h) in, nft script text out.
 *
 * The only text read here is the kernel's: a listing (`nft list table`, with handles and
 * counters) gives each rule's handle and counter, found by its chain and its trailing
 * `comment "ID"`, and each named counter's values; one reader serves both. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model/nft_model.h"

/* What one rule line of a listing (`nft list table`, with NFT_CTX_OUTPUT_HANDLE for handles)
 * says: its chain, its comment id, and its handle and counter where it shows them. */
struct nftd_seen {
        const char *chain;
        char id[64];
        bool has_handle, has_counter;
        uint64_t handle, packets, bytes;
};

/* The one reader of listings: fn for every rule line with a comment id inside a chain block.
 * -EINVAL on a malformed listing, or what fn returned when negative. */
int nftd_walk_listing(const char *listing, int (*fn)(void *ud, const struct nftd_seen *r),
                      void *ud);

/* Rule handles of a listing, by chain and comment id (a digest of the pair, sorted). */
struct nftd_handle {
        uint64_t key;
        uint64_t handle;
};

struct nftd_handles {
        struct nftd_handle *v;
        size_t n;
};

/* Counters per rule id from a listing with counters: `counter packets P bytes B ... comment
 * "ID"`; a named counter object (`counter NAME { packets P bytes B }`) has chain "" and its
 * name for id. */
struct nftd_counter {
        char chain[64];
        char id[64];
        uint64_t packets, bytes;
};

struct nftd_counters {
        struct nftd_counter *v;
        size_t n;
};

/* Both read a listing (`nft list table`, with NFT_CTX_OUTPUT_HANDLE for handles): every rule
 * line inside a chain block with a comment id. -EINVAL on a malformed listing, -ENOMEM. */
int nftd_parse_handles(const char *listing, struct nftd_handles *h);
void nftd_handles_free(struct nftd_handles *h);
/* The handle of rule `id` in `chain`: false when the listing had none. */
bool nftd_handle_find(const struct nftd_handles *h, const char *chain, const char *id,
                      uint64_t *handle);

int nftd_parse_counters(const char *listing, struct nftd_counters *c);
void nftd_counters_free(struct nftd_counters *c);

/* One step of a delta, in the order the transaction takes them. Its strings point into the two
 * tables nftd_delta_ops read, so the ops live no longer than those. */
enum nftd_op_kind {
        NFTD_ELEM_DELETE,   /* element `text` (a map's: its key alone) out of set `where` */
        NFTD_ELEM_ADD,      /* element `text` into set `where` */
        NFTD_RULE_DELETE,   /* the rule `handle` of chain `where` */
        NFTD_RULE_APPEND,   /* rule `text` (comment `id`) at the end of chain `where` */
        NFTD_RULE_AFTER,    /* ... right after the rule `handle` */
        NFTD_RULE_BEFORE,   /* ... right before the rule `handle` */
        NFTD_RULE_REPLACE,  /* the rule `handle` becomes `text` (comment `id`) */
        NFTD_OBJ_ADD,       /* the object named `text`, of type `where` (counter) */
        NFTD_OBJ_DELETE,    /* ... gone */
};

struct nftd_op {
        enum nftd_op_kind kind;
        const char *where;         /* the set or chain; an object's type */
        const char *text;          /* an element's first text_len bytes, or a rule */
        size_t text_len;
        const char *id;            /* a rule's comment id, NULL for none */
        uint64_t handle;
};

struct nftd_ops {
        const char *family, *table;
        struct nftd_op *v;
        size_t n;
};

void nftd_ops_free(struct nftd_ops *ops);

/* The ops that turn `old` into `new` given the live rule handles; *full set (and no ops) when
 * only recreating the whole table will do. The rules are those of nftd_delta below, which
 * writes these ops as its script. Returns 0 or -ENOMEM. */
int nftd_delta_ops(const struct nftm_table *old, const struct nftm_table *new,
                   const struct nftd_handles *h, struct nftd_ops *ops, bool *full);
/* The ops in nft -f syntax: one line per op, consecutive elements of one set and verb on one
 * line. NULL without memory; "" for no ops. */
char *nftd_ops_text(const struct nftd_ops *ops);

/* The script (nft -f syntax, one transaction) that turns `old` into `new` given the live rule
 * handles. *full is set, and *script NULL, when only recreating the whole table will do (a set
 * or chain added, removed or redefined, rules reordered, a handle missing). An empty script
 * means nothing differs. Returns 0 or -ENOMEM.
 * Rules are matched by id. Order: new named objects; per set, `delete element` (maps: by key)
 * then `add element`; then per chain (in `new` order) `delete rule ... handle`, new rules via
 * `add ... position` (after an old rule) or `insert ... position` (before one) — a run at the
 * end of a chain whose anchor has no known handle is appended with a plain `add` — then
 * `replace rule ... handle`; last the named objects no longer wanted.
 * `h` may be NULL when no rule needs a handle. */
int nftd_delta(const struct nftm_table *old, const struct nftm_table *new,
               const struct nftd_handles *h, char **script, bool *full);
