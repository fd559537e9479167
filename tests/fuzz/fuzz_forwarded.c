/*
 * libFuzzer target for the client address behind a proxy (service/base/
 * ac_addr.h): the X-Forwarded-For header comes from anyone. The input is
 * three lines: the trusted_proxies setting, the socket peer, the header.
 * Properties checked (abort on failure): a peer that is not trusted keeps
 * its address whatever the header says; the client found is the peer or an
 * address of the header, and formats within AC_ADDR_STRLEN.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ac_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *list, const char *peer_text, const char *xff)
{
	char why[256];
	char out[AC_ADDR_STRLEN + 8];
	ac_netlist trusted;
	ac_addr peer;
	ac_addr client;

	if (ac_netlist_parse(list, &trusted, why, sizeof(why)) != 0) {
		if (memchr(why, '\0', sizeof(why)) == NULL)
			abort();
		return;
	}
	if (ac_addr_parse(peer_text, strlen(peer_text), &peer) != 0)
		return;
	ac_addr_client(&trusted, &peer, xff, &client);
	if (!ac_netlist_contains(&trusted, &peer) && memcmp(&client, &peer, sizeof(peer)) != 0)
		abort();
	if (client.family != AF_INET && client.family != AF_INET6)
		abort();
	memset(out, 'x', sizeof(out));
	ac_addr_format(&client, out, sizeof(out));
	if (memchr(out, '\0', AC_ADDR_STRLEN) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char *peer;
	char *xff;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	peer = strchr(text, '\n');
	xff = peer != NULL ? strchr(peer + 1, '\n') : NULL;
	if (xff != NULL) {
		*peer++ = '\0';
		*xff++ = '\0';
		check(text, peer, xff);
	}
	free(text);
	return 0;
}
