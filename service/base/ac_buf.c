#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_buf.h"

void ac_buf_init(ac_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void ac_buf_free(ac_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static int grow(ac_buf *b, size_t extra)
{
	size_t cap;
	char *n;

	if (b->failed)
		return -1;
	if (b->len + extra + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	n = realloc(b->data, cap);
	if (n == NULL) {
		b->failed = 1;
		return -1;
	}
	b->data = n;
	b->cap = cap;
	return 0;
}

void ac_buf_add(ac_buf *b, const char *s, size_t len)
{
	if (grow(b, len) != 0)
		return;
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void ac_buf_puts(ac_buf *b, const char *s)
{
	ac_buf_add(b, s, strlen(s));
}

void ac_buf_printf(ac_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

void ac_buf_int(ac_buf *b, long long v)
{
	char tmp[24];
	char *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	ac_buf_add(b, p, tmp + sizeof(tmp) - p);
}

void ac_buf_html(ac_buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			ac_buf_puts(b, "&amp;");
			break;
		case '<':
			ac_buf_puts(b, "&lt;");
			break;
		case '>':
			ac_buf_puts(b, "&gt;");
			break;
		case '"':
			ac_buf_puts(b, "&quot;");
			break;
		case '\'':
			ac_buf_puts(b, "&#39;");
			break;
		default:
			ac_buf_add(b, s, 1);
		}
	}
}

void ac_buf_json_str(ac_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run;

	if (s == NULL) {
		ac_buf_puts(b, "null");
		return;
	}
	ac_buf_add(b, "\"", 1);
	run = s;
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[6];

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		ac_buf_add(b, run, s - run);
		run = s + 1;
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			ac_buf_add(b, esc, 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			ac_buf_add(b, esc, 6);
		}
	}
	ac_buf_add(b, run, s - run);
	ac_buf_add(b, "\"", 1);
}

void ac_buf_pg_elem(ac_buf *b, const char *s)
{
	if (s == NULL) {
		ac_buf_puts(b, "NULL");
		return;
	}
	ac_buf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			ac_buf_add(b, "\\", 1);
		ac_buf_add(b, s, 1);
	}
	ac_buf_add(b, "\"", 1);
}

static void pg_sep(ac_buf *b)
{
	if (b->len > 0 && b->data != NULL && b->data[b->len - 1] != '{')
		ac_buf_add(b, ",", 1);
}

void ac_buf_pg_next(ac_buf *b, const char *s)
{
	pg_sep(b);
	ac_buf_pg_elem(b, s);
}

void ac_buf_pg_next_int(ac_buf *b, long long v, int zero_is_null)
{
	pg_sep(b);
	if (zero_is_null && v == 0)
		ac_buf_puts(b, "NULL");
	else
		ac_buf_int(b, v);
}

int ac_buf_ok(const ac_buf *b)
{
	return !b->failed;
}
