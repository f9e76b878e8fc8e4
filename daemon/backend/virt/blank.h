/* Blank disks the config asks for by size (disk_size:, disks: [{size: ...}]): created once with
 * `qemu-img create`, grown with `qemu-img resize` while their guest is off, never shrunk and
 * never recreated. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Makes path a qcow2 of at least size bytes. Returns 0 when the disk can be attached (note may
 * still say why it is not the size asked for), -errno when it cannot (note says why). */
int virt_blank_disk(const char *path, uint64_t size, bool running, char *note, size_t note_len);

/* The virtual size of a qcow2 file (its header), or -errno. */
int virt_qcow2_size(const char *path, uint64_t *size);
