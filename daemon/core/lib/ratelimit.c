/* The log rate limiter's logic (see ratelimit.h): slots keyed by a hash of the text, compared
 * in full on a hit so that a hash collision never hides a different message. Pure. */
#include "core/lib/ratelimit.h"

#include <stdio.h>
#include <string.h>

static uint64_t fnv1a(const char *s)
{
        uint64_t h = 0xcbf29ce484222325ull;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
        return h;
}

static struct nr_rl_slot *find(struct nr_ratelimit *rl, uint64_t h, const char *text)
{
        for (size_t i = 0; i < NR_RL_SLOTS; i++) {
                struct nr_rl_slot *s = &rl->slot[i];
                if (s->used && s->hash == h && !strncmp(s->text, text, NR_RL_TEXT - 1))
                        return s;
        }
        return NULL;
}

/* a free slot, else the least recently seen one that has nothing to report, else the least
 * recently seen one (its count is lost: it was not seen for the longest) */
static struct nr_rl_slot *victim(struct nr_ratelimit *rl)
{
        struct nr_rl_slot *best = NULL, *quiet = NULL;
        for (size_t i = 0; i < NR_RL_SLOTS; i++) {
                struct nr_rl_slot *s = &rl->slot[i];
                if (!s->used)
                        return s;
                if (!best || s->last_seen < best->last_seen)
                        best = s;
                if (!s->suppressed && (!quiet || s->last_seen < quiet->last_seen))
                        quiet = s;
        }
        return quiet ? quiet : best;
}

bool rl_check(struct nr_ratelimit *rl, int pri, const char *text, uint64_t now,
              uint64_t *repeated)
{
        uint64_t h = fnv1a(text);
        struct nr_rl_slot *s = find(rl, h, text);
        *repeated = 0;
        if (s && now - s->window_start < rl->window_usec) {
                s->suppressed++;
                s->last_seen = now;
                return false;
        }
        if (s) {
                *repeated = s->suppressed;
        } else {
                s = victim(rl);
                s->hash = h;
                s->used = true;
                snprintf(s->text, sizeof(s->text), "%s", text);
        }
        s->pri = pri;
        s->window_start = now;
        s->last_seen = now;
        s->suppressed = 0;
        return true;
}

size_t rl_flush(struct nr_ratelimit *rl, uint64_t now, bool all,
                void (*emit)(void *ud, int pri, const char *text, uint64_t n), void *ud)
{
        size_t n = 0;
        for (size_t i = 0; i < NR_RL_SLOTS; i++) {
                struct nr_rl_slot *s = &rl->slot[i];
                if (!s->used || !s->suppressed || (!all && now - s->window_start < rl->window_usec))
                        continue;
                emit(ud, s->pri, s->text, s->suppressed);
                /* a new window starts: the next occurrence within it is counted again */
                s->window_start = now;
                s->suppressed = 0;
                n++;
        }
        return n;
}
