/* libFuzzer target: arbitrary bytes through the parser, validation, the normalized printer and
 * the model. Anything but a clean error is a bug (crash, leak, UB, or a -v output that does not
 * parse back). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/model.h"
#include "core/render/render_text.h"
#include "core/config/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct nr_config cfg, again;
        struct nr_diags d = {0}, d2 = {0};
        if (cfg_parse("fuzz.yaml", (const char *)data, size, &cfg, &d) == 0 &&
            cfg_validate(&cfg, &d) == 0) {
                char *text = render_config_yaml(&cfg);
                if (!text)
                        abort();
                /* the round trip must hold for every accepted input */
                if (cfg_parse("again.yaml", text, strlen(text), &again, &d2) < 0 ||
                    cfg_validate(&again, &d2) < 0)
                        abort();
                char *text2 = render_config_yaml(&again);
                if (!text2 || strcmp(text, text2))
                        abort();
                struct nr_facts facts;
                struct nr_desired want;
                struct nr_paths paths = {"/run/nr", "/var/lib/nr"};
                model_facts_assumed(&cfg, &facts);
                if (model_build(&cfg, &facts, &paths, &want) == 0)
                        model_free(&want);
                free(text);
                free(text2);
                cfg_free(&again);
        }
        cfg_free(&cfg);
        diag_free(&d);
        diag_free(&d2);
        return 0;
}
