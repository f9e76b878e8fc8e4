/* The BGP core without BIRD: the rendered configuration's parts, the deferral of session
 * settings while sessions are up, the parsing of `show protocols all`, the health gate and the
 * planner's choice of op. */
#include "unit_helpers.h"

#include <stdlib.h>

#include "core/model/bgp_gate.h"
#include "core/parse/bird_show.h"
#include "core/model/model.h"
#include "core/model/plan.h"
#include "core/render/render_bird.h"

#define CFG(extra)                                                                             \
        "version: 1\n"                                                                         \
        "uplinks:\n"                                                                           \
        "  lan:\n"                                                                             \
        "    match: {name: eth1}\n"                                                            \
        "    address: 10.0.1.4/24\n"                                                           \
        "    routes: [10.0.0.0/16]\n"                                                          \
        "guests:\n"                                                                            \
        "  subnet: 10.100.0.0/24\n"                                                            \
        "azure: {address_space: [10.0.0.0/16]}\n"                                              \
        "bgp:\n"                                                                               \
        "  asn: 65010\n"                                                                       \
        "  peers: [10.0.4.4, 10.0.4.5]\n" extra

static char *render(const char *text, bool advertise)
{
        struct tcfg *t = check_text(text);
        expect_clean(t);
        struct nr_uplink_fact lan = {.found = true, .have_addr = true,
                                     .addr = t->cfg.uplinks[NR_UPLINK_LAN].address};
        char *s = render_bird(&t->cfg, &lan, advertise, "test");
        assert_non_null(s);
        return s;
}

static void test_render_parts(void **state)
{
        (void)state;
        char *on = render(CFG("  prepend: 2\n"), true);
        char *off = render(CFG("  prepend: 2\n"), false);
        assert_non_null(strstr(on, "route 10.100.0.0/24 blackhole;"));
        assert_null(strstr(off, "route 10.100.0.0/24 blackhole;"));
        assert_non_null(strstr(on, "bgp_path.prepend(65010);\n        bgp_path.prepend(65010);"));
        assert_non_null(strstr(on, "if net ~ [ 10.0.0.0/16+ ] then reject;"));
        assert_non_null(strstr(on, "neighbor 10.0.4.5 as 65515;"));
        assert_non_null(strstr(on, "local 10.0.1.4 as 65010;"));
        assert_null(strstr(on, "protocol kernel")); /* never the kernel unless asked */
        /* withdrawing changes only the policy part: no session restarts */
        assert_false(bird_conf_sessions_differ(on, off));
        free(on);
        free(off);
        char *k = render(CFG("  install_routes: true\n"), true);
        assert_non_null(strstr(k, "protocol kernel nr_kernel"));
        free(k);
}

static void test_keep_sessions(void **state)
{
        (void)state;
        char *old = render(CFG(""), true);
        char *hold = render(CFG("  hold_time: 90s\n  advertise: [10.100.0.0/24, 10.100.9.0/24]\n"),
                            true);
        assert_true(bird_conf_sessions_differ(old, hold));
        /* both up: both keep their old blocks; the new prefix is applied */
        char *kept = bird_conf_keep_sessions(old, hold, 3);
        assert_non_null(kept);
        assert_non_null(strstr(kept, "route 10.100.9.0/24 blackhole;"));
        assert_null(strstr(kept, "hold time 90;"));
        assert_false(bird_conf_sessions_differ(kept, old));
        free(kept);
        /* only session 2 up: session 1 takes the new settings */
        kept = bird_conf_keep_sessions(old, hold, 2);
        const char *rs1 = strstr(kept, "protocol bgp nr_rs1");
        const char *rs2 = strstr(kept, "protocol bgp nr_rs2");
        assert_non_null(rs1);
        assert_non_null(rs2);
        assert_true(strstr(rs1, "hold time 90;") < rs2);
        assert_non_null(strstr(rs2, "hold time 180;"));
        free(kept);
        assert_null(bird_conf_keep_sessions(old, hold, 0));
        assert_null(bird_conf_keep_sessions(old, old, 3));
        free(old);
        free(hold);
}

