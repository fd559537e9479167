/*
 * A growable byte buffer for building SQL parameters and pages. An allocation
 * failure is sticky: ac_buf_ok() says whether everything fit.
 */
#ifndef AC_BUF_H
#define AC_BUF_H

#include <stddef.h>

typedef struct ac_buf {
	char *data; /* NUL-terminated while ok; NULL while nothing was added */
	size_t len;
	size_t cap;
	int failed;
} ac_buf;

void ac_buf_init(ac_buf *b);
void ac_buf_free(ac_buf *b);
void ac_buf_add(ac_buf *b, const char *s, size_t len);
void ac_buf_puts(ac_buf *b, const char *s);
void ac_buf_printf(ac_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a decimal integer (no printf: it is on the issuing hot path). */
void ac_buf_int(ac_buf *b, long long v);
/* Appends s escaped for HTML text and attributes. */
void ac_buf_html(ac_buf *b, const char *s);
/* Appends s as a JSON string, quotes included; NULL as null. */
void ac_buf_json_str(ac_buf *b, const char *s);
/* Appends s as a double-quoted element of a PostgreSQL array literal, or NULL. */
void ac_buf_pg_elem(ac_buf *b, const char *s);
/*
 * Elements of a PostgreSQL array literal that b builds, opened with "{": each
 * appends the comma that separates it from the one before (none after the
 * "{"). ac_buf_pg_next_int writes NULL for 0 when zero_is_null.
 */
void ac_buf_pg_next(ac_buf *b, const char *s);
void ac_buf_pg_next_int(ac_buf *b, long long v, int zero_is_null);
/* Whether everything added so far fit (an empty buffer is ok). */
int ac_buf_ok(const ac_buf *b);

#endif
