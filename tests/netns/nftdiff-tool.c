/* Command-line face of daemon/core/nftdiff.c for tests/netns/test-nftdiff-kernel.sh: the delta
 * between two rendered tables given a live listing, and the handles, counters and untouched rules
 * the script checks the kernel's result against. Not part of the daemon. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftdiff.h"

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

static void parse(const char *path, struct nftd_table *t)
{
        char *s = slurp(path);
        int r = nftd_parse(s, t);
        free(s);
        if (r < 0) {
                fprintf(stderr, "%s: parse: %s\n", path, strerror(-r));
                exit(2);
        }
}

/* exit 0 and the script on stdout, or exit 3 when the table must be recreated */
static int cmd_delta(const char *old_p, const char *new_p, const char *listing_p)
{
        struct nftd_table o, n;
        struct nftd_handles h;
        char *listing = slurp(listing_p), *script;
        bool full;
        parse(old_p, &o);
        parse(new_p, &n);
        if (nftd_parse_handles(listing, &h) < 0 || nftd_delta(&o, &n, &h, &script, &full) < 0) {
                fprintf(stderr, "delta failed\n");
                return 2;
        }
        if (!full)
                fputs(script, stdout);
        free(script);
        free(listing);
        nftd_handles_free(&h);
        nftd_table_free(&o);
        nftd_table_free(&n);
        return full ? 3 : 0;
}

static int cmd_handles(const char *listing_p)
{
        struct nftd_handles h;
        char *listing = slurp(listing_p);
        if (nftd_parse_handles(listing, &h) < 0)
                return 2;
        for (size_t i = 0; i < h.n; i++)
                printf("%s %s %" PRIu64 "\n", h.v[i].chain, h.v[i].id, h.v[i].handle);
        nftd_handles_free(&h);
        free(listing);
        return 0;
}

static int cmd_counters(const char *listing_p)
{
        struct nftd_counters c;
        char *listing = slurp(listing_p);
        if (nftd_parse_counters(listing, &c) < 0)
                return 2;
        for (size_t i = 0; i < c.n; i++)
                printf("%s %s %" PRIu64 " %" PRIu64 "\n", c.v[i].chain, c.v[i].id,
                       c.v[i].packets, c.v[i].bytes);
        nftd_counters_free(&c);
        free(listing);
        return 0;
}

/* rules (chain id) with the same text in both renderings: the delta must leave them alone */
static int cmd_untouched(const char *old_p, const char *new_p)
{
        struct nftd_table o, n;
        parse(old_p, &o);
        parse(new_p, &n);
        for (size_t i = 0; i < n.n_chains; i++)
                for (size_t k = 0; k < o.n_chains; k++) {
                        if (strcmp(n.chains[i].name, o.chains[k].name))
                                continue;
                        for (size_t j = 0; j < n.chains[i].n_rules; j++)
                                for (size_t m = 0; m < o.chains[k].n_rules; m++)
                                        if (n.chains[i].rules[j].id[0] &&
                                            !strcmp(n.chains[i].rules[j].text,
                                                    o.chains[k].rules[m].text))
                                                printf("%s %s\n", n.chains[i].name,
                                                       n.chains[i].rules[j].id);
                }
        nftd_table_free(&o);
        nftd_table_free(&n);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 5 && !strcmp(argv[1], "delta"))
                return cmd_delta(argv[2], argv[3], argv[4]);
        if (argc == 3 && !strcmp(argv[1], "handles"))
                return cmd_handles(argv[2]);
        if (argc == 3 && !strcmp(argv[1], "counters"))
                return cmd_counters(argv[2]);
        if (argc == 4 && !strcmp(argv[1], "untouched"))
                return cmd_untouched(argv[2], argv[3]);
        fprintf(stderr, "usage: %s delta OLD NEW LISTING | handles LISTING | counters LISTING |"
                        " untouched OLD NEW\n", argv[0]);
        return 2;
}
