/* /proc/sys reads and writes. A key that does not exist (a device not there yet) is simply
 * absent from the observation; the write then fails with ENOENT and is retried next pass. */
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

int sysctl_observe(const struct nr_desired *want, struct nr_observed *have)
{
        for (size_t i = 0; i < want->n_sysctls; i++) {
                char path[160], val[sizeof(((struct nr_sysctl *)0)->value)] = "";
                if (path_of(want->sysctls[i].key, path, sizeof(path)) < 0)
                        continue;
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                ssize_t n = read(fd, val, sizeof(val) - 1);
                close(fd);
                if (n < 0)
                        continue;
                val[n] = '\0';
                val[strcspn(val, "\n")] = '\0';
                struct nr_sysctl s;
                snprintf(s.key, sizeof(s.key), "%s", want->sysctls[i].key);
                snprintf(s.value, sizeof(s.value), "%s", val);
                void *p = realloc(have->sysctls, (have->n_sysctls + 1) * sizeof(s));
                if (!p)
                        return -ENOMEM;
                have->sysctls = p;
                have->sysctls[have->n_sysctls++] = s;
        }
        return 0;
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
        (void)self, (void)prev;
        return sysctl_observe(want, have);
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
