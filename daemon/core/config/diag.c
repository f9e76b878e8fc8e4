/* Collected diagnostics and the key-path position map. */
#include "core/config/diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
        if (n < *cap)
                return v;
        size_t c = *cap ? *cap * 2 : 16;
        void *nv = realloc(v, c * size);
        if (!nv)
                abort(); /* diagnostics are tiny; running out here means the process is done */
        *cap = c;
        return nv;
}

/* A message echoes the value it is about, and a value can be a 20 MB line: keep the head (the
 * value's start) and the tail (what is wrong with it) of anything longer than `max`. */
static char *diag_shorten(char *s, size_t max)
{
        size_t len = strlen(s);
        if (len <= max)
                return s;
        size_t head = max * 2 / 3, tail = max - head;
        char *out = NULL;
        if (asprintf(&out, "%.*s[... %zu bytes ...]%s", (int)head, s, len - head - tail,
                     s + len - tail) < 0)
                abort();
        free(s);
        return out;
}

void diag_vadd(struct nr_diags *d, enum nr_severity sev, int line, int col, const char *path,
               const char *fmt, va_list ap)
{
        char *msg, *p;
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        msg = diag_shorten(msg, NR_DIAG_MSG_MAX);
        p = strdup(path ? path : "");
        if (!p)
                abort();
        p = diag_shorten(p, NR_DIAG_PATH_MAX);
        d->v = grow(d->v, &d->cap, d->n, sizeof(*d->v));
        d->v[d->n++] = (struct nr_diag){
                .sev = sev, .line = line, .col = col, .path = p, .msg = msg,
                .seq = d->n,
        };
        if (sev == NR_SEV_ERROR)
                d->n_errors++;
        else
                d->n_warnings++;
}

void diag_add(struct nr_diags *d, enum nr_severity sev, int line, int col, const char *path,
              const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        diag_vadd(d, sev, line, col, path, fmt, ap);
        va_end(ap);
}

static int diag_cmp(const void *a, const void *b)
{
        const struct nr_diag *x = a, *y = b;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        if (x->col != y->col)
                return x->col < y->col ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq; /* keep the order they were found in */
}

void diag_print(struct nr_diags *d, const char *file, FILE *out)
{
        if (d->n > 1)
                qsort(d->v, d->n, sizeof(*d->v), diag_cmp);
        for (size_t i = 0; i < d->n; i++) {
                const struct nr_diag *g = &d->v[i];
                const char *sev = g->sev == NR_SEV_ERROR ? "error" : "warning";
                fprintf(out, "%s:%d:%d: %s: ", file, g->line, g->col, sev);
                if (g->path[0])
                        fprintf(out, "%s: ", g->path);
                fprintf(out, "%s\n", g->msg);
        }
}

void diag_free(struct nr_diags *d)
{
        for (size_t i = 0; i < d->n; i++) {
                free(d->v[i].path);
                free(d->v[i].msg);
        }
        free(d->v);
        *d = (struct nr_diags){0};
}

static uint32_t pos_hash(const char *p, size_t len)
{
        uint32_t h = 2166136261u; /* FNV-1a */
        for (size_t i = 0; i < len; i++)
                h = (h ^ (uint8_t)p[i]) * 16777619u;
        /* FNV's low bits (the slot) hardly depend on the high bits of the last bytes: paths
         * that differ in one digit (`x[1234].to`, `x[1235].to`) would pile up in neighbouring
         * slots; mix the high bits down */
        h ^= h >> 16;
        h *= 0x7feb352du;
        h ^= h >> 15;
        return h;
}

static void pos_index(struct nr_posmap *m, size_t i)
{
        size_t mask = m->n_slots - 1;
        size_t s = m->v[i].hash & mask;
        while (m->slots[s])
                s = (s + 1) & mask;
        m->slots[s] = (uint32_t)i + 1;
}

static void pos_rehash(struct nr_posmap *m)
{
        free(m->slots);
        m->n_slots = m->n_slots ? m->n_slots * 2 : 64;
        m->slots = calloc(m->n_slots, sizeof(*m->slots));
        if (!m->slots)
                abort();
        for (size_t i = 0; i < m->n; i++)
                pos_index(m, i);
}

/* Keys are unique in practice (the parser reports duplicate keys and records the first); a
 * second put of the same path is kept but never found, which is what "first wins" wants. */
void pos_put(struct nr_posmap *m, const char *path, int line, int col)
{
        size_t len = strlen(path);
        m->v = grow(m->v, &m->cap, m->n, sizeof(*m->v));
        while (m->text_len + len > m->text_cap) {
                m->text_cap = m->text_cap ? m->text_cap * 2 : 4096;
                if (!(m->text = realloc(m->text, m->text_cap)))
                        abort();
        }
        memcpy(m->text + m->text_len, path, len);
        m->v[m->n++] = (struct nr_pos){.off = (uint32_t)m->text_len, .len = (uint32_t)len,
                                       .hash = pos_hash(path, len), .line = line, .col = col};
        m->text_len += len;
        if (m->n * 2 > m->n_slots)
                pos_rehash(m);
        else
                pos_index(m, m->n - 1);
}

static const struct nr_pos *pos_find(const struct nr_posmap *m, const char *path, size_t len)
{
        if (!m->n_slots)
                return NULL;
        size_t mask = m->n_slots - 1;
        uint32_t h = pos_hash(path, len);
        for (size_t s = h & mask; m->slots[s]; s = (s + 1) & mask) {
                const struct nr_pos *p = &m->v[m->slots[s] - 1];
                if (p->hash == h && p->len == len && memcmp(m->text + p->off, path, len) == 0)
                        return p;
        }
        return NULL;
}

static unsigned long n_fills;

unsigned long pos_fills(void)
{
        return n_fills;
}

void pos_defer(struct nr_posmap *m, const char *text, size_t len, char *own,
               void (*fill)(struct nr_posmap *m))
{
        free(m->src_own);
        m->src = text;
        m->src_len = len;
        m->src_own = own;
        m->fill = fill;
}

static void pos_fill(const struct nr_posmap *cm)
{
        struct nr_posmap *m = (struct nr_posmap *)cm; /* every map is writable: see diag.h */
        void (*fill)(struct nr_posmap *) = m->fill;
        m->fill = NULL;
        n_fills++;
        fill(m);
}

size_t pos_get(const struct nr_posmap *m, const char *path, int *line, int *col)
{
        if (m->fill)
                pos_fill(m);
        size_t len = strlen(path);
        while (len > 0) {
                const struct nr_pos *p = pos_find(m, path, len);
                if (p) {
                        *line = p->line;
                        *col = p->col;
                        return len;
                }
                /* strip the last component: ".key" or "[N]" */
                while (len > 0 && path[len - 1] != '.' && path[len - 1] != '[')
                        len--;
                if (len > 0)
                        len--;
        }
        *line = 1;
        *col = 1;
        return 0;
}

void pos_free(struct nr_posmap *m)
{
        free(m->src_own);
        free(m->text);
        free(m->v);
        free(m->slots);
        *m = (struct nr_posmap){0};
}
