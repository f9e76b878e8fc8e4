/* Prints the configuration schema (daemon/core/config/schema.h) as docs/config.md's key tables
 * should show it, one key a line: SECTION, KEY, TYPE, REQUIRED (yes/no) and DEFAULT, separated
 * by tabs; SECTION is "(top)" for the top level, else the key path of the section (`libvirt`).
 * tests/docs/test-config-keys.sh compares it with the tables. Sections whose rows have no
 * sub-table (not table-driven yet) print only their own row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config/schema.h"
#include "core/lib/strbuf.h"

static int print_section(const char *section, const struct keydef *keys)
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
        for (const struct keydef *k = keys; k->name; k++) {
                if (!k->sub)
                        continue;
                char sub[256];
                if (section[0] == '(')
                        snprintf(sub, sizeof(sub), "%s", k->name);
                else
                        snprintf(sub, sizeof(sub), "%s.%s", section, k->name);
                int r = print_section(sub, k->sub);
                if (r < 0)
                        return r;
                missing += r;
        }
        return missing;
}

int main(void)
{
        return print_section("(top)", cfg_top_keys) == 0 ? 0 : 1;
}
