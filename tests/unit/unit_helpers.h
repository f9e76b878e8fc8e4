/* Shared by the config, validation and plan unit tests: parse YAML text from a string literal
 * (cfg_parse, optionally cfg_validate) into one per-file state that the teardown frees, and find
 * a diagnostic by key path and a piece of its message. Not a test program itself (no test_ prefix,
 * so the Makefile does not build it alone). */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/config/config.h"
#include "core/config/diag.h"
#include "core/config/validate.h"

struct tcfg {
        struct nr_config cfg;
        struct nr_diags d;
        int parse_r, validate_r;
        bool used;
};

/* One per test program; every test starts from it and t_teardown frees it, also after a failed
 * assertion, so ASan's leak check stays quiet. */
static struct tcfg T;

static inline void t_free(struct tcfg *t)
{
        if (t->used) {
                cfg_free(&t->cfg);
                diag_free(&t->d);
        }
        memset(t, 0, sizeof(*t));
}

static inline int t_teardown(void **state)
{
        (void)state;
        t_free(&T);
        return 0;
}

#define TEST(f) cmocka_unit_test_teardown(f, t_teardown)

/* Parse only (syntax, types, single values, defaults). */
static inline struct tcfg *parse_text(const char *text)
{
        t_free(&T);
        T.used = true;
        T.parse_r = cfg_parse("test.yaml", text, strlen(text), &T.cfg, &T.d);
        return &T;
}

/* Parse and validate, as cfg_load_checked does with a file. */
static inline struct tcfg *check_text(const char *text)
{
        parse_text(text);
        T.validate_r = cfg_validate(&T.cfg, &T.d);
        return &T;
}

static inline void dump_diags(const struct nr_diags *d)
{
        for (size_t i = 0; i < d->n; i++)
                print_message("  diag %zu: %d:%d %s [%s] %s\n", i, d->v[i].line, d->v[i].col,
                              d->v[i].sev == NR_SEV_ERROR ? "error" : "warning", d->v[i].path,
                              d->v[i].msg);
}

/* The first diagnostic at `path` whose message contains `needle` (NULL: any message). */
static inline const struct nr_diag *find_diag(const struct nr_diags *d, const char *path,
                                              const char *needle)
{
        for (size_t i = 0; i < d->n; i++)
                if (!strcmp(d->v[i].path, path) && (!needle || strstr(d->v[i].msg, needle)))
                        return &d->v[i];
        return NULL;
}

static inline size_t count_diags(const struct nr_diags *d, const char *path)
{
        size_t n = 0;
        for (size_t i = 0; i < d->n; i++)
                n += !strcmp(d->v[i].path, path);
        return n;
}

/* Asserts that a diagnostic with exactly this severity, place and path exists and that its
 * message contains `needle`. */
static inline void expect_diag_at(const struct tcfg *t, enum nr_severity sev, int line, int col,
                                  const char *path, const char *needle, const char *where,
                                  int wline)
{
        const struct nr_diag *g = find_diag(&t->d, path, needle);
        if (!g) {
                print_message("%s:%d: no diag at path '%s' containing \"%s\"; have:\n", where,
                              wline, path, needle ? needle : "");
                dump_diags(&t->d);
                fail();
        }
        if (g->sev != sev || g->line != line || g->col != col) {
                print_message("%s:%d: diag [%s] \"%s\" is %s at %d:%d, expected %s at %d:%d\n",
                              where, wline, path, g->msg,
                              g->sev == NR_SEV_ERROR ? "error" : "warning", g->line, g->col,
                              sev == NR_SEV_ERROR ? "error" : "warning", line, col);
                fail();
        }
}

#define expect_error(t, line, col, path, needle)                                                \
        expect_diag_at((t), NR_SEV_ERROR, (line), (col), (path), (needle), __FILE__, __LINE__)
#define expect_warning(t, line, col, path, needle)                                              \
        expect_diag_at((t), NR_SEV_WARNING, (line), (col), (path), (needle), __FILE__, __LINE__)

