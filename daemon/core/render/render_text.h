/* Text views of the config and of the desired state for people and tools. Pure. */
#pragma once

#include "core/config/config.h"
#include "core/model/model.h"

/* `--check -v`: the normalized config as YAML that parses back to the same config. */
char *render_config_yaml(const struct nr_config *cfg);

/* `--json`: the desired state (links, addresses, routes, rules, sysctls, reservations, and the
 * nft/dnsmasq text) as one JSON object. */
char *render_desired_json(const struct nr_desired *d);

/* Appends s as a JSON string literal (quoted and escaped). */
struct nr_buf;
void json_str(struct nr_buf *b, const char *s);
