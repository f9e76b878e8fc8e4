/* Model and planner, pure: the desired objects for the seed topology, the order of a first plan,
 * a converged system planning nothing, and each kind of drift planning exactly its repair —
 * while anything foreign is reported, never replaced or removed. */
#include "unit_helpers.h"

#include <stdlib.h>

#include "core/model/model.h"
#include "core/model/plan.h"

static const char AZURE[] = "version: 1\n"
                            "uplinks:\n"
                            "  nat:\n"
                            "    match: {name: eth0}\n"
                            "    address: 10.0.0.4/24\n"
                            "    gateway: 10.0.0.1\n"
                            "  lan:\n"
                            "    match: {name: eth1}\n"
                            "    address: 10.0.1.4/24\n"
                            "    gateway: 10.0.1.1\n"
                            "    routes: [10.0.0.0/22, 172.16.0.0/22]\n"
                            "guests:\n"
                            "  bridge: %s\n"
                            "  subnet: 10.0.2.0/24\n"
                            "  gateway: %s\n"
                            "  dhcp:\n"
                            "    range: 10.0.2.100-10.0.2.200\n"
                            "    lease_time: %s\n"
                            "    reservations:\n"
                            "      - {name: web1, mac: \"52:54:00:00:00:10\", ip: %s}\n"
                            "port_forwards:\n"
                            "  - {proto: tcp, port: 3390, to: web1, to_port: 3389, "
                            "from: [10.0.3.0/24, 172.16.0.0/22]}\n";

static struct nr_desired W, PREV;
static struct nr_observed H;
static struct nr_plan P;

static int p_teardown(void **state)
{
        (void)state;
        t_free(&T);
        model_free(&W);
        model_free(&PREV);
        observed_free(&H);
        plan_free(&P);
        return 0;
}
#define PTEST(f) cmocka_unit_test_teardown(f, p_teardown)

static const struct nr_paths PATHS = {.run_dir = "/run/nestrouter", .state_dir = "/var/lib/nestrouter"};

/* Desired state of a config text; facts NULL: as `--plan` assumes them. */
static void build_facts(const char *text, const struct nr_facts *facts, struct nr_desired *d)
{
        struct tcfg *t = check_text(text);
        if (t->parse_r < 0 || t->validate_r < 0)
                dump_diags(&t->d);
        assert_int_equal(t->parse_r, 0);
        assert_int_equal(t->validate_r, 0);
        struct nr_facts f;
        if (facts)
                f = *facts;
        else
                model_facts_assumed(&t->cfg, &f);
        model_free(d);
        assert_int_equal(model_build(&t->cfg, &f, &PATHS, d), 0);
}

static void build(const char *text, struct nr_desired *d)
{
        build_facts(text, NULL, d);
}

static void build_azure(struct nr_desired *d, const char *bridge, const char *gw,
                        const char *lease, const char *web1_ip)
{
        char text[2048];
        snprintf(text, sizeof(text), AZURE, bridge, gw, lease, web1_ip);
        build(text, d);
}

static void build_azure_default(struct nr_desired *d)
{
        build_azure(d, "nr0", "10.0.2.1", "12h", "10.0.2.10");
}

/* ---- desired objects as text lines, to compare whole sets exactly -------------------------- */

static char *desired_text(const struct nr_desired *d, bool sort_sysctls)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        assert_non_null(f);
        for (size_t i = 0; i < d->n_links; i++)
                fprintf(f, "link %s%s master=%s mtu=%u\n", d->links[i].name,
                        d->links[i].bridge ? " bridge" : "", d->links[i].master, d->links[i].mtu);
        for (size_t i = 0; i < d->n_addrs; i++)
                fprintf(f, "addr %s %s\n", d->addrs[i].dev, prefix_s(d->addrs[i].addr).s);
        for (size_t i = 0; i < d->n_routes; i++) {
                const struct nr_route *r = &d->routes[i];
                fprintf(f, "route %u %s via %s dev %s src %s metric %u\n", r->table,
                        prefix_s(r->dst).s, ip_s(r->gateway).s, r->dev, ip_s(r->prefsrc).s,
                        r->metric);
        }
        for (size_t i = 0; i < d->n_rules; i++) {
                const struct nr_rule *r = &d->rules[i];
                fprintf(f, "rule %u from %s mark 0x%x/0x%x iif %s table %u\n", r->priority,
                        prefix_s(r->from).s, r->fwmark, r->fwmask, r->iif[0] ? r->iif : "-",
                        r->table);
        }
        /* sysctls as a set: their order is not part of the contract */
        size_t n = d->n_sysctls;
        char(*lines)[128] = calloc(n ? n : 1, sizeof(*lines));
        assert_non_null(lines);
        for (size_t i = 0; i < n; i++)
                snprintf(lines[i], sizeof(lines[i]), "sysctl %s=%s\n", d->sysctls[i].key,
                         d->sysctls[i].value);
        if (sort_sysctls && n > 1)
                qsort(lines, n, sizeof(*lines), (int (*)(const void *, const void *))strcmp);
        for (size_t i = 0; i < n; i++)
                fputs(lines[i], f);
        free(lines);
        for (size_t i = 0; i < d->n_notes; i++)
                fprintf(f, "note %s\n", d->notes[i]);
        fclose(f);
        return out;
}

static void expect_desired(const struct nr_desired *d, const char *want)
{
        char *got = desired_text(d, true);
        bool same = !strcmp(got, want);
        if (!same)
                print_message("desired state:\n%s--- expected:\n%s", got, want);
        free(got);
        assert_true(same);
}

