/* RFC 4648 vectors and every way a base32 text can be wrong. */
#include <string.h>

#include "ac_base32.h"
#include "ac_error.h"
#include "ac_test.h"

static int dec(const char *s, uint8_t *out, size_t outsz, size_t *n)
{
	return ac_base32_decode(s, strlen(s), out, outsz, n);
}

/* A text the decoder must refuse as malformed; len 0: strlen(text). */
struct refused {
	const char *text;
	size_t len;
	const char *what;
};

static void check_refused(const struct refused *cases, size_t ncases)
{
	uint8_t buf[64];
	size_t n;

	for (size_t i = 0; i < ncases; i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);

		AC_CHECK(ac_base32_decode(cases[i].text, len, buf, sizeof(buf), &n) ==
			     AC_EMALFORMED,
			 cases[i].what);
	}
}

/* RFC 4648 section 10, without padding, in upper and lower case. */
static void check_rfc4648(void)
{
	static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *enc[] = {
		"", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"
	};
	uint8_t buf[64];
	char text[512];
	size_t n;

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		int r = ac_base32_encode((const uint8_t *)plain[i], strlen(plain[i]), text,
					 sizeof(text));

		AC_CHECK(r == (int)strlen(enc[i]) && strcmp(text, enc[i]) == 0, "rfc 4648 encode");
		AC_CHECK(dec(enc[i], buf, sizeof(buf), &n) == 0 && n == strlen(plain[i]) &&
			     memcmp(buf, plain[i], n) == 0,
			 "rfc 4648 decode");
		for (size_t j = 0; text[j]; j++)
			text[j] = (char)(text[j] >= 'A' && text[j] <= 'Z' ? text[j] + 32 : text[j]);
		AC_CHECK(dec(text, buf, sizeof(buf), &n) == 0 && n == strlen(plain[i]) &&
			     memcmp(buf, plain[i], n) == 0,
			 "lower case decodes");
	}
}

/* Every length 0..255 of every byte value round-trips. */
static void check_round_trip(void)
{
	uint8_t all[256];
	uint8_t back[256];
	char text[512];
	size_t n;
	int ok = 1;

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(all); len++) {
		int r = ac_base32_encode(all, len, text, sizeof(text));

		if (r != (int)AC_BASE32_ENCLEN(len) ||
		    ac_base32_decode(text, (size_t)r, back, sizeof(back), &n) != 0 || n != len ||
		    memcmp(back, all, len) != 0)
			ok = 0;
	}
	AC_CHECK(ok, "round trip of lengths 0..256");
}

/* Lengths no encoder writes, and non-zero trailing bits. */
static void check_lengths(void)
{
	/* "MZ" is 'f' (0x66) plus 2 bits 10; canonical is "MY". */
	static const struct refused cases[] = {
		{ "MZX", 0, "3 chars refused" },
		{ "MZXW6Y", 0, "6 chars refused" },
		{ "MZXW6YTBM", 0, "9 chars refused" },
		{ "MZ", 0, "trailing bits of 1 byte" },
		{ "MZXR", 0, "trailing bits of 2 bytes" },
		{ "MZXW7", 0, "trailing bits of 3 bytes" },
		{ "MZXW6YR", 0, "trailing bits of 4 bytes" },
		{ "MZXW6YTBOJ", 0, "trailing bits of 6 bytes" },
	};
	uint8_t buf[64];
	size_t n;

	AC_CHECK(dec("M", buf, sizeof(buf), &n) == AC_EMALFORMED && n == 0, "1 char refused");
	check_refused(cases, sizeof(cases) / sizeof(cases[0]));
	/* 5 bytes fill 8 characters exactly: no trailing bits to check. */
	AC_CHECK(dec("77777777", buf, sizeof(buf), &n) == 0 && n == 5 &&
		     memcmp(buf, "\xff\xff\xff\xff\xff", 5) == 0,
		 "5 bytes of 0xff");
	AC_CHECK(dec("AAAAAAAA", buf, sizeof(buf), &n) == 0 && n == 5 &&
		     memcmp(buf, "\0\0\0\0\0", 5) == 0,
		 "5 zero bytes");
}

/* Characters outside the alphabet, anywhere. */
static void check_alphabet(void)
{
	static const struct refused cases[] = {
		{ "MY======", 0, "padding refused" }, { "MZXQ====", 0, "padding refused (2)" },
		{ "MZ XQ", 0, "space refused" },      { "MZXQ\0AAA", 8, "NUL refused" },
		{ "MZXQ\n", 0, "newline refused" },   { "0O1I", 0, "0 and 1 refused" },
	};
	uint8_t buf[64];
	size_t n;
	int ok = 1;

	for (int c = 0; c < 256; c++) {
		char s[9] = "MZXW6YTB";
		int valid =
		    (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');

		for (int pos = 0; pos < 8; pos++) {
			int r;

			memcpy(s, "MZXW6YTB", 8);
			s[pos] = (char)c;
			r = ac_base32_decode(s, 8, buf, sizeof(buf), &n);
			if (valid ? r != 0 : r != AC_EMALFORMED)
				ok = 0;
		}
	}
	AC_CHECK(ok, "exactly the 58 alphabet characters are accepted");
	check_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static void check_buffers(void)
{
	uint8_t buf[64];
	char text[512];
	size_t n;

	AC_CHECK(dec("MZXW6YTBOI", buf, 5, &n) == AC_ETOOBIG, "decode into a short buffer");
	AC_CHECK(dec("MZXW6YTBOI", buf, 6, &n) == 0 && n == 6, "decode into an exact buffer");
	AC_CHECK(ac_base32_encode((const uint8_t *)"foobar", 6, text, 10) == AC_ETOOBIG &&
		     text[0] == '\0',
		 "encode without room for the NUL");
	AC_CHECK(ac_base32_encode((const uint8_t *)"foobar", 6, text, 11) == 10,
		 "encode into an exact buffer");
	AC_CHECK(ac_base32_encode(NULL, 0, text, 1) == 0 && text[0] == '\0', "encode nothing");
	AC_CHECK(ac_base32_encode((const uint8_t *)"f", 1, NULL, 0) == AC_ETOOBIG,
		 "encode with no buffer");
	AC_CHECK(ac_base32_decode("", 0, NULL, 0, &n) == 0 && n == 0, "decode nothing");
}

int main(void)
{
	check_rfc4648();
	check_round_trip();
	check_lengths();
	check_alphabet();
	check_buffers();
	return ac_test_done();
}
