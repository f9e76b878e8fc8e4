/* A growable string for renderers: printf-style appends, allocation failure remembered once and
 * reported at the end (buf_finish), so rendering code need not check every append. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct nr_buf {
        char *s;
        size_t len, cap;
        bool oom;
};

void buf_printf(struct nr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_puts(struct nr_buf *b, const char *s);
/* Returns the string (caller frees) or NULL after an allocation failure (buffer freed). */
char *buf_finish(struct nr_buf *b);
void buf_free(struct nr_buf *b);
