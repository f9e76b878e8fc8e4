/* The bgp: section and the Route Server keys of azure:: defaults, the ASNs Azure refuses, the
 * peers' reachability through NIC2, prefixes inside the VNet's address space. Each rule has an
 * accept and a reject case with the exact place. */
#include "unit_helpers.h"

#define BASE                                                                                   \
        "version: 1\n"                                        /* 1 */                          \
        "uplinks:\n"                                          /* 2 */                          \
        "  nat: {match: {name: eth0}, address: 10.0.0.4/24}\n" /* 3 */                         \
        "  lan:\n"                                            /* 4 */                          \
        "    match: {name: eth1}\n"                           /* 5 */                          \
        "    address: 10.0.1.4/24\n"                          /* 6 */                          \
        "    routes: [10.0.0.0/22, 10.0.4.0/26]\n"            /* 7 */                          \
        "guests:\n"                                           /* 8 */                          \
        "  subnet: 10.100.0.0/24\n"                           /* 9 */                          \
        "azure:\n"                                            /* 10 */                         \
        "  address_space: [10.0.0.0/22, 10.0.4.0/26]\n"       /* 11 */                         \
        "bgp:\n"                                              /* 12 */

static void test_defaults(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4, 10.0.4.5]\n");
        expect_clean(t);
        const struct nr_bgp *b = &t->cfg.bgp;
        assert_true(b->present);
        assert_int_equal(b->asn, 65010);
        assert_int_equal(b->peer_asn, 65515);
        assert_int_equal(b->n_peers, 2);
        assert_int_equal(b->hold_time, 180);
        assert_int_equal(b->keepalive, 60);
        assert_int_equal(b->multihop, 2);
        assert_int_equal(b->n_advertise, 1);
        assert_int_equal(b->advertise[0].len, 24);
        assert_int_equal(b->advertise[0].addr, t->cfg.guests.subnet.addr);
        assert_int_equal(b->prepend, 0);
        assert_false(b->install_routes);

        t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4, 10.0.4.5]\n  hold_time: 30s\n"
                            "  advertise: [10.100.0.0/24, 10.101.0.0/24]\n  prepend: 3\n");
        expect_clean(t);
        assert_int_equal(t->cfg.bgp.keepalive, 10);
        assert_int_equal(t->cfg.bgp.n_advertise, 2);
        assert_int_equal(t->cfg.bgp.prepend, 3);

        t = check_text(BASE "  peers: [10.0.4.4, 10.0.4.5]\n");
        expect_error(t, 13, 3, "bgp", "missing required key 'asn'");
}

static void test_asn(void **state)
{
        (void)state;
        static const struct {
                const char *asn, *needle;
        } bad[] = {
                {"65515", "Route Server's own"},
                {"65517", "reserved by Azure"},
                {"65520", "reserved by Azure"},
                {"8075", "Microsoft's"},
                {"12076", "ExpressRoute"},
                {"23456", "AS_TRANS"},
                {"64500", "documentation"},
                {"65535", "reserved"},
                {"0", "ASN 0 is reserved"},
                {"65536", "4-byte ASN"},
                {"4200000000", "4-byte ASN"},
        };
        char text[1024];
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                snprintf(text, sizeof(text), BASE "  asn: %s\n  peers: [10.0.4.4, 10.0.4.5]\n",
                         bad[i].asn);
                struct tcfg *t = check_text(text);
                expect_error(t, 13, 8, "bgp.asn", bad[i].needle);
        }
        static const char *const good[] = {"1", "65010", "65514", "65516", "64512", "7224"};
        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
                snprintf(text, sizeof(text), BASE "  asn: %s\n  peers: [10.0.4.4, 10.0.4.5]\n",
                         good[i]);
                expect_clean(check_text(text));
        }
        struct tcfg *t = check_text(BASE "  asn: 65010\n  peer_asn: 65010\n"
                                         "  peers: [10.0.4.4, 10.0.4.5]\n");
        expect_error(t, 13, 8, "bgp.asn", "also peer_asn");
}

