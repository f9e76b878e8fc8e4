/* Sysctls through /proc/sys: read the current value of each desired key, write the wanted one. */
#pragma once

#include <stddef.h>

#include "core/model/model.h"
#include "backend/backend.h"
#include "core/model/plan.h"

int sysctl_observe(const struct nr_desired *want, struct nr_observed *have);
int sysctl_apply(const struct nr_sysctl *s, char *err, size_t errlen);

/* observe/apply for the engine */
extern const struct nr_backend_ops sysctl_ops;