static void test_desired_azure_nested(void **state)
{
        (void)state;
        build_azure_default(&W);
        expect_desired(&W, "link nr0 bridge master= mtu=0\n"
                           "addr eth0 10.0.0.4/24\n"
                           "addr eth1 10.0.1.4/24\n"
                           "addr nr0 10.0.2.1/24\n"
                           "route 254 0.0.0.0/0 via 10.0.0.1 dev eth0 src 0.0.0.0 metric 0\n"
                           "route 254 10.0.0.0/22 via 10.0.1.1 dev eth1 src 0.0.0.0 metric 0\n"
                           "route 254 172.16.0.0/22 via 10.0.1.1 dev eth1 src 0.0.0.0 metric 0\n"
                           "route 1001 0.0.0.0/0 via 10.0.0.1 dev eth0 src 0.0.0.0 metric 0\n"
                           "route 1001 10.0.0.0/24 via 0.0.0.0 dev eth0 src 10.0.0.4 metric 0\n"
                           "route 1001 10.0.2.0/24 via 0.0.0.0 dev nr0 src 10.0.2.1 metric 0\n"
                           "route 1002 0.0.0.0/0 via 10.0.1.1 dev eth1 src 0.0.0.0 metric 0\n"
                           "route 1002 10.0.1.0/24 via 0.0.0.0 dev eth1 src 10.0.1.4 metric 0\n"
                           "route 1002 10.0.2.0/24 via 0.0.0.0 dev nr0 src 10.0.2.1 metric 0\n"
                           "rule 5000 from 0.0.0.0/0 mark 0x100/0x300 iif - table 1001\n"
                           "rule 5001 from 0.0.0.0/0 mark 0x200/0x300 iif - table 1002\n"
                           "rule 5002 from 10.0.0.4/32 mark 0x0/0x0 iif - table 1001\n"
                           "rule 5003 from 10.0.1.4/32 mark 0x0/0x0 iif - table 1002\n"
                           "sysctl net/ipv4/conf/all/send_redirects=0\n"
                           "sysctl net/ipv4/conf/eth0/accept_redirects=0\n"
                           "sysctl net/ipv4/conf/eth0/rp_filter=2\n"
                           "sysctl net/ipv4/conf/eth0/send_redirects=0\n"
                           "sysctl net/ipv4/conf/eth1/accept_redirects=0\n"
                           "sysctl net/ipv4/conf/eth1/rp_filter=2\n"
                           "sysctl net/ipv4/conf/eth1/send_redirects=0\n"
                           "sysctl net/ipv4/conf/nr0/accept_redirects=0\n"
                           "sysctl net/ipv4/conf/nr0/send_redirects=0\n"
                           "sysctl net/ipv4/ip_forward=1\n"
                           "sysctl net/ipv6/conf/eth0/accept_ra=0\n"
                           "sysctl net/ipv6/conf/eth0/accept_redirects=0\n"
                           "sysctl net/ipv6/conf/eth0/autoconf=0\n"
                           "sysctl net/ipv6/conf/eth1/accept_ra=0\n"
                           "sysctl net/ipv6/conf/eth1/accept_redirects=0\n"
                           "sysctl net/ipv6/conf/eth1/autoconf=0\n"
                           "sysctl net/ipv6/conf/nr0/accept_ra=0\n"
                           "sysctl net/ipv6/conf/nr0/accept_redirects=0\n"
                           "sysctl net/ipv6/conf/nr0/autoconf=0\n");
        assert_int_equal(W.route_protocol, 78);
        assert_true(W.dhcp);
        assert_non_null(W.nft);
        assert_non_null(W.dnsmasq_conf);
        assert_non_null(W.dnsmasq_hosts);
        assert_int_equal(W.n_reservations, 1);
        assert_string_equal(W.reservations[0].name, "web1");
        assert_int_equal(W.reservations[0].ip, IP(10, 0, 2, 10));
}

/* Only the NAT uplink: no LAN table, mark or rule, nothing for eth1. */
static void test_desired_nat_only(void **state)
{
        (void)state;
        build("version: 1\n"
              "uplinks:\n"
              "  nat: {match: {name: eth0}, address: 10.0.0.4/24}\n"
              "guests: {subnet: 192.168.0.0/24}\n",
              &W);
        expect_desired(&W, "link nr0 bridge master= mtu=0\n"
                           "addr eth0 10.0.0.4/24\n"
                           "addr nr0 192.168.0.1/24\n"
                           "route 254 0.0.0.0/0 via 10.0.0.1 dev eth0 src 0.0.0.0 metric 0\n"
                           "route 1001 0.0.0.0/0 via 10.0.0.1 dev eth0 src 0.0.0.0 metric 0\n"
                           "route 1001 10.0.0.0/24 via 0.0.0.0 dev eth0 src 10.0.0.4 metric 0\n"
                           "route 1001 192.168.0.0/24 via 0.0.0.0 dev nr0 src 192.168.0.1 metric 0\n"
                           "rule 5000 from 0.0.0.0/0 mark 0x100/0x300 iif - table 1001\n"
                           "rule 5002 from 10.0.0.4/32 mark 0x0/0x0 iif - table 1001\n"
                           "sysctl net/ipv4/conf/all/send_redirects=0\n"
                           "sysctl net/ipv4/conf/eth0/accept_redirects=0\n"
                           "sysctl net/ipv4/conf/eth0/rp_filter=2\n"
                           "sysctl net/ipv4/conf/eth0/send_redirects=0\n"
                           "sysctl net/ipv4/conf/nr0/accept_redirects=0\n"
                           "sysctl net/ipv4/conf/nr0/send_redirects=0\n"
                           "sysctl net/ipv4/ip_forward=1\n"
                           "sysctl net/ipv6/conf/eth0/accept_ra=0\n"
                           "sysctl net/ipv6/conf/eth0/accept_redirects=0\n"
                           "sysctl net/ipv6/conf/eth0/autoconf=0\n"
                           "sysctl net/ipv6/conf/nr0/accept_ra=0\n"
                           "sysctl net/ipv6/conf/nr0/accept_redirects=0\n"
                           "sysctl net/ipv6/conf/nr0/autoconf=0\n");
}

