/* Key indexes: see keyidx.h. */
#include "core/config/keyidx.h"

#include <stdlib.h>
#include <string.h>

static bool same(const struct kidx *x, size_t a, uint64_t key, const char *str)
{
        return x->key[a] == key && !strcmp(x->str[a] ? x->str[a] : "", str ? str : "");
}

void kidx_init(struct kidx *x, size_t n_all)
{
        size_t n = n_all ? n_all : 1;
        x->n_all = n_all;
        x->key = malloc(n * sizeof(*x->key));
        x->str = malloc(n * sizeof(*x->str));
        x->put = calloc(n, sizeof(*x->put));
        x->first = malloc(n * sizeof(*x->first));
        x->next = malloc(n * sizeof(*x->next));
        if (!x->key || !x->str || !x->put || !x->first || !x->next)
                abort(); /* as diag.c: out of memory while checking a file ends the process */
        for (size_t i = 0; i < n_all; i++)
                x->first[i] = x->next[i] = KIDX_NONE;
}

void kidx_put(struct kidx *x, size_t i, uint64_t key, const char *str)
{
        x->key[i] = key;
        x->str[i] = str;
        x->put[i] = true;
}

static size_t slot_of(uint64_t key, size_t mask)
{
        return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

static size_t slot_find(const struct kidx *x, uint64_t key, const char *str)
{
        size_t p = slot_of(key, x->mask);
        while (x->slot[p].head && !same(x, x->slot[p].head - 1, key, str))
                p = (p + 1) & x->mask;
        return p;
}

/* Open addressing over the elements in index order: a slot holds the first element of a key
 * and the last one chained so far, so the chains come out in index order. */
void kidx_sort(struct kidx *x)
{
        x->mask = 15;
        while (x->mask < 2 * x->n_all)
                x->mask = 2 * x->mask + 1;
        x->slot = calloc(x->mask + 1, sizeof(*x->slot));
        if (!x->slot)
                abort();
        for (size_t i = 0; i < x->n_all; i++) {
                if (!x->put[i])
                        continue;
                struct kidx_slot *s = &x->slot[slot_find(x, x->key[i], x->str[i])];
                if (!s->head)
                        s->head = i + 1;
                else
                        x->next[s->tail] = i;
                s->tail = i;
                x->first[i] = s->head - 1;
        }
}

size_t kidx_first(const struct kidx *x, size_t i)
{
        return i < x->n_all ? x->first[i] : KIDX_NONE;
}

size_t kidx_find(const struct kidx *x, uint64_t key, const char *str)
{
        if (!x->slot)
                return KIDX_NONE;
        const struct kidx_slot *s = &x->slot[slot_find(x, key, str)];
        return s->head ? s->head - 1 : KIDX_NONE;
}

size_t kidx_next(const struct kidx *x, size_t j)
{
        return j < x->n_all ? x->next[j] : KIDX_NONE;
}

void kidx_free(struct kidx *x)
{
        free(x->slot);
        free(x->key);
        free(x->str);
        free(x->put);
        free(x->first);
        free(x->next);
        *x = (struct kidx){0};
}

uint64_t kidx_str_key(const char *s)
{
        uint64_t h = 14695981039346656037ull; /* FNV-1a */
        for (; s && *s; s++)
                h = (h ^ (uint8_t)*s) * 1099511628211ull;
        return h;
}
