/* BIRD, the BGP speaker for Azure Route Server (bgp:). nestrouterd renders its configuration
 * (core/render/render_bird.c, gated by core/model/bgp_gate.c) and drives it through its control socket:
 * `configure` to apply a new text (sessions stay up), `show protocols all` to observe, `down` to
 * stop it. BIRD is not a child that dies with the daemon: it runs on its own (daemonized; under
 * systemd as the transient unit nestrouter-bird.service), so that stopping, restarting or
 * upgrading nestrouterd never withdraws a route, just as the kernel's routes and nft table stay.
 * Its files live in the state dir, which outlives the run dir: bird.conf (what it runs),
 * bird.ctl (its control socket), bird.pid, and bgp-drained (present while drained). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"
#include "core/parse/bird_show.h"
#include "core/model/plan.h"

struct nr_buf;

struct bgpb {
        char conf[4096], sock[4096], pid[4096], drain[4096];
        char drain_boot[4096];     /* in the run dir (a tmpfs): gone with the next boot */
        bool drained;              /* nestrouterctl drain (kept across restarts) */
        bool drained_boot;         /* drain --until-reboot: host shutdown, Scheduled Events */
        bool running;              /* BIRD answered at the last observation */
        struct nr_bird_sessions sessions; /* as BIRD showed them then */
        unsigned starts, configures, failures;
        char last_error[256];
};

extern const struct nr_backend_ops bgpb_ops;

int bgpb_open(struct bgpb *b, const char *run_dir, const char *state_dir);
/* Leaves BIRD running. */
void bgpb_close(struct bgpb *b);

int bgpb_observe(void *self, const struct nr_desired *want, const struct nr_desired *prev,
                 struct nr_observed *have);
int bgpb_apply(void *self, const struct nr_desired *want, const struct nr_op *op, char *err,
               size_t errlen);

/* Drain (withdraw on purpose) or undrain. A drain is remembered in the state dir (kept until
 * undrain), or with until_reboot in the run dir, which the next boot starts without (a host
 * shutdown, an Azure Scheduled Event: the host comes back advertising). Undrain clears both.
 * 0 or -errno. */
int bgpb_set_drained(struct bgpb *b, bool drained, bool until_reboot);
/* Drained by either. */
bool bgpb_is_drained(const struct bgpb *b);

/* Asks BIRD now whether the withdraw has gone out: 1 when no Established session exports a
 * route (or no BIRD runs), 0 while *exported routes still are, -errno when BIRD does not
 * answer. BIRD sends the withdraw as soon as its export table drops the route. */
int bgpb_withdrawn(const struct bgpb *b, unsigned *exported);

/* ,"bgp":{...} for status --json; the text lines for status. adv/why: the gate's verdict;
 * deferred: session settings wait for the sessions to restart. */
void bgpb_status_json(const struct bgpb *b, struct nr_buf *out, bool adv, const char *why,
                      bool deferred);
void bgpb_status_text(const struct bgpb *b, struct nr_buf *out, bool adv, const char *why,
                      bool deferred);

/* nestrouterd --teardown: stop BIRD (its sessions close, Route Server withdraws at once) and
 * remove its files. */
void bgpb_teardown(const char *state_dir);
