/* Diagnostics with a place: every error or warning about the configuration names the file, line,
 * column and key path (`port_forwards[0].to`), and all of them are collected in one run.
 * Also the key-path -> position map the parser fills and the checks consult. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum nr_severity {
        NR_SEV_ERROR,
        NR_SEV_WARNING,
};

struct nr_diag {
        enum nr_severity sev;
        int line, col;             /* 1-based; 0 when the problem has no place (unreadable file) */
        char *path;                /* key path, may be empty */
        char *msg;
        size_t seq;                /* order of discovery: ties in position keep it */
};

struct nr_diags {
        struct nr_diag *v;
        size_t n, cap;
        size_t n_errors, n_warnings;
};

struct nr_pos {
        uint32_t off, len;         /* the path: text + off, len bytes (no NUL) */
        uint32_t hash;
        int line, col;
};

/* Every key path's position: the paths in one growing text (a few tens of bytes each, tens of
 * thousands of them in a large file: one allocation, not one each), an open-addressing index.
 * Only a diagnostic needs a position, and a good file has none: so the map is filled on the
 * first pos_get, by fill() reading src again (keypos.c); a check without a mistake never pays
 * for it. */
struct nr_posmap {
        struct nr_pos *v;
        size_t n, cap;
        char *text;
        size_t text_len, text_cap;
        uint32_t *slots;           /* open-addressing index into v (+1; 0 = empty) */
        size_t n_slots;
        const char *src;           /* the file's text, until filled: borrowed, or */
        char *src_own;             /* owned (freed by pos_free) */
        size_t src_len;
        void (*fill)(struct nr_posmap *m); /* NULL once filled (or with nothing to fill from) */
};

/* Longer messages and key paths are shortened in the middle ("[... N bytes ...]"). */
#define NR_DIAG_MSG_MAX 240
#define NR_DIAG_PATH_MAX 160

void diag_add(struct nr_diags *d, enum nr_severity sev, int line, int col, const char *path,
              const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void diag_vadd(struct nr_diags *d, enum nr_severity sev, int line, int col, const char *path,
               const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
/* Sort by position (stable), then print `FILE:LINE:COL: error: PATH: message` lines. */
void diag_print(struct nr_diags *d, const char *file, FILE *out);
void diag_free(struct nr_diags *d);

void pos_put(struct nr_posmap *m, const char *path, int line, int col);
/* The map is to be filled from text (len bytes) by fill() when first asked. own: text is the
 * map's to free (else text must outlive the lookups). */
void pos_defer(struct nr_posmap *m, const char *text, size_t len, char *own,
               void (*fill)(struct nr_posmap *m));
/* Position of `path`, or of its nearest recorded ancestor (`a.b[2].c` -> `a.b[2]` -> `a.b` -> `a`);
 * returns the length of the path that matched, 0 when nothing did (then line = col = 1). The
 * first lookup fills a deferred map (the map is a cache: const to its readers). */
size_t pos_get(const struct nr_posmap *m, const char *path, int *line, int *col);
/* How many deferred maps were filled since the program started (the bench and tests count
 * them: a good file must fill none). */
unsigned long pos_fills(void);
void pos_free(struct nr_posmap *m);
