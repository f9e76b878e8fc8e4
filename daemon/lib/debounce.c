/* The debounced pass timer (debounce.h): one one-shot timer, re-armed only to run earlier. */
#include "lib/debounce.h"

#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>

#define ACCURACY_USEC 1000ull

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct debounce *p = userdata;
        (void)s, (void)usec;
        p->run(p->userdata);
        return 0;
}

void debounce_init(struct debounce *p, sd_event *ev, void (*run)(void *), void *userdata)
{
        memset(p, 0, sizeof(*p));
        p->ev = ev;
        p->run = run;
        p->userdata = userdata;
}

bool debounce_pending(const struct debounce *p, uint64_t *when)
{
        int on = SD_EVENT_OFF;
        uint64_t t = 0;
        if (!p->timer || sd_event_source_get_enabled(p->timer, &on) < 0 || on == SD_EVENT_OFF)
                return false;
        sd_event_source_get_time(p->timer, &t);
        if (when)
                *when = t;
        return true;
}

int debounce_schedule(struct debounce *p, uint64_t delay_usec)
{
        uint64_t now, cur;
        int r = sd_event_now(p->ev, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        uint64_t when = now + delay_usec;
        if (!p->timer)
                r = sd_event_add_time(p->ev, &p->timer, CLOCK_MONOTONIC, when, ACCURACY_USEC,
                                      on_timer, p);
        else if (debounce_pending(p, &cur) && cur <= when)
                return 0; /* an earlier run is due already: it sees this too */
        else
                r = sd_event_source_set_time(p->timer, when);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
}

void debounce_cancel(struct debounce *p)
{
        if (p->timer)
                sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
}

void debounce_free(struct debounce *p)
{
        p->timer = sd_event_source_disable_unref(p->timer);
}
