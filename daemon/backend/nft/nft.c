/* nftables through libnftables. The table has no `owner` flag on purpose: it must outlive the
 * daemon so that a restart never cuts guest traffic. */
#include "backend/nft/nft.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <malloc.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "backend/nft/nft_wire.h"
#include "core/render/render.h"
#include "core/lib/strbuf.h"
#include "lib/fileio.h"
#include "lib/log.h"

/* Runs one command buffer (one transaction). On failure the error buffer goes to err. */
static int run(struct nftb *b, unsigned flags, const char *cmd, char **out, char *err,
               size_t errlen)
{
        nft_ctx_output_set_flags(b->ctx, flags);
        int r = nft_run_cmd_from_buffer(b->ctx, cmd);
        const char *o = nft_ctx_get_output_buffer(b->ctx);
        const char *e = nft_ctx_get_error_buffer(b->ctx);
        if (r != 0) {
                if (err)
                        snprintf(err, errlen, "%s", e && *e ? e : "nft command failed");
                return -EINVAL;
        }
        if (out && !(*out = strdup(o ? o : "")))
                return -ENOMEM;
        return 0;
}

static bool probe_flowtable(struct nftb *b)
{
        nft_ctx_set_dry_run(b->ctx, true);
        int r = run(b, 0, "table inet nr_probe { flowtable f { hook ingress priority 0; "
                          "devices = { lo }; } }", NULL, NULL, 0);
        nft_ctx_set_dry_run(b->ctx, false);
        return r == 0;
}

static const char *const families[NFTB_COUNT] = {"inet", "bridge"};
/* the inet table's files keep their names from before the bridge table */
static const char *const state_names[NFTB_COUNT] = {"nft", "nft-bridge"};
static const char *const state_whats[2] = {"applied", "baseline"};

static void state_path(const char *dir, enum nftb_table t, int what, char *buf, size_t size)
{
        snprintf(buf, size, "%s/%s.%s", dir, state_names[t], state_whats[what]);
}

static uint64_t listing_digest(const char *listing)
{
        return nftm_hash(listing, strlen(listing), NFTM_HASH_SEED);
}

/* What the state files say of one table: the table applied (nftm_dump), the baseline listing's
 * digest and rule handles. A file in another format (an older version's text) is not
 * recognized: that table is applied whole once. */
static void state_take(struct nftb *b, enum nftb_table t, char *applied, char *baseline)
{
        struct nftb_tab *tab = &b->tab[t];
        if (applied && baseline && nftm_load(applied, &tab->applied) >= 0) {
                tab->baseline = listing_digest(baseline);
                tab->have_baseline = nftd_parse_handles(baseline, &tab->handles) >= 0;
        }
}

/* A pair in the spare dir (the run dir) exists only while the state dir refused it: it is the
 * newer one, and a daemon restarted meanwhile (an upgrade) recognizes its table from it. */
static void state_load(struct nftb *b)
{
        char p[2][4096];
        for (int t = 0; t < NFTB_COUNT; t++) {
                const char *dir = b->state_dir;
                bool spare = false;
                if (b->spare_dir) {
                        state_path(b->spare_dir, (enum nftb_table)t, 0, p[0], sizeof(p[0]));
                        state_path(b->spare_dir, (enum nftb_table)t, 1, p[1], sizeof(p[1]));
                        if (access(p[0], F_OK) == 0 && access(p[1], F_OK) == 0) {
                                dir = b->spare_dir;
                                spare = true;
                                b->save_errno = EAGAIN; /* the next pass writes it there */
                                b->spare_saved = true;
                                log_notice("nft: the state dir %s could not be written last time: "
                                           "using the copy in %s",
                                           b->state_dir, dir);
                        }
                }
                char *text[2];
                for (int w = 0; w < 2; w++) {
                        state_path(dir, (enum nftb_table)t, w, p[w], sizeof(p[w]));
                        text[w] = file_read(p[w], NULL);
                }
                state_take(b, (enum nftb_table)t, text[0], text[1]);
                for (int w = 0; w < 2; w++) {
                        if (spare && b->tab[t].applied)
                                b->tab[t].unsaved[w] = text[w]; /* for the state dir */
                        else
                                free(text[w]);
                }
        }
}

