/* The host-side sections (libvirt, azure, metrics), uplink matches by Azure role, and VMs that boot a
 * kernel directly: parsing, defaults, errors and the -v round trip. */
#include "unit_helpers.h"

#include <stdlib.h>

#include "core/render/render.h"
#include "core/render/render_text.h"

static void test_libvirt_defaults_and_values(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G);
        expect_clean(t);
        assert_string_equal(t->cfg.libvirt.uri, "qemu:///system");
        assert_int_equal(t->cfg.libvirt.accel, NR_ACCEL_AUTO);
        assert_int_equal(t->cfg.libvirt.shutdown_timeout, 120);
        t = check_text(BASE_G "libvirt: {uri: \"test:///default\", accel: tcg, "
                              "shutdown_timeout: 45s}\n");
        expect_clean(t);
        assert_string_equal(t->cfg.libvirt.uri, "test:///default");
        assert_int_equal(t->cfg.libvirt.accel, NR_ACCEL_TCG);
        assert_int_equal(t->cfg.libvirt.shutdown_timeout, 45);
}

static void test_libvirt_errors(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G "libvirt: {uri: nonsense}\n");
        expect_error(t, 8, 16, "libvirt.uri", "'nonsense' is not a libvirt URI");
        t = check_text(BASE_G "libvirt: {accel: hvf}\n");
        expect_error(t, 8, 18, "libvirt.accel", "accel must be auto, kvm or tcg, not 'hvf'");
        t = check_text(BASE_G "libvirt: {shutdown_timeout: 2h}\n");
        expect_error(t, 8, 29, "libvirt.shutdown_timeout", "must be 1s to 1h");
        t = check_text(BASE_G "libvirt: {urii: x}\n");
        expect_error(t, 8, 11, "libvirt.urii", "did you mean 'uri'?");
}

static void test_azure_section(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G);
        assert_false(t->cfg.azure.present);
        assert_true(t->cfg.azure.gateway_subnet);
        assert_true(t->cfg.azure.scheduled_events);
        t = check_text(BASE_G "azure:\n  resource_group: rg-nested\n  vnet: vnet1\n"
                              "  route_table: rt-guests\n  subnets: [azure-vms, apps]\n"
                              "  gateway_subnet: false\n  lan_nic: nic2\n  vm_name: host1\n"
                              "  location: westeurope\n  event_shutdown_timeout: 90s\n");
        expect_clean(t);
        const struct nr_azure *a = &t->cfg.azure;
        assert_true(a->present);
        assert_string_equal(a->resource_group, "rg-nested");
        assert_string_equal(a->vnet, "vnet1");
        assert_string_equal(a->route_table, "rt-guests");
        assert_int_equal(a->n_subnets, 2);
        assert_string_equal(a->subnets[1], "apps");
        assert_false(a->gateway_subnet);
        assert_string_equal(a->lan_nic, "nic2");
        assert_string_equal(a->vm_name, "host1");
        assert_string_equal(a->location, "westeurope");
        assert_int_equal(a->event_shutdown_timeout, 90);
        t = check_text(BASE_G "azure: {resource_group: \"rg nested\"}\n");
        expect_error(t, 8, 25, "azure.resource_group", "is not an Azure resource name");
        t = check_text(BASE_G "azure: {subnets: [ok, \"bad/name\"]}\n");
        expect_error(t, 8, 23, "azure.subnets[1]", "is not an Azure resource name");
}

static void test_match_by_azure_role(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_U "  lan:\n    match: {azure_subnet: 10.0.1.0/24}\n"
                                           "    address: dhcp\n    routes: [10.0.0.0/22]\n");
        expect_clean(t);
        assert_int_equal(t->cfg.uplinks[NR_UPLINK_LAN].match.kind, NR_MATCH_AZURE_SUBNET);
        t = check_text("version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n"
                       "  nat: {match: {azure: primary}, address: dhcp}\n");
        expect_clean(t);
        assert_int_equal(t->cfg.uplinks[NR_UPLINK_NAT].match.kind, NR_MATCH_AZURE_PRIMARY);
        t = check_text("version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n"
                       "  nat: {match: {azure: secondary}, address: dhcp}\n");
        expect_error(t, 4, 24, "uplinks.nat.match.azure", "the only Azure role is primary");
        t = check_text("version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n"
                       "  nat: {match: {azure: primary, name: eth0}, address: dhcp}\n");
        expect_error(t, 4, 16, "uplinks.nat.match", "not several");
        t = check_text("version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n"
                       "  nat: {match: {name: eth0}, address: dhcp}\n"
                       "  lan: {match: {azure: primary}, address: dhcp, routes: [10.0.0.0/22]}\n");
        expect_error(t, 5, 16, "uplinks.lan.match", "must be the NAT uplink");
        t = check_text("version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n"
                       "  nat: {match: {azure_subnet: 10.0.0.0/24}, address: dhcp}\n"
                       "  lan: {match: {azure_subnet: 10.0.0.0/24}, address: dhcp, "
                       "routes: [10.0.0.0/22]}\n");
        expect_error(t, 5, 16, "uplinks.lan.match", "matches the same interface");
}

