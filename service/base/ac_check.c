#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ac_check.h"

int ac_check_chars(const char *s)
{
	int n = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f)
			return -1;
		if ((ch & 0xc0) != 0x80)
			n++;
	}
	return n;
}

int ac_check_region_code(const char *s, int64_t *out)
{
	int province;

	if (strlen(s) != 12 || strspn(s, "0123456789") != 12)
		return -1;
	province = (s[0] - '0') * 10 + (s[1] - '0');
	if (province < 11 || province > 82)
		return -1;
	*out = strtoll(s, NULL, 10);
	return 0;
}

int ac_check_credit_code(const char *s)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	static const int weights[17] = { 1,  3,	 9,  27, 19, 26, 16, 17, 20,
					 29, 25, 13, 8,	 24, 10, 30, 28 };
	int sum = 0;

	if (strlen(s) != 18)
		return 0;
	for (int i = 0; i < 18; i++) {
		const char *p = strchr(alphabet, s[i]);

		if (p == NULL)
			return 0;
		if (i < 17)
			sum += (int)(p - alphabet) * weights[i];
	}
	return s[17] == alphabet[(31 - sum % 31) % 31];
}

int ac_check_id_number(const char *s)
{
	static const int weights[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	static const char checks[] = "10X98765432";
	int sum = 0;

	if (strlen(s) != 18 || strspn(s, "0123456789") < 17)
		return 0;
	for (int i = 0; i < 17; i++)
		sum += (s[i] - '0') * weights[i];
	return s[17] == checks[sum % 11];
}

int ac_check_contact(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 20 && strspn(s, "0123456789+-() ") == n && strspn(s, "+-() ") < n;
}

int ac_check_mobile(const char *s)
{
	return s != NULL && strlen(s) == 11 && strspn(s, "0123456789") == 11 && s[0] == '1';
}

int ac_check_pin(const char *s)
{
	int same = 1, up = 1, down = 1;

	if (s == NULL || strlen(s) != 6 || strspn(s, "0123456789") != 6)
		return 0;
	for (int i = 1; i < 6; i++) {
		same &= s[i] == s[0];
		up &= s[i] == s[i - 1] + 1;
		down &= s[i] == s[i - 1] - 1;
	}
	return !same && !up && !down;
}

int ac_check_date(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = s ? strptime(s, "%Y-%m-%d", &tm) : NULL;
	return end != NULL && *end == '\0' && strlen(s) == 10;
}

/* The length of the UTF-8 sequence starting at s, or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
	size_t n = s[0] < 0x80			 ? 1
		   : s[0] >= 0xc2 && s[0] < 0xe0 ? 2
		   : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
		   : s[0] >= 0xf0 && s[0] < 0xf5 ? 4
						 : 0;

	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	/* Overlong three-byte forms and UTF-16 surrogates. */
	if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
		return 0;
	/* Overlong four-byte forms and code points above U+10FFFF. */
	if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return n;
}

int ac_check_text(const char *s, size_t max_bytes)
{
	size_t len = strlen(s);

	if (len == 0 || len > max_bytes)
		return 0;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq((const unsigned char *)s + i);

		if (n == 0 || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
		i += n;
	}
	return 1;
}
