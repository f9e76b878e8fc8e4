/* A growing array append for code that builds lists of small structs: on allocation failure the
 * enclosing function returns -ENOMEM (the array stays valid for the caller to free). */
#pragma once

#include <errno.h>
#include <stdlib.h>

#define NR_APPEND(arr, n, item)                                                               \
        do {                                                                                  \
                void *p_ = realloc((arr), ((n) + 1) * sizeof(*(arr)));                       \
                if (!p_)                                                                      \
                        return -ENOMEM;                                                       \
                (arr) = p_;                                                                   \
                (arr)[(n)++] = (item);                                                        \
        } while (0)
