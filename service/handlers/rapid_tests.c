/*
 * Rapid tests (快检):
 *   POST /api/v1/rapid-tests                  records a testing station's
 *                                             test (staff: inspectors
 *                                             anywhere, regulators within
 *                                             their jurisdiction)
 *   POST /api/v1/rapid-tests/own              records a producer's own test:
 *                                             a self test or a commissioned
 *                                             one (a lab's report)
 *   PUT  /api/v1/rapid-tests/{id}/photo       keeps the photo of an own
 *                                             test's strip or report
 *   GET  /api/v1/rapid-tests                  lists tests: a producer its
 *                                             own, staff their jurisdiction
 *   POST /api/v1/rapid-tests/{id}/revocation  revokes, in one call, the batch
 *                                             a failed test condemns
 * A failed test of any kind blocks the producer from issuing for that
 * product until a passing retest (sql/0008_rapid_tests.sql; the issuing
 * statement checks); an own test's pass counts once its photo is kept, and
 * a self test lifts only a self test's block (sql/0020_tested_before_sale.sql).
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
#define MAX_PHOTO    (2 * 1024 * 1024) /* bytes of JPEG */
#define MAX_LIMIT    200	       /* tests a page */
#define MAX_OFFSET   1000000

static const char *const results[] = { "pass", "fail", NULL };

/* 403: the producer is not in the caller's jurisdiction. */
static void outside_jurisdiction(ac_req *r)
{
	ac_req_error(r, 403, "outside_jurisdiction", "the producer is outside your jurisdiction",
		     "该主体不在您的辖区内");
}

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
		outside_jurisdiction(r);
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

/* POST /api/v1/rapid-tests/own: a producer's own test, self or commissioned */

enum { KIND_SELF = 1, KIND_COMMISSIONED = 2 };

static const char *const strip_methods[] = { "colloidal_gold", "enzyme_inhibition", NULL };

/* The fields of an own test: the argument of record_own_test() each fills,
 * at most how many bytes, the kinds that need it and those that may give it. */
static const struct own_field {
	const char *key;
	const char *arg;
	size_t max;
	unsigned need;
	unsigned may;
	const char *const *values; /* or NULL: any text */
} own_fields[] = {
	{ "method", "p_method", 32, KIND_SELF, KIND_SELF, strip_methods },
	{ "items", "p_items", 500, KIND_SELF | KIND_COMMISSIONED, KIND_SELF | KIND_COMMISSIONED,
	  NULL },
	{ "result", "p_result", 8, KIND_SELF | KIND_COMMISSIONED, KIND_SELF | KIND_COMMISSIONED,
	  results },
	{ "tester", "p_tester", 100, 0, KIND_SELF, NULL },
	{ "lab", "p_lab", 200, KIND_COMMISSIONED, KIND_COMMISSIONED, NULL },
	{ "report_number", "p_report_number", 100, KIND_COMMISSIONED, KIND_COMMISSIONED, NULL },
	{ "batch", "p_batch", 200, 0, KIND_SELF | KIND_COMMISSIONED, NULL },
};

#define NOWN (sizeof(own_fields) / sizeof(own_fields[0]))

/* What each kind needs, in the words of a refusal. */
static const struct own_kind {
	const char *name;
	unsigned bit;
	const char *en;
	const char *zh;
} own_kinds[] = {
	{ "self", KIND_SELF,
	  "a self test gives product, method (colloidal_gold or enzyme_inhibition), items and "
	  "result (pass or fail); tester and batch are optional",
	  "自检请填写：产品、检测方法（胶体金或酶抑制法）、检测项目、结果（合格/不合格）；"
	  "检测人、批次可不填" },
	{ "commissioned", KIND_COMMISSIONED,
	  "a commissioned test gives product, lab, report_number, items and result (pass or "
	  "fail); batch is optional",
	  "委托检测请填写：产品、检测机构、报告编号、检测项目、结果（合格/不合格）；批次可不填" },
};

typedef struct own_ctx {
	const struct own_kind *kind;
	const char *result;
	const char *value[NOWN];
} own_ctx;

static void on_own_recorded(ac_req *r, const ac_db_result *res)
{
	own_ctx *ctx = r->ctx;
	const char *id = ac_db_field(res, 0, "id");
	int fail = strcmp(ctx->result, "fail") == 0;
	const char *zh;
	char photo[80];

	if (id == NULL) {
		ac_req_unavailable(r);
		return;
	}
	ac_log_info("rapid", "own test %s recorded (%s, %s) id=%s", id, ctx->kind->name,
		    ctx->result, r->id_str);
	snprintf(photo, sizeof(photo), "/api/v1/rapid-tests/%s/photo", id);
	zh = fail ? "不合格：该产品已暂停开具合格证，复检合格后恢复（不合格不采收、不上市）"
		  : "已记录。请上传试纸或检测报告照片，上传后即可作为开具合格证的检测依据";
	ac_req_json(r, 201,
		    json_pack("{s:I,s:s,s:s,s:b,s:s,s:s}", "id", (json_int_t)strtoll(id, NULL, 10),
			      "kind", ctx->kind->name, "result", ctx->result, "blocked", fail,
			      "photo", photo, "message_zh", zh));
}

