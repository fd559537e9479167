#include <string.h>

#include "ac_url.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ac_url_decode(char *s, int plus_is_space)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		if (*s == '%') {
			int h = hexval((unsigned char)s[1]);
			int l = h < 0 ? -1 : hexval((unsigned char)s[2]);

			if (l < 0 || (h == 0 && l == 0))
				return -1;
			*o++ = (char)(h * 16 + l);
			s += 2;
		} else if (*s == '+' && plus_is_space) {
			*o++ = ' ';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

int ac_url_query_param(const char *query, const char *name, char *buf, size_t bufsz)
{
	size_t nlen = strlen(name);
	const char *p = query;

	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);

		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t vlen = len - nlen - 1;

			if (vlen >= bufsz)
				return -1;
			memcpy(buf, p + nlen + 1, vlen);
			buf[vlen] = '\0';
			return ac_url_decode(buf, 1) == 0 ? 1 : -1;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}
