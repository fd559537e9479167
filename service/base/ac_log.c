#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ac_log.h"

static int log_level = AC_LOG_INFO;
static int log_format = AC_LOG_TEXT;

void ac_log_set_level(int level)
{
	log_level = level;
}

int ac_log_set_format(const char *name)
{
	if (name == NULL || strcmp(name, "text") == 0)
		log_format = AC_LOG_TEXT;
	else if (strcmp(name, "json") == 0)
		log_format = AC_LOG_JSON;
	else
		return -1;
	return 0;
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

/*
 * Appends msg to line (at n, at most size - 2 bytes in all) so that it stays
 * on one line: control bytes as \xNN in text; in JSON as a string's escapes,
 * and bytes that are not UTF-8 as \u00NN. Returns the new length.
 */
static int put_message(char *line, int n, int size, const char *msg, int json)
{
	static const char hex[] = "0123456789abcdef";

	for (const unsigned char *p = (const unsigned char *)msg; *p != '\0'; p++) {
		unsigned char c = *p;
		int len = json && c >= 0x80 ? ac_log_utf8_len(p) : 0;

		if (n + 8 > size - 2)
			break;
		if (len > 0) {
			memcpy(line + n, p, (size_t)len);
			n += len;
			p += len - 1;
		} else if (c < 0x20 || c == 0x7f ||
			   (json && (c >= 0x80 || c == '"' || c == '\\'))) {
			if (json && (c == '"' || c == '\\')) {
				line[n++] = '\\';
				line[n++] = (char)c;
				continue;
			}
			memcpy(line + n, json ? "\\u00" : "\\x", json ? 4 : 2);
			n += json ? 4 : 2;
			line[n++] = hex[c >> 4];
			line[n++] = hex[c & 15];
		} else {
			line[n++] = (char)c;
		}
	}
	return n;
}

int ac_log_utf8_len(const unsigned char *p)
{
	int len = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;

	if (p[0] >= 0xf5)
		return 0;
	for (int i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	return len;
}

void ac_log(int level, const char *group, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info ", "warn ", "error" };
	static const char *json_names[] = { "debug", "info", "warn", "error" };
	char msg[2048];
	char line[4096];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int json = log_format == AC_LOG_JSON;
	int n;

	if (level < log_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	n = snprintf(line, sizeof(line),
		     json ? "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"level\":\"%s\","
			    "\"group\":\"%s\",\"msg\":\""
			  : "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (int)(tv.tv_usec / 1000), (json ? json_names : names)[level & 3], group);
	n = put_message(line, n, (int)sizeof(line) - 3, msg, json);
	if (json) {
		line[n++] = '"';
		line[n++] = '}';
	}
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
