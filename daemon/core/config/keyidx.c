/* Sorted key indexes: see keyidx.h. */
#include "core/config/keyidx.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int key_cmp(uint64_t ka, const char *sa, uint64_t kb, const char *sb)
{
        if (ka != kb)
                return ka < kb ? -1 : 1;
        return strcmp(sa ? sa : "", sb ? sb : "");
}

static int ent_cmp(const void *pa, const void *pb)
{
        const struct kidx_ent *a = pa, *b = pb;
        int r = key_cmp(a->key, a->str, b->key, b->str);
        return r ? r : (a->i > b->i) - (a->i < b->i);
}

void kidx_init(struct kidx *x, size_t n_all)
{
        x->n = 0;
        x->n_all = n_all;
        x->v = malloc((n_all ? n_all : 1) * sizeof(*x->v));
        x->rank = malloc((n_all ? n_all : 1) * sizeof(*x->rank));
        if (!x->v || !x->rank)
                abort(); /* as diag.c: out of memory while checking a file ends the process */
        for (size_t i = 0; i < n_all; i++)
                x->rank[i] = KIDX_NONE;
}

void kidx_put(struct kidx *x, size_t i, uint64_t key, const char *str)
{
        x->v[x->n++] = (struct kidx_ent){.key = key, .str = str, .i = i};
}

void kidx_sort(struct kidx *x)
{
        qsort(x->v, x->n, sizeof(*x->v), ent_cmp);
        for (size_t k = 0; k < x->n; k++)
                x->rank[x->v[k].i] = k;
}

static bool same(const struct kidx_ent *a, const struct kidx_ent *b)
{
        return !key_cmp(a->key, a->str, b->key, b->str);
}

size_t kidx_first(const struct kidx *x, size_t i)
{
        size_t k = i < x->n_all ? x->rank[i] : KIDX_NONE;
        if (k == KIDX_NONE)
                return KIDX_NONE;
        while (k > 0 && same(&x->v[k - 1], &x->v[k]))
                k--;
        return x->v[k].i;
}

size_t kidx_find(const struct kidx *x, uint64_t key, const char *str)
{
        size_t lo = 0, hi = x->n; /* first position whose key is >= the one sought */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (key_cmp(x->v[mid].key, x->v[mid].str, key, str) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < x->n && !key_cmp(x->v[lo].key, x->v[lo].str, key, str) ? x->v[lo].i
                                                                            : KIDX_NONE;
}

size_t kidx_next(const struct kidx *x, size_t j)
{
        size_t k = j < x->n_all ? x->rank[j] : KIDX_NONE;
        if (k == KIDX_NONE || k + 1 >= x->n || !same(&x->v[k], &x->v[k + 1]))
                return KIDX_NONE;
        return x->v[k + 1].i;
}

void kidx_free(struct kidx *x)
{
        free(x->v);
        free(x->rank);
        *x = (struct kidx){0};
}

uint64_t kidx_str_key(const char *s)
{
        uint64_t h = 14695981039346656037ull; /* FNV-1a */
        for (; s && *s; s++)
                h = (h ^ (uint8_t)*s) * 1099511628211ull;
        return h;
}
