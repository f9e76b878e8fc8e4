/* The clean-shutdown job: request, wait on lifecycle events (one deadline for all guests),
 * destroy stragglers, report. A STOPPED event can be missed (connection trouble), so at the
 * deadline every guest still waiting is looked at once more before it is destroyed. */
#include "backend/virt/shutdown.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "lib/clock.h"
#include "backend/virt/virt_dom.h"

const char *virt_sd_result_name(enum virt_sd_result r)
{
        switch (r) {
        case VIRT_SD_WAITING:
                return "waiting";
        case VIRT_SD_CLEAN:
                return "clean";
        case VIRT_SD_FORCED:
                return "forced";
        case VIRT_SD_NOT_RUNNING:
                return "not running";
        case VIRT_SD_OTHER:
                return "stopped";
        case VIRT_SD_FAILED:
                return "failed";
        }
        return "?";
}

static struct virt_sd_guest *find(struct virt_shutdown *s, const char *name)
{
        for (size_t i = 0; i < s->n; i++)
                if (!strcmp(s->g[i].name, name))
                        return &s->g[i];
        return NULL;
}

static int on_finish(sd_event_source *src, void *userdata)
{
        struct virt_shutdown *s = userdata;
        (void)src;
        s->finish = sd_event_source_unref(s->finish);
        if (s->on_done)
                s->on_done(s, s->userdata);
        return 0;
}

/* all guests have a result: stop listening, report from a clean stack */
static void check_done(struct virt_shutdown *s)
{
        if (s->done)
                return;
        for (size_t i = 0; i < s->n; i++)
                if (s->g[i].result == VIRT_SD_WAITING)
                        return;
        s->done = true;
        s->timer = sd_event_source_disable_unref(s->timer);
        if (s->cb_id >= 0)
                virConnectDomainEventDeregisterAny(s->conn, s->cb_id);
        s->cb_id = -1;
        if (sd_event_add_defer(s->ev, &s->finish, on_finish, s) >= 0)
                sd_event_source_set_enabled(s->finish, SD_EVENT_ONESHOT);
}

static void stopped(struct virt_shutdown *s, struct virt_sd_guest *g, bool clean,
                    const char *how)
{
        g->usec = now_usec() - s->t0;
        g->result = clean ? VIRT_SD_CLEAN : VIRT_SD_OTHER;
        if (clean)
                snprintf(g->detail, sizeof(g->detail),
                         "powered off %.1f s after the ACPI shutdown request",
                         (double)g->usec / 1e6);
        else
                snprintf(g->detail, sizeof(g->detail), "stopped meanwhile (%s)", how);
}

static int on_lifecycle(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque)
{
        struct virt_shutdown *s = opaque;
        (void)c;
        struct virt_sd_guest *g = find(s, virDomainGetName(d));
        if (!g || g->result != VIRT_SD_WAITING || event != VIR_DOMAIN_EVENT_STOPPED)
                return 0;
        stopped(s, g, detail == VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN,
                virt_stopped_detail_name(detail));
        check_done(s);
        return 0;
}

static void force(struct virt_shutdown *s, struct virt_sd_guest *g, virDomainPtr d,
                  const char *why)
{
        char err[200];
        g->usec = now_usec() - s->t0;
        if (virt_destroy_dom(d, err, sizeof(err)) < 0) {
                g->result = VIRT_SD_FAILED;
                snprintf(g->detail, sizeof(g->detail), "%s; destroy failed: %s", why, err);
                return;
        }
        g->result = VIRT_SD_FORCED;
        snprintf(g->detail, sizeof(g->detail), "%s; destroyed", why);
}

