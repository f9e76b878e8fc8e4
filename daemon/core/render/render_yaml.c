/* The normalized config (`nestrouterd --check -v`): every key with its default filled in, in
 * the schema's order, as YAML that parses back to the same config. The rows of
 * core/config/schema.h print it; the few keys no kind describes have their row's printer. */
#include "core/render/render_text.h"
#include "core/config/schema.h"
#include "core/lib/strbuf.h"

char *render_config_yaml(const struct nr_config *cfg)
{
        struct nr_buf b = {0};
        cfg_schema_print(&b, cfg_top_keys, cfg, 0);
        return buf_finish(&b);
}
