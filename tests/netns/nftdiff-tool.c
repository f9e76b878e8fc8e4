/* Command-line face of daemon/core/model/nftdiff.c for tests/netns/test-nftdiff-kernel.sh: the delta
 * between two rendered tables (read into the model by the tests' reader, tests/unit/nft_read.h)
 * given a live listing, and the handles, counters and untouched rules the script checks the
 * kernel's result against. Not part of the daemon. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <sys/socket.h>

#include "backend/nft/nft_wire.h"
#include "core/model/nftdiff.h"
#include "nft_read.h"

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "r");
        char *s = NULL;
        size_t n = 0;
        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                exit(2);
        }
        if (getdelim(&s, &n, '\0', f) < 0) {
                free(s);
                s = strdup("");
        }
        fclose(f);
        return s;
}

static void parse(const char *path, struct nftm_table **t)
{
        char *s = slurp(path);
        int r = nft_read(s, t);
        free(s);
        if (r < 0) {
                fprintf(stderr, "%s: parse: %s\n", path, strerror(-r));
                exit(2);
        }
}

/* exit 0 and the script on stdout, or exit 3 when the table must be recreated */
static int cmd_delta(const char *old_p, const char *new_p, const char *listing_p)
{
        struct nftm_table *o, *n;
        struct nftd_handles h;
        char *listing = slurp(listing_p), *script;
        bool full;
        parse(old_p, &o);
        parse(new_p, &n);
        if (nftd_parse_handles(listing, &h) < 0 || nftd_delta(o, n, &h, &script, &full) < 0) {
                fprintf(stderr, "delta failed\n");
                return 2;
        }
        if (!full)
                fputs(script, stdout);
        free(script);
        free(listing);
        nftd_handles_free(&h);
        nftm_unref(o);
        nftm_unref(n);
        return full ? 3 : 0;
}

/* The batch on a netlink socket of this namespace, as the daemon sends it: 0, or the kernel's
 * refusal (-errno). */
static int send_batch(const void *batch, size_t len)
{
        struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
        char buf[MNL_SOCKET_BUFFER_SIZE];
        int r = 0;
        if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
            mnl_socket_sendto(nl, batch, len) < 0)
                r = -errno;
        for (ssize_t n; r == 0 &&
                        (n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT)) > 0;)
                if (mnl_cb_run(buf, (size_t)n, 0, mnl_socket_get_portid(nl), NULL, NULL) < 0)
                        r = -errno;
        if (nl)
                mnl_socket_close(nl);
        return r;
}

/* The daemon's other way of applying a delta: nft_wire.c's batch, sent here. Exit 0 (and the
 * ops as a script on stdout, for the same checks) when it was sent and taken, 3 when the table
 * must be recreated, 4 when the encoder declines (libnftables would take the script), 1 when
 * the kernel refused the batch. */
static int cmd_wire(const char *old_p, const char *new_p, const char *listing_p)
{
        struct nftm_table *o, *n;
        struct nftd_handles h;
        struct nftd_ops ops;
        char *listing = slurp(listing_p), *script = NULL;
        void *batch = NULL;
        size_t len = 0;
        bool full;
        parse(old_p, &o);
        parse(new_p, &n);
        if (nftd_parse_handles(listing, &h) < 0 || nftd_delta_ops(o, n, &h, &ops, &full) < 0) {
                fprintf(stderr, "delta failed\n");
                return 2;
        }
        int rc = full ? 3 : 0;
        if (!full && !(script = nftd_ops_text(&ops)))
                rc = 2;
        int r = rc ? 0 : nftw_batch(&ops, n, 1, &batch, &len);
        if (r == -EOPNOTSUPP) {
                rc = 4;
        } else if (r < 0) {
                rc = 2;
        } else if (!rc && ops.n && (r = send_batch(batch, len)) < 0) {
                fprintf(stderr, "batch refused: %s\n", strerror(-r));
                rc = 1;
        }
        if (script)
                fputs(script, stdout);
        free(script);
        free(batch);
        free(listing);
        nftd_ops_free(&ops);
        nftd_handles_free(&h);
        nftm_unref(o);
        nftm_unref(n);
        return rc;
}