static int write_pair(const struct nftb *b, const char *dir, enum nftb_table t)
{
        char p[4096];
        int r = 0;
        for (int w = 0; w < 2 && r >= 0; w++) {
                state_path(dir, t, w, p, sizeof(p));
                r = file_write_atomic(p, b->tab[t].unsaved[w], 0600);
        }
        return r;
}

static void spare_remove(const struct nftb *b, enum nftb_table t)
{
        char p[4096];
        if (!b->spare_dir)
                return;
        for (int w = 0; w < 2; w++) {
                state_path(b->spare_dir, t, w, p, sizeof(p));
                unlink(p);
        }
}

static void unsaved_free(struct nftb_tab *tab)
{
        for (int w = 0; w < 2; w++) {
                free(tab->unsaved[w]);
                tab->unsaved[w] = NULL;
        }
}

/* Writes the table's unsaved pair; kept in memory (and in the spare dir) until that works. */
static void state_save(struct nftb *b, enum nftb_table t)
{
        int r = write_pair(b, b->state_dir, t);
        if (r < 0) {
                /* the state dir keeps an older pair; the run dir (a tmpfs, not the filesystem
                 * that is full) holds this one until the state dir takes it, so a restart of
                 * the daemon meanwhile keeps the table and its counters */
                b->spare_saved = b->spare_dir && write_pair(b, b->spare_dir, t) >= 0;
                if (-r != b->save_errno)
                        log_warn_errno(r,
                                       "nft: cannot save state in %s (retried each pass; %s): %m",
                                       b->state_dir,
                                       b->spare_saved ? "a copy is kept in the run dir meanwhile"
                                                      : "a restart before it succeeds rewrites "
                                                        "the table");
                b->save_errno = -r;
                return;
        }
        unsaved_free(&b->tab[t]);
        spare_remove(b, t);
        if (b->save_errno)
                log_notice("nft: state saved in %s again", b->state_dir);
        b->save_errno = 0;
        b->spare_saved = false;
}

/* libnftables keeps its cache of the kernel's objects (an expression tree per set element)
 * after every successful command, and its output stream keeps the largest listing's buffer:
 * neither is needed between passes. A command that fails releases the cache. */
static void forget(struct nftb *b)
{
        b->cache_held = false;
        nft_ctx_output_set_flags(b->ctx, 0);
        nft_run_cmd_from_buffer(b->ctx, "nestrouterd-forget-the-cache"); /* a syntax error */
        nft_ctx_get_error_buffer(b->ctx); /* rewinds it: the next error is alone in it */
        nft_ctx_unbuffer_output(b->ctx);
        nft_ctx_buffer_output(b->ctx);
}

int nftb_open(struct nftb *b, const char *state_dir, const char *spare_dir)
{
        memset(b, 0, sizeof(*b));
        b->state_dir = strdup(state_dir);
        b->spare_dir = spare_dir ? strdup(spare_dir) : NULL;
        if (!b->state_dir || (spare_dir && !b->spare_dir))
                return -ENOMEM;
        state_load(b);
        b->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!b->ctx || nft_ctx_buffer_output(b->ctx) || nft_ctx_buffer_error(b->ctx))
                return -ENOMEM;
        b->flowtable = probe_flowtable(b);
        if (!b->flowtable)
                log_notice("nft: this kernel has no flowtable support; forwarding stays on the "
                           "normal path (no fast path)");
        b->mon = mnl_socket_open(NETLINK_NETFILTER);
        if (!b->mon)
                return -errno;
        if (mnl_socket_bind(b->mon, 1u << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0)
                return -errno;
        int fd = mnl_socket_get_fd(b->mon);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        int sz = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
        b->req = mnl_socket_open(NETLINK_NETFILTER);
        if (!b->req || mnl_socket_bind(b->req, 0, MNL_SOCKET_AUTOPID) < 0)
                return -errno;
        return 0;
}

