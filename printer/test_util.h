/*
 * What the printer tests share: the font, a sample label and running the
 * real tools (pdftoppm, zbarimg, CUPS' command line) from C.
 *
 * Header-only, for printer/test_*.c: each test includes it once.
 */
#ifndef PRINTER_TEST_UTIL_H
#define PRINTER_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "ac_label.h"

#define TEST_FONT "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

/* A typical producer's label with the given codes (not copied: keep them alive). */
static inline ac_label_data test_label_sample(const char *const *codes, size_t ncodes)
{
	ac_label_data d = {
		.product = "豇豆",
		.quantity = "25 千克",
		.origin = "福建省安溪县凤城镇",
		.issuer = "张三家庭农场",
		.contact = "13859005678",
		.date = "2026-11-23",
		.number = "000000000123",
		.promise = "未使用禁用农药、兽药及其他化合物；使用的常规农药、兽药残留不超标。",
		.basis = "质量安全控制符合要求",
		.codes = codes,
		.ncodes = ncodes,
	};

	return d;
}

/* Writes n bytes to path: 0 or -1. */
static inline int test_write_file(const char *path, const unsigned char *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	size_t w;

	if (f == NULL)
		return -1;
	w = fwrite(p, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

/*
 * Runs cmd with the shell and returns its whole stdout, NUL-terminated and
 * now owned by the caller (free), or NULL when it cannot run or exits
 * non-zero.
 */
static inline char *test_run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t cap = 4096;
	size_t n = 0;
	char *buf;

	if (p == NULL)
		return NULL;
	buf = malloc(cap);
	while (buf != NULL) {
		size_t got;

		if (n + 1024 > cap) {
			char *nbuf = realloc(buf, cap * 2);

			if (nbuf == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nbuf;
			cap *= 2;
		}
		got = fread(buf + n, 1, cap - n - 1, p);
		if (got == 0)
			break;
		n += got;
	}
	if (pclose(p) != 0 || buf == NULL) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

#endif
