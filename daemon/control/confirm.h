/* Commit-confirmed reloads (`nestrouterctl reload --confirm SECONDS`): the previous accepted
 * configuration is kept, in memory and in the state dir, and comes back by itself unless
 * `nestrouterctl confirm` arrives before the deadline. A reload during the window keeps the
 * rollback target (the configuration from before the window); a restart during the window rolls
 * back at start, since nobody confirmed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct sd_event_source sd_event_source;
struct nr_config;
struct nr_daemon;

struct nr_confirm {
        sd_event_source *timer;    /* NULL: no confirmation pending */
        struct nr_config *prev;    /* what a rollback goes back to, and its file text */
        char *prev_text;
        uint64_t deadline_usec;    /* CLOCK_MONOTONIC */
        unsigned seconds;          /* the window asked for */
        unsigned long confirmed, rolled_back;
};

/* Whether a confirmation is pending, and the whole seconds left. */
bool confirm_pending(const struct nr_daemon *d, unsigned *seconds_left);

/* The new configuration was just applied in place of `old` (text `old_text`): open the window
 * (or, when one is open, keep its target and move its deadline). Takes both. */
int confirm_begin(struct nr_daemon *d, struct nr_config *old, char *old_text, unsigned seconds);

/* A reload without --confirm during the window: the target stays; frees what it replaced. */
void confirm_drop(struct nr_config *old, char *old_text);

/* `nestrouterctl confirm`: returns 0, or -ENOENT when nothing is pending. */
int confirm_accept(struct nr_daemon *d);

/* At start, before the first load: a window left open by a stopped daemon means the file on
 * disk was never confirmed; put the saved one back (the other is kept as FILE.unconfirmed). */
void confirm_recover(struct nr_daemon *d);

void confirm_close(struct nr_confirm *c);
