/* RFC 4648 vectors and every way a base32 text can be wrong. */
#include <string.h>

#include "ac_base32.h"
#include "ac_error.h"
#include "ac_test.h"

static int dec(const char *s, uint8_t *out, size_t outsz, size_t *n)
{
	return ac_base32_decode(s, strlen(s), out, outsz, n);
}

int main(void)
{
	/* RFC 4648 section 10, without padding. */
	static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *enc[] = {
		"", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"
	};
	uint8_t buf[64];
	uint8_t all[256];
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

	/* Every length 0..255 of every byte value round-trips. */
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)(i * 37 + 11);
	{
		int ok = 1;
		uint8_t back[256];

		for (size_t len = 0; len <= sizeof(all); len++) {
			int r = ac_base32_encode(all, len, text, sizeof(text));

			if (r != (int)AC_BASE32_ENCLEN(len) ||
			    ac_base32_decode(text, (size_t)r, back, sizeof(back), &n) != 0 ||
			    n != len || memcmp(back, all, len) != 0)
				ok = 0;
		}
		AC_CHECK(ok, "round trip of lengths 0..256");
	}

	/* Lengths no encoder writes. */
	AC_CHECK(dec("M", buf, sizeof(buf), &n) == AC_EMALFORMED && n == 0, "1 char refused");
	AC_CHECK(dec("MZX", buf, sizeof(buf), &n) == AC_EMALFORMED, "3 chars refused");
	AC_CHECK(dec("MZXW6Y", buf, sizeof(buf), &n) == AC_EMALFORMED, "6 chars refused");
	AC_CHECK(dec("MZXW6YTBM", buf, sizeof(buf), &n) == AC_EMALFORMED, "9 chars refused");

	/* Non-zero trailing bits: "MZ" is 'f' (0x66) plus 2 bits 10; canonical is "MY". */
	AC_CHECK(dec("MZ", buf, sizeof(buf), &n) == AC_EMALFORMED, "trailing bits of 1 byte");
	AC_CHECK(dec("MZXR", buf, sizeof(buf), &n) == AC_EMALFORMED, "trailing bits of 2 bytes");
	AC_CHECK(dec("MZXW7", buf, sizeof(buf), &n) == AC_EMALFORMED, "trailing bits of 3 bytes");
	AC_CHECK(dec("MZXW6YR", buf, sizeof(buf), &n) == AC_EMALFORMED, "trailing bits of 4 bytes");
	AC_CHECK(dec("MZXW6YTBOJ", buf, sizeof(buf), &n) == AC_EMALFORMED,
		 "trailing bits of 6 bytes");
	/* 5 bytes fill 8 characters exactly: no trailing bits to check. */
	AC_CHECK(dec("77777777", buf, sizeof(buf), &n) == 0 && n == 5 &&
		     memcmp(buf, "\xff\xff\xff\xff\xff", 5) == 0,
		 "5 bytes of 0xff");
	AC_CHECK(dec("AAAAAAAA", buf, sizeof(buf), &n) == 0 && n == 5 &&
		     memcmp(buf, "\0\0\0\0\0", 5) == 0,
		 "5 zero bytes");

	/* Characters outside the alphabet, anywhere. */
	{
		int ok = 1;

		for (int c = 0; c < 256; c++) {
			char s[9] = "MZXW6YTB";
			int valid = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				    (c >= '2' && c <= '7');

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
	}
	AC_CHECK(dec("MY======", buf, sizeof(buf), &n) == AC_EMALFORMED, "padding refused");
	AC_CHECK(dec("MZXQ====", buf, sizeof(buf), &n) == AC_EMALFORMED, "padding refused (2)");
	AC_CHECK(dec("MZ XQ", buf, sizeof(buf), &n) == AC_EMALFORMED, "space refused");
	AC_CHECK(ac_base32_decode("MZXQ\0AAA", 8, buf, sizeof(buf), &n) == AC_EMALFORMED,
		 "NUL refused");
	AC_CHECK(dec("MZXQ\n", buf, sizeof(buf), &n) == AC_EMALFORMED, "newline refused");
	AC_CHECK(dec("0O1I", buf, sizeof(buf), &n) == AC_EMALFORMED, "0 and 1 refused");

	/* Buffer sizes. */
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
	return ac_test_done();
}
