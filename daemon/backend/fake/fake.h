/* The recording fake: an in-memory kernel, nftables, dnsmasq and BIRD behind the same ops tables as
 * the real backends (backend/backend.h). Each applied op is recorded as one line of text (the
 * plan's words), so whole reconcile scenarios become golden transcripts; a test can make ops
 * fail and can change the "kernel" behind the engine's back (drift). Pure: no syscalls. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"
#include "core/model/plan.h"
#include "core/lib/strbuf.h"

#define FAKE_FAILS_MAX 8

struct fake_fail {
        char prefix[160];          /* ops whose line starts with this fail */
        int err;                   /* with this errno */
        int times;                 /* this many more times; -1: always */
};

struct fake {
        struct nr_obs_link *links;
        size_t n_links;
        struct nr_addr *addrs;
        size_t n_addrs;
        struct nr_obs_route *routes;
        size_t n_routes;
        struct nr_rule *rules;     /* all carry our protocol: foreign rules are not modelled */
        size_t n_rules;
        struct nr_sysctl *sysctls;
        size_t n_sysctls;
        struct nftm_table *nft, *nft_bridge; /* the tables as loaded (references); NULL:
                                              * absent */
        bool dnsmasq_running;
        char *dnsmasq_conf, *dnsmasq_hosts;
        bool bird_running;
        char *bird_conf;           /* what BIRD was last started or configured with */
        unsigned bgp_up;           /* its Established sessions (bit n-1: nr_rsn) */
        unsigned bgp_restarts;     /* sessions BIRD had to restart for a new text */
        struct fake_fail fails[FAKE_FAILS_MAX];
        size_t n_fails;
        struct nr_buf log;         /* the transcript */
};

void fake_init(struct fake *k);
void fake_free(struct fake *k);
/* Makes the engine use the fake for every backend. */
struct nr_engine;
void fake_attach(struct fake *k, struct nr_engine *e);

/* Make ops starting with `prefix` fail with -err, `times` times (-1: until cleared). */
void fake_fail(struct fake *k, const char *prefix, int err, int times);
void fake_fail_clear(struct fake *k);

/* Drift: what an administrator, another program or a crash does behind the engine's back. All
 * return 0, or -ENOENT when there is no such object. */
int fake_link_del(struct fake *k, const char *name);      /* its addresses, routes and ports go */
int fake_link_add(struct fake *k, const char *name);      /* a plain link (a port appears) */
int fake_link_down(struct fake *k, const char *name);
int fake_link_release(struct fake *k, const char *name);  /* off its bridge */
int fake_addr_del(struct fake *k, const char *dev, const char *cidr);
int fake_route_del(struct fake *k, const char *dst, uint32_t table);
/* A route with a foreign protocol and the key of one of ours (replaces ours if present). */
int fake_route_foreign(struct fake *k, const char *dst, uint32_t table, const char *dev,
                       uint8_t protocol);
int fake_rule_del(struct fake *k, uint32_t priority);
int fake_sysctl_set(struct fake *k, const char *key, const char *value);
int fake_nft_del(struct fake *k, bool bridge);
int fake_nft_tamper(struct fake *k, bool bridge);         /* a rule changed by hand */
int fake_dnsmasq_kill(struct fake *k);
int fake_bird_kill(struct fake *k);                       /* BIRD gone: nothing advertised */
int fake_bgp_sessions_down(struct fake *k);               /* the peers went away */

/* An injected failure (fake_fail) for the op with this line, if any: -errno with err set, and
 * counted down; 0 otherwise. */
int fake_injected(struct fake *k, const char *line, char *err, size_t errlen);

/* The transcript so far (owned by the fake); fake_note adds a line of the test's own. */
const char *fake_transcript(struct fake *k);
void fake_note(struct fake *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
