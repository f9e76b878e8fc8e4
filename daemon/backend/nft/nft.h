/* The nftables backend (libnftables + libmnl): one table `inet nestrouter`, created whole in one
 * transaction on first apply and on drift repair, changed element by element and rule by rule on
 * reload; drift noticed through the nftables netlink group. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/model.h"
#include "core/nftdiff.h"
#include "core/plan.h"

struct nft_ctx;
struct mnl_socket;

struct nftb {
        struct nft_ctx *ctx;
        struct mnl_socket *mon;
        char *applied;             /* the desired text of the last successful apply */
        char *baseline;            /* stateless listing right after it: drift = any difference */
        bool matches_baseline;     /* the last nftb_observe found the table exactly as applied */
        char *pending;             /* applied, its baseline not listed yet (nftb_settle) */
        bool flowtable;            /* the kernel supports flowtables (fast path) */
        char *state_dir;           /* applied + baseline persist here across restarts */
        unsigned long events;
        unsigned long full_applies, delta_applies;
};

/* state_dir: where the applied text and its baseline are kept, so that a restarted daemon
 * recognizes its own unchanged table and leaves it (and its counters) alone. */
int nftb_open(struct nftb *b, const char *state_dir);
void nftb_close(struct nftb *b);

/* present = the table exists; nft = the applied text when the live table still equals what we
 * applied, NULL when it drifted (so the planner asks for an update). */
int nftb_observe(struct nftb *b, struct nr_observed *have);

/* NR_OP_NFT_CREATE / NR_OP_NFT_UPDATE. An update after drift recreates the whole table; an
 * update because the desired text changed applies the delta. */
int nftb_apply(struct nftb *b, const struct nr_op *op, const char *want, char *err,
               size_t errlen);

/* Lists the table just applied as the baseline later passes compare against. Called at the end
 * of the pass, after READY=1: it is drift bookkeeping, not part of applying (listing a table
 * with thousands of elements takes tens of milliseconds). */
int nftb_settle(struct nftb *b);

/* Per-rule counters of the live table. */
int nftb_counters(struct nftb *b, struct nftd_counters *c);

/* `--teardown`: delete the table if it exists. */
int nftb_delete_table(struct nftb *b);

int nftb_monitor_fd(struct nftb *b);
int nftb_monitor_drain(struct nftb *b);
