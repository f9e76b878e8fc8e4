/* The one interface every kernel subsystem (and external program) implements for the engine:
 * observe what the desired state names into the observed state, apply one op of its own. The
 * engine (engine/engine.c) dispatches each op to the backend the op names (plan_op_backend);
 * no backend ever sees another's ops, and none reads the configuration. A recording fake
 * (backend/fake) implements the same table for tests without root. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/model/model.h"
#include "core/model/plan.h"

struct nr_backend_ops {
        const char *name;
        /* Adds this backend's part of the world to `have`: the objects `want` names, and those
         * `prev` (what the last pass, or the ownership record, says we made) names. */
        int (*observe)(void *self, const struct nr_desired *want, const struct nr_desired *prev,
                       struct nr_observed *have);
        /* Applies one op whose plan_op_backend() is this backend. 0 done; -EAGAIN: put off,
         * the backend backs off by itself (retry_usec() says when); -EINPROGRESS: handed to
         * another process, the backend calls engine_complete() when it is done (and answers
         * -EINPROGRESS again while it is not); other -errno: failed, with the reason in err. */
        int (*apply)(void *self, const struct nr_desired *want, const struct nr_op *op,
                     char *err, size_t errlen);
        /* Optional: the op follows from a change the daemon made (new lease, new port, reload)
         * rather than from drift, even outside a reload. NULL: only reloads are changes. */
        bool (*is_change)(void *self, const struct nr_op *op);
        /* Optional: monotonic time (usec) before which an -EAGAIN op is pointless; 0: none. */
        unsigned long long (*retry_usec)(void *self);
};

struct nr_backend {
        const struct nr_backend_ops *ops;
        void *self;
};