static void test_peers(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4]\n");
        expect_warning(t, 14, 10, "bgp.peers", "two instances");
        t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4, 10.0.8.5]\n");
        expect_error(t, 14, 21, "bgp.peers[1]", "not reachable through uplinks.lan");
        t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4, 10.0.4.4]\n");
        expect_error(t, 14, 21, "bgp.peers[1]", "listed twice");
        t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4, 10.0.0.5]\n");
        expect_error(t, 14, 21, "bgp.peers[1]", "NAT subnet");
        t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4, 10.100.0.5]\n");
        expect_error(t, 14, 21, "bgp.peers[1]", "guest subnet");
        /* the LAN subnet itself needs no route */
        t = check_text(BASE "  asn: 65010\n  peers: [10.0.1.20, 10.0.1.21]\n");
        expect_clean(t);
        /* with the RouteServerSubnet stated, the peers are in it */
        t = check_text("version: 1\nuplinks:\n  lan:\n    match: {name: eth1}\n"
                       "    address: 10.0.1.4/24\n    routes: [10.0.0.0/16]\n"
                       "guests: {subnet: 10.100.0.0/24}\n"
                       "azure: {route_server_subnet: 10.0.4.0/26}\n"
                       "bgp: {asn: 65010, peers: [10.0.4.4, 10.0.5.5]}\n");
        expect_error(t, 9, 37, "bgp.peers[1]", "outside azure.route_server_subnet");
        t = check_text("version: 1\nuplinks:\n  nat: {match: {name: eth0}, address: 10.0.0.4/24}\n"
                       "guests: {subnet: 10.100.0.0/24}\n"
                       "bgp: {asn: 65010, peers: [10.0.4.4, 10.0.4.5]}\n");
        expect_error(t, 5, 6, "bgp", "needs uplinks.lan");
}

static void test_vnet_space(void **state)
{
        (void)state;
        struct tcfg *t = check_text("version: 1\nuplinks:\n  lan:\n    match: {name: eth1}\n"
                                    "    address: 10.0.1.4/24\n    routes: [10.0.0.0/16]\n"
                                    "guests: {subnet: 10.0.2.0/24}\n"
                                    "azure: {address_space: [10.0.0.0/16]}\n"
                                    "bgp: {asn: 65010, peers: [10.0.4.4, 10.0.4.5]}\n");
        expect_error(t, 7, 18, "guests.subnet", "inside the VNet's address space 10.0.0.0/16");
        t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4, 10.0.4.5]\n"
                            "  advertise: [10.100.0.0/24, 10.0.4.0/28]\n");
        expect_error(t, 15, 30, "bgp.advertise[1]", "inside the VNet's address space 10.0.4.0/26");
        /* without bgp:, a guest subnet inside the VNet is the route-table recipe: fine */
        t = check_text("version: 1\nuplinks:\n  lan:\n    match: {name: eth1}\n"
                       "    address: 10.0.1.4/24\n    routes: [10.0.0.0/16]\n"
                       "guests: {subnet: 10.0.2.0/24}\n"
                       "azure: {address_space: [10.0.0.0/16]}\n");
        expect_clean(t);
        t = check_text("version: 1\nuplinks:\n  lan:\n    match: {name: eth1}\n"
                       "    address: 10.0.1.4/24\n    routes: [10.0.0.0/16]\n"
                       "guests: {subnet: 10.100.0.0/24}\n"
                       "azure: {address_space: [10.0.0.0/22], route_server_subnet: 10.0.4.0/26}\n");
        expect_error(t, 8, 60, "azure.route_server_subnet", "outside the VNet's address space");
        t = check_text("version: 1\nuplinks:\n  lan:\n    match: {name: eth1}\n"
                       "    address: 10.0.1.4/24\n    routes: [10.0.0.0/16]\n"
                       "guests: {subnet: 10.100.0.0/24}\n"
                       "azure: {route_server_subnet: 10.0.4.0/28}\n");
        expect_error(t, 8, 30, "azure.route_server_subnet", "/26 or larger");
}

static void test_timers(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4, 10.0.4.5]\n"
                                         "  hold_time: 2\n");
        expect_error(t, 15, 14, "bgp.hold_time", "0 or at least 3s");
        t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4, 10.0.4.5]\n"
                            "  hold_time: 9s\n  keepalive: 9s\n");
        expect_error(t, 16, 14, "bgp.keepalive", "shorter than the hold time");
        t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4, 10.0.4.5]\n"
                            "  hold_time: 9s\n  keepalive: 4s\n");
        expect_warning(t, 16, 14, "bgp.keepalive", "more than a third");
        t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4, 10.0.4.5]\n"
                            "  hold_time: 9s\n  keepalive: 3s\n  multihop: 1\n");
        expect_clean(t);
        t = check_text(BASE "  asn: 65010\n  peers: [10.0.4.4, 10.0.4.5]\n  prepend: 9\n");
        expect_error(t, 15, 12, "bgp.prepend", "out of range");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(test_defaults), TEST(test_asn),    TEST(test_peers),
                TEST(test_vnet_space), TEST(test_timers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
