#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ac_auth.h"
#include "ac_error.h"
#include "ac_handler.h"
#include "ac_http-private.h"
#include "ac_log.h"
#include "ac_url.h"

/*
 * After a step: a request that is neither answered nor waiting for anything
 * would hang until the client gives up. Answer it, and say so in the log.
 */
static void check_answered(ac_req *r)
{
	if (r->responded || r->pending > 0 || r->gone)
		return;
	ac_log_error("http", "handler for %s %s ended without an answer id=%s", r->method,
		     r->route ? r->route->pattern : r->path, r->id_str);
	ac_req_error(r, 500, "internal", "the request could not be completed",
		     "服务器内部错误，请稍后重试");
}

void ac_req_hold(ac_req *r)
{
	ac_req_ref(r);
	r->pending++;
}

void ac_req_release(ac_req *r)
{
	r->pending--;
	check_answered(r);
	ac_req_unref(r);
}

void *ac_req_context(ac_req *r, size_t size, json_t **body)
{
	if (body != NULL && (*body = ac_req_body_object(r)) == NULL)
		return NULL;
	r->ctx = ac_req_alloc(r, size);
	if (r->ctx == NULL)
		ac_req_nomem(r);
	return r->ctx;
}

/* Database errors. */

static int state_is(const char *state, const char *prefix)
{
	return strncmp(state, prefix, strlen(prefix)) == 0;
}

void ac_req_db_error(ac_req *r, const ac_db_result *res, const char *msg)
{
	const char *state = res != NULL ? ac_db_sqlstate(res) : "";

	if (strcmp(state, "23505") == 0) {
		ac_req_error(r, 409, "conflict", "a record with the same name or code exists",
			     "已有相同名称或代码的记录，请勿重复登记");
	} else if (strcmp(state, "23503") == 0) {
		ac_req_error(r, 422, "unknown_reference",
			     "the request refers to a record that does not exist",
			     "所填的编号在系统中不存在，请核对后重试");
	} else if (state_is(state, "22") || state_is(state, "23")) {
		ac_log_warn("http", "refused by the database: %s id=%s", msg, r->id_str);
		ac_req_error(r, 422, "invalid_value", "a value was refused; check the fields",
			     "填写的内容不符合要求，请检查后重试");
	} else {
		ac_log_error("http", "could not query the database for %s %s: %s id=%s", r->method,
			     r->route ? r->route->pattern : r->path, msg, r->id_str);
		ac_req_unavailable(r);
	}
}

void ac_req_db_document(ac_req *r, const ac_db_result *res, const char *col,
			const char *content_type)
{
	int c = ac_db_col(res, col);

	if (ac_db_get(res, 0, c) == NULL) {
		ac_req_unavailable(r);
		return;
	}
	ac_req_respond(r, 200, content_type, ac_db_get(res, 0, c), ac_db_getlen(res, 0, c));
}

void ac_req_doc_step(ac_req *r, const ac_db_result *res)
{
	ac_req_db_document(r, res, "doc", "application/json; charset=utf-8");
}

/* Queries. */

static void on_result(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_req *r = data;
	ac_step next = r->next;

	r->pending--;
	r->next = NULL;
	if (err != 0) {
		/* A lost connection is SQLSTATE 08006 to the handler's hook. */
		const char *state = res != NULL ? ac_db_sqlstate(res) : "08006";

		if (r->on_db_error == NULL || !r->on_db_error(r, state, msg))
			ac_req_db_error(r, res, msg);
	} else if (!r->gone) {
		next(r, res);
	}
	check_answered(r);
	ac_req_unref(r);
}

static void started(ac_req *r, int rc, ac_step next)
{
	if (rc == -ENOMEM) {
		ac_req_nomem(r);
		return;
	}
	if (rc != 0) {
		if (r->on_db_error == NULL || !r->on_db_error(r, "08006", "database unavailable"))
			ac_req_unavailable(r);
		return;
	}
	r->next = next;
	r->pending++;
	ac_req_ref(r);
}

static const char *actor_of(ac_req *r, char *buf, size_t bufsz)
{
	if (r->who == NULL)
		return NULL;
	ac_perm_actor(r->who, buf, bufsz);
	return buf;
}

