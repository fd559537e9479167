/*
 * What the routes do not answer: static files, and what h2o would answer by
 * itself. Every such response is logged (one line, like ac_req_respond's)
 * and counted, and every error among them is the API's JSON error with a
 * stable code and Chinese and English messages:
 *
 * - h2o's answers through its response path (413 for a body over twice the
 *   largest route limit, 400 for broken chunked encoding or Content-Length,
 *   417, the static files' 404/403/405/416) pass a filter that replaces the
 *   plain-text body with the JSON error (on "/" and on the host's fallback
 *   path, where h2o puts requests refused before routing).
 * - h2o's 400 for a request it cannot parse is written straight to the
 *   socket (lib/http1.c send_bad_request), past any filter; and h2o takes
 *   request heads of up to 400 KB. So a screen runs before h2o's HTTP/1
 *   reader on each read: a head that is malformed, whose request line passes
 *   URI_MAX (414), or whose headers pass HEAD_MAX bytes or H2O_MAX_HEADERS
 *   lines (431), is replaced in the socket's input by a stand-in request
 *   for EARLY_PREFIX<status> (Connection: close), which ac_http.c answers
 *   with the JSON error. h2o sets its reader again for each request of a
 *   kept-alive connection; a check handle (once per loop iteration) puts
 *   the screen back in front of it.
 *
 * Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "ac_http-server.h"
#include "ac_log.h"
#include "ac_reply.h"

/* picohttpparser, built into libh2o (its header is not installed). */
struct phr_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
		      const char **path, size_t *path_len, int *minor_version,
		      struct phr_header *headers, size_t *num_headers, size_t last_len);

#define EARLY_PREFIX "/.well-known/agricert/refused/"
#define URI_MAX	     8192  /* the request line, in bytes */
#define HEAD_MAX     65536 /* the request line and the headers */
#define JSON_TYPE    "application/json; charset=utf-8"

typedef struct early_error {
	int status;
	const char *code, *en, *zh;
} early_error;

static const early_error errors[] = {
	{ 400, "bad_request", "the request is malformed", "请求格式错误" },
	{ 403, "forbidden", "access to this file is forbidden", "无权访问该文件" },
	{ 404, "not_found", "no such page", "没有这个页面" },
	{ 405, "method_not_allowed", "method not allowed", "不支持该请求方式" },
	{ 413, "body_too_large", "the request body is too large", "请求内容过大" },
	{ 414, "uri_too_long", "the request line is too long (at most 8192 bytes)",
	  "网址过长（不能超过8192字节）" },
	{ 416, "range_not_satisfiable", "the requested range is not in the file",
	  "请求的范围超出了文件" },
	{ 417, "expectation_failed", "only Expect: 100-continue is supported",
	  "只支持 Expect: 100-continue" },
	{ 431, "headers_too_large", "the request headers are too large or too many",
	  "请求头过大或过多" },
	{ 500, "internal", "the request could not be completed", "服务器内部错误，请稍后重试" },
	{ 503, "unavailable", "the service is unavailable; try again",
	  "服务暂时不可用，请稍后重试" },
};

static const early_error *error_of(int status)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		if (errors[i].status == status)
			return &errors[i];
	}
	return status >= 500 ? &errors[9] : &errors[0];
}

void ac_http_log_safe(const char *s, char *out, size_t outsz)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < outsz; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x21 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* Every X-Forwarded-For line of req joined with commas (h2o's pool), or NULL. */
static const char *forwarded_for(h2o_req_t *req)
{
	ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_X_FORWARDED_FOR, -1);
	h2o_iovec_t all = { NULL, 0 };

	while (i != -1) {
		h2o_iovec_t v = req->headers.entries[i].value;

		all = all.base == NULL
			  ? h2o_concat(&req->pool, v, h2o_iovec_init("", 1))
			  : h2o_concat(&req->pool, h2o_iovec_init(all.base, all.len - 1),
				       h2o_iovec_init(H2O_STRLIT(",")), v, h2o_iovec_init("", 1));
		i = h2o_find_header(&req->headers, H2O_TOKEN_X_FORWARDED_FOR, i);
	}
	return all.base;
}

int ac_http_client(ac_http *http, h2o_req_t *req, char *out, size_t outsz)
{
	const ac_netlist *trusted = http->opts.trusted_proxies;
	const char *xff = forwarded_for(req);
	struct sockaddr_storage ss;
	ac_addr peer;
	ac_addr client;
	socklen_t len;

	snprintf(out, outsz, "-");
	len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
	if (len == 0 || ac_addr_from_sockaddr((struct sockaddr *)&ss, &peer) != 0)
		return xff != NULL;
	if (ac_netlist_contains(trusted, &peer))
		ac_addr_client(trusted, &peer, xff, &client);
	else
		client = peer;
	ac_addr_format(&client, out, outsz);
	return xff != NULL;
}

/* The screen. */

static int crlf_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\r' && s[i] != '\n')
			return 0;
	}
	return 1;
}

