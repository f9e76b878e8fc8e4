/* The reconcile engine: one pass observes through every backend, plans, and applies each op
 * through the backend it names. Failures are kept per object (its plan_op_object key): a failing
 * object is retried with exponential backoff while every other object keeps converging, and is
 * reported once when it starts failing, once when its reason changes and once when it recovers. */
#include "engine/engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

void engine_init(struct nr_engine *e, struct nr_counters *n, char *last_error,
                 size_t last_error_size, uint64_t (*now)(void *), nr_engine_say_fn say,
                 void *ctx)
{
        memset(e, 0, sizeof(*e));
        e->n = n;
        e->last_error = last_error;
        e->last_error_size = last_error_size;
        e->now = now;
        e->say = say;
        e->ctx = ctx;
}

void engine_set_backend(struct nr_engine *e, enum nr_backend_id id,
                        const struct nr_backend_ops *ops, void *self)
{
        e->be[id] = (struct nr_backend){ops, self};
}

void engine_free(struct nr_engine *e)
{
        free(e->fails);
        e->fails = NULL;
        e->n_fails = 0;
}

static void say(struct nr_engine *e, int pri, enum nr_obj o, const char *object,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void say(struct nr_engine *e, int pri, enum nr_obj o, const char *object,
                const char *fmt, ...)
{
        char msg[700];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (e->say)
                e->say(e->ctx, pri, o, object, msg);
}

int engine_observe(struct nr_engine *e, const struct nr_desired *want,
                   const struct nr_desired *prev, struct nr_observed *have)
{
        memset(have, 0, sizeof(*have));
        for (int i = 0; i < NR_BACKEND_COUNT; i++) {
                const struct nr_backend *b = &e->be[i];
                int r = b->ops && b->ops->observe ? b->ops->observe(b->self, want, prev, have) : 0;
                if (r < 0) {
                        observed_free(have);
                        return r;
                }
        }
        return 0;
}

/* ---- per-object failures ----------------------------------------------------------------- */

static uint64_t backoff_usec(unsigned attempts)
{
        uint64_t d = NR_ENGINE_BACKOFF_MIN_USEC;
        for (unsigned i = 1; i < attempts && d < NR_ENGINE_BACKOFF_MAX_USEC; i++)
                d *= 2;
        return d < NR_ENGINE_BACKOFF_MAX_USEC ? d : NR_ENGINE_BACKOFF_MAX_USEC;
}

static struct nr_engine_fail *fail_find(struct nr_engine *e, enum nr_obj o, const char *object)
{
        for (size_t i = 0; i < e->n_fails; i++)
                if (e->fails[i].obj == o && !strcmp(e->fails[i].object, object))
                        return &e->fails[i];
        return NULL;
}

static struct nr_engine_fail *fail_add(struct nr_engine *e, enum nr_obj o, const char *object,
                                       const char *reason, bool conflict, uint64_t now)
{
        struct nr_engine_fail *v = realloc(e->fails, (e->n_fails + 1) * sizeof(*v));
        if (!v)
                return NULL;
        e->fails = v;
        struct nr_engine_fail *f = &v[e->n_fails++];
        memset(f, 0, sizeof(*f));
        f->obj = o;
        f->conflict = conflict;
        f->attempts = 1;
        f->since_usec = now;
        f->next_usec = now + backoff_usec(1);
        f->seen = true;
        snprintf(f->object, sizeof(f->object), "%s", object);
        snprintf(f->reason, sizeof(f->reason), "%s", reason);
        return f;
}

static void fail_drop(struct nr_engine *e, struct nr_engine_fail *f)
{
        size_t i = (size_t)(f - e->fails);
        memmove(&e->fails[i], &e->fails[i + 1], (e->n_fails - i - 1) * sizeof(*f));
        e->n_fails--;
}

void engine_retry_now(struct nr_engine *e)
{
        for (size_t i = 0; i < e->n_fails; i++)
                e->fails[i].next_usec = 0;
}

const struct nr_engine_fail *engine_failures(const struct nr_engine *e, size_t *n)
{
        *n = e->n_fails;
        return e->n_fails ? e->fails : NULL;
}

static double secs(uint64_t usec)
{
        return (double)usec / 1e6;
}

/* Something foreign is in the way: nothing is written; the pass re-checks it every time, and the
 * retry timer follows the backoff, so a permanent conflict costs one log line, not one a second. */
static void on_conflict(struct nr_engine *e, const struct nr_op *op, const char *object,
                        struct nr_engine_fail *f, uint64_t now)
{
        if (!f) {
                say(e, LOG_WARNING, op->obj, object, "conflict, left alone: %s", op->why);
                fail_add(e, op->obj, object, op->why, true, now);
        } else if (strcmp(f->reason, op->why) || !f->conflict) {
                say(e, LOG_WARNING, op->obj, object, "conflict, left alone: %s", op->why);
                snprintf(f->reason, sizeof(f->reason), "%s", op->why);
                f->conflict = true;
        } else if (now >= f->next_usec) {
                f->attempts++;
                f->next_usec = now + backoff_usec(f->attempts);
        }
}

static void on_failure(struct nr_engine *e, const struct nr_op *op, const char *object,
                       const char *line, const char *err, struct nr_engine_fail *f, uint64_t now)
{
        e->n->failures++;
        if (e->last_error)
                snprintf(e->last_error, e->last_error_size, "%s: %s", line, err);
        if (!f) {
                f = fail_add(e, op->obj, object, err, false, now);
                say(e, LOG_ERR, op->obj, object, "%s: %s (retry in %.0f s)", line, err,
                    secs(backoff_usec(1)));
                return;
        }
        f->attempts++;
        f->next_usec = now + backoff_usec(f->attempts);
        if (strcmp(f->reason, err) || f->conflict) {
                snprintf(f->reason, sizeof(f->reason), "%s", err);
                f->conflict = false;
                say(e, LOG_ERR, op->obj, object, "%s: %s (retry in %.0f s)", line, err,
                    secs(backoff_usec(f->attempts)));
        } else {
                say(e, LOG_DEBUG, op->obj, object, "%s: still failing (attempt %u): %s; retry in %.0f s",
                    line, f->attempts, err, secs(backoff_usec(f->attempts)));
        }
}

static void on_success(struct nr_engine *e, const struct nr_op *op, const char *object,
                       const char *line, bool change, struct nr_engine_fail *f)
{
        e->n->writes++;
        if (f && f->conflict)
                say(e, LOG_NOTICE, op->obj, object, "%s: resolved (was: %s)", object, f->reason);
        else if (f)
                say(e, LOG_NOTICE, op->obj, object, "%s: recovered after %u failed attempts",
                    line, f->attempts);
        if (f)
                fail_drop(e, f);
        if (change) {
                e->n->changes[op->obj]++;
                say(e, LOG_INFO, op->obj, object, "%s", line);
        } else {
                e->n->repairs[op->obj]++;
                say(e, LOG_NOTICE, op->obj, object, "repaired drift: %s", line);
        }
}

/* Returns 1 when the op did not converge (failed, in conflict, put off), 0 when applied. */
static int apply_one(struct nr_engine *e, const struct nr_plan *plan, const struct nr_op *op,
                     const struct nr_desired *want, bool changed, uint64_t now,
                     uint64_t *retry_at)
{
        char line[400], err[256] = "", object[160];
        plan_op_line(plan, op, line, sizeof(line));
        plan_op_object(op, object, sizeof(object));
        struct nr_engine_fail *f = fail_find(e, op->obj, object);
        if (f)
                f->seen = true;
        if (op->kind == NR_OP_CONFLICT) {
                on_conflict(e, op, object, f, now);
                return 1;
        }
        if (f && !f->conflict && now < f->next_usec) {
                e->n->backoffs++;
                say(e, LOG_DEBUG, op->obj, object, "%s: put off, retried in %.1f s", line,
                    secs(f->next_usec - now));
                return 1;
        }
        const struct nr_backend *b = &e->be[plan_obj_backend(op->obj)];
        bool change = changed || (b->ops && b->ops->is_change && b->ops->is_change(b->self, op));
        int r = -ENOSYS;
        if (b->ops && b->ops->apply)
                r = b->ops->apply(b->self, want, op, err, sizeof(err));
        else
                snprintf(err, sizeof(err), "no %s backend", plan_obj_name(op->obj));
        if (r == -EINPROGRESS) { /* sent; engine_complete() reports how it went */
                say(e, LOG_DEBUG, op->obj, object, "%s: in progress", line);
                return 1;
        }
        if (r == -EAGAIN) {
                e->n->backoffs++;
                say(e, LOG_DEBUG, op->obj, object, "%s: put off (backing off)", line);
                uint64_t t = b->ops->retry_usec ? b->ops->retry_usec(b->self) : 0;
                if (t <= now)
                        t = now + NR_ENGINE_BACKOFF_MIN_USEC;
                if (!*retry_at || t < *retry_at)
                        *retry_at = t;
                return 1;
        }
        if (r < 0) {
                on_failure(e, op, object, line, err, f, now);
                return 1;
        }
        say(e, LOG_DEBUG, op->obj, object, "applied in %llu us: %s",
            (unsigned long long)(e->now(e->ctx) - now), line);
        on_success(e, op, object, line, change, f);
        return 0;
}

void engine_complete(struct nr_engine *e, const struct nr_op *op, int r, const char *err)
{
        static const struct nr_plan none = {0};
        char line[400], object[160];
        uint64_t now = e->now(e->ctx);
        plan_op_line(&none, op, line, sizeof(line));
        plan_op_object(op, object, sizeof(object));
        struct nr_engine_fail *f = fail_find(e, op->obj, object);
        const struct nr_backend *b = &e->be[plan_obj_backend(op->obj)];
        if (r < 0) {
                on_failure(e, op, object, line, err && *err ? err : "failed", f, now);
                return;
        }
        on_success(e, op, object, line,
                   b->ops && b->ops->is_change && b->ops->is_change(b->self, op), f);
}

/* Failing objects the plan no longer names: fixed behind our back, no longer wanted, or the
 * conflict went away. */
static void sweep(struct nr_engine *e)
{
        for (size_t i = 0; i < e->n_fails;) {
                struct nr_engine_fail *f = &e->fails[i];
                if (f->seen) {
                        i++;
                        continue;
                }
                say(e, LOG_NOTICE, f->obj, f->object, "%s: resolved (was: %s)", f->object,
                    f->reason);
                fail_drop(e, f);
        }
}

int engine_pass(struct nr_engine *e, const struct nr_desired *want,
                const struct nr_desired *prev, bool changed, struct nr_pass_result *res)
{
        struct nr_observed have;
        struct nr_plan plan;
        uint64_t now = e->now(e->ctx), retry_at = 0;
        memset(res, 0, sizeof(*res));
        int r = engine_observe(e, want, prev, &have);
        if (r < 0)
                return r;
        r = plan_build(want, &have, prev, &plan);
        observed_free(&have);
        if (r < 0)
                return r;
        for (size_t i = 0; i < e->n_fails; i++)
                e->fails[i].seen = false;
        for (size_t i = 0; i < plan.n_ops; i++)
                res->failed += apply_one(e, &plan, &plan.ops[i], want, changed, now, &retry_at);
        sweep(e);
        for (size_t i = 0; i < e->n_fails; i++) {
                uint64_t t = e->fails[i].next_usec > now ? e->fails[i].next_usec
                                                         : now + NR_ENGINE_BACKOFF_MIN_USEC;
                if (!retry_at || t < retry_at)
                        retry_at = t;
        }
        res->n_ops = plan.n_ops;
        res->retry_at_usec = retry_at;
        e->n->passes++;
        plan_free(&plan);
        return 0;
}
