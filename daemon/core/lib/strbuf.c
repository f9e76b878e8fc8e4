/* Growable string used by every renderer. */
#include "core/lib/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool buf_reserve(struct nr_buf *b, size_t extra)
{
        if (b->oom)
                return false;
        if (b->len + extra + 1 <= b->cap)
                return true;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + extra + 1)
                cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
                b->oom = true;
                return false;
        }
        b->s = s;
        b->cap = cap;
        return true;
}

/* Formatted straight into the room left; only what does not fit is formatted again. */
void buf_printf(struct nr_buf *b, const char *fmt, ...)
{
        va_list ap;
        if (b->oom)
                return;
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n >= room) {
                if (!buf_reserve(b, (size_t)n))
                        return;
                va_start(ap, fmt);
                vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
                va_end(ap);
        }
        b->len += (size_t)n;
}

void buf_puts(struct nr_buf *b, const char *s)
{
        size_t n = strlen(s);
        if (!buf_reserve(b, n))
                return;
        memcpy(b->s + b->len, s, n + 1);
        b->len += n;
}

char *buf_finish(struct nr_buf *b)
{
        if (b->oom) {
                buf_free(b);
                return NULL;
        }
        if (!buf_reserve(b, 0))
                return NULL;
        b->s[b->len] = '\0';
        char *s = b->s;
        *b = (struct nr_buf){0};
        return s;
}

void buf_free(struct nr_buf *b)
{
        free(b->s);
        *b = (struct nr_buf){0};
}
