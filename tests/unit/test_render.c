/* Renderers: nft ruleset and dnsmasq config/hostsfile from hand-built configs (no YAML parser),
 * checked line by line and against golden files tests/golden/render/unit-* (run from the repo root;
 * NR_UPDATE_GOLDEN=1 rewrites them). NR_RENDER_DUMP=DIR also writes every rendered variant to DIR,
 * for tests/netns/nft-load-check.sh and `dnsmasq --test`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_file.h"
#include "core/render/render.h"

#define GOLDEN_DIR "tests/golden/render"

struct fx {
        struct nr_config cfg;
        struct nr_facts facts;
        uint32_t dns[4];
        struct nr_port_forward pf[4];
        struct nr_prefix from[4][4];
        struct nr_prefix ssh_from[4];
        struct nr_reservation res[6];
        size_t n_res;
};

static const struct nr_paths paths = {.run_dir = "/run/nestrouter",
                                      .state_dir = "/var/lib/nestrouter"};

static uint32_t ip(const char *s)
{
        uint32_t a = 0;
        assert_int_equal(ip_parse(s, &a), 0);
        return a;
}

static struct nr_prefix pfx(const char *s)
{
        struct nr_prefix p = {0, 0};
        assert_int_equal(prefix_parse(s, &p), 0);
        return p;
}

/* Guests on nr0 10.0.2.0/24, gateway .1, DHCP .100-.199 for a day, DNS from the gateway. */
static void fx_init(struct fx *f)
{
        memset(f, 0, sizeof(*f));
        struct nr_guests *g = &f->cfg.guests;
        strcpy(g->bridge, "nr0");
        g->subnet = pfx("10.0.2.0/24");
        g->gateway = ip("10.0.2.1");
        g->dhcp.enabled = true;
        g->dhcp.ping_check = true;
        g->dhcp.range_start = ip("10.0.2.100");
        g->dhcp.range_end = ip("10.0.2.199");
        g->dhcp.lease_time = 86400;
        g->dhcp.dynamic_lease_time = 86400; /* what cfg_fill_defaults makes of them */
        g->dhcp.dynamic_lease_set = true;
        g->dhcp.max_leases = 100;
        f->dns[0] = g->gateway;
        g->dhcp.dns = f->dns;
        g->dhcp.n_dns = 1;
        g->dhcp.dns_set = true;
        f->cfg.firewall.ssh = true;
        f->cfg.firewall.block_metadata = true;
        f->cfg.port_forwards = f->pf;
        f->cfg.firewall.ssh_from = f->ssh_from;
}

/* addr NULL: the uplink takes its address from DHCP (and has none yet when have_addr is false) */
static void fx_uplink(struct fx *f, enum nr_uplink_role r, const char *ifname, const char *addr,
                      bool dhcp)
{
        struct nr_uplink *u = &f->cfg.uplinks[r];
        struct nr_uplink_fact *uf = &f->facts.uplink[r];
        u->present = true;
        u->dhcp = dhcp;
        u->match.kind = NR_MATCH_NAME;
        snprintf(u->match.name, sizeof(u->match.name), "%s", ifname);
        u->table = r == NR_UPLINK_NAT ? 1001 : 1002;
        uf->found = true;
        snprintf(uf->ifname, sizeof(uf->ifname), "%s", ifname);
        if (addr) {
                uf->have_addr = true;
                uf->addr = pfx(addr);
                if (!dhcp)
                        u->address = uf->addr;
        }
}

static struct nr_port_forward *fx_forward(struct fx *f, enum nr_proto p, uint16_t port,
                                          const char *to, uint16_t to_port)
{
        size_t i = f->cfg.n_port_forwards++;
        struct nr_port_forward *pf = &f->pf[i];
        pf->proto = p;
        pf->port = port;
        pf->to_ip = ip(to);
        pf->to_port = to_port;
        pf->from = f->from[i];
        return pf;
}

static void fx_from(struct nr_port_forward *pf, const char *prefix)
{
        pf->from[pf->n_from++] = pfx(prefix);
}

static void fx_res(struct fx *f, const char *name, const char *mac, const char *addr)
{
        struct nr_reservation *r = &f->res[f->n_res++];
        snprintf(r->name, sizeof(r->name), "%s", name);
        r->has_mac = mac != NULL;
        if (mac)
                assert_int_equal(mac_parse(mac, r->mac), 0);
        r->ip = ip(addr);
}

/* The seed topology: both uplinks, forwards with and without allow-lists, SSH allow-list. */
static void fx_full(struct fx *f)
{
        fx_init(f);
        fx_uplink(f, NR_UPLINK_NAT, "eth0", "10.0.0.4/24", false);
        fx_uplink(f, NR_UPLINK_LAN, "eth1", "10.1.0.4/24", false);
        fx_forward(f, NR_PROTO_TCP, 2222, "10.0.2.10", 22);
        struct nr_port_forward *rdp = fx_forward(f, NR_PROTO_TCP, 3389, "10.0.2.11", 3389);
        fx_from(rdp, "203.0.113.0/24");
        fx_from(rdp, "198.51.100.7/32");
        fx_forward(f, NR_PROTO_UDP, 51820, "10.0.2.12", 51820);
        f->ssh_from[0] = pfx("192.168.10.0/24");
        f->cfg.firewall.n_ssh_from = 1;
        snprintf(f->cfg.guests.dhcp.domain, sizeof(f->cfg.guests.dhcp.domain), "lab.internal");
        fx_res(f, "web01", "52:54:00:00:00:12", "10.0.2.20");
        fx_res(f, "db01", "52:54:00:00:00:11", "10.0.2.10");
}

