/* Logging to stderr with journald priority prefixes ("<3>..."), so journald files each line at
 * the right level. log_*_errno take a negative errno and return it, for `return log_...`. */
#pragma once

#include <errno.h>

#define LOG_PRI_ERR 3
#define LOG_PRI_WARNING 4
#define LOG_PRI_NOTICE 5
#define LOG_PRI_INFO 6
#define LOG_PRI_DEBUG 7

void log_set_level(int max_pri);
void log_msg(int pri, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int log_msg_errno(int pri, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_err(...) log_msg(LOG_PRI_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_PRI_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_PRI_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_PRI_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_PRI_DEBUG, __VA_ARGS__)
#define log_err_errno(r, ...) log_msg_errno(LOG_PRI_ERR, (r), __VA_ARGS__)
#define log_warn_errno(r, ...) log_msg_errno(LOG_PRI_WARNING, (r), __VA_ARGS__)