static const char DHCP_UPLINKS[] =
        "version: 1\n"
        "uplinks:\n"
        "  nat: {match: {name: eth0}, address: dhcp}\n"
        "  lan: {match: {name: eth1}, address: dhcp, routes: [10.0.0.0/22]}\n"
        "guests: {subnet: 192.168.0.0/24}\n"
        "router: {rule_priority: 6000, route_protocol: 150}\n";

/* `address: dhcp` with no address seen yet: no uplink routes or rules, a note says why. */
static void test_desired_dhcp_uplink_waiting(void **state)
{
        (void)state;
        build(DHCP_UPLINKS, &W);
        expect_desired(&W, "link nr0 bridge master= mtu=0\n"
                           "addr nr0 192.168.0.1/24\n"
                           "sysctl net/ipv4/conf/all/send_redirects=0\n"
                           "sysctl net/ipv4/conf/eth0/accept_redirects=0\n"
                           "sysctl net/ipv4/conf/eth0/rp_filter=2\n"
                           "sysctl net/ipv4/conf/eth0/send_redirects=0\n"
                           "sysctl net/ipv4/conf/eth1/accept_redirects=0\n"
                           "sysctl net/ipv4/conf/eth1/rp_filter=2\n"
                           "sysctl net/ipv4/conf/eth1/send_redirects=0\n"
                           "sysctl net/ipv4/conf/nr0/accept_redirects=0\n"
                           "sysctl net/ipv4/conf/nr0/send_redirects=0\n"
                           "sysctl net/ipv4/ip_forward=1\n"
                           "sysctl net/ipv6/conf/eth0/accept_ra=0\n"
                           "sysctl net/ipv6/conf/eth0/accept_redirects=0\n"
                           "sysctl net/ipv6/conf/eth0/autoconf=0\n"
                           "sysctl net/ipv6/conf/eth1/accept_ra=0\n"
                           "sysctl net/ipv6/conf/eth1/accept_redirects=0\n"
                           "sysctl net/ipv6/conf/eth1/autoconf=0\n"
                           "sysctl net/ipv6/conf/nr0/accept_ra=0\n"
                           "sysctl net/ipv6/conf/nr0/accept_redirects=0\n"
                           "sysctl net/ipv6/conf/nr0/autoconf=0\n"
                           "note uplinks.nat (eth0): waiting for an address from DHCP\n"
                           "note uplinks.lan (eth1): waiting for an address from DHCP\n");
        assert_int_equal(W.route_protocol, 150);
}

/* Once DHCP gave an address, the tables use the facts' address and gateway; the OS's DHCP
 * client keeps the address and the main default route, so neither is ours. */
static void test_desired_dhcp_uplink_with_facts(void **state)
{
        (void)state;
        struct nr_facts f = {0};
        f.uplink[NR_UPLINK_NAT] = (struct nr_uplink_fact){
                .found = true, .ifname = "eth0", .have_addr = true,
                .addr = {IP(10, 0, 0, 5), 24}, .gateway = IP(10, 0, 0, 254)};
        f.uplink[NR_UPLINK_LAN] = (struct nr_uplink_fact){
                .found = true, .ifname = "eth1", .have_addr = true,
                .addr = {IP(10, 0, 1, 7), 24}, .gateway = IP(10, 0, 1, 253)};
        /* f.ipv6 is false (a kernel booted with ipv6.disable=1): no IPv6 sysctls at all */
        build_facts(DHCP_UPLINKS, &f, &W);
        expect_desired(&W, "link nr0 bridge master= mtu=0\n"
                           "addr nr0 192.168.0.1/24\n"
                           "route 254 10.0.0.0/22 via 10.0.1.253 dev eth1 src 0.0.0.0 metric 0\n"
                           "route 1001 0.0.0.0/0 via 10.0.0.254 dev eth0 src 0.0.0.0 metric 0\n"
                           "route 1001 10.0.0.0/24 via 0.0.0.0 dev eth0 src 10.0.0.5 metric 0\n"
                           "route 1001 192.168.0.0/24 via 0.0.0.0 dev nr0 src 192.168.0.1 metric 0\n"
                           "route 1002 0.0.0.0/0 via 10.0.1.253 dev eth1 src 0.0.0.0 metric 0\n"
                           "route 1002 10.0.1.0/24 via 0.0.0.0 dev eth1 src 10.0.1.7 metric 0\n"
                           "route 1002 192.168.0.0/24 via 0.0.0.0 dev nr0 src 192.168.0.1 metric 0\n"
                           "rule 6000 from 0.0.0.0/0 mark 0x100/0x300 iif - table 1001\n"
                           "rule 6001 from 0.0.0.0/0 mark 0x200/0x300 iif - table 1002\n"
                           "rule 6002 from 10.0.0.5/32 mark 0x0/0x0 iif - table 1001\n"
                           "rule 6003 from 10.0.1.7/32 mark 0x0/0x0 iif - table 1002\n"
                           "sysctl net/ipv4/conf/all/send_redirects=0\n"
                           "sysctl net/ipv4/conf/eth0/accept_redirects=0\n"
                           "sysctl net/ipv4/conf/eth0/rp_filter=2\n"
                           "sysctl net/ipv4/conf/eth0/send_redirects=0\n"
                           "sysctl net/ipv4/conf/eth1/accept_redirects=0\n"
                           "sysctl net/ipv4/conf/eth1/rp_filter=2\n"
                           "sysctl net/ipv4/conf/eth1/send_redirects=0\n"
                           "sysctl net/ipv4/conf/nr0/accept_redirects=0\n"
                           "sysctl net/ipv4/conf/nr0/send_redirects=0\n"
                           "sysctl net/ipv4/ip_forward=1\n");
        /* an uplink whose interface is not there yet: nothing for it, and a note */
        f.uplink[NR_UPLINK_LAN] = (struct nr_uplink_fact){0};
        build_facts(DHCP_UPLINKS, &f, &W);
        assert_int_equal(W.n_rules, 2);
        assert_int_equal(W.n_notes, 1);
        assert_string_equal(W.notes[0], "uplinks.lan: no interface matches (yet)");
}

