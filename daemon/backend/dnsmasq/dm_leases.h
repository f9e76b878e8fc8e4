/* dnsmasq's lease file as facts for the model: which MAC holds which address right now. */
#pragma once

#include "core/model/model.h"

/* facts->leases from the lease file at path (unexpired leases only; none when it is missing). */
void dmb_lease_facts(const char *path, struct nr_facts *facts);
