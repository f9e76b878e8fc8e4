/* Key indexes for the cross-field checks: duplicates and lookups by key in O(n) (a hash table
 * built once the keys are in) instead of comparing every pair, which made a file with thousands
 * of forwards, routes and reservations take tens of milliseconds (hundreds at 10,000) to
 * validate. Elements with one key are chained in index order. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KIDX_NONE SIZE_MAX

struct kidx_slot {
        size_t head, tail;         /* the first element of a key + 1 (0: empty), its last */
};

struct kidx {
        struct kidx_slot *slot;    /* open addressing, built by kidx_sort */
        size_t mask;
        uint64_t *key;             /* per element: its key */
        const char **str;          /* ... the key's second part (NULL compares as "") */
        bool *put;                 /* ... whether it has one */
        size_t *first, *next;      /* ... the lowest index with its key; the next higher one */
        size_t n_all;
};

/* An index for elements 0..n_all-1. Out of memory aborts, like the diagnostics do. */
void kidx_init(struct kidx *x, size_t n_all);
/* Element i has this key; elements never put have no key and match nothing. */
void kidx_put(struct kidx *x, size_t i, uint64_t key, const char *str);
/* Once every key is put: builds the index (the lookups below need it). */
void kidx_sort(struct kidx *x);
/* The lowest index with element i's key (i itself when it is the first), or KIDX_NONE. */
size_t kidx_first(const struct kidx *x, size_t i);
/* The lowest index with this key, or KIDX_NONE. */
size_t kidx_find(const struct kidx *x, uint64_t key, const char *str);
/* The next higher index with the same key as element j, or KIDX_NONE. */
size_t kidx_next(const struct kidx *x, size_t j);
void kidx_free(struct kidx *x);
/* The key to put a string under (with the string itself as str): equal strings get equal keys,
 * and most different ones are told apart without comparing them. */
uint64_t kidx_str_key(const char *s);