/* the deadline: look at each guest still waiting once more, destroy what still runs */
static int on_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct virt_shutdown *s = userdata;
        char why[96];
        (void)src, (void)usec;
        snprintf(why, sizeof(why), "did not power off within %u s", s->timeout_s);
        for (size_t i = 0; i < s->n; i++) {
                struct virt_sd_guest *g = &s->g[i];
                if (g->result != VIRT_SD_WAITING)
                        continue;
                virDomainPtr d = virDomainLookupByName(s->conn, g->name);
                struct virt_dom st;
                if (!d) { /* a transient guest that stopped: gone (its event was lost) */
                        stopped(s, g, false, "gone");
                        continue;
                }
                if (virt_dom_read(d, &st) == 0 && !st.active)
                        stopped(s, g, st.reason == VIR_DOMAIN_SHUTOFF_SHUTDOWN,
                                virt_reason_name(st.state, st.reason));
                else
                        force(s, g, d, why);
                virDomainFree(d);
        }
        check_done(s);
        return 0;
}

static void begin_one(struct virt_shutdown *s, struct virt_sd_guest *g, bool do_force)
{
        char err[200];
        struct virt_dom st;
        virDomainPtr d = virDomainLookupByName(s->conn, g->name);
        if (!d) {
                virt_error(err, sizeof(err));
                g->result = VIRT_SD_NOT_RUNNING;
                snprintf(g->detail, sizeof(g->detail), "%s", err);
                return;
        }
        if (virt_dom_read(d, &st) == 0 && !st.active) {
                g->result = VIRT_SD_NOT_RUNNING;
                snprintf(g->detail, sizeof(g->detail), "already %s", virt_state_name(st.state));
        } else if (do_force) {
                force(s, g, d, "stop --force");
        } else if (s->request(d, err, sizeof(err)) < 0) {
                char why[300];
                snprintf(why, sizeof(why), "ACPI shutdown request failed (%s)", err);
                force(s, g, d, why);
        }
        virDomainFree(d);
}

int virt_shutdown_start(struct virt_shutdown *s, virConnectPtr c, sd_event *ev,
                        char *const *names, size_t n, unsigned timeout_s, bool do_force,
                        void (*on_done)(struct virt_shutdown *, void *), void *userdata)
{
        int (*request)(virDomainPtr, char *, size_t) = s->request;
        memset(s, 0, sizeof(*s));
        s->request = request ? request : virt_request_shutdown;
        s->conn = c;
        s->ev = ev;
        s->timeout_s = timeout_s;
        s->on_done = on_done;
        s->userdata = userdata;
        s->cb_id = -1;
        s->g = calloc(n + 1, sizeof(*s->g));
        if (!s->g)
                return -ENOMEM;
        s->n = n;
        for (size_t i = 0; i < n; i++)
                snprintf(s->g[i].name, sizeof(s->g[i].name), "%s", names[i]);
        s->t0 = now_usec();
        /* listen first: a guest may power off while the next one is being asked */
        s->cb_id = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                    VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), s,
                                                    NULL);
        if (s->cb_id < 0)
                return -EIO;
        int r = sd_event_add_time(ev, &s->timer, CLOCK_MONOTONIC,
                                  s->t0 + (uint64_t)timeout_s * 1000000, 1000, on_deadline, s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                begin_one(s, &s->g[i], do_force);
        check_done(s);
        return 0;
}

void virt_shutdown_free(struct virt_shutdown *s)
{
        if (s->cb_id >= 0 && s->conn)
                virConnectDomainEventDeregisterAny(s->conn, s->cb_id);
        sd_event_source_disable_unref(s->timer);
        sd_event_source_disable_unref(s->finish);
        free(s->g);
        memset(s, 0, sizeof(*s));
        s->cb_id = -1;
}

void virt_shutdown_report(const struct virt_shutdown *s, struct nr_buf *b)
{
        for (size_t i = 0; i < s->n; i++)
                buf_printf(b, "%s: %s, %s\n", s->g[i].name, virt_sd_result_name(s->g[i].result),
                           s->g[i].detail);
}

size_t virt_shutdown_count(const struct virt_shutdown *s, enum virt_sd_result r)
{
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++)
                k += s->g[i].result == r;
        return k;
}
