/* Validation rules, part one: the file itself, values, uplinks, the guest subnet, its DHCP range
 * and reservations. Every rule has an ACCEPT case (nothing reported) and a REJECT case with the
 * exact line:column, key path, message and severity. Forwards, VMs, warnings and whole-file
 * behaviour are in test_validate_more.c. */
#include "unit_helpers.h"

/* ---- the file ------------------------------------------------------------------------------ */

static void test_yaml_syntax(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G "  dhcp: {range: \"10.0.2.100-10.0.2.200}\n");
        assert_true(t->parse_r < 0);
        expect_error(t, 9, 1, "", "YAML syntax: found unexpected end of stream");
        assert_int_equal(t->d.n, 1); /* nothing else: validation has nothing to look at */

        t = check_text(BASE_G "  dhcp: {range: \"10.0.2.100-10.0.2.200\"}\n");
        expect_clean(t);
}

static void test_unknown_key_suggests(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G "  brigde: nr1\n");
        expect_error(t, 8, 3, "guests.brigde", "unknown key 'brigde' (did you mean 'bridge'?)");
        assert_true(t->parse_r < 0);
        t = check_text(BASE_G "  bridge: nr1\n");
        expect_clean(t);
        assert_string_equal(t->cfg.guests.bridge, "nr1");
}

static void test_wrong_type(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G "  dhcp:\n    reservations: {name: web1}\n");
        expect_error(t, 9, 19, "guests.dhcp.reservations", "expected a list, got a mapping");
        t = check_text(BASE_G "  dhcp:\n    reservations:\n      - [web1]\n");
        expect_error(t, 10, 9, "guests.dhcp.reservations[0]", "expected a mapping");
        t = check_text(BASE_G "  dhcp:\n    reservations:\n"
                              "      - {name: web1, mac: \"52:54:00:00:00:10\", ip: 10.0.2.10}\n");
        expect_clean(t);
}

/* One value of each kind that does not parse is reported where it is; the rest still checks. */
static void test_malformed_values(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G
                                    "  gateway: 10.0.2.256\n"                 /* 8 */
                                    "  dhcp:\n"                               /* 9 */
                                    "    lease_time: 10 minutes\n"            /* 10 */
                                    "    reservations:\n"                     /* 11 */
                                    "      - {mac: \"52:54:00:00:00\", ip: 10.0.2.10}\n" /* 12 */
                                    "port_forwards:\n"                        /* 13 */
                                    "  - {port: 99999, to: 10.0.2.10, from: [10.0.3.0]}\n"
                                    "vms:\n"                                  /* 15 */
                                    "  - {name: a, disk: /d/a.qcow2, memory: 4GB}\n");
        expect_error(t, 8, 12, "guests.gateway", "'10.0.2.256' is not an IPv4 address");
        expect_error(t, 10, 17, "guests.dhcp.lease_time", "'10 minutes' is not a duration");
        expect_error(t, 12, 15, "guests.dhcp.reservations[0].mac",
                     "'52:54:00:00:00' is not a MAC address");
        expect_error(t, 14, 12, "port_forwards[0].port", "99999 is out of range (1 to 65535)");
        expect_error(t, 14, 41, "port_forwards[0].from[0]",
                     "'10.0.3.0' has no prefix length (like 10.0.3.0/24; /32 is one host)");
        expect_error(t, 16, 41, "vms[0].memory", "write 4GiB");
        assert_int_equal(t->d.n, 6);
        assert_int_equal(t->d.n_warnings, 0);
}

static void test_subnet_host_bits(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_U "    routes: [192.168.1.1/24]\n");
        expect_error(t, 8, 14, "uplinks.nat.routes[0]",
                     "192.168.1.1/24 has host bits set (did you mean 192.168.1.0/24?)");
        t = check_text("version: 1\n"
                       "uplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                       "guests: {subnet: 10.0.2.1/24}\n");
        expect_error(t, 3, 18, "guests.subnet", "did you mean 10.0.2.0/24?");
        assert_int_equal(t->d.n, 1); /* no follow-on complaints about a subnet we do not have */
        t = check_text(BASE_U "    routes: [192.168.1.0/24]\n");
        expect_clean(t);
}

