/* The engine against the recording fake, without root: whole reconcile scenarios (cold start,
 * converged, every drift kind the netns suite injects, reloads, a file changed while the daemon
 * was stopped, a permanent conflict, a transient failure with backoff, teardown; with bgp:
 * BIRD's start, reloads, the health gate, drain and teardown; the guests' domains through the
 * virt backend) as golden transcripts under tests/golden/engine. Each transcript shows the
 * passes with their time, the
 * ops the fake applied (or refused), and what the engine logged at notice level and above. */
#include "unit_helpers.h"

#include <stdlib.h>
#include <syslog.h>

#include "backend/fake/fake.h"
#include "backend/fake/fake_virt.h"
#include "engine/engine.h"
#include "golden_file.h"
#include "core/model/model.h"
#include "core/model/owned.h"

#define GOLDEN "tests/golden/engine"

/* {bridge} {extra forward} {extra lan route} {extra reservation} {vms} */
static const char CONFIG[] = "version: 1\n"
                             "uplinks:\n"
                             "  nat:\n"
                             "    match: {name: eth0}\n"
                             "    address: 10.0.0.4/24\n"
                             "    gateway: 10.0.0.1\n"
                             "  lan:\n"
                             "    match: {name: eth1}\n"
                             "    address: 10.0.1.4/24\n"
                             "    gateway: 10.0.1.1\n"
                             "    routes: [10.0.0.0/22%s]\n"
                             "guests:\n"
                             "  bridge: %s\n"
                             "  ports: [veth-web2]\n"
                             "  subnet: 10.0.2.0/24\n"
                             "  gateway: 10.0.2.1\n"
                             "  dhcp:\n"
                             "    range: 10.0.2.100-10.0.2.200\n"
                             "    reservations:\n"
                             "      - {name: web2, mac: \"52:54:00:00:00:20\", ip: 10.0.2.20}\n"
                             "%s"
                             "port_forwards:\n"
                             "  - {proto: tcp, port: 3390, to: web2, to_port: 3389}\n"
                             "%s"
                             "%s";

struct variant {
        const char *route, *bridge, *reservation, *forward, *vms;
};

static const struct variant BASE = {"", "nr0", "", "", ""};

/* Route Server mode: {hold_time} {extra advertised prefix} */
static const char BGP_CONFIG[] = "version: 1\n"
                                 "uplinks:\n"
                                 "  nat: {match: {name: eth0}, address: 10.0.0.4/24, "
                                 "gateway: 10.0.0.1}\n"
                                 "  lan:\n"
                                 "    match: {name: eth1}\n"
                                 "    address: 10.0.1.4/24\n"
                                 "    gateway: 10.0.1.1\n"
                                 "    routes: [10.0.0.0/22, 10.0.4.0/26]\n"
                                 "guests:\n"
                                 "  bridge: nr0\n"
                                 "  subnet: 10.100.0.0/24\n"
                                 "azure:\n"
                                 "  address_space: [10.0.0.0/22, 10.0.4.0/26]\n"
                                 "  route_server_subnet: 10.0.4.0/26\n"
                                 "bgp:\n"
                                 "  asn: 65010\n"
                                 "  peers: [10.0.4.4, 10.0.4.5]\n"
                                 "  hold_time: %s\n"
                                 "  advertise: [10.100.0.0/24%s]\n";

struct bvariant {
        const char *hold, *extra;
        bool drained;              /* nestrouterctl drain (a fact of the pass) */
};

static const struct bvariant BGP = {"180s", "", false};

struct scene {
        struct fake k;
        struct nr_engine e;
        struct nr_counters n;
        char last_error[700];
        uint64_t now;
        struct nr_desired prev;
        bool have_prev;
        unsigned passes;
};

static struct scene S;

static uint64_t clock_fake(void *ctx)
{
        return ((struct scene *)ctx)->now;
}

static void say(void *ctx, int pri, enum nr_obj o, const char *object, const char *msg)
{
        struct scene *s = ctx;
        static const char *const pris[] = {"emerg", "alert", "crit",  "err",
                                           "warning", "notice", "info", "debug"};
        (void)o, (void)object;
        if (pri <= LOG_NOTICE)
                fake_note(&s->k, "  log %s: %s", pris[pri], msg);
}

static void scene_start(void)
{
        memset(&S, 0, sizeof(S));
        fake_init(&S.k);
        engine_init(&S.e, &S.n, S.last_error, sizeof(S.last_error), clock_fake, say, &S);
        fake_attach(&S.k, &S.e);
        S.now = 1000000000ull;
        /* the VM as Azure hands it over: two NICs, loopback-like defaults, one guest veth */
        assert_int_equal(fake_link_add(&S.k, "eth0"), 0);
        assert_int_equal(fake_link_add(&S.k, "eth1"), 0);
        assert_int_equal(fake_link_add(&S.k, "veth-web2"), 0);
}