static void test_vm_kernel_boot(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G "vms:\n  - {name: t1, kernel: /g/vmlinuz, "
                                           "initrd: /g/initrd.gz, cmdline: \"console=ttyS0 q\"}\n");
        expect_clean(t);
        assert_null(t->cfg.vms[0].disk);
        assert_string_equal(t->cfg.vms[0].kernel, "/g/vmlinuz");
        assert_string_equal(t->cfg.vms[0].initrd, "/g/initrd.gz");
        assert_string_equal(t->cfg.vms[0].cmdline, "console=ttyS0 q");
        t = check_text(BASE_G "vms:\n  - {name: t1, disk: /d/t1.qcow2, initrd: /g/i}\n");
        expect_error(t, 9, 43, "vms[0].initrd", "only meaningful with kernel:");
        t = check_text(BASE_G "vms:\n  - {name: t1, kernel: g/vmlinuz}\n");
        expect_error(t, 9, 24, "vms[0].kernel", "is not an absolute path");
        /* a disk that was given but is wrong gets its own error, not "needs a disk" too */
        t = check_text(BASE_G "vms:\n  - {name: t1, disk: rel.qcow2}\n");
        expect_error(t, 9, 22, "vms[0].disk", "is not an absolute path");
        assert_int_equal(count_diags(&t->d, "vms[0]"), 0);
}

/* dnsmasq would ping a new dynamic address for up to 3 s before offering it; off by default (a
 * burst of new guests would wait in line), on when asked. */
static void test_dhcp_ping_check(void **state)
{
        (void)state;
        struct nr_paths paths = {"/run/nr", "/var/lib/nr"};
        char *conf = NULL, *hosts = NULL;
        struct tcfg *t = check_text(BASE_G);
        expect_clean(t);
        assert_false(t->cfg.guests.dhcp.ping_check);
        assert_int_equal(render_dnsmasq(&t->cfg, NULL, 0, &paths, &conf, &hosts), 0);
        assert_non_null(strstr(conf, "\nno-ping\n"));
        free(conf);
        free(hosts);
        t = check_text(BASE_G "  dhcp: {ping_check: true}\n");
        expect_clean(t);
        assert_true(t->cfg.guests.dhcp.ping_check);
        assert_int_equal(render_dnsmasq(&t->cfg, NULL, 0, &paths, &conf, &hosts), 0);
        assert_null(strstr(conf, "no-ping"));
        free(conf);
        free(hosts);
        t = check_text(BASE_G "  dhcp: {ping_check: maybe}\n");
        expect_error(t, 8, 22, "guests.dhcp.ping_check", "expected true or false");
}

static void test_metrics_section(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G);
        expect_clean(t);
        assert_string_equal(t->cfg.metrics.textfile, ""); /* off unless asked for */
        assert_int_equal(t->cfg.metrics.interval, 15);
        t = check_text(BASE_G "metrics: {textfile: true}\n");
        expect_clean(t);
        assert_string_equal(t->cfg.metrics.textfile,
                            "/var/lib/prometheus/node-exporter/nestrouter.prom");
        t = check_text(BASE_G "metrics: {textfile: /srv/prom/nr.prom, interval: 1m}\n");
        expect_clean(t);
        assert_string_equal(t->cfg.metrics.textfile, "/srv/prom/nr.prom");
        assert_int_equal(t->cfg.metrics.interval, 60);
        t = check_text(BASE_G "metrics: {textfile: false}\n");
        expect_clean(t);
        assert_string_equal(t->cfg.metrics.textfile, "");
        assert_int_equal(t->cfg.metrics.scrape_port, 9100);
        assert_int_equal(t->cfg.metrics.n_scrape_from, 0);
        t = check_text(BASE_G "metrics: {scrape_from: [10.0.3.0/24, 10.0.3.7/32], scrape_port: 9101}\n");
        expect_clean(t);
        assert_int_equal(t->cfg.metrics.n_scrape_from, 2);
        assert_int_equal(t->cfg.metrics.scrape_from[1].len, 32);
        assert_int_equal(t->cfg.metrics.scrape_port, 9101);
}

