/*
 * Certificates from outside (外来合格证), which a purchaser registers when
 * what it bought came with a paper certificate, one from another system, a
 * test report, or nothing but its own passing rapid test:
 *   POST /api/v1/external-certificates             register one (purchaser)
 *   GET  /api/v1/external-certificates             the caller's (staff: of
 *                                                  their jurisdiction)
 *   PUT  /api/v1/external-certificates/{id}/photo  its photo, a JPEG of at
 *                                                  most 2 MB (the registering
 *                                                  purchaser)
 *   GET  /api/v1/external-certificates/{id}/photo  the photo (the purchaser,
 *                                                  staff of its jurisdiction)
 * They count as re-issue inputs ({"external": id, ...}) under the same
 * rules as collected certificates (sql/0018_chain_rules.sql); registering,
 * listing and the photo are sql/0019_external.sql's. A recall from one is
 * in trace.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ac_app.h"
#include "ac_chain.h"
#include "ac_check.h"
#include "ac_code.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_jurisdiction.h"

#define PHOTO_MAX (2 * 1024 * 1024)

/* POST /api/v1/external-certificates */

/* The kinds, as bits, so that a field says where it stands. */
enum { K_CERTIFICATE = 1, K_TEST_REPORT = 2, K_OWN_TEST = 4, K_ALL = 7 };

static const char *const kinds[] = { "certificate", "test_report", "own_test" };

typedef struct register_ctx {
	int kind;		   /* K_* */
	const ac_product *product; /* valid while parsing */
	ac_db_call call;	   /* register_external(), argument by argument */
} register_ctx;

typedef struct ext_field ext_field;

/* A field of the body, in the order of register_external()'s arguments:
 * where it may stand and where it must, and what to say when it is wrong. */
struct ext_field {
	const char *key;
	const char *arg;
	int kinds;
	int required;
	/* Adds f->arg for v (NULL: absent) to the call; -1 when v is wrong. */
	int (*parse)(ac_req *r, register_ctx *ctx, const ext_field *f, json_t *v);
	size_t max; /* text: bytes */
	const char *en;
	const char *zh;
};

static int parse_kind(ac_req *r, register_ctx *ctx, const ext_field *f, json_t *v)
{
	for (int k = 0; k < 3; k++) {
		if (json_is_string(v) && strcmp(json_string_value(v), kinds[k]) == 0) {
			ctx->kind = 1 << k;
			ac_db_arg(&ctx->call, f->arg, "text", kinds[k]);
			return 0;
		}
	}
	return -1;
}

static int parse_text(ac_req *r, register_ctx *ctx, const ext_field *f, json_t *v)
{
	if (v != NULL && (!json_is_string(v) || !ac_check_text(json_string_value(v), f->max)))
		return -1;
	ac_db_arg(&ctx->call, f->arg, "text", json_string_value(v));
	return 0;
}

static int parse_product(ac_req *r, register_ctx *ctx, const ext_field *f, json_t *v)
{
	if (!json_is_string(v))
		return -1;
	ctx->product = ac_chain_product(r, f->key, v);
	if (ctx->product == NULL)
		return -2;
	ac_db_arg_int(&ctx->call, f->arg, "integer", ctx->product->id);
	return 0;
}

static int parse_quantity(ac_req *r, register_ctx *ctx, const ext_field *f, json_t *v)
{
	int64_t milli;

	if (ac_chain_quantity(v, &milli) != 0)
		return -1;
	ac_db_arg_int(&ctx->call, f->arg, "bigint", milli);
	return 0;
}

/* Without a unit, the product's. */
static int parse_unit(ac_req *r, register_ctx *ctx, const ext_field *f, json_t *v)
{
	int unit = v == NULL	       ? ac_unit_from_name(ctx->product->default_unit)
		   : json_is_string(v) ? ac_unit_from_name(json_string_value(v))
				       : -1;

	if (unit <= 0)
		return -1;
	ac_db_arg_int(&ctx->call, f->arg, "smallint", unit);
	return 0;
}

static int parse_origin_code(ac_req *r, register_ctx *ctx, const ext_field *f, json_t *v)
{
	int64_t code;

	if (v == NULL) {
		ac_db_arg(&ctx->call, f->arg, "bigint", NULL);
		return 0;
	}
	if (!json_is_string(v) || ac_check_region_code(json_string_value(v), &code) != 0)
		return -1;
	ac_db_arg_int(&ctx->call, f->arg, "bigint", code);
	return 0;
}

static int parse_date(ac_req *r, register_ctx *ctx, const ext_field *f, json_t *v)
{
	if (!json_is_string(v) || !ac_check_date(json_string_value(v)))
		return -1;
	ac_db_arg(&ctx->call, f->arg, "date", json_string_value(v));
	return 0;
}

