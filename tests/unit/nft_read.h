/* Tests only: a table written as nft text (the renderers' shape, or a hand-written fixture) read
 * into the model (nft_model.h), so that delta fixtures stay readable texts. The daemon never
 * reads its own text back; this is not part of it. Blank and '#' lines are skipped; table-level
 * lines other than `comment` (and blocks other than sets, maps, chains and counters) are folded
 * into the table's comment, set lines other than type/flags interval/comment into its type, so
 * that a change to them changes the table's structure. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/nft_model.h"

struct nftr {
        const char *r;             /* the rest of the text */
        char line[4096];
};

static bool nftr_line(struct nftr *x)
{
        while (*x->r) {
                const char *e = strchrnul(x->r, '\n');
                const char *s = x->r;
                x->r = *e ? e + 1 : e;
                while (s < e && (*s == ' ' || *s == '\t'))
                        s++;
                size_t n = (size_t)(e - s);
                while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                        n--;
                if (!n || *s == '#' || n >= sizeof(x->line))
                        continue;
                memcpy(x->line, s, n);
                x->line[n] = '\0';
                /* a listing's `# handle N` tail */
                char *h = strstr(x->line, " # handle ");
                if (h)
                        *h = '\0';
                return true;
        }
        return false;
}

/* `KIND NAME {`: NAME into name. */
static bool nftr_opener(const char *l, const char *kind, char name[64])
{
        size_t k = strlen(kind), n = strlen(l);
        if (strncmp(l, kind, k) || l[k] != ' ' || n < k + 3 || l[n - 1] != '{')
                return false;
        return sscanf(l + k + 1, "%63[^ {]", name) == 1;
}

static void nftr_join(char *dst, size_t size, const char *line)
{
        size_t n = strlen(dst);
        snprintf(dst + n, size - n, "%s%s", n ? "\n" : "", line);
}

/* Elements from just after `elements = {` to the matching '}', split at commas outside quotes
 * and braces; they may span lines. */
static int nftr_elements(struct nftr *x, struct nftm_table *t, const char *first)
{
        char buf[1 << 16] = "";
        const char *p;
        int depth = 0;
        bool quoted = false;
        snprintf(buf, sizeof(buf), "%s", first);
        for (;;) {
                for (p = buf; *p; p++) {
                        if (*p == '"')
                                quoted = !quoted;
                        else if (!quoted && *p == '{')
                                depth++;
                        else if (!quoted && *p == '}' && depth-- == 0)
                                break;
                }
                if (*p)
                        break;
                depth = 0;
                quoted = false;
                if (!nftr_line(x))
                        return -EINVAL;
                nftr_join(buf, sizeof(buf), x->line);
        }
        const char *start = buf, *end = p;
        depth = 0;
        quoted = false;
        for (p = buf; p <= end; p++) {
                if (p < end && *p == '"')
                        quoted = !quoted;
                if (p < end && (quoted || *p != ',' || depth)) {
                        depth += !quoted && *p == '{';
                        depth -= !quoted && *p == '}';
                        continue;
                }
                const char *s = start, *e = p;
                while (s < e && (*s == ' ' || *s == '\t' || *s == '\n'))
                        s++;
                while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
                        e--;
                if (e > s)
                        nftm_elem(t, "%.*s", (int)(e - s), s);
                start = p + 1;
        }
        return 0;
}

static int nftr_set(struct nftr *x, struct nftm_table *t, const char *name, bool map)
{
        char type[1024] = "", comment[256] = "";
        bool interval = false, made = false;
        while (nftr_line(x)) {
                const char *l = x->line;
                if (!strcmp(l, "}")) {
                        if (!made)
                                nftm_set(t, map, name, type, interval, comment);
                        return 0;
                }
                if (!made && !strncmp(l, "elements = {", 12)) {
                        nftm_set(t, map, name, type, interval, comment);
                        made = true;
                }
                if (!strncmp(l, "elements = {", 12)) {
                        char first[4096];
                        snprintf(first, sizeof(first), "%s", l + 12);
                        if (nftr_elements(x, t, first) < 0)
                                return -EINVAL;
                } else if (!strncmp(l, "type ", 5)) {
                        nftr_join(type, sizeof(type), l + 5);
                } else if (!strcmp(l, "flags interval")) {
                        interval = true;
                } else if (!strncmp(l, "comment \"", 9) && l[strlen(l) - 1] == '"') {
                        snprintf(comment, sizeof(comment), "%.*s", (int)strlen(l) - 10, l + 9);
                } else {
                        nftr_join(type, sizeof(type), l);
                }
        }
        return -EINVAL;
}

