/*
 * The one router: method and path pattern to handler, for every route of
 * the service. Each resource file of service/handlers/ declares its routes in
 * a table; the router looks a request up in the list of tables. Pure: no I/O,
 * any thread.
 *
 * A pattern is a path whose segments are literal or a parameter in braces:
 *   /api/v1/certificates/{serial}/trace
 * The parameter's name says what it accepts (anything else is 404 with the
 * words of that kind, before anything else is looked at):
 *   {serial}   a certificate serial: 1 to 15 digits
 *   {id}       a record id: 1 to 9 digits (an int in the database)
 *   {job}      a print job id: 1 to 18 digits
 *   {kiosk}    a kiosk id: 1 to 64 of a-z 0-9 - _
 *   {region}   a 12-digit administrative division code
 *   {payload}  the rest of the path, whatever it holds (a scanned code)
 *
 * GET routes also answer HEAD. A path that some route has but not for this
 * method is 405; a path no route has is 404 (the HTTP layer answers 404 in
 * JSON under /api/ and otherwise lets the static files answer).
 */
#ifndef AC_ROUTER_H
#define AC_ROUTER_H

#include <stddef.h>

#include "ac_perm.h"

typedef struct ac_req ac_req;

#define AC_ROUTE_MAX_PARAMS 2

enum {
	AC_ROUTE_AUTH = 1,	    /* a valid bearer token is required */
	AC_ROUTE_AUTH_OPTIONAL = 2, /* a token, when sent, must be valid */
};

typedef struct ac_route {
	const char *method; /* "GET" also answers HEAD */
	const char *pattern;
	void (*handle)(ac_req *r);
	unsigned flags;
	ac_action act;	  /* with AC_ROUTE_AUTH: the caller's role must allow it */
	const void *data; /* for the handler: r->route->data */
	/* The largest body this route takes, in bytes (a larger one is 413);
	 * 0: the server's max_body (ac_http_opts). */
	size_t max_body;
} ac_route;

typedef struct ac_route_table {
	const ac_route *routes;
	size_t n;
} ac_route_table;

/* A route: AC_ROUTE("GET", "/path/{serial}", handler, .flags = AC_ROUTE_AUTH, ...). */
#define AC_ROUTE(m, p, h, ...)                                                                     \
	{                                                                                          \
		.method = (m), .pattern = (p), .handle = (h), __VA_ARGS__                          \
	}

#define AC_ROUTE_TABLE(name, array)                                                                \
	const ac_route_table name = { array, sizeof(array) / sizeof(array[0]) }

enum {
	AC_ROUTE_FOUND = 0,
	AC_ROUTE_NO_PATH,   /* no route has this path */
	AC_ROUTE_NO_METHOD, /* routes have this path, not with this method */
	AC_ROUTE_BAD_PARAM, /* the route matched, a parameter is not of its kind */
};

typedef struct ac_route_match {
	const ac_route *route;
	/* The parameters in pattern order: pointers into the path, with lengths. */
	const char *param[AC_ROUTE_MAX_PARAMS];
	size_t param_len[AC_ROUTE_MAX_PARAMS];
	int nparams;
	/* For AC_ROUTE_BAD_PARAM: what to say (static strings). */
	const char *not_found_en;
	const char *not_found_zh;
} ac_route_match;

/*
 * Looks method and path (decoded, without the query) up in tables, a
 * NULL-terminated list. Returns one of AC_ROUTE_*; m is filled for FOUND and
 * BAD_PARAM.
 */
int ac_router_match(const ac_route_table *const *tables, const char *method, const char *path,
		    ac_route_match *m);

#endif
