/*
 * libFuzzer target for what agricertd reads from a request line before any
 * handler runs: "METHOD PATH[?QUERY]" as the input. The path is
 * percent-decoded (ac_url_decode) and routed (ac_router_match) over a table
 * with every parameter kind; a few query parameters are read
 * (ac_url_query_param). Properties checked (abort on failure): decoding
 * never lengthens the text, a parameter a match reports lies inside the path
 * and is of its kind's characters, and a query value read is NUL-terminated
 * within the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ac_router.h"
#include "ac_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void handler(ac_req *r)
{
}

static const ac_route routes[] = {
	AC_ROUTE("POST", "/api/v1/certificates", handler, .flags = AC_ROUTE_AUTH),
	AC_ROUTE("GET", "/api/v1/certificates/{serial}/trace", handler),
	AC_ROUTE("GET", "/api/v1/print-jobs/{job}", handler),
	AC_ROUTE("PATCH", "/api/v1/subjects/{id}", handler),
	AC_ROUTE("GET", "/api/v1/kiosks/{kiosk}", handler),
	AC_ROUTE("GET", "/api/v1/regions/{region}", handler),
	AC_ROUTE("GET", "/v/{payload}", handler),
};

AC_ROUTE_TABLE(table, routes);

static const ac_route_table *const tables[] = { &table, NULL };

static void check_match(const char *method, const char *path)
{
	ac_route_match m;
	int rc = ac_router_match(tables, method, path, &m);
	size_t len = strlen(path);

	if (rc != AC_ROUTE_FOUND && rc != AC_ROUTE_BAD_PARAM)
		return;
	for (int i = 0; i < m.nparams; i++) {
		if (m.param[i] < path || m.param[i] + m.param_len[i] > path + len)
			abort();
		if (rc == AC_ROUTE_FOUND && strcmp(m.route->pattern, "/v/{payload}") != 0 &&
		    memchr(m.param[i], '/', m.param_len[i]) != NULL)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char *space;
	char *query;
	char buf[64];

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	space = strchr(text, ' ');
	if (space != NULL && space - text < 8) {
		char method[8];
		char *path = space + 1;
		size_t before;

		memcpy(method, text, (size_t)(space - text));
		method[space - text] = '\0';
		query = strchr(path, '?');
		if (query != NULL)
			*query++ = '\0';
		before = strlen(path);
		if (ac_url_decode(path, 0) == 0) {
			if (strlen(path) > before)
				abort();
			check_match(method, path);
		}
		for (int i = 0; query != NULL && i < 3; i++) {
			static const char *const names[] = { "market", "direction", "q" };

			if (ac_url_query_param(query, names[i], buf, sizeof(buf)) == 1 &&
			    memchr(buf, '\0', sizeof(buf)) == NULL)
				abort();
		}
	}
	free(text);
	return 0;
}