void nftb_close(struct nftb *b)
{
        if (b->ctx)
                nft_ctx_free(b->ctx);
        if (b->mon)
                mnl_socket_close(b->mon);
        if (b->req)
                mnl_socket_close(b->req);
        for (int t = 0; t < NFTB_COUNT; t++) {
                nftm_unref(b->tab[t].applied);
                nftd_handles_free(&b->tab[t].handles);
                unsaved_free(&b->tab[t]);
        }
        free(b->state_dir);
        free(b->spare_dir);
        memset(b, 0, sizeof(*b));
}

/* Listings compared to find drift: without counters, with protocols as numbers (naming them
 * costs a getprotobynumber() per set element, half the listing time of a 4,096-forward table),
 * and with handles, which the baseline keeps for the next delta (so adding or removing a rule
 * needs no listing of its own). Only ever compared with each other, by digest. */
#define DRIFT_FLAGS (NFT_CTX_OUTPUT_STATELESS | NFT_CTX_OUTPUT_NUMERIC_PROTO | NFT_CTX_OUTPUT_HANDLE)

static int list_table(struct nftb *b, enum nftb_table t, unsigned flags, char **out)
{
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "list table %s " NR_NFT_TABLE, families[t]);
        return run(b, flags, cmd, out, NULL, 0);
}

/* Lists one table: whether it exists, and whether it is exactly as we left it. */
static void observe_table(struct nftb *b, enum nftb_table t, bool *present)
{
        struct nftb_tab *tab = &b->tab[t];
        char *now = NULL;
        b->listings++;
        int r = list_table(b, t, DRIFT_FLAGS, &now);
        if (r < 0) {
                *present = false; /* ENOENT and friends: there is no table */
                tab->matches_baseline = false;
                return;
        }
        *present = true;
        /* remembered for nftb_apply in this same pass: no second listing to tell drift from a
         * changed configuration */
        tab->matches_baseline = tab->applied && tab->have_baseline && !tab->baseline_stale &&
                                listing_digest(now) == tab->baseline;
        free(now);
        forget(b);
}

int nftb_observe(struct nftb *b, struct nr_observed *have)
{
        for (int t = 0; b->save_errno && t < NFTB_COUNT; t++) {
                struct nftb_tab *tab = &b->tab[t];
                if (tab->unsaved[0] && !tab->baseline_stale)
                        state_save(b, (enum nftb_table)t);
        }
        bool *present[NFTB_COUNT] = {&have->nft_present, &have->nft_bridge_present};
        struct nftm_table **table[NFTB_COUNT] = {&have->nft, &have->nft_bridge};
        /* No drain here (nestrouterctl status observes too, and must not eat the events that
         * schedule a pass): a foreign commit not read yet wakes on_nft, whose pass lists. */
        bool trusted = b->trusted;
        for (int t = 0; t < NFTB_COUNT; t++)
                trusted &= b->tab[t].applied != NULL;
        bool all = true;
        for (int t = 0; t < NFTB_COUNT; t++) {
                struct nftb_tab *tab = &b->tab[t];
                if (trusted) {
                        /* only our own commits since the tables were listed or applied: they
                         * are as we left them (and exist: deleting one is a commit too) */
                        *present[t] = true;
                        tab->matches_baseline = true;
                } else {
                        observe_table(b, (enum nftb_table)t, present[t]);
                }
                all &= tab->matches_baseline;
                if (tab->matches_baseline)
                        *table[t] = nftm_ref(tab->applied);
        }
        if (all)
                b->trusted = true; /* seen as we left them; later foreign commits end this */
        return 0;
}

