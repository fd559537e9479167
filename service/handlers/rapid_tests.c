/*
 * Rapid tests (快检):
 *   POST /api/v1/rapid-tests                  records one (staff: inspectors
 *                                             anywhere, regulators within
 *                                             their jurisdiction)
 *   POST /api/v1/rapid-tests/{id}/revocation  revokes, in one call, the batch
 *                                             a failed test condemns
 * A failed test blocks the producer from issuing for that product until a
 * passing retest (sql/0008_rapid_tests.sql; the issuing statement checks).
 * The batch is the certificate the test sampled, or the producer's
 * certificates of that product from the days before the test; unless
 * "cascade": false, everything made from them downstream is revoked too
 * (record_rapid_test() and revoke_test_batch(), sql/0014_inspection_sql.sql).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_jurisdiction.h"
#include "ac_log.h"

#define DEFAULT_DAYS 7
#define MAX_DAYS     90
#define MAX_REASON   1000

/* POST /api/v1/rapid-tests */

typedef struct test_ctx {
	const char *result; /* "pass" or "fail", in the body */
} test_ctx;

/* A string of 1 to max bytes, or NULL. */
static const char *text_of(json_t *body, const char *key, size_t max)
{
	json_t *v = json_object_get(body, key);

	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
		return NULL;
	return json_string_value(v);
}

static int is_one_of(const char *s, const char *const *list)
{
	for (; s != NULL && *list != NULL; list++) {
		if (strcmp(s, *list) == 0)
			return 1;
	}
	return 0;
}

static void on_recorded(ac_req *r, const ac_db_result *res)
{
	test_ctx *ctx = r->ctx;
	const char *id = ac_db_field(res, 0, "id");
	int fail = strcmp(ctx->result, "fail") == 0;
	char href[80];
	json_t *o;

	if (!ac_db_bool(res, 0, ac_db_col(res, "subject_found"))) {
		ac_req_error_field(r, 404, "unknown_subject", "subject", "no such subject",
				   "找不到这个生产主体");
		return;
	}
	if (id == NULL) {
		ac_req_error(r, 403, "outside_jurisdiction",
			     "the producer is outside your jurisdiction", "该主体不在您的辖区内");
		return;
	}
	ac_log_info("rapid", "test %s recorded (%s) id=%s", id, ctx->result, r->id_str);
	o = json_pack("{s:I,s:s,s:b,s:s}", "id", (json_int_t)strtoll(id, NULL, 10), "result",
		      ctx->result, "blocked", fail, "message_zh",
		      fail ? "不合格：该主体该产品已暂停开具合格证，复检合格后恢复" : "合格");
	/* A failure offers the one-call revocation of what it condemns. */
	if (o != NULL && fail) {
		snprintf(href, sizeof(href), "/api/v1/rapid-tests/%s/revocation", id);
		json_object_set_new(
		    o, "batch_certificates",
		    json_integer(strtoll(ac_db_field(res, 0, "batch_certificates"), NULL, 10)));
		json_object_set_new(o, "revocation", json_string(href));
	}
	ac_req_json(r, 201, o);
}

static void handle_record(ac_req *r)
{
	static const char *const methods[] = { "colloidal_gold", "enzyme_inhibition", "lab", NULL };
	static const char *const results[] = { "pass", "fail", NULL };
	json_t *body;
	test_ctx *ctx = ac_req_ctx(r, test_ctx, &body);
	json_t *subject = json_object_get(body, "subject");
	json_t *product = json_object_get(body, "product");
	json_t *cert = json_object_get(body, "certificate");
	const ac_product *p = NULL;
	const char *method, *items, *station, *tester;
	ac_db_call call;

	if (ctx == NULL)
		return;
	if (json_is_string(product))
		p = ac_catalog_by_name(ac_app_of(r)->catalog, json_string_value(product));
	method = text_of(body, "method", 32);
	items = text_of(body, "items", 500);
	ctx->result = text_of(body, "result", 8);
	station = text_of(body, "station", 200);
	tester = text_of(body, "tester", 100);
	if (!json_is_integer(subject) || json_integer_value(subject) <= 0 ||
	    json_integer_value(subject) > INT32_MAX || p == NULL || !is_one_of(method, methods) ||
	    items == NULL || !is_one_of(ctx->result, results) || station == NULL ||
	    tester == NULL) {
		ac_req_error(r, 400, "invalid_test",
			     "give subject, product, method (colloidal_gold, enzyme_inhibition, "
			     "lab), items, result (pass or fail), station and tester",
			     "请填写完整：主体、产品、检测方法、检测项目、结果（合格/"
			     "不合格）、检测点、检测人");
		return;
	}
	ac_db_call_init(&call, "record_rapid_test");
	ac_db_arg_int(&call, "p_subject", "integer", json_integer_value(subject));
	ac_db_arg_int(&call, "p_product", "integer", p->id);
	if (json_is_integer(cert))
		ac_db_arg_int(&call, "p_serial", "bigint", json_integer_value(cert));
	else
		ac_db_arg(&call, "p_serial", "bigint", NULL);
	ac_db_arg(&call, "p_method", "text", method);
	ac_db_arg(&call, "p_items", "text", items);
	ac_db_arg(&call, "p_result", "text", ctx->result);
	ac_db_arg(&call, "p_station", "text", station);
	ac_db_arg(&call, "p_tester", "text", tester);
	/* The sampled batch, as the tester wrote it, is optional. */
	ac_db_arg(&call, "p_batch", "text", text_of(body, "batch", 200));
	ac_db_arg_int(&call, "p_recorded_by", "integer", r->who->subject_id);
	/* Inspectors test anywhere; regulators within their jurisdiction. */
	ac_jurisdiction_args(&call, r->who);
	ac_req_call_as(r, &call, on_recorded);
}

