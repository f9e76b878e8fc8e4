/* The guest bridge's table (render_nft_bridge): bindings from reservations and leases, the
 * ports set, isolation; model_build_from taking the previous table over only when none of its
 * inputs changed. Checked rule by rule and against golden files
 * tests/golden/render/unit-bridge-* (run from the repo root; NR_UPDATE_GOLDEN=1 rewrites them;
 * NR_RENDER_DUMP=DIR writes each variant to DIR for tests/netns/nft-load-check.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_file.h"
#include "core/model/nftdiff.h"
#include "core/render/render.h"

struct fx {
        struct nr_config cfg;
        struct nr_facts facts;
        struct nr_reservation res[4];
        size_t n_res;
};

static uint32_t ip(const char *s)
{
        uint32_t a = 0;
        assert_int_equal(ip_parse(s, &a), 0);
        return a;
}

static void fx_init(struct fx *f)
{
        memset(f, 0, sizeof(*f));
        strcpy(f->cfg.guests.bridge, "nr0");
        assert_int_equal(prefix_parse("10.0.2.0/24", &f->cfg.guests.subnet), 0);
        f->cfg.guests.gateway = ip("10.0.2.1");
}

static void fx_res(struct fx *f, const char *mac, const char *addr)
{
        struct nr_reservation *r = &f->res[f->n_res++];
        r->has_mac = mac != NULL;
        if (mac)
                assert_int_equal(mac_parse(mac, r->mac), 0);
        r->ip = ip(addr);
}

static void fx_lease(struct fx *f, const char *mac, const char *addr)
{
        struct nr_lease_fact *l = &f->facts.leases[f->facts.n_leases++];
        assert_int_equal(mac_parse(mac, l->mac), 0);
        l->ip = ip(addr);
}

static void fx_port(struct fx *f, const char *name)
{
        snprintf(f->facts.ports[f->facts.n_ports++], NR_IFNAMSIZ, "%s", name);
}

/* Two reserved guests, one of them also in the lease file; two leases of dynamic guests, one
 * stale lease of a reserved address, one outside the subnet; three ports. */
static void fx_full(struct fx *f)
{
        fx_init(f);
        fx_res(f, "52:54:00:00:00:11", "10.0.2.10");
        fx_res(f, "52:54:00:00:00:12", "10.0.2.20");
        fx_res(f, NULL, "10.0.2.30"); /* no MAC: not served by DHCP, nothing to bind */
        fx_lease(f, "52:54:00:00:00:11", "10.0.2.10");
        fx_lease(f, "02:00:00:00:00:a1", "10.0.2.101");
        fx_lease(f, "02:00:00:00:00:a2", "10.0.2.102");
        fx_lease(f, "02:00:00:00:00:bb", "10.0.2.20"); /* stale: 10.0.2.20 is reserved */
        fx_lease(f, "02:00:00:00:00:cc", "10.9.9.9");  /* from an older subnet */
        fx_port(f, "eth2");
        fx_port(f, "vnet0");
        fx_port(f, "vnet1");
}

static char *render(const struct fx *f, const char *name)
{
        struct nftm_table *t = render_nft_bridge(&f->cfg, &f->facts, f->res, f->n_res);
        assert_non_null(t);
        char *s = nftm_text(t);
        nftm_unref(t);
        assert_non_null(s);
        const char *dir = getenv("NR_RENDER_DUMP");
        if (dir && *dir) {
                char path[512];
                snprintf(path, sizeof(path), "%s/%s.nft", dir, name);
                FILE *fp = fopen(path, "w");
                assert_non_null(fp);
                fputs(s, fp);
                assert_int_equal(fclose(fp), 0);
        }
        return s;
}

static void has(const char *text, const char *line)
{
        if (!strstr(text, line))
                fail_msg("missing: %s", line);
}

static void test_bindings(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        char *s = render(&f, "bridge-full");
        has(s, "elements = { 52:54:00:00:00:11 . 10.0.2.10,\n"
               "\t\t\t     52:54:00:00:00:12 . 10.0.2.20,\n"
               "\t\t\t     02:00:00:00:00:a1 . 10.0.2.101,\n"
               "\t\t\t     02:00:00:00:00:a2 . 10.0.2.102 }\n");
        has(s, "elements = { 10.0.2.10,\n\t\t\t     10.0.2.20,\n\t\t\t     10.0.2.101,\n"
               "\t\t\t     10.0.2.102 }\n");
        assert_null(strstr(s, "02:00:00:00:00:bb")); /* a stale lease never binds a reserved IP */
        assert_null(strstr(s, "10.9.9.9"));
        assert_null(strstr(s, "10.0.2.30"));
        has(s, "elements = { \"eth2\",\n\t\t\t     \"vnet0\",\n\t\t\t     \"vnet1\" }\n");
        has(s, "\t\tarp saddr ip 10.0.2.1 counter drop comment \"br-arp-gateway\"\n");
        has(s, "\t\tip saddr 10.0.2.1 counter drop comment \"br-ip-gateway\"\n");
        has(s, "\t\tip saddr != 10.0.2.0/24 counter drop comment \"br-ip-subnet\"\n");
        has(s, "ip saddr @bound_ips ether saddr . ip saddr != @bound counter drop");
        assert_null(strstr(s, "guest_forward"));
        free(s);
}

