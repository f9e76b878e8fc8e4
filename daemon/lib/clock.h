/* The monotonic clock in microseconds (CLOCK_MONOTONIC, as sd-event's timers use), for the
 * daemon, its backends and nestrouter-virt. Header only. */
#pragma once

#include <stdint.h>
#include <time.h>

static inline uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