static void test_metrics_errors(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G "metrics: {textfile: nr.prom}\n");
        expect_error(t, 8, 21, "metrics.textfile", "'nr.prom': an absolute path ending in .prom");
        t = check_text(BASE_G "metrics: {textfile: /srv/prom/nr.txt}\n");
        expect_error(t, 8, 21, "metrics.textfile", "ending in .prom (node exporter's");
        expect_error(t, 8, 21, "metrics.textfile", "or true (/var/lib/prometheus/node-exporter/");
        t = check_text(BASE_G "metrics: {textfile: \"/a\\\\b.prom\"}\n");
        expect_error(t, 8, 21, "metrics.textfile", "no control characters, quotes");
        t = check_text(BASE_G "metrics: {textfile: [a]}\n");
        expect_error(t, 8, 21, "metrics.textfile", "");
        t = check_text(BASE_G "metrics: {interval: 0s}\n");
        expect_error(t, 8, 21, "metrics.interval", "must be 1s to 1h");
        t = check_text(BASE_G "metrics: {interval: 2h}\n");
        expect_error(t, 8, 21, "metrics.interval", "must be 1s to 1h");
        t = check_text(BASE_G "metrics: {interval: soon}\n");
        expect_error(t, 8, 21, "metrics.interval", "'soon' is not a duration");
        t = check_text(BASE_G "metrics: {scrape_port: 22}\n");
        expect_error(t, 8, 24, "metrics.scrape_port", "port 22 is SSH's");
        t = check_text(BASE_G "metrics: {scrape_port: 70000}\n");
        expect_error(t, 8, 24, "metrics.scrape_port", "out of range");
        t = check_text(BASE_G "metrics: {scrape_from: [10.0.3.0/33]}\n");
        expect_error(t, 8, 25, "metrics.scrape_from[0]", "");
        t = check_text(BASE_G "metrics: {textfiel: /a.prom}\n");
        expect_error(t, 8, 11, "metrics.textfiel", "did you mean 'textfile'?");
}

/* The -v output of every new key parses back to the same text. */
static void test_roundtrip(void **state)
{
        (void)state;
        struct tcfg *t = check_text(
                "version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n"
                "  nat: {match: {azure: primary}, address: dhcp}\n"
                "  lan: {match: {azure_subnet: 10.0.1.0/24}, address: 10.0.1.4/24, "
                "routes: [10.0.0.0/22]}\n"
                "vms:\n  - {name: t1, kernel: /g/vmlinuz, cmdline: \"a \\\"b\\\"\"}\n"
                "libvirt: {uri: \"qemu+unix:///system?socket=/x/sock\", accel: tcg}\n"
                "azure: {resource_group: rg, subnets: [a, b], gateway_subnet: false}\n"
                "metrics: {textfile: false, interval: 90s, scrape_from: [10.0.3.0/24], "
                "scrape_port: 9200}\n");
        expect_clean(t);
        char *first = render_config_yaml(&t->cfg);
        assert_non_null(first);
        t = check_text(first);
        expect_clean(t);
        char *second = render_config_yaml(&t->cfg);
        assert_non_null(second);
        assert_string_equal(first, second);
        assert_string_equal(t->cfg.vms[0].cmdline, "a \"b\"");
        assert_string_equal(t->cfg.libvirt.uri, "qemu+unix:///system?socket=/x/sock");
        free(first);
        free(second);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(test_libvirt_defaults_and_values),
                TEST(test_libvirt_errors),
                TEST(test_azure_section),
                TEST(test_match_by_azure_role),
                TEST(test_vm_kernel_boot),
                TEST(test_dhcp_ping_check),
                TEST(test_metrics_section),
                TEST(test_metrics_errors),
                TEST(test_roundtrip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
