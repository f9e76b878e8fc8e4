/* Repeated log messages, counted instead of printed: the first occurrence of a message goes out,
 * the same text again within the window is only counted, and once the window has passed the
 * count is reported ("... (repeated 37 times)"), by the next occurrence or by a flush. A few
 * slots, the least recently used one reused: a flood of distinct messages is not limited (each
 * is news), the same one over and over is. Pure: the caller passes the time. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NR_RL_SLOTS 16
#define NR_RL_TEXT 1024

struct nr_rl_slot {
        uint64_t hash;
        uint64_t window_start;     /* when the message was last printed */
        uint64_t last_seen;
        uint64_t suppressed;       /* occurrences since then, not printed */
        int pri;
        char text[NR_RL_TEXT];     /* the message as last printed (for the flush) */
        bool used;
};

struct nr_ratelimit {
        uint64_t window_usec;
        struct nr_rl_slot slot[NR_RL_SLOTS];
};

/* What to do with one message at time now: print it (with *repeated occurrences suppressed since
 * it was last printed, 0 for none), or drop it (returns false; it was counted). */
bool rl_check(struct nr_ratelimit *rl, int pri, const char *text, uint64_t now,
              uint64_t *repeated);

/* Counts of messages whose window has passed (or every count, when all is true) and that were
 * suppressed meanwhile: emit(pri, text, n) for each, and the slot is reset. Returns how many. */
size_t rl_flush(struct nr_ratelimit *rl, uint64_t now, bool all,
                void (*emit)(void *ud, int pri, const char *text, uint64_t n), void *ud);