/* NAT only, uplink address from DHCP, guests use Azure DNS directly, no forwards. */
static void fx_nat_only(struct fx *f)
{
        fx_init(f);
        fx_uplink(f, NR_UPLINK_NAT, "eth0", "10.0.0.4/24", true);
        f->dns[0] = ip("168.63.129.16");
        f->cfg.guests.dhcp.lease_time = 0;
        f->cfg.guests.dhcp.dynamic_lease_time = 0;
        f->cfg.firewall.ssh = false;
}

/* Routed only (no NAT), no DHCP, one open forward, metadata not blocked. */
static void fx_routed_only(struct fx *f)
{
        fx_init(f);
        fx_uplink(f, NR_UPLINK_LAN, "eth1", "10.1.0.4/24", false);
        fx_forward(f, NR_PROTO_TCP, 8080, "10.0.2.10", 80);
        f->cfg.guests.dhcp.enabled = false;
        f->cfg.firewall.block_metadata = false;
}

static void dump(const char *name, const char *ext, const char *text)
{
        const char *dir = getenv("NR_RENDER_DUMP");
        char path[512];
        if (!dir || !*dir)
                return;
        snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(text, fp);
        assert_int_equal(fclose(fp), 0);
}

static char *nft(const struct fx *f, const char *dump_name)
{
        struct nftm_table *t = render_nft(&f->cfg, &f->facts);
        assert_non_null(t);
        char *s = nftm_text(t);
        nftm_unref(t);
        assert_non_null(s);
        dump(dump_name, "nft", s);
        return s;
}

struct dm_out {
        char *conf, *hosts;
};

static struct dm_out dm(const struct fx *f, const char *dump_name)
{
        struct dm_out o = {NULL, NULL};
        assert_int_equal(render_dnsmasq(&f->cfg, f->res, f->n_res, &paths, &o.conf, &o.hosts), 0);
        assert_non_null(o.conf);
        assert_non_null(o.hosts);
        dump(dump_name, "dnsmasq.conf", o.conf);
        dump(dump_name, "dnsmasq.hosts", o.hosts);
        return o;
}

static void dm_free(struct dm_out *o)
{
        free(o->conf);
        free(o->hosts);
}

/* Is there a line containing every one of the (NULL-terminated) needles? */
static bool has_line(const char *text, ...)
{
        const char *p = text;
        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                char *line = strndup(p, len);
                bool all = true;
                va_list ap;
                va_start(ap, text);
                for (const char *n; all && (n = va_arg(ap, const char *));)
                        all = strstr(line, n) != NULL;
                va_end(ap);
                free(line);
                if (all)
                        return true;
                p += len + (nl != NULL);
        }
        return false;
}

/* The body of `\t<head> {` ... `\t}` (the lines between, each with its newline). */
static char *block(const char *text, const char *head)
{
        char open[96];
        snprintf(open, sizeof(open), "\t%s {\n", head);
        const char *s = strstr(text, open);
        if (!s)
                fail_msg("no block '%s'", head);
        s += strlen(open);
        const char *e = strstr(s, "\n\t}\n");
        assert_non_null(e);
        return strndup(s, (size_t)(e - s) + 1);
}

static void assert_block(const char *text, const char *head, const char *want)
{
        char *got = block(text, head);
        assert_string_equal(got, want);
        free(got);
}

/* A rule is any line in a chain that is not its hook line, a comment or the closing brace. */
static void assert_every_rule_counted(const char *text)
{
        const char *p = strstr(text, "\tchain ");
        assert_non_null(p);
        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                char *line = strndup(p, len);
                const char *t = line + strspn(line, "\t ");
                bool rule = *t && *t != '#' && *t != '}' && strncmp(t, "type ", 5) &&
                            strncmp(t, "chain ", 6);
                if (rule && (!strstr(t, "counter") || !strstr(line, " comment \"")))
                        fail_msg("rule without counter or id: %s", line);
                free(line);
                p += len + (nl != NULL);
        }
}