static void query_on(ac_req *r, ac_db *db, const char *actor, const char *sql, int n,
		     const char *const *values, ac_step next)
{

	if (r->next != NULL) {
		/* One query at a time per request: the step machine's rule. */
		ac_log_error("http", "a second query while one is under way id=%s", r->id_str);
		ac_req_error(r, 500, "internal", "the request could not be completed",
			     "服务器内部错误，请稍后重试");
		return;
	}
	started(r, ac_db_query_as(db, actor, sql, n, values, NULL, on_result, r), next);
}

static void query(ac_req *r, const char *actor, const char *sql, int n, const char *const *values,
		  ac_step next)
{
	query_on(r, ac_http_options(r->http)->db, actor, sql, n, values, next);
}

/* The read connection: db_read when the server has one, else db. */
static ac_db *read_db(const ac_req *r)
{
	const ac_http_opts *o = ac_http_options(r->http);

	return o->db_read != NULL ? o->db_read : o->db;
}

void ac_req_query_read(ac_req *r, const char *sql, int n, const char *const *values, ac_step next)
{
	query_on(r, read_db(r), NULL, sql, n, values, next);
}

void ac_req_query(ac_req *r, const char *sql, int n, const char *const *values, ac_step next)
{
	query(r, NULL, sql, n, values, next);
}

void ac_req_query_as(ac_req *r, const char *sql, int n, const char *const *values, ac_step next)
{
	char actor[128];

	query(r, actor_of(r, actor, sizeof(actor)), sql, n, values, next);
}

static void call_on(ac_req *r, ac_db *db, const char *actor, const ac_db_call *c, ac_step next)
{
	char sql[AC_DB_CALL_SQL + 2];

	if (ac_db_call_sql(c, sql, sizeof(sql)) != 0) {
		ac_log_error("http", "a database call has too many arguments id=%s", r->id_str);
		ac_req_error(r, 500, "internal", "the request could not be completed",
			     "服务器内部错误，请稍后重试");
		return;
	}
	query_on(r, db, actor, sql, c->n, c->values, next);
}

static void call(ac_req *r, const char *actor, const ac_db_call *c, ac_step next)
{
	call_on(r, ac_http_options(r->http)->db, actor, c, next);
}

void ac_req_call_read(ac_req *r, const ac_db_call *c, ac_step next)
{
	call_on(r, read_db(r), NULL, c, next);
}

void ac_req_call(ac_req *r, const ac_db_call *c, ac_step next)
{
	call(r, NULL, c, next);
}

void ac_req_call_as(ac_req *r, const ac_db_call *c, ac_step next)
{
	char actor[128];

	call(r, actor_of(r, actor, sizeof(actor)), c, next);
}

void ac_req_call_by(ac_req *r, const char *actor, const ac_db_call *c, ac_step next)
{
	call(r, actor, c, next);
}

/* Thread-pool work. */

typedef struct req_work {
	uv_work_t work;
	ac_req *r;
	ac_work_fn fn;
	ac_after_fn after;
	void *arg;
} req_work;

static void run_work(uv_work_t *w)
{
	req_work *rw = w->data;

	rw->fn(rw->arg);
}

static void after_work(uv_work_t *w, int status)
{
	req_work *rw = w->data;
	ac_req *r = rw->r;

	r->pending--;
	if (status != 0)
		ac_req_busy(r);
	else if (!r->gone)
		rw->after(r, rw->arg);
	check_answered(r);
	ac_req_unref(r);
}

void ac_req_work(ac_req *r, ac_work_fn work, ac_after_fn after, void *arg)
{
	req_work *rw = ac_req_new(r, req_work);

	if (rw == NULL) {
		ac_req_nomem(r);
		return;
	}
	rw->work.data = rw;
	rw->r = r;
	rw->fn = work;
	rw->after = after;
	rw->arg = arg;
	if (uv_queue_work(ac_http_loop(r->http), &rw->work, run_work, after_work) != 0) {
		ac_req_busy(r);
		return;
	}
	r->pending++;
	ac_req_ref(r);
}

