/* A fast reader for the plain subset of YAML that large configuration files are written in
 * (block mappings and lists, one-line scalars, one-line flow mappings and lists of scalars),
 * building the same yaml_node_t tree, with the same positions, that libyaml's document API
 * would. Anything outside the subset, and every mistake, is declined: the caller then parses
 * with libyaml, which also words the error. tests/unit/test_yamlfast.c holds the two to the
 * same trees. */
#pragma once

#include <stddef.h>
#include <yaml.h>

struct yf_chunk;

struct yf_doc {
        yaml_node_t **blocks;      /* nodes, YF_BLOCK to a block: ids 1..n_nodes */
        size_t n_nodes, n_blocks, cap_blocks;
        struct yf_chunk *chunks;   /* scalar text, items and pairs */
        yaml_node_item_t *scratch; /* children of the collections being read */
        size_t n_scratch, cap_scratch;
};

/* 1: text read into d (its root is node 1); 0: declined, d holds nothing; -ENOMEM. */
int yf_load(struct yf_doc *d, const char *text, size_t len);
yaml_node_t *yf_node(const struct yf_doc *d, int id);
void yf_free(struct yf_doc *d);
/* Reads text with libyaml's document API: 1 when its tree is d's (types, styles, values,
 * positions), 0 with why set when not, -ENOMEM. For the tests and NR_YAML_CROSSCHECK builds. */
int yf_check(const struct yf_doc *d, const char *text, size_t len, char *why, size_t size);