/* ---- plans --------------------------------------------------------------------------------- */

/* Where an op belongs in the documented order: removals (rules, routes, addresses, links), then
 * links, sysctls, addresses, routes, rules, nft, dnsmasq, bgp, guests. Conflicts stand in for what they block
 * and are skipped (-1). */
static int phase(const struct nr_op *op)
{
        switch (op->kind) {
        case NR_OP_RULE_DEL:
                return 0;
        case NR_OP_ROUTE_DEL:
                return 1;
        case NR_OP_ADDR_DEL:
                return 2;
        case NR_OP_LINK_DEL:
                return 3;
        case NR_OP_LINK_SET_MASTER:
                return op->link.master[0] ? 4 : 3; /* releasing a port is a removal */
        case NR_OP_LINK_ADD_BRIDGE:
        case NR_OP_LINK_SET:
                return 4;
        case NR_OP_SYSCTL_SET:
                return 5;
        case NR_OP_ADDR_ADD:
                return 6;
        case NR_OP_ROUTE_REPLACE:
                return 7;
        case NR_OP_RULE_ADD:
                return 8;
        case NR_OP_NFT_CREATE:
        case NR_OP_NFT_UPDATE:
        case NR_OP_NFTBR_CREATE:
        case NR_OP_NFTBR_UPDATE:
        case NR_OP_NFT_DELETE:
        case NR_OP_NFTBR_DELETE:
                return 9;
        case NR_OP_DNSMASQ_START:
        case NR_OP_DNSMASQ_RELOAD:
        case NR_OP_DNSMASQ_STOP:
                return 10;
        case NR_OP_BGP_START:
        case NR_OP_BGP_CONFIGURE:
        case NR_OP_BGP_STOP:
                return 11; /* the health gate judges what the pass left */
        case NR_OP_VM_DEFINE:
        case NR_OP_VM_START:
        case NR_OP_VM_UNDEFINE:
                return 12; /* guests: in the guest pass's plan only */
        case NR_OP_CONFLICT:
                return -1;
        }
        return -1;
}

static void expect_ordered(const struct nr_plan *p)
{
        int last = 0;
        char line[400];
        for (size_t i = 0; i < p->n_ops; i++) {
                int ph = phase(&p->ops[i]);
                if (ph < 0)
                        continue;
                if (ph < last) {
                        plan_op_line(p, &p->ops[i], line, sizeof(line));
                        fail_msg("op %zu '%s' is out of order", i, line);
                }
                last = ph;
        }
}

static void expect_plan_text(const struct nr_plan *p, const char *want)
{
        char *got = plan_render(p);
        assert_non_null(got);
        bool same = !strcmp(got, want);
        if (!same)
                print_message("plan:\n%s--- expected:\n%s", got, want);
        free(got);
        assert_true(same);
}

static void plan(const struct nr_desired *prev)
{
        plan_free(&P);
        assert_int_equal(plan_build(&W, &H, prev, &P), 0);
        expect_ordered(&P);
}

static const char AZURE_FIRST_PLAN[] =
        "link add nr0 type bridge stp 0 forward_delay 0 up\n"
        "sysctl net/ipv4/ip_forward = 1\n"
        "sysctl net/ipv4/conf/all/send_redirects = 0\n"
        "sysctl net/ipv4/conf/nr0/send_redirects = 0\n"
        "sysctl net/ipv4/conf/nr0/accept_redirects = 0\n"
        "sysctl net/ipv6/conf/nr0/accept_ra = 0\n"
        "sysctl net/ipv6/conf/nr0/autoconf = 0\n"
        "sysctl net/ipv6/conf/nr0/accept_redirects = 0\n"
        "sysctl net/ipv4/conf/eth0/rp_filter = 2\n"
        "sysctl net/ipv4/conf/eth0/send_redirects = 0\n"
        "sysctl net/ipv4/conf/eth0/accept_redirects = 0\n"
        "sysctl net/ipv6/conf/eth0/accept_ra = 0\n"
        "sysctl net/ipv6/conf/eth0/autoconf = 0\n"
        "sysctl net/ipv6/conf/eth0/accept_redirects = 0\n"
        "sysctl net/ipv4/conf/eth1/rp_filter = 2\n"
        "sysctl net/ipv4/conf/eth1/send_redirects = 0\n"
        "sysctl net/ipv4/conf/eth1/accept_redirects = 0\n"
        "sysctl net/ipv6/conf/eth1/accept_ra = 0\n"
        "sysctl net/ipv6/conf/eth1/autoconf = 0\n"
        "sysctl net/ipv6/conf/eth1/accept_redirects = 0\n"
        "addr add 10.0.0.4/24 dev eth0\n"
        "addr add 10.0.1.4/24 dev eth1\n"
        "addr add 10.0.2.1/24 dev nr0\n"
        "route replace default via 10.0.0.1 dev eth0 table main proto 78\n"
        "route replace 10.0.0.0/22 via 10.0.1.1 dev eth1 table main proto 78\n"
        "route replace 172.16.0.0/22 via 10.0.1.1 dev eth1 table main proto 78\n"
        "route replace default via 10.0.0.1 dev eth0 table 1001 proto 78\n"
        "route replace 10.0.0.0/24 dev eth0 src 10.0.0.4 table 1001 proto 78\n"
        "route replace 10.0.2.0/24 dev nr0 src 10.0.2.1 table 1001 proto 78\n"
        "route replace default via 10.0.1.1 dev eth1 table 1002 proto 78\n"
        "route replace 10.0.1.0/24 dev eth1 src 10.0.1.4 table 1002 proto 78\n"
        "route replace 10.0.2.0/24 dev nr0 src 10.0.2.1 table 1002 proto 78\n"
        "rule add pref 5000 fwmark 0x100/0x300 lookup 1001 proto 78\n"
        "rule add pref 5001 fwmark 0x200/0x300 lookup 1002 proto 78\n"
        "rule add pref 5002 from 10.0.0.4/32 lookup 1001 proto 78\n"
        "rule add pref 5003 from 10.0.1.4/32 lookup 1002 proto 78\n"
        "nft create table inet nestrouter\n"
        "nft create table bridge nestrouter\n"
        "dnsmasq start guest DHCP/DNS\n";

