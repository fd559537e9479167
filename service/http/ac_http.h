/*
 * HTTP for agricertd: libh2o on the agricertd loop. This is the only module
 * that includes h2o. It accepts connections, copies what a handler needs out
 * of each request into an ac_req, hands it to the router (ac_handler.h), and
 * sends responses with a content length (never chunked), one log line per
 * request (static files and h2o's own answers too: ac_http_early.c, which
 * also turns every error h2o would send by itself into the JSON error).
 *
 * An ac_req is reference counted. The connection holds one reference until
 * h2o disposes the request (the response went out, or the client left); any
 * asynchronous work must hold its own (ac_handler.h does that for queries,
 * thread-pool work and waits). The request's memory pool (ac_req_alloc) and
 * everything deferred to it live until the last reference is dropped.
 * Responding after the client has left is allowed and does nothing but log.
 *
 * Loop thread only.
 */
#ifndef AC_HTTP_H
#define AC_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ac_addr.h"
#include "ac_arena.h"
#include "ac_buf.h"
#include "ac_db.h"
#include "ac_perm.h"
#include "ac_router.h"

typedef struct ac_http ac_http;
typedef struct ac_auth ac_auth;

/* A step of a handler: the result of the query it waited for. */
typedef void (*ac_step)(ac_req *r, const ac_db_result *res);

struct ac_req {
	ac_http *http;
	void *app; /* the application given to ac_http_new */
	uint64_t id;
	char id_str[24]; /* request id, hex, also sent as X-Request-Id */
	uint64_t start_ns;
	int refs;
	int pending; /* queries, work and waits under way (ac_handler.h) */
	int responded;
	int gone; /* the client has left */
	char method[8];
	char *path;  /* decoded path without the query, NUL-terminated */
	char *query; /* raw query string without '?', or NULL */
	char *body;  /* request body, NUL-terminated, or NULL */
	size_t body_len;
	char *authorization; /* header values, or NULL */
	char *idempotency_key;
	char *accept;
	char *content_type;
	char peer[64]; /* client address (behind a trusted proxy: X-Forwarded-For's, ac_addr.h) */
	int forwarded; /* the request came with X-Forwarded-For (through a proxy) */
	ac_arena pool; /* freed with the request: see ac_req_alloc */
	/* Set by the router before the handler runs. */
	const ac_route *route;
	const char *param[AC_ROUTE_MAX_PARAMS]; /* the route's {parameters}, decoded */
	const ac_principal *who;		/* the caller, or NULL when anonymous */
	void *ctx;				/* the handler's own context (pool memory) */
	/* The handler helper's (ac_handler.h). */
	ac_step next;
	int (*on_db_error)(ac_req *r, const char *sqlstate, const char *msg);
};

typedef struct ac_http_opts {
	const char *host;
	int port;
	const char *web_dir;		     /* static files under /, or NULL */
	size_t max_body;		     /* the body limit of routes without their own (413) */
	const ac_netlist *trusted_proxies;   /* whose X-Forwarded-For counts; borrowed, or NULL */
	const ac_route_table *const *routes; /* NULL-terminated */
	ac_auth *auth;			     /* bearer tokens, borrowed */
	ac_db *db;			     /* for handlers' queries, borrowed */
	ac_db *db_read; /* for reads that tolerate lag (a replica), borrowed; NULL: db */
	void *app;
} ac_http_opts;

/*
 * Listens on host:port. Returns 0, or a negative code (UV_EADDRINUSE...):
 * either way *out is a server the caller closes and frees.
 */
int ac_http_new(uv_loop_t *loop, const ac_http_opts *opts, ac_http **out);

/* Requests whose response has not yet gone out (or been abandoned). */
int ac_http_active(const ac_http *http);
/* Requests not yet freed: answered or not, with work still under way. */
int ac_http_live(const ac_http *http);

/* Appends the server's metrics (ac_metrics.h) to b: requests by route and
 * status, their latency, requests in flight, requests refused early. */
void ac_http_metrics(const ac_http *http, ac_buf *b);

/* Stops accepting; connections end after their response (no keep-alive). */
void ac_http_stop_accepting(ac_http *http);

/*
 * Closes every connection (idle ones at once, busy ones after their
 * response) and the listener, then calls cb. Requests still holding
 * references must be answered meanwhile (closing the database does that).
 */
void ac_http_close(ac_http *http, void (*cb)(void *data), void *data);

/*
 * Frees a closed server. h2o runs the loop once to close its own handles:
 * call this after uv_run has returned, never from a callback. NULL is fine.
 */
void ac_http_free(ac_http *http);

void ac_req_ref(ac_req *r);
void ac_req_unref(ac_req *r);

/* Sends a response. Copies body. Only the first response counts. */
void ac_req_respond(ac_req *r, int status, const char *content_type, const char *body, size_t len);

/* Memory that lives as long as the request; zeroed; NULL when out of memory. */
void *ac_req_alloc(ac_req *r, size_t size);
#define ac_req_new(r, type) ((type *)ac_req_alloc((r), sizeof(type)))
char *ac_req_strdup(ac_req *r, const char *s);
/* Runs fn(arg) when the request is freed (see ac_arena_defer). */
int ac_req_defer(ac_req *r, void (*fn)(void *), void *arg);

#endif