/* A daemon restart: the engine and its memory go, the kernel stays. */
static void scene_restart(const struct nr_desired *owned)
{
        engine_free(&S.e);
        engine_init(&S.e, &S.n, S.last_error, sizeof(S.last_error), clock_fake, say, &S);
        fake_attach(&S.k, &S.e);
        if (S.have_prev)
                model_free(&S.prev);
        S.have_prev = owned != NULL;
        if (owned)
                S.prev = *owned;
}

static int scene_teardown(void **state)
{
        (void)state;
        engine_free(&S.e);
        fake_free(&S.k);
        if (S.have_prev)
                model_free(&S.prev);
        t_free(&T);
        return 0;
}
#define ETEST(f) cmocka_unit_test_teardown(f, scene_teardown)

static const struct nr_paths PATHS = {.run_dir = "RUN", .state_dir = "STATE"};

static void desired(const struct variant *v, struct nr_desired *want)
{
        char text[4096];
        struct nr_facts facts;
        snprintf(text, sizeof(text), CONFIG, v->route, v->bridge, v->reservation, v->forward,
                 v->vms);
        struct tcfg *t = check_text(text);
        if (t->parse_r < 0 || t->validate_r < 0)
                dump_diags(&t->d);
        assert_int_equal(t->parse_r, 0);
        assert_int_equal(t->validate_r, 0);
        model_facts_assumed(&t->cfg, &facts);
        assert_int_equal(model_build(&t->cfg, &facts, &PATHS, want), 0);
}

/* One pass towards want (taken over as prev, as the daemon does). */
static struct nr_pass_result pass_want(struct nr_desired *want, bool changed, const char *why)
{
        struct nr_pass_result res;
        fake_note(&S.k, "pass %u at +%.1f s (%s)", ++S.passes,
                  (double)(S.now - 1000000000ull) / 1e6, why);
        assert_int_equal(engine_pass(&S.e, want, S.have_prev ? &S.prev : NULL, changed, &res), 0);
        fake_note(&S.k, "  = %zu ops, %u not converged%s", res.n_ops, res.failed,
                  res.retry_at_usec ? "" : "");
        if (res.retry_at_usec)
                fake_note(&S.k, "  = next pass in %.1f s", (double)(res.retry_at_usec - S.now) / 1e6);
        if (S.have_prev)
                model_free(&S.prev);
        S.prev = *want;
        S.have_prev = true;
        return res;
}

static struct nr_pass_result pass(const struct variant *v, bool changed, const char *why)
{
        struct nr_desired want;
        desired(v, &want);
        return pass_want(&want, changed, why);
}

static void desired_bgp(const struct bvariant *v, struct nr_desired *want)
{
        char text[2048];
        struct nr_facts facts;
        snprintf(text, sizeof(text), BGP_CONFIG, v->hold, v->extra);
        struct tcfg *t = check_text(text);
        if (t->parse_r < 0 || t->validate_r < 0)
                dump_diags(&t->d);
        assert_int_equal(t->parse_r, 0);
        assert_int_equal(t->validate_r, 0);
        model_facts_assumed(&t->cfg, &facts);
        facts.bgp_drained = v->drained;
        assert_int_equal(model_build(&t->cfg, &facts, &PATHS, want), 0);
}

static struct nr_pass_result pass_bgp(const struct bvariant *v, bool changed, const char *why)
{
        struct nr_desired want;
        desired_bgp(v, &want);
        return pass_want(&want, changed, why);
}

