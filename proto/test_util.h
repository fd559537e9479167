/*
 * What proto's tests and tools share: the field sets of the committed
 * vectors (vectors/code-v1.json), hex, and writing a file into a folder.
 *
 * Header-only, for test_*.c, gen_*.c and bench_code.c: each includes it once.
 */
#ifndef PROTO_TEST_UTIL_H
#define PROTO_TEST_UTIL_H

#include <stdio.h>
#include <string.h>

#include "ac_code.h"

/* The vectors' "typical" code: kid 1, issued 2024-05-20 (day 1601). */
static inline ac_code_fields test_fields_typical(void)
{
	ac_code_fields f = {
		.version = 1,
		.kid = 1,
		.serial = 20240520000123ULL % AC_CODE_SERIAL_MAX,
		.item = 3,
		.issue_day = 1601,
		.product = 1207,
		.quantity_milli = 2500,
		.unit = AC_UNIT_KG,
		.issuer = 100321,
		.origin = 350128101001ULL,
		.basis = AC_BASIS_SELF_TEST,
		.style = AC_STYLE_PRODUCER,
	};

	return f;
}

/* The vectors' "largest" code: every signed byte as high as it may be. */
static inline ac_code_fields test_fields_largest(void)
{
	ac_code_fields f = {
		.version = 1,
		.kid = 0xffff,
		.serial = AC_CODE_SERIAL_MAX,
		.item = 0xffff,
		.issue_day = 0xffff,
		.product = 0xffff,
		.quantity_milli = 0xffffffff,
		.unit = AC_UNIT_MAX,
		.issuer = 0xffffffff,
		.origin = AC_CODE_ORIGIN_MAX,
		.basis = AC_BASIS_MAX,
		.style = AC_STYLE_PURCHASER,
	};

	return f;
}

/* Writes n bytes as 2n lower-case hex digits and a NUL into out. */
static inline void test_hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* Reads exactly n bytes from the 2n hex digits of h: 0, or -1 (also for NULL). */
static inline int test_unhex(const char *h, uint8_t *out, size_t n)
{
	if (h == NULL || strlen(h) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* Writes len bytes to dir/name: 0, or -1 with errno set. */
static inline int test_write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

#endif
