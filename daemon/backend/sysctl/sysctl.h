/* Sysctls through /proc/sys: read the current value of each desired key, write the wanted one. */
#pragma once

#include <stddef.h>

#include "core/model/model.h"
#include "backend/backend.h"
#include "core/model/plan.h"

/* The keys the last pass read, kept open (the backend's state; zeroed = none yet). */
struct sysctlb_fd {
        char key[96];
        int fd;
};

struct sysctlb {
        struct sysctlb_fd *v;
        size_t n;
};

int sysctl_observe(struct sysctlb *b, const struct nr_desired *want, struct nr_observed *have);
void sysctlb_close(struct sysctlb *b);
int sysctl_apply(const struct nr_sysctl *s, char *err, size_t errlen);

/* observe/apply for the engine */
extern const struct nr_backend_ops sysctl_ops;
