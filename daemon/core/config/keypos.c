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

static void put(struct nr_posmap *m, const char *path, const struct yf_node *n)
{
        pos_put(m, path, (int)n->line + 1, (int)n->col + 1);
}

static void walk(struct nr_posmap *m, const struct yf_node *n, const char *path, int depth)
{
        char sub[YV_PATH_MAX];
        if (!n || depth > KEYPOS_MAX_DEPTH)
                return;
        if (n->type == YAML_MAPPING_NODE) {
                for (uint32_t i = 0; i + 1 < n->n; i += 2) {
                        const struct yf_node *key = n->kids[i], *v = n->kids[i + 1];
                        if (key->type != YAML_SCALAR_NODE)
                                continue;
                        cw_path_key(sub, sizeof(sub), path, key->str);
                        put(m, sub, v);
                        walk(m, v, sub, depth + 1);
                }
        } else if (n->type == YAML_SEQUENCE_NODE) {
                for (uint32_t i = 0; i < n->n; i++) {
                        cw_path_index(sub, sizeof(sub), path, i);
                        put(m, sub, n->kids[i]);
                        walk(m, n->kids[i], sub, depth + 1);
                }
        }
}

void cfg_pos_fill(struct nr_posmap *m)
{
        struct yf_doc tree;
        yaml_parser_t parser;
        yaml_document_t doc;
        if (!m->src)
                return;
        if (yf_load(&tree, m->src, m->src_len) > 0) {
                walk(m, tree.root, "", 0);
                yf_free(&tree);
                return;
        }
        /* the text parsed before it was deferred; only memory could fail here, and then the
         * diagnostics point at 1:1 */
        if (!yaml_parser_initialize(&parser))
                return;
        yaml_parser_set_input_string(&parser, (const unsigned char *)m->src, m->src_len);
        if (yaml_parser_load(&parser, &doc)) {
                if (yf_from_libyaml(&tree, &doc) == 0) {
                        walk(m, tree.root, "", 0);
                        yf_free(&tree);
                }
                yaml_document_delete(&doc);
        }
        yaml_parser_delete(&parser);
}
