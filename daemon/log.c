/* stderr logging with journald priority prefixes. "%m" in formats is glibc's strerror(errno);
 * log_msg_errno sets errno from its argument so "%m" names the error passed in. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static int max_level = LOG_PRI_INFO;

void log_set_level(int max_pri)
{
        max_level = max_pri;
}

static void vlog(int pri, const char *fmt, va_list ap)
{
        if (pri > max_level)
                return;
        char line[1024];
        vsnprintf(line, sizeof(line), fmt, ap);
        fprintf(stderr, "<%d>%s\n", pri, line);
}

void log_msg(int pri, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vlog(pri, fmt, ap);
        va_end(ap);
}

int log_msg_errno(int pri, int err, const char *fmt, ...)
{
        va_list ap;
        errno = err < 0 ? -err : err;
        va_start(ap, fmt);
        vlog(pri, fmt, ap);
        va_end(ap);
        return err < 0 ? err : -err;
}