static const char protocols_all[] =
        "2002-Name       Proto      Table      State  Since         Info\n"
        "1002-nr_device  Device     ---        up     2026-12-06 12:11:57  \n"
        "1002-nr_rs1     BGP        ---        up     2026-12-06 12:23:35  Established   \n"
        "1006-  Description:    Azure Route Server 10.0.4.4\n"
        "   BGP state:          Established\n"
        "     Neighbor address: 10.0.4.4\n"
        "     Neighbor AS:      65515\n"
        "   Channel ipv4\n"
        "     State:          UP\n"
        "     Routes:         3 imported, 1 exported, 2 preferred\n"
        " \n"
        "1002-nr_rs2     BGP        ---        start  2026-12-06 12:23:31  Active        "
        "Socket: Connection refused\n"
        "1006-  Description:    Azure Route Server 10.0.4.5\n"
        "   BGP state:          Active\n"
        "     Neighbor address: 10.0.4.5\n"
        " \n"
        "0000 \n";

static void test_show_protocols(void **state)
{
        (void)state;
        struct nr_bird_sessions s;
        assert_true(bird_reply_complete(protocols_all, strlen(protocols_all)));
        assert_false(bird_reply_complete(protocols_all, 60));
        assert_int_equal(bird_reply_code(protocols_all), 0);
        bird_parse_protocols(protocols_all, &s);
        assert_int_equal(s.n, 2);
        assert_string_equal(s.v[0].name, "nr_rs1");
        assert_int_equal(s.v[0].index, 1);
        assert_true(s.v[0].up);
        assert_string_equal(s.v[0].state, "Established");
        assert_string_equal(s.v[0].neighbor, "10.0.4.4");
        assert_string_equal(s.v[0].since, "2026-12-06 12:23:35");
        assert_int_equal(s.v[0].imported, 3);
        assert_int_equal(s.v[0].exported, 1);
        assert_false(s.v[1].up);
        assert_string_equal(s.v[1].state, "Active");
        assert_string_equal(s.v[1].info, "Active        Socket: Connection refused");
        assert_int_equal(bird_sessions_up(&s), 1);
        /* a drain waits for this to reach 0: only Established sessions count */
        assert_int_equal(bird_sessions_exported(&s), 1);
        s.v[1].exported = 5;
        assert_int_equal(bird_sessions_exported(&s), 1);
        s.v[0].exported = 0;
        assert_int_equal(bird_sessions_exported(&s), 0);
        char msg[64];
        const char *err = "0002-Reading configuration from /x/bird.conf\n"
                          "8002 /x/bird.conf:3:1 syntax error\n";
        assert_int_equal(bird_reply_code(err), 8002);
        bird_reply_message(err, msg, sizeof(msg));
        assert_string_equal(msg, "/x/bird.conf:3:1 syntax error");
}

/* A desired state and an observation in which everything the gate looks at is healthy. */
struct world {
        struct nr_desired want;
        struct nr_observed have;
        struct nr_link link;
        struct nr_obs_link olink;
        struct nr_addr addr;
        struct nr_sysctl sys;
};

static void healthy(struct world *w)
{
        memset(w, 0, sizeof(*w));
        w->link = (struct nr_link){.name = "nr0", .bridge = true};
        w->olink = (struct nr_obs_link){.name = "nr0", .bridge = true, .up = true};
        w->addr = (struct nr_addr){.dev = "nr0", .addr = {0x0a640001, 24}};
        w->sys = (struct nr_sysctl){.key = "net/ipv4/ip_forward", .value = "1"};
        w->want.links = &w->link, w->want.n_links = 1;
        w->want.addrs = &w->addr, w->want.n_addrs = 1;
        w->want.sysctls = &w->sys, w->want.n_sysctls = 1;
        w->want.dhcp = true;
        w->want.bird_conf = (char *)"on\n" NR_BIRD_SESSIONS_MARK "s1\n";
        w->want.bird_conf_withdrawn = (char *)"off\n" NR_BIRD_SESSIONS_MARK "s1\n";
        w->have.links = &w->olink, w->have.n_links = 1;
        w->have.addrs = &w->addr, w->have.n_addrs = 1;
        w->have.sysctls = &w->sys, w->have.n_sysctls = 1;
        w->have.nft_present = true;
        w->have.dnsmasq_running = true;
}

