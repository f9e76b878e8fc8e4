/* /proc/sys reads and writes. A key that does not exist (a device not there yet) is simply
 * absent from the observation; the write then fails with ENOENT and is retried next pass. The
 * keys stay open between passes: every pass reads them all, and a pread is a third of the
 * system calls of open, read and close. */
#include "backend/sysctl/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int path_of(const char *key, char *buf, size_t size)
{
        if (strstr(key, "..")) /* keys are built from interface names; never leave /proc/sys */
                return -EINVAL;
        snprintf(buf, size, "/proc/sys/%s", key);
        return 0;
}

/* The key's value through fd: one pread (a /proc/sys file gives its value afresh at offset 0).
 * 0, or -errno (the key's device went: its old file stays unreadable, even when one of the same
 * name comes back). */
static int read_value(int fd, char *val, size_t size)
{
        ssize_t n = pread(fd, val, size - 1, 0);
        if (n < 0)
                return -errno;
        val[n] = '\0';
        val[strcspn(val, "\n")] = '\0';
        return 0;
}

/* The fd of key from the last pass (taken out of the old list), else a fresh one; -1 when the
 * key does not exist (a device not there yet). */
static int key_fd(struct sysctlb *b, const char *key, char *val, size_t size)
{
        char path[160];
        for (size_t i = 0; i < b->n; i++) {
                if (b->v[i].fd < 0 || strcmp(b->v[i].key, key))
                        continue;
                int fd = b->v[i].fd;
                b->v[i].fd = -1;
                if (read_value(fd, val, size) >= 0)
                        return fd;
                close(fd); /* gone or renewed: open it again below */
                break;
        }
        if (path_of(key, path, sizeof(path)) < 0)
                return -1;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && read_value(fd, val, size) < 0) {
                close(fd);
                fd = -1;
        }
        return fd;
}

static void fds_close(struct sysctlb_fd *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (v[i].fd >= 0)
                        close(v[i].fd);
        free(v);
}

int sysctl_observe(struct sysctlb *b, const struct nr_desired *want, struct nr_observed *have)
{
        struct sysctlb_fd *next = calloc(want->n_sysctls + 1, sizeof(*next));
        size_t n_next = 0;
        if (!next)
                return -ENOMEM;
        for (size_t i = 0; i < want->n_sysctls; i++) {
                struct nr_sysctl s = {0};
                int fd = key_fd(b, want->sysctls[i].key, s.value, sizeof(s.value));
                if (fd < 0)
                        continue;
                snprintf(s.key, sizeof(s.key), "%s", want->sysctls[i].key);
                next[n_next].fd = fd;
                snprintf(next[n_next++].key, sizeof(next->key), "%s", s.key);
                void *p = realloc(have->sysctls, (have->n_sysctls + 1) * sizeof(s));
                if (!p) {
                        fds_close(next, n_next);
                        return -ENOMEM;
                }
                have->sysctls = p;
                have->sysctls[have->n_sysctls++] = s;
        }
        fds_close(b->v, b->n); /* the keys no longer wanted */
        b->v = next;
        b->n = n_next;
        return 0;
}

void sysctlb_close(struct sysctlb *b)
{
        fds_close(b->v, b->n);
        b->v = NULL;
        b->n = 0;
}

int sysctl_apply(const struct nr_sysctl *s, char *err, size_t errlen)
{
        char path[160];
        int r = path_of(s->key, path, sizeof(path));
        if (r < 0)
                return r;
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return r;
        }
        size_t len = strlen(s->value);
        if (write(fd, s->value, len) != (ssize_t)len) {
                r = -errno;
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
        }
        close(fd);
        return r;
}

static int ops_observe(void *self, const struct nr_desired *want, const struct nr_desired *prev,
                       struct nr_observed *have)
{
        (void)prev;
        return sysctl_observe(self, want, have);
}

static int ops_apply(void *self, const struct nr_desired *want, const struct nr_op *op,
                     char *err, size_t errlen)
{
        (void)self, (void)want;
        return sysctl_apply(&op->sysctl, err, errlen);
}

const struct nr_backend_ops sysctl_ops = {
        .name = "sysctl",
        .observe = ops_observe,
        .apply = ops_apply,
};
