/* Internal to the config parser: the walker shared by config.c and config_guests.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/config/config.h"
#include "core/config/schema.h"
#include "core/config/yamlval.h"

struct pctx {
        struct yv_ctx yv;
        struct nr_config *cfg;
        size_t len;                /* of the text, for messages */
};

void *cw_calloc(size_t n, size_t size);
/* A null value where a mapping or list is expected reads as an empty one (`dhcp:` alone). */
bool cw_want_map(struct pctx *c, const struct yf_node *n, const char *path);
size_t cw_seq_len(struct pctx *c, const struct yf_node *n, const char *path);
const struct yf_node *cw_seq_item(struct pctx *c, const struct yf_node *n, size_t i);
/* Walk a mapping against a table of keys (at most 32), ending with {0}: each key's .fn, or
 * the typed read of its kind into obj + .off. */
void cw_map(struct pctx *c, const struct yf_node *map, const char *path, const struct keydef *keys,
            void *obj);
/* Walk a list of mappings into items[i] (PATH[i]). */
size_t cw_list(struct pctx *c, const struct yf_node *seq, const char *path, void *items,
               size_t item_size, const struct keydef *keys);
size_t cw_prefix_list(struct pctx *c, const struct yf_node *seq, const char *path,
                      struct nr_prefix **out);
/* Key paths, as every diagnostic and the position map spell them: "PATH.NAME" (NAME alone at
 * the top) and "PATH[I]", cut at size as snprintf would. */
void cw_path_key(char *out, size_t size, const char *path, const char *name);
void cw_path_index(char *out, size_t size, const char *path, size_t i);
/* Fills a deferred position map (diag.h) by reading its text again: every mapping key's value
 * and every list item, at the path cw_map and cw_list give it (keypos.c). */
void cfg_pos_fill(struct nr_posmap *m);

/* Section readers in config_guests.c. */
extern const struct keydef cfg_guests_keys[];
extern const struct keydef cfg_forward_keys[];
extern const struct keydef cfg_vm_keys[];
/* reads the list by cfg_vm_keys, then checks what each VM boots from */
void cfg_k_vms(struct pctx *c, const struct yf_node *v, const char *path, void *obj);
/* The host sections' tables, in config_host.c. */
extern const struct keydef cfg_libvirt_keys[];
extern const struct keydef cfg_azure_keys[];
extern const struct keydef cfg_metrics_keys[];
/* In config_bgp.c: the table, and the reader that refuses an empty `bgp:` first. */
extern const struct keydef cfg_bgp_keys[];
void cfg_k_bgp(struct pctx *c, const struct yf_node *v, const char *path, void *obj);
