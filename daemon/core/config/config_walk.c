/* The table-driven walker under the config parser: known keys, duplicates, required keys,
 * lists of mappings, and the position of every key path for later checks. */
#include "core/config/config_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cw_pos(struct pctx *c, const char *path, const yaml_node_t *n)
{
        pos_put(c->yv.pos, path, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1);
}

static yaml_node_t *node(struct pctx *c, int id)
{
        return yaml_document_get_node(c->yv.doc, id);
}

void *cw_calloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size);
        if (!p)
                abort();
        return p;
}

/* A null value where a mapping or list is expected reads as an empty one (`dhcp:` alone). */
bool cw_want_map(struct pctx *c, yaml_node_t *n, const char *path)
{
        if (n && n->type == YAML_MAPPING_NODE)
                return true;
        if (!yv_is_null(n))
                yv_error(&c->yv, n, path, "expected a mapping (key: value lines), got %s",
                         yv_kind(n));
        return false;
}

size_t cw_seq_len(struct pctx *c, yaml_node_t *n, const char *path)
{
        if (n && n->type == YAML_SEQUENCE_NODE)
                return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (!yv_is_null(n))
                yv_error(&c->yv, n, path, "expected a list, got %s", yv_kind(n));
        return 0;
}

yaml_node_t *cw_seq_item(struct pctx *c, yaml_node_t *n, size_t i)
{
        return node(c, n->data.sequence.items.start[i]);
}

static void unknown_key(struct pctx *c, yaml_node_t *k, const char *path, const char *name,
                        const struct keydef *keys)
{
        const char *names[32];
        size_t n = 0;
        for (; keys[n].name && n < 32; n++)
                names[n] = keys[n].name;
        const char *hint = yv_suggest(name, names, n);
        if (hint)
                yv_error(&c->yv, k, path, "unknown key '%s' (did you mean '%s'?)", name, hint);
        else
                yv_error(&c->yv, k, path, "unknown key '%s'", name);
}

void cw_map(struct pctx *c, yaml_node_t *map, const char *path, const struct keydef *keys,
                     void *obj)
{
        uint32_t seen = 0;
        char sub[YV_PATH_MAX];

        if (!cw_want_map(c, map, path)) {
                if (!yv_is_null(map))
                        return; /* the type error says it all */
                map = NULL;
        } else {
                for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
                     p < map->data.mapping.pairs.top; p++) {
                        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
                        if (k->type != YAML_SCALAR_NODE) {
                                yv_error(&c->yv, k, path, "a key must be a plain word");
                                continue;
                        }
                        const char *name = yv_str(k);
                        snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", name);
                        size_t i = 0;
                        while (keys[i].name && strcmp(keys[i].name, name))
                                i++;
                        if (!keys[i].name) {
                                unknown_key(c, k, sub, name, keys);
                                continue;
                        }
                        if (seen & (1u << i)) {
                                yv_error(&c->yv, k, sub, "duplicate key '%s'", name);
                                continue;
                        }
                        seen |= 1u << i;
                        cw_pos(c, sub, v);
                        keys[i].fn(c, v, sub, obj);
                }
        }
        for (size_t i = 0; keys[i].name; i++) {
                if (!keys[i].required || (seen & (1u << i)))
                        continue;
                if (map) {
                        yv_error(&c->yv, map, path, "missing required key '%s'", keys[i].name);
                } else {
                        int line, col; /* an empty section: point at its key */
                        pos_get(c->yv.pos, path, &line, &col);
                        diag_add(c->yv.diags, NR_SEV_ERROR, line, col, path,
                                 "missing required key '%s'", keys[i].name);
                }
        }
}

/* Walks a list of mappings, recording each item's position as PATH[i]. */
size_t cw_list(struct pctx *c, yaml_node_t *seq, const char *path, void *items,
                        size_t item_size, const struct keydef *keys)
{
        size_t n = cw_seq_len(c, seq, path);
        char sub[YV_PATH_MAX];
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *it = cw_seq_item(c, seq, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
                cw_pos(c, sub, it);
                cw_map(c, it, sub, keys, (char *)items + i * item_size);
        }
        return n;
}

size_t cw_prefix_list(struct pctx *c, yaml_node_t *seq, const char *path,
                          struct nr_prefix **out)
{
        size_t n = cw_seq_len(c, seq, path);
        char sub[YV_PATH_MAX];
        *out = cw_calloc(n, sizeof(**out));
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *it = cw_seq_item(c, seq, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
                cw_pos(c, sub, it);
                yv_subnet(&c->yv, it, sub, &(*out)[i]);
        }
        return n;
}