static void test_version(void **state)
{
        (void)state;
        struct tcfg *t = check_text("version: 3\n"
                                    "uplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                                    "guests: {subnet: 10.0.2.0/24}\n");
        expect_error(t, 1, 10, "version", "unsupported version 3");
        t = check_text("version: 1\n"
                       "uplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                       "guests: {subnet: 10.0.2.0/24}\n");
        expect_clean(t);
}

static void test_bridge_name(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G "  bridge: nestrouter-guest0\n");
        expect_error(t, 8, 11, "guests.bridge", "is 17 bytes long; interface names have at most 15");
        t = check_text(BASE_G "  bridge: br/guests\n");
        expect_error(t, 8, 11, "guests.bridge", "is not a valid interface name");
        t = check_text(BASE_G "  bridge: nestrouter-gst0\n"); /* exactly 15 */
        expect_clean(t);
        /* the bridge cannot also be an uplink */
        t = check_text(BASE_G "  bridge: eth0\n");
        expect_error(t, 4, 19, "uplinks.nat.match.name", "eth0 is also the guest bridge's name");
}

/* ---- uplinks ------------------------------------------------------------------------------- */

static void test_uplink_gateway(void **state)
{
        (void)state;
        static const struct {
                const char *gw, *needle;
        } bad[] = {
                {"10.0.1.1", "gateway 10.0.1.1 is outside the uplink's subnet 10.0.0.0/24"},
                {"10.0.0.0", "gateway 10.0.0.0 is the network address of 10.0.0.0/24"},
                {"10.0.0.255", "gateway 10.0.0.255 is the broadcast address of 10.0.0.0/24"},
                {"10.0.0.4", "gateway 10.0.0.4 is the uplink's own address"},
                {"0.0.0.0", "0.0.0.0 is not a host address"},
        };
        char text[512];
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                snprintf(text, sizeof(text), BASE_U "    gateway: %s\n", bad[i].gw);
                struct tcfg *t = check_text(text);
                assert_true(t->parse_r < 0 || t->validate_r < 0);
                expect_diag_at(t, NR_SEV_ERROR, 8, 14, "uplinks.nat.gateway", bad[i].needle,
                               bad[i].gw, (int)i);
        }
        struct tcfg *t = check_text(BASE_2 "    gateway: 10.0.2.1\n    routes: [10.0.0.0/22]\n");
        expect_error(t, 11, 14, "uplinks.lan.gateway",
                     "gateway 10.0.2.1 is outside the uplink's subnet 10.0.1.0/24");
        t = check_text(BASE_U "    gateway: 10.0.0.254\n");
        expect_clean(t);
        assert_int_equal(t->cfg.uplinks[NR_UPLINK_NAT].gateway, IP(10, 0, 0, 254));
        /* a /31 or /32 host address has no gateway on its subnet */
        t = check_text("version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n"
                       "  nat: {match: {name: eth0}, address: 10.0.0.4/32}\n");
        expect_error(t, 4, 39, "uplinks.nat.address", "/32");
        assert_int_equal(t->d.n, 1);
}

static void test_guest_gateway(void **state)
{
        (void)state;
        static const struct {
                const char *gw, *needle;
        } bad[] = {
                {"10.0.3.1", "gateway 10.0.3.1 is outside the guest subnet 10.0.2.0/24"},
                {"10.0.2.0", "gateway 10.0.2.0 is the network address of 10.0.2.0/24"},
                {"10.0.2.255", "gateway 10.0.2.255 is the broadcast address of 10.0.2.0/24"},
                /* an explicit 0.0.0.0 is refused; it must not silently become .1 */
                {"0.0.0.0", "0.0.0.0 is not a host address"},
        };
        char text[512];
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                snprintf(text, sizeof(text), BASE_G "  gateway: %s\n", bad[i].gw);
                struct tcfg *t = check_text(text);
                if (t->parse_r >= 0 && t->validate_r >= 0)
                        print_message("guests.gateway %s accepted\n", bad[i].gw);
                assert_true(t->parse_r < 0 || t->validate_r < 0);
                expect_diag_at(t, NR_SEV_ERROR, 8, 12, "guests.gateway", bad[i].needle,
                               bad[i].gw, (int)i);
        }
        struct tcfg *t = check_text(BASE_G "  gateway: 10.0.2.254\n");
        expect_clean(t);
}

