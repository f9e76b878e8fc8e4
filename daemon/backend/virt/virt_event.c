/* The virEventRegisterImpl bridge. Each libvirt watch or timer is one heap object holding its
 * sd-event source; removal disables the source at once and frees the object (and calls libvirt's
 * free callback) from a defer source, because libvirt requires free callbacks to run from a clean
 * stack, never from inside virEventRemove*. */
#include "backend/virt/virt_event.h"

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <systemd/sd-event.h>

struct vwatch {
        int id;
        bool timer;
        int freq;                  /* timers: ms between firings; 0 every iteration; -1 off */
        sd_event_source *src;
        sd_event_source *reap;     /* the deferred free, once removed */
        virEventHandleCallback hcb;
        virEventTimeoutCallback tcb;
        void *opaque;
        virFreeCallback ff;
};

static sd_event *EV;
static struct vwatch **W;
static size_t NW, CAPW;
static int next_id = 1;

static struct vwatch *find(int id)
{
        for (size_t i = 0; i < NW; i++)
                if (W[i]->id == id && !W[i]->reap)
                        return W[i];
        return NULL;
}

static uint32_t to_epoll(int ev)
{
        return (ev & VIR_EVENT_HANDLE_READABLE ? EPOLLIN : 0) |
               (ev & VIR_EVENT_HANDLE_WRITABLE ? EPOLLOUT : 0);
}

static int from_epoll(uint32_t ev)
{
        return (ev & EPOLLIN ? VIR_EVENT_HANDLE_READABLE : 0) |
               (ev & EPOLLOUT ? VIR_EVENT_HANDLE_WRITABLE : 0) |
               (ev & EPOLLERR ? VIR_EVENT_HANDLE_ERROR : 0) |
               (ev & EPOLLHUP ? VIR_EVENT_HANDLE_HANGUP : 0);
}

static struct vwatch *add(void)
{
        if (NW == CAPW) {
                size_t cap = CAPW ? CAPW * 2 : 16;
                struct vwatch **n = realloc(W, cap * sizeof(*W));
                if (!n)
                        return NULL;
                W = n;
                CAPW = cap;
        }
        struct vwatch *w = calloc(1, sizeof(*w));
        if (!w)
                return NULL;
        w->id = next_id++;
        W[NW++] = w;
        return w;
}

static void drop(struct vwatch *w)
{
        for (size_t i = 0; i < NW; i++)
                if (W[i] == w) {
                        W[i] = W[--NW];
                        break;
                }
        free(w);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct vwatch *w = userdata;
        (void)s;
        w->hcb(w->id, fd, from_epoll(revents), w->opaque);
        return 0;
}

static void arm(struct vwatch *w)
{
        uint64_t now;
        if (w->freq < 0) {
                sd_event_source_set_enabled(w->src, SD_EVENT_OFF);
                return;
        }
        sd_event_now(EV, CLOCK_MONOTONIC, &now);
        sd_event_source_set_time(w->src, now + (uint64_t)w->freq * 1000);
        sd_event_source_set_enabled(w->src, SD_EVENT_ON);
}

static int on_time(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct vwatch *w = userdata;
        (void)s, (void)usec;
        arm(w); /* periodic; the callback may change or remove it */
        w->tcb(w->id, w->opaque);
        return 0;
}

static int on_reap(sd_event_source *s, void *userdata)
{
        struct vwatch *w = userdata;
        if (w->ff)
                w->ff(w->opaque);
        sd_event_source_unref(s);
        drop(w);
        return 0;
}

static int remove_any(int id, bool timer)
{
        struct vwatch *w = find(id);
        if (!w || w->timer != timer)
                return -1;
        w->src = sd_event_source_disable_unref(w->src);
        if (sd_event_add_defer(EV, &w->reap, on_reap, w) < 0) {
                /* cannot defer: leak the opaque data rather than free it on libvirt's stack */
                drop(w);
                return 0;
        }
        sd_event_source_set_enabled(w->reap, SD_EVENT_ONESHOT);
        return 0;
}

static int add_handle(int fd, int events, virEventHandleCallback cb, void *opaque,
                      virFreeCallback ff)
{
        struct vwatch *w = add();
        if (!w)
                return -1;
        w->hcb = cb;
        w->opaque = opaque;
        w->ff = ff;
        if (sd_event_add_io(EV, &w->src, fd, to_epoll(events), on_io, w) < 0) {
                drop(w);
                return -1;
        }
        if (!events)
                sd_event_source_set_enabled(w->src, SD_EVENT_OFF);
        return w->id;
}

static void update_handle(int id, int events)
{
        struct vwatch *w = find(id);
        if (!w || w->timer)
                return;
        if (events) {
                sd_event_source_set_io_events(w->src, to_epoll(events));
                sd_event_source_set_enabled(w->src, SD_EVENT_ON);
        } else {
                sd_event_source_set_enabled(w->src, SD_EVENT_OFF);
        }
}

static int remove_handle(int id)
{
        return remove_any(id, false);
}

static int add_timeout(int freq, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
        struct vwatch *w = add();
        if (!w)
                return -1;
        w->timer = true;
        w->freq = freq;
        w->tcb = cb;
        w->opaque = opaque;
        w->ff = ff;
        /* accuracy 1 us: libvirt's 0 ms timers mean "on the next iteration" */
        if (sd_event_add_time(EV, &w->src, CLOCK_MONOTONIC, 0, 1, on_time, w) < 0) {
                drop(w);
                return -1;
        }
        arm(w);
        return w->id;
}

static void update_timeout(int id, int freq)
{
        struct vwatch *w = find(id);
        if (!w || !w->timer)
                return;
        w->freq = freq;
        arm(w);
}

static int remove_timeout(int id)
{
        return remove_any(id, true);
}

void virt_event_register(sd_event *ev)
{
        EV = ev;
        virEventRegisterImpl(add_handle, update_handle, remove_handle, add_timeout,
                             update_timeout, remove_timeout);
}

unsigned virt_event_count(void)
{
        unsigned n = 0;
        for (size_t i = 0; i < NW; i++)
                n += !W[i]->reap;
        return n;
}
