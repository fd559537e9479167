/* URL decoding and query parameters. */
#include <stdio.h>
#include <string.h>

#include "ac_test.h"
#include "ac_url.h"

static int decodes(const char *in, int plus, const char *want)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s", in);
	return ac_url_decode(buf, plus) == 0 && strcmp(buf, want) == 0;
}

static int refuses(const char *in)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s", in);
	return ac_url_decode(buf, 0) != 0;
}

static void check_decode(void)
{
	AC_CHECK(decodes("/v/ABC", 0, "/v/ABC"), "plain text is unchanged");
	AC_CHECK(decodes("%E8%B1%87%e8%b1%86", 0, "豇豆"), "escapes, upper and lower case");
	AC_CHECK(decodes("a+b", 0, "a+b") && decodes("a+b", 1, "a b"),
		 "+ is a space only in a query");
	AC_CHECK(decodes("%0A", 0, "\n"), "an escaped newline decodes (the log escapes it)");
	AC_CHECK(refuses("%00"), "an escaped NUL is refused");
	AC_CHECK(refuses("%4") && refuses("%G0") && refuses("%"), "broken escapes are refused");
}

static void check_params(void)
{
	char buf[16];

	AC_CHECK(ac_url_query_param("a=1&market=42&b", "market", buf, sizeof(buf)) == 1 &&
		     strcmp(buf, "42") == 0,
		 "a parameter among others");
	AC_CHECK(ac_url_query_param("marketplace=1", "market", buf, sizeof(buf)) == 0,
		 "a longer name is another parameter");
	AC_CHECK(ac_url_query_param("q=", "q", buf, sizeof(buf)) == 1 && buf[0] == '\0',
		 "present and empty");
	AC_CHECK(ac_url_query_param(NULL, "q", buf, sizeof(buf)) == 0, "no query at all");
	{
		char big[32];

		AC_CHECK(ac_url_query_param("q=%E5%87%A4%E5%9F%8E", "q", big, sizeof(big)) == 1 &&
			     strcmp(big, "凤城") == 0,
			 "values are decoded");
	}
	AC_CHECK(ac_url_query_param("q=0123456789abcdefg", "q", buf, sizeof(buf)) == -1,
		 "too long for the buffer: -1");
	AC_CHECK(ac_url_query_param("q=%ZZ", "q", buf, sizeof(buf)) == -1, "badly encoded: -1");
}

int main(void)
{
	check_decode();
	check_params();
	return ac_test_done();
}