static void test_nft_full_rules(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        char *s = nft(&f, "full");

        assert_true(has_line(s, "oifname \"eth0\"", "ip saddr 10.0.2.0/24", "masquerade", NULL));
        assert_false(has_line(s, "eth1", "masquerade", NULL));
        assert_true(has_line(s, "iifname { \"eth0\", \"eth1\" }", "@pf_open",
                             "dnat ip to meta l4proto . th dport map @pf_dnat", NULL));
        assert_true(has_line(s, "iifname { \"eth0\", \"eth1\" }",
                             "ip saddr . meta l4proto . th dport @pf_from", "dnat ip to", NULL));
        assert_true(has_line(s, "iifname \"nr0\"", "@uplink_addrs", "@pf_dnat",
                             "comment \"pre-pf-hairpin\"", NULL));
        assert_true(has_line(s, "oifname \"nr0\"", "ct status dnat", "masquerade", NULL));
        assert_true(has_line(s, "iifname \"eth1\" ip daddr 10.0.2.0/24 counter accept", NULL));
        assert_true(has_line(s, "iifname \"eth0\" ip daddr 10.0.2.0/24 ct status dnat counter "
                                "accept",
                             NULL));
        assert_true(has_line(s, "iifname \"nr0\" ip saddr != 10.0.2.0/24 counter drop", NULL));
        assert_true(has_line(s, "tcp option maxseg size set rt mtu", NULL));
        assert_true(has_line(s, "tcp dport 22 ip saddr @ssh_from counter accept", NULL));
        assert_true(has_line(s, "comment \"in-guest-dhcp\"", NULL));
        assert_true(has_line(s, "comment \"in-guest-dns\"", NULL));
        assert_true(has_line(s, "168.63.129.16", "th dport 53", "accept", NULL));
        assert_true(has_line(s, "ip daddr 168.63.129.16 counter drop", NULL));
        assert_false(has_line(s, "in-dhcp-client", NULL)); /* static addresses */
        assert_false(has_line(s, "flush", NULL));
        assert_false(has_line(s, "delete", NULL));
        assert_every_rule_counted(s);
        free(s);
}

/* The clamp must see every SYN (a new connection's, and the SYN/ACK, which conntrack already
 * calls established) before an accept ends the chain: it is the first rule. The per-forward
 * counters must see every packet of a forwarded connection: established ones go to them
 * through fwd-established's vmap (pf_established), a new one's first packet through
 * fwd-to-pf-count; only DNATed connections take either, so other traffic never walks the
 * per-forward rules. The spoof guard comes before every rule that accepts a new connection. */
static void test_nft_forward_order(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        char *s = nft(&f, "order");
        char *fwd = block(s, "chain forward");
        assert_null(strstr(fwd, "fwd-pf-tcp-2222"));
        assert_true(has_line(fwd, "ct status dnat counter jump pf_count", NULL));
        assert_true(has_line(fwd, "ct state established,related counter",
                             "ct status & dnat vmap { 0x0 : accept, dnat : goto pf_established }",
                             "comment \"fwd-established\"", NULL));
        assert_null(strstr(fwd, "fwd-est-setup")); /* fwd-established takes every such packet */
        const char *ids[] = {"fwd-mss-clamp", "fwd-established", "fwd-invalid", "fwd-guest-spoof",
                             "fwd-to-pf-count", "fwd-guest-imds", "fwd-guest-azdns", "fwd-guest-wireserver",
                             "fwd-guest-out", "fwd-lan-in", "fwd-nat-pf", "fwd-drop"};
        const char *prev = fwd;
        for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++) {
                const char *at = strstr(fwd, ids[i]);
                if (!at || at < prev)
                        fail_msg("%s missing or out of order", ids[i]);
                prev = at;
        }
        assert_true(strstr(fwd, "policy drop;") != NULL);
        free(fwd);
        assert_block(s, "chain pf_established",
                     "\t\tcounter jump pf_count comment \"fwd-est-pf-count\"\n"
                     "\t\tcounter accept comment \"fwd-est-pf-accept\"\n");
        free(s);
}

/* Issue 11: a packet of an established connection meets its verdict at most two rules into the
 * forward chain, whatever the configuration: the MSS clamp, which has no verdict and matches
 * only TCP SYNs, then fwd-established, which ends the evaluation for every established or related
 * packet. The spoof guard follows them (when there is a bridge). Checked on the model the
 * backend applies, rule by rule. */
static void assert_established_within_two(const struct fx *f, bool bridge)
{
        struct nftm_table *t = render_nft(&f->cfg, &f->facts);
        assert_non_null(t);
        const struct nftm_chain *c = nftm_find_chain(t, "forward");
        assert_non_null(c);
        assert_true(c->n_rules >= 3);
        assert_string_equal(nftm_str(t, c->rules[0].id), "fwd-mss-clamp");
        assert_string_equal(nftm_str(t, c->rules[0].text),
                            "tcp flags syn counter tcp option maxseg size set rt mtu");
        assert_string_equal(nftm_str(t, c->rules[1].id), "fwd-established");
        const char *est = nftm_str(t, c->rules[1].text);
        assert_true(!strncmp(est, "ct state established,related ", 29));
        /* both outcomes of the vmap are verdicts that end the chain (goto: the counters, then
         * accept), so no later rule sees the packet */
        assert_non_null(strstr(est, "vmap { 0x0 : accept, dnat : goto pf_established }"));
        assert_string_equal(nftm_str(t, c->rules[2].id), "fwd-invalid");
        bool spoof = false;
        for (size_t i = 3; i < c->n_rules; i++) {
                const char *id = nftm_str(t, c->rules[i].id);
                if (!strcmp(id, "fwd-guest-spoof")) {
                        assert_int_equal(i, 3); /* before any accept of a new connection */
                        assert_non_null(strstr(nftm_str(t, c->rules[i].text), " drop"));
                        spoof = true;
                }
        }
        assert_true(spoof == bridge);
        const struct nftm_chain *pe = nftm_find_chain(t, "pf_established");
        assert_non_null(pe);
        assert_int_equal(pe->n_rules, 2);
        assert_string_equal(nftm_str(t, pe->rules[1].text), "counter accept");
        nftm_unref(t);
}

