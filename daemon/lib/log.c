/* stderr or journald logging. "%m" in formats is glibc's strerror(errno); log_*_errno set errno
 * from their argument so "%m" names the error passed in. The rate limiter's logic is pure
 * (core/lib/ratelimit.c); this file gives it the clock and the output. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "lib/clock.h"
#include "core/lib/ratelimit.h"

static int max_level = LOG_PRI_INFO;
static bool journal;
static const char *ident = "nestrouterd";
static struct nr_ratelimit rl = {.window_usec = 30 * 1000000ull};

/* systemd sets JOURNAL_STREAM=DEV:INODE for a service whose stderr is the journal; a stderr
 * redirected elsewhere (a test, `2>file`) has another inode and gets plain lines. */
static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_open(const char *name)
{
        const char *w = getenv("NR_LOG_REPEAT_SEC"); /* tests shorten it */
        long v = w ? strtol(w, NULL, 10) : 0;
        if (v > 0)
                rl.window_usec = (uint64_t)v * 1000000ull;
        ident = name;
        journal = stderr_is_journal();
}

void log_set_level(int max_pri)
{
        max_level = max_pri;
}

int log_get_level(void)
{
        return max_level;
}

bool log_to_journal(void)
{
        return journal;
}

static void emit(int pri, const char *kind, const char *name, const char *text)
{
        if (journal) {
                int r;
                if (kind)
                        r = sd_journal_send("MESSAGE=%s", text, "PRIORITY=%d", pri,
                                            "SYSLOG_IDENTIFIER=%s", ident, "NR_OBJECT_KIND=%s",
                                            kind, "NR_OBJECT=%s", name, NULL);
                else
                        r = sd_journal_send("MESSAGE=%s", text, "PRIORITY=%d", pri,
                                            "SYSLOG_IDENTIFIER=%s", ident, NULL);
                if (r >= 0)
                        return;
        }
        fprintf(stderr, "<%d>%s\n", pri, text);
}

static void emit_repeats(void *ud, int pri, const char *text, uint64_t n)
{
        (void)ud;
        char line[NR_RL_TEXT + 64];
        snprintf(line, sizeof(line), "%s (repeated %llu time%s)", text, (unsigned long long)n,
                 n == 1 ? "" : "s");
        emit(pri, NULL, NULL, line);
}

static void vlog(int pri, const char *kind, const char *name, const char *fmt, va_list ap)
{
        bool limit = !(pri & LOG_NO_LIMIT);
        pri &= 7;
        if (pri > max_level)
                return;
        char text[NR_RL_TEXT], line[NR_RL_TEXT + 64];
        uint64_t repeated = 0;
        vsnprintf(text, sizeof(text), fmt, ap);
        /* info lines are changes asked for, each one news; notices (repairs), warnings and
         * errors are what repeats when something fights the daemon or keeps failing */
        if (limit && pri <= LOG_PRI_NOTICE && !rl_check(&rl, pri, text, now_usec(), &repeated))
                return;
        if (repeated) {
                snprintf(line, sizeof(line), "%s (repeated %llu time%s)", text,
                         (unsigned long long)repeated, repeated == 1 ? "" : "s");
                emit(pri, kind, name, line);
        } else {
                emit(pri, kind, name, text);
        }
}

void log_flush_repeats(bool all)
{
        rl_flush(&rl, now_usec(), all, emit_repeats, NULL);
}

void log_msg(int pri, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vlog(pri, NULL, NULL, fmt, ap);
        va_end(ap);
}

int log_msg_errno(int pri, int err, const char *fmt, ...)
{
        va_list ap;
        errno = err < 0 ? -err : err;
        va_start(ap, fmt);
        vlog(pri, NULL, NULL, fmt, ap);
        va_end(ap);
        return err < 0 ? err : -err;
}

void log_obj(int pri, const char *kind, const char *name, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vlog(pri, kind, name, fmt, ap);
        va_end(ap);
}

int log_obj_errno(int pri, int err, const char *kind, const char *name, const char *fmt, ...)
{
        va_list ap;
        errno = err < 0 ? -err : err;
        va_start(ap, fmt);
        vlog(pri, kind, name, fmt, ap);
        va_end(ap);
        return err < 0 ? err : -err;
}