static int parse_head(const char *buf, size_t len, struct phr_header *h, size_t nh)
{
	const char *method, *path;
	size_t method_len, path_len;
	int minor;

	return phr_parse_request(buf, len, &method, &method_len, &path, &path_len, &minor, h, &nh,
				 0);
}

/* What the screen says of a request head so far: 0 (let h2o read it) or the
 * status to refuse it with. */
static int screen_verdict(const h2o_buffer_t *in)
{
	struct phr_header headers[H2O_MAX_HEADERS];
	size_t len = in->size < HEAD_MAX ? in->size : HEAD_MAX;
	const char *eol = memchr(in->bytes, '\n', len < URI_MAX + 2 ? len : URI_MAX + 2);
	int ret;

	if (in->size == 0 || (in->size >= 12 && memcmp(in->bytes, "PRI * HTTP/2", 12) == 0))
		return 0;
	if ((eol == NULL && in->size > URI_MAX + 1) ||
	    (eol != NULL && eol - in->bytes > URI_MAX + 1))
		return 414;
	ret = parse_head(in->bytes, len, headers, H2O_MAX_HEADERS);
	if (ret > 0 || (ret == -2 && in->size < HEAD_MAX))
		return 0;
	if (ret == -2)
		return 431;
	if (in->size <= 4 && crlf_only(in->bytes, in->size))
		return 0; /* h2o closes such a connection quietly */
	{
		/* Only too many headers: a parse with room for more gets further. */
		struct phr_header *many = malloc(4 * H2O_MAX_HEADERS * sizeof(*many));
		int more =
		    many != NULL ? parse_head(in->bytes, len, many, 4 * H2O_MAX_HEADERS) : -1;

		free(many);
		return more != -1 ? 431 : 400;
	}
}

static ac_http *http_of_sock(h2o_socket_t *sock)
{
	h2o_conn_t *conn = sock->data;

	return H2O_STRUCT_FROM_MEMBER(ac_http, ctx, conn->ctx);
}

/*
 * Puts the stand-in request in place of what was read. It is as long as the
 * head h2o has seen so far (up to HEAD_MAX), since h2o's parser resumes from
 * the length it last saw, and it ends with the blank line there.
 */
static void replace_input(h2o_socket_t *sock, int status)
{
	char head[128];
	int n = snprintf(head, sizeof(head),
			 "GET " EARLY_PREFIX "%d HTTP/1.1\r\nConnection: close\r\nX-Pad: ", status);
	size_t total = sock->input->size < HEAD_MAX ? sock->input->size : HEAD_MAX;
	h2o_iovec_t dst;

	if (total < (size_t)n + 4)
		total = (size_t)n + 4;
	h2o_buffer_consume(&sock->input, sock->input->size);
	dst = h2o_buffer_reserve(&sock->input, total);
	if (dst.base == NULL)
		return;
	memcpy(dst.base, head, (size_t)n);
	memset(dst.base + n, 'x', total - (size_t)n - 4);
	memcpy(dst.base + total - 4, "\r\n\r\n", 4);
	sock->input->size += total;
}

static void on_screened_read(h2o_socket_t *sock, const char *err)
{
	ac_http *http = http_of_sock(sock);
	int status = err == NULL ? screen_verdict(sock->input) : 0;

	if (status != 0) {
		http->early[status == 400 ? 0 : status == 414 ? 2 : 3]++;
		replace_input(sock, status);
	}
	http->h2o_read(sock, err);
}

/* Once per loop iteration: h2o's reader set again for a kept-alive
 * connection's next request gets the screen in front of it. */
static void on_check(uv_check_t *check)
{
	ac_http *http = check->data;

	for (conn_handle *c = http->conn_list; c != NULL; c = c->next) {
		if (c->sock != NULL && c->sock->_cb.read == http->h2o_read)
			c->sock->_cb.read = on_screened_read;
	}
}

void ac_http_early_watch(ac_http *http, conn_handle *conn, h2o_socket_t *sock)
{
	conn->sock = sock;
	conn->next = http->conn_list;
	if (conn->next != NULL)
		conn->next->prev = conn;
	http->conn_list = conn;
	if (http->h2o_read == NULL && sock->_cb.read != on_screened_read)
		http->h2o_read = sock->_cb.read;
	if (sock->_cb.read == http->h2o_read)
		sock->_cb.read = on_screened_read;
	if (!uv_is_active((uv_handle_t *)&http->screen_check) && !http->closing)
		uv_check_start(&http->screen_check, on_check);
}

void ac_http_early_forget(ac_http *http, conn_handle *conn)
{
	if (conn->sock == NULL)
		return; /* never watched */
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		http->conn_list = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	conn->sock = NULL;
}

int ac_http_early_answer(ac_req *r, h2o_req_t *req)
{
	size_t n = strlen(EARLY_PREFIX);
	const early_error *e;

	if (strncmp(r->path, EARLY_PREFIX, n) != 0)
		return 0;
	e = error_of(atoi(r->path + n));
	snprintf(r->method, sizeof(r->method), "-");
	r->path = e->status == 414   ? "(request-line-too-long)"
		  : e->status == 431 ? "(headers-too-large)"
				     : "(malformed-request)";
	ac_req_error(r, e->status, e->code, e->en, e->zh);
	return 1;
}