static void test_nft_established_first(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        assert_established_within_two(&f, true);
        f.cfg.n_port_forwards = 0;
        assert_established_within_two(&f, true);
        fx_nat_only(&f);
        assert_established_within_two(&f, true);
        fx_routed_only(&f);
        assert_established_within_two(&f, true);
        fx_full(&f);
        strcpy(f.cfg.guests.bridge, "bad name!"); /* unusable: no bridge rules at all */
        assert_established_within_two(&f, false);
}

/* a named counter per forward, found by a map per protocol from the original port; the
 * counting chain has two rules however many forwards there are (no verdict: it goes on) */
static void test_nft_forward_counters(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        char *s = nft(&f, "pfcount");
        static const char pf_count[] =
                "\t\tmeta l4proto tcp counter name ct original proto-dst map @pf_count_tcp "
                "comment \"pf-count-tcp\"\n"
                "\t\tmeta l4proto udp counter name ct original proto-dst map @pf_count_udp "
                "comment \"pf-count-udp\"\n";
        assert_block(s, "chain pf_count", pf_count);
        assert_non_null(strstr(s, "\n\tcounter fwd-pf-udp-51820 {\n\t}\n"));
        char *map = block(s, "map pf_count_udp");
        assert_non_null(strstr(map, "51820 : \"fwd-pf-udp-51820\""));
        assert_null(strstr(map, "fwd-pf-tcp-"));
        free(map);
        size_t n = 0;
        for (const char *p = s; (p = strstr(p, "\tcounter fwd-pf-")); p++)
                n++;
        assert_int_equal(n, f.cfg.n_port_forwards);
        /* declared before the maps that name them */
        assert_true(strstr(s, "\tcounter fwd-pf-") < strstr(s, "\tmap "));
        free(s);
        f.cfg.n_port_forwards = 0;
        s = nft(&f, "pfcount-none");
        assert_null(strstr(s, "fwd-pf-"));
        assert_null(strstr(s, "fwd-to-pf-count"));
        assert_block(s, "chain pf_count", pf_count); /* the same: no structure change */
        assert_non_null(strstr(s, "\tmap pf_count_tcp {\n"));
        free(s);
}

/* node exporter's port on the uplinks, for metrics.scrape_from only; the set always exists */
static void test_nft_metrics_scrape(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        char *s = nft(&f, "scrape-none");
        assert_non_null(strstr(s, "\tset metrics_from {\n"));
        assert_null(strstr(s, "in-metrics"));
        free(s);
        struct nr_prefix from[2] = {{0x0a000300, 24}, {0x0a000307, 32}}; /* the /32 is covered */
        f.cfg.metrics.scrape_from = from;
        f.cfg.metrics.n_scrape_from = 2;
        f.cfg.metrics.scrape_port = 9100;
        s = nft(&f, "scrape");
        assert_block(s, "set metrics_from",
                     "\t\ttype ipv4_addr\n"
                     "\t\tflags interval\n"
                     "\t\tcomment \"sources node exporter's port is open to\"\n"
                     "\t\telements = { 10.0.3.0/24 }\n");
        char *in = block(s, "chain input");
        char *rule = strstr(in, "tcp dport 9100 ip saddr @metrics_from counter accept comment "
                                "\"in-metrics\"");
        assert_non_null(rule);
        assert_true(rule < strstr(in, "in-drop")); /* before the chain ends in a drop */
        free(in);
        free(s);
}

static void test_nft_sets(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        char *s = nft(&f, "sets");
        assert_block(s, "set uplink_addrs",
                     "\t\ttype ipv4_addr\n"
                     "\t\tcomment \"uplink addresses port forwards listen on\"\n"
                     "\t\telements = { 10.0.0.4,\n"
                     "\t\t\t     10.1.0.4 }\n");
        assert_block(s, "map pf_dnat",
                     "\t\ttype inet_proto . inet_service : ipv4_addr . inet_service\n"
                     "\t\tcomment \"port forwards: proto . port -> target . port\"\n"
                     "\t\telements = { tcp . 2222 : 10.0.2.10 . 22,\n"
                     "\t\t\t     tcp . 3389 : 10.0.2.11 . 3389,\n"
                     "\t\t\t     udp . 51820 : 10.0.2.12 . 51820 }\n");
        assert_block(s, "set pf_open",
                     "\t\ttype inet_proto . inet_service\n"
                     "\t\tcomment \"port forwards open to every source\"\n"
                     "\t\telements = { tcp . 2222,\n"
                     "\t\t\t     udp . 51820 }\n");
        assert_block(s, "set pf_from",
                     "\t\ttype ipv4_addr . inet_proto . inet_service\n"
                     "\t\tflags interval\n"
                     "\t\tcomment \"port forwards with a from list: source . proto . port\"\n"
                     "\t\telements = { 203.0.113.0/24 . tcp . 3389,\n"
                     "\t\t\t     198.51.100.7/32 . tcp . 3389 }\n");
        assert_block(s, "set ssh_from",
                     "\t\ttype ipv4_addr\n"
                     "\t\tflags interval\n"
                     "\t\tcomment \"sources SSH is accepted from\"\n"
                     "\t\telements = { 192.168.10.0/24 }\n");
        free(s);
}

