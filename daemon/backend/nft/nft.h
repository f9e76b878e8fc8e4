/* The nftables backend (libnftables + libmnl): two tables, `inet nestrouter` (the router) and
 * `bridge nestrouter` (the guest bridge's address bindings), each created whole in one
 * transaction on first apply and on drift repair, changed element by element and rule by rule on
 * reload; drift noticed through the nftables netlink group.
 *
 * Every nftables transaction ends with a NEWGEN message that names the committing process. While
 * all of them since the table was last listed (or applied) came from this process, the table is
 * as we left it and a pass does not list it; a commit by anyone else, a lost message (ENOBUFS)
 * or the periodic resync (nftb_distrust) makes the next pass list it and compare with the
 * baseline, the listing taken right after our last apply. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model/model.h"
#include "core/model/nftdiff.h"
#include "backend/backend.h"
#include "core/model/plan.h"

struct nft_ctx;
struct mnl_socket;

enum nftb_table {
        NFTB_INET,
        NFTB_BRIDGE,
        NFTB_COUNT,
};

struct nftb_tab {
        struct nftm_table *applied; /* the table of the last successful apply (a reference);
                                    * after a restart a stub known by its digest (the state
                                    * dir's copy), NULL when unknown */
        uint64_t baseline;         /* digest of the stateless listing (with handles) right after
                                    * that apply: drift = any difference */
        bool have_baseline;
        struct nftd_handles handles; /* the rule handles of that listing, for deltas */
        char *unsaved[2];          /* the applied table's dump and the baseline listing, while
                                    * the state dir has not taken them */
        bool matches_baseline;     /* the last nftb_observe found the table exactly as applied */
        bool baseline_stale;       /* applied since the baseline was listed (nftb_settle due) */
};

struct nftb {
        struct nft_ctx *ctx;
        struct mnl_socket *mon;
        struct mnl_socket *req;    /* asks for the nftables generation (NFT_MSG_GETGEN) */
        uint32_t seq;
        uint32_t gen_ours;         /* the generation our last commit made ... */
        bool gen_ok;               /* ... known to follow the one before it directly */
        struct nftb_tab tab[NFTB_COUNT];
        bool trusted;              /* no foreign commit since the tables were listed or applied */
        bool flowtable;            /* the kernel supports flowtables (fast path) */
        bool cache_held;           /* libnftables still holds the cache of our last commit */
        char *state_dir;           /* applied + baseline persist here across restarts */
        int save_errno;            /* the last save of that state failed (e.g. ENOSPC): retried
                                    * each pass, shown in status; 0 once saved */
        char *spare_dir;           /* where the state goes meanwhile (the run dir), or NULL */
        bool spare_saved;          /* ... and it did */
        unsigned long events, foreign_commits;
        unsigned long listings;    /* of the table for drift and handles (not status counters) */
        unsigned long full_applies, delta_applies;
        unsigned long direct_applies; /* deltas sent as our own netlink batch (nft_wire.h) */
        unsigned long own_overruns; /* ENOBUFS that lost only our own commits' events */
};

/* state_dir: where the applied table (nftm_dump) and its baseline listing are kept, so that a
 * restarted daemon recognizes its own unchanged table and leaves it (and its counters) alone,
 * and applies a file changed meanwhile as a delta. spare_dir (may be NULL): where they go while
 * the state dir cannot take them (full, failing). */
int nftb_open(struct nftb *b, const char *state_dir, const char *spare_dir);
void nftb_close(struct nftb *b);

/* Per table: present = the table exists; nft (nft_bridge) = the applied table when the live
 * table still equals what we applied, NULL when it drifted (so the planner asks for an update).
 * Lists the tables only when they are not trusted. */
int nftb_observe(struct nftb *b, struct nr_observed *have);

/* The next observation lists the table whatever the events said (the periodic resync). */
void nftb_distrust(struct nftb *b);

/* NR_OP_NFT_CREATE / NR_OP_NFT_UPDATE (and the NFTBR pair for the bridge table). An update
 * after drift recreates the whole table; an update because the desired table changed applies
 * the delta. The backend keeps a reference to want as the table applied. */
int nftb_apply(struct nftb *b, const struct nr_op *op, struct nftm_table *want, char *err,
               size_t errlen);

/* Whether op (an NFT or NFTBR op of this pass) follows a change of the desired table rather than
 * drift: the table was found exactly as applied (a new lease or port, a reload). Ask before
 * nftb_apply. */
bool nftb_op_is_change(const struct nftb *b, const struct nr_op *op);

/* Lists the table just applied as the baseline later passes compare against. Called after the
 * pass has been reported: it is drift bookkeeping, not part of applying (listing a table with
 * thousands of elements takes tens of milliseconds). When a foreign commit came in since the
 * apply (it reads the queued events first), no baseline is taken (it might contain that commit)
 * and trusted is false: the caller schedules a pass, which lists, finds no match and replaces
 * the table. Returns 1 when it did list. */
int nftb_settle(struct nftb *b);
/* A baseline listing is due. */
bool nftb_settle_due(const struct nftb *b);

/* Per-rule counters of the live tables (the bridge table's chains are guest_*). */
int nftb_counters(struct nftb *b, struct nftd_counters *c);


int nftb_monitor_fd(struct nftb *b);
/* Reads the queued nftables events (bounded); a NEWGEN of another process, or a lost message,
 * ends the trust — unless the generation is still the one our last commit made: then only our
 * own events were lost (a table of tens of thousands of elements overflows any buffer).
 * Returns how many were read, or -ENOBUFS. */
int nftb_monitor_drain(struct nftb *b);

/* observe/apply for the engine */
extern const struct nr_backend_ops nftb_ops;
