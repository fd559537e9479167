#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ac_addr.h"
#include "ac_error.h"

static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void set_v6(ac_addr *out, const unsigned char bytes[16])
{
	memset(out, 0, sizeof(*out));
	if (memcmp(bytes, v4_mapped, sizeof(v4_mapped)) == 0) {
		out->family = AF_INET;
		memcpy(out->bytes, bytes + 12, 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->bytes, bytes, 16);
	}
}

/* Strips "[...]" with an optional ":port" after it, or ":port" after an IPv4 address. */
static void strip_port(const char **s, size_t *len)
{
	const char *close;
	const char *colon;

	if (*len > 0 && **s == '[') {
		close = memchr(*s, ']', *len);
		if (close != NULL) {
			*len = (size_t)(close - *s - 1);
			(*s)++;
		}
		return;
	}
	colon = memchr(*s, ':', *len);
	if (colon != NULL && memchr(colon + 1, ':', *len - (size_t)(colon - *s) - 1) == NULL &&
	    memchr(*s, '.', (size_t)(colon - *s)) != NULL)
		*len = (size_t)(colon - *s);
}

int ac_addr_parse(const char *s, size_t len, ac_addr *out)
{
	unsigned char bytes[16];
	char text[AC_ADDR_STRLEN];

	memset(out, 0, sizeof(*out));
	strip_port(&s, &len);
	if (len == 0 || len >= sizeof(text))
		return AC_EMALFORMED;
	memcpy(text, s, len);
	text[len] = '\0';
	if (inet_pton(AF_INET, text, bytes) == 1) {
		out->family = AF_INET;
		memcpy(out->bytes, bytes, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, bytes) == 1) {
		set_v6(out, bytes);
		return 0;
	}
	return AC_EMALFORMED;
}

int ac_addr_from_sockaddr(const struct sockaddr *sa, ac_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		out->family = AF_INET;
		memcpy(out->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		set_v6(out, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
		return 0;
	}
	return AC_EMALFORMED;
}

void ac_addr_format(const ac_addr *a, char *out, size_t outsz)
{
	char text[AC_ADDR_STRLEN] = "-";

	if (a->family == AF_INET || a->family == AF_INET6)
		inet_ntop(a->family, a->bytes, text, sizeof(text));
	snprintf(out, outsz, "%s", text);
}

/* One entry "ADDR[/BITS]" of len bytes. */
static int parse_net(const char *s, size_t len, ac_net *out)
{
	const char *slash = memchr(s, '/', len);
	int max;
	int bits = 0;

	if (ac_addr_parse(s, slash != NULL ? (size_t)(slash - s) : len, &out->addr) != 0)
		return AC_EMALFORMED;
	max = out->addr.family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		out->bits = max;
		return 0;
	}
	if (slash + 1 == s + len || len - (size_t)(slash - s) > 4)
		return AC_EMALFORMED;
	for (const char *p = slash + 1; p < s + len; p++) {
		if (*p < '0' || *p > '9')
			return AC_EMALFORMED;
		bits = bits * 10 + (*p - '0');
	}
	/* "::ffff:10.0.0.0/104" is held as IPv4: count its bits as IPv4's. */
	if (out->addr.family == AF_INET && memchr(s, ':', (size_t)(slash - s)) != NULL)
		bits -= 96;
	if (bits < 0 || bits > max)
		return AC_EMALFORMED;
	out->bits = bits;
	return 0;
}

int ac_netlist_parse(const char *s, ac_netlist *out, char *why, size_t whysz)
{
	static const char sep[] = ", \t";

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	for (s += strspn(s, sep); *s != '\0'; s += strspn(s, sep)) {
		size_t len = strcspn(s, sep);

		if (out->n == AC_ADDR_MAX_NETS) {
			snprintf(why, whysz, "trusted_proxies: more than %d entries",
				 AC_ADDR_MAX_NETS);
			return AC_ECONFIG;
		}
		if (parse_net(s, len, &out->nets[out->n]) != 0) {
			snprintf(why, whysz,
				 "trusted_proxies: \"%.*s\" is not an IP address or network "
				 "(ADDRESS or ADDRESS/BITS)",
				 (int)(len > 64 ? 64 : len), s);
			return AC_ECONFIG;
		}
		out->n++;
		s += len;
	}
	return 0;
}

static int net_contains(const ac_net *net, const ac_addr *a)
{
	int full = net->bits / 8;
	int rest = net->bits % 8;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));

	if (net->addr.family != a->family || memcmp(net->addr.bytes, a->bytes, (size_t)full) != 0)
		return 0;
	return rest == 0 || ((net->addr.bytes[full] ^ a->bytes[full]) & mask) == 0;
}

int ac_netlist_contains(const ac_netlist *list, const ac_addr *a)
{
	for (int i = 0; list != NULL && i < list->n; i++) {
		if (net_contains(&list->nets[i], a))
			return 1;
	}
	return 0;
}

void ac_addr_client(const ac_netlist *trusted, const ac_addr *peer, const char *forwarded_for,
		    ac_addr *client)
{
	const char *end;

	*client = *peer;
	if (forwarded_for == NULL || !ac_netlist_contains(trusted, peer))
		return;
	end = forwarded_for + strlen(forwarded_for);
	for (;;) {
		const char *start = end;
		const char *e = end;
		ac_addr hop;

		while (start > forwarded_for && start[-1] != ',')
			start--;
		while (start < e && (*start == ' ' || *start == '\t'))
			start++;
		while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (ac_addr_parse(start, (size_t)(e - start), &hop) != 0)
			return;
		*client = hop;
		if (!ac_netlist_contains(trusted, &hop))
			return;
		while (start > forwarded_for && start[-1] != ',')
			start--;
		if (start == forwarded_for)
			return;
		end = start - 1;
	}
}