static void test_gate(void **state)
{
        (void)state;
        struct world w;
        char why[128];
        healthy(&w);
        assert_true(bgp_gate(&w.want, &w.have, why, sizeof(why)));
        w.have.dnsmasq_running = false;
        assert_false(bgp_gate(&w.want, &w.have, why, sizeof(why)));
        assert_string_equal(why, "dnsmasq (guest DHCP/DNS) is not running");
        healthy(&w);
        w.have.nft_present = false;
        assert_false(bgp_gate(&w.want, &w.have, why, sizeof(why)));
        assert_string_equal(why, "table inet nestrouter is missing");
        healthy(&w);
        w.have.n_links = 0;
        assert_false(bgp_gate(&w.want, &w.have, why, sizeof(why)));
        assert_string_equal(why, "guest bridge nr0 is missing");
        healthy(&w);
        w.have.n_addrs = 0;
        assert_false(bgp_gate(&w.want, &w.have, why, sizeof(why)));
        assert_string_equal(why, "nr0: gateway address 10.100.0.1/24 is missing");
        healthy(&w);
        struct nr_sysctl off = {.key = "net/ipv4/ip_forward", .value = "0"};
        w.have.sysctls = &off;
        assert_false(bgp_gate(&w.want, &w.have, why, sizeof(why)));
        assert_non_null(strstr(why, "forwarding is off"));
        healthy(&w);
        w.want.bgp_drained = true;
        assert_false(bgp_gate(&w.want, &w.have, why, sizeof(why)));
        assert_string_equal(why, "drained (nestrouterctl drain)");
}

static void test_plan_ops(void **state)
{
        (void)state;
        struct world w;
        struct nr_plan p;
        healthy(&w);
        /* not running: start, advertising */
        assert_int_equal(plan_build(&w.want, &w.have, NULL, &p), 0);
        const struct nr_op *op = &p.ops[p.n_ops - 1];
        assert_int_equal(op->kind, NR_OP_BGP_START);
        assert_int_equal(op->obj, NR_OBJ_BGP);
        assert_true(op->bgp.advertise);
        plan_free(&p);
        /* running the withdrawn text while healthy: configure, advertising */
        w.have.bird_running = true;
        w.have.bird_conf = w.want.bird_conf_withdrawn;
        assert_int_equal(plan_build(&w.want, &w.have, NULL, &p), 0);
        op = &p.ops[p.n_ops - 1];
        assert_int_equal(op->kind, NR_OP_BGP_CONFIGURE);
        assert_true(op->bgp.advertise);
        assert_false(op->bgp.keep_sessions);
        plan_free(&p);
        /* converged: nothing */
        w.have.bird_conf = w.want.bird_conf;
        assert_int_equal(plan_build(&w.want, &w.have, NULL, &p), 0);
        assert_true(p.n_ops == 0 || p.ops[p.n_ops - 1].obj != NR_OBJ_BGP);
        plan_free(&p);
        /* only session settings differ while up: deferred, nothing to do */
        w.want.bird_conf = (char *)"on\n" NR_BIRD_SESSIONS_MARK
                                   "protocol bgp nr_rs1 {\n        hold time 90;\n}\n";
        w.have.bird_conf = (char *)"on\n" NR_BIRD_SESSIONS_MARK
                                   "protocol bgp nr_rs1 {\n        hold time 180;\n}\n";
        w.have.bgp_up = 1;
        assert_int_equal(plan_build(&w.want, &w.have, NULL, &p), 0);
        assert_true(p.n_ops == 0 || p.ops[p.n_ops - 1].obj != NR_OBJ_BGP);
        plan_free(&p);
        /* the session is down: the new settings go in */
        w.have.bgp_up = 0;
        assert_int_equal(plan_build(&w.want, &w.have, NULL, &p), 0);
        assert_int_equal(p.ops[p.n_ops - 1].kind, NR_OP_BGP_CONFIGURE);
        plan_free(&p);
        /* bgp: removed: stop */
        w.want.bird_conf = w.want.bird_conf_withdrawn = NULL;
        w.have.bird_conf = NULL;
        assert_int_equal(plan_build(&w.want, &w.have, NULL, &p), 0);
        assert_int_equal(p.ops[p.n_ops - 1].kind, NR_OP_BGP_STOP);
        plan_free(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(test_render_parts), TEST(test_keep_sessions), TEST(test_show_protocols),
                TEST(test_gate),         TEST(test_plan_ops),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
