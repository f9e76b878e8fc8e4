/* The fake libvirt (fake_virt.h): define, autostart and undefine on in-memory domains, with
 * the helper's own refusals (never over a foreign domain). */
#include "backend/fake/fake_virt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lib/array.h"
#include "engine/engine.h"

void fake_virt_init(struct fake_virt *v, struct fake *k)
{
        memset(v, 0, sizeof(*v));
        v->k = k;
}

void fake_virt_free(struct fake_virt *v)
{
        free(v->doms);
        free(v->sent);
        memset(v, 0, sizeof(*v));
}

static struct fake_dom *dom_find(struct fake_virt *v, const char *name)
{
        for (size_t i = 0; i < v->n_doms; i++)
                if (!strcmp(v->doms[i].name, name))
                        return &v->doms[i];
        return NULL;
}

int fake_dom_add(struct fake_virt *v, const char *name, bool ours, bool active)
{
        struct fake_dom d = {.ours = ours, .persistent = true, .active = active,
                             .started = active};
        snprintf(d.name, sizeof(d.name), "%s", name);
        snprintf(d.hash, sizeof(d.hash), "%s", ours ? "old" : "");
        NR_APPEND(v->doms, v->n_doms, d);
        return 0;
}

int fake_dom_stop(struct fake_virt *v, const char *name)
{
        struct fake_dom *d = dom_find(v, name);
        if (!d)
                return -ENOENT;
        d->active = false;
        return 0;
}

void fake_virt_reboot(struct fake_virt *v)
{
        size_t k = 0;
        for (size_t i = 0; i < v->n_doms; i++) {
                v->doms[i].active = v->doms[i].started = false;
                if (v->doms[i].persistent) /* a transient domain does not survive it */
                        v->doms[k++] = v->doms[i];
        }
        v->n_doms = k;
}

static int observe(void *self, const struct nr_desired *w, const struct nr_desired *prev,
                   struct nr_observed *h)
{
        struct fake_virt *v = self;
        (void)w, (void)prev;
        if (!v->up)
                return 0;
        h->doms_known = true;
        for (size_t i = 0; i < v->n_doms; i++) {
                const struct fake_dom *d = &v->doms[i];
                struct nr_obs_dom o = {.owned = d->ours, .persistent = d->persistent,
                                       .active = d->active, .started = d->started};
                snprintf(o.name, sizeof(o.name), "%s", d->name);
                snprintf(o.conf_hash, sizeof(o.conf_hash), "%s", d->hash);
                NR_APPEND(h->doms, h->n_doms, o);
        }
        return 0;
}

/* The helper's side of one op: what libvirt ends up with, or why not. */
static int carry_out(struct fake_virt *v, const struct nr_op *op, const char *hash, char *err,
                     size_t errlen)
{
        struct fake_dom *d = dom_find(v, op->vm.name);
        if (d && !d->ours) {
                snprintf(err, errlen, "%s: not a nestrouter guest; left alone", op->vm.name);
                return -EPERM;
        }
        if (op->kind == NR_OP_VM_DEFINE) {
                if (!d && fake_dom_add(v, op->vm.name, true, false) < 0)
                        return -ENOMEM;
                d = dom_find(v, op->vm.name);
                d->persistent = true;
                snprintf(d->hash, sizeof(d->hash), "%s", hash);
        } else if (op->kind == NR_OP_VM_START) {
                if (!d || !d->persistent) {
                        snprintf(err, errlen, "%s is not defined", op->vm.name);
                        return -ENOENT;
                }
                d->active = d->started = true;
        } else if (op->kind == NR_OP_VM_UNDEFINE && d) {
                d->persistent = false;
                if (!d->active)
                        *d = v->doms[--v->n_doms];
        }
        return 0;
}

static const char *want_hash(const struct nr_desired *w, const char *name)
{
        for (size_t i = 0; i < w->n_doms; i++)
                if (!strcmp(w->doms[i].name, name))
                        return w->doms[i].hash;
        return "";
}

static void op_line(const struct nr_op *op, char *line, size_t size)
{
        static const struct nr_plan none = {0};
        plan_op_line(&none, op, line, size);
}

static int apply(void *self, const struct nr_desired *w, const struct nr_op *op, char *err,
                 size_t errlen)
{
        struct fake_virt *v = self;
        char line[400];
        op_line(op, line, sizeof(line));
        for (size_t i = 0; i < v->n_sent; i++)
                if (!strcmp(v->sent[i].op.vm.name, op->vm.name)) {
                        fake_note(v->k, "  %s: waits for the answer to the last op", line);
                        return -EINPROGRESS;
                }
        if (v->async) {
                struct fake_sent s = {.op = *op};
                snprintf(s.hash, sizeof(s.hash), "%s", want_hash(w, op->vm.name));
                NR_APPEND(v->sent, v->n_sent, s);
                fake_note(v->k, "  %s: sent to the helper", line);
                return -EINPROGRESS;
        }
        int r = fake_injected(v->k, line, err, errlen);
        if (r == 0)
                r = carry_out(v, op, want_hash(w, op->vm.name), err, errlen);
        if (r < 0)
                fake_note(v->k, "  %s: FAILED: %s", line, err);
        else
                fake_note(v->k, "  %s", line);
        return r;
}

void fake_virt_answer(struct fake_virt *v)
{
        for (size_t i = 0; i < v->n_sent; i++) {
                char line[400], err[256] = "";
                op_line(&v->sent[i].op, line, sizeof(line));
                int r = fake_injected(v->k, line, err, sizeof(err));
                if (r == 0)
                        r = carry_out(v, &v->sent[i].op, v->sent[i].hash, err, sizeof(err));
                fake_note(v->k, "  helper answers %s: %s", line, r < 0 ? err : "done");
                engine_complete(v->e, &v->sent[i].op, r, err);
        }
        v->n_sent = 0;
}

static bool is_change(void *self, const struct nr_op *op)
{
        (void)self, (void)op;
        return true;
}

static const struct nr_backend_ops fake_virt_ops = {
        .name = "fake-virt", .observe = observe, .apply = apply, .is_change = is_change};

void fake_virt_attach(struct fake_virt *v, struct nr_engine *e)
{
        v->e = e;
        engine_set_backend(e, NR_BACKEND_VIRT, &fake_virt_ops, v);
}