/* chain id handle, one line per rule with an id and a handle */
static int handle_line(void *ud, const struct nftd_seen *r)
{
        (void)ud;
        if (r->has_handle)
                printf("%s %s %" PRIu64 "\n", r->chain, r->id, r->handle);
        return 0;
}

static int cmd_handles(const char *listing_p)
{
        char *listing = slurp(listing_p);
        int r = nftd_walk_listing(listing, handle_line, NULL);
        free(listing);
        return r < 0 ? 2 : 0;
}

static int cmd_counters(const char *listing_p)
{
        struct nftd_counters c;
        char *listing = slurp(listing_p);
        if (nftd_parse_counters(listing, &c) < 0)
                return 2;
        for (size_t i = 0; i < c.n; i++) /* a named counter's "chain" is @counter */
                printf("%s %s %" PRIu64 " %" PRIu64 "\n",
                       c.v[i].chain[0] ? c.v[i].chain : "@counter", c.v[i].id, c.v[i].packets,
                       c.v[i].bytes);
        nftd_counters_free(&c);
        free(listing);
        return 0;
}

/* Whether a rule has a counter of its own (`counter`, not `counter name ...`, which refers to a
 * named one). */
static bool own_counter(const char *text)
{
        for (const char *p = text; (p = strstr(p, "counter")); p += 7)
                if ((p == text || p[-1] == ' ') && (!p[7] || (p[7] == ' ' &&
                                                              strncmp(p + 8, "name ", 5))))
                        return true;
        return false;
}

/* rules (chain id, and "-" when the rule has no counter of its own) with the same text in both
 * renderings, and named counters (@counter NAME) in both: the delta must leave them alone */
static int cmd_untouched(const char *old_p, const char *new_p)
{
        struct nftm_table *o, *n;
        parse(old_p, &o);
        parse(new_p, &n);
        for (size_t i = 0; i < n->n_chains; i++) {
                const struct nftm_chain *nc = &n->chains[i];
                const struct nftm_chain *oc = nftm_find_chain(o, nftm_str(n, nc->name));
                for (size_t j = 0; oc && j < nc->n_rules; j++)
                        for (size_t m = 0; m < oc->n_rules; m++)
                                if (nc->rules[j].id &&
                                    !strcmp(nftm_str(n, nc->rules[j].id),
                                            nftm_str(o, oc->rules[m].id)) &&
                                    !strcmp(nftm_str(n, nc->rules[j].text),
                                            nftm_str(o, oc->rules[m].text)))
                                        printf("%s %s%s\n", nftm_str(n, nc->name),
                                               nftm_str(n, nc->rules[j].id),
                                               own_counter(nftm_str(n, nc->rules[j].text))
                                                       ? ""
                                                       : " -");
        }
        for (size_t i = 0; i < n->n_sets; i++) {
                const struct nftm_set *ns = &n->sets[i];
                const struct nftm_set *os = nftm_find_set(o, nftm_str(n, ns->name));
                for (size_t j = 0; ns->objects && os && os->objects && j < ns->n_elems; j++)
                        for (size_t m = 0; m < os->n_elems; m++)
                                if (!strcmp(nftm_str(n, ns->elems[j]), nftm_str(o, os->elems[m])))
                                        printf("@counter %s\n", nftm_str(n, ns->elems[j]));
        }
        nftm_unref(o);
        nftm_unref(n);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 5 && !strcmp(argv[1], "delta"))
                return cmd_delta(argv[2], argv[3], argv[4]);
        if (argc == 5 && !strcmp(argv[1], "wire"))
                return cmd_wire(argv[2], argv[3], argv[4]);
        if (argc == 3 && !strcmp(argv[1], "handles"))
                return cmd_handles(argv[2]);
        if (argc == 3 && !strcmp(argv[1], "counters"))
                return cmd_counters(argv[2]);
        if (argc == 4 && !strcmp(argv[1], "untouched"))
                return cmd_untouched(argv[2], argv[3]);
        fprintf(stderr, "usage: %s delta|wire OLD NEW LISTING | handles LISTING | counters LISTING"
                        " | untouched OLD NEW\n", argv[0]);
        return 2;
}
