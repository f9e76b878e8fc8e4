/* The child supervisor: one child process at a time per struct sup (dnsmasq, the virt helper, a
 * qemu-img import, BIRD). It forks and tracks the child on the sd-event loop, stops it without
 * ever blocking the loop (SIGTERM, then SIGKILL when the grace period is over, reaped by the
 * child source), keeps why and when it last exited, and holds the restart backoff: the owner
 * decides when to start, sup_start() refuses with -EAGAIN before the backoff deadline. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/lib/strbuf.h"

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

struct sup_policy {
        uint64_t first_usec;       /* delay before the 2nd start of a crash loop (the 1st: none) */
        uint64_t max_usec;         /* the delay doubles up to this */
        uint64_t stable_usec;      /* a child that ran this long starts a new count */
        uint64_t grace_usec;       /* SIGTERM, then SIGKILL after this */
};

struct sup_exit {                  /* the last exit; realtime_usec 0: none yet */
        pid_t pid;
        int code;                  /* exit status, or -1 when a signal ended it */
        int signal;                /* the signal that ended it, 0 when it exited */
        bool requested;            /* sup_stop() asked for it */
        bool killed;               /* ... and the grace period ran out: SIGKILL */
        uint64_t realtime_usec;    /* when (CLOCK_REALTIME) */
        uint64_t ran_usec;         /* how long it had run */
};

struct sup;
/* Called once the child is reaped (after the counters and backoff are updated). */
typedef void (*sup_exited_fn)(struct sup *s, const struct sup_exit *e, void *userdata);

struct sup {
        sd_event *ev;
        char name[32];             /* for the log: "dnsmasq", "virt helper", "import of VM" */
        struct sup_policy pol;
        pid_t pid;                 /* the child, running or being stopped; 0: none */
        bool stopping;             /* SIGTERM sent, SIGKILL at the grace deadline */
        sd_event_source *child, *kill_timer;
        unsigned starts, crashes, fails_in_row;
        uint64_t started_usec;     /* CLOCK_MONOTONIC */
        uint64_t not_before_usec;  /* no start before this (CLOCK_MONOTONIC), after a crash */
        struct sup_exit last;
        sup_exited_fn exited;
        void *userdata;
};

void sup_init(struct sup *s, sd_event *ev, const char *name, const struct sup_policy *pol,
              sup_exited_fn exited, void *userdata);
/* Forks; the child's signal mask is cleared, then child(arg) runs in it and must exec (it is
 * _exit(127)ed if it returns). Returns the pid, -EBUSY while a child lives (also one being
 * stopped: wait for its exit), -EAGAIN before the backoff deadline, or -errno. */
pid_t sup_start(struct sup *s, void (*child)(void *arg), void *arg);
/* Asks the child to stop and returns at once: SIGTERM, SIGKILL after the grace period; the exit
 * callback follows with e->requested. Nothing when no child runs or it is stopping already. */
void sup_stop(struct sup *s);
/* Sends sig to a running child (SIGHUP: reload); -ESRCH when there is none. */
int sup_kill(struct sup *s, int sig);
/* At exit only: stops a child and waits for it (at most the grace period, then SIGKILL),
 * without calling the exit callback; frees the event sources. */
void sup_close(struct sup *s);

static inline bool sup_running(const struct sup *s)
{
        return s->pid > 0 && !s->stopping;
}

/* "exited with status 1", "killed by signal 9 (KILL)", "stopped (SIGTERM)". */
void sup_exit_text(const struct sup_exit *e, char *buf, size_t size);
/* Status: ",\"last_exit\":{...}|null,\"restart_in_ms\":N" — fields for the child's JSON object. */
void sup_status_json(const struct sup *s, struct nr_buf *b);
/* Status text: "last exit 12:03:04Z: killed by signal 9 (KILL) after 3 s; restart in 2 s", or
 * "" when it never exited. */
void sup_status_text(const struct sup *s, char *buf, size_t size);

/* The delay a start must wait after the fails-th exit in a row (pure, for the tests). */
uint64_t sup_backoff_usec(const struct sup_policy *pol, unsigned fails);
