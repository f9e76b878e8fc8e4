/* Prints the configuration schema (daemon/core/config/schema.h) as docs/config.md's key tables
 * should show it, one key a line: SECTION, KEY, TYPE, REQUIRED (yes/no) and DEFAULT, separated
 * by tabs; SECTION is "(top)" for the top level, else the key path of the section (`libvirt`).
 * tests/docs/test-config-keys.sh compares it with the tables. A key whose row has no
 * sub-table (not table-driven yet) prints only its own row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config/schema.h"
#include "core/lib/strbuf.h"

/* Rows that are all maps of one shape (uplinks' nat and lan) are names for it: docs/config.md
 * describes them in words and gives the shape's table under the section's own name. */
static const struct keydef *shared_shape(const struct keydef *keys)
{
        const struct keydef *sub = keys[0].name ? keys[0].sub : NULL;
        for (const struct keydef *k = keys; sub && k->name; k++)
                if (k->kind != CFG_MAP || k->sub != sub)
                        return NULL;
        return keys[0].name && keys[1].name ? sub : NULL;
}

static int print_rows(const char *section, const struct keydef *keys)
{
        int missing = 0;
        for (const struct keydef *k = keys; k->name; k++) {
                struct nr_buf b = {0};
                cfg_schema_doc_default(&b, k);
                char *def = buf_finish(&b);
                if (!def)
                        return -1;
                if (!k->doc_type) {
                        fprintf(stderr, "config-keys: %s.%s has no doc_type\n", section, k->name);
                        missing++;
                }
                if (strstr(def, "`?`")) { /* a kind without a default value of its own */
                        fprintf(stderr, "config-keys: %s.%s needs a doc_default\n", section,
                                k->name);
                        missing++;
                }
                printf("%s\t%s\t%s\t%s\t%s\n", section, k->name, k->doc_type ? k->doc_type : "",
                       k->required ? "yes" : "no", def);
                free(def);
        }
        return missing;
}

/* section: the key path docs/config.md's heading uses; child: the prefix of its sub-sections */
static int print_section(const char *section, const char *child, const struct keydef *keys)
{
        const struct keydef *shape = shared_shape(keys);
        char sub_child[256];
        if (shape) {
                snprintf(sub_child, sizeof(sub_child), "%s.*", section);
                return print_section(section, sub_child, shape);
        }
        int missing = print_rows(section, keys);
        if (missing < 0)
                return missing;
        for (const struct keydef *k = keys; k->name; k++) {
                if (!k->sub)
                        continue;
                char sub[256];
                if (child[0])
                        snprintf(sub, sizeof(sub), "%s.%s", child, k->name);
                else
                        snprintf(sub, sizeof(sub), "%s", k->name);
                int r = print_section(sub, sub, k->sub);
                if (r < 0)
                        return r;
                missing += r;
        }
        return missing;
}

int main(void)
{
        return print_section("(top)", "", cfg_top_keys) == 0 ? 0 : 1;
}