/* Nothing at all was reported: no errors, no warnings. */
static inline void expect_clean_at(const struct tcfg *t, const char *where, int wline)
{
        if (t->d.n || t->parse_r < 0 || t->validate_r < 0) {
                print_message("%s:%d: expected no diagnostics (parse %d, validate %d); have:\n",
                              where, wline, t->parse_r, t->validate_r);
                dump_diags(&t->d);
                fail();
        }
}
#define expect_clean(t) expect_clean_at((t), __FILE__, __LINE__)

/* No diagnostic at all at `path` (other paths may have some). */
static inline void expect_no_diag_at(const struct tcfg *t, const char *path, const char *where,
                                     int wline)
{
        if (count_diags(&t->d, path)) {
                print_message("%s:%d: expected nothing at '%s'; have:\n", where, wline, path);
                dump_diags(&t->d);
                fail();
        }
}
#define expect_no_diag(t, path) expect_no_diag_at((t), (path), __FILE__, __LINE__)

static inline uint32_t IP(unsigned a, unsigned b, unsigned c, unsigned d)
{
        return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d;
}

/* Two minimal valid configs whose last mapping is left open, so a test appends keys to it and
 * knows their line numbers: appended text starts at line 8.
 * BASE_G ends inside `guests:`, BASE_U inside `uplinks.nat:`. */
#define BASE_G                                                                                  \
        "version: 1\n"                /* 1 */                                                   \
        "uplinks:\n"                  /* 2 */                                                   \
        "  nat:\n"                    /* 3 */                                                   \
        "    match: {name: eth0}\n"   /* 4 */                                                   \
        "    address: 10.0.0.4/24\n"  /* 5 */                                                   \
        "guests:\n"                   /* 6 */                                                   \
        "  subnet: 10.0.2.0/24\n"     /* 7 */
#define BASE_U                                                                                  \
        "version: 1\n"                /* 1 */                                                   \
        "guests:\n"                   /* 2 */                                                   \
        "  subnet: 10.0.2.0/24\n"     /* 3 */                                                   \
        "uplinks:\n"                  /* 4 */                                                   \
        "  nat:\n"                    /* 5 */                                                   \
        "    match: {name: eth0}\n"   /* 6 */                                                   \
        "    address: 10.0.0.4/24\n"  /* 7 */

/* BASE_U plus a LAN uplink without routes (lines 8-10); appended text continues uplinks.lan at
 * line 11. */
#define BASE_2                                                                                  \
        BASE_U                                                                                  \
        "  lan:\n"                    /* 8 */                                                   \
        "    match: {name: eth1}\n"   /* 9 */                                                   \
        "    address: 10.0.1.4/24\n"  /* 10 */

/* "This text after a base config is an error here": table-driven parser checks. */
/* A case of "this text after BASE is an error here". */
struct bad {
        const char *tail;
        int line, col;
        const char *path;
        const char *needle;
};

static inline struct tcfg *parse_with(const char *base, const char *tail)
{
        static char buf[8192];
        snprintf(buf, sizeof(buf), "%s%s", base, tail);
        return parse_text(buf);
}

static inline void run_bad(const char *base, const struct bad *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct tcfg *t = parse_with(base, v[i].tail);
                if (t->parse_r >= 0)
                        print_message("case %zu accepted: %s", i, v[i].tail);
                assert_true(t->parse_r < 0);
                expect_diag_at(t, NR_SEV_ERROR, v[i].line, v[i].col, v[i].path, v[i].needle,
                               v[i].tail, (int)i);
        }
}

static inline void assert_mac(const uint8_t *m, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t e,
                       uint8_t f)
{
        const uint8_t want[6] = {a, b, c, d, e, f};
        if (memcmp(m, want, 6))
                fail_msg("MAC %s, expected %s", mac_s(m).s, mac_s(want).s);
}
