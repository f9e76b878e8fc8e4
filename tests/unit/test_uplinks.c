/* Uplink matching (core/model/uplinks.c), table-driven: the Azure cases of the reference notes —
 * Accelerated Networking's VF carrying the synthetic NIC's MAC (enslaved, or not yet and without
 * an address), roles from IMDS, a bridge or bond carrying a member's MAC — and the addresses
 * and gateways the facts then hold. */
#include "unit_helpers.h"

#include <stdlib.h>

#include "core/model/uplinks.h"

#define MAC1 {0x00, 0x0d, 0x3a, 0x00, 0x00, 0x01}
#define MAC2 {0x00, 0x0d, 0x3a, 0x00, 0x00, 0x02}

/* NIC1 by MAC with DHCP, NIC2 by name with a static address */
static const char BY_MAC[] = "version: 1\n"
                             "uplinks:\n"
                             "  nat: {match: {mac: \"00:0d:3a:00:00:01\"}, address: dhcp}\n"
                             "  lan: {match: {name: eth1}, address: 10.0.1.4/24}\n"
                             "guests: {subnet: 10.0.2.0/24}\n";
/* both by Azure role */
static const char BY_ROLE[] = "version: 1\n"
                              "uplinks:\n"
                              "  nat: {match: {azure: primary}, address: dhcp}\n"
                              "  lan: {match: {azure_subnet: 10.0.1.0/24}, address: dhcp,\n"
                              "        gateway: 10.0.1.254}\n"
                              "guests: {subnet: 10.0.2.0/24}\n";

struct ucase {
        const char *name;
        const char *config;
        bool roles;                /* IMDS known: NIC1 = MAC1, NIC2 = MAC2 */
        struct nr_link_fact links[4];
        size_t n;
        const char *want[NR_UPLINK_COUNT];   /* ifname, NULL: not found */
        uint32_t want_addr[NR_UPLINK_COUNT]; /* 0: no address known */
        uint32_t want_gw[NR_UPLINK_COUNT];
};

#define LINK(nm, idx, m, ...) \
        {.name = nm, .ifindex = idx, .has_mac = true, .mac = m, __VA_ARGS__}
#define G4(a, b, c, d, l) .has_addr4 = true, .has_global4 = true, \
                          .global4 = {((a) << 24) | ((b) << 16) | ((c) << 8) | (d), l}

static const struct ucase CASES[] = {
        {"the synthetic NIC, not its enslaved VF (same MAC, lower ifindex)", BY_MAC, false,
         {LINK("enP1s1", 2, MAC1, .enslaved = true), LINK("eth0", 3, MAC1, G4(10, 0, 0, 4, 24)),
          LINK("eth1", 4, MAC2)},
         3, {"eth0", "eth1"}, {0x0a000004, 0x0a000104}, {0x0a000001, 0x0a000101}},
        {"no address anywhere yet: still not the enslaved VF, though its ifindex is lower", BY_MAC,
         false, {LINK("enP1s1", 2, MAC1, .enslaved = true), LINK("eth0", 3, MAC1)}, 2,
         {"eth0", NULL}, {0, 0}, {0, 0}},
        {"a VF seen before it is enslaved has no address: the NIC with one wins", BY_MAC, false,
         {LINK("enP1s1", 2, MAC1), LINK("eth0", 3, MAC1, G4(10, 0, 0, 4, 24)),
          LINK("eth1", 4, MAC2)},
         3, {"eth0", "eth1"}, {0x0a000004, 0x0a000104}, {0x0a000001, 0x0a000101}},
        {"neither has an address yet: the lowest ifindex, whatever the listing order", BY_MAC,
         false, {LINK("eth0", 5, MAC1), LINK("enP1s1", 3, MAC1), LINK("eth1", 4, MAC2)}, 3,
         {"enP1s1", "eth1"}, {0, 0x0a000104}, {0, 0x0a000101}},
        {"a bridge or bond carrying the MAC is never the uplink", BY_MAC, false,
         {LINK("br0", 1, MAC1, .aggregate = true, G4(10, 0, 0, 4, 24)),
          LINK("bond0", 2, MAC1, .aggregate = true), LINK("eth0", 3, MAC1)},
         3, {"eth0", NULL}, {0, 0}, {0, 0}},
        {"no interface with the MAC, no eth1: neither found", BY_MAC, false,
         {LINK("eth0", 2, MAC2)}, 1, {NULL, NULL}, {0, 0}, {0, 0}},
        {"a name match takes the named interface even when enslaved", BY_MAC, false,
         {LINK("eth1", 7, MAC2, .enslaved = true)}, 1, {NULL, "eth1"}, {0, 0x0a000104},
         {0, 0x0a000101}},
        {"Azure roles from IMDS: by the MACs IMDS gave, VF skipped; DHCP addresses, gateways",
         BY_ROLE, true,
         {LINK("enP2s2", 2, MAC2, .enslaved = true), LINK("eth0", 3, MAC1, G4(10, 0, 0, 4, 24)),
          LINK("eth1", 4, MAC2, G4(10, 0, 1, 5, 24))},
         3, {"eth0", "eth1"}, {0x0a000004, 0x0a000105}, {0x0a000001, 0x0a0001fe}},
        {"Azure roles before IMDS answered: nothing matches", BY_ROLE, false,
         {LINK("eth0", 3, MAC1, G4(10, 0, 0, 4, 24)), LINK("eth1", 4, MAC2)}, 2, {NULL, NULL},
         {0, 0}, {0, 0}},
        {"DHCP uplink without a global address yet: found, no address", BY_ROLE, true,
         {LINK("eth0", 3, MAC1, .has_addr4 = true), LINK("eth1", 4, MAC2)}, 2, {"eth0", "eth1"},
         {0, 0}, {0, 0}},
};