static void test_plan_from_empty(void **state)
{
        (void)state;
        build_azure_default(&W);
        plan(NULL); /* H is empty */
        expect_plan_text(&P, AZURE_FIRST_PLAN);
        assert_int_equal(P.route_protocol, 78);
        /* no observation at all plans the same */
        plan_free(&P);
        assert_int_equal(plan_build(&W, NULL, NULL, &P), 0);
        expect_plan_text(&P, AZURE_FIRST_PLAN);
}

/* An observed state equal to the desired one. */
static void observed_from(const struct nr_desired *w, struct nr_observed *o)
{
        observed_free(o);
        o->links = calloc(w->n_links + 1, sizeof(*o->links));
        o->addrs = calloc(w->n_addrs + 1, sizeof(*o->addrs));
        o->routes = calloc(w->n_routes + 1, sizeof(*o->routes));
        o->rules = calloc(w->n_rules + 1, sizeof(*o->rules));
        o->sysctls = calloc(w->n_sysctls + 1, sizeof(*o->sysctls));
        assert_true(o->links && o->addrs && o->routes && o->rules && o->sysctls);
        for (size_t i = 0; i < w->n_links; i++) {
                struct nr_obs_link *l = &o->links[o->n_links++];
                snprintf(l->name, sizeof(l->name), "%s", w->links[i].name);
                snprintf(l->master, sizeof(l->master), "%s", w->links[i].master);
                l->bridge = w->links[i].bridge;
                l->up = true;
                l->mtu = w->links[i].mtu ? w->links[i].mtu : 1500;
        }
        for (size_t i = 0; i < w->n_addrs; i++)
                o->addrs[o->n_addrs++] = w->addrs[i];
        for (size_t i = 0; i < w->n_routes; i++)
                o->routes[o->n_routes++] = (struct nr_obs_route){w->routes[i], w->route_protocol};
        for (size_t i = 0; i < w->n_rules; i++)
                o->rules[o->n_rules++] = w->rules[i];
        for (size_t i = 0; i < w->n_sysctls; i++)
                o->sysctls[o->n_sysctls++] = w->sysctls[i];
        o->nft_present = true;
        o->nft = nftm_ref(w->nft);
        o->nft_bridge_present = true;
        o->nft_bridge = nftm_ref(w->nft_bridge);
        o->dnsmasq_running = w->dhcp;
        o->dnsmasq_conf = w->dnsmasq_conf ? strdup(w->dnsmasq_conf) : NULL;
        o->dnsmasq_hosts = w->dnsmasq_hosts ? strdup(w->dnsmasq_hosts) : NULL;
}

static void add_obs_route(struct nr_observed *o, struct nr_route r, uint8_t proto)
{
        o->routes = realloc(o->routes, (o->n_routes + 1) * sizeof(*o->routes));
        assert_non_null(o->routes);
        o->routes[o->n_routes++] = (struct nr_obs_route){r, proto};
}

static struct nr_route route(uint32_t table, uint32_t dst, uint8_t len, uint32_t gw,
                             const char *dev)
{
        struct nr_route r = {.table = table, .dst = {dst, len}, .gateway = gw};
        snprintf(r.dev, sizeof(r.dev), "%s", dev);
        return r;
}

static struct nr_route *want_route(uint32_t table, uint32_t dst, uint8_t len)
{
        for (size_t i = 0; i < W.n_routes; i++)
                if (W.routes[i].table == table && W.routes[i].dst.addr == dst &&
                    W.routes[i].dst.len == len)
                        return &W.routes[i];
        fail_msg("no desired route %s/%u in table %u", ip_s(dst).s, len, table);
        return NULL;
}

static struct nr_obs_route *have_route(uint32_t table, uint32_t dst, uint8_t len)
{
        for (size_t i = 0; i < H.n_routes; i++)
                if (H.routes[i].r.table == table && H.routes[i].r.dst.addr == dst &&
                    H.routes[i].r.dst.len == len)
                        return &H.routes[i];
        fail_msg("no observed route %s/%u in table %u", ip_s(dst).s, len, table);
        return NULL;
}

static void converged(void)
{
        build_azure_default(&W);
        observed_from(&W, &H);
}

