/* Huge-page regions: see hugemem.h. */
#include "lib/hugemem.h"

#include <stdint.h>
#include <sys/mman.h>

#define HUGE (2u << 20)

void *hugemem_get(size_t want, size_t *got)
{
        if (want > SIZE_MAX / 2 - HUGE)
                return NULL;
        size_t size = (want + HUGE - 1) & ~(size_t)(HUGE - 1);
        /* one huge page more than needed, to cut an aligned region out of it */
        char *raw = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                         -1, 0);
        if (raw == MAP_FAILED)
                return NULL;
        char *p = (char *)(((uintptr_t)raw + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
        if (p > raw)
                munmap(raw, (size_t)(p - raw));
        if (raw + size + HUGE > p + size)
                munmap(p + size, (size_t)(raw + size + HUGE - (p + size)));
        (void)madvise(p, size, MADV_HUGEPAGE); /* THP off: ordinary pages, nothing lost */
        *got = size;
        return p;
}

void hugemem_put(void *region, size_t size)
{
        if (region)
                munmap(region, size);
}

const struct yf_region_ops hugemem_yf_ops = {.get = hugemem_get, .put = hugemem_put};
