#include <errno.h>
#include <h2o.h>
#include <h2o/socket/uv-binding.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ac_error.h"
#include "ac_http-server.h"
#include "ac_log.h"
#include "ac_reply.h"
#include "ac_url.h"

typedef struct http_handler {
	h2o_handler_t super;
	ac_http *http;
} http_handler;

/* Lives in the h2o request's pool; tells the ac_req when h2o lets go. */
typedef struct req_link {
	ac_req *r;
} req_link;

/* The h2o request behind r while the client is there. */
typedef struct req_private {
	ac_req pub;
	h2o_req_t *h2o;
} req_private;

const ac_http_opts *ac_http_options(const ac_http *http)
{
	return &http->opts;
}

uv_loop_t *ac_http_loop(const ac_http *http)
{
	return http->loop;
}

void *ac_req_alloc(ac_req *r, size_t size)
{
	return ac_arena_alloc(&r->pool, size);
}

char *ac_req_strdup(ac_req *r, const char *s)
{
	return ac_arena_strdup(&r->pool, s);
}

int ac_req_defer(ac_req *r, void (*fn)(void *), void *arg)
{
	return ac_arena_defer(&r->pool, fn, arg);
}

void ac_req_ref(ac_req *r)
{
	r->refs++;
}

void ac_req_unref(ac_req *r)
{
	if (--r->refs > 0)
		return;
	if (!r->responded)
		r->http->active--;
	r->http->live--;
	ac_arena_clear(&r->pool);
	free(r);
}

static void on_link_dispose(void *p)
{
	req_link *link = p;
	req_private *rp = (req_private *)link->r;

	rp->h2o = NULL;
	if (!rp->pub.responded)
		rp->pub.gone = 1;
	ac_req_unref(&rp->pub);
}

static void log_request(ac_req *r, int status)
{
	uint64_t us = (ac_now_ns() - r->start_ns) / 1000;
	char path[512];

	ac_http_log_safe(r->path, path, sizeof(path));
	ac_log_info("http", "%s %s %d %llu.%03llums id=%s peer=%s%s", r->method, path, status,
		    (unsigned long long)(us / 1000), (unsigned long long)(us % 1000), r->id_str,
		    r->peer, r->gone ? " (client gone)" : "");
	ac_http_count(r->http, r->route, r->route != NULL ? 0 : AC_HTTP_UNMATCHED, status,
		      (double)us / 1e6);
}

void ac_req_respond(ac_req *r, int status, const char *content_type, const char *body, size_t len)
{
	req_private *rp = (req_private *)r;
	h2o_req_t *req = rp->h2o;
	h2o_iovec_t buf;

	if (r->responded)
		return;
	r->responded = 1;
	r->http->active--;
	log_request(r, status);
	if (req == NULL)
		return;
	ac_req_ref(r);
	buf.base = h2o_mem_alloc_pool(&req->pool, len > 0 ? len : 1);
	memcpy(buf.base, body, len);
	buf.len = len;
	req->res.status = status;
	req->res.reason = "";
	req->res.content_length = len;
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
		       strlen(content_type));
	h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL,
			      r->id_str, strlen(r->id_str));
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
		       H2O_STRLIT("no-store"));
	h2o_start_response(req, &r->http->generator);
	h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
	ac_req_unref(r);
}

static char *pool_iovec(ac_req *r, h2o_iovec_t v)
{
	return ac_arena_strndup(&r->pool, v.base, v.len);
}

static char *pool_header(ac_req *r, h2o_req_t *req, const char *name)
{
	ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);

	if (i < 0)
		return NULL;
	return pool_iovec(r, req->headers.entries[i].value);
}

