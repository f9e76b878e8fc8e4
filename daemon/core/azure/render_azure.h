/* The Azure artefacts of `nestrouterctl azure routes`, from the merged plan (azure_plan.h): an az
 * CLI script, an ARM template or Bicep that create or update the route table, plus the az steps
 * that decommission one host. Pure: no syscalls. */
#pragma once

struct nr_buf;

#include "core/azure/azure_plan.h"

enum nr_azure_format {
        NR_AZURE_FORMAT_AZ,
        NR_AZURE_FORMAT_ARM,
        NR_AZURE_FORMAT_BICEP,
};

/* The route table, its associations and NIC2's IP forwarding (ARM and Bicep carry the last two
 * as notes: a subnet or NIC PUT would replace the whole resource). NULL on allocation failure. */
char *render_azure_routes(const struct nr_azure_plan *plan, enum nr_azure_format f);

/* The az CLI steps that decommission the plan's first host: delete its route; if it was the
 * last, detach the table from every subnet and delete it. NULL on allocation failure. */
char *render_azure_remove(const struct nr_azure_plan *plan);

/* Shared by the az scripts of render_azure.c and render_azure_rs.c. One shell variable
 * assignment, single-quoted, with an optional comment. */
void render_az_var(struct nr_buf *b, const char *name, const char *value, const char *comment);
/* `missing` lists the variables (space-separated) that hold a placeholder; the script stops
 * while any of them still does. Consumes `missing` (strtok). */
void render_az_check_missing(struct nr_buf *b, char *missing);