static void nftr_rule(struct nftm_table *t, const char *l)
{
        size_t n = strlen(l);
        const char *q = n >= 2 && l[n - 1] == '"' ? memrchr(l, '"', n - 1) : NULL;
        static const char tag[] = " comment \"";
        if (q && (size_t)(q - l) + 1 >= sizeof(tag) - 1 &&
            !memcmp(q + 1 - (sizeof(tag) - 1), tag, sizeof(tag) - 1) && q + 1 < l + n - 1) {
                char id[256];
                const char *kw = q + 1 - (sizeof(tag) - 1);
                snprintf(id, sizeof(id), "%.*s", (int)(l + n - 1 - (q + 1)), q + 1);
                nftm_rule(t, id, NULL, "%.*s", (int)(kw - l), l);
        } else {
                nftm_rule(t, "", NULL, "%s", l);
        }
}

static int nftr_chain(struct nftr *x, struct nftm_table *t, const char *name)
{
        char hook[1024] = "";
        bool made = false;
        while (nftr_line(x)) {
                const char *l = x->line;
                if (!strcmp(l, "}")) {
                        if (!made)
                                nftm_chain(t, name, hook);
                        return 0;
                }
                if (!made && (!strncmp(l, "type ", 5) || !strncmp(l, "policy ", 7))) {
                        nftr_join(hook, sizeof(hook), l);
                        continue;
                }
                if (!made) {
                        nftm_chain(t, name, hook);
                        made = true;
                }
                nftr_rule(t, l);
        }
        return -EINVAL;
}

/* `counter NAME { ... }`: one more name in the table's group of counters (the model keeps the
 * named counters of a table as one group, written before the sets). What the block holds
 * (a listing's packets and bytes) is not part of the model. */
static int nftr_counter(struct nftr *x, struct nftm_table *t, const char *name)
{
        if (!t->n_sets || !t->sets[t->n_sets - 1].objects)
                nftm_objects(t, "counters", "counter");
        nftm_elem(t, "%s", name);
        while (nftr_line(x))
                if (!strcmp(x->line, "}"))
                        return 0;
        return -EINVAL;
}

/* Blocks the model has no place for become part of the table's comment. */
static int nftr_opaque(struct nftr *x, char *top, size_t size)
{
        nftr_join(top, size, x->line);
        while (nftr_line(x)) {
                nftr_join(top, size, x->line);
                if (!strcmp(x->line, "}"))
                        return 0;
        }
        return -EINVAL;
}

/* 0 and *out, or -EINVAL. */
static int nft_read(const char *text, struct nftm_table **out)
{
        struct nftr x = {.r = text};
        char family[16], name[64], top[4096] = "", sub[64];
        struct nftm_table *t;
        int r = 0;
        *out = NULL;
        if (!nftr_line(&x) || sscanf(x.line, "table %15s %63[^ {] {", family, name) != 2)
                return -EINVAL;
        /* sets and chains are added as they come; the comment is known at the end */
        if (!(t = nftm_new(family, name, "")))
                return -ENOMEM;
        while (r >= 0 && nftr_line(&x)) {
                const char *l = x.line;
                if (!strcmp(l, "}"))
                        break;
                if (nftr_opener(l, "set", sub))
                        r = nftr_set(&x, t, sub, false);
                else if (nftr_opener(l, "map", sub))
                        r = nftr_set(&x, t, sub, true);
                else if (nftr_opener(l, "chain", sub))
                        r = nftr_chain(&x, t, sub);
                else if (nftr_opener(l, "counter", sub))
                        r = nftr_counter(&x, t, sub);
                else if (l[strlen(l) - 1] == '{')
                        r = nftr_opaque(&x, top, sizeof(top));
                else if (!strncmp(l, "comment \"", 9) && l[strlen(l) - 1] == '"' && !top[0])
                        snprintf(top, sizeof(top), "%.*s", (int)strlen(l) - 10, l + 9);
                else
                        nftr_join(top, sizeof(top), l);
        }
        if (r >= 0)
                nftm_comment(t, top);
        if (r >= 0)
                r = nftm_finish(t);
        if (r < 0) {
                nftm_unref(t);
                return r;
        }
        *out = t;
        return 0;
}
