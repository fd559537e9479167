#include <arpa/inet.h>
#include <errno.h>
#include <h2o.h>
#include <h2o/socket/uv-binding.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ac_error.h"
#include "ac_http.h"
#include "ac_log.h"

struct ac_http {
	uv_loop_t *loop;
	h2o_globalconf_t config;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	uv_tcp_t listener;
	int listening;
	ac_http_opts opts;
	char *web_dir;
	uint64_t next_id;
	int active;
	void (*close_cb)(void *);
	void *close_data;
};

typedef struct http_handler {
	h2o_handler_t super;
	ac_http *http;
} http_handler;

/* Lives in the h2o request's pool; tells the ac_req when h2o lets go. */
typedef struct req_link {
	ac_req *r;
	h2o_req_t *h2o;
} req_link;

/* The h2o request behind r while the client is there. */
typedef struct req_private {
	ac_req pub;
	h2o_req_t *h2o;
} req_private;

uint64_t ac_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void req_free(ac_req *r)
{
	if (r->handler_free != NULL)
		r->handler_free(r->handler_data);
	free(r->path);
	free(r->query);
	free(r->body);
	free(r->authorization);
	free(r->idempotency_key);
	free(r->accept);
	free(r->content_type);
	free(r);
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
	req_free(r);
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

static char *dup_iovec(h2o_iovec_t v)
{
	return strndup(v.base, v.len);
}

static char *dup_header(h2o_req_t *req, const char *name)
{
	ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);

	if (i < 0)
		return NULL;
	return dup_iovec(req->headers.entries[i].value);
}

static void log_request(ac_req *r, int status)
{
	uint64_t us = (ac_now_ns() - r->start_ns) / 1000;

	ac_log_info("http", "%s %s %d %llu.%03llums id=%s peer=%s%s", r->method, r->path, status,
		    (unsigned long long)(us / 1000), (unsigned long long)(us % 1000), r->id_str,
		    r->peer, r->gone ? " (client gone)" : "");
}

void ac_req_respond(ac_req *r, int status, const char *content_type, const char *body, size_t len)
{
	req_private *rp = (req_private *)r;
	h2o_req_t *req = rp->h2o;
	h2o_iovec_t buf;
	static h2o_generator_t generator = { NULL, NULL };

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
	h2o_start_response(req, &generator);
	h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
	ac_req_unref(r);
}

void ac_req_json(ac_req *r, int status, json_t *json)
{
	char *text = json_dumps(json, JSON_COMPACT);

	json_decref(json);
	if (text == NULL) {
		ac_req_respond(r, 500, "application/json", "{\"error\":{\"code\":\"internal\"}}",
			       29);
		return;
	}
	ac_req_respond(r, status, "application/json; charset=utf-8", text, strlen(text));
	free(text);
}

void ac_req_error(ac_req *r, int status, const char *code, const char *message,
		  const char *message_zh)
{
	json_t *j = json_pack("{s:{s:s,s:s,s:s,s:s}}", "error", "code", code, "message", message,
			      "message_zh", message_zh, "request_id", r->id_str);

	ac_req_json(r, status, j);
}

void ac_req_error_field(ac_req *r, int status, const char *code, const char *field,
			const char *message, const char *message_zh)
{
	json_t *j =
	    json_pack("{s:{s:s,s:s,s:s,s:s?,s:s}}", "error", "code", code, "message", message,
		      "message_zh", message_zh, "field", field, "request_id", r->id_str);

	ac_req_json(r, status, j);
}

void ac_req_unavailable(ac_req *r)
{
	ac_req_error(r, 503, "unavailable",
		     "the database is unavailable; nothing was changed, try again",
		     "系统暂时无法连接数据库，请稍后重试");
}

json_t *ac_req_body_object(ac_req *r)
{
	json_t *body = NULL;

	if (r->body != NULL)
		body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		ac_req_error(r, 400, "invalid_json", "the body must be a JSON object",
			     "请求内容格式错误");
		return NULL;
	}
	return body;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes in place; returns -1 on a bad escape or an embedded NUL. */
