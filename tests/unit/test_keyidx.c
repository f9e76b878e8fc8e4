/* keyidx: the index the cross-field checks find duplicates and `to:` targets with. Chains of one
 * key in index order, the string part telling equal keys apart, elements never put, lookups
 * that miss, and a crowd of keys that all land in one slot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "core/config/keyidx.h"

static void chains_in_index_order(void **state)
{
        (void)state;
        struct kidx x;
        /* keys by index: 7 9 7 - 7 9 11 (index 3 never put) */
        const uint64_t key[] = {7, 9, 7, 0, 7, 9, 11};
        kidx_init(&x, 7);
        for (size_t i = 0; i < 7; i++)
                if (i != 3)
                        kidx_put(&x, i, key[i], NULL);
        kidx_sort(&x);
        assert_int_equal(kidx_first(&x, 0), 0);
        assert_int_equal(kidx_first(&x, 2), 0);
        assert_int_equal(kidx_first(&x, 4), 0);
        assert_int_equal(kidx_first(&x, 5), 1);
        assert_int_equal(kidx_first(&x, 6), 6);
        assert_int_equal(kidx_first(&x, 3), KIDX_NONE);
        assert_int_equal(kidx_first(&x, 99), KIDX_NONE);
        assert_int_equal(kidx_next(&x, 0), 2);
        assert_int_equal(kidx_next(&x, 2), 4);
        assert_int_equal(kidx_next(&x, 4), KIDX_NONE);
        assert_int_equal(kidx_next(&x, 1), 5);
        assert_int_equal(kidx_next(&x, 3), KIDX_NONE);
        assert_int_equal(kidx_find(&x, 7, NULL), 0);
        assert_int_equal(kidx_find(&x, 9, ""), 1); /* NULL and "" are one string */
        assert_int_equal(kidx_find(&x, 11, NULL), 6);
        assert_int_equal(kidx_find(&x, 0, NULL), KIDX_NONE); /* element 3's would-be key */
        assert_int_equal(kidx_find(&x, 8, NULL), KIDX_NONE);
        kidx_free(&x);
}

/* Names: one key per string, and two strings forced onto one key stay apart. */
static void strings(void **state)
{
        (void)state;
        struct kidx x;
        const char *name[] = {"web1", "db", "web1", "db2", "db"};
        kidx_init(&x, 5);
        for (size_t i = 0; i < 5; i++)
                kidx_put(&x, i, i == 3 ? kidx_str_key("db") : kidx_str_key(name[i]), name[i]);
        kidx_sort(&x);
        assert_int_equal(kidx_first(&x, 2), 0);
        assert_int_equal(kidx_first(&x, 3), 3); /* same key as "db", another string */
        assert_int_equal(kidx_first(&x, 4), 1);
        assert_int_equal(kidx_next(&x, 1), 4);
        assert_int_equal(kidx_find(&x, kidx_str_key("db"), "db"), 1);
        assert_int_equal(kidx_find(&x, kidx_str_key("db"), "db2"), 3);
        assert_int_equal(kidx_find(&x, kidx_str_key("nosuch"), "nosuch"), KIDX_NONE);
        kidx_free(&x);
}

/* 3,000 elements, 1,000 keys three times each, the keys differing only in high bits (they
 * probe past each other): every chain complete and in index order. */
static void crowd(void **state)
{
        (void)state;
        struct kidx x;
        enum { N = 3000 };
        kidx_init(&x, N);
        for (size_t i = 0; i < N; i++)
                kidx_put(&x, i, (uint64_t)(i % 1000) << 40, NULL);
        kidx_sort(&x);
        for (size_t k = 0; k < 1000; k++) {
                assert_int_equal(kidx_find(&x, (uint64_t)k << 40, NULL), k);
                assert_int_equal(kidx_next(&x, k), k + 1000);
                assert_int_equal(kidx_next(&x, k + 1000), k + 2000);
                assert_int_equal(kidx_next(&x, k + 2000), KIDX_NONE);
                assert_int_equal(kidx_first(&x, k + 2000), k);
        }
        kidx_free(&x);
}

static void empty(void **state)
{
        (void)state;
        struct kidx x;
        kidx_init(&x, 0);
        kidx_sort(&x);
        assert_int_equal(kidx_find(&x, 1, NULL), KIDX_NONE);
        assert_int_equal(kidx_first(&x, 0), KIDX_NONE);
        kidx_free(&x);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(chains_in_index_order),
                cmocka_unit_test(strings),
                cmocka_unit_test(crowd),
                cmocka_unit_test(empty),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
