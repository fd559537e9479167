/*
 * Client addresses behind a reverse proxy. agricertd runs behind nginx
 * (deploy/nginx/agricert.conf), so the socket's peer is the proxy; the
 * client is in the X-Forwarded-For header the proxy appends to. The header
 * is believed only when the peer is a configured trusted proxy
 * (`trusted_proxies`, none by default), and then only as far back as the
 * chain of trusted proxies goes: the client is the rightmost address that is
 * not a trusted proxy, since everything left of it came from the client and
 * may be forged.
 *
 * Addresses are plain values (no allocation); IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d) are held as IPv4, so that 127.0.0.1 matches either way.
 * Pure: no I/O, any thread.
 */
#ifndef AC_ADDR_H
#define AC_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#define AC_ADDR_MAX_NETS 32
#define AC_ADDR_STRLEN	 46 /* INET6_ADDRSTRLEN */

typedef struct ac_addr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char bytes[16];
} ac_addr;

/* An address with a prefix length: a network, or one host at full length. */
typedef struct ac_net {
	ac_addr addr;
	int bits;
} ac_net;

typedef struct ac_netlist {
	ac_net nets[AC_ADDR_MAX_NETS];
	int n;
} ac_netlist;

/*
 * Parses len bytes of s: an IPv4 or IPv6 address, optionally in brackets
 * and with a port ("[2001:db8::1]:443", "192.0.2.1:8080"), as some proxies
 * write them. Returns 0, or AC_EMALFORMED.
 */
int ac_addr_parse(const char *s, size_t len, ac_addr *out);

/* The address of an AF_INET or AF_INET6 socket address; 0 or AC_EMALFORMED. */
int ac_addr_from_sockaddr(const struct sockaddr *sa, ac_addr *out);

/* Writes a in its canonical text form (at most AC_ADDR_STRLEN bytes with the NUL). */
void ac_addr_format(const ac_addr *a, char *out, size_t outsz);

/*
 * Parses a list "ADDR[/BITS], ..." (commas or spaces between; empty: no
 * entry). Returns 0, or AC_ECONFIG with why saying which entry is wrong.
 */
int ac_netlist_parse(const char *s, ac_netlist *out, char *why, size_t whysz);

/* Whether a is in one of the list's networks. */
int ac_netlist_contains(const ac_netlist *list, const ac_addr *a);

/*
 * The client of a request whose socket peer is peer and whose
 * X-Forwarded-For header (every header line joined with commas) is
 * forwarded_for, or NULL: peer itself unless peer is trusted; else, walking
 * the header from the right, the first address that is not trusted (or the
 * leftmost when all are). An entry that is not an address ends the walk at
 * the hop that wrote it.
 */
void ac_addr_client(const ac_netlist *trusted, const ac_addr *peer, const char *forwarded_for,
		    ac_addr *client);

#endif
