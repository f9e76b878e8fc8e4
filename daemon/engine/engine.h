/* The reconcile engine: observe through every backend, plan (core/model/plan.c), apply each op through
 * the backend it names, and keep per-object failure state. No event loop, no clock of its own,
 * no kernel: the daemon gives it the real backends and the monotonic clock; the unit tests give
 * it the recording fake (backend/fake) and a clock they move by hand. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "core/model/model.h"
#include "core/model/plan.h"
#include "core/render/render_metrics.h"

/* Per-object backoff: first retry after 1 s, doubling, at most NR_ENGINE_BACKOFF_MAX_USEC. */
#define NR_ENGINE_BACKOFF_MIN_USEC 1000000ull
#define NR_ENGINE_BACKOFF_MAX_USEC 64000000ull

struct nr_counters {
        uint64_t passes;           /* reconcile passes */
        uint64_t writes;           /* ops applied successfully */
        uint64_t failures;         /* ops that failed */
        uint64_t backoffs;         /* ops put off while their object or backend backs off */
        uint64_t repairs[NR_OBJ_COUNT]; /* drift repaired after the system had converged */
        uint64_t changes[NR_OBJ_COUNT]; /* ops from a (re)load of the configuration */
        uint64_t reloads, reloads_rejected;
        uint64_t events_netlink, events_nft, overruns;
        struct nr_pass_hist pass_hist; /* pass durations, for the metrics */
};

/* An object that failed or is in conflict: retried with backoff, reported once per reason. */
struct nr_engine_fail {
        enum nr_obj obj;
        char object[160];          /* plan_op_object() */
        char reason[256];
        bool conflict;             /* foreign, left alone: re-checked each pass, never written */
        unsigned attempts;
        uint64_t since_usec;       /* first failure */
        uint64_t next_usec;        /* not retried before */
        bool seen;                 /* named by this pass's plan */
};

/* What the engine tells the daemon's journal (or a test's transcript). pri: syslog levels. */
typedef void (*nr_engine_say_fn)(void *ctx, int pri, enum nr_obj o, const char *object,
                                 const char *msg);

struct nr_engine {
        struct nr_backend be[NR_BACKEND_COUNT];
        uint64_t (*now)(void *ctx);
        nr_engine_say_fn say;
        void *ctx;
        struct nr_counters *n;
        struct nr_engine_fail *fails;
        size_t n_fails;
        char *last_error;          /* the daemon's: the last failed op and why */
        size_t last_error_size;
};

struct nr_pass_result {
        size_t n_ops;              /* planned */
        unsigned failed;           /* failed, in conflict, or put off: not converged */
        uint64_t retry_at_usec;    /* when a pass should retry, on e->now's clock (0: never) */
};

void engine_init(struct nr_engine *e, struct nr_counters *n, char *last_error,
                 size_t last_error_size, uint64_t (*now)(void *), nr_engine_say_fn say,
                 void *ctx);
void engine_set_backend(struct nr_engine *e, enum nr_backend_id id,
                        const struct nr_backend_ops *ops, void *self);
void engine_free(struct nr_engine *e);

/* Every backend's view of what want and prev name, in backend order. */
int engine_observe(struct nr_engine *e, const struct nr_desired *want,
                   const struct nr_desired *prev, struct nr_observed *have);

/* One pass towards want. prev: what the last pass (or the ownership record) says we made, or
 * NULL. changed: this pass follows a (re)load, so its ops are changes, not repairs. */
int engine_pass(struct nr_engine *e, const struct nr_desired *want,
                const struct nr_desired *prev, bool changed, struct nr_pass_result *res);

/* An op its backend's apply() answered with -EINPROGRESS (sent to another process) has
 * finished: r 0 applied, else failed with err. Counted, logged and backed off like an op
 * applied in a pass. */
void engine_complete(struct nr_engine *e, const struct nr_op *op, int r, const char *err);

/* Something changed that may cure a failing object (a reload, a link appeared): retry every
 * failing object at the next pass instead of waiting for its backoff. */
void engine_retry_now(struct nr_engine *e);

/* The failing objects, for status (NULL when none). */
const struct nr_engine_fail *engine_failures(const struct nr_engine *e, size_t *n);
