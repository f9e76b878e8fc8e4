/* Small file helpers: read a whole file, write one atomically (temp file + rename). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Returns the contents (NUL-terminated, caller frees) or NULL with errno set. */
char *file_read(const char *path, size_t *len);
/* Writes data to path via path.tmp + rename, with the given mode. Returns 0 or -errno. */
int file_write_atomic(const char *path, const char *data, mode_t mode);
/* mkdir -p with mode for the last component. */
int dir_ensure(const char *path, mode_t mode);
/* dir_ensure, and an existing last component gets that mode too (a directory made by an older
 * version with a mode that no longer fits). */
int dir_ensure_mode(const char *path, mode_t mode);