static void test_guest_subnet_overlaps_uplink(void **state)
{
        (void)state;
        struct tcfg *t = check_text("version: 1\n"
                                    "uplinks:\n"
                                    "  nat: {match: {name: eth0}, address: 10.0.0.4/24}\n"
                                    "guests:\n"
                                    "  subnet: 10.0.0.128/25\n");
        expect_error(t, 5, 11, "guests.subnet",
                     "10.0.0.128/25 overlaps uplinks.nat's subnet 10.0.0.0/24");
        t = check_text("version: 1\n"
                       "uplinks:\n"
                       "  nat: {match: {name: eth0}, address: 10.0.0.4/24}\n"
                       "  lan: {match: {name: eth1}, address: 10.0.1.4/24, routes: [10.0.0.0/22]}\n"
                       "guests:\n"
                       "  subnet: 10.0.0.0/16\n");
        expect_error(t, 6, 11, "guests.subnet", "10.0.0.0/16 overlaps uplinks.nat's subnet");
        expect_error(t, 6, 11, "guests.subnet", "10.0.0.0/16 overlaps uplinks.lan's subnet "
                                                "10.0.1.0/24");
        /* adjacent is fine; so is a DHCP uplink, whose subnet is not known yet */
        t = check_text("version: 1\n"
                       "uplinks:\n"
                       "  nat: {match: {name: eth0}, address: 10.0.0.4/24}\n"
                       "guests:\n"
                       "  subnet: 10.0.1.0/24\n");
        expect_clean(t);
        t = check_text("version: 1\n"
                       "uplinks:\n"
                       "  nat: {match: {name: eth0}, address: dhcp}\n"
                       "guests:\n"
                       "  subnet: 10.0.0.0/24\n");
        expect_clean(t);
}

/* A LAN route inside (or equal to) the guest subnet would send guests' traffic away; one that
 * contains it (the VNet 10.0.0.0/22 around 10.0.2.0/24) is the normal Azure setup. */
static void test_lan_route_vs_guest_subnet(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_2 "    routes: [10.0.0.0/22, 10.0.2.128/25]\n");
        expect_error(t, 11, 27, "uplinks.lan.routes[1]",
                     "10.0.2.128/25 is inside the guest subnet 10.0.2.0/24");
        assert_int_equal(t->d.n, 1);
        t = check_text(BASE_2 "    routes: [10.0.2.0/24]\n");
        expect_error(t, 11, 14, "uplinks.lan.routes[0]",
                     "10.0.2.0/24 is the guest subnet 10.0.2.0/24");
        t = check_text(BASE_2 "    routes: [10.0.2.7/32]\n");
        expect_error(t, 11, 14, "uplinks.lan.routes[0]", "is inside the guest subnet");
        t = check_text(BASE_2 "    routes: [10.0.0.0/22, 172.16.0.0/22]\n");
        expect_clean(t);
        t = check_text(BASE_2 "    routes: [10.0.0.0/8]\n");
        expect_clean(t);
}

static void test_lan_route_twice(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_2 "    routes: [10.0.0.0/22, 10.0.0.0/22]\n");
        expect_error(t, 11, 27, "uplinks.lan.routes[1]", "10.0.0.0/22 is listed twice");
        t = check_text("version: 1\n"
                       "guests: {subnet: 10.0.2.0/24}\n"
                       "uplinks:\n"
                       "  nat: {match: {name: eth0}, address: 10.0.0.4/24, routes: [172.16.0.0/22]}\n"
                       "  lan:\n"
                       "    match: {name: eth1}\n"
                       "    address: 10.0.1.4/24\n"
                       "    routes: [172.16.0.0/22]\n");
        expect_error(t, 8, 14, "uplinks.lan.routes[0]", "also routed via uplinks.nat");
}

