/* Logging to stderr with journald priority prefixes ("<3>..."), or, when stderr is the journal
 * (systemd's JOURNAL_STREAM), straight to journald with structured fields: NR_OBJECT_KIND= and
 * NR_OBJECT= name what a message is about (log_obj), so `journalctl NR_OBJECT=nr0` finds every
 * message about the bridge. Notices, warnings and errors repeated within NR_LOG_REPEAT_SEC
 * (30 s) are counted, not printed; the count follows ("... (repeated 37 times)"). log_*_errno take a
 * negative errno and return it, for `return log_...`. */
#pragma once

#include <errno.h>
#include <stdbool.h>

#define LOG_PRI_ERR 3
#define LOG_PRI_WARNING 4
#define LOG_PRI_NOTICE 5
#define LOG_PRI_INFO 6
#define LOG_PRI_DEBUG 7
/* or'ed into a priority: never rate-limited (answers to a reload, each one asked for) */
#define LOG_NO_LIMIT 0x100

/* Reads JOURNAL_STREAM and NR_LOG_REPEAT_SEC; ident is SYSLOG_IDENTIFIER in the journal. */
void log_open(const char *ident);
void log_set_level(int max_pri);
int log_get_level(void);
bool log_to_journal(void);

void log_msg(int pri, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int log_msg_errno(int pri, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A message about one object: kind ("route", "link", "nft", "vm", ...) and its name. */
void log_obj(int pri, const char *kind, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
int log_obj_errno(int pri, int err, const char *kind, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* Prints the counts of suppressed repeats whose window has passed (all: every count, at exit). */
void log_flush_repeats(bool all);

#define log_err(...) log_msg(LOG_PRI_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_PRI_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_PRI_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_PRI_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_PRI_DEBUG, __VA_ARGS__)
#define log_err_errno(r, ...) log_msg_errno(LOG_PRI_ERR, (r), __VA_ARGS__)
#define log_warn_errno(r, ...) log_msg_errno(LOG_PRI_WARNING, (r), __VA_ARGS__)