/* A test report counts only when it passed: 不合格不上市. */
static int parse_result(ac_req *r, register_ctx *ctx, const ext_field *f, json_t *v)
{
	if (v != NULL && json_is_string(v) && strcmp(json_string_value(v), "fail") == 0) {
		ac_req_error_field(r, 422, "report_not_passing", "result",
				   "a failed test report does not let the lot be sold",
				   "检测不合格的产品不得上市，不能登记为进货");
		return -2;
	}
	if (v != NULL && (!json_is_string(v) || strcmp(json_string_value(v), "pass") != 0))
		return -1;
	ac_db_arg(&ctx->call, f->arg, "text", json_string_value(v));
	return 0;
}

static int parse_test(ac_req *r, register_ctx *ctx, const ext_field *f, json_t *v)
{
	if (v == NULL) {
		ac_db_arg(&ctx->call, f->arg, "bigint", NULL);
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return -1;
	ac_db_arg_int(&ctx->call, f->arg, "bigint", json_integer_value(v));
	return 0;
}

static const ext_field fields[] = {
	{ "kind", "p_kind", K_ALL, K_ALL, parse_kind, 0,
	  "kind must be certificate, test_report or own_test",
	  "请选择类型：合格证（certificate）、检测报告（test_report）或自行快检（own_test）" },
	{ "number", "p_number", K_CERTIFICATE, K_CERTIFICATE, parse_text, 64,
	  "number: the certificate's number, 1 to 64 bytes", "请填写合格证编号（不超过64个字节）" },
	{ "issuer_name", "p_issuer_name", K_ALL, K_ALL, parse_text, 300,
	  "issuer_name: who issued it or sold the lot, 1 to 100 characters",
	  "请填写开具方或卖方名称（不超过100个字）" },
	{ "contact", "p_contact", K_ALL, 0, parse_text, 40,
	  "contact: a phone number or text of at most 40 bytes", "联系方式格式错误" },
	{ "product", "p_product", K_ALL, K_ALL, parse_product, 0, "product is required",
	  "请选择产品名称" },
	{ "quantity", "p_quantity", K_ALL, K_ALL, parse_quantity, 0,
	  "quantity must be above 0 and at most 1000000, with at most 3 decimals",
	  "数量必须大于0、不超过1000000，最多三位小数" },
	{ "unit", "p_unit", K_ALL, 0, parse_unit, 0,
	  "unit must be one of kg, g, t, jin, piece, head, box, bag, bundle, only",
	  "计量单位无效，请选择千克、克、吨、斤、个、头、箱、袋等" },
	{ "origin", "p_origin", K_ALL, K_ALL, parse_text, 300,
	  "origin is required (at most 100 characters)", "请填写产地（不超过100个字）" },
	{ "origin_code", "p_origin_code", K_ALL, 0, parse_origin_code, 0,
	  "origin_code must be a 12-digit administrative division code",
	  "产地代码必须是12位行政区划代码" },
	{ "date", "p_issued_on", K_ALL, K_ALL, parse_date, 0,
	  "date: the day it was issued or tested, YYYY-MM-DD", "请填写开具或检测日期（年-月-日）" },
	{ "lab", "p_lab", K_TEST_REPORT, K_TEST_REPORT, parse_text, 300,
	  "lab: the laboratory, 1 to 100 characters", "请填写检测机构名称（不超过100个字）" },
	{ "report_number", "p_report_number", K_TEST_REPORT, K_TEST_REPORT, parse_text, 64,
	  "report_number: 1 to 64 bytes", "请填写检测报告编号（不超过64个字节）" },
	{ "result", "p_result", K_TEST_REPORT, K_TEST_REPORT, parse_result, 0,
	  "result must be pass", "请填写检测结果（合格：pass）" },
	{ "test", "p_test", K_OWN_TEST, K_OWN_TEST, parse_test, 0,
	  "test: the id of your passing rapid test of this lot",
	  "请填写本批产品自行快检合格的检测记录编号" },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* Checks and adds field f; answers and returns -1 when it is wrong. */
static int take_field(ac_req *r, register_ctx *ctx, const ext_field *f, json_t *body)
{
	json_t *v = json_object_get(body, f->key);
	int rc;

	if (v != NULL && json_is_null(v))
		v = NULL;
	if (v != NULL && (f->kinds & ctx->kind) == 0 && f->kinds != K_ALL) {
		ac_req_error_field(r, 400, "unexpected_field", f->key,
				   "this field does not go with this kind of certificate",
				   "该类型不需要填写此项");
		return -1;
	}
	if (v == NULL && (f->required & ctx->kind) != 0) {
		ac_req_error_field(r, 400, "missing_field", f->key, f->en, f->zh);
		return -1;
	}
	rc = f->parse(r, ctx, f, v);
	if (rc == -1)
		ac_req_error_field(r, 400, "invalid_field", f->key, f->en, f->zh);
	return rc < 0 ? -1 : 0;
}

static void on_registered(ac_req *r, const ac_db_result *res)
{
	const char *ext = ac_db_field(res, 0, "external");

	if (!ac_db_bool(res, 0, ac_db_col(res, "tested")) || ext == NULL) {
		ac_req_error_field(r, 422, "test_not_passing", "test",
				   "the test named is not a passing rapid test of yours for this "
				   "product",
				   "所填检测记录不是本主体本产品的合格快检记录，请核对编号");
		return;
	}
	ac_req_respond(r, 201, "application/json; charset=utf-8", ext, strlen(ext));
}

static void handle_register(ac_req *r)
{
	json_t *body;
	register_ctx *ctx = ac_req_ctx(r, register_ctx, &body);

	if (ctx == NULL || ac_req_known_fields(r, body, fields, NFIELDS, sizeof(fields[0])) != 0)
		return;
	if (!ac_catalog_loaded(ac_app_of(r)->catalog)) {
		ac_req_error(r, 503, "starting", "the service is starting, try again",
			     "系统正在启动，请稍后重试");
		return;
	}
	ac_db_call_init(&ctx->call, "register_external");
	ac_db_arg_int(&ctx->call, "p_purchaser", "integer", r->who->subject_id);
	for (size_t i = 0; i < NFIELDS; i++) {
		if (take_field(r, ctx, &fields[i], body) != 0)
			return;
	}
	r->on_db_error = ac_chain_db_error;
	ac_req_call_as(r, &ctx->call, on_registered);
}

/* Who a caller may see: a purchaser its own, staff their jurisdiction. */
static void caller_args(ac_db_call *call, const ac_principal *p)
{
	if (ac_perm_is_role(p, "purchaser")) {
		ac_db_arg_int(call, "p_purchaser", "integer", p->subject_id);
		ac_db_arg_int(call, "p_region_lo", "bigint", 0);
		ac_db_arg_int(call, "p_region_hi", "bigint", 999999999999LL);
	} else {
		ac_db_arg(call, "p_purchaser", "integer", NULL);
		ac_jurisdiction_args(call, p);
	}
}

/* GET /api/v1/external-certificates */

static void on_list(ac_req *r, const ac_db_result *res)
{
	int col = ac_db_col(res, "items");
	ac_buf b;

	ac_buf_init(&b);
	ac_buf_puts(&b, "{\"items\":");
	ac_buf_add(&b, ac_db_get(res, 0, col), (size_t)ac_db_getlen(res, 0, col));
	ac_buf_puts(&b, "}");
	ac_req_buf(r, 200, &b);
	ac_buf_free(&b);
}

static void handle_list(ac_req *r)
{
	ac_db_call call;

	ac_db_call_init(&call, "external_list");
	caller_args(&call, r->who);
	ac_req_call(r, &call, on_list);
}

/* The photo, as bytes and as PostgreSQL's hex text of a bytea ("\x..."). */

typedef struct photo_job {
	const unsigned char *jpeg;
	size_t len;
	char *hex; /* 2 + 2 * len + 1 bytes */
} photo_job;

static void not_found(ac_req *r)
{
	ac_req_not_found(r, "no such external certificate", "查不到这张外来合格证");
}

/* Thread pool: the JPEG as bytea hex text. */
static void encode_photo(void *arg)
{
	static const char digits[] = "0123456789abcdef";
	photo_job *j = arg;

	j->hex[0] = '\\';
	j->hex[1] = 'x';
	for (size_t i = 0; i < j->len; i++) {
		j->hex[2 + 2 * i] = digits[j->jpeg[i] >> 4];
		j->hex[3 + 2 * i] = digits[j->jpeg[i] & 15];
	}
	j->hex[2 + 2 * j->len] = '\0';
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Thread pool: bytea hex text (without its "\x") back to the JPEG. */
static void decode_photo(void *arg)
{
	photo_job *j = arg;
	unsigned char *out = (unsigned char *)j->jpeg;

	for (size_t i = 0; i < j->len; i++)
		out[i] = (unsigned char)((hex_digit(j->hex[2 * i]) & 15) << 4 |
					 (hex_digit(j->hex[2 * i + 1]) & 15));
}

/* PUT /api/v1/external-certificates/{id}/photo */

static void on_photo_stored(ac_req *r, const ac_db_result *res)
{
	json_t *o;

	if (!ac_db_bool(res, 0, ac_db_col(res, "found"))) {
		not_found(r);
		return;
	}
	if (!ac_db_bool(res, 0, ac_db_col(res, "mine"))) {
		ac_req_forbidden(r, "only the purchaser who registered it may add its photo",
				 "只有登记该外来合格证的收购主体可以上传照片");
		return;
	}
	o = json_pack("{s:I,s:{s:s,s:I,s:s++}}", "id", (json_int_t)strtoll(r->param[0], NULL, 10),
		      "photo", "sha256", ac_db_field(res, 0, "sha256"), "bytes",
		      (json_int_t)strtoll(ac_db_field(res, 0, "bytes"), NULL, 10), "href",
		      "/api/v1/external-certificates/", r->param[0], "/photo");
	ac_req_json(r, 200, o);
}

static void after_encode(ac_req *r, void *arg)
{
	photo_job *j = arg;
	ac_db_call call;

	ac_db_call_init(&call, "put_external_photo");
	ac_db_arg(&call, "p_id", "bigint", r->param[0]);
	ac_db_arg_int(&call, "p_purchaser", "integer", r->who->subject_id);
	ac_db_arg(&call, "p_jpeg", "bytea", j->hex);
	ac_req_call_as(r, &call, on_photo_stored);
}

static void handle_put_photo(ac_req *r)
{
	const unsigned char *p = (const unsigned char *)r->body;
	const char *type = r->content_type;
	photo_job *j;

	if (type == NULL || strncasecmp(type, "image/jpeg", 10) != 0 ||
	    (type[10] != '\0' && type[10] != ';' && type[10] != ' ')) {
		ac_req_error(r, 415, "unsupported_media_type",
			     "send the photo as the body with Content-Type: image/jpeg",
			     "请以JPEG格式上传照片（Content-Type: image/jpeg）");
		return;
	}
	/* Every JPEG starts with SOI and a marker: FF D8 FF. */
	if (r->body_len < 3 || p[0] != 0xff || p[1] != 0xd8 || p[2] != 0xff) {
		ac_req_error(r, 422, "not_jpeg", "the photo is not a JPEG",
			     "照片不是JPEG格式，请重新拍照上传");
		return;
	}
	j = ac_req_new(r, photo_job);
	if (j == NULL || (j->hex = ac_req_alloc(r, 2 * r->body_len + 3)) == NULL) {
		ac_req_nomem(r);
		return;
	}
	j->jpeg = p;
	j->len = r->body_len;
	ac_req_work(r, encode_photo, after_encode, j);
}

/* GET /api/v1/external-certificates/{id}/photo */

static void after_decode(ac_req *r, void *arg)
{
	photo_job *j = arg;

	ac_req_respond(r, 200, "image/jpeg", (const char *)j->jpeg, j->len);
}

static void on_photo(ac_req *r, const ac_db_result *res)
{
	int col = ac_db_col(res, "jpeg");
	const char *hex = ac_db_get(res, 0, col);
	size_t n = hex != NULL ? (size_t)ac_db_getlen(res, 0, col) : 0;
	photo_job *j;

	if (!ac_db_bool(res, 0, ac_db_col(res, "found"))) {
		not_found(r);
		return;
	}
	if (!ac_db_bool(res, 0, ac_db_col(res, "allowed"))) {
		ac_req_forbidden(r, "only the purchaser who registered it and staff may see it",
				 "外来合格证仅限登记的收购主体和监管人员查看");
		return;
	}
	if (n < 2 || strncmp(hex, "\\x", 2) != 0) {
		ac_req_not_found(r, "no photo was uploaded yet", "尚未上传照片");
		return;
	}
	/* The result goes with this step: the hex text is kept for the work. */
	j = ac_req_new(r, photo_job);
	if (j == NULL || (j->hex = ac_req_strdup(r, hex + 2)) == NULL ||
	    (j->jpeg = ac_req_alloc(r, n / 2)) == NULL) {
		ac_req_nomem(r);
		return;
	}
	j->len = (n - 2) / 2;
	ac_req_work(r, decode_photo, after_decode, j);
}

static void handle_get_photo(ac_req *r)
{
	ac_db_call call;

	ac_db_call_init(&call, "external_photo_for");
	ac_db_arg(&call, "p_id", "bigint", r->param[0]);
	caller_args(&call, r->who);
	ac_req_call(r, &call, on_photo);
}

static const ac_route routes[] = {
	AC_ROUTE("POST", "/api/v1/external-certificates", handle_register, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_COLLECT),
	AC_ROUTE("GET", "/api/v1/external-certificates", handle_list, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_READ_EXTERNAL),
	AC_ROUTE("PUT", "/api/v1/external-certificates/{id}/photo", handle_put_photo,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_COLLECT, .max_body = PHOTO_MAX),
	AC_ROUTE("GET", "/api/v1/external-certificates/{id}/photo", handle_get_photo,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_READ_EXTERNAL),
};

AC_ROUTE_TABLE(ac_external_routes, routes);