static void test_uplinks_same_interface(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_U
                                    "  lan:\n"
                                    "    match: {name: eth0}\n"
                                    "    address: 10.0.1.4/24\n"
                                    "    routes: [10.0.0.0/22]\n");
        expect_error(t, 9, 12, "uplinks.lan.match",
                     "matches the same interface as uplinks.nat.match");
        assert_int_equal(t->d.n, 1);
        t = check_text("version: 1\n"
                       "guests: {subnet: 10.0.2.0/24}\n"
                       "uplinks:\n"
                       "  nat: {match: {mac: \"00:0d:3a:aa:bb:cc\"}, address: dhcp}\n"
                       "  lan:\n"
                       "    match: {mac: 00-0D-3A-AA-BB-CC}\n"
                       "    address: 10.0.1.4/24\n"
                       "    routes: [10.0.0.0/22]\n");
        expect_error(t, 6, 12, "uplinks.lan.match", "matches the same interface");
        t = check_text("version: 1\n"
                       "guests: {subnet: 10.0.2.0/24}\n"
                       "uplinks:\n"
                       "  nat: {match: {mac: \"00:0d:3a:aa:bb:cc\"}, address: dhcp}\n"
                       "  lan:\n"
                       "    match: {mac: \"00:0d:3a:aa:bb:cd\"}\n"
                       "    address: 10.0.1.4/24\n"
                       "    routes: [10.0.0.0/22]\n");
        expect_clean(t);
        t = check_text(BASE_2 "    routes: [10.0.0.0/22]\n");
        expect_clean(t);
        t = check_text(BASE_2 "    routes: [10.0.0.0/22]\n    table: 1001\n");
        expect_error(t, 12, 12, "uplinks.lan.table", "table 1001 is also the other uplink's table");
}

/* ---- guests.dhcp.range --------------------------------------------------------------------- */

static void test_dhcp_range(void **state)
{
        (void)state;
        static const struct {
                const char *range, *needle;
        } bad[] = {
                {"10.0.3.100-10.0.3.200", "range 10.0.3.100-10.0.3.200 is not inside the usable "
                                          "addresses of 10.0.2.0/24 (10.0.2.1-10.0.2.254)"},
                {"10.0.2.100-10.0.3.5", "is not inside the usable addresses"},
                {"10.0.2.0-10.0.2.50", "is not inside the usable addresses"},
                {"10.0.2.200-10.0.2.255", "is not inside the usable addresses"},
                {"10.0.2.200-10.0.2.100", "range is reversed (10.0.2.200 comes after 10.0.2.100)"},
                {"10.0.2.1-10.0.2.50", "range contains the gateway 10.0.2.1"},
                {"0.0.0.0-10.0.2.50", "is not a range"},
                {"10.0.2.100", "'10.0.2.100' is not a range (like 10.0.2.100-10.0.2.200)"},
                {"10.0.2.100-", "is not a range"},
        };
        char text[512];
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                snprintf(text, sizeof(text), BASE_G "  dhcp:\n    range: %s\n", bad[i].range);
                struct tcfg *t = check_text(text);
                if (t->parse_r >= 0 && t->validate_r >= 0)
                        print_message("range %s accepted\n", bad[i].range);
                expect_diag_at(t, NR_SEV_ERROR, 9, 12, "guests.dhcp.range", bad[i].needle,
                               bad[i].range, (int)i);
        }
        struct tcfg *t = check_text(BASE_G "  dhcp:\n    range: 10.0.2.100-10.0.2.200\n");
        expect_clean(t);
        t = check_text(BASE_G "  dhcp:\n    range: 10.0.2.5-10.0.2.5\n");
        expect_clean(t);
        t = check_text(BASE_G "  gateway: 10.0.2.254\n  dhcp:\n    range: 10.0.2.1-10.0.2.253\n");
        expect_clean(t);
}

/* ---- guests.dhcp.reservations -------------------------------------------------------------- */

#define RES2(a, b) BASE_G "  dhcp:\n    reservations:\n      - " a "\n      - " b "\n"

