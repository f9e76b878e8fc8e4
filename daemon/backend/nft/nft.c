/* nftables through libnftables. The table has no `owner` flag on purpose: it must outlive the
 * daemon so that a restart never cuts guest traffic. */
#include "nft.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "core/render.h"
#include "core/strbuf.h"
#include "fileio.h"
#include "log.h"

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

static void state_path(const struct nftb *b, const char *name, char *buf, size_t size)
{
        snprintf(buf, size, "%s/%s", b->state_dir, name);
}

static void state_load(struct nftb *b)
{
        char p1[4096], p2[4096];
        state_path(b, "nft.applied", p1, sizeof(p1));
        state_path(b, "nft.baseline", p2, sizeof(p2));
        b->applied = file_read(p1, NULL);
        b->baseline = file_read(p2, NULL);
}

static void state_save(struct nftb *b)
{
        char p[4096], q[4096];
        state_path(b, "nft.applied", p, sizeof(p));
        state_path(b, "nft.baseline", q, sizeof(q));
        int r = file_write_atomic(p, b->applied, 0600);
        if (r >= 0)
                r = file_write_atomic(q, b->baseline, 0600);
        if (r < 0) {
                /* what stays on disk describes an older table: a restart finds it differs
                 * from the live one and applies the table whole */
                if (-r != b->save_errno)
                        log_warn_errno(r, "nft: cannot save state in %s (retried each pass; "
                                       "a restart before it succeeds rewrites the table): %m",
                                       b->state_dir);
                b->save_errno = -r;
                return;
        }
        if (b->save_errno)
                log_notice("nft: state saved in %s again", b->state_dir);
        b->save_errno = 0;
}

int nftb_open(struct nftb *b, const char *state_dir)
{
        memset(b, 0, sizeof(*b));
        if (!(b->state_dir = strdup(state_dir)))
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
        return 0;
}

void nftb_close(struct nftb *b)
{
        if (b->ctx)
                nft_ctx_free(b->ctx);
        if (b->mon)
                mnl_socket_close(b->mon);
        free(b->applied);
        free(b->baseline);
        free(b->state_dir);
        memset(b, 0, sizeof(*b));
}

/* Listings compared to find drift: without counters, and with protocols as numbers (naming them
 * costs a getprotobynumber() per set element, half the listing time of a 4,096-forward table).
 * Only ever compared with each other, so the form does not matter. */
#define DRIFT_FLAGS (NFT_CTX_OUTPUT_STATELESS | NFT_CTX_OUTPUT_NUMERIC_PROTO)

static int list_table(struct nftb *b, unsigned flags, char **out)
{
        return run(b, flags, "list table inet " NR_NFT_TABLE, out, NULL, 0);
}

int nftb_observe(struct nftb *b, struct nr_observed *have)
{
        if (b->save_errno && b->applied && b->baseline && !b->baseline_stale)
                state_save(b);
        char *now = NULL;
        /* No drain here (nestrouterctl status observes too, and must not eat the events that
         * schedule a pass): a foreign commit not read yet wakes on_nft, whose pass lists. */
        if (b->trusted && b->applied) {
                /* only our own commits since the table was listed or applied: it is as we left
                 * it (and it exists: deleting it is a commit too) */
                have->nft_present = true;
                b->matches_baseline = true;
                have->nft = strdup(b->applied);
                return have->nft ? 0 : -ENOMEM;
        }
        b->listings++;
        if (list_table(b, DRIFT_FLAGS, &now) < 0) {
                have->nft_present = false; /* ENOENT and friends: there is no table */
                b->matches_baseline = false;
                return 0;
        }
        have->nft_present = true;
        /* remembered for nftb_apply in this same pass: no second listing to tell drift from a
         * changed configuration */
        b->matches_baseline =
                b->applied && b->baseline && !b->baseline_stale && !strcmp(now, b->baseline);
        if (b->matches_baseline) {
                have->nft = strdup(b->applied);
                b->trusted = true; /* seen as we left it; later foreign commits end this */
        }
        free(now);
        return 0;
}

void nftb_distrust(struct nftb *b)
{
        b->trusted = false;
}

/* After a successful apply: the table holds want; its baseline is listed by nftb_settle() once
 * the pass has been reported. */
