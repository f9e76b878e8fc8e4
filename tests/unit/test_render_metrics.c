/* The Prometheus exposition (core/render/render_metrics.c): a full set of numbers and a bare one against
 * golden files in tests/golden/metrics/ (run from the repo root; NR_UPDATE_GOLDEN=1 rewrites
 * them; tests/golden/test-metrics.sh runs promtool on them), the histogram's buckets and their
 * boundaries, drop reasons read from the right nft rules, and label escaping. */
#include "golden_file.h"

#include <stdlib.h>

#include "core/render/render_metrics.h"

#define GOLDEN_DIR "tests/golden/metrics"

static const struct nr_mkind repairs[] = {
        {"link", 1}, {"sysctl", 0}, {"address", 2}, {"route", 5},
        {"rule", 0}, {"nft", 1},    {"dnsmasq", 3},
};
static const struct nr_mkind changes[] = {
        {"link", 2}, {"sysctl", 9}, {"address", 3}, {"route", 4},
        {"rule", 2}, {"nft", 2},    {"dnsmasq", 2},
};
static const struct nr_mkind failing[] = {
        {"link", 1}, {"sysctl", 0}, {"address", 0}, {"route", 1},
        {"rule", 0}, {"nft", 0},    {"dnsmasq", 0},
};
static const struct nftd_counter rules[] = {
        {"prerouting", "pre-pf-open", 3, 180},
        {"prerouting", "pre-pf-from", 7, 420},
        {"prerouting", "pre-pf-hairpin", 2, 120},
        {"input", "in-drop", 11, 660},
        {"forward", "fwd-invalid", 1, 40},
        {"forward", "fwd-guest-spoof", 4, 336},
        {"forward", "fwd-guest-imds", 2, 120},
        {"forward", "fwd-guest-wireserver", 1, 60},
        {"forward", "fwd-drop", 9, 540},
        {"forward", "fwd-pf-tcp-3390", 120, 48000},
        {"forward", "fwd-pf-udp-51820", 5, 700},
        {"postrouting", "post-masq-nat", 42, 3000},
};
static const struct nr_mforward forwards[] = {
        {"tcp", 3390, "10.0.2.10:3389", "web1"},
        {"udp", 51820, "10.0.2.20:51820", ""},
        {"tcp", 8080, "10.0.2.30:80", ""}, /* no rule (yet): no series */
};
static const struct nr_mguest guests[] = {
        {"web1", "running", NR_MIMPORT_NONE, 0},
        {"db1", "shut off", NR_MIMPORT_DONE, 100},
        {"win1", "undefined", NR_MIMPORT_RUNNING, 42.5},
        {"app2", "running", NR_MIMPORT_QUEUED, 0},
};

static struct nr_metrics full(void)
{
        struct nr_metrics m = {
                .config_ok = true, .config_applied = true, .converged = true,
                .reloads = 3, .reloads_rejected = 1, .writes = 40, .failures = 2, .backoffs = 1,
                .events_netlink = 120, .events_nft = 6, .overruns = 0,
                .repairs = repairs, .changes = changes, .failing = failing, .n_kinds = 7,
                .last_pass_usec = 1234,
                .nft_full_applies = 1, .nft_delta_applies = 2, .nft_listings = 5,
                .nft_foreign_commits = 1, .rules_ok = true, .rules = rules,
                .n_rules = sizeof(rules) / sizeof(*rules), .forwards = forwards,
                .n_forwards = sizeof(forwards) / sizeof(*forwards),
                .dnsmasq_up = true, .dnsmasq_starts = 2, .dnsmasq_crashes = 1,
                .dhcp_enabled = true, .dhcp_leases = 2, .dhcp_pool_size = 101,
                .dhcp_reservations = 1, .imds_fetches = 4, .imds_failures = 1,
                .guests = guests, .n_guests = 4,
        };
        metrics_pass_observe(&m.pass, 300);
        metrics_pass_observe(&m.pass, 1200);
        metrics_pass_observe(&m.pass, 48000);
        metrics_pass_observe(&m.pass, 9000000);
        return m;
}

static void check_golden(const char *name, const struct nr_metrics *m)
{
        char *text = render_metrics(m);
        assert_non_null(text);
        golden_check(GOLDEN_DIR, name, text, "the rendered metrics", NULL);
        free(text);
}

static void test_golden_full(void **state)
{
        (void)state;
        struct nr_metrics m = full();
        check_golden("full.prom", &m);
}

/* a daemon without a valid config yet: no rules, no DHCP, no guests */
static void test_golden_bare(void **state)
{
        (void)state;
        static const struct nr_mkind none[] = {{"link", 0}, {"route", 0}};
        struct nr_metrics m = {.reloads = 1, .reloads_rejected = 1, .repairs = none,
                               .changes = none, .n_kinds = 2};
        check_golden("bare.prom", &m);
}