/* Interval sets refuse overlaps: covered and duplicate prefixes go, host bits are cleared. */
static void test_nft_from_overlaps(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        struct nr_port_forward *pf = fx_forward(&f, NR_PROTO_UDP, 500, "10.0.2.13", 0);
        fx_from(pf, "10.20.0.0/16");
        fx_from(pf, "10.0.0.0/8");
        fx_from(pf, "172.16.5.9/16");
        fx_from(pf, "172.16.0.0/16");
        f.ssh_from[1] = pfx("192.168.10.128/25");
        f.ssh_from[2] = pfx("192.168.10.0/24");
        f.cfg.firewall.n_ssh_from = 3;
        char *s = nft(&f, "from-overlaps");
        assert_block(s, "set pf_from",
                     "\t\ttype ipv4_addr . inet_proto . inet_service\n"
                     "\t\tflags interval\n"
                     "\t\tcomment \"port forwards with a from list: source . proto . port\"\n"
                     "\t\telements = { 203.0.113.0/24 . tcp . 3389,\n"
                     "\t\t\t     198.51.100.7/32 . tcp . 3389,\n"
                     "\t\t\t     10.0.0.0/8 . udp . 500,\n"
                     "\t\t\t     172.16.0.0/16 . udp . 500 }\n");
        assert_true(has_line(s, "udp . 500 : 10.0.2.13 . 500", NULL)); /* to_port 0: same port */
        assert_true(has_line(s, "elements = { 192.168.10.0/24 }", NULL));
        free(s);
}

static void test_nft_no_forwards(void **state)
{
        (void)state;
        struct fx f;
        fx_nat_only(&f);
        char *s = nft(&f, "no-forwards");
        char *b;
        const char *sets[] = {"map pf_dnat", "set pf_open", "set pf_from"};
        for (size_t i = 0; i < 3; i++) {
                b = block(s, sets[i]);
                assert_null(strstr(b, "elements"));
                free(b);
        }
        /* the set is always declared (so its first element is an element change), unused */
        assert_non_null(strstr(s, "set ssh_from"));
        assert_null(strstr(s, "@ssh_from"));
        free(s);
}

static void test_nft_nat_only(void **state)
{
        (void)state;
        struct fx f;
        fx_nat_only(&f);
        char *s = nft(&f, "nat-only");
        assert_null(strstr(s, "eth1"));
        assert_false(has_line(s, "pre-mark-lan", NULL));
        assert_false(has_line(s, "fwd-lan-in", NULL));
        assert_true(has_line(s, "iifname \"eth0\" ip daddr @uplink_addrs", "@pf_open", NULL));
        assert_true(has_line(s, "oifname \"eth0\" ip saddr 10.0.2.0/24 counter masquerade",
                             NULL));
        assert_true(has_line(s, "iifname \"eth0\" udp sport 67 udp dport 68 counter accept",
                             NULL));
        assert_false(has_line(s, "in-ssh", NULL));
        assert_false(has_line(s, "in-guest-dns", NULL)); /* guests use 168.63.129.16 */
        assert_true(has_line(s, "in-guest-dhcp", NULL));
        assert_every_rule_counted(s);
        free(s);
}

static void test_nft_routed_only(void **state)
{
        (void)state;
        struct fx f;
        fx_routed_only(&f);
        char *s = nft(&f, "routed-only");
        assert_null(strstr(s, "eth0"));
        assert_false(has_line(s, "pre-mark-nat", NULL));
        assert_false(has_line(s, "fwd-nat-pf", NULL));
        assert_false(has_line(s, "oifname \"eth1\"", "masquerade", NULL));
        assert_false(has_line(s, "post-masq-nat", NULL));
        assert_true(has_line(s, "iifname \"eth1\" ip daddr 10.0.2.0/24 counter accept", NULL));
        assert_false(has_line(s, "in-guest-dhcp", NULL));
        assert_false(has_line(s, "in-guest-dns", NULL));
        assert_true(has_line(s, "iifname \"nr0\" counter drop", NULL));
        assert_false(has_line(s, "168.63.129.16", NULL));
        assert_true(has_line(s, "ip daddr 169.254.0.0/16 counter drop", NULL));
        assert_every_rule_counted(s);
        free(s);
}

/* An uplink that is configured but absent, waiting for DHCP, or has a name nft cannot quote
 * safely contributes no rule and no address. */
static void test_nft_uplinks_unusable(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        f.facts.uplink[NR_UPLINK_LAN].found = false;
        f.facts.uplink[NR_UPLINK_NAT].have_addr = false;
        char *s = nft(&f, "lan-missing");
        assert_null(strstr(s, "eth1"));
        char *b = block(s, "set uplink_addrs");
        assert_null(strstr(b, "elements"));
        free(b);
        assert_true(has_line(s, "lan uplink not usable yet", NULL));
        free(s);

        fx_full(&f);
        strcpy(f.facts.uplink[NR_UPLINK_LAN].ifname, "et\"h1");
        strcpy(f.facts.uplink[NR_UPLINK_NAT].ifname, "eth*");
        s = nft(&f, "names-unsafe");
        assert_null(strstr(s, "et\"h1"));
        assert_null(strstr(s, "eth*"));
        assert_false(has_line(s, "masquerade", "oifname \"eth", NULL));
        free(s);

        fx_init(&f); /* no uplink at all: still a valid ruleset */
        s = nft(&f, "no-uplinks");
        assert_false(has_line(s, "pre-pf-open", NULL));
        assert_true(has_line(s, "fwd-guest-out", NULL));
        free(s);
}