static int take_applied(struct nftb *b, const char *want)
{
        char *applied = strdup(want);
        if (!applied)
                return -ENOMEM;
        free(b->applied);
        b->applied = applied;
        b->baseline_stale = true;
        b->trusted = true; /* foreign commits still queued end it when they are read */
        return 0;
}

bool nftb_settle_due(const struct nftb *b)
{
        return b->baseline_stale;
}

int nftb_settle(struct nftb *b)
{
        char *base = NULL;
        if (!b->baseline_stale)
                return 0;
        nftb_monitor_drain(b);
        if (!b->trusted)
                return 0; /* a foreign commit since the apply: the next pass lists and repairs */
        b->listings++;
        int r = list_table(b, DRIFT_FLAGS, &base);
        if (r < 0)
                return r; /* the next pass sees no matching baseline and applies again */
        free(b->baseline);
        b->baseline = base;
        b->baseline_stale = false;
        state_save(b);
        return 1;
}

static int apply_full(struct nftb *b, const char *want, char *err, size_t errlen)
{
        struct nr_buf cmd = {0};
        /* add + delete + define in one buffer: one transaction, never a moment without it */
        buf_puts(&cmd, "add table inet " NR_NFT_TABLE "\ndelete table inet " NR_NFT_TABLE "\n");
        buf_puts(&cmd, want);
        char *text = buf_finish(&cmd);
        if (!text)
                return -ENOMEM;
        int r = run(b, 0, text, NULL, err, errlen);
        free(text);
        if (r == 0)
                b->full_applies++;
        return r < 0 ? r : take_applied(b, want);
}

/* A reload: only elements and single rules change. Falls back to the full transaction when the
 * structure changed (nftd_delta says so). */
static int apply_delta(struct nftb *b, const char *want, char *err, size_t errlen)
{
        struct nftd_table old = {0}, new = {0};
        struct nftd_handles h = {0};
        char *listing = NULL, *script = NULL;
        bool full = true;
        int r = nftd_parse(b->applied, &old);
        if (r >= 0)
                r = nftd_parse(want, &new);
        /* element-only changes (port forwards, allow-lists) need no rule handles: list the
         * table with handles only when a rule changes */
        if (r >= 0)
                r = nftd_delta(&old, &new, NULL, &script, &full);
        if (r >= 0 && full) {
                free(script);
                script = NULL;
                b->listings++;
                r = list_table(b, NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS, &listing);
                if (r >= 0)
                        r = nftd_parse_handles(listing, &h);
                if (r >= 0)
                        r = nftd_delta(&old, &new, &h, &script, &full);
        }
        if (r >= 0 && !full && script && *script) {
                r = run(b, 0, script, NULL, err, errlen);
                if (r == 0) {
                        b->delta_applies++;
                        r = take_applied(b, want);
                } else {
                        log_warn("nft: incremental update refused (%s); replacing the table", err);
                        full = true; /* the kernel rejected it whole: nothing changed yet */
                        r = 0;
                }
        } else if (r >= 0 && !full) {
                r = take_applied(b, want);
        }
        free(listing);
        free(script);
        nftd_handles_free(&h);
        nftd_table_free(&old);
        nftd_table_free(&new);
        if (r >= 0 && full)
                return apply_full(b, want, err, errlen);
        return r;
}

int nftb_apply(struct nftb *b, const struct nr_op *op, const char *want, char *err,
               size_t errlen)
{
        /* the observation of this pass said whether the live table is still ours unchanged:
         * then only the configuration changed and a delta does; after drift, replace it all */
        if (op->kind == NR_OP_NFT_UPDATE && b->matches_baseline)
                return apply_delta(b, want, err, errlen);
        return apply_full(b, want, err, errlen);
}

int nftb_counters(struct nftb *b, struct nftd_counters *c)
{
        char *listing = NULL;
        int r = list_table(b, 0, &listing);
        if (r >= 0)
                r = nftd_parse_counters(listing, c);
        free(listing);
        return r;
}

int nftb_delete_table(struct nftb *b)
{
        char err[256];
        return run(b, 0, "add table inet " NR_NFT_TABLE "\ndelete table inet " NR_NFT_TABLE "\n",
                   NULL, err, sizeof(err));
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
        const struct nlattr *a;
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
                if (mnl_attr_get_type(a) == NFTA_GEN_PROC_PID &&
                    mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
                        pid = ntohl(mnl_attr_get_u32(a));
        if (pid != (uint32_t)getpid()) {
                b->trusted = false;
                b->foreign_commits++;
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