/* Routing. */

static void run_handler(ac_req *r)
{
	r->route->handle(r);
	check_answered(r);
}

static void on_caller(void *data, int found, const ac_principal *p, int err)
{
	ac_req *r = data;
	ac_principal *who;

	r->pending--;
	if (err != 0) {
		ac_log_error("auth", "could not check token: database unavailable id=%s",
			     r->id_str);
		ac_req_unavailable(r);
	} else if (!found) {
		ac_req_error(r, 401, "unauthorized", "the access token is unknown or expired",
			     "登录已失效，请重新登录");
	} else if (r->route->act != AC_ACT_NONE && !ac_perm_may(p, r->route->act)) {
		ac_req_refuse(r, r->route->act);
	} else if (!r->gone) {
		who = ac_req_new(r, ac_principal);
		if (who == NULL) {
			ac_req_nomem(r);
		} else {
			*who = *p;
			r->who = who;
			run_handler(r);
		}
	}
	check_answered(r);
	ac_req_unref(r);
}

/* Authenticates r's bearer token, then runs its handler. */
static void authenticate(ac_req *r)
{
	const ac_http_opts *o = ac_http_options(r->http);
	const char *token = r->authorization;
	int rc;

	if (token == NULL || strncasecmp(token, "Bearer ", 7) != 0) {
		ac_req_error(r, 401, "unauthorized", "an Authorization: Bearer token is required",
			     "请先登录");
		return;
	}
	token += 7;
	while (*token == ' ')
		token++;
	if (*token == '\0' || strlen(token) > AC_AUTH_TOKEN_MAX) {
		ac_req_error(r, 401, "unauthorized", "the access token is malformed",
			     "登录凭证格式错误，请重新登录");
		return;
	}
	ac_req_ref(r);
	r->pending++;
	rc = ac_auth_lookup(o->auth, token, on_caller, r);
	if (rc != 0) {
		r->pending--;
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
}

/* Copies the route's parameters into the request's pool, NUL-terminated. */
static int take_params(ac_req *r, const ac_route_match *m)
{
	for (int i = 0; i < m->nparams; i++) {
		r->param[i] = ac_arena_strndup(&r->pool, m->param[i], m->param_len[i]);
		if (r->param[i] == NULL)
			return -1;
	}
	return 0;
}

/* Whether r's body fits its route's limit (the server's without a route);
 * answers 413 when not. */
static int body_fits(ac_req *r, const ac_route *route)
{
	size_t limit = route != NULL && route->max_body > 0 ? route->max_body
							    : ac_http_options(r->http)->max_body;
	char en[96], zh[96];

	if (r->body_len <= limit)
		return 1;
	snprintf(en, sizeof(en), "the request body is too large (at most %zu bytes)", limit);
	snprintf(zh, sizeof(zh), "请求内容过大（不能超过%zu字节）", limit);
	ac_req_error(r, 413, "body_too_large", en, zh);
	return 0;
}

int ac_handler_dispatch(ac_req *r)
{
	const ac_http_opts *o = ac_http_options(r->http);
	ac_route_match m;
	int found = ac_router_match(o->routes, r->method, r->path, &m);

	if (!body_fits(r, m.route))
		return 0;
	switch (found) {
	case AC_ROUTE_NO_PATH:
		if (strncmp(r->path, "/api/", 5) != 0)
			return -1;
		ac_req_not_found(r, "no such API path", "没有这个接口");
		return 0;
	case AC_ROUTE_NO_METHOD:
		ac_req_error(r, 405, "method_not_allowed", "method not allowed",
			     "不支持该请求方式");
		return 0;
	case AC_ROUTE_BAD_PARAM:
		ac_req_not_found(r, m.not_found_en, m.not_found_zh);
		return 0;
	}
	r->route = m.route;
	if (take_params(r, &m) != 0) {
		ac_req_nomem(r);
		return 0;
	}
	if ((m.route->flags & AC_ROUTE_AUTH) ||
	    ((m.route->flags & AC_ROUTE_AUTH_OPTIONAL) && r->authorization != NULL))
		authenticate(r);
	else
		run_handler(r);
	return 0;
}