/* Nothing bound, no ports yet: sets without elements (nft refuses `elements = { }`). */
static void test_empty(void **state)
{
        (void)state;
        struct fx f;
        fx_init(&f);
        char *s = render(&f, "bridge-empty");
        assert_null(strstr(s, "elements"));
        has(s, "\t\tiifname != @ports accept comment \"br-not-guest\"\n");
        /* the bound pair's fast path first, then the port check: a guest's IPv4 frame costs
         * one set lookup */
        has(s, "policy accept;\n\t\tether saddr . ip saddr @bound accept comment "
               "\"br-ip-bound-ok\"\n\t\tiifname != @ports accept comment \"br-not-guest\"\n");
        free(s);
}

static void test_isolation(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        f.cfg.guests.isolation = true;
        char *s = render(&f, "bridge-isolated");
        has(s, "\tchain guest_forward {\n"
               "\t\ttype filter hook forward priority filter; policy accept;\n"
               "\t\tiifname @ports oifname @ports counter drop comment \"br-isolate\"\n\t}\n");
        free(s);
}

/* A new lease changes elements only: the delta keeps the table, its rules and counters. */
static void test_lease_is_element_delta(void **state)
{
        (void)state;
        struct fx f;
        char *script = NULL;
        bool full = true;
        fx_full(&f);
        struct nftm_table *a = render_nft_bridge(&f.cfg, &f.facts, f.res, f.n_res);
        fx_lease(&f, "02:00:00:00:00:a3", "10.0.2.103");
        fx_port(&f, "vnet2");
        struct nftm_table *b = render_nft_bridge(&f.cfg, &f.facts, f.res, f.n_res);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(b->family, "bridge");
        assert_int_equal(nftd_delta(a, b, NULL, &script, &full), 0);
        assert_false(full);
        assert_string_equal(script,
                            "add element bridge nestrouter ports { \"vnet2\" }\n"
                            "add element bridge nestrouter bound { 02:00:00:00:00:a3 . "
                            "10.0.2.103 }\n"
                            "add element bridge nestrouter bound_ips { 10.0.2.103 }\n"
                            "add element bridge nestrouter bound_macs { 02:00:00:00:00:a3 }\n");
        free(script);
        nftm_unref(a);
        nftm_unref(b);
}

/* One model_build_from step from prev: whether it took prev's bridge table over, and that its
 * table is the one rendered from scratch either way. */
static bool build_step(struct fx *f, struct nr_desired *prev, struct nr_desired *next)
{
        static const struct nr_paths paths = {"/run/x", "/var/lib/x"};
        f->cfg.guests.dhcp.reservations = f->res;
        f->cfg.guests.dhcp.n_reservations = f->n_res;
        assert_int_equal(model_build_from(&f->cfg, &f->facts, &paths, prev, next), 0);
        struct nftm_table *fresh = render_nft_bridge(&f->cfg, &f->facts, f->res, f->n_res);
        char *a = nftm_text(next->nft_bridge), *b = nftm_text(fresh);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
        assert_true(nftm_equal(next->nft_bridge, fresh));
        free(a);
        free(b);
        nftm_unref(fresh);
        bool taken = next->nft_bridge == prev->nft_bridge;
        model_free(prev);
        *prev = *next;
        return taken;
}

/* A reload that leaves the bridge's inputs alone takes the previous table over (1,000
 * reservations are not rendered again for a new forward); any change renders it. */
static void test_build_takes_over(void **state)
{
        (void)state;
        struct fx f;
        struct nr_desired prev, next;
        fx_full(&f);
        f.cfg.guests.dhcp.reservations = f.res;
        f.cfg.guests.dhcp.n_reservations = f.n_res;
        assert_int_equal(model_build(&f.cfg, &f.facts, &(struct nr_paths){"/run/x", "/var/lib/x"},
                                     &prev),
                         0);
        assert_true(build_step(&f, &prev, &next));
        fx_lease(&f, "02:00:00:00:00:a3", "10.0.2.103");
        assert_false(build_step(&f, &prev, &next));
        assert_true(build_step(&f, &prev, &next));
        f.facts.leases[0].mac[5] ^= 1;
        assert_false(build_step(&f, &prev, &next));
        fx_port(&f, "vnet2");
        assert_false(build_step(&f, &prev, &next));
        snprintf(f.facts.ports[0], NR_IFNAMSIZ, "eth3");
        assert_false(build_step(&f, &prev, &next));
        f.res[0].ip = ip("10.0.2.11");
        assert_false(build_step(&f, &prev, &next));
        f.n_res--;
        assert_false(build_step(&f, &prev, &next));
        f.cfg.guests.isolation = true;
        assert_false(build_step(&f, &prev, &next));
        f.cfg.guests.gateway = ip("10.0.2.254");
        assert_false(build_step(&f, &prev, &next));
        f.facts.ports_truncated = true;
        assert_false(build_step(&f, &prev, &next));
        assert_true(build_step(&f, &prev, &next));
        model_free(&prev);
}

static void test_golden(void **state)
{
        (void)state;
        struct fx f;
        fx_full(&f);
        f.cfg.guests.isolation = true;
        char *s = render(&f, "unit-bridge-isolated");
        golden_check("tests/golden/render", "unit-bridge-isolated.nft", s, "the rendered text",
                     NULL);
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bindings),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_isolation),
                cmocka_unit_test(test_lease_is_element_delta),
                cmocka_unit_test(test_build_takes_over),
                cmocka_unit_test(test_golden),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
