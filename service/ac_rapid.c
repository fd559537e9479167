/*
 * Rapid tests (快检): POST /api/v1/rapid-tests records one (staff: inspectors
 * anywhere, regulators within their jurisdiction); GET /api/v1/rapid-tests
 * ?subject=ID lists a producer's tests (staff, or the producer itself). A
 * failed test blocks the producer from issuing for that product until a
 * passing retest (sql/0008_rapid_tests.sql; the issuing statement checks).
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
		ac_req_json(r, 201,
			    json_pack("{s:I,s:s,s:b,s:s}", "id",
				      (json_int_t)strtoll(ac_db_get(res, 0, 1), NULL, 10), "result",
				      ctx->result, "blocked", fail, "message_zh",
				      fail ? "不合格：该主体该产品已暂停开具合格证，复检合格后恢复"
					   : "合格"));
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
	const char *values[11];
	char subject[24], product_id[16], serial[24], recorder[16], lo[24], hi[24];
	char actor[128];
	const char *method, *items, *result, *station, *tester;
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
	if (strcmp(p->role, "county_regulator") == 0) {
		snprintf(lo, sizeof(lo), "%lld", (long long)(p->region_code / 1000000 * 1000000));
		snprintf(hi, sizeof(hi), "%lld",
			 (long long)(p->region_code / 1000000 * 1000000 + 999999));
	} else if (strcmp(p->role, "township_regulator") == 0) {
		snprintf(lo, sizeof(lo), "%lld", (long long)(p->region_code / 1000 * 1000));
		snprintf(hi, sizeof(hi), "%lld", (long long)(p->region_code / 1000 * 1000 + 999));
	} else {
		snprintf(lo, sizeof(lo), "0");
		snprintf(hi, sizeof(hi), "999999999999");
	}
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
	ac_perm_actor(p, actor, sizeof(actor));
	ac_req_ref(r);
	if (ac_db_query_as(
		app->db, actor,
		"WITH s AS (SELECT id, region_code FROM subject WHERE id = $1::int), "
		"ins AS (INSERT INTO rapid_test (subject_id, product_id, serial, method, "
		"items, result, station, tester, recorded_by) SELECT s.id, $2::int, "
		"$3::bigint, $4, $5, $6, $7, $8, $9::int FROM s WHERE s.region_code "
		"BETWEEN $10::bigint AND $11::bigint RETURNING id) "
		"SELECT (SELECT count(*) FROM s), (SELECT id FROM ins)",
		11, values, NULL, on_recorded, ctx) != 0) {
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
