#include <limits.h>

#include "ac_base32.h"
#include "ac_error.h"

static const char ac_base32_alphabet[32] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Value of one character, or -1 when it is not in the alphabet. */
static int ac_base32_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int ac_base32_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	if (outsz > 0)
		out[0] = '\0';
	if (len > (SIZE_MAX - 4) / 8 || AC_BASE32_ENCLEN(len) > (size_t)INT_MAX)
		return AC_ETOOBIG;
	if (outsz < AC_BASE32_ENCLEN(len) + 1)
		return AC_ETOOBIG;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[n++] = ac_base32_alphabet[(acc >> bits) & 31];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[n++] = ac_base32_alphabet[(acc << (5 - bits)) & 31];
	out[n] = '\0';
	return (int)n;
}

int ac_base32_decode(const char *in, size_t len, uint8_t *out, size_t outsz, size_t *outlen)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;
	size_t rem = len % 8;

	*outlen = 0;
	/* 1, 3 and 6 trailing characters carry no whole byte: no encoder writes them. */
	if (rem == 1 || rem == 3 || rem == 6)
		return AC_EMALFORMED;
	if (len / 8 * 5 + rem * 5 / 8 > outsz)
		return AC_ETOOBIG;
	for (size_t i = 0; i < len; i++) {
		int v = ac_base32_value((unsigned char)in[i]);

		if (v < 0)
			return AC_EMALFORMED;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
		acc &= (1u << bits) - 1;
	}
	/* Canonical form: the bits left over must be zero. */
	if (acc != 0)
		return AC_EMALFORMED;
	*outlen = n;
	return 0;
}