static void test_nft_marks(void **state)
{
        (void)state;
        struct fx f;
        char want[256];
        fx_full(&f);
        char *s = nft(&f, "marks");
        snprintf(want, sizeof(want),
                 "iifname \"eth0\" counter ct mark set ct mark and 0x%08x or 0x%08x", ~NR_MARK_MASK,
                 NR_MARK_NAT);
        assert_true(has_line(s, want, NULL));
        snprintf(want, sizeof(want),
                 "iifname \"eth1\" counter ct mark set ct mark and 0x%08x or 0x%08x", ~NR_MARK_MASK,
                 NR_MARK_LAN);
        assert_true(has_line(s, want, NULL));
        /* a guest's packet: one rule unless its connection carries a mark, which mark_restore
         * copies to the packet (the other bits of both marks kept); the mark is tested first,
         * so a packet of a connection without one never has its interface name compared */
        char block[512];
        snprintf(block, sizeof(block),
                 "\t\ttype filter hook prerouting priority mangle; policy accept;\n"
                 "\t\t# Replies from guests carry their connection's uplink mark, so the fwmark "
                 "policy\n\t\t# rule sends them out by the uplink the connection came in by.\n"
                 "\t\tct mark and 0x%08x != 0x00000000 iifname \"nr0\" counter jump mark_restore "
                 "comment \"mark-restore\"\n",
                 NR_MARK_MASK);
        assert_block(s, "chain mangle_prerouting", block);
        snprintf(block, sizeof(block),
                 "\t\tct mark and 0x%08x == 0x%08x counter meta mark set meta mark and 0x%08x "
                 "or 0x%08x comment \"mark-restore-nat\"\n"
                 "\t\tct mark and 0x%08x == 0x%08x counter meta mark set meta mark and 0x%08x "
                 "or 0x%08x comment \"mark-restore-lan\"\n",
                 NR_MARK_MASK, NR_MARK_NAT, ~NR_MARK_MASK, NR_MARK_NAT, NR_MARK_MASK, NR_MARK_LAN,
                 ~NR_MARK_MASK, NR_MARK_LAN);
        assert_block(s, "chain mark_restore", block);
        /* the mark is set before the connection is DNATed */
        assert_true(strstr(s, "pre-mark-lan") < strstr(s, "pre-pf-open"));
        assert_true(has_line(s, "type filter hook prerouting priority mangle", NULL));
        free(s);
}

static void test_nft_ssh_dns_metadata(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        f.cfg.firewall.n_ssh_from = 0;
        f.cfg.firewall.block_metadata = false;
        f.cfg.guests.dhcp.n_dns = 0; /* `dns: []`: no DNS served, port 53 stays closed */
        char *s = nft(&f, "ssh-open");
        /* on the uplinks' addresses only, never the guests' gateway behind them */
        assert_true(has_line(s,
                             "iifname { \"eth0\", \"eth1\" } ip daddr @uplink_addrs tcp dport 22 "
                             "counter accept",
                             NULL));
        /* a guest's router advertisement or redirect is dropped before ICMPv6 is accepted */
        assert_true(strstr(s, "in-guest-ra") < strstr(s, "in-icmp"));
        assert_true(has_line(s, "iifname \"nr0\" icmpv6 type { nd-router-advert, nd-redirect } "
                                "counter drop",
                             NULL));
        assert_null(strstr(s, "@ssh_from"));
        assert_false(has_line(s, "in-guest-dns", NULL));
        assert_null(strstr(s, "168.63.129.16"));
        free(s);

        fx_full(&f);
        f.cfg.firewall.ssh = false;
        f.dns[0] = ip("10.1.0.10");
        f.dns[1] = ip("10.0.2.1");
        f.cfg.guests.dhcp.n_dns = 2;
        s = nft(&f, "ssh-off");
        assert_false(has_line(s, "dport 22", NULL));
        assert_true(has_line(s, "in-guest-dns", NULL)); /* the gateway is one of them */
        free(s);
}

