/*
 * Rapid tests (快检): POST /api/v1/rapid-tests records one (staff: inspectors
 * anywhere, regulators within their jurisdiction); GET /api/v1/rapid-tests
 * ?subject=ID lists a producer's tests (staff, or the producer itself). A
 * failed test blocks the producer from issuing for that product until a
 * passing retest (sql/0008_rapid_tests.sql; the issuing statement checks).
 *
 * POST /api/v1/rapid-tests/{id}/revocation revokes, in one call, the batch a
 * failed test condemns (the certificate it sampled, or the producer's
 * certificates of that product from the days before the test) and, unless
 * "cascade": false, every certificate made from them downstream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_error.h"
#include "ac_log.h"
#include "ac_perm.h"

typedef struct rapid_ctx {
	ac_req *r;
	char result[8];
} rapid_ctx;

static void on_recorded(void *data, const ac_db_result *res, int err, const char *msg)
{
	rapid_ctx *ctx = data;
	ac_req *r = ctx->r;

	if (err != 0) {
		ac_log_error("rapid", "could not record test: %s id=%s", msg, r->id_str);
		ac_req_unavailable(r);
	} else if (ac_db_get(res, 0, 0)[0] == '0') {
		ac_req_error_field(r, 404, "unknown_subject", "subject", "no such subject",
				   "找不到这个生产主体");
	} else if (ac_db_get(res, 0, 1) == NULL) {
		ac_req_error(r, 403, "outside_jurisdiction",
			     "the producer is outside your jurisdiction", "该主体不在您的辖区内");
	} else {
		int fail = strcmp(ctx->result, "fail") == 0;

		ac_log_info("rapid", "test %s recorded (%s) id=%s", ac_db_get(res, 0, 1),
			    ctx->result, r->id_str);
		json_t *o = json_pack(
		    "{s:I,s:s,s:b,s:s}", "id", (json_int_t)strtoll(ac_db_get(res, 0, 1), NULL, 10),
		    "result", ctx->result, "blocked", fail, "message_zh",
		    fail ? "不合格：该主体该产品已暂停开具合格证，复检合格后恢复" : "合格");

		/* A failure offers the one-call revocation of what it condemns. */
		if (fail) {
			char href[80];

			snprintf(href, sizeof(href), "/api/v1/rapid-tests/%s/revocation",
				 ac_db_get(res, 0, 1));
			json_object_set_new(o, "batch_certificates",
					    json_integer(strtoll(ac_db_get(res, 0, 2), NULL, 10)));
			json_object_set_new(o, "revocation", json_string(href));
		}
		ac_req_json(r, 201, o);
	}
	free(ctx);
	ac_req_unref(r);
}

static const char *pick(json_t *body, const char *key, size_t max)
{
	json_t *v = json_object_get(body, key);

	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
		return NULL;
	return json_string_value(v);
}

