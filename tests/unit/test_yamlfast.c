/* The config parser's fast path (core/config/yamlfast.c) against libyaml: whatever it reads must
 * be the tree libyaml's document API reads (types, styles, values, line:column), for every
 * example and test file, thousands of mutations of them, and a list of YAML's corners; and it
 * must read the large files it exists for, or the reload figures of `make bench` fall back to
 * libyaml's unnoticed. (The sanitizer build also checks every parse of every test:
 * NR_YAML_CROSSCHECK in the Makefile.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glob.h>

#include "core/config/yamlfast.h"
#include "core/lib/strbuf.h"

static char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        char *text = NULL;
        if (fseek(f, 0, SEEK_END) == 0) {
                long n = ftell(f);
                text = n >= 0 ? malloc((size_t)n + 1) : NULL;
                rewind(f);
                if (text && fread(text, 1, (size_t)n, f) == (size_t)n) {
                        text[n] = '\0';
                        *len = (size_t)n;
                } else {
                        free(text);
                        text = NULL;
                }
        }
        fclose(f);
        return text;
}

/* 1: read and identical to libyaml; 0: declined. Fails the test on a difference. */
static int agrees(const char *text, size_t len, const char *what)
{
        struct yf_doc d;
        char why[512] = "";
        int r = yf_load(&d, text, len);
        assert_true(r >= 0);
        if (r == 0)
                return 0;
        int same = yf_check(&d, text, len, why, sizeof(why));
        yf_free(&d);
        if (same != 1)
                fail_msg("%s: the fast path reads it differently: %s\n--- text\n%.*s", what, why,
                         (int)len, text);
        return 1;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next_rand(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t)rng;
}

/* One small change: a byte deleted, an interesting one inserted or put in its place, a space
 * added to or taken from a line's indentation, a line doubled. */
static size_t mutate(const char *in, size_t len, char *out)
{
        static const char pick[] = " :-#'\"{}[],\n?&*|>!%@`\\\tx0";
        size_t at = len ? next_rand() % len : 0, o = 0;
        char c = pick[next_rand() % (sizeof(pick) - 1)];
        switch (next_rand() % 5) {
        case 0: /* delete */
                memcpy(out, in, at);
                memcpy(out + at, in + at + (len ? 1 : 0), len - at - (len ? 1 : 0));
                return len ? len - 1 : 0;
        case 1: /* insert */
                memcpy(out, in, at);
                out[at] = c;
                memcpy(out + at + 1, in + at, len - at);
                return len + 1;
        case 2: /* replace */
                memcpy(out, in, len);
                if (len)
                        out[at] = c;
                return len;
        case 3: { /* indentation of the line holding at: one more space */
                size_t ls = at;
                while (ls && in[ls - 1] != '\n')
                        ls--;
                memcpy(out, in, ls);
                out[ls] = ' ';
                memcpy(out + ls + 1, in + ls, len - ls);
                return len + 1;
        }
        default: { /* the line holding at, twice */
                size_t ls = at, le = at;
                while (ls && in[ls - 1] != '\n')
                        ls--;
                while (le < len && in[le] != '\n')
                        le++;
                if (le < len)
                        le++;
                memcpy(out, in, le);
                o = le;
                memcpy(out + o, in + ls, le - ls);
                o += le - ls;
                memcpy(out + o, in + le, len - le);
                return o + len - le;
        }
        }
}

static const char *const FILES[] = {"configs/*.yaml", "configs/azure/*.yaml",
                                    "tests/golden/*/*.yaml", "tests/netns/*.yaml",
                                    "tests/fuzz/corpus/*", NULL};

static void test_files_and_mutations(void **state)
{
        (void)state;
        size_t files = 0, read = 0, mutants = 0, mutants_read = 0;
        for (const char *const *g = FILES; *g; g++) {
                glob_t gl;
                if (glob(*g, 0, NULL, &gl) != 0)
                        continue;
                for (size_t i = 0; i < gl.gl_pathc; i++) {
                        size_t len;
                        char *text = slurp(gl.gl_pathv[i], &len);
                        assert_non_null(text);
                        files++;
                        read += (size_t)agrees(text, len, gl.gl_pathv[i]);
                        /* a mutation adds at most a line: two fit in 4 * len */
                        char *m = malloc(4 * len + 64), *m2 = malloc(4 * len + 64);
                        assert_true(m && m2);
                        for (int k = 0; k < 400; k++) {
                                size_t ml = mutate(text, len, m);
                                if (k % 3 == 0) { /* a second change now and then */
                                        ml = mutate(m, ml, m2);
                                        memcpy(m, m2, ml);
                                }
                                mutants++;
                                mutants_read += (size_t)agrees(m, ml, gl.gl_pathv[i]);
                        }
                        free(m2);
                        free(m);
                        free(text);
                }
                globfree(&gl);
        }
        printf("# %zu files, %zu read by the fast path; %zu mutants, %zu read\n", files, read,
               mutants, mutants_read);
        assert_true(files >= 20);
        assert_true(read >= files / 2);
        assert_true(mutants_read >= mutants / 10); /* the mutants do reach the comparison */
}

