/* Escaping in ac_buf: JSON strings, HTML text, PostgreSQL array elements, integers. */
#include <limits.h>
#include <string.h>

#include "ac_buf.h"
#include "ac_test.h"

typedef struct esc_case {
	const char *in;
	const char *want;
	const char *what;
} esc_case;

static void check_cases(void (*fn)(ac_buf *, const char *), const esc_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ac_buf b;

		ac_buf_init(&b);
		fn(&b, c[i].in);
		AC_CHECK(ac_buf_ok(&b) && strcmp(b.data, c[i].want) == 0, c[i].what);
		ac_buf_free(&b);
	}
}

static const esc_case json_cases[] = {
	{ "plain", "\"plain\"", "json: plain text is quoted" },
	{ "a\"b\\c", "\"a\\\"b\\\\c\"", "json: quote and backslash are escaped" },
	{ "line\nnext\t\x01", "\"line\\u000anext\\u0009\\u0001\"",
	  "json: control bytes as \\u00XX" },
	{ "承诺达标合格证", "\"承诺达标合格证\"", "json: UTF-8 passes through" },
	{ NULL, "null", "json: NULL is null" },
};

static const esc_case html_cases[] = {
	{ "<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
	  "html: tags and quotes are escaped" },
	{ "a & \"b\"", "a &amp; &quot;b&quot;", "html: ampersand and double quotes" },
	{ "凤城镇", "凤城镇", "html: Chinese passes through" },
};

static const esc_case pg_cases[] = {
	{ "x", "\"x\"", "pg: an element is quoted" },
	{ "a,\"b\"\\", "\"a,\\\"b\\\"\\\\\"", "pg: quotes and backslashes are escaped" },
	{ "{}", "\"{}\"", "pg: braces stay inside quotes" },
	{ NULL, "NULL", "pg: NULL is NULL" },
};

static void check_html_null(void)
{
	ac_buf b;

	ac_buf_init(&b);
	ac_buf_html(&b, NULL);
	AC_CHECK(b.len == 0 && ac_buf_ok(&b),
		 "html: NULL writes nothing, and an empty buffer is ok");
	ac_buf_free(&b);
}

static void check_ints(void)
{
	ac_buf b;

	ac_buf_init(&b);
	ac_buf_int(&b, 0);
	ac_buf_puts(&b, " ");
	ac_buf_int(&b, -42);
	ac_buf_puts(&b, " ");
	ac_buf_int(&b, LLONG_MIN);
	AC_CHECK(strcmp(b.data, "0 -42 -9223372036854775808") == 0, "integers, LLONG_MIN included");
	ac_buf_free(&b);
}

static void check_arrays(void)
{
	ac_buf b;

	ac_buf_init(&b);
	ac_buf_puts(&b, "{");
	ac_buf_pg_next(&b, "a");
	ac_buf_pg_next_int(&b, 0, 1);
	ac_buf_pg_next_int(&b, 0, 0);
	ac_buf_pg_next(&b, NULL);
	ac_buf_puts(&b, "}");
	AC_CHECK(strcmp(b.data, "{\"a\",NULL,0,NULL}") == 0,
		 "array literals: commas between elements, 0 as NULL when asked");
	ac_buf_free(&b);
}

int main(void)
{
	check_cases(ac_buf_json_str, json_cases, sizeof(json_cases) / sizeof(json_cases[0]));
	check_cases(ac_buf_html, html_cases, sizeof(html_cases) / sizeof(html_cases[0]));
	check_cases(ac_buf_pg_elem, pg_cases, sizeof(pg_cases) / sizeof(pg_cases[0]));
	check_html_null();
	check_ints();
	check_arrays();
	return ac_test_done();
}
