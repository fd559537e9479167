#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ac_log.h"

static int log_level = AC_LOG_INFO;

void ac_log_set_level(int level)
{
	log_level = level;
}

int ac_log_level_from_name(const char *name)
{
	if (name == NULL)
		return AC_LOG_INFO;
	if (strcmp(name, "debug") == 0)
		return AC_LOG_DEBUG;
	if (strcmp(name, "warn") == 0)
		return AC_LOG_WARN;
	if (strcmp(name, "error") == 0)
		return AC_LOG_ERROR;
	return AC_LOG_INFO;
}

void ac_log(int level, const char *group, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info ", "warn ", "error" };
	char line[2048];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;
	int m;

	if (level < log_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s: ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (int)(tv.tv_usec / 1000), names[level & 3], group);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nothing sensible to do when stderr is gone. */
	}
}

uint64_t ac_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