/* How many of the fake's transcript lines since `from` start with `prefix`. */
static unsigned lines_since(size_t from, const char *prefix)
{
        unsigned n = 0;
        const char *t = fake_transcript(&S.k);
        for (const char *l = t + from; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                n += !strncmp(l, prefix, strlen(prefix));
        return n;
}

static size_t mark(void)
{
        return strlen(fake_transcript(&S.k));
}

static void converge(const struct variant *v)
{
        pass(v, true, "start");
        struct nr_pass_result r = pass(v, false, "our own writes come back as events");
        assert_int_equal(r.n_ops, 0);
}

static void golden(const char *name)
{
        golden_check(GOLDEN, name, fake_transcript(&S.k), "the reconcile transcript", NULL);
}

/* ---- scenarios --------------------------------------------------------------------------- */

static void cold_start_and_converged(void **state)
{
        (void)state;
        scene_start();
        struct nr_pass_result r = pass(&BASE, true, "cold start");
        assert_int_equal(r.failed, 0);
        assert_true(r.n_ops > 20);
        r = pass(&BASE, false, "converged: nothing to do");
        assert_int_equal(r.n_ops, 0);
        assert_int_equal(r.retry_at_usec, 0);
        r = pass(&BASE, false, "still nothing: a converged system writes nothing");
        assert_int_equal(r.n_ops, 0);
        assert_int_equal(S.n.writes, S.n.changes[NR_OBJ_LINK] + S.n.changes[NR_OBJ_SYSCTL] +
                                             S.n.changes[NR_OBJ_ADDR] + S.n.changes[NR_OBJ_ROUTE] +
                                             S.n.changes[NR_OBJ_RULE] + S.n.changes[NR_OBJ_NFT] +
                                             S.n.changes[NR_OBJ_DNSMASQ]);
        golden("cold-start.txt");
}

/* Each drift the netns suite injects: exactly its repair, counted as a repair. */
static void drift(void **state)
{
        (void)state;
        scene_start();
        converge(&BASE);
        uint64_t rep0 = S.n.repairs[NR_OBJ_ROUTE];
        fake_note(&S.k, "# drift: a route of ours deleted");
        assert_int_equal(fake_route_del(&S.k, "10.0.0.0/22", NR_TABLE_MAIN), 0);
        assert_int_equal(pass(&BASE, false, "route event").n_ops, 1);
        assert_int_equal(S.n.repairs[NR_OBJ_ROUTE], rep0 + 1);
        fake_note(&S.k, "# drift: the default route of table 1001 deleted");
        assert_int_equal(fake_route_del(&S.k, "default", 1001), 0);
        assert_int_equal(pass(&BASE, false, "route event").n_ops, 1);
        fake_note(&S.k, "# drift: the guest gateway address deleted");
        assert_int_equal(fake_addr_del(&S.k, "nr0", "10.0.2.1/24"), 0);
        assert_int_equal(pass(&BASE, false, "address event").n_ops, 1);
        fake_note(&S.k, "# drift: a policy rule deleted");
        assert_int_equal(fake_rule_del(&S.k, S.k.rules[0].priority), 0);
        assert_int_equal(pass(&BASE, false, "rule event").n_ops, 1);
        fake_note(&S.k, "# drift: ip_forward turned off");
        assert_int_equal(fake_sysctl_set(&S.k, "net/ipv4/ip_forward", "0"), 0);
        assert_int_equal(pass(&BASE, false, "resync").n_ops, 1);
        fake_note(&S.k, "# drift: the bridge set down");
        assert_int_equal(fake_link_down(&S.k, "nr0"), 0);
        assert_int_equal(pass(&BASE, false, "link event").n_ops, 1);
        fake_note(&S.k, "# drift: a configured port taken off the bridge");
        assert_int_equal(fake_link_release(&S.k, "veth-web2"), 0);
        assert_int_equal(pass(&BASE, false, "link event").n_ops, 1);
        fake_note(&S.k, "# drift: the nft table deleted, then a rule changed by hand");
        assert_int_equal(fake_nft_del(&S.k, false), 0);
        assert_int_equal(pass(&BASE, false, "nft event").n_ops, 1);
        assert_int_equal(fake_nft_tamper(&S.k, false), 0);
        assert_int_equal(pass(&BASE, false, "nft event").n_ops, 1);
        fake_note(&S.k, "# drift: the bridge table deleted");
        assert_int_equal(fake_nft_del(&S.k, true), 0);
        assert_int_equal(pass(&BASE, false, "nft event").n_ops, 1);
        fake_note(&S.k, "# drift: dnsmasq killed");
        assert_int_equal(fake_dnsmasq_kill(&S.k), 0);
        assert_int_equal(pass(&BASE, false, "SIGCHLD").n_ops, 1);
        fake_note(&S.k, "# drift: the bridge deleted (its address, routes and port go with it)");
        assert_int_equal(fake_link_del(&S.k, "nr0"), 0);
        struct nr_pass_result r = pass(&BASE, false, "link event");
        assert_int_equal(r.failed, 0);
        assert_true(r.n_ops >= 3);
        assert_int_equal(pass(&BASE, false, "converged again").n_ops, 0);
        assert_int_equal(S.n.failures, 0);
        golden("drift.txt");
}

static void reloads(void **state)
{
        (void)state;
        scene_start();
        converge(&BASE);
        struct variant v = BASE;
        fake_note(&S.k, "# reload: a forward added");
        v.forward = "  - {proto: udp, port: 5353, to: web2}\n";
        assert_int_equal(pass(&v, true, "reload").n_ops, 1);
        fake_note(&S.k, "# reload: a route added");
        v.route = ", 172.16.0.0/22";
        assert_int_equal(pass(&v, true, "reload").n_ops, 1);
        fake_note(&S.k, "# reload: a reservation added (hosts file and bridge bindings)");
        v.reservation = "      - {name: db1, mac: \"52:54:00:00:00:30\", ip: 10.0.2.30}\n";
        assert_int_equal(pass(&v, true, "reload").n_ops, 2);
        fake_note(&S.k, "# reload: a VM with an address added (its reservation; the domain "
                        "itself is the guests' pass)");
        v.vms = "vms:\n  - {name: vm1, disk: /var/lib/nestrouter/disks/vm1.qcow2, "
                "mac: \"52:54:00:00:00:40\", ip: 10.0.2.40}\n";
        assert_int_equal(pass(&v, true, "reload").n_ops, 2);
        fake_note(&S.k, "# reload: all four removed again");
        assert_int_equal(pass(&BASE, true, "reload").n_ops, 4);
        assert_int_equal(pass(&BASE, false, "converged").n_ops, 0);
        assert_int_equal(S.n.repairs[NR_OBJ_ROUTE] + S.n.repairs[NR_OBJ_NFT], 0);
        golden("reloads.txt");
}

/* The file changed while the daemon was stopped: what it owned (the ownership record in the
 * state dir) and no longer wants is removed; without the record the old bridge would stay. */
static void changed_while_stopped(void **state)
{
        (void)state;
        scene_start();
        converge(&BASE);
        char *rec = owned_render(&S.prev);
        assert_non_null(rec);
        fake_note(&S.k, "# the daemon stops; its ownership record:");
        fake_note(&S.k, "%s", rec);
        struct nr_desired owned;
        assert_int_equal(owned_parse(rec, strlen(rec), &owned), 0);
        free(rec);
        scene_restart(&owned);
        fake_note(&S.k, "# started again with the bridge renamed to br-guests");
        struct variant v = BASE;
        v.bridge = "br-guests";
        struct nr_pass_result r = pass(&v, true, "start");
        assert_int_equal(r.failed, 0);
        assert_int_equal(pass(&v, false, "converged").n_ops, 0);
        for (size_t i = 0; i < S.k.n_links; i++)
                assert_string_not_equal(S.k.links[i].name, "nr0");
        golden("changed-while-stopped.txt");
}

static void permanent_conflict(void **state)
{
        (void)state;
        scene_start();
        converge(&BASE);
        fake_note(&S.k, "# a foreign route (proto static) takes the key of ours");
        assert_int_equal(fake_route_foreign(&S.k, "default", 1002, "eth1", 4), 0);
        struct nr_pass_result r = pass(&BASE, false, "route event");
        assert_int_equal(r.failed, 1);
        assert_int_equal(r.retry_at_usec - S.now, NR_ENGINE_BACKOFF_MIN_USEC);
        /* re-checked at 1, 2, 4, 8 s intervals; logged once */
        for (int i = 0; i < 4; i++) {
                S.now = r.retry_at_usec;
                r = pass(&BASE, false, "retry timer");
                assert_int_equal(r.failed, 1);
        }
        assert_int_equal(r.retry_at_usec - S.now, 16 * NR_ENGINE_BACKOFF_MIN_USEC);
        size_t n;
        const struct nr_engine_fail *f = engine_failures(&S.e, &n);
        assert_int_equal(n, 1);
        assert_true(f->conflict);
        assert_string_equal(f->object, "default table 1002");
        fake_note(&S.k, "# status: failing: %s: %s (%u checks)", f->object, f->reason,
                  f->attempts);
        fake_note(&S.k, "# meanwhile our route 10.0.0.0/22 is deleted: repaired at once");
        assert_int_equal(fake_route_del(&S.k, "10.0.0.0/22", NR_TABLE_MAIN), 0);
        S.now += 500000;
        r = pass(&BASE, false, "route event");
        assert_int_equal(r.failed, 1);
        assert_int_equal(S.n.repairs[NR_OBJ_ROUTE], 1);
        fake_note(&S.k, "# the foreign route is removed");
        assert_int_equal(fake_route_del(&S.k, "default", 1002), 0);
        S.now += 100000;
        r = pass(&BASE, false, "route event");
        assert_int_equal(r.failed, 0);
        assert_int_equal(r.retry_at_usec, 0);
        engine_failures(&S.e, &n);
        assert_int_equal(n, 0);
        golden("permanent-conflict.txt");
}

static void transient_failure(void **state)
{
        (void)state;
        scene_start();
        converge(&BASE);
        fake_note(&S.k, "# our route is deleted, and replacing it fails three times (ENETUNREACH)");
        fake_fail(&S.k, "route replace 10.0.0.0/22", ENETUNREACH, 3);
        assert_int_equal(fake_route_del(&S.k, "10.0.0.0/22", NR_TABLE_MAIN), 0);
        struct nr_pass_result r = pass(&BASE, false, "route event");
        assert_int_equal(r.failed, 1);
        fake_note(&S.k, "# an unrelated event 0.3 s later: the route waits for its backoff, "
                        "the address is repaired");
        assert_int_equal(fake_addr_del(&S.k, "nr0", "10.0.2.1/24"), 0);
        S.now += 300000;
        r = pass(&BASE, false, "address event");
        assert_int_equal(r.failed, 1);
        assert_int_equal(S.n.repairs[NR_OBJ_ADDR], 1);
        uint64_t waits[] = {1, 2, 4};
        for (int i = 0; i < 3; i++) {
                S.now = r.retry_at_usec;
                r = pass(&BASE, false, "retry timer");
                if (i < 2)
                        assert_int_equal(r.retry_at_usec - S.now,
                                         waits[i + 1] * NR_ENGINE_BACKOFF_MIN_USEC);
        }
        assert_int_equal(r.failed, 0);
        assert_int_equal(S.n.failures, 3);
        assert_int_equal(S.n.repairs[NR_OBJ_ROUTE], 1);
        golden("transient-failure.txt");
}

/* --teardown: the engine planning towards the empty state, with what we own as prev. */
static void teardown(void **state)
{
        (void)state;
        scene_start();
        converge(&BASE);
        struct nr_desired none;
        assert_int_equal(model_empty(S.prev.route_protocol, &none), 0);
        fake_note(&S.k, "# --teardown");
        struct nr_pass_result r = pass_want(&none, true, "teardown");
        assert_int_equal(r.failed, 0);
        assert_int_equal(S.k.n_routes, 0);
        assert_int_equal(S.k.n_rules, 0);
        assert_null(S.k.nft);
        assert_null(S.k.nft_bridge);
        assert_false(S.k.dnsmasq_running);
        assert_int_equal(S.k.n_addrs, 0);
        for (size_t i = 0; i < S.k.n_links; i++) {
                assert_string_not_equal(S.k.links[i].name, "nr0");
                assert_string_equal(S.k.links[i].master, "");
        }
        assert_int_equal(model_empty(S.prev.route_protocol, &none), 0);
        assert_int_equal(pass_want(&none, false, "teardown again: nothing left").n_ops, 0);
        golden("teardown.txt");
}

/* ---- bgp: ------------------------------------------------------------------------------- */

/* BIRD starts with the prefixes withdrawn (nothing of the host observed yet), then advertises
 * once the pass has built the path; a converged system writes nothing, BIRD included. */
static void bgp_cold_start(void **state)
{
        (void)state;
        scene_start();
        struct nr_pass_result r = pass_bgp(&BGP, true, "cold start");
        assert_int_equal(r.failed, 0);
        assert_true(S.k.bird_running);
        assert_int_equal(S.k.bgp_up, 3);
        assert_int_equal(lines_since(0, "  bgp start BIRD, withdrawn (guest bridge nr0 is "
                                        "missing)"), 1);
        r = pass_bgp(&BGP, false, "our own writes come back as events");
        assert_int_equal(r.n_ops, 1);
        assert_int_equal(lines_since(0, "  bgp configure BIRD, advertising"), 1);
        assert_int_equal(pass_bgp(&BGP, false, "converged: nothing to do").n_ops, 0);
        assert_int_equal(S.n.repairs[NR_OBJ_BGP], 0);
        assert_int_equal(S.k.bgp_restarts, 0);
        golden("bgp-cold-start.txt");
}

static void bgp_converge(void)
{
        pass_bgp(&BGP, true, "start");
        pass_bgp(&BGP, false, "the host is up: advertise");
        assert_int_equal(pass_bgp(&BGP, false, "converged").n_ops, 0);
}

/* Reloads by difference: a changed hold time alone waits for the sessions to restart (no op);
 * a prefix added is a configure that keeps the sessions' old settings; never a BIRD restart. */
static void bgp_reloads(void **state)
{
        (void)state;
        scene_start();
        bgp_converge();
        size_t m = mark();
        struct bvariant v = BGP;
        fake_note(&S.k, "# reload: hold time 90s (sessions are up: it waits for them)");
        v.hold = "90s";
        assert_int_equal(pass_bgp(&v, true, "reload").n_ops, 0);
        fake_note(&S.k, "# reload: hold time 90s and a prefix added");
        v.extra = ", 10.100.9.0/24";
        assert_int_equal(pass_bgp(&v, true, "reload").n_ops, 1);
        assert_int_equal(lines_since(m, "  bgp configure BIRD, advertising, sessions kept"), 1);
        assert_non_null(strstr(S.k.bird_conf, "route 10.100.9.0/24 blackhole;"));
        assert_non_null(strstr(S.k.bird_conf, "hold time 180;"));
        assert_int_equal(pass_bgp(&v, false, "converged").n_ops, 0);
        fake_note(&S.k, "# reload: the prefix removed again");
        v.extra = "";
        assert_int_equal(pass_bgp(&v, true, "reload").n_ops, 1);
        assert_int_equal(lines_since(m, "  bgp start"), 0);
        assert_int_equal(lines_since(m, "  bgp stop"), 0);
        assert_int_equal(S.k.bgp_restarts, 0);
        fake_note(&S.k, "# the sessions drop (Route Server restarted): they come back with "
                        "the new hold time");
        assert_int_equal(fake_bgp_sessions_down(&S.k), 0);
        assert_int_equal(pass_bgp(&v, false, "BIRD: sessions down").n_ops, 1);
        assert_non_null(strstr(S.k.bird_conf, "hold time 90;"));
        assert_int_equal(pass_bgp(&v, false, "converged").n_ops, 0);
        assert_int_equal(S.n.repairs[NR_OBJ_BGP], 0);
        golden("bgp-reloads.txt");
}

/* The health gate: what the host cannot serve is withdrawn in the pass that sees it, and
 * advertised again in the pass after the repair; a BIRD that died is started again. */
static void bgp_health(void **state)
{
        (void)state;
        scene_start();
        bgp_converge();
        size_t m = mark();
        fake_note(&S.k, "# dnsmasq killed");
        assert_int_equal(fake_dnsmasq_kill(&S.k), 0);
        assert_int_equal(pass_bgp(&BGP, false, "SIGCHLD").n_ops, 2);
        assert_int_equal(lines_since(m, "  bgp configure BIRD, withdrawn (dnsmasq"), 1);
        assert_int_equal(pass_bgp(&BGP, false, "dnsmasq runs again").n_ops, 1);
        assert_int_equal(lines_since(m, "  bgp configure BIRD, advertising"), 1);
        fake_note(&S.k, "# the guest bridge deleted");
        assert_int_equal(fake_link_del(&S.k, "nr0"), 0);
        pass_bgp(&BGP, false, "link event");
        assert_int_equal(lines_since(m, "  bgp configure BIRD, withdrawn (guest bridge nr0 is "
                                        "missing)"), 1);
        assert_int_equal(pass_bgp(&BGP, false, "the bridge is back").n_ops, 1);
        assert_int_equal(lines_since(m, "  bgp configure BIRD, advertising"), 2);
        fake_note(&S.k, "# ip_forward turned off");
        assert_int_equal(fake_sysctl_set(&S.k, "net/ipv4/ip_forward", "0"), 0);
        assert_int_equal(pass_bgp(&BGP, false, "resync").n_ops, 2);
        assert_int_equal(pass_bgp(&BGP, false, "forwarding is back").n_ops, 1);
        fake_note(&S.k, "# BIRD killed");
        assert_int_equal(fake_bird_kill(&S.k), 0);
        assert_int_equal(pass_bgp(&BGP, false, "resync").n_ops, 1);
        assert_int_equal(lines_since(m, "  bgp start BIRD, advertising"), 1);
        assert_int_equal(S.n.repairs[NR_OBJ_BGP], 1);
        assert_int_equal(pass_bgp(&BGP, false, "converged").n_ops, 0);
        assert_int_equal(S.k.bgp_restarts, 0);
        golden("bgp-health.txt");
}

/* Drain and undrain are passes like any other: the drain switch is a fact of the pass. Then
 * --teardown stops BIRD. */
static void bgp_drain(void **state)
{
        (void)state;
        scene_start();
        bgp_converge();
        size_t m = mark();
        struct bvariant v = BGP;
        fake_note(&S.k, "# nestrouterctl drain");
        v.drained = true;
        assert_int_equal(pass_bgp(&v, false, "drain").n_ops, 1);
        assert_int_equal(lines_since(m, "  bgp configure BIRD, withdrawn (drained"), 1);
        assert_null(strstr(S.k.bird_conf, "blackhole"));
        assert_int_equal(pass_bgp(&v, false, "converged, drained").n_ops, 0);
        fake_note(&S.k, "# dnsmasq killed while drained: repaired, still withdrawn");
        assert_int_equal(fake_dnsmasq_kill(&S.k), 0);
        assert_int_equal(pass_bgp(&v, false, "SIGCHLD").n_ops, 1);
        assert_int_equal(pass_bgp(&v, false, "converged, drained").n_ops, 0);
        fake_note(&S.k, "# nestrouterctl undrain");
        v.drained = false;
        assert_int_equal(pass_bgp(&v, false, "undrain").n_ops, 1);
        assert_int_equal(lines_since(m, "  bgp configure BIRD, advertising"), 1);
        assert_int_equal(S.k.bgp_restarts, 0);
        assert_int_equal(S.n.repairs[NR_OBJ_BGP], 0);
        struct nr_desired none;
        assert_int_equal(model_empty(S.prev.route_protocol, &none), 0);
        fake_note(&S.k, "# --teardown");
        assert_int_equal(pass_want(&none, true, "teardown").failed, 0);
        assert_false(S.k.bird_running);
        golden("bgp-drain.txt");
}

/* The record is ours, but a newer version may add kinds and a crash may cut a line: what is
 * not understood is skipped, what is understood is kept. */
static void owned_record_tolerant(void **state)
{
        (void)state;
        static const char text[] = "# comment\n"
                                   "protocol 79\n"
                                   "bridge nr0\n"
                                   "bridge a-name-longer-than-fifteen\n"
                                   "port veth-web2 nr0\n"
                                   "vm web1\n"
                                   "address 10.0.2.1/24 nr0\n"
                                   "address 10.0.2.300/24 nr0\n"
                                   "address 10.0.3.1/2";
        struct nr_desired d;
        assert_int_equal(owned_parse(text, strlen(text), &d), 0);
        assert_int_equal(d.route_protocol, 79);
        assert_int_equal(d.n_links, 2);
        assert_string_equal(d.links[0].name, "nr0");
        assert_true(d.links[0].bridge);
        assert_string_equal(d.links[1].name, "veth-web2");
        assert_string_equal(d.links[1].master, "nr0");
        assert_false(d.links[1].bridge);
        assert_int_equal(d.n_addrs, 1);
        assert_string_equal(d.addrs[0].dev, "nr0");
        char *again = owned_render(&d);
        assert_non_null(again);
        assert_string_equal(again, "# nestrouterd: what it made and removes when no longer wanted\n"
                                   "protocol 79\nbridge nr0\nport veth-web2 nr0\n"
                                   "address 10.0.2.1/24 nr0\n");
        free(again);
        model_free(&d);
}

/* ---- guests: the guest pass's engine, libvirt through the virt backend ---------------------- */

static const char VMS[] = "vms:\n"
                          "  - {name: g1, kernel: /k/vmlinuz, memory: 64MiB}\n"
                          "  - {name: g2, kernel: /k/vmlinuz, memory: 64MiB, autostart: false}\n"
                          "  - {name: g3, kernel: /k/vmlinuz, memory: 64MiB}\n";

/* The guests' desired state as the guest pass makes it: every VM of the file, each ready with
 * the hash its rendered definition has ("" names one that is not ready: its disk is still
 * being imported), the definition's text standing in as "<domain NAME HASH>". */
static void guests_desired(const char *vms, bool hold, const char *const *hashes,
                           struct nr_desired *want, char xml[][128])
{
        struct variant v = BASE;
        v.vms = vms;
        char text[4096];
        snprintf(text, sizeof(text), CONFIG, v.route, v.bridge, v.reservation, v.forward, v.vms);
        struct tcfg *t = check_text(text);
        assert_int_equal(t->parse_r, 0);
        assert_int_equal(model_doms(&t->cfg, hold, want), 0);
        for (size_t i = 0; i < want->n_doms; i++) {
                if (!hashes[i][0])
                        continue;
                want->doms[i].ready = true;
                snprintf(want->doms[i].hash, sizeof(want->doms[i].hash), "%s", hashes[i]);
                snprintf(xml[i], 128, "<domain %s %s>", want->doms[i].name, hashes[i]);
                want->doms[i].xml = xml[i];
        }
}

static struct nr_pass_result guest_pass(const char *vms, bool hold, const char *const *hashes,
                                        const char *why)
{
        struct nr_desired want;
        struct nr_pass_result res;
        char xml[8][128];
        guests_desired(vms, hold, hashes, &want, xml);
        fake_note(&S.k, "guest pass %u at +%.1f s (%s)", ++S.passes,
                  (double)(S.now - 1000000000ull) / 1e6, why);
        assert_int_equal(engine_pass(&S.e, &want, NULL, false, &res), 0);
        fake_note(&S.k, "  = %zu ops, %u not converged", res.n_ops, res.failed);
        if (res.retry_at_usec)
                fake_note(&S.k, "  = next pass in %.1f s",
                          (double)(res.retry_at_usec - S.now) / 1e6);
        model_free(&want);
        return res;
}

/* Guests planned like every other object: defined, autostarted once per boot, a foreign domain
 * in the way is a conflict, ours no longer configured are undefined, a guest whose disk is still
 * being imported is neither defined nor undefined, hold stops autostarts, a failed start backs
 * off, and ops answered later (the helper is another process) are counted when they are. */
static void guests(void **state)
{
        static struct fake_virt fv;
        const char *v1[] = {"h1", "h2", "h3"}, *v2[] = {"h1b", "h2", "h3"};
        const char *importing[] = {"", "h2", "h3"};
        (void)state;
        scene_start();
        fake_virt_init(&fv, &S.k);
        fake_virt_attach(&fv, &S.e);
        assert_int_equal(fake_dom_add(&fv, "web1", false, true), 0); /* someone else's */
        assert_int_equal(fake_dom_add(&fv, "old1", true, true), 0);  /* ours, from an old file */
        assert_int_equal(fake_dom_add(&fv, "g3", false, false), 0);  /* in the way of ours */
        fake_note(&S.k, "# the helper is not connected yet: nothing is known, nothing planned");
        assert_int_equal(guest_pass(VMS, false, v1, "start").n_ops, 0);
        fake_note(&S.k, "# libvirt answers: define and autostart ours, g3 is someone else's, "
                        "old1 loses its definition and runs on");
        fv.up = true;
        struct nr_pass_result r = guest_pass(VMS, false, v1, "libvirt connected");
        assert_int_equal(r.n_ops, 5);
        assert_int_equal(r.failed, 1); /* the conflict */
        r = guest_pass(VMS, false, v1, "converged but for the conflict");
        assert_int_equal(r.n_ops, 1);
        fake_note(&S.k, "# g1 shuts down from inside: autostart is once per boot");
        assert_int_equal(fake_dom_stop(&fv, "g1"), 0);
        assert_int_equal(guest_pass(VMS, false, v1, "g1 stopped").n_ops, 1);
        fake_note(&S.k, "# the foreign g3 goes away: ours is defined and started");
        fv.n_doms = 0;
        assert_int_equal(fake_dom_add(&fv, "g1", true, false), 0);
        fv.doms[0].started = true;
        snprintf(fv.doms[0].hash, sizeof(fv.doms[0].hash), "h1");
        assert_int_equal(fake_dom_add(&fv, "g2", true, false), 0);
        snprintf(fv.doms[1].hash, sizeof(fv.doms[1].hash), "h2");
        assert_int_equal(guest_pass(VMS, false, v1, "g3 gone").n_ops, 2);
        fake_note(&S.k, "# a new boot: the autostarted guests start again");
        fake_virt_reboot(&fv);
        assert_int_equal(guest_pass(VMS, false, v1, "booted").n_ops, 2);
        fake_note(&S.k, "# reload: g1's definition changed while it runs; g2 removed");
        static const char VMS2[] = "vms:\n"
                                   "  - {name: g1, kernel: /k/vmlinuz, memory: 128MiB}\n"
                                   "  - {name: g3, kernel: /k/vmlinuz, memory: 64MiB}\n";
        const char *v3[] = {"h1b", "h3"};
        assert_int_equal(guest_pass(VMS2, false, v3, "reload").n_ops, 2);
        assert_int_equal(guest_pass(VMS2, false, v3, "converged").n_ops, 0);
        fake_note(&S.k, "# reload: g2 is back; g1 gets a disk to import: g1 is neither defined nor undefined meanwhile");
        assert_int_equal(guest_pass(VMS, false, importing, "reload").n_ops, 1);
        assert_int_equal(guest_pass(VMS, false, v2, "import done").n_ops, 0);
        fake_note(&S.k, "# host shutdown: starts held; a new boot with hold starts nothing");
        fake_virt_reboot(&fv);
        assert_int_equal(guest_pass(VMS, true, v2, "held").n_ops, 0);
        fake_note(&S.k, "# the helper answers later: one op per guest at a time, counted when "
                        "answered; a start that fails backs off");
        fv.async = true;
        fake_fail(&S.k, "vm start g3", EIO, 1);
        uint64_t writes = S.n.writes;
        r = guest_pass(VMS, false, v2, "not held any more");
        assert_int_equal(r.n_ops, 2);
        assert_int_equal(S.n.writes, writes);
        r = guest_pass(VMS, false, v2, "before the answers");
        assert_int_equal(r.n_ops, 2);
        fake_virt_answer(&fv);
        assert_int_equal(S.n.writes, writes + 1);
        r = guest_pass(VMS, false, v2, "after the answers: g3 backs off");
        assert_int_equal(r.n_ops, 1);
        assert_true(r.retry_at_usec > S.now);
        S.now += 2000000;
        r = guest_pass(VMS, false, v2, "retry");
        fake_virt_answer(&fv);
        assert_int_equal(guest_pass(VMS, false, v2, "converged").n_ops, 0);
        size_t n;
        assert_null(engine_failures(&S.e, &n));
        golden("guests.txt");
        fake_virt_free(&fv);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                ETEST(cold_start_and_converged), ETEST(drift),
                ETEST(reloads),                  ETEST(changed_while_stopped),
                ETEST(permanent_conflict),       ETEST(transient_failure),
                ETEST(teardown),                 ETEST(owned_record_tolerant),
                ETEST(bgp_cold_start),           ETEST(bgp_reloads),
                ETEST(bgp_health),               ETEST(bgp_drain),
                ETEST(guests),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
