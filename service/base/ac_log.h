/*
 * Logging for agricertd and the admin CLI. Only service/ logs; libraries
 * return codes. One line per event on stderr:
 *   2026-11-23T10:00:00.123Z info  http: message
 * or, with log_format = json, one JSON object a line:
 *   {"ts":"2026-11-23T10:00:00.123Z","level":"info","group":"http","msg":"..."}
 * A message cannot break its line: control bytes are written \xNN (text) or
 * as JSON escapes, so every line starts with the timestamp and the level.
 * Thread-safe (each line is one write).
 */
#ifndef AC_LOG_H
#define AC_LOG_H

#include <stdint.h>

enum { AC_LOG_DEBUG, AC_LOG_INFO, AC_LOG_WARN, AC_LOG_ERROR };
enum { AC_LOG_TEXT, AC_LOG_JSON };

/* Lines below this level are dropped; AGRICERT_LOG_LEVEL=debug|info|warn|error. */
void ac_log_set_level(int level);
int ac_log_level_from_name(const char *name);

/* "text" (or NULL) or "json"; -1 for another name. At start, before any thread. */
int ac_log_set_format(const char *name);

/* The length of the UTF-8 sequence at p (2 to 4), or 0 when it is not one. */
int ac_log_utf8_len(const unsigned char *p);

void ac_log(int level, const char *group, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The monotonic clock in nanoseconds, for the durations the logs report. */
uint64_t ac_now_ns(void);

#define ac_log_debug(g, ...) ac_log(AC_LOG_DEBUG, (g), __VA_ARGS__)
#define ac_log_info(g, ...)  ac_log(AC_LOG_INFO, (g), __VA_ARGS__)
#define ac_log_warn(g, ...)  ac_log(AC_LOG_WARN, (g), __VA_ARGS__)
#define ac_log_error(g, ...) ac_log(AC_LOG_ERROR, (g), __VA_ARGS__)

#endif