void nftb_distrust(struct nftb *b)
{
        b->trusted = false;
}

/* After a successful apply: the table holds want; its baseline is listed by nftb_settle() once
 * the pass has been reported. */
static void take_applied(struct nftb *b, enum nftb_table t, struct nftm_table *want)
{
        struct nftb_tab *tab = &b->tab[t];
        nftm_unref(tab->applied);
        tab->applied = nftm_ref(want);
        tab->baseline_stale = true;
        tab->have_baseline = false;
        b->trusted = true; /* foreign commits still queued end it when they are read */
}

bool nftb_settle_due(const struct nftb *b)
{
        for (int t = 0; t < NFTB_COUNT; t++)
                if (b->tab[t].baseline_stale)
                        return true;
        return false;
}

/* The baseline of one table just applied: its listing's digest and handles, and the pair for
 * the state dir. */
static int settle_table(struct nftb *b, enum nftb_table t)
{
        struct nftb_tab *tab = &b->tab[t];
        char *base = NULL;
        b->listings++;
        int r = list_table(b, t, DRIFT_FLAGS, &base);
        forget(b);
        malloc_trim(0); /* after the pass was reported: the listing's memory goes back */
        if (r < 0)
                return r; /* the next pass sees no matching baseline and applies again */
        nftd_handles_free(&tab->handles);
        r = nftd_parse_handles(base, &tab->handles);
        char *a = r >= 0 ? nftm_dump(tab->applied) : NULL;
        if (!a) {
                free(base);
                return r < 0 ? r : -ENOMEM;
        }
        tab->baseline = listing_digest(base);
        tab->have_baseline = true;
        tab->baseline_stale = false;
        unsaved_free(tab);
        tab->unsaved[0] = a;
        tab->unsaved[1] = base;
        state_save(b, t);
        return 1;
}