/* The filter: answers that are not ac_req_respond's. */

typedef struct early_filter {
	h2o_filter_t super;
	ac_http *http;
} early_filter;

typedef struct body_swap {
	h2o_ostream_t super;
	h2o_iovec_t body;
	int sent;
} body_swap;

static void swap_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
		      h2o_send_state_t state)
{
	body_swap *s = (body_swap *)self;

	if (!s->sent && bufcnt > 0) {
		s->sent = 1;
		h2o_ostream_send_next(self, req, &s->body, 1, state);
		return;
	}
	h2o_ostream_send_next(self, req, NULL, 0, state);
}

/* Replaces h2o's plain-text error with the JSON error: its headers now, its
 * body as it is sent. Returns the slot for the next filter. */
static h2o_ostream_t **json_error(h2o_req_t *req, const char *id, h2o_ostream_t **slot)
{
	const early_error *e = error_of(req->res.status);
	ssize_t i = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
	body_swap *swap;
	ac_buf b;

	ac_buf_init(&b);
	ac_buf_puts(&b, "{\"error\":{\"code\":");
	ac_buf_json_str(&b, e->code);
	ac_buf_puts(&b, ",\"message\":");
	ac_buf_json_str(&b, e->en);
	ac_buf_puts(&b, ",\"message_zh\":");
	ac_buf_json_str(&b, e->zh);
	ac_buf_puts(&b, ",\"request_id\":");
	ac_buf_json_str(&b, id);
	ac_buf_puts(&b, "}}");
	if (!ac_buf_ok(&b)) {
		ac_buf_free(&b);
		return slot;
	}
	swap = (body_swap *)h2o_add_ostream(req, sizeof(*swap), slot);
	swap->super.do_send = swap_send;
	swap->body = h2o_strdup(&req->pool, b.data, b.len);
	swap->sent = 0;
	ac_buf_free(&b);
	if (i >= 0)
		req->res.headers.entries[i].value = h2o_iovec_init(H2O_STRLIT(JSON_TYPE));
	else
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
			       H2O_STRLIT(JSON_TYPE));
	req->res.content_length = swap->body.len;
	return &swap->super.next;
}

static void log_foreign(ac_http *http, h2o_req_t *req, const char *id)
{
	h2o_iovec_t m = req->input.method;
	h2o_iovec_t p = req->input.path;
	char *raw = h2o_mem_alloc_pool(&req->pool, p.len + 1);
	char method[16], path[512], peer[64];
	struct timeval now;
	int64_t us;

	gettimeofday(&now, NULL);
	us = (int64_t)(now.tv_sec - req->timestamps.request_begin_at.tv_sec) * 1000000 +
	     (now.tv_usec - req->timestamps.request_begin_at.tv_usec);
	if (req->timestamps.request_begin_at.tv_sec == 0 || us < 0)
		us = 0;
	memcpy(raw, p.base, p.len);
	raw[p.len] = '\0';
	snprintf(path, sizeof(path), "%.*s", (int)(m.len < 15 ? m.len : 15), m.base ? m.base : "");
	ac_http_log_safe(path[0] != '\0' ? path : "-", method, sizeof(method));
	ac_http_log_safe(raw[0] != '\0' ? raw : "-", path, sizeof(path));
	ac_http_client(http, req, peer, sizeof(peer));
	ac_log_info("http", "%s %s %d %lld.%03lldms id=%s peer=%s", method, path, req->res.status,
		    (long long)(us / 1000), (long long)(us % 1000), id, peer);
	ac_http_count(http, NULL, AC_HTTP_STATIC, req->res.status, (double)us / 1e6);
	if (req->res.status == 413)
		http->early[1]++;
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
	ac_http *http = ((early_filter *)self)->http;
	char id[24];

	if (req->_generator != &http->generator) {
		snprintf(id, sizeof(id), "%llx-%04llx", (unsigned long long)(http->pid & 0xffff),
			 (unsigned long long)++http->next_id);
		h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0,
				      NULL, h2o_strdup(&req->pool, id, SIZE_MAX).base, strlen(id));
		if (req->res.status >= 400)
			slot = json_error(req, id, slot);
		log_foreign(http, req, id);
	}
	h2o_setup_next_ostream(req, slot);
}

int ac_http_early_init(ac_http *http, h2o_hostconf_t *host, h2o_pathconf_t *path)
{
	h2o_pathconf_t *paths[] = { path, &host->fallback_path };

	for (size_t i = 0; i < 2; i++) {
		early_filter *f = (early_filter *)h2o_create_filter(paths[i], sizeof(*f));

		f->super.on_setup_ostream = on_setup_ostream;
		f->http = http;
	}
	return ac_http_stats_init(http);
}

void ac_http_early_close(ac_http *http, uv_close_cb cb)
{
	uv_check_stop(&http->screen_check);
	uv_close((uv_handle_t *)&http->screen_check, cb);
}

void ac_http_early_free(ac_http *http)
{
	ac_http_stats_free(http);
}
