/*
 * HTTP for agricertd: libh2o on the agricertd loop. This is the only module
 * that includes h2o. It accepts connections, copies what a handler needs out
 * of each request into an ac_req, calls the application's router, and sends
 * responses with a content length (never chunked), one log line per request.
 *
 * An ac_req is reference counted. The connection holds one reference until
 * h2o disposes the request (the response went out, or the client left); any
 * asynchronous work (database, thread pool, CUPS) must hold its own with
 * ac_req_ref() and drop it with ac_req_unref() when it ends. Responding after
 * the client has left is allowed and does nothing but log.
 *
 * Loop thread only.
 */
#ifndef AC_HTTP_H
#define AC_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct ac_http ac_http;
typedef struct ac_req ac_req;

struct ac_req {
	ac_http *http;
	void *app; /* the application given to ac_http_new */
	uint64_t id;
	char id_str[17]; /* request id, hex, also sent as X-Request-Id */
	uint64_t start_ns;
	int refs;
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
	char peer[64];		      /* client address */
	void *handler_data;	      /* free for the handler's use */
	void (*handler_free)(void *); /* called on handler_data when the request is freed */
};

/*
 * Routes a request: returns 0 when the application handles it (it responds,
 * now or later), or -1 to fall through to the static files.
 */
typedef int (*ac_http_router)(ac_req *r);

typedef struct ac_http_opts {
	const char *host;
	int port;
	const char *web_dir; /* static files under /, or NULL */
	size_t max_body;     /* requests with a larger body get 413 */
	ac_http_router router;
	void *app;
} ac_http_opts;

int ac_http_new(uv_loop_t *loop, const ac_http_opts *opts, ac_http **out);

/* Requests whose response has not yet gone out (or been abandoned). */
int ac_http_active(const ac_http *http);

/* Stops accepting and asks h2o to close idle connections. */
void ac_http_stop_accepting(ac_http *http);

/* Frees everything; the loop must have no more requests in flight. */
void ac_http_close(ac_http *http, void (*cb)(void *), void *data);

void ac_req_ref(ac_req *r);
void ac_req_unref(ac_req *r);

/* Responses. Each copies body; json is stolen. Only the first response counts. */
void ac_req_respond(ac_req *r, int status, const char *content_type, const char *body, size_t len);
void ac_req_json(ac_req *r, int status, json_t *json);
/* {"error": {"code", "message", "message_zh"}} */
void ac_req_error(ac_req *r, int status, const char *code, const char *message,
		  const char *message_zh);

/* The same with the request field it is about: {"error": {..., "field"}}. */
void ac_req_error_field(ac_req *r, int status, const char *code, const char *field,
			const char *message, const char *message_zh);
/* 503 "unavailable": the database could not be reached; nothing was changed. */
void ac_req_unavailable(ac_req *r);
/* Parses the body as a JSON object; on failure answers 400 invalid_json and
 * returns NULL. The caller owns the result. */
json_t *ac_req_body_object(ac_req *r);

/* Returns a query parameter, decoded, in buf; NULL if absent. */
const char *ac_req_query_param(const ac_req *r, const char *name, char *buf, size_t bufsz);

/* Whether the client prefers JSON to HTML (Accept header). */
int ac_req_wants_json(const ac_req *r);

uint64_t ac_now_ns(void);

#endif
