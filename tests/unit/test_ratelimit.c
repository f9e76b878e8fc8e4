/* The log rate limiter (core/lib/ratelimit.c): the first message goes out, repeats within the window
 * are counted, the count comes out with the next occurrence after the window or with a flush,
 * different texts are independent, and a flood of distinct messages reuses the least recently
 * seen slot without losing a pending count while a quiet slot is available. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/lib/ratelimit.h"

#define SEC 1000000ull

struct flushed {
        char text[8][64];
        uint64_t n[8];
        int pri[8];
        size_t count;
};

static void collect(void *ud, int pri, const char *text, uint64_t n)
{
        struct flushed *f = ud;
        assert_true(f->count < 8);
        snprintf(f->text[f->count], sizeof(f->text[0]), "%s", text);
        f->pri[f->count] = pri;
        f->n[f->count++] = n;
}

static void test_first_prints_repeats_counted(void **state)
{
        static struct nr_ratelimit rl = {.window_usec = 30 * SEC};
        uint64_t rep = 99;
        (void)state;
        assert_true(rl_check(&rl, 4, "nr0: address 10.0.2.1/24: File exists", 0, &rep));
        assert_int_equal(rep, 0);
        for (int i = 1; i <= 37; i++)
                assert_false(rl_check(&rl, 4, "nr0: address 10.0.2.1/24: File exists",
                                      (uint64_t)i * SEC / 2, &rep));
        /* still inside the window: nothing to flush yet */
        struct flushed f = {0};
        assert_int_equal(rl_flush(&rl, 29 * SEC, false, collect, &f), 0);
        /* after the window, the next occurrence prints with the count */
        assert_true(rl_check(&rl, 4, "nr0: address 10.0.2.1/24: File exists", 31 * SEC, &rep));
        assert_int_equal(rep, 37);
        /* and starts a new window */
        assert_false(rl_check(&rl, 4, "nr0: address 10.0.2.1/24: File exists", 32 * SEC, &rep));
}

static void test_flush_reports_and_resets(void **state)
{
        static struct nr_ratelimit rl = {.window_usec = 10 * SEC};
        uint64_t rep;
        struct flushed f = {0};
        (void)state;
        assert_true(rl_check(&rl, 3, "dnsmasq: exited with status 2", 0, &rep));
        assert_false(rl_check(&rl, 3, "dnsmasq: exited with status 2", 1 * SEC, &rep));
        assert_false(rl_check(&rl, 3, "dnsmasq: exited with status 2", 2 * SEC, &rep));
        assert_true(rl_check(&rl, 4, "route 10.9.0.0/16: conflict", 3 * SEC, &rep));
        assert_int_equal(rl_flush(&rl, 11 * SEC, false, collect, &f), 1);
        assert_string_equal(f.text[0], "dnsmasq: exited with status 2");
        assert_int_equal(f.n[0], 2);
        assert_int_equal(f.pri[0], 3);
        /* reported once: a second flush has nothing */
        assert_int_equal(rl_flush(&rl, 50 * SEC, false, collect, &f), 0);
        /* the flush opened a new window: an occurrence right after it is counted, and
         * `all` reports it even inside the window (the daemon's exit) */
        assert_false(rl_check(&rl, 3, "dnsmasq: exited with status 2", 12 * SEC, &rep));
        assert_int_equal(rl_flush(&rl, 13 * SEC, true, collect, &f), 1);
        assert_int_equal(f.n[1], 1);
}

static void test_distinct_texts_independent(void **state)
{
        static struct nr_ratelimit rl = {.window_usec = 10 * SEC};
        uint64_t rep;
        (void)state;
        assert_true(rl_check(&rl, 4, "route 10.1.0.0/16: conflict", 0, &rep));
        assert_true(rl_check(&rl, 4, "route 10.2.0.0/16: conflict", 0, &rep));
        assert_false(rl_check(&rl, 4, "route 10.1.0.0/16: conflict", 1, &rep));
        assert_false(rl_check(&rl, 4, "route 10.2.0.0/16: conflict", 1, &rep));
}

static void test_flood_of_distinct_messages(void **state)
{
        static struct nr_ratelimit rl = {.window_usec = 10 * SEC};
        uint64_t rep;
        char text[64];
        (void)state;
        /* one message with a pending count */
        assert_true(rl_check(&rl, 4, "held", 0, &rep));
        assert_false(rl_check(&rl, 4, "held", 1, &rep));
        /* many distinct ones: each is printed (news), none is limited */
        for (int i = 0; i < 3 * NR_RL_SLOTS; i++) {
                snprintf(text, sizeof(text), "object %d: changed", i);
                assert_true(rl_check(&rl, 6, text, 2 + (uint64_t)i, &rep));
        }
        /* the pending count survived: quiet slots were reused first */
        struct flushed f = {0};
        assert_int_equal(rl_flush(&rl, 20 * SEC, false, collect, &f), 1);
        assert_string_equal(f.text[0], "held");
        assert_int_equal(f.n[0], 1);
}

static void test_long_text_truncated_consistently(void **state)
{
        static struct nr_ratelimit rl = {.window_usec = 10 * SEC};
        static char big[3000];
        uint64_t rep;
        (void)state;
        memset(big, 'x', sizeof(big) - 1);
        assert_true(rl_check(&rl, 4, big, 0, &rep));
        assert_false(rl_check(&rl, 4, big, 1, &rep));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_first_prints_repeats_counted),
                cmocka_unit_test(test_flush_reports_and_resets),
                cmocka_unit_test(test_distinct_texts_independent),
                cmocka_unit_test(test_flood_of_distinct_messages),
                cmocka_unit_test(test_long_text_truncated_consistently),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
