/* Where nestrouter-virt (helper/main.c) is: next to the running program (the build tree, or
 * an install that keeps them together), else /usr/libexec/nestrouter (the image). Header only:
 * nestrouterd and nestrouterctl both use it. */
#pragma once

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NR_HELPER_NAME "nestrouter-virt"
#define NR_HELPER_LIBEXEC "/usr/libexec/nestrouter/" NR_HELPER_NAME

/* Fills buf with the first executable candidate; returns 0, or -1 with buf holding the last
 * candidate tried (for the error message). */
static inline int nr_helper_path(char *buf, size_t size)
{
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = '\0';
                char *slash = strrchr(self, '/');
                if (slash) {
                        *slash = '\0';
                        snprintf(buf, size, "%s/" NR_HELPER_NAME, self);
                        if (access(buf, X_OK) == 0)
                                return 0;
                }
        }
        snprintf(buf, size, "%s", NR_HELPER_LIBEXEC);
        return access(buf, X_OK) == 0 ? 0 : -1;
}
