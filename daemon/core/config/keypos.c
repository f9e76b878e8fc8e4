/* The key-path -> line:column map, filled when a diagnostic first asks for a position: the
 * text is read again (by the fast reader, else libyaml) and every mapping key's value and every
 * list item is recorded at the path the walker gives it (`port_forwards[3].to`). A good file
 * never gets here; a file with a mistake pays one more read. The walk is generic, not by the
 * key tables: where the two could differ (an unknown key, a value of the wrong type) no check
 * asks for a path below it, and a duplicate key keeps its first position, as the walker does. */
#include "core/config/config_walk.h"

#include "core/config/yamlfast.h"

/* deeper than any key of the schema: what lies below is never asked for */
#define KEYPOS_MAX_DEPTH 16

struct kp {
        struct nr_posmap *m;
        struct yf_doc *fast;
        yaml_document_t *doc;
};

static yaml_node_t *kp_node(const struct kp *k, int id)
{
        return k->fast ? yf_node(k->fast, id) : yaml_document_get_node(k->doc, id);
}

static void put(struct kp *k, const char *path, const yaml_node_t *n)
{
        pos_put(k->m, path, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1);
}

static void walk(struct kp *k, const yaml_node_t *n, const char *path, int depth)
{
        char sub[YV_PATH_MAX];
        if (!n || depth > KEYPOS_MAX_DEPTH)
                return;
        if (n->type == YAML_MAPPING_NODE) {
                for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
                     p < n->data.mapping.pairs.top; p++) {
                        const yaml_node_t *key = kp_node(k, p->key), *v = kp_node(k, p->value);
                        if (!key || !v || key->type != YAML_SCALAR_NODE)
                                continue;
                        cw_path_key(sub, sizeof(sub), path, (const char *)key->data.scalar.value);
                        put(k, sub, v);
                        walk(k, v, sub, depth + 1);
                }
        } else if (n->type == YAML_SEQUENCE_NODE) {
                size_t i = 0;
                for (yaml_node_item_t *it = n->data.sequence.items.start;
                     it < n->data.sequence.items.top; it++, i++) {
                        const yaml_node_t *v = kp_node(k, *it);
                        if (!v)
                                continue;
                        cw_path_index(sub, sizeof(sub), path, i);
                        put(k, sub, v);
                        walk(k, v, sub, depth + 1);
                }
        }
}

void cfg_pos_fill(struct nr_posmap *m)
{
        struct kp k = {.m = m};
        struct yf_doc fast;
        yaml_parser_t parser;
        yaml_document_t doc;
        if (!m->src)
                return;
        if (yf_load(&fast, m->src, m->src_len) > 0) {
                k.fast = &fast;
                walk(&k, yf_node(&fast, 1), "", 0);
                yf_free(&fast);
                return;
        }
        /* the text parsed before it was deferred; only memory could fail here, and then the
         * diagnostics point at 1:1 */
        if (!yaml_parser_initialize(&parser))
                return;
        yaml_parser_set_input_string(&parser, (const unsigned char *)m->src, m->src_len);
        if (yaml_parser_load(&parser, &doc)) {
                k.doc = &doc;
                walk(&k, yaml_document_get_root_node(&doc), "", 0);
                yaml_document_delete(&doc);
        }
        yaml_parser_delete(&parser);
}
