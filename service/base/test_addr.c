/* Addresses, trusted proxy lists, and the client behind X-Forwarded-For. */
#include <netinet/in.h>
#include <string.h>

#include "ac_addr.h"
#include "ac_test.h"

static const char *text(const ac_addr *a, char *buf, size_t size)
{
	ac_addr_format(a, buf, size);
	return buf;
}

static int parses_to(const char *s, const char *want)
{
	char buf[AC_ADDR_STRLEN];
	ac_addr a;

	return ac_addr_parse(s, strlen(s), &a) == 0 &&
	       strcmp(text(&a, buf, sizeof(buf)), want) == 0;
}

static void check_parse(void)
{
	ac_addr a;

	AC_CHECK(parses_to("192.0.2.1", "192.0.2.1"), "an IPv4 address");
	AC_CHECK(parses_to("2001:DB8:0::1", "2001:db8::1"), "an IPv6 address, canonical");
	AC_CHECK(parses_to("::ffff:192.0.2.1", "192.0.2.1"), "IPv4-mapped is IPv4");
	AC_CHECK(parses_to("[2001:db8::1]:443", "2001:db8::1"), "brackets and a port");
	AC_CHECK(parses_to("192.0.2.1:8080", "192.0.2.1"), "IPv4 with a port");
	AC_CHECK(ac_addr_parse("", 0, &a) != 0, "empty is not an address");
	AC_CHECK(ac_addr_parse("unknown", 7, &a) != 0, "a word is not");
	AC_CHECK(ac_addr_parse("192.0.2.256", 11, &a) != 0, "an octet over 255 is not");
	AC_CHECK(ac_addr_parse("[::1", 4, &a) != 0, "an unclosed bracket is not");
	AC_CHECK(ac_addr_parse("192.0.2.1", 5, &a) != 0, "only len bytes count");
}

static void check_list(void)
{
	ac_netlist l;
	ac_addr a;
	char why[256];

	AC_CHECK(ac_netlist_parse("", &l, why, sizeof(why)) == 0 && l.n == 0, "empty: none");
	AC_CHECK(ac_netlist_parse("127.0.0.1, ::1 10.0.0.0/8,fd00::/8", &l, why, sizeof(why)) ==
			 0 &&
		     l.n == 4,
		 "commas and spaces separate entries");
	ac_addr_parse("10.200.3.4", 10, &a);
	AC_CHECK(ac_netlist_contains(&l, &a), "an address in a network is in the list");
	ac_addr_parse("11.0.0.1", 8, &a);
	AC_CHECK(!ac_netlist_contains(&l, &a), "one outside every network is not");
	ac_addr_parse("::ffff:127.0.0.1", 16, &a);
	AC_CHECK(ac_netlist_contains(&l, &a), "IPv4-mapped 127.0.0.1 matches 127.0.0.1");
	ac_addr_parse("fdab::1", 7, &a);
	AC_CHECK(ac_netlist_contains(&l, &a), "an IPv6 network");
	AC_CHECK(ac_netlist_parse("127.0.0.1, localhost", &l, why, sizeof(why)) != 0 &&
		     strstr(why, "\"localhost\"") != NULL,
		 "a name is refused, and named");
	AC_CHECK(ac_netlist_parse("10.0.0.0/33", &l, why, sizeof(why)) != 0, "/33 is too long");
	AC_CHECK(ac_netlist_parse("10.0.0.0/", &l, why, sizeof(why)) != 0, "a bare slash");
	AC_CHECK(ac_netlist_parse("10.0.0.0/8x", &l, why, sizeof(why)) != 0, "bits are digits");
	AC_CHECK(ac_netlist_parse("10.1.0.0/12", &l, why, sizeof(why)) == 0, "/12 is fine");
	ac_addr_parse("10.15.255.255", 13, &a);
	AC_CHECK(ac_netlist_contains(&l, &a), "a prefix that ends inside a byte");
	ac_addr_parse("10.16.0.0", 9, &a);
	AC_CHECK(!ac_netlist_contains(&l, &a), "and its first address outside");
}

/* Peers, headers and the client found, under trusted "127.0.0.1, 10.0.0.0/8". */
static const struct {
	const char *peer;
	const char *xff; /* NULL: no header */
	const char *want;
	const char *what;
} clients[] = {
	{ "192.0.2.7", "198.51.100.1", "192.0.2.7", "the header of an untrusted peer is ignored" },
	{ "127.0.0.1", NULL, "127.0.0.1", "a trusted peer without the header" },
	{ "127.0.0.1", "198.51.100.1", "198.51.100.1", "a trusted proxy's client" },
	{ "127.0.0.1", "203.0.113.9, 198.51.100.1", "198.51.100.1",
	  "the rightmost untrusted address: what the client wrote is not believed" },
	{ "127.0.0.1", "203.0.113.9, 198.51.100.1, 10.1.2.3", "198.51.100.1",
	  "through two trusted proxies" },
	{ "127.0.0.1", "10.1.2.3,127.0.0.1", "10.1.2.3", "all trusted: the leftmost" },
	{ "127.0.0.1", "198.51.100.1, junk", "127.0.0.1", "junk written by the proxy: the proxy" },
	{ "127.0.0.1", "junk ,  198.51.100.1  ", "198.51.100.1",
	  "junk left of the client does not matter; spaces are trimmed" },
	{ "127.0.0.1", "198.51.100.1,", "127.0.0.1", "an empty last entry" },
	{ "127.0.0.1", "", "127.0.0.1", "an empty header" },
	{ "127.0.0.1", "[2001:db8::5]:1234", "2001:db8::5", "an IPv6 client in brackets" },
};

static void check_client(void)
{
	char why[128];
	char buf[AC_ADDR_STRLEN];
	ac_netlist trusted;

	ac_netlist_parse("127.0.0.1, 10.0.0.0/8", &trusted, why, sizeof(why));
	for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++) {
		ac_addr peer;
		ac_addr client;

		ac_addr_parse(clients[i].peer, strlen(clients[i].peer), &peer);
		ac_addr_client(&trusted, &peer, clients[i].xff, &client);
		AC_CHECK(strcmp(text(&client, buf, sizeof(buf)), clients[i].want) == 0,
			 clients[i].what);
	}
}

int main(void)
{
	check_parse();
	check_list();
	check_client();
	return ac_test_done();
}
