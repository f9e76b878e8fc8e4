/* Growing arrays for code that builds lists of small structs (tens to thousands of items: one
 * realloc each is cheap enough): on allocation failure the enclosing function returns -ENOMEM
 * (the array stays valid for the caller to free). */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Grows arr by one zeroed slot, arr[n - 1] afterwards. */
#define NR_GROW(arr, n)                                                                       \
        do {                                                                                  \
                void *p_ = realloc((arr), ((n) + 1) * sizeof(*(arr)));                       \
                if (!p_)                                                                      \
                        return -ENOMEM;                                                       \
                (arr) = p_;                                                                   \
                memset(&(arr)[(n)++], 0, sizeof(*(arr)));                                     \
        } while (0)

/* Appends a copy of item. */
#define NR_APPEND(arr, n, item)                                                               \
        do {                                                                                  \
                NR_GROW(arr, n);                                                              \
                (arr)[(n) - 1] = (item);                                                      \
        } while (0)

/* Appends a copy of item to an array whose capacity is implied by its count (8, then the next
 * power of two): for lists of thousands, which growing one slot at a time copies over and
 * over. */
#define NR_PUSH(arr, n, item)                                                                 \
        do {                                                                                  \
                if ((n) < 8 || !((n) & ((n) - 1))) {                                          \
                        void *p_ = realloc((arr), ((n) < 8 ? 8 : 2 * (n)) * sizeof(*(arr))); \
                        if (!p_)                                                              \
                                return -ENOMEM;                                               \
                        (arr) = p_;                                                           \
                }                                                                             \
                memset(&(arr)[(n)], 0, sizeof(*(arr)));                                       \
                (arr)[(n)++] = (item);                                                        \
        } while (0)
