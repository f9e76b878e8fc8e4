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

/* Makes path a qcow2 overlay of base (format "qcow2" or "raw") when it does not exist; 0 or -errno
 * with note. With recreate, an existing overlay is discarded first (vm reset). */
int virt_overlay_disk(const char *path, const char *base, bool recreate, char *note,
                      size_t note_len);

/* The format of an image file by its header: "qcow2" or "raw". */
const char *virt_image_format(const char *path);

/* qemu-img ARGV (argv[0] is "qemu-img") with its output in *out (may be NULL); 0, -EIO when it
 * failed (its output says why), -ETIMEDOUT, -errno. Bounded by a 10 s timeout. */
int virt_qemu_img(const char *const *argv, char **out);
/* The same for any program bin (found in PATH), argv[0] its name. */
int virt_run(const char *bin, const char *const *argv, char **out);