static void test_plan_converged_is_empty(void **state)
{
        (void)state;
        converged();
        plan(NULL);
        expect_plan_text(&P, "");
        assert_int_equal(P.n_ops, 0);
        /* with the last apply's desired state equal to this one: still nothing */
        build_azure_default(&PREV);
        plan(&PREV);
        assert_int_equal(P.n_ops, 0);
        /* observed lists in another order than the desired ones change nothing */
        struct nr_obs_route r0 = H.routes[0];
        H.routes[0] = H.routes[H.n_routes - 1];
        H.routes[H.n_routes - 1] = r0;
        struct nr_rule u0 = H.rules[0];
        H.rules[0] = H.rules[H.n_rules - 1];
        H.rules[H.n_rules - 1] = u0;
        plan(&PREV);
        assert_int_equal(P.n_ops, 0);
}

/* A route with the same key but another protocol is someone else's: a conflict, no replace. */
static void test_plan_foreign_route_same_key(void **state)
{
        (void)state;
        converged();
        struct nr_obs_route *o = have_route(NR_TABLE_MAIN, IP(10, 0, 0, 0), 22);
        o->protocol = 4; /* RTPROT_STATIC: `ip route add` by an admin */
        o->r.gateway = IP(10, 0, 1, 254);
        plan(NULL);
        expect_plan_text(&P, "conflict a route to 10.0.0.0/22 in table 254 (proto 4) is not ours\n");
        assert_int_equal(P.ops[0].kind, NR_OP_CONFLICT);
        /* also when it would otherwise be equal */
        o->r.gateway = IP(10, 0, 1, 1);
        plan(NULL);
        assert_int_equal(P.n_ops, 1);
        assert_int_equal(P.ops[0].kind, NR_OP_CONFLICT);
}

static void test_plan_own_route_not_desired_deleted(void **state)
{
        (void)state;
        converged();
        add_obs_route(&H, route(NR_TABLE_MAIN, IP(192, 168, 99, 0), 24, IP(10, 0, 1, 1), "eth1"), 78);
        add_obs_route(&H, route(1001, IP(192, 168, 98, 0), 24, 0, "eth0"), 78);
        plan(NULL);
        expect_plan_text(&P, "route del 192.168.99.0/24 via 10.0.1.1 dev eth1 table main proto 78\n"
                             "route del 192.168.98.0/24 dev eth0 table 1001 proto 78\n");
        assert_int_equal(P.ops[0].kind, NR_OP_ROUTE_DEL);
        assert_int_equal(P.ops[1].kind, NR_OP_ROUTE_DEL);
}

static void test_plan_foreign_route_not_desired_kept(void **state)
{
        (void)state;
        converged();
        add_obs_route(&H, route(NR_TABLE_MAIN, IP(192, 168, 99, 0), 24, IP(10, 0, 1, 1), "eth1"), 4);
        add_obs_route(&H, route(1001, IP(192, 168, 98, 0), 24, 0, "eth0"), 2);
        struct nr_route dflt = route(NR_TABLE_MAIN, 0, 0, IP(10, 0, 0, 1), "eth0");
        dflt.metric = 100; /* the DHCP client's default route: another key (metric) */
        add_obs_route(&H, dflt, 16);
        plan(NULL);
        assert_int_equal(P.n_ops, 0);
}

static void test_plan_rule_not_desired_deleted(void **state)
{
        (void)state;
        converged();
        H.rules = realloc(H.rules, (H.n_rules + 1) * sizeof(*H.rules));
        assert_non_null(H.rules);
        H.rules[H.n_rules++] = (struct nr_rule){.priority = 5004, .from = {IP(10, 0, 9, 4), 32},
                                                .table = 1003};
        plan(NULL);
        expect_plan_text(&P, "rule del pref 5004 from 10.0.9.4/32 lookup 1003 proto 78\n");
        /* desired rules that are missing are added, after the removal */
        H.rules[1] = H.rules[H.n_rules - 1];
        H.n_rules = 2; /* 5000 and the stray 5004 */
        plan(NULL);
        expect_plan_text(&P, "rule del pref 5004 from 10.0.9.4/32 lookup 1003 proto 78\n"
                             "rule add pref 5001 fwmark 0x200/0x300 lookup 1002 proto 78\n"
                             "rule add pref 5002 from 10.0.0.4/32 lookup 1001 proto 78\n"
                             "rule add pref 5003 from 10.0.1.4/32 lookup 1002 proto 78\n");
        assert_int_equal(P.ops[0].kind, NR_OP_RULE_DEL);
        for (size_t i = 1; i < P.n_ops; i++)
                assert_int_equal(P.ops[i].kind, NR_OP_RULE_ADD);
}

static void test_plan_changed_gateway_replaces(void **state)
{
        (void)state;
        converged();
        have_route(NR_TABLE_MAIN, IP(10, 0, 0, 0), 22)->r.gateway = IP(10, 0, 1, 254);
        have_route(1001, IP(10, 0, 0, 0), 24)->r.prefsrc = IP(10, 0, 0, 9);
        plan(NULL);
        expect_plan_text(&P, "route replace 10.0.0.0/22 via 10.0.1.1 dev eth1 table main proto 78\n"
                             "route replace 10.0.0.0/24 dev eth0 src 10.0.0.4 table 1001 proto 78\n");
        assert_int_equal(P.ops[0].route.gateway, want_route(NR_TABLE_MAIN, IP(10, 0, 0, 0), 22)->gateway);
}

