#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_reply.h"
#include "ac_url.h"

#define JSON_TYPE "application/json; charset=utf-8"

void ac_req_json(ac_req *r, int status, json_t *json)
{
	char *text = json != NULL ? json_dumps(json, JSON_COMPACT) : NULL;

	json_decref(json);
	if (text == NULL) {
		ac_req_nomem(r);
		return;
	}
	ac_req_respond(r, status, JSON_TYPE, text, strlen(text));
	free(text);
}

void ac_req_buf(ac_req *r, int status, const ac_buf *b)
{
	if (!ac_buf_ok(b)) {
		ac_req_nomem(r);
		return;
	}
	ac_req_respond(r, status, JSON_TYPE, b->data != NULL ? b->data : "", b->len);
}

void ac_req_error_field(ac_req *r, int status, const char *code, const char *field,
			const char *message, const char *message_zh)
{
	ac_buf b;

	/* Written by hand: an answer about memory must not need much of it. */
	ac_buf_init(&b);
	ac_buf_puts(&b, "{\"error\":{\"code\":");
	ac_buf_json_str(&b, code);
	ac_buf_puts(&b, ",\"message\":");
	ac_buf_json_str(&b, message);
	ac_buf_puts(&b, ",\"message_zh\":");
	ac_buf_json_str(&b, message_zh);
	if (field != NULL) {
		ac_buf_puts(&b, ",\"field\":");
		ac_buf_json_str(&b, field);
	}
	ac_buf_puts(&b, ",\"request_id\":");
	ac_buf_json_str(&b, r->id_str);
	ac_buf_puts(&b, "}}");
	if (ac_buf_ok(&b))
		ac_req_respond(r, status, JSON_TYPE, b.data, b.len);
	else
		ac_req_respond(r, 500, JSON_TYPE, "{\"error\":{\"code\":\"internal\"}}", 29);
	ac_buf_free(&b);
}

void ac_req_error(ac_req *r, int status, const char *code, const char *message,
		  const char *message_zh)
{
	ac_req_error_field(r, status, code, NULL, message, message_zh);
}

void ac_req_error_more(ac_req *r, int status, const char *code, const char *message,
		       const char *message_zh, json_t *extra)
{
	json_t *err = json_pack("{s:s,s:s,s:s,s:s}", "code", code, "message", message, "message_zh",
				message_zh, "request_id", r->id_str);

	if (err != NULL && extra != NULL && json_object_update_missing(err, extra) != 0) {
		json_decref(err);
		err = NULL;
	}
	json_decref(extra);
	ac_req_json(r, status, err != NULL ? json_pack("{s:o}", "error", err) : NULL);
}

void ac_req_nomem(ac_req *r)
{
	ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足，请稍后重试");
}

void ac_req_busy(ac_req *r)
{
	ac_req_error(r, 500, "busy", "the service could not schedule the work; try again",
		     "系统繁忙，请稍后重试");
}

void ac_req_unavailable(ac_req *r)
{
	ac_req_error(r, 503, "unavailable",
		     "the database is unavailable; nothing was changed, try again",
		     "系统暂时无法连接数据库，请稍后重试");
}

void ac_req_forbidden(ac_req *r, const char *message, const char *message_zh)
{
	ac_req_error(r, 403, "forbidden", message, message_zh);
}

void ac_req_refuse(ac_req *r, ac_action act)
{
	const char *en;
	const char *zh;

	ac_perm_refusal(act, &en, &zh);
	ac_req_forbidden(r, en, zh);
}

void ac_req_not_found(ac_req *r, const char *message, const char *message_zh)
{
	ac_req_error(r, 404, "not_found", message, message_zh);
}

static void release_json(void *p)
{
	json_decref(p);
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
	if (ac_req_defer(r, release_json, body) != 0) {
		ac_req_nomem(r);
		return NULL;
	}
	return body;
}

int ac_req_known_fields(ac_req *r, json_t *body, const void *table, size_t n, size_t stride)
{
	const char *key;
	json_t *v;

	json_object_foreach(body, key, v)
	{
		size_t i = 0;

		while (i < n &&
		       strcmp(*(const char *const *)((const char *)table + i * stride), key) != 0)
			i++;
		if (i == n) {
			ac_req_error_field(r, 400, "unknown_field", key, "unknown field in request",
					   "请求中有无法识别的项目");
			return -1;
		}
	}
	return 0;
}

int ac_req_param(ac_req *r, const char *name, char *buf, size_t bufsz)
{
	int rc = ac_url_query_param(r->query, name, buf, bufsz);

	if (rc < 0)
		ac_req_error_field(r, 400, "invalid_parameter", name,
				   "the query parameter is too long or badly encoded",
				   "查询条件过长或格式错误，请缩短后重试");
	return rc;
}

int ac_req_param_int(ac_req *r, const char *name, int def, int min, int max, int *out)
{
	char buf[24];
	char en[96];
	char zh[96];
	char *end;
	long v;
	int rc = ac_req_param(r, name, buf, sizeof(buf));

	*out = def;
	if (rc < 0)
		return -1;
	if (rc == 0 || buf[0] == '\0')
		return 0;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno == 0 && *end == '\0' && v >= min && v <= max) {
		*out = (int)v;
		return 0;
	}
	snprintf(en, sizeof(en), "%s must be an integer from %d to %d", name, min, max);
	snprintf(zh, sizeof(zh), "%s必须是%d到%d之间的整数", name, min, max);
	ac_req_error_field(r, 400, "invalid_parameter", name, en, zh);
	return -1;
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