static void test_dm_full(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        struct dm_out o = dm(&f, "dm-full");
        const char *lines[] = {
                "\ninterface=nr0\n",
                "\nbind-dynamic\n",
                "\nexcept-interface=lo\n",
                "\npid-file=\n",
                "\nlog-facility=-\n",
                "\nno-hosts\n",
                "\ndhcp-range=10.0.2.100,10.0.2.199,255.255.255.0,86400\n",
                "\ndhcp-lease-max=354\n", /* the pool of 100 and room for every address */
                "\ndhcp-authoritative\n",
                "\ndhcp-option=option:router,10.0.2.1\n",
                "\ndhcp-option=option:dns-server,10.0.2.1\n",
                "\ndomain=lab.internal\n",
                "\ndhcp-option=option:domain-name,lab.internal\n",
                "\ndhcp-leasefile=/var/lib/nestrouter/dnsmasq.leases\n",
                "\ndhcp-hostsfile=/run/nestrouter/dnsmasq.hosts\n",
        };
        for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++)
                if (!strstr(o.conf, lines[i]))
                        fail_msg("missing line %s", lines[i] + 1);
        const char *never[] = {"\nport=", "\nno-ping", "\nlog-dhcp", "\nbogus-priv",
                               "\ninterface=eth", "\nlisten-address"};
        for (size_t i = 0; i < sizeof(never) / sizeof(*never); i++)
                if (strstr(o.conf, never[i]))
                        fail_msg("unwanted %s", never[i] + 1);
        assert_string_equal(o.hosts, "52:54:00:00:00:11,10.0.2.10,db01\n"
                                     "52:54:00:00:00:12,10.0.2.20,web01\n");
        dm_free(&o);
}

static void test_dm_dns_and_lease(void **state)
{
        (void)state;
        struct fx f;
        fx_nat_only(&f);
        struct dm_out o = dm(&f, "dm-nat-only");
        assert_non_null(strstr(o.conf, "\nport=0\n"));
        assert_null(strstr(o.conf, "no-hosts"));
        assert_non_null(strstr(o.conf, "\ndhcp-option=option:dns-server,168.63.129.16\n"));
        assert_non_null(strstr(o.conf, ",255.255.255.0,infinite\n"));
        assert_null(strstr(o.conf, "domain="));
        assert_string_equal(o.hosts, "");
        dm_free(&o);

        fx_init(&f);
        f.cfg.guests.dhcp.n_dns = 0;
        f.cfg.guests.mtu = 1400;
        o = dm(&f, "dm-dns-empty");
        /* `dns: []`: no DNS option (an option without a value is not sent) and no DNS here */
        assert_non_null(strstr(o.conf, "\nport=0\n"));
        assert_non_null(strstr(o.conf, "\ndhcp-option=option:dns-server\n"));
        assert_non_null(strstr(o.conf, "\ndhcp-option=option:mtu,1400\n"));
        dm_free(&o);

        fx_init(&f);
        f.dns[0] = ip("10.1.0.10");
        f.dns[1] = ip("10.0.2.1");
        f.cfg.guests.dhcp.n_dns = 2;
        o = dm(&f, "dm-dns-two");
        assert_null(strstr(o.conf, "port=0"));
        assert_non_null(strstr(o.conf, "\ndhcp-option=option:dns-server,10.1.0.10,10.0.2.1\n"));
        dm_free(&o);
}

static void test_dm_disabled_and_static(void **state)
{
        (void)state;
        struct fx f;
        fx_routed_only(&f);
        struct dm_out o = dm(&f, "dm-disabled");
        assert_non_null(strstr(o.conf, "\nport=0\n"));
        assert_null(strstr(o.conf, "dhcp-"));
        dm_free(&o);

        fx_init(&f);
        f.cfg.guests.dhcp.range_start = f.cfg.guests.dhcp.range_end = 0;
        f.cfg.guests.subnet = pfx("172.20.0.0/16");
        f.cfg.guests.gateway = f.dns[0] = ip("172.20.0.1");
        snprintf(f.cfg.guests.dhcp.domain, sizeof(f.cfg.guests.dhcp.domain), "bad_domain");
        o = dm(&f, "dm-static");
        assert_non_null(strstr(o.conf, "\ndhcp-range=172.20.0.0,static,255.255.0.0,86400\n"));
        /* reservations only: room for every address of the /16 */
        assert_non_null(strstr(o.conf, "\ndhcp-lease-max=65534\n"));
        assert_null(strstr(o.conf, "bad_domain"));
        dm_free(&o);
}

/* Starvation bounds: the pool cut to max_leases, with their own (shorter) lease time; room for
 * every reservation on top, each with the reserved hosts' lease time in its line. */
static void test_dm_max_leases(void **state)
{
        (void)state;
        struct fx f;
        fx_init(&f);
        fx_res(&f, "db01", "52:54:00:00:00:11", "10.0.2.10");
        fx_res(&f, "pool", "52:54:00:00:00:12", "10.0.2.105");
        f.cfg.guests.dhcp.max_leases = 20;
        f.cfg.guests.dhcp.dynamic_lease_time = 600;
        struct dm_out o = dm(&f, "dm-max-leases");
        assert_non_null(strstr(o.conf, "\ndhcp-range=10.0.2.100,10.0.2.119,255.255.255.0,600\n"));
        assert_non_null(strstr(o.conf, "\ndhcp-lease-max=274\n")); /* 20 + 254 */
        assert_string_equal(o.hosts, "52:54:00:00:00:11,10.0.2.10,db01,86400\n"
                                     "52:54:00:00:00:12,10.0.2.105,pool,86400\n");
        dm_free(&o);

        /* a cap above the pool's size changes nothing */
        f.cfg.guests.dhcp.max_leases = 1000;
        f.cfg.guests.dhcp.dynamic_lease_time = 86400;
        o = dm(&f, "dm-max-leases-big");
        assert_non_null(strstr(o.conf, "\ndhcp-range=10.0.2.100,10.0.2.199,255.255.255.0,86400\n"));
        assert_non_null(strstr(o.conf, "\ndhcp-lease-max=354\n"));
        assert_null(strstr(o.conf, "cut"));
        assert_string_equal(o.hosts, "52:54:00:00:00:11,10.0.2.10,db01\n"
                                     "52:54:00:00:00:12,10.0.2.105,pool\n");
        /* one more reservation changes the hostsfile only: SIGHUP, not a restart */
        char *conf_before = strdup(o.conf);
        assert_non_null(conf_before);
        dm_free(&o);
        fx_res(&f, "web02", "52:54:00:00:00:13", "10.0.2.11");
        o = dm(&f, "dm-max-leases-one-more");
        assert_string_equal(o.conf, conf_before);
        free(conf_before);
        assert_non_null(strstr(o.hosts, "10.0.2.11,web02"));
        dm_free(&o);
}

