/* A debounced pass: "run this after N ms", coalescing — while a run is pending, a later request
 * changes nothing and an earlier one moves it forward (the earliest deadline wins), so a burst
 * of triggers becomes one run. One one-shot sd-event timer, created at the first request. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

struct debounce {
        sd_event *ev;
        sd_event_source *timer;
        void (*run)(void *userdata);
        void *userdata;
};

/* Nothing is allocated until the first debounce_schedule(). */
void debounce_init(struct debounce *p, sd_event *ev, void (*run)(void *), void *userdata);
/* run() after delay_usec, unless a run is already due by then. 0 or -errno (no timer). */
int debounce_schedule(struct debounce *p, uint64_t delay_usec);
/* Whether a run is pending, and when (CLOCK_MONOTONIC usec; when may be NULL). */
bool debounce_pending(const struct debounce *p, uint64_t *when);
void debounce_cancel(struct debounce *p);
/* Drops the timer; p can be initialised again. */
void debounce_free(struct debounce *p);
