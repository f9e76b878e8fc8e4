/* The tree the config walker reads, and a fast reader for the plain subset of YAML that large
 * configuration files are written in (block mappings and lists, one-line scalars, one-line flow
 * mappings and lists of scalars), building it with the same positions libyaml's document API
 * gives. Anything outside the subset, and every mistake, is declined: the caller then parses
 * with libyaml, which also words the error, and takes its document as the same tree
 * (yf_from_libyaml). tests/unit/test_yamlfast.c holds the two readers to the same trees. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

/* One node: 24 bytes (libyaml's yaml_node_t is 96, and a large file has tens of thousands of
 * nodes, every byte of them new memory on each reload). */
struct yf_node {
        uint8_t type;              /* yaml_node_type_t: YAML_SCALAR_, _SEQUENCE_ or _MAPPING_NODE */
        uint8_t style;             /* yaml_scalar_style_t, or the collection's block/flow style */
        uint8_t seen;              /* for a walk over the tree: an alias makes it a graph */
        uint32_t line, col;        /* where it starts, 0-based (libyaml's start mark) */
        uint32_t n;                /* a scalar's length; a list's items; a mapping's keys + values */
        union {
                const char *str;   /* a scalar's value, NUL-terminated */
                const struct yf_node *const *kids; /* items; a mapping's key, value, key, ... */
        };
};

struct yf_chunk;

struct yf_doc {
        const struct yf_node *root;
        struct yf_node **blocks;   /* nodes, YF_BLOCK to a block: ids 1..n_nodes */
        size_t n_nodes, n_blocks, cap_blocks;
        struct yf_chunk *chunks;   /* scalar text and children */
        int *scratch;              /* children (ids) of the collections being read */
        size_t n_scratch, cap_scratch;
        char *region;              /* blocks and chunks come from here first (yf_region_ops) */
        size_t region_size, region_used;
        const struct yf_region_ops *region_ops; /* the ops it came from: they give it back */
};

/* Where a large document's blocks and chunks come from: one region per document, taken before
 * reading and given back by yf_free. A tree is new memory on every reload (2 MB for a file of
 * 4,096 forwards), and the daemon backs the region with huge pages (daemon/lib/hugemem.c): a
 * few faults instead of hundreds. Unset (tests, tools, nestrouterctl), or when `get` returns
 * NULL or the region fills up, blocks and chunks come from malloc as before. */
struct yf_region_ops {
        void *(*get)(size_t want, size_t *got); /* at least want bytes, 16-aligned; or NULL */
        void (*put)(void *region, size_t size);
};

/* Files from this size on get a region (smaller ones take a few pages of malloc). */
#define YF_REGION_MIN (16 * 1024)
void yf_set_region_ops(const struct yf_region_ops *ops);

/* 1: text read into d (d->root); 0: declined, d holds nothing; -ENOMEM. */
int yf_load(struct yf_doc *d, const char *text, size_t len);
/* libyaml's document as the same tree: 0, or -ENOMEM. Its scalars are doc's own: d is good
 * for as long as doc is. */
int yf_from_libyaml(struct yf_doc *d, const yaml_document_t *doc);
void yf_free(struct yf_doc *d);
/* Reads text with libyaml's document API: 1 when its tree is d's (types, styles, values,
 * positions), 0 with why set when not, -ENOMEM. For the tests and NR_YAML_CROSSCHECK builds. */
int yf_check(const struct yf_doc *d, const char *text, size_t len, char *why, size_t size);