static void record_authed(ac_req *r, const ac_principal *p)
{
	static const char *methods[] = { "colloidal_gold", "enzyme_inhibition", "lab", NULL };
	ac_app *app = r->app;
	const ac_product *product;
	const char *values[12];
	char subject[24], product_id[16], serial[24], recorder[16], lo[24], hi[24];
	char actor[128];
	const char *method, *items, *result, *station, *tester, *batch;
	rapid_ctx *ctx;
	json_t *body;
	json_t *v;
	int ok = 0;

	if (!ac_perm_is_staff(p)) {
		ac_req_error(r, 403, "forbidden", "rapid tests are recorded by testing staff",
			     "快检结果由检测人员录入");
		return;
	}
	body = ac_req_body_object(r);
	if (body == NULL)
		return;
	v = json_object_get(body, "subject");
	product =
	    json_is_string(json_object_get(body, "product"))
		? ac_app_product_by_name(app, json_string_value(json_object_get(body, "product")))
		: NULL;
	method = pick(body, "method", 32);
	items = pick(body, "items", 500);
	result = pick(body, "result", 8);
	station = pick(body, "station", 200);
	tester = pick(body, "tester", 100);
	batch = pick(body, "batch", 200);
	for (int i = 0; method != NULL && methods[i] != NULL; i++)
		ok |= strcmp(method, methods[i]) == 0;
	if (!json_is_integer(v) || json_integer_value(v) <= 0 || product == NULL || !ok ||
	    items == NULL || result == NULL ||
	    (strcmp(result, "pass") != 0 && strcmp(result, "fail") != 0) || station == NULL ||
	    tester == NULL) {
		json_decref(body);
		ac_req_error(r, 400, "invalid_test",
			     "give subject, product, method (colloidal_gold, enzyme_inhibition, "
			     "lab), items, result (pass or fail), station and tester",
			     "请填写完整：主体、产品、检测方法、检测项目、结果（合格/"
			     "不合格）、检测点、检测人");
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		json_decref(body);
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ctx->r = r;
	snprintf(ctx->result, sizeof(ctx->result), "%s", result);
	snprintf(subject, sizeof(subject), "%lld", (long long)json_integer_value(v));
	snprintf(product_id, sizeof(product_id), "%d", product->id);
	v = json_object_get(body, "certificate");
	snprintf(serial, sizeof(serial), "%lld",
		 json_is_integer(v) ? (long long)json_integer_value(v) : 0LL);
	snprintf(recorder, sizeof(recorder), "%d", p->subject_id);
	/* Inspectors test anywhere; regulators within their jurisdiction. */
	ac_perm_range(p, lo, hi);
	values[0] = subject;
	values[1] = product_id;
	values[2] = json_is_integer(v) ? serial : NULL;
	values[3] = method;
	values[4] = items;
	values[5] = result;
	values[6] = station;
	values[7] = tester;
	values[8] = recorder;
	values[9] = lo;
	values[10] = hi;
	values[11] = batch;
	ac_perm_actor(p, actor, sizeof(actor));
	ac_req_ref(r);
	if (ac_db_query_as(
		app->db, actor,
		"WITH s AS (SELECT id, region_code FROM subject WHERE id = $1::int), "
		"ins AS (INSERT INTO rapid_test (subject_id, product_id, serial, method, "
		"items, result, station, tester, recorded_by, batch) SELECT s.id, $2::int, "
		"$3::bigint, $4, $5, $6, $7, $8, $9::int, $12 FROM s WHERE s.region_code "
		"BETWEEN $10::bigint AND $11::bigint RETURNING id) "
		"SELECT (SELECT count(*) FROM s), (SELECT id FROM ins), CASE WHEN $3::bigint IS "
		"NOT NULL THEN 1 ELSE (SELECT count(*) FROM certificate WHERE issuer_id = "
		"$1::int AND product_id = $2::int AND issued_at >= now() - interval '7 days' "
		"AND revoked_at IS NULL) END",
		12, values, NULL, on_recorded, ctx) != 0) {
		free(ctx);
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
	json_decref(body);
}

void ac_handle_rapid_test(ac_req *r)
{
	ac_auth(r, record_authed);
}

/* POST /api/v1/rapid-tests/{id}/revocation {"reason", "days", "cascade"} */

typedef struct batch_ctx {
	ac_req *r;
	char id[24];
} batch_ctx;

static void on_batch_revoked(void *data, const ac_db_result *res, int err, const char *msg)
{
	batch_ctx *ctx = data;
	ac_req *r = ctx->r;
	json_t *revoked;
	const char *list;

	if (err != 0) {
		ac_log_error("rapid", "could not revoke the batch of test %s: %s id=%s", ctx->id,
			     msg, r->id_str);
		ac_req_unavailable(r);
		goto out;
	}
	/* tests, result, covered, batch size, revoked roots, cascaded */
	if (ac_db_get(res, 0, 0)[0] == '0') {
		ac_req_error(r, 404, "not_found", "no such rapid test", "查不到这条快检记录");
		goto out;
	}
	if (strcmp(ac_db_get(res, 0, 1), "fail") != 0) {
		ac_req_error(r, 409, "test_passed", "only a failed test's batch is revoked",
			     "该快检结果为合格，无需撤销");
		goto out;
	}
	if (ac_db_get(res, 0, 2)[0] != 't') {
		ac_req_error(r, 403, "outside_jurisdiction",
			     "the producer is outside your jurisdiction",
			     "该主体不在您的辖区内，无权撤销");
		goto out;
	}
	revoked = json_array();
	list = ac_db_get(res, 0, 4);
	while (list != NULL && *list != '\0') {
		json_array_append_new(revoked, json_integer(strtoll(list, NULL, 10)));
		list = strchr(list, ',');
		list = list ? list + 1 : NULL;
	}
	ac_log_info("rapid", "test %s: revoked %zu of a batch of %s, %s downstream id=%s", ctx->id,
		    json_array_size(revoked), ac_db_get(res, 0, 3), ac_db_get(res, 0, 5),
		    r->id_str);
	{
		char zh[160];

		snprintf(zh, sizeof(zh), "已撤销该批次合格证 %zu 张，下游再次开具的合格证 %s 张",
			 json_array_size(revoked), ac_db_get(res, 0, 5));
		ac_req_json(r, 200,
			    json_pack("{s:I,s:I,s:o,s:I,s:s}", "test",
				      (json_int_t)strtoll(ctx->id, NULL, 10), "batch",
				      (json_int_t)strtoll(ac_db_get(res, 0, 3), NULL, 10),
				      "revoked", revoked, "cascaded",
				      (json_int_t)strtoll(ac_db_get(res, 0, 5), NULL, 10),
				      "message_zh", zh));
	}
out:
	free(ctx);
	ac_req_unref(r);
}

static const char batch_revoke_sql[] =
    "WITH RECURSIVE t AS (SELECT t.id, t.result, s.region_code, format('快检不合格：%s（快检记录 "
    "%s，%s）', t.items, t.id, t.station) AS why FROM rapid_test t JOIN subject s ON s.id = "
    "t.subject_id WHERE t.id = $1::bigint), "
    "ok AS (SELECT * FROM t WHERE result = 'fail' AND region_code BETWEEN $2::bigint AND "
    "$3::bigint), "
    "roots AS (SELECT b AS serial FROM ok, rapid_test_batch(ok.id, $4::int) AS b), "
    "down(serial, depth) AS (SELECT serial, 0 FROM roots UNION SELECT ci.serial, d.depth + 1 "
    "FROM certificate_input ci JOIN down d ON ci.input_serial = d.serial WHERE $5::bool AND "
    "d.depth < 64), "
    "upd AS (UPDATE certificate c SET revoked_at = now(), revoke_reason = CASE WHEN c.serial IN "
    "(SELECT serial FROM roots) THEN coalesce($6, (SELECT why FROM ok)) ELSE coalesce($6, "
    "(SELECT why FROM ok)) || '（上游合格证已撤销）' END FROM (SELECT DISTINCT serial FROM down) "
    "d WHERE c.serial = d.serial AND c.revoked_at IS NULL RETURNING c.serial, c.serial IN "
    "(SELECT serial FROM roots) AS root) "
    "SELECT (SELECT count(*) FROM t), (SELECT result FROM t), EXISTS (SELECT 1 FROM ok), "
    "(SELECT count(*) FROM roots), (SELECT string_agg(serial::text, ',' ORDER BY serial) FROM "
    "upd WHERE root), (SELECT count(*) FROM upd WHERE NOT root)";

static void batch_revoke_authed(ac_req *r, const ac_principal *p)
{
	ac_app *app = r->app;
	batch_ctx *ctx;
	const char *values[6];
	char lo[24], hi[24], days[8], actor[128];
	json_t *body = NULL;
	json_t *reason;
	json_t *d;
	json_t *cascade;

	if (!ac_perm_is_regulator(p)) {
		ac_req_error(r, 403, "forbidden", "only a regulator may revoke certificates",
			     "只有监管人员可以撤销合格证");
		return;
	}
	if (r->body != NULL && r->body_len > 0 && (body = ac_req_body_object(r)) == NULL)
		return;
	reason = json_object_get(body, "reason");
	d = json_object_get(body, "days");
	cascade = json_object_get(body, "cascade");
	if ((reason != NULL && (!json_is_string(reason) || json_string_length(reason) == 0 ||
				json_string_length(reason) > 1000)) ||
	    (d != NULL &&
	     (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > 90)) ||
	    (cascade != NULL && !json_is_boolean(cascade))) {
		json_decref(body);
		ac_req_error(r, 400, "invalid_revocation",
			     "reason (at most 1000 bytes), days (1 to 90, default 7) and cascade "
			     "(true or false, default true) are optional",
			     "撤销原因最多1000字节；追溯天数为1到90天（默认7天）");
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		json_decref(body);
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ctx->r = r;
	snprintf(ctx->id, sizeof(ctx->id), "%s", (const char *)r->handler_data);
	snprintf(days, sizeof(days), "%lld", d ? (long long)json_integer_value(d) : 7LL);
	ac_perm_range(p, lo, hi);
	values[0] = ctx->id;
	values[1] = lo;
	values[2] = hi;
	values[3] = days;
	values[4] = json_is_false(cascade) ? "false" : "true";
	values[5] = reason ? json_string_value(reason) : NULL;
	ac_perm_actor(p, actor, sizeof(actor));
	ac_req_ref(r);
	if (ac_db_query_as(app->db, actor, batch_revoke_sql, 6, values, NULL, on_batch_revoked,
			   ctx) != 0) {
		free(ctx);
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
	json_decref(body);
}

void ac_handle_test_revocation(ac_req *r, const char *id)
{
	if (strspn(id, "0123456789") != strlen(id) || strlen(id) > 18) {
		ac_req_error(r, 404, "not_found", "no such rapid test", "查不到这条快检记录");
		return;
	}
	r->handler_data = strdup(id);
	if (r->handler_data == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	r->handler_free = free;
	ac_auth(r, batch_revoke_authed);
}
