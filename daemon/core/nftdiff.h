/* Incremental nftables updates. A reload must change only what differs in `table inet
 * nestrouter` — set and map elements, single rules — in one transaction, so that counters and
 * the rest of the table survive. Pure: texts in, nft script text out.
 *
 * Input texts are what render_nft() (or render_nft_bridge()) produces: one `table inet NAME { ... }`
 * (or `table bridge NAME { ... }`) with set/map blocks
 * (`set X { type ...; flags ...; comment ...; elements = { a, b } }`, elements possibly over
 * several lines) and chain blocks whose first line is `type ... hook ... priority ...; policy
 * ...;`, '#' comment lines, and one rule per line, each rule ending in `comment "ID"` with an ID
 * unique in the table. Live listings (nft list table with handles, NFT_CTX_OUTPUT_HANDLE) end
 * rule lines in `# handle N`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nftd_set {
        char name[64];
        bool is_map;
        char *header;              /* every line of the block but the elements, joined */
        char **elems;              /* trimmed element texts, in order */
        size_t n_elems;
};

struct nftd_rule {
        char id[64];               /* the comment; empty if the rule has none */
        char *text;                /* the rule as written, without indentation */
};

struct nftd_chain {
        char name[64];
        char *header;              /* the `type ... hook ...; policy ...;` line */
        struct nftd_rule *rules;
        size_t n_rules;
};

struct nftd_table {
        char family[8];            /* inet or bridge */
        char name[64];
        char *top;                 /* table-level lines (comment, flags), joined */
        struct nftd_set *sets;
        size_t n_sets;
        struct nftd_chain *chains;
        size_t n_chains;
};

struct nftd_handle {
        char chain[64];
        char id[64];
        uint64_t handle;
};

struct nftd_handles {
        struct nftd_handle *v;
        size_t n;
};

/* Counters per rule id from a listing with counters: `counter packets P bytes B ... comment
 * "ID"`. */
struct nftd_counter {
        char chain[64];
        char id[64];
        uint64_t packets, bytes;
};

struct nftd_counters {
        struct nftd_counter *v;
        size_t n;
};

int nftd_parse(const char *text, struct nftd_table *t);
void nftd_table_free(struct nftd_table *t);

int nftd_parse_handles(const char *listing, struct nftd_handles *h);
void nftd_handles_free(struct nftd_handles *h);

int nftd_parse_counters(const char *listing, struct nftd_counters *c);
void nftd_counters_free(struct nftd_counters *c);

/* The script (nft -f syntax, one transaction) that turns `old` into `new` given the live rule
 * handles. *full is set, and *script NULL, when only recreating the whole table will do (a set
 * or chain added, removed or redefined, rules reordered, a handle missing). An empty script
 * means nothing differs. Returns 0 or -ENOMEM.
 * Rules are matched by id (live listings print rules normalized), and texts come from `new`.
 * Order: per set, `delete element` (maps: by key) then `add element`; then per chain (in `new`
 * order) `delete rule ... handle`, new rules via `add ... position` (after an old rule) or
 * `insert ... position` (before one), then `replace rule ... handle`. `h` may be NULL when no
 * rule needs a handle. nftd_parse also reads a live listing (`# handle N` tails dropped). */
int nftd_delta(const struct nftd_table *old, const struct nftd_table *new,
               const struct nftd_handles *h, char **script, bool *full);