/* Copies what handlers read out of the h2o request; 0, or -1 out of memory. */
static int copy_request(ac_req *r, h2o_req_t *req)
{
	size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	int fail = 0;

	snprintf(r->method, sizeof(r->method), "%.*s", (int)req->method.len, req->method.base);
	r->path = ac_arena_strndup(&r->pool, req->path.base, plen);
	fail |= r->path == NULL;
	if (req->query_at != SIZE_MAX) {
		r->query = ac_arena_strndup(&r->pool, req->path.base + req->query_at + 1,
					    req->path.len - req->query_at - 1);
		fail |= r->query == NULL;
	}
	if (req->entity.base != NULL) {
		/* All of it, NUL bytes too (a photo), and a NUL after it (zeroed). */
		r->body = ac_arena_alloc(&r->pool, req->entity.len + 1);
		r->body_len = req->entity.len;
		fail |= r->body == NULL;
		if (r->body != NULL)
			memcpy(r->body, req->entity.base, req->entity.len);
	}
	r->authorization = pool_header(r, req, "authorization");
	r->idempotency_key = pool_header(r, req, "idempotency-key");
	r->accept = pool_header(r, req, "accept");
	r->content_type = pool_header(r, req, "content-type");
	r->forwarded = ac_http_client(r->http, req, r->peer, sizeof(r->peer));
	return fail ? -1 : 0;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
	ac_http *http = ((http_handler *)self)->http;
	req_private *rp;
	req_link *link;
	ac_req *r;

	rp = calloc(1, sizeof(*rp));
	if (rp == NULL)
		return -1;
	r = &rp->pub;
	rp->h2o = req;
	ac_arena_init(&r->pool);
	r->http = http;
	r->app = http->opts.app;
	r->id = ++http->next_id;
	snprintf(r->id_str, sizeof(r->id_str), "%llx-%04llx",
		 (unsigned long long)(http->pid & 0xffff), (unsigned long long)r->id);
	r->start_ns = ac_now_ns();
	r->refs = 1;
	http->active++;
	http->live++;
	link = h2o_mem_alloc_shared(&req->pool, sizeof(*link), on_link_dispose);
	link->r = r;
	if (copy_request(r, req) != 0) {
		r->path = r->path ? r->path : "-";
		ac_req_nomem(r);
		return 0;
	}
	if (ac_http_early_answer(r, req))
		return 0;
	if (ac_url_decode(r->path, 0) != 0) {
		ac_req_error(r, 400, "bad_path", "the path has an invalid escape", "网址格式错误");
		return 0;
	}
	if (ac_handler_dispatch(r) != 0) {
		/* Not ours: let the static file handler answer, and forget r. */
		r->responded = 1;
		http->active--;
		return -1;
	}
	return 0;
}

static void maybe_closed(ac_http *http);

static void on_conn_closed(uv_handle_t *h)
{
	conn_handle *c = (conn_handle *)h;
	ac_http *http = c->http;

	ac_http_early_forget(http, c);
	free(c);
	http->conns--;
	maybe_closed(http);
}

static void on_accept(uv_stream_t *listener, int status)
{
	ac_http *http = listener->data;
	conn_handle *conn;
	h2o_socket_t *sock;

	if (status != 0 || http->closing)
		return;
	conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		return;
	conn->http = http;
	http->conns++;
	uv_tcp_init(http->loop, &conn->tcp);
	if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0) {
		uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
		return;
	}
	uv_tcp_nodelay(&conn->tcp, 1);
	sock = h2o_uv_socket_create((uv_stream_t *)&conn->tcp, on_conn_closed);
	h2o_accept(&http->accept_ctx, sock);
	ac_http_early_watch(http, conn, sock);
}

/*
 * How much of a body h2o reads before it answers 413 itself (in plain text,
 * closing the connection): twice the largest limit of any route, so that a
 * body somewhat over its route's limit still reaches the router, which
 * answers the API's JSON 413 (ac_handler_dispatch), and nothing is read
 * without bound.
 */
static size_t read_limit(const ac_http_opts *opts)
{
	size_t max = opts->max_body;

	for (size_t t = 0; opts->routes != NULL && opts->routes[t] != NULL; t++) {
		for (size_t i = 0; i < opts->routes[t]->n; i++) {
			if (opts->routes[t]->routes[i].max_body > max)
				max = opts->routes[t]->routes[i].max_body;
		}
	}
	return max * 2;
}

static int register_handler(ac_http *http, const ac_http_opts *opts)
{
	static const char *index_files[] = { "index.html", NULL };
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	http_handler *handler;

	h2o_config_init(&http->config);
	http->config.server_name = h2o_iovec_init(H2O_STRLIT("agricertd"));
	http->config.max_request_entity_size = read_limit(opts);
	host =
	    h2o_config_register_host(&http->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	handler = (http_handler *)h2o_create_handler(path, sizeof(*handler));
	handler->super.on_req = on_req;
	handler->http = http;
	if (http->web_dir != NULL)
		h2o_file_register(path, http->web_dir, index_files, NULL, 0);
	return ac_http_early_init(http, host, path);
}

static int listen_on(ac_http *http, const char *host, int port)
{
	struct sockaddr_storage addr;
	int r;

	if (strchr(host, ':') != NULL)
		r = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr);
	else
		r = uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
	if (r != 0)
		return r;
	r = uv_tcp_bind(&http->listener, (struct sockaddr *)&addr, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&http->listener, 1024, on_accept);
	return r;
}