static void test_cases(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
                const struct ucase *c = &CASES[i];
                struct tcfg *t = check_text(c->config);
                if (t->d.n_errors) {
                        dump_diags(&t->d);
                        fail_msg("case %zu: config rejected", i);
                }
                struct imds_roles roles = {.known = {true, true}, .mac = {MAC1, MAC2}};
                struct nr_uplink_fact out[NR_UPLINK_COUNT];
                uplinks_match(&t->cfg, c->roles ? &roles : NULL, c->links, c->n, out);
                for (int r = 0; r < NR_UPLINK_COUNT; r++) {
                        const char *got = out[r].found ? out[r].ifname : NULL;
                        if ((got == NULL) != (c->want[r] == NULL) ||
                            (got && strcmp(got, c->want[r])))
                                fail_msg("%s: uplink %d is %s, want %s", c->name, r,
                                         got ? got : "(none)", c->want[r] ? c->want[r] : "(none)");
                        uint32_t addr = out[r].have_addr ? out[r].addr.addr : 0;
                        if (addr != c->want_addr[r] || (addr && out[r].gateway != c->want_gw[r]))
                                fail_msg("%s: uplink %d address %08x gateway %08x, want %08x %08x",
                                         c->name, r, addr, out[r].gateway, c->want_addr[r],
                                         c->want_gw[r]);
                }
        }
}

/* An absent uplink gets nothing, whatever the links are. */
static void test_absent_uplink(void **state)
{
        (void)state;
        struct tcfg *t = check_text("version: 1\n"
                                    "uplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                                    "guests: {subnet: 10.0.2.0/24}\n");
        const struct nr_link_fact links[] = {LINK("eth0", 2, MAC1), LINK("eth1", 3, MAC2)};
        struct nr_uplink_fact out[NR_UPLINK_COUNT];
        uplinks_match(&t->cfg, NULL, links, 2, out);
        assert_true(out[NR_UPLINK_NAT].found);
        assert_false(out[NR_UPLINK_LAN].found);
        assert_false(out[NR_UPLINK_LAN].have_addr);
}

/* The guest bridge's ports: the configured ones (even before they are enslaved) and whatever
 * the kernel shows enslaved to it (libvirt's taps), sorted; ports of another bridge are not. */
static void test_bridge_ports(void **state)
{
        (void)state;
        struct tcfg *t = check_text("version: 1\n"
                                    "uplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                                    "guests: {subnet: 10.0.2.0/24, bridge: nr0, ports: [veth-a]}\n");
        const struct nr_link_fact links[] = {
                LINK("eth0", 2, MAC1), LINK("vnet7", 9, MAC2, .master = "nr0"),
                LINK("veth-b", 8, MAC2, .master = "nr0"), LINK("tap9", 10, MAC2, .master = "br1"),
                LINK("veth-a", 7, MAC2, .master = "nr0"),
        };
        static struct nr_facts f;
        facts_build(&t->cfg, NULL, links, 5, true, &f);
        assert_true(f.ipv6);
        assert_true(f.uplink[NR_UPLINK_NAT].found);
        assert_int_equal(f.n_ports, 3);
        assert_string_equal(f.ports[0], "veth-a");
        assert_string_equal(f.ports[1], "veth-b");
        assert_string_equal(f.ports[2], "vnet7");
        assert_false(f.ports_truncated);
        /* a configured port that does not exist yet is listed all the same */
        facts_build(&t->cfg, NULL, links, 1, false, &f);
        assert_int_equal(f.n_ports, 1);
        assert_string_equal(f.ports[0], "veth-a");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(test_cases),
                TEST(test_absent_uplink),
                TEST(test_bridge_ports),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
