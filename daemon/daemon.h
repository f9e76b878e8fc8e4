/* The running daemon: configuration, backends, the reconcile pass and its counters. One thread,
 * one sd-event loop; every kernel event, timer, signal and control request only schedules or
 * reads — all changes happen in daemon_reconcile(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "azure/azure_events.h"
#include "azure/azure_watch.h"
#include "backend/bgp/bgp.h"
#include "backend/dnsmasq/dm.h"
#include "backend/netlink/nl.h"
#include "backend/nft/nft.h"
#include "backend/virt/virt.h"
#include "control/confirm.h"
#include "core/config/config.h"
#include "core/config/diag.h"
#include "core/model/model.h"
#include "core/model/plan.h"
#include "core/render/render_metrics.h"
#include "engine/engine.h"
#include "lib/debounce.h"
#include "control/metrics.h"

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

struct nr_daemon_opts {
        const char *config;
        const char *run_dir;
        const char *state_dir;
};

/* A drain's wait for BIRD's withdraw (drain.c): the control clients to answer and the
 * Scheduled Event's guest shutdown to start once it has gone out. */
#define NR_DRAINW_CLIENTS 8
struct nr_drainw {
        sd_event_source *timer;    /* NULL: no wait running */
        uint64_t t0;               /* CLOCK_MONOTONIC usec: the drain */
        uint64_t withdrawn_at;     /* when BIRD first exported nothing; 0 before */
        bool had_routes;           /* something was still exported: a withdraw went out now */
        bool settle;               /* then give Route Server NR_DRAIN_SETTLE_USEC to act on it */
        bool guests_next;          /* a Scheduled Event waits (aze_drained) */
        int fds[NR_DRAINW_CLIENTS];
        unsigned n_fds;
};

struct nr_daemon {
        sd_event *ev;
        struct nr_daemon_opts o;
        struct nr_config *cfg;     /* NULL while no valid config was ever loaded */
        char *cfg_text;            /* the text it was read from (a rollback writes it back) */
        struct nr_config *retired; /* the configuration a reload replaced, and its text: freed */
        char *retired_text;        /* once the pass it asked for has been reported */
        struct nr_confirm confirm; /* a reload waiting for `nestrouterctl confirm` */
        struct nr_diags errors;    /* of the last rejected load */
        bool config_ok;            /* the file on disk was accepted last time we read it */
        bool have_prev;
        struct nr_desired prev;    /* what the last pass wanted (at start: the ownership
                                    * record of an earlier run) */
        char *owned_text;          /* that record as last written to the state dir */
        bool converged;            /* the last pass applied everything it planned */
        bool ready_sent;
        bool config_changed;       /* the next pass follows a (re)load: its ops are changes */
        char last_error[700];
        uint64_t last_pass_usec;   /* duration of the last pass */
        struct nlb nl;
        struct nftb nft;
        struct dmb dm;
        struct bgpb bgp;           /* BIRD (bgp:) */
        struct virtb virt;         /* nested guests: own pass and timer, libvirt in a helper */
        struct nr_azw azw;         /* IMDS: uplink roles for `match: {azure: ...}` */
        struct nr_aze aze;         /* IMDS: Scheduled Events */
        struct nr_drainw drainw;   /* a drain waiting for its withdraw to go out */
        struct debounce pass;      /* the reconcile pass: bursts of triggers become one */
        sd_event_source *settle_src;  /* the nft baseline listing, after the pass is reported */
        sd_event_source *resync_timer;
        struct nr_counters n;
        struct nr_engine eng;      /* observe, plan, apply through the backends */
        struct nr_mwriter mw;      /* the Prometheus textfile */
};

int daemon_run(const struct nr_daemon_opts *o);

/* Run a reconcile pass after `delay_usec` (coalesces: an earlier pending pass wins). */
void daemon_schedule(struct nr_daemon *d, uint64_t delay_usec);

/* Re-read the config. On any error the running config stays; errors go to d->errors, the log
 * and the status. Returns 0 when the new file was accepted. */
int daemon_reload(struct nr_daemon *d);
/* The same; with confirm_s > 0 the previous configuration comes back by itself unless
 * confirmed within that many seconds (confirm.h). */
int daemon_reload_confirm(struct nr_daemon *d, unsigned confirm_s);
/* A configuration (and its text) a reload replaced, freed by daemon_free_retired: after the
 * next pass has been reported, or when another one is retired. */
void daemon_retire_config(struct nr_daemon *d, struct nr_config *old, char *old_text);
void daemon_free_retired(struct nr_daemon *d);
/* Makes cfg (read from text) the running configuration and schedules a pass; returns what it
 * replaced (both NULL at the first load), for the caller to keep or free. */
void daemon_adopt_config(struct nr_daemon *d, struct nr_config *cfg, char *text,
                         struct nr_config **old, char **old_text);

/* Status text or JSON (caller frees). */
char *daemon_status(struct nr_daemon *d, bool json);
/* Leases from dnsmasq's lease file, as a table or JSON (caller frees). */
char *daemon_leases(struct nr_daemon *d, bool json);
/* What a pass would do now, one op per line (caller frees). */
char *daemon_plan_text(struct nr_daemon *d);

/* One observation of everything the desired state names (used by passes and status). */
int daemon_observe(struct nr_daemon *d, const struct nr_desired *want, struct nr_observed *have);
int daemon_build_desired(struct nr_daemon *d, struct nr_desired *want);
/* The facts of the interfaces the netlink backend last saw, decided by the core (uplinks,
 * the guest bridge's ports); leases are not included. */
void daemon_facts(struct nlb *nl, const struct nr_config *cfg, const struct imds_roles *roles,
                  struct nr_facts *facts);
/* The ownership record in the state dir (core/model/owned.h). */
#define NR_OWNED_FILE "owned"
void daemon_owned_load(struct nr_daemon *d);
/* The engine over the daemon's backends (once they are open). */
void daemon_engine_init(struct nr_daemon *d);

/* nestrouterctl drain/undrain (drain.c): 0, or -ENOENT without bgp:, or -errno; *msg for the
 * client (caller frees). until_reboot: the drain is forgotten at the next boot (host shutdown,
 * Scheduled Events). */
int daemon_drain(struct nr_daemon *d, bool drain, bool until_reboot, char **msg);
/* After a drain: waits (bounded, never blocking the loop) until BIRD has sent the withdraw to
 * every Established session; with settle, a withdraw that went out now is followed by a pause
 * for Route Server to reprogram the VNet (the shutdown paths: the guests stop after it). Then
 * answers fd (a control client that asked for the drain, -1 none) and, with guests_next, calls
 * aze_drained(). Returns false when it could not wait (fd was not taken). */
bool daemon_drain_wait(struct nr_daemon *d, int fd, bool settle, bool guests_next);
void daemon_drain_wait_close(struct nr_daemon *d);

/* nestrouterd --teardown: remove everything nestrouter owns. */
int daemon_teardown(const struct nr_daemon_opts *o);
