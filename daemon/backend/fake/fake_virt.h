/* The recording fake's libvirt: domains as the virt helper reports them, behind the virt
 * backend's ops table, recorded in the same transcript as the rest of the fake (fake.h). Like
 * the real backend it can answer an op later (async: -EINPROGRESS, then engine_complete when
 * the test says the helper answered), one op per guest at a time. Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "backend/fake/fake.h"

struct fake_dom {
        char name[NR_NAME_MAX];
        bool ours, persistent, active, started;
        char hash[17];
};

struct fake_virt {
        struct fake *k;            /* transcript and injected failures */
        struct nr_engine *e;       /* engine_complete for async answers */
        bool up;                   /* the helper is connected: domains are known */
        bool async;                /* ops are answered by fake_virt_answer, not at once */
        struct fake_dom *doms;
        size_t n_doms;
        struct fake_sent {         /* async ops not answered yet */
                struct nr_op op;
                char hash[17];     /* of the definition a define carries */
        } *sent;
        size_t n_sent;
};

void fake_virt_init(struct fake_virt *v, struct fake *k);
void fake_virt_free(struct fake_virt *v);
/* The engine uses v as its virt backend. */
void fake_virt_attach(struct fake_virt *v, struct nr_engine *e);

/* What happens to libvirt's domains behind the engine's back. */
int fake_dom_add(struct fake_virt *v, const char *name, bool ours, bool active);
int fake_dom_stop(struct fake_virt *v, const char *name); /* shut down from inside */
void fake_virt_reboot(struct fake_virt *v);               /* the host booted again */
/* Async: the helper answers every op sent so far, in order. */
void fake_virt_answer(struct fake_virt *v);