static bool has_line(const char *text, const char *line)
{
        size_t n = strlen(line);
        for (const char *p = text; (p = strstr(p, line)); p += n)
                if ((p == text || p[-1] == '\n') && p[n] == '\n')
                        return true;
        return false;
}

static void test_histogram(void **state)
{
        (void)state;
        struct nr_pass_hist h = {0};
        /* a bound belongs to its bucket (le: less or equal) */
        metrics_pass_observe(&h, 500);
        metrics_pass_observe(&h, 501);
        metrics_pass_observe(&h, 2500000);
        metrics_pass_observe(&h, 2500001);
        assert_int_equal(h.bucket[0], 1);
        assert_int_equal(h.bucket[1], 1);
        assert_int_equal(h.bucket[NR_PASS_BUCKETS - 1], 1);
        assert_int_equal(h.bucket[NR_PASS_BUCKETS], 1);
        assert_int_equal(h.count, 4);
        assert_int_equal(h.sum_usec, 500 + 501 + 2500000 + 2500001);
        struct nr_metrics m = {.pass = h};
        char *t = render_metrics(&m);
        assert_non_null(t);
        /* cumulative, ending in +Inf == count; sum in seconds */
        assert_true(has_line(t, "nestrouter_pass_duration_seconds_bucket{le=\"0.0005\"} 1"));
        assert_true(has_line(t, "nestrouter_pass_duration_seconds_bucket{le=\"0.001\"} 2"));
        assert_true(has_line(t, "nestrouter_pass_duration_seconds_bucket{le=\"1\"} 2"));
        assert_true(has_line(t, "nestrouter_pass_duration_seconds_bucket{le=\"2.5\"} 3"));
        assert_true(has_line(t, "nestrouter_pass_duration_seconds_bucket{le=\"+Inf\"} 4"));
        assert_true(has_line(t, "nestrouter_pass_duration_seconds_count 4"));
        assert_true(has_line(t, "nestrouter_pass_duration_seconds_sum 5.001002"));
        free(t);
}

static void test_drop_reasons(void **state)
{
        (void)state;
        struct nr_metrics m = full();
        char *t = render_metrics(&m);
        assert_non_null(t);
        assert_true(has_line(t, "nestrouter_dropped_packets_total{reason=\"spoof\"} 4"));
        assert_true(has_line(t, "nestrouter_dropped_bytes_total{reason=\"spoof\"} 336"));
        assert_true(has_line(t, "nestrouter_dropped_packets_total{reason=\"metadata\"} 2"));
        assert_true(has_line(t, "nestrouter_dropped_packets_total{reason=\"wireserver\"} 1"));
        assert_true(has_line(t, "nestrouter_dropped_packets_total{reason=\"forward_policy\"} 9"));
        assert_true(has_line(t, "nestrouter_dropped_packets_total{reason=\"input_policy\"} 11"));
        assert_true(has_line(t, "nestrouter_port_forward_connections_total{match=\"from\"} 7"));
        assert_true(has_line(t, "nestrouter_port_forward_packets_total{proto=\"tcp\",port=\"3390\","
                                "target=\"10.0.2.10:3389\",name=\"web1\"} 120"));
        assert_true(has_line(t, "nestrouter_port_forward_bytes_total{proto=\"udp\",port=\"51820\","
                                "target=\"10.0.2.20:51820\"} 700"));
        assert_null(strstr(t, "port=\"8080\""));
        assert_true(has_line(t, "nestrouter_nft_rule_packets_total{chain=\"postrouting\","
                                "rule=\"post-masq-nat\"} 42"));
        /* a rule that is not in the table (in-guest-drop) gives no series */
        assert_null(strstr(t, "input_guest"));
        free(t);
        /* counters that could not be read: said so, and no rule series */
        m.rules_ok = false;
        t = render_metrics(&m);
        assert_non_null(t);
        assert_true(has_line(t, "nestrouter_nft_counters_ok 0"));
        assert_null(strstr(t, "nestrouter_dropped_packets_total"));
        free(t);
}

static void test_label_escaping(void **state)
{
        (void)state;
        static const struct nr_mguest odd[] = {{"a\"b\\c\nd", "shut off", NR_MIMPORT_NONE, 0}};
        struct nr_metrics m = {.guests = odd, .n_guests = 1};
        char *t = render_metrics(&m);
        assert_non_null(t);
        assert_true(has_line(t, "nestrouter_guest_state{vm=\"a\\\"b\\\\c\\nd\",state=\"shut off\"} 1"));
        free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_golden_full),
                cmocka_unit_test(test_golden_bare),
                cmocka_unit_test(test_histogram),
                cmocka_unit_test(test_drop_reasons),
                cmocka_unit_test(test_label_escaping),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