/* POST /api/v1/rapid-tests/{id}/revocation {"reason", "days", "cascade"}, all optional */

static void on_batch_revoked(ac_req *r, const ac_db_result *res)
{
	const char *revoked = ac_db_field(res, 0, "revoked");
	const char *count = ac_db_field(res, 0, "revoked_count");
	const char *batch = ac_db_field(res, 0, "batch");
	const char *cascaded = ac_db_field(res, 0, "cascaded");
	const char *result = ac_db_field(res, 0, "result");
	ac_buf b;

	if (!ac_db_bool(res, 0, ac_db_col(res, "found"))) {
		ac_req_not_found(r, "no such rapid test", "查不到这条快检记录");
		return;
	}
	if (result == NULL || strcmp(result, "fail") != 0) {
		ac_req_error(r, 409, "test_passed", "only a failed test's batch is revoked",
			     "该快检结果为合格，无需撤销");
		return;
	}
	if (!ac_db_bool(res, 0, ac_db_col(res, "covered"))) {
		ac_req_error(r, 403, "outside_jurisdiction",
			     "the producer is outside your jurisdiction",
			     "该主体不在您的辖区内，无权撤销");
		return;
	}
	ac_log_info("rapid", "test %s: revoked %s of a batch of %s, %s downstream id=%s",
		    r->param[0], count, batch, cascaded, r->id_str);
	ac_buf_init(&b);
	ac_buf_printf(&b, "{\"test\":%lld,\"batch\":%s,\"revoked\":%s,\"cascaded\":%s,",
		      strtoll(r->param[0], NULL, 10), batch, revoked, cascaded);
	ac_buf_printf(&b,
		      "\"message_zh\":\"已撤销该批次合格证 %s 张，下游再次开具的合格证 %s 张\"}",
		      count, cascaded);
	ac_req_buf(r, 200, &b);
	ac_buf_free(&b);
}

static void handle_revocation(ac_req *r)
{
	json_t *body = NULL;
	json_t *reason;
	json_t *days;
	json_t *cascade;
	ac_db_call call;

	/* No body at all is an empty one: every field is optional. */
	if (r->body != NULL && r->body_len > 0) {
		body = ac_req_body_object(r);
		if (body == NULL)
			return;
	}
	reason = json_object_get(body, "reason");
	days = json_object_get(body, "days");
	cascade = json_object_get(body, "cascade");
	if ((reason != NULL && (!json_is_string(reason) || json_string_length(reason) == 0 ||
				json_string_length(reason) > MAX_REASON)) ||
	    (days != NULL && (!json_is_integer(days) || json_integer_value(days) < 1 ||
			      json_integer_value(days) > MAX_DAYS)) ||
	    (cascade != NULL && !json_is_boolean(cascade))) {
		ac_req_error(r, 400, "invalid_revocation",
			     "reason (at most 1000 bytes), days (1 to 90, default 7) and cascade "
			     "(true or false, default true) are optional",
			     "撤销原因最多1000字节；追溯天数为1到90天（默认7天）");
		return;
	}
	ac_db_call_init(&call, "revoke_test_batch");
	ac_db_arg(&call, "p_test", "bigint", r->param[0]);
	ac_db_arg_int(&call, "p_days", "integer",
		      days != NULL ? json_integer_value(days) : DEFAULT_DAYS);
	ac_db_arg(&call, "p_cascade", "boolean", json_is_false(cascade) ? "false" : "true");
	ac_db_arg(&call, "p_reason", "text", reason != NULL ? json_string_value(reason) : NULL);
	ac_jurisdiction_args(&call, r->who);
	ac_req_call_as(r, &call, on_batch_revoked);
}

static const ac_route routes[] = {
	AC_ROUTE("POST", "/api/v1/rapid-tests", handle_record, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_RECORD_TEST),
	AC_ROUTE("POST", "/api/v1/rapid-tests/{id}/revocation", handle_revocation,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_REVOKE),
};

AC_ROUTE_TABLE(ac_rapid_test_routes, routes);
