/* core/model/guest_resources.c: the autostarted guests' memory and vCPUs against the host's. */
#include "unit_helpers.h"

#include "core/model/guest_resources.h"

static const char *const yaml =
        "version: 1\n"
        "uplinks:\n"
        "  nat: {match: {name: eth0}, address: 10.0.0.4/24}\n"
        "guests: {subnet: 10.0.2.0/24}\n"
        "vms:\n"
        "  - {name: a, disk: /d/a.qcow2, memory: 4GiB, vcpus: 2}\n"
        "  - {name: b, disk: /d/b.qcow2, memory: 2GiB, vcpus: 2}\n"
        "  - {name: c, disk: /d/c.qcow2, memory: 64GiB, vcpus: 64, autostart: false}\n";

static void test_fits_and_not(void **state)
{
        char out[512];
        (void)state;
        struct tcfg *t = check_text(yaml);
        expect_clean(t);
        /* 6 GiB and 4 vCPUs of autostarted guests (c is not) */
        assert_int_equal(guest_resources_check(&t->cfg, 8ull << 30, 4, out, sizeof(out)), 0);
        assert_string_equal(out, "");
        assert_int_equal(guest_resources_check(&t->cfg, 6ull << 30, 2, out, sizeof(out)), 2);
        assert_string_equal(out,
                            "2 autostarted guests have 6144 MiB of memory; the host has 6144 MiB, "
                            "5632 MiB after 512 MiB for itself: they may not all start, or swap\n"
                            "2 autostarted guests have 4 vCPUs on 2 host CPUs: overcommitted, "
                            "they share the CPUs\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {TEST(test_fits_and_not)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