int nftb_settle(struct nftb *b)
{
        int listed = 0;
        if (b->cache_held)
                forget(b);
        if (!nftb_settle_due(b))
                return 0;
        nftb_monitor_drain(b);
        if (!b->trusted)
                return 0; /* a foreign commit since the apply: the next pass lists and repairs */
        for (int t = 0; t < NFTB_COUNT; t++) {
                if (!b->tab[t].baseline_stale)
                        continue;
                int r = settle_table(b, (enum nftb_table)t);
                if (r < 0)
                        return r;
                listed = 1;
        }
        if (listed) /* the listing, its dump and the state file's text are freed by now */
                malloc_trim(0);
        return listed;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
        const struct nlattr *a;
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
                if (mnl_attr_get_type(a) == NFTA_GEN_ID && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
                        *(int64_t *)data = ntohl(mnl_attr_get_u32(a));
        return MNL_CB_OK;
}

/* The nftables generation now: it grows by one with every commit, whoever makes it. */
static int gen_now(struct nftb *b, uint32_t *gen)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        int64_t g = -1;
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
        nlh->nlmsg_flags = NLM_F_REQUEST;
        nlh->nlmsg_seq = ++b->seq;
        struct nfgenmsg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
        m->nfgen_family = AF_UNSPEC;
        m->version = NFNETLINK_V0;
        m->res_id = 0;
        if (!b->req || mnl_socket_sendto(b->req, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        ssize_t r = mnl_socket_recvfrom(b->req, buf, sizeof(buf));
        if (r < 0)
                return -errno;
        if (mnl_cb_run(buf, (size_t)r, b->seq, mnl_socket_get_portid(b->req), gen_cb, &g) < 0)
                return -errno;
        if (g < 0)
                return -EBADMSG;
        *gen = (uint32_t)g;
        return 0;
}

/* Sends a batch nft_wire.c encoded: 0 once the kernel took it whole, else the refusal's -errno.
 * The kernel works through a batch inside the send, so by the time it returns any error is
 * queued on the socket (libnftables checks the same way); no error, no reply. */
static int send_batch(struct nftb *b, const void *batch, size_t len)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        int r = 0;
        if (!b->req || mnl_socket_sendto(b->req, batch, len) < 0)
                return -errno;
        for (;;) {
                ssize_t n = recv(mnl_socket_get_fd(b->req), buf, sizeof(buf), MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EWOULDBLOCK ? r : -errno;
                if (mnl_cb_run(buf, (size_t)n, 0, mnl_socket_get_portid(b->req), NULL, NULL) < 0 &&
                    !r)
                        r = errno ? -errno : -EPROTO;
        }
}

/* One transaction that changes the table, with the generations around it: when ours is the
 * only commit in between, a lost-events overrun later can be told apart from a foreign one.
 * Either a script for libnftables (cmd) or a batch nft_wire.c encoded (batch, len). The cache
 * libnftables built for a script is dropped by nftb_settle, once the pass has been reported
 * (dropping it is a command of its own). */
static int commit(struct nftb *b, const char *cmd, const void *batch, size_t len, char *err,
                  size_t errlen)
{
        uint32_t g0 = 0, g1 = 0;
        bool before = gen_now(b, &g0) >= 0;
        int r;
        if (batch) {
                r = send_batch(b, batch, len);
                if (r < 0)
                        snprintf(err, errlen, "%s", strerror(-r));
        } else {
                r = run(b, 0, cmd, NULL, err, errlen);
        }
        if (r < 0) {
                forget(b);
                return r;
        }
        b->cache_held |= !batch;
        b->gen_ok = before && gen_now(b, &g1) >= 0 && g1 == g0 + 1;
        b->gen_ours = g1;
        return 0;
}

static int apply_full(struct nftb *b, enum nftb_table t, struct nftm_table *want, char *err,
                      size_t errlen)
{
        struct nr_buf cmd = {0};
        char *table = nftm_text(want);
        if (!table)
                return -ENOMEM;
        /* add + delete + define in one buffer: one transaction, never a moment without it */
        buf_printf(&cmd, "add table %s " NR_NFT_TABLE "\ndelete table %s " NR_NFT_TABLE "\n",
                   families[t], families[t]);
        buf_puts(&cmd, table);
        free(table);
        char *text = buf_finish(&cmd);
        if (!text)
                return -ENOMEM;
        int r = commit(b, text, NULL, 0, err, errlen);
        free(text);
        if (r < 0)
                return r;
        log_debug("nft: table %s " NR_NFT_TABLE " applied whole", families[t]);
        b->full_applies++;
        take_applied(b, t, want);
        return 0;
}

/* The delta from the applied table to want: with the handles of the baseline listing, else (a
 * rule without a known handle) with those of a fresh listing. *full: only the whole table will
 * do. */
static int delta_ops(struct nftb *b, enum nftb_table t, const struct nftm_table *want,
                     struct nftd_ops *ops, bool *full)
{
        struct nftb_tab *tab = &b->tab[t];
        struct nftd_handles h = {0};
        char *listing = NULL;
        int r = nftd_delta_ops(tab->applied, want, tab->have_baseline ? &tab->handles : NULL, ops,
                               full);
        if (r < 0 || !*full)
                return r;
        b->listings++;
        r = list_table(b, t, NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS, &listing);
        forget(b);
        if (r >= 0)
                r = nftd_parse_handles(listing, &h);
        if (r >= 0)
                r = nftd_delta_ops(tab->applied, want, &h, ops, full);
        free(listing);
        nftd_handles_free(&h);
        return r;
}

/* The delta in one transaction: our own batch when nft_wire.c knows every op (a forward or a
 * reservation added or removed), else the script through libnftables. */
static int commit_delta(struct nftb *b, const struct nftd_ops *ops,
                        const struct nftm_table *want, char *err, size_t errlen)
{
        void *batch;
        size_t len;
        int r = nftw_batch(ops, want, b->seq + 1, &batch, &len);
        if (r >= 0) {
                b->seq += (uint32_t)ops->n + 2; /* at most one message per op, and begin, end */
                r = commit(b, NULL, batch, len, err, errlen);
                free(batch);
                b->direct_applies += r >= 0;
                return r;
        }
        if (r != -EOPNOTSUPP)
                return r;
        char *script = nftd_ops_text(ops);
        if (!script)
                return -ENOMEM;
        r = commit(b, script, NULL, 0, err, errlen);
        free(script);
        return r;
}

/* A reload: only elements and single rules change. Falls back to the full transaction when the
 * structure changed (nftd_delta_ops says so) or the kernel refuses the delta. */
static int apply_delta(struct nftb *b, enum nftb_table t, struct nftm_table *want, char *err,
                       size_t errlen)
{
        struct nftd_ops ops = {0};
        bool full = true;
        int r = b->tab[t].applied ? delta_ops(b, t, want, &ops, &full) : 0;
        if (r < 0 || full)
                return r < 0 ? r : apply_full(b, t, want, err, errlen);
        if (ops.n) {
                r = commit_delta(b, &ops, want, err, errlen);
                if (r < 0) {
                        nftd_ops_free(&ops);
                        if (r == -ENOMEM)
                                return r;
                        log_warn("nft: incremental update refused (%s); replacing the table", err);
                        return apply_full(b, t, want, err, errlen); /* nothing changed yet */
                }
                b->delta_applies++;
                log_debug("nft: table %s " NR_NFT_TABLE ": delta applied", families[t]);
        }
        nftd_ops_free(&ops);
        take_applied(b, t, want);
        return 0;
}

static enum nftb_table op_table(const struct nr_op *op)
{
        return op->kind == NR_OP_NFTBR_CREATE || op->kind == NR_OP_NFTBR_UPDATE ||
                               op->kind == NR_OP_NFTBR_DELETE
                       ? NFTB_BRIDGE
                       : NFTB_INET;
}

/* The table is not wanted at all (teardown): gone, and nothing of it remembered. */
static int delete_one(struct nftb *b, enum nftb_table t, char *err, size_t errlen)
{
        const char *fam = t == NFTB_BRIDGE ? "bridge" : "inet";
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "add table %s %s\ndelete table %s %s\n", fam, NR_NFT_TABLE,
                 fam, NR_NFT_TABLE);
        int r = commit(b, cmd, NULL, 0, err, errlen);
        if (r < 0)
                return r;
        forget(b); /* no settle follows a table gone */
        nftm_unref(b->tab[t].applied);
        nftd_handles_free(&b->tab[t].handles);
        unsaved_free(&b->tab[t]);
        memset(&b->tab[t], 0, sizeof(b->tab[t]));
        return 0;
}

bool nftb_op_is_change(const struct nftb *b, const struct nr_op *op)
{
        bool update = op->kind == NR_OP_NFT_UPDATE || op->kind == NR_OP_NFTBR_UPDATE;
        return update && b->tab[op_table(op)].matches_baseline;
}

int nftb_apply(struct nftb *b, const struct nr_op *op, struct nftm_table *want, char *err,
               size_t errlen)
{
        /* the observation of this pass said whether the live table is still ours unchanged:
         * then only the configuration changed and a delta does; after drift, replace it all */
        enum nftb_table t = op_table(op);
        if (op->kind == NR_OP_NFT_DELETE || op->kind == NR_OP_NFTBR_DELETE)
                return delete_one(b, t, err, errlen);
        if (!want)
                return -EINVAL;
        if (nftb_op_is_change(b, op))
                return apply_delta(b, t, want, err, errlen);
        return apply_full(b, t, want, err, errlen);
}

int nftb_counters(struct nftb *b, struct nftd_counters *c)
{
        struct nr_buf all = {0};
        int r = 0;
        /* one listing per table: nft 1.0.6 fails a buffer holding two `list table` commands
         * (its cache is built for the first one only); no bridge table yet is no error */
        for (int t = 0; t < NFTB_COUNT && r >= 0; t++) {
                char *listing = NULL;
                r = list_table(b, (enum nftb_table)t, 0, &listing);
                if (r >= 0)
                        buf_puts(&all, listing);
                else if (t == NFTB_BRIDGE)
                        r = 0;
                free(listing);
        }
        forget(b);
        malloc_trim(0); /* status and metrics list the whole table: give that memory back */
        char *text = buf_finish(&all);
        if (r >= 0)
                r = text ? nftd_parse_counters(text, c) : -ENOMEM;
        free(text);
        return r;
}

int nftb_monitor_fd(struct nftb *b)
{
        return mnl_socket_get_fd(b->mon);
}

/* One message of the nftables group: a NEWGEN by another process (or without the pid) ends the
 * trust. The others (table, chain, rule, set, element) belong to a transaction whose NEWGEN
 * follows. */
static int monitor_msg(const struct nlmsghdr *nlh, void *data)
{
        struct nftb *b = data;
        if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
            NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWGEN)
                return MNL_CB_OK;
        uint32_t pid = 0;
        int64_t gen = -1;
        const struct nlattr *a;
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
                if (mnl_attr_get_type(a) == NFTA_GEN_PROC_PID &&
                    mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
                        pid = ntohl(mnl_attr_get_u32(a));
        gen_cb(nlh, &gen);
        if (pid != (uint32_t)getpid()) {
                b->trusted = false;
                b->foreign_commits++;
                b->gen_ok = false;
        } else if (gen >= 0 && (int32_t)((uint32_t)gen - b->gen_ours) > 0) {
                b->gen_ok = false; /* a commit of ours that commit() did not see: unknown */
        }
        return MNL_CB_OK;
}

int nftb_monitor_drain(struct nftb *b)
{
        char buf[16384];
        int n = 0;
        for (int i = 0; i < 4096; i++) { /* bounded; what is left wakes us again */
                ssize_t r = mnl_socket_recvfrom(b->mon, buf, sizeof(buf));
                if (r < 0) {
                        uint32_t g;
                        if (errno == ENOBUFS && b->gen_ok && gen_now(b, &g) >= 0 &&
                            g == b->gen_ours) {
                                b->own_overruns++; /* no commit since ours: ours were lost */
                                continue;
                        }
                        if (errno == ENOBUFS) {
                                b->trusted = false; /* messages were lost */
                                b->events += (unsigned long)n;
                                return -ENOBUFS;
                        }
                        break;
                }
                mnl_cb_run(buf, (size_t)r, 0, 0, monitor_msg, b);
                n++;
        }
        b->events += (unsigned long)n;
        return n;
}

/* ---- the engine's view (backend/backend.h) ----------------------------------------------- */

static int ops_observe(void *self, const struct nr_desired *want, const struct nr_desired *prev,
                       struct nr_observed *have)
{
        (void)want, (void)prev;
        return nftb_observe(self, have);
}

static int ops_apply(void *self, const struct nr_desired *want, const struct nr_op *op,
                     char *err, size_t errlen)
{
        bool br = op->kind == NR_OP_NFTBR_CREATE || op->kind == NR_OP_NFTBR_UPDATE;
        if (op->kind == NR_OP_NFT_DELETE || op->kind == NR_OP_NFTBR_DELETE)
                return nftb_apply(self, op, NULL, err, errlen);
        return nftb_apply(self, op, br ? want->nft_bridge : want->nft, err, errlen);
}

static bool ops_is_change(void *self, const struct nr_op *op)
{
        return nftb_op_is_change(self, op);
}

const struct nr_backend_ops nftb_ops = {
        .name = "nft",
        .observe = ops_observe,
        .apply = ops_apply,
        .is_change = ops_is_change,
};