static void test_reservation_place(void **state)
{
        (void)state;
        static const struct {
                const char *ip, *needle;
        } bad[] = {
                {"10.0.3.10", "10.0.3.10 is outside the guest subnet 10.0.2.0/24"},
                {"10.0.2.1", "10.0.2.1 is the guests' gateway (the router itself)"},
                {"10.0.2.255", "10.0.2.255 is the broadcast address of 10.0.2.0/24"},
                {"10.0.2.0", "10.0.2.0 is the network address of 10.0.2.0/24"},
                {"0.0.0.0", "0.0.0.0 is not a host address"},
        };
        char text[512];
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                snprintf(text, sizeof(text),
                         BASE_G "  dhcp:\n    reservations:\n"
                                "      - {name: web1, mac: \"52:54:00:00:00:10\", ip: %s}\n",
                         bad[i].ip);
                struct tcfg *t = check_text(text);
                if (t->validate_r >= 0)
                        print_message("reservation ip %s accepted\n", bad[i].ip);
                assert_true(t->parse_r < 0 || t->validate_r < 0);
                expect_diag_at(t, NR_SEV_ERROR, 10, 52, "guests.dhcp.reservations[0].ip",
                               bad[i].needle, bad[i].ip, (int)i);
        }
        struct tcfg *t = check_text(
                BASE_G "  dhcp:\n    reservations:\n"
                       "      - {name: web1, mac: \"52:54:00:00:00:10\", ip: 10.0.2.254}\n");
        expect_clean(t);
}

static void test_reservation_duplicates(void **state)
{
        (void)state;
        struct tcfg *t = check_text(RES2("{name: web1, mac: \"52:54:00:00:00:10\", ip: 10.0.2.10}",
                                         "{name: web2, mac: \"52:54:00:00:00:11\", ip: 10.0.2.10}"));
        expect_error(t, 11, 52, "guests.dhcp.reservations[1].ip",
                     "10.0.2.10 is also reserved by reservations[0]");
        assert_int_equal(t->d.n, 1);
        t = check_text(RES2("{name: web1, mac: \"52:54:00:00:00:10\", ip: 10.0.2.10}",
                            "{name: web2, mac: \"52-54-00-00-00-10\", ip: 10.0.2.11}"));
        expect_error(t, 11, 27, "guests.dhcp.reservations[1].mac",
                     "52:54:00:00:00:10 is also used by reservations[0]");
        assert_int_equal(t->d.n, 1);
        t = check_text(RES2("{name: web1, mac: \"52:54:00:00:00:10\", ip: 10.0.2.10}",
                            "{name: web1, mac: \"52:54:00:00:00:11\", ip: 10.0.2.11}"));
        expect_error(t, 11, 16, "guests.dhcp.reservations[1].name",
                     "name web1 is also used by reservations[0]");
        assert_int_equal(t->d.n, 1);
        /* distinct everything, and two without a name, are fine */
        t = check_text(RES2("{name: web1, mac: \"52:54:00:00:00:10\", ip: 10.0.2.10}",
                            "{name: web2, mac: \"52:54:00:00:00:11\", ip: 10.0.2.11}"));
        expect_clean(t);
        t = check_text(RES2("{mac: \"52:54:00:00:00:10\", ip: 10.0.2.10}",
                            "{mac: \"52:54:00:00:00:11\", ip: 10.0.2.11}"));
        expect_clean(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(test_yaml_syntax),
                TEST(test_unknown_key_suggests),
                TEST(test_wrong_type),
                TEST(test_malformed_values),
                TEST(test_subnet_host_bits),
                TEST(test_version),
                TEST(test_bridge_name),
                TEST(test_uplink_gateway),
                TEST(test_guest_gateway),
                TEST(test_guest_subnet_overlaps_uplink),
                TEST(test_lan_route_vs_guest_subnet),
                TEST(test_lan_route_twice),
                TEST(test_uplinks_same_interface),
                TEST(test_dhcp_range),
                TEST(test_reservation_place),
                TEST(test_reservation_duplicates),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