static void test_plan_dnsmasq_hosts_only_reloads(void **state)
{
        (void)state;
        converged();
        free(H.dnsmasq_hosts);
        H.dnsmasq_hosts = strdup("");
        plan(NULL);
        expect_plan_text(&P, "dnsmasq reload guest DHCP/DNS\n");

        /* a real change: web1's reservation moves; conf unchanged, hosts differ */
        observed_from(&W, &H);
        build_azure(&W, "nr0", "10.0.2.1", "12h", "10.0.2.11");
        assert_string_equal(W.dnsmasq_conf, H.dnsmasq_conf);
        assert_string_not_equal(W.dnsmasq_hosts, H.dnsmasq_hosts);
        plan(NULL);
        assert_int_equal(P.n_ops, 3);
        assert_int_equal(P.ops[0].kind, NR_OP_NFT_UPDATE); /* the forward's target moved too */
        assert_int_equal(P.ops[1].kind, NR_OP_NFTBR_UPDATE); /* and the address binding */
        assert_int_equal(P.ops[2].kind, NR_OP_DNSMASQ_RELOAD);
}

static void test_plan_dnsmasq_conf_restarts(void **state)
{
        (void)state;
        converged();
        build_azure(&W, "nr0", "10.0.2.1", "1d", "10.0.2.10"); /* lease time: main config */
        assert_string_not_equal(W.dnsmasq_conf, H.dnsmasq_conf);
        plan(NULL);
        expect_plan_text(&P, "dnsmasq start guest DHCP/DNS\n");
        /* not running at all */
        build_azure_default(&W);
        H.dnsmasq_running = false;
        plan(NULL);
        expect_plan_text(&P, "dnsmasq start guest DHCP/DNS\n");
        /* DHCP turned off while running: stop */
        build("version: 1\n"
              "uplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
              "guests: {subnet: 10.0.2.0/24, dhcp: {enabled: false}}\n",
              &W);
        observed_from(&W, &H);
        H.dnsmasq_running = true;
        plan(NULL);
        expect_plan_text(&P, "dnsmasq stop guest DHCP/DNS\n");
}

static void test_plan_nft(void **state)
{
        (void)state;
        converged();
        nftm_unref(H.nft);
        H.nft = nftm_new("inet", "nestrouter", "managed by nestrouterd; edits are overwritten");
        assert_int_equal(nftm_finish(H.nft), 0); /* an empty table: not what is wanted */
        plan(NULL);
        expect_plan_text(&P, "nft update table inet nestrouter\n");
        H.nft_present = false;
        plan(NULL);
        expect_plan_text(&P, "nft create table inet nestrouter\n");
}

/* The guest bridge's table is planned on its own: drifted or gone, only it is rewritten. */
static void test_plan_nft_bridge(void **state)
{
        (void)state;
        converged();
        nftm_unref(H.nft_bridge);
        H.nft_bridge = NULL; /* drifted: the backend found it, not as applied */
        plan(NULL);
        expect_plan_text(&P, "nft update table bridge nestrouter\n");
        H.nft_bridge_present = false;
        plan(NULL);
        expect_plan_text(&P, "nft create table bridge nestrouter\n");
}

/* An address the last apply made, no longer wanted: removed if still there, else nothing. */
static void test_plan_prev_address(void **state)
{
        (void)state;
        converged();
        build_azure(&PREV, "nr0", "10.0.2.254", "12h", "10.0.2.10");
        H.addrs = realloc(H.addrs, (H.n_addrs + 1) * sizeof(*H.addrs));
        assert_non_null(H.addrs);
        H.addrs[H.n_addrs++] = (struct nr_addr){.dev = "nr0", .addr = {IP(10, 0, 2, 254), 24}};
        plan(&PREV);
        expect_plan_text(&P, "addr del 10.0.2.254/24 dev nr0\n");
        H.n_addrs--;
        plan(&PREV);
        assert_int_equal(P.n_ops, 0);
        /* an address we never made is not ours to remove */
        H.n_addrs++;
        plan(NULL);
        assert_int_equal(P.n_ops, 0);
}

static void test_plan_prev_bridge_renamed(void **state)
{
        (void)state;
        converged();
        build_azure(&PREV, "nr1", "10.0.2.1", "12h", "10.0.2.10");
        H.links = realloc(H.links, (H.n_links + 1) * sizeof(*H.links));
        assert_non_null(H.links);
        H.links[H.n_links++] = (struct nr_obs_link){.name = "nr1", .bridge = true, .up = true};
        H.addrs = realloc(H.addrs, (H.n_addrs + 1) * sizeof(*H.addrs));
        assert_non_null(H.addrs);
        H.addrs[H.n_addrs++] = (struct nr_addr){.dev = "nr1", .addr = {IP(10, 0, 2, 1), 24}};
        plan(&PREV);
        expect_plan_text(&P, "addr del 10.0.2.1/24 dev nr1\n"
                             "link del nr1\n");
        /* already gone: nothing to do */
        H.n_links--;
        H.n_addrs--;
        plan(&PREV);
        assert_int_equal(P.n_ops, 0);
}

/* Every kind of op at once, in the documented order: removals first (rules, routes, addresses,
 * links), then links, sysctls, addresses, routes, rules, nft, dnsmasq. */