/* Whether key is a field of ctx's kind (or one every own test has). */
static int own_key(const own_ctx *ctx, const char *key)
{
	if (strcmp(key, "kind") == 0 || strcmp(key, "product") == 0 || strcmp(key, "subject") == 0)
		return 1;
	for (size_t i = 0; i < NOWN; i++) {
		if (strcmp(own_fields[i].key, key) == 0)
			return (own_fields[i].may & ctx->kind->bit) != 0;
	}
	return 0;
}

/* Reads the kind's fields into ctx. Returns 0, or -1 after answering. */
static int parse_own(ac_req *r, own_ctx *ctx, json_t *body)
{
	const char *key;
	json_t *v;

	json_object_foreach(body, key, v)
	{
		if (!own_key(ctx, key)) {
			ac_req_error_field(r, 400, "invalid_test", key, ctx->kind->en,
					   ctx->kind->zh);
			return -1;
		}
	}
	for (size_t i = 0; i < NOWN; i++) {
		const struct own_field *f = &own_fields[i];
		json_t *given = json_object_get(body, f->key);

		if (given == NULL && !(f->need & ctx->kind->bit))
			continue;
		ctx->value[i] = text_of(body, f->key, f->max);
		if (ctx->value[i] == NULL ||
		    (f->values != NULL && !is_one_of(ctx->value[i], f->values))) {
			ac_req_error_field(r, 400, "invalid_test", f->key, ctx->kind->en,
					   ctx->kind->zh);
			return -1;
		}
		if (strcmp(f->key, "result") == 0)
			ctx->result = ctx->value[i];
	}
	return 0;
}

static void handle_own(ac_req *r)
{
	json_t *body;
	own_ctx *ctx = ac_req_ctx(r, own_ctx, &body);
	const char *kind = text_of(body, "kind", 16);
	const char *product = text_of(body, "product", 200);
	json_t *subject = json_object_get(body, "subject");
	const ac_product *p = NULL;
	ac_db_call call;

	if (ctx == NULL)
		return;
	for (size_t i = 0; kind != NULL && i < sizeof(own_kinds) / sizeof(own_kinds[0]); i++) {
		if (strcmp(own_kinds[i].name, kind) == 0)
			ctx->kind = &own_kinds[i];
	}
	if (ctx->kind == NULL) {
		ac_req_error_field(r, 400, "invalid_test", "kind",
				   "kind is self (your own test) or commissioned (a lab's report)",
				   "检测类型须为自检（self）或委托检测（commissioned）");
		return;
	}
	if (subject != NULL &&
	    (!json_is_integer(subject) || json_integer_value(subject) != r->who->subject_id)) {
		ac_req_refuse(r, AC_ACT_RECORD_OWN_TEST);
		return;
	}
	if (product != NULL)
		p = ac_catalog_by_name(ac_app_of(r)->catalog, product);
	if (p == NULL) {
		ac_req_error_field(r, 400, "invalid_test", "product", ctx->kind->en, ctx->kind->zh);
		return;
	}
	if (parse_own(r, ctx, body) != 0)
		return;
	ac_db_call_init(&call, "record_own_test");
	ac_db_arg_int(&call, "p_subject", "integer", r->who->subject_id);
	ac_db_arg_int(&call, "p_product", "integer", p->id);
	ac_db_arg(&call, "p_kind", "text", ctx->kind->name);
	for (size_t i = 0; i < NOWN; i++)
		ac_db_arg(&call, own_fields[i].arg, "text", ctx->value[i]);
	ac_req_call_as(r, &call, on_own_recorded);
}

/* PUT /api/v1/rapid-tests/{id}/photo {"photo": "<the JPEG, base64>"} */

/*
 * The bytes that base64 text of len characters decodes to, or -1 when it
 * is not base64 (padded, no line breaks).
 */
static long base64_bytes(const char *s, size_t len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789+/";
	size_t body = strspn(s, alphabet);
	size_t pad = len - body;

	if (len == 0 || len % 4 != 0 || pad > 2 || strspn(s + body, "=") != pad)
		return -1;
	return (long)(len / 4 * 3 - pad);
}

static void on_photo_kept(ac_req *r, const ac_db_result *res)
{
	const char *sha = ac_db_field(res, 0, "sha256");
	const char *bytes = ac_db_field(res, 0, "bytes");

	if (!ac_db_bool(res, 0, ac_db_col(res, "found"))) {
		ac_req_not_found(r, "no such rapid test", "查不到这条检测记录");
		return;
	}
	if (!ac_db_bool(res, 0, ac_db_col(res, "own"))) {
		ac_req_forbidden(r, "only the photo of your own self or commissioned test",
				 "只能为本主体的自检或委托检测记录上传照片");
		return;
	}
	if (sha == NULL || bytes == NULL) {
		ac_req_error(r, 409, "photo_exists",
			     "this test has its photo; it is never replaced",
			     "该检测记录已有照片，不能更换");
		return;
	}
	ac_log_info("rapid", "photo of test %s kept (%s bytes) id=%s", r->param[0], bytes,
		    r->id_str);
	ac_req_json(r, 201,
		    json_pack("{s:I,s:s,s:I}", "test", (json_int_t)strtoll(r->param[0], NULL, 10),
			      "sha256", sha, "bytes", (json_int_t)strtoll(bytes, NULL, 10)));
}

