/* Which firmware a guest boots through, decided by the daemon before its domain is rendered:
 * what the config says, or for firmware: auto what its disk holds (core/parse/diskprobe.c), decided
 * once and remembered in nvram/NAME.firmware so a later change of the disk never flips it. */
#pragma once

#include <stddef.h>

#include "core/config/config.h"

struct virt_fw {
        enum nr_firmware fw;       /* NR_FW_BIOS or NR_FW_UEFI */
        char why[200];             /* how it was decided, for status */
        char missing[300];         /* a firmware or emulator file the guest needs and lacks */
};

/* disk: the qcow2 the domain attaches, or NULL. Never fails: an unreadable disk gives BIOS
 * without remembering the choice, and a later pass decides again. */
void virt_firmware(const char *state_dir, const struct nr_vm *vm, const char *disk,
                   struct virt_fw *out);
