/* Whole-file reads and atomic writes for generated configs and persisted state. */
#include "lib/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *file_read(const char *path, size_t *len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        size_t cap = 4096, n = 0;
        char *buf = malloc(cap);
        while (buf) {
                if (n + 1 >= cap) {
                        char *nb = realloc(buf, cap *= 2);
                        if (!nb) {
                                free(buf);
                                buf = NULL;
                                errno = ENOMEM;
                                break;
                        }
                        buf = nb;
                }
                ssize_t r = read(fd, buf + n, cap - n - 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        free(buf);
                        buf = NULL;
                        break;
                }
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        int e = errno;
        close(fd);
        if (buf) {
                buf[n] = '\0';
                if (len)
                        *len = n;
        }
        errno = e;
        return buf;
}

int file_write_atomic(const char *path, const char *data, mode_t mode)
{
        char tmp[4096];
        if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
                return -ENAMETOOLONG;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        size_t len = strlen(data), off = 0;
        while (off < len) {
                ssize_t w = write(fd, data + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        int e = -errno;
                        close(fd);
                        unlink(tmp);
                        return e;
                }
                off += (size_t)w;
        }
        if (fchmod(fd, mode) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
                int e = -errno;
                unlink(tmp);
                return e;
        }
        return 0;
}

int dir_ensure(const char *path, mode_t mode)
{
        char buf[4096];
        if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
                return -ENAMETOOLONG;
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int dir_ensure_mode(const char *path, mode_t mode)
{
        struct stat st;
        int r = dir_ensure(path, mode);
        if (r < 0)
                return r;
        if (stat(path, &st) < 0)
                return -errno;
        if ((st.st_mode & 07777) != mode && chmod(path, mode) < 0)
                return -errno;
        return 0;
}