/* YAML's corners: each is either declined or read exactly as libyaml reads it. */
static void test_corners(void **state)
{
        (void)state;
        static const char *const c[] = {
                "a: b\n  c\n", "a:\n  - b\n  -\n", "a: 'x''y'\n", "a: \"x\\ty\"\n",
                "a: [b, {c: d}]\n", "a: {b: c:d}\n", "a: {m: 52:54:00:00:00:01}\n",
                "a: {m: 52:54:00:00:00:01, n: 1}\n", "- a\n- b\n", "a: b # c\n", "a: b#c\n",
                "a:    b   \n", "a: b\n...\n", "---\na: b\n", "--- a\n", "a: b\n---\nc: d\n",
                "a:\n- b\n- c\nd: e\n", " a: b\n c: d\n", "a:\n  b:\n    c: d\n  e: f\n",
                "a: {b: 1,}\n", "a: [ ]\n", "a: {}\n", "a: []\n", "a b: c\n", "'a': b\n",
                "\"a\": b\n", "a: -1\n", "a: ?x\n", "a: x?y\n", "a: [x?y]\n", "a: [a:b]\n",
                "a: [a: b]\n", "a: b: c\n", "a: b:\n", "a:b\n", "a: 'unterminated\n",
                "a: b\n c: d\n", "a:\n  - b: 1\n    c: 2\n  - d: 3\n", "a: |\n  x\n",
                "a: &x 1\nb: *x\n", "a: !!str 1\n", "a:\tb\n", "a: b\r\n", "a: [1,2 ,3]\n",
                "a: {x: 'y', \"z\": w}\n", "a: b\n# c\n  # d\ne: f\n", "a:\n\n  b: c\n",
                "a: b", "a:\n  - {p: 1}\n  - [2]\n", "a: x #\n", "a: 'x'#c\n", "a: [x]#c\n",
                "a: [x] #c\n", "a: {b: c} d\n", "a:\n    - b\n  - c\n", "- a: 1\n  b: 2\n- c\n",
                "a: b\n  # indented comment\nc: d\n", "a: [a, b, ]\n", "a: [,]\n",
                "? a\n: b\n", "a: 10.0.2.0/24\n", "a: x,y\n", "a: x]\n", "a: 'x' \n",
                "a:  [ 'x' , \"y\" ]  \n", "a: {b: [c]}\n", "a: \"\"\n", "a: ''\n",
                "a: b\n\n\n", "\n\na: b\n", "%YAML 1.1\n---\na: b\n", "a: b\n-\n",
                "a:\n  b: 1\n c: 2\n", "a: [x y, z]\n", "a: {x y: z}\n", "a: x:y\n",
                "a: 'x'y\n", "ab:c: d\n", "a: :x\n", "a: x:\n", "a: {x:}\n", "a: {x: y:}\n",
                "a: [x:]\n", "a: [x:,y]\n", "a: {x::y}\n", "a: [x::y]\n", "a: [:x]\n",
                "a: [x #y]\n", "a: [x#y]\n", "a: {x#y: z}\n", "a: -x\n", "- - a\n",
                "a: {b: [c, d], e: {f: g}}\n", "a: [[b], [c, [d, [e, [f]]]]]\n", "a: {[b]: c}\n",
                "a: [{b: c}, {d: [e]}]\n", "a: {b: [c, d]\n", "a: {b: [c, d}]\n",
        };
        for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
                agrees(c[i], strlen(c[i]), c[i]);
}

/* What the fast path is for: large lists of forwards, routes and reservations in the styles the
 * docs use, read without libyaml. */
static void test_reads_large_files(void **state)
{
        (void)state;
        struct nr_buf b = {0};
        buf_printf(&b, "version: 1\nuplinks:\n  nat:\n    match: {name: eth0}\n"
                       "    address: 10.0.0.4/24\n    routes:\n");
        for (int i = 0; i < 500; i++)
                buf_printf(&b, "      - 10.%d.%d.0/24\n", i / 256 + 100, i % 256);
        buf_printf(&b, "guests:\n  dhcp:\n    reservations:\n");
        for (int i = 0; i < 500; i++)
                buf_printf(&b, "      - {mac: \"52:54:00:00:%02x:%02x\", ip: 10.0.2.%d, name: h%d}\n",
                           i / 256, i % 256, 10 + i % 200, i);
        buf_printf(&b, "port_forwards:\n");
        for (int i = 0; i < 2000; i++)
                buf_printf(&b, "  - {proto: tcp, port: %d, to: 10.0.2.10, to_port: 8080}\n",
                           10000 + i);
        for (int i = 0; i < 100; i++)
                buf_printf(&b, "  - proto: udp\n    port: %d   # a comment\n    to: 'web1'\n", 20000 + i);
        size_t len = b.len;
        char *text = buf_finish(&b);
        assert_int_equal(agrees(text, len, "generated"), 1);
        free(text);
        static const char *const must[] = {"configs/azure-nested.yaml", "configs/lab-nat.yaml"};
        for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
                text = slurp(must[i], &len);
                assert_non_null(text);
                int r = agrees(text, len, must[i]);
                free(text);
                if (r != 1)
                        fail_msg("%s: declined by the fast path", must[i]);
        }
}

