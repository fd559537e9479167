/*
 * Logging for agricertd and the admin CLI. Only service/ logs; libraries
 * return codes. One line per event on stderr:
 *   2026-11-23T10:00:00.123Z info  http: message
 * Thread-safe (each line is one write).
 */
#ifndef AC_LOG_H
#define AC_LOG_H

#include <stdint.h>

enum { AC_LOG_DEBUG, AC_LOG_INFO, AC_LOG_WARN, AC_LOG_ERROR };

/* Lines below this level are dropped; AGRICERT_LOG_LEVEL=debug|info|warn|error. */
void ac_log_set_level(int level);
int ac_log_level_from_name(const char *name);

void ac_log(int level, const char *group, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The monotonic clock in nanoseconds, for the durations the logs report. */
uint64_t ac_now_ns(void);

#define ac_log_debug(g, ...) ac_log(AC_LOG_DEBUG, (g), __VA_ARGS__)
#define ac_log_info(g, ...)  ac_log(AC_LOG_INFO, (g), __VA_ARGS__)
#define ac_log_warn(g, ...)  ac_log(AC_LOG_WARN, (g), __VA_ARGS__)
#define ac_log_error(g, ...) ac_log(AC_LOG_ERROR, (g), __VA_ARGS__)

#endif
