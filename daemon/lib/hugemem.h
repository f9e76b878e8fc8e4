/* Regions backed by transparent huge pages, for memory that is new on every reload and given
 * back right after it (the configuration's YAML tree): on the VMs nestrouter runs on, a page
 * touched for the first time costs about 2 µs, and a 2 MiB huge page about 40 µs, so a tree of
 * 2 MB takes two faults instead of five hundred. Where the kernel has no huge page to give
 * (THP off, memory fragmented), the region is ordinary pages, as malloc's would be. */
#pragma once

#include "core/config/yamlfast.h"

/* yamlfast's region ops (yf_set_region_ops) over hugemem_get / hugemem_put. */
extern const struct yf_region_ops hugemem_yf_ops;

/* A 2 MiB-aligned anonymous region of at least want bytes (its size, a multiple of 2 MiB, in
 * *got), advised MADV_HUGEPAGE; NULL when it cannot be mapped. */
void *hugemem_get(size_t want, size_t *got);
void hugemem_put(void *region, size_t size);