static void test_plan_full_order(void **state)
{
        (void)state;
        converged();
        build_azure(&PREV, "nr1", "10.0.2.254", "12h", "10.0.2.10");
        /* the bridge nr0 and its address are missing, the old nr1 with its address is there */
        H.links[0] = (struct nr_obs_link){.name = "nr1", .bridge = true, .up = true};
        for (size_t i = 0; i < H.n_addrs; i++)
                if (!strcmp(H.addrs[i].dev, "nr0"))
                        H.addrs[i] = (struct nr_addr){.dev = "nr1", .addr = {IP(10, 0, 2, 254), 24}};
        for (size_t i = 0; i < H.n_sysctls; i++)
                if (!strcmp(H.sysctls[i].key, "net/ipv4/ip_forward"))
                        strcpy(H.sysctls[i].value, "0");
        have_route(1002, 0, 0)->r.gateway = IP(10, 0, 1, 254);
        H.rules[3] = (struct nr_rule){.priority = 5004, .from = {IP(10, 0, 9, 4), 32}, .table = 1003};
        add_obs_route(&H, route(NR_TABLE_MAIN, IP(192, 168, 99, 0), 24, IP(10, 0, 1, 1), "eth1"), 78);
        nftm_unref(H.nft);
        H.nft = nftm_new("inet", "nestrouter", "");
        assert_int_equal(nftm_finish(H.nft), 0);
        free(H.dnsmasq_hosts);
        H.dnsmasq_hosts = strdup("");
        plan(&PREV);
        expect_plan_text(&P, "rule del pref 5004 from 10.0.9.4/32 lookup 1003 proto 78\n"
                             "route del 192.168.99.0/24 via 10.0.1.1 dev eth1 table main proto 78\n"
                             "addr del 10.0.2.254/24 dev nr1\n"
                             "link del nr1\n"
                             "link add nr0 type bridge stp 0 forward_delay 0 up\n"
                             "sysctl net/ipv4/ip_forward = 1\n"
                             "addr add 10.0.2.1/24 dev nr0\n"
                             "route replace default via 10.0.1.1 dev eth1 table 1002 proto 78\n"
                             "rule add pref 5003 from 10.0.1.4/32 lookup 1002 proto 78\n"
                             "nft update table inet nestrouter\n"
                             "dnsmasq reload guest DHCP/DNS\n");
}

/* Bridge ports: enslaved when needed, a conflict while missing, released when dropped. */
static void test_plan_ports(void **state)
{
        (void)state;
        static const char text[] = "version: 1\n"
                                   "uplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                                   "guests: {subnet: 10.0.2.0/24, ports: [%s]}\n";
        char buf[256];
        snprintf(buf, sizeof(buf), text, "eth2");
        build(buf, &W);
        observed_from(&W, &H);
        plan(NULL);
        assert_int_equal(P.n_ops, 0);
        H.links[1].master[0] = '\0';
        plan(NULL);
        expect_plan_text(&P, "link master eth2 master nr0 up\n");
        H.n_links = 1; /* eth2 does not exist */
        plan(NULL);
        expect_plan_text(&P, "conflict port eth2 does not exist (yet)\n");
        /* eth3 was a port at the last apply and is no longer */
        H.n_links = 2;
        strcpy(H.links[1].master, "nr0");
        snprintf(buf, sizeof(buf), text, "eth2, eth3");
        build(buf, &PREV);
        snprintf(buf, sizeof(buf), text, "eth2");
        build(buf, &W);
        H.links = realloc(H.links, 3 * sizeof(*H.links));
        assert_non_null(H.links);
        H.links[2] = (struct nr_obs_link){.name = "eth3", .up = true, .master = "nr0"};
        H.n_links = 3;
        plan(&PREV);
        expect_plan_text(&P, "link master eth3 nomaster up\n");
        /* ... unless it was only given back to a re-created bridge (a libvirt tap): not ours */
        PREV.links[2].adopted = true;
        plan(&PREV);
        assert_int_equal(P.n_ops, 0);
}

/* Drift in links and sysctls is repaired one op at a time. */
static void test_plan_link_and_sysctl_drift(void **state)
{
        (void)state;
        converged();
        H.links[0].stp = true;
        plan(NULL);
        expect_plan_text(&P, "link set nr0 type bridge stp 0 forward_delay 0 up\n");
        H.links[0].stp = false;
        H.links[0].forward_delay = 1500;
        plan(NULL);
        assert_int_equal(P.n_ops, 1);
        assert_int_equal(P.ops[0].kind, NR_OP_LINK_SET);
        H.links[0].forward_delay = 0;
        H.links[0].up = false;
        plan(NULL);
        assert_int_equal(P.n_ops, 1);
        H.links[0].up = true;
        H.links[0].bridge = false;
        plan(NULL);
        expect_plan_text(&P, "conflict nr0 exists and is not a bridge\n");
        H.links[0].bridge = true;
        for (size_t i = 0; i < H.n_sysctls; i++)
                if (!strcmp(H.sysctls[i].key, "net/ipv4/ip_forward"))
                        strcpy(H.sysctls[i].value, "0");
        plan(NULL);
        expect_plan_text(&P, "sysctl net/ipv4/ip_forward = 1\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                PTEST(test_desired_azure_nested),
                PTEST(test_desired_nat_only),
                PTEST(test_desired_dhcp_uplink_waiting),
                PTEST(test_desired_dhcp_uplink_with_facts),
                PTEST(test_plan_from_empty),
                PTEST(test_plan_converged_is_empty),
                PTEST(test_plan_foreign_route_same_key),
                PTEST(test_plan_own_route_not_desired_deleted),
                PTEST(test_plan_foreign_route_not_desired_kept),
                PTEST(test_plan_rule_not_desired_deleted),
                PTEST(test_plan_changed_gateway_replaces),
                PTEST(test_plan_dnsmasq_hosts_only_reloads),
                PTEST(test_plan_dnsmasq_conf_restarts),
                PTEST(test_plan_nft),
                PTEST(test_plan_nft_bridge),
                PTEST(test_plan_prev_address),
                PTEST(test_plan_prev_bridge_renamed),
                PTEST(test_plan_full_order),
                PTEST(test_plan_ports),
                PTEST(test_plan_link_and_sysctl_drift),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