static void handle_photo(ac_req *r)
{
	json_t *body = ac_req_body_object(r);
	json_t *photo = json_object_get(body, "photo");
	const char *s = json_string_value(photo);
	long n = s != NULL ? base64_bytes(s, json_string_length(photo)) : -1;
	ac_db_call call;

	if (body == NULL)
		return;
	if (n < 0) {
		ac_req_error_field(
		    r, 400, "invalid_photo", "photo",
		    "photo is the JPEG, base64-encoded (padded, without line breaks)",
		    "请上传照片：JPEG 文件的 base64 编码");
		return;
	}
	if (n > MAX_PHOTO) {
		ac_req_error_field(r, 413, "photo_too_large", "photo", "the photo is over 2 MB",
				   "照片不能超过 2MB，请压缩后重新上传");
		return;
	}
	/* A JPEG starts with FF D8 FF, in base64 "/9j/". */
	if (strncmp(s, "/9j/", 4) != 0) {
		ac_req_error_field(r, 415, "photo_not_jpeg", "photo", "the photo must be a JPEG",
				   "照片须为 JPEG 格式");
		return;
	}
	ac_db_call_init(&call, "keep_test_photo");
	ac_db_arg(&call, "p_test", "bigint", r->param[0]);
	ac_db_arg_int(&call, "p_subject", "integer", r->who->subject_id);
	ac_db_arg(&call, "p_photo", "text", s);
	ac_req_call_as(r, &call, on_photo_kept);
}

/* GET /api/v1/rapid-tests?subject=&product=&limit=&offset= */

static void on_list(ac_req *r, const ac_db_result *res)
{
	if (!ac_db_bool(res, 0, ac_db_col(res, "subject_covered")))
		outside_jurisdiction(r);
	else
		ac_req_db_document(r, res, "doc", "application/json; charset=utf-8");
}

/* The product filter as its id, 0 without one; -1 after answering. */
static int product_param(ac_req *r)
{
	char name[256];
	const ac_product *p;
	int rc = ac_req_param(r, "product", name, sizeof(name));

	if (rc <= 0 || name[0] == '\0')
		return rc;
	p = ac_catalog_by_name(ac_app_of(r)->catalog, name);
	if (p == NULL) {
		ac_req_error_field(r, 400, "invalid_parameter", "product",
				   "product is a name in the catalogue", "产品名称不在产品目录中");
		return -1;
	}
	return p->id;
}

static void handle_list(ac_req *r)
{
	int own = ac_perm_is_role(r->who, "producer");
	int subject, product, limit, offset;
	ac_db_call call;

	if (ac_req_param_int(r, "subject", 0, 1, INT32_MAX, &subject) != 0 ||
	    (product = product_param(r)) < 0 ||
	    ac_req_param_int(r, "limit", 50, 1, MAX_LIMIT, &limit) != 0 ||
	    ac_req_param_int(r, "offset", 0, 0, MAX_OFFSET, &offset) != 0)
		return;
	/* A producer sees its own tests only. */
	if (own && subject != 0 && subject != r->who->subject_id) {
		ac_req_forbidden(r, "a producer sees only its own tests",
				 "只能查看本主体的检测记录");
		return;
	}
	ac_db_call_init(&call, "rapid_tests_list");
	if (own)
		ac_db_arg_int(&call, "p_own", "integer", r->who->subject_id);
	else
		ac_db_arg(&call, "p_own", "integer", NULL);
	if (subject != 0)
		ac_db_arg_int(&call, "p_subject", "integer", subject);
	else
		ac_db_arg(&call, "p_subject", "integer", NULL);
	if (product != 0)
		ac_db_arg_int(&call, "p_product", "integer", product);
	else
		ac_db_arg(&call, "p_product", "integer", NULL);
	ac_db_arg_int(&call, "p_limit", "integer", limit);
	ac_db_arg_int(&call, "p_offset", "integer", offset);
	ac_jurisdiction_args(&call, r->who);
	ac_req_call(r, &call, on_list);
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
	AC_ROUTE("POST", "/api/v1/rapid-tests/own", handle_own, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_RECORD_OWN_TEST),
	AC_ROUTE("PUT", "/api/v1/rapid-tests/{id}/photo", handle_photo, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_RECORD_OWN_TEST),
	AC_ROUTE("GET", "/api/v1/rapid-tests", handle_list, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_READ_TESTS),
	AC_ROUTE("POST", "/api/v1/rapid-tests/{id}/revocation", handle_revocation,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_REVOKE),
};

AC_ROUTE_TABLE(ac_rapid_test_routes, routes);