int ac_http_new(uv_loop_t *loop, const ac_http_opts *opts, ac_http **out)
{
	ac_http *http;

	*out = NULL;
	http = calloc(1, sizeof(*http));
	if (http == NULL)
		return -ENOMEM;
	http->loop = loop;
	http->pid = (unsigned)getpid();
	http->opts = *opts;
	if (opts->web_dir != NULL && (http->web_dir = strdup(opts->web_dir)) == NULL) {
		free(http);
		return -ENOMEM;
	}
	if (register_handler(http, opts) != 0) {
		h2o_config_dispose(&http->config);
		free(http->web_dir);
		free(http);
		return -ENOMEM;
	}
	h2o_context_init(&http->ctx, loop, &http->config);
	http->accept_ctx.ctx = &http->ctx;
	http->accept_ctx.hosts = http->config.hosts;
	uv_timer_init(loop, &http->close_timer);
	http->close_timer.data = http;
	uv_tcp_init(loop, &http->listener);
	http->listener.data = http;
	uv_check_init(loop, &http->screen_check);
	http->screen_check.data = http;
	http->listening = 1;
	http->handles = 3;
	/* On failure the caller still owns the server: ac_http_close, then free. */
	*out = http;
	return listen_on(http, opts->host, opts->port);
}

int ac_http_active(const ac_http *http)
{
	return http != NULL ? http->active : 0;
}

int ac_http_live(const ac_http *http)
{
	return http != NULL ? http->live : 0;
}

static void maybe_closed(ac_http *http)
{
	void (*cb)(void *) = http->close_cb;

	if (http->closing != 1 || http->conns > 0 || http->handles > 0)
		return;
	http->closing = 2;
	if (cb != NULL)
		cb(http->close_data);
}

static void on_handle_closed(uv_handle_t *h)
{
	ac_http *http = h->data;

	http->handles--;
	maybe_closed(http);
}

void ac_http_stop_accepting(ac_http *http)
{
	if (http->listening) {
		http->listening = 0;
		uv_close((uv_handle_t *)&http->listener, on_handle_closed);
	}
	h2o_context_request_shutdown(&http->ctx);
}

/*
 * Closes connections waiting for their next request: h2o 2.2 keeps idle
 * keep-alive connections until their timeout even after a shutdown request,
 * and running that timeout now closes them. Busy connections close after
 * their response, and are closed here when they become idle.
 */
static void close_poll(uv_timer_t *t)
{
	ac_http *http = t->data;

	h2o_timeout_run(http->loop, &http->ctx.http1.req_timeout, UINT64_MAX);
	if (http->conns == 0 && !uv_is_closing((uv_handle_t *)t)) {
		uv_timer_stop(t);
		uv_close((uv_handle_t *)t, on_handle_closed);
		ac_http_early_close(http, on_handle_closed);
	}
}

void ac_http_close(ac_http *http, void (*cb)(void *data), void *data)
{
	http->closing = 1;
	http->close_cb = cb;
	http->close_data = data;
	ac_http_stop_accepting(http);
	uv_timer_start(&http->close_timer, close_poll, 0, 50);
}

void ac_http_free(ac_http *http)
{
	if (http == NULL)
		return;
	/* The HTTP/2 graceful shutdown leaves its GOAWAY timer linked; h2o's
	 * dispose insists on empty timeouts. */
	if (h2o_timeout_is_linked(&http->ctx.http2._graceful_shutdown_timeout))
		h2o_timeout_unlink(&http->ctx.http2._graceful_shutdown_timeout);
	/* Closes h2o's own handles and runs the loop once (NOWAIT) to finish them:
	 * hence not from a callback. */
	h2o_context_dispose(&http->ctx);
	h2o_config_dispose(&http->config);
	ac_http_early_free(http);
	free(http->web_dir);
	free(http);
}
