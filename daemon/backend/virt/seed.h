/* cloud-init NoCloud seeds: cloud-init/NAME.iso in the state dir, an ISO 9660 volume labelled
 * "cidata" with user-data, meta-data and network-config, built by xorriso (or genisoimage) and
 * rebuilt only when its content changed (cloud-init/NAME.hash). */
#pragma once

#include <stddef.h>

#include "core/config/config.h"

/* 0 with the seed's path in path; -errno with why in note (a missing user data file, no ISO
 * tool). */
int virt_seed(const char *state_dir, const struct nr_vm *vm, char *path, size_t path_len,
              char *note, size_t note_len);