static int url_decode(char *s, int plus_is_space)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		if (*s == '%') {
			int h = hexval((unsigned char)s[1]);
			int l = h < 0 ? -1 : hexval((unsigned char)s[2]);

			if (l < 0 || (h == 0 && l == 0))
				return -1;
			*o++ = (char)(h * 16 + l);
			s += 2;
		} else if (*s == '+' && plus_is_space) {
			*o++ = ' ';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

const char *ac_req_query_param(const ac_req *r, const char *name, char *buf, size_t bufsz)
{
	size_t nlen = strlen(name);
	const char *p = r->query;

	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);

		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t vlen = len - nlen - 1;

			if (vlen >= bufsz)
				return NULL;
			memcpy(buf, p + nlen + 1, vlen);
			buf[vlen] = '\0';
			if (url_decode(buf, 1) != 0)
				return NULL;
			return buf;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

int ac_req_wants_json(const ac_req *r)
{
	if (r->accept == NULL)
		return 0;
	if (strstr(r->accept, "application/json") == NULL)
		return 0;
	/* A browser asks for text/html first. */
	return strstr(r->accept, "text/html") == NULL;
}

static void peer_name(h2o_req_t *req, char *out, size_t outsz)
{
	struct sockaddr_storage ss;
	socklen_t len;

	snprintf(out, outsz, "-");
	len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
	if (len == 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, outsz);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, outsz);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
	ac_http *http = ((http_handler *)self)->http;
	req_private *rp;
	req_link *link;
	ac_req *r;
	size_t plen;
	int rc;

	rp = calloc(1, sizeof(*rp));
	if (rp == NULL)
		return -1;
	r = &rp->pub;
	rp->h2o = req;
	r->http = http;
	r->app = http->opts.app;
	r->id = ++http->next_id;
	snprintf(r->id_str, sizeof(r->id_str), "%llx-%04llx",
		 (unsigned long long)(getpid() & 0xffff), (unsigned long long)r->id);
	r->start_ns = ac_now_ns();
	r->refs = 1;
	http->active++;
	snprintf(r->method, sizeof(r->method), "%.*s", (int)req->method.len, req->method.base);
	plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	r->path = strndup(req->path.base, plen);
	if (req->query_at != SIZE_MAX)
		r->query =
		    strndup(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
	if (req->entity.base != NULL) {
		r->body = strndup(req->entity.base, req->entity.len);
		r->body_len = req->entity.len;
	}
	r->authorization = dup_header(req, "authorization");
	r->idempotency_key = dup_header(req, "idempotency-key");
	r->accept = dup_header(req, "accept");
	r->content_type = dup_header(req, "content-type");
	peer_name(req, r->peer, sizeof(r->peer));

	link = h2o_mem_alloc_shared(&req->pool, sizeof(*link), on_link_dispose);
	link->r = r;
	link->h2o = req;

	if (r->path == NULL || (req->entity.base != NULL && r->body == NULL)) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return 0;
	}
	if (url_decode(r->path, 0) != 0) {
		ac_req_error(r, 400, "bad_path", "the path has an invalid escape", "网址格式错误");
		return 0;
	}
	if (req->entity.len > http->opts.max_body) {
		ac_req_error(r, 413, "body_too_large", "the request body is too large",
			     "请求内容过大");
		return 0;
	}
	rc = http->opts.router(r);
	if (rc != 0) {
		/* Not ours: let the static file handler answer, and forget r. */
		r->responded = 1;
		http->active--;
		return -1;
	}
	return 0;
}

static void on_conn_closed(uv_handle_t *h)
{
	free(h);
}

static void on_accept(uv_stream_t *listener, int status)
{
	ac_http *http = listener->data;
	uv_tcp_t *conn;
	h2o_socket_t *sock;

	if (status != 0)
		return;
	conn = malloc(sizeof(*conn));
	if (conn == NULL)
		return;
	uv_tcp_init(http->loop, conn);
	if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
		uv_close((uv_handle_t *)conn, on_conn_closed);
		return;
	}
	uv_tcp_nodelay(conn, 1);
	sock = h2o_uv_socket_create((uv_stream_t *)conn, on_conn_closed);
	h2o_accept(&http->accept_ctx, sock);
}

int ac_http_new(uv_loop_t *loop, const ac_http_opts *opts, ac_http **out)
{
	struct sockaddr_storage addr;
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	http_handler *handler;
	ac_http *http;
	int r;

	*out = NULL;
	http = calloc(1, sizeof(*http));
	if (http == NULL)
		return -ENOMEM;
	http->loop = loop;
	http->opts = *opts;
	h2o_config_init(&http->config);
	http->config.server_name = h2o_iovec_init(H2O_STRLIT("agricertd"));
	http->config.max_request_entity_size = opts->max_body;
	host =
	    h2o_config_register_host(&http->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	handler = (http_handler *)h2o_create_handler(path, sizeof(*handler));
	handler->super.on_req = on_req;
	handler->http = http;
	if (opts->web_dir != NULL) {
		static const char *index_files[] = { "index.html", NULL };

		http->web_dir = strdup(opts->web_dir);
		h2o_file_register(path, http->web_dir, index_files, NULL, 0);
	}
	h2o_context_init(&http->ctx, loop, &http->config);
	http->accept_ctx.ctx = &http->ctx;
	http->accept_ctx.hosts = http->config.hosts;

	if (strchr(opts->host, ':') != NULL)
		r = uv_ip6_addr(opts->host, opts->port, (struct sockaddr_in6 *)&addr);
	else
		r = uv_ip4_addr(opts->host, opts->port, (struct sockaddr_in *)&addr);
	if (r == 0)
		r = uv_tcp_init(loop, &http->listener);
	if (r != 0)
		goto fail;
	http->listener.data = http;
	http->listening = 1;
	r = uv_tcp_bind(&http->listener, (struct sockaddr *)&addr, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&http->listener, 1024, on_accept);
	if (r != 0)
		goto fail;
	*out = http;
	return 0;
fail:
	/* The caller logs r and exits; the half-made server is left to the OS. */
	return r;
}

int ac_http_active(const ac_http *http)
{
	return http->active;
}

static void on_listener_closed(uv_handle_t *h)
{
	(void)h;
}

void ac_http_stop_accepting(ac_http *http)
{
	if (http->listening) {
		http->listening = 0;
		uv_close((uv_handle_t *)&http->listener, on_listener_closed);
	}
	h2o_context_request_shutdown(&http->ctx);
}

void ac_http_close(ac_http *http, void (*cb)(void *), void *data)
{
	ac_http_stop_accepting(http);
	h2o_context_dispose(&http->ctx);
	h2o_config_dispose(&http->config);
	free(http->web_dir);
	free(http);
	if (cb != NULL)
		cb(data);
}
