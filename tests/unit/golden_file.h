/* Shared by the unit tests that compare a rendering with a file under tests/golden: the file is
 * read whole and compared byte for byte; NR_UPDATE_GOLDEN=1 rewrites it instead (review the diff
 * before committing). Header only, like unit_helpers.h. */
#pragma once

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Fails the test when DIR/NAME is missing or differs from text. what names the rendering in the
 * message ("the rendered XML"); hint, if not NULL, says how to look closer; without a hint the
 * rendered text is printed. Run from the repository root. */
static inline void golden_check(const char *dir, const char *name, const char *text,
                                const char *what, const char *hint)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        const char *update = getenv("NR_UPDATE_GOLDEN");
        if (update && !strcmp(update, "1")) {
                FILE *fp = fopen(path, "w");
                if (!fp)
                        fail_msg("%s: %s", path, strerror(errno));
                fputs(text, fp);
                assert_int_equal(fclose(fp), 0);
                return;
        }
        FILE *fp = fopen(path, "r");
        if (!fp)
                fail_msg("%s: %s (run from the repo root; NR_UPDATE_GOLDEN=1 creates it)", path,
                         strerror(errno));
        char *want = NULL;
        size_t cap = 0;
        ssize_t n = getdelim(&want, &cap, '\0', fp);
        fclose(fp);
        bool same = strcmp(n < 0 ? "" : want, text) == 0; /* n < 0: an empty file */
        free(want);
        if (same)
                return;
        if (!hint)
                print_message("rendered:\n%s", text);
        fail_msg("%s differs from %s; %s%saccept with NR_UPDATE_GOLDEN=1", path, what,
                 hint ? hint : "", hint ? ", " : "");
}