/* Sorted by address whatever the input order; names dnsmasq would misread are left out. */
static void test_dm_hosts(void **state)
{
        (void)state;
        struct fx f;
        fx_init(&f);
        fx_res(&f, "zeta", "52:54:00:00:00:05", "10.0.2.50");
        fx_res(&f, "my_vm", "52:54:00:00:00:04", "10.0.2.9");
        fx_res(&f, "12h", "52:54:00:00:00:03", "10.0.2.30");
        fx_res(&f, "nomac", NULL, "10.0.2.40");
        fx_res(&f, "", "52:54:00:00:00:01", "10.0.2.200");
        fx_res(&f, "alpha-1", "52:54:00:00:00:AA", "10.0.2.10");
        struct dm_out o = dm(&f, "dm-hosts");
        assert_string_equal(o.hosts, "52:54:00:00:00:04,10.0.2.9\n"
                                     "52:54:00:00:00:aa,10.0.2.10,alpha-1\n"
                                     "52:54:00:00:00:03,10.0.2.30\n"
                                     "52:54:00:00:00:05,10.0.2.50,zeta\n"
                                     "52:54:00:00:00:01,10.0.2.200\n");
        dm_free(&o);
}

/* nft opens port 53 on the bridge exactly when dnsmasq serves DNS. */
static void test_dns_served_agrees(void **state)
{
        (void)state;
        for (int v = 0; v < 5; v++) {
                struct fx f;
                fx_full(&f);
                f.cfg.guests.dhcp.enabled = v != 4;
                f.cfg.guests.dhcp.n_dns = v == 0 ? 0 : v == 3 ? 2 : 1;
                f.dns[0] = v == 2 ? ip("168.63.129.16") : f.cfg.guests.gateway;
                f.dns[1] = ip("10.1.0.10");
                if (v == 3)
                        f.dns[0] = ip("10.1.0.11");
                char name[32];
                snprintf(name, sizeof(name), "agree-%d", v);
                char *s = nft(&f, name);
                struct dm_out o = dm(&f, name);
                bool port0 = strstr(o.conf, "\nport=0\n") != NULL;
                if (has_line(s, "in-guest-dns", NULL) == port0)
                        fail_msg("variant %d: nft and dnsmasq disagree on DNS", v);
                free(s);
                dm_free(&o);
        }
}

static void golden(const char *name, const char *text)
{
        golden_check(GOLDEN_DIR, name, text, "the rendered text", "inspect with NR_RENDER_DUMP=DIR");
}

static void test_golden(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                void (*build)(struct fx *f);
        } cases[] = {
                {"unit-full", fx_full},
                {"unit-nat-only", fx_nat_only},
                {"unit-routed-only", fx_routed_only},
        };
        char file[128];
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                struct fx f;
                cases[i].build(&f);
                char *s = nft(&f, cases[i].name);
                struct dm_out o = dm(&f, cases[i].name);
                snprintf(file, sizeof(file), "%s.nft", cases[i].name);
                golden(file, s);
                snprintf(file, sizeof(file), "%s.dnsmasq.conf", cases[i].name);
                golden(file, o.conf);
                snprintf(file, sizeof(file), "%s.dnsmasq.hosts", cases[i].name);
                golden(file, o.hosts);
                free(s);
                dm_free(&o);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nft_full_rules),
                cmocka_unit_test(test_nft_forward_order),
                cmocka_unit_test(test_nft_established_first),
                cmocka_unit_test(test_nft_forward_counters),
                cmocka_unit_test(test_nft_metrics_scrape),
                cmocka_unit_test(test_nft_sets),
                cmocka_unit_test(test_nft_from_overlaps),
                cmocka_unit_test(test_nft_no_forwards),
                cmocka_unit_test(test_nft_nat_only),
                cmocka_unit_test(test_nft_routed_only),
                cmocka_unit_test(test_nft_uplinks_unusable),
                cmocka_unit_test(test_nft_marks),
                cmocka_unit_test(test_nft_ssh_dns_metadata),
                cmocka_unit_test(test_dm_full),
                cmocka_unit_test(test_dm_dns_and_lease),
                cmocka_unit_test(test_dm_disabled_and_static),
                cmocka_unit_test(test_dm_hosts),
                cmocka_unit_test(test_dm_max_leases),
                cmocka_unit_test(test_dns_served_agrees),
                cmocka_unit_test(test_golden),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