/* Regions (yf_region_ops): a large file's blocks and chunks come from the region, as big as
 * the ops give, the rest from malloc when it fills up; the tree is the same either way, the
 * region goes back once, and a small file or a declined one takes none (or gives it back). */
static struct {
        size_t cap; /* what get gives, at most */
        int gets, puts;
        void *last;
} R;

static void *region_get(size_t want, size_t *got)
{
        size_t n = want < R.cap ? want : R.cap;
        R.gets++;
        R.last = n ? aligned_alloc(16, (n + 15) & ~(size_t)15) : NULL;
        *got = n;
        return R.last;
}

static void region_put(void *region, size_t size)
{
        (void)size;
        assert_ptr_equal(region, R.last);
        R.puts++;
        free(region);
}

static void test_regions(void **state)
{
        (void)state;
        static const struct yf_region_ops ops = {region_get, region_put};
        struct nr_buf b = {0};
        buf_printf(&b, "version: 1\nport_forwards:\n");
        for (int i = 0; i < 3000; i++)
                buf_printf(&b, "  - {proto: tcp, port: %d, to: 10.0.2.10, to_port: 8080}\n",
                           10000 + i);
        size_t len = b.len;
        char *text = buf_finish(&b);
        yf_set_region_ops(&ops);
        /* room for everything; then for a block and a half, so the rest is malloc's */
        static const size_t caps[] = {64u << 20, 220 * 1024, 0};
        for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
                R = (typeof(R)){.cap = caps[i]};
                struct yf_doc d;
                char why[512] = "";
                assert_int_equal(yf_load(&d, text, len), 1);
                assert_int_equal(R.gets, 1);
                if (caps[i])
                        assert_true(d.region_used > 0 && d.region_used <= d.region_size);
                assert_int_equal(yf_check(&d, text, len, why, sizeof(why)), 1);
                yf_free(&d);
                assert_int_equal(R.puts, caps[i] ? 1 : 0); /* get gave NULL for 0: nothing */
        }
        R = (typeof(R)){.cap = 64u << 20};
        assert_int_equal(agrees("a: 1\nb: [x, y]\n", 15, "small"), 1);
        assert_int_equal(R.gets, 0); /* below YF_REGION_MIN */
        /* an anchor at the end: declined after the region was taken, and it goes back */
        struct nr_buf b2 = {0};
        buf_printf(&b2, "%sanchor: &a 1\n", text);
        size_t len2 = b2.len;
        char *text2 = buf_finish(&b2);
        struct yf_doc d;
        assert_int_equal(yf_load(&d, text2, len2), 0);
        assert_int_equal(R.gets, 1);
        assert_int_equal(R.puts, 1);
        /* the ops unset between a load and its free: the region still goes back to them */
        R = (typeof(R)){.cap = 64u << 20};
        assert_int_equal(yf_load(&d, text, len), 1);
        yf_set_region_ops(NULL);
        yf_free(&d);
        assert_int_equal(R.puts, 1);
        free(text2);
        free(text);
}

/* Nesting: the reader declines past 64 block collections, also in chains of `key:` then `- `
 * lists that add no indentation of their own, and agrees with libyaml below that. */
static void test_depth(void **state)
{
        (void)state;
        static const int levels[] = {10, 63, 64, 65, 200, 2000};
        for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]); k++) {
                struct nr_buf b = {0};
                for (int i = 0; i < levels[k]; i++)
                        buf_printf(&b, "%*s- a:\n", 2 * i, "");
                buf_printf(&b, "%*s  b: c\n", 2 * levels[k], "");
                size_t len = b.len;
                char *text = buf_finish(&b);
                struct yf_doc d;
                int r = yf_load(&d, text, len);
                if (r == 1)
                        yf_free(&d);
                assert_int_equal(r, levels[k] <= 32 ? 1 : 0); /* a list and a mapping per level */
                if (levels[k] <= 200)
                        agrees(text, len, "nested");
                free(text);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_corners),
                cmocka_unit_test(test_depth),
                cmocka_unit_test(test_reads_large_files),
                cmocka_unit_test(test_regions),
                cmocka_unit_test(test_files_and_mutations),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
