/* One line per message (ac_log.h): control bytes escaped in text and JSON,
 * invalid UTF-8 escaped in JSON; and the metrics' text format (ac_metrics.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ac_log.h"
#include "ac_metrics.h"
#include "ac_test.h"

/* What ac_log wrote for one message, in out. */
static void logged(const char *msg, char *out, size_t outsz)
{
	int fds[2];
	int saved = dup(STDERR_FILENO);
	ssize_t n;

	if (pipe(fds) != 0)
		abort();
	dup2(fds[1], STDERR_FILENO);
	ac_log_info("test", "%s", msg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], out, outsz - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fds[0]);
}

static void check_text(void)
{
	char out[4096];

	logged("GET /a\n2026-01-01T00:00:00.000Z info  http: forged\r\x1b[31m", out, sizeof(out));
	AC_CHECK(strchr(out, '\n') == out + strlen(out) - 1,
		 "text: one line, however many newlines");
	AC_CHECK(strstr(out, "/a\\x0a2026") != NULL && strstr(out, "\\x0d\\x1b[31m") != NULL,
		 "text: newline, carriage return and escape as \\xNN");
	AC_CHECK(strstr(out, " info  test: GET") != NULL, "text: timestamp, level, group, message");
	logged("农产品", out, sizeof(out));
	AC_CHECK(strstr(out, "test: 农产品\n") != NULL, "text: UTF-8 as it is");
}

static void check_json(void)
{
	char out[4096];

	ac_log_set_format("json");
	logged("a\"b\\c\nd\x1b\xff\xfe 农", out, sizeof(out));
	AC_CHECK(strncmp(out, "{\"ts\":\"", 7) == 0 && strstr(out, "\"level\":\"info\"") != NULL &&
		     strstr(out, "\"group\":\"test\"") != NULL,
		 "json: ts, level, group");
	AC_CHECK(strstr(out, "\"msg\":\"a\\\"b\\\\c\\u000ad\\u001b\\u00ff\\u00fe 农\"}\n") != NULL,
		 "json: quotes, backslashes, control bytes and bytes that are not UTF-8 escaped");
	AC_CHECK(ac_log_set_format("xml") == -1, "json: an unknown format is refused");
	ac_log_set_format("text");
}

static void check_metrics(void)
{
	static const double bounds[] = { 1, 5 };
	ac_hist h;
	ac_buf b;

	ac_hist_init(&h, bounds, 2);
	ac_hist_observe(&h, 0.5);
	ac_hist_observe(&h, 3);
	ac_hist_observe(&h, 9);
	ac_buf_init(&b);
	ac_metrics_hist(&b, "x_seconds", "route=\"/v/{payload}\"", &h);
	AC_CHECK(ac_buf_ok(&b) &&
		     strcmp(b.data, "x_seconds_bucket{route=\"/v/{payload}\",le=\"1\"} 1\n"
				    "x_seconds_bucket{route=\"/v/{payload}\",le=\"5\"} 2\n"
				    "x_seconds_bucket{route=\"/v/{payload}\",le=\"+Inf\"} 3\n"
				    "x_seconds_sum{route=\"/v/{payload}\"} 12.5\n"
				    "x_seconds_count{route=\"/v/{payload}\"} 3\n") == 0,
		 "metrics: cumulative buckets, sum, count");
	b.len = 0;
	ac_metrics_label(&b, "a\"b\\c\nd");
	ac_buf_add(&b, "", 1);
	AC_CHECK(strcmp(b.data, "a\\\"b\\\\c\\nd") == 0, "metrics: label values escaped");
	ac_buf_free(&b);
}

int main(void)
{
	check_text();
	check_json();
	check_metrics();
	return ac_test_done();
}
