/*
 * The h2o server's own state, shared by ac_http.c (connections, requests,
 * answers) and ac_http_early.c (what h2o answers by itself, static files,
 * and the per-route counts). Not for other modules: h2o stays in http/.
 */
#ifndef AC_HTTP_SERVER_H
#define AC_HTTP_SERVER_H

#include <h2o.h>

#include "ac_http-private.h"
#include "ac_metrics.h"

/* The counts of requests that no route answered (ac_http_count's extra). */
enum { AC_HTTP_UNMATCHED = 1, AC_HTTP_STATIC };

/* Requests per route (or extra slot) by status, and their latency. */
typedef struct ac_http_stat ac_http_stat;

/* A socket's uv handle, counted so that closing can wait for the last one;
 * listed for the check that keeps the request screen in place. */
typedef struct conn_handle conn_handle;
struct conn_handle {
	uv_tcp_t tcp;
	ac_http *http;
	h2o_socket_t *sock;
	conn_handle *prev, *next;
};

struct ac_http {
	uv_loop_t *loop;
	h2o_globalconf_t config;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	h2o_generator_t generator; /* ac_req_respond's: how the filter knows our answers */
	uv_tcp_t listener;
	int listening;
	ac_http_opts opts;
	char *web_dir;
	uint64_t next_id;
	unsigned pid; /* for request ids: getpid() once, not a system call per request */
	int active;   /* requests not yet answered */
	int live;     /* requests not yet freed (answered, with work still under way) */
	int conns;    /* accepted sockets not yet closed */
	int handles;  /* the listener, the close timer and the screen's check, until closed */
	int closing;  /* 1 closing, 2 closed (ac_http_free remains) */
	uv_timer_t close_timer;
	void (*close_cb)(void *);
	void *close_data;
	/* ac_http_early.c's */
	uv_check_t screen_check;
	h2o_socket_cb h2o_read; /* h2o's HTTP/1 read callback, which the screen wraps */
	conn_handle *conn_list;
	ac_http_stat *stats; /* one per route, then the extra slots */
	size_t nroutes;
	uint64_t early[4]; /* requests h2o would have refused itself: 400, 413, 414, 431 */
};

/* The path as it goes into the log: bytes outside printable ASCII escaped. */
void ac_http_log_safe(const char *s, char *out, size_t outsz);

/* The client's address of req in out (behind a trusted proxy the client it
 * names, ac_addr.h); returns whether req came with X-Forwarded-For. */
int ac_http_client(ac_http *http, h2o_req_t *req, char *out, size_t outsz);

/* The counts' memory, from the route tables (0, or -1 out of memory). */
int ac_http_stats_init(ac_http *http);
void ac_http_stats_free(ac_http *http);

/* Counts a response: route, or NULL and extra (AC_HTTP_*). */
void ac_http_count(ac_http *http, const ac_route *route, int extra, int status, double seconds);

/* Set-up (from ac_http_new: 0, or -ENOMEM), a new connection, a closed
 * one, and closing (the check handle: handles-- when closed). */
int ac_http_early_init(ac_http *http, h2o_hostconf_t *host, h2o_pathconf_t *path);
void ac_http_early_watch(ac_http *http, conn_handle *conn, h2o_socket_t *sock);
void ac_http_early_forget(ac_http *http, conn_handle *conn);
void ac_http_early_close(ac_http *http, uv_close_cb cb);
void ac_http_early_free(ac_http *http);

/* When req is the stand-in for a request the screen refused: answers r with
 * the JSON error and returns 1; else 0. */
int ac_http_early_answer(ac_req *r, h2o_req_t *req);

#endif
