/*
 * Patrols (巡查):
 *   POST /api/v1/patrols                    a regulator records a visit to
 *                                           a producer (record_patrol())
 *   POST /api/v1/patrols/{id}/photos        adds a photo, {"photo": base64}
 *   GET  /api/v1/patrols/{id}/photos/{id}   the photo's bytes (image/jpeg)
 * The lists and coverage are documents (supervision.c). A photo is at most
 * 2 MiB of JPEG, base64 in a JSON body (its route's body limit is 3 MiB);
 * PostgreSQL decodes it, checks it and keeps its SHA-256 (add_patrol_photo()).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_check.h"
#include "ac_jurisdiction.h"
#include "ac_log.h"
#include "supervision-private.h"

#define MAX_FINDINGS 2000 /* characters */
/* Base64 of 2 MiB, with room for line breaks; PostgreSQL checks the decoded size. */
#define MAX_BASE64 2900000

static const char *const modes[] = { "onsite", "online", NULL };
static const char *const checks[] = { "records", "certificate_use", "display", "rapid_test", NULL };
static const char *const outcomes[] = { "compliant", "rectify", "referred", NULL };

/* The index of s in list, or -1. */
static int index_of(const char *s, const char *const *list)
{
	for (int i = 0; s != NULL && list[i] != NULL; i++) {
		if (strcmp(s, list[i]) == 0)
			return i;
	}
	return -1;
}

/* POST /api/v1/patrols */

typedef struct patrol_ctx {
	char checks[80]; /* the array literal, e.g. {records,display} */
	char day[16];
} patrol_ctx;

/* The refusals of record_patrol(), in the order they are judged. */
static const struct {
	const char *column;
	int status;
	const char *code;
	const char *field;
	const char *en;
	const char *zh;
} refusals[] = {
	{ "subject_found", 404, "unknown_subject", "subject", "no such subject",
	  "找不到这个生产主体" },
	{ "producer", 422, "not_a_producer", "subject", "only producers are patrolled",
	  "巡查对象应为生产主体" },
	{ "covered", 403, "outside_jurisdiction", "subject",
	  "the producer is outside your jurisdiction", "该主体不在您的辖区内" },
	{ "date_ok", 422, "invalid_date", "visited_on",
	  "a patrol is dated today or in the 90 days before", "巡查日期应为今天或90天以内" },
	{ "test_ok", 422, "unknown_rapid_test", "rapid_test",
	  "the rapid test is not one of this producer's", "该快检记录不属于这个主体" },
};

static void on_patrol(ac_req *r, const ac_db_result *res)
{
	const char *id = ac_db_field(res, 0, "id");

	for (size_t i = 0; id == NULL && i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		if (!ac_db_bool(res, 0, ac_db_col(res, refusals[i].column))) {
			ac_req_error_field(r, refusals[i].status, refusals[i].code,
					   refusals[i].field, refusals[i].en, refusals[i].zh);
			return;
		}
	}
	if (id == NULL) {
		ac_req_unavailable(r);
		return;
	}
	ac_log_info("patrol", "patrol %s recorded id=%s", id, r->id_str);
	ac_req_json(r, 201,
		    json_pack("{s:I,s:s}", "id", (json_int_t)strtoll(id, NULL, 10), "message_zh",
			      "巡查记录已保存"));
}

/* The checks as an array literal into ctx. Returns 0, or -1 when invalid. */
static int parse_checks(json_t *list, patrol_ctx *ctx)
{
	int seen = 0;
	size_t i;
	json_t *v;

	if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 4)
		return -1;
	strcpy(ctx->checks, "{");
	json_array_foreach(list, i, v)
	{
		int k = index_of(json_string_value(v), checks);

		if (k < 0 || (seen & (1 << k)))
			return -1;
		seen |= 1 << k;
		if (i > 0)
			strcat(ctx->checks, ",");
		strcat(ctx->checks, checks[k]);
	}
	strcat(ctx->checks, "}");
	return 0;
}

/* The id in v: 0 when v is absent or null, -1 when it is not a positive
 * integer of at most 31 bits. */
static long long id_of(json_t *v)
{
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= INT32_MAX)
		return json_integer_value(v);
	return -1;
}

/* The fields other than the checks. Returns 0, or -1 after answering. */
static int parse_patrol(ac_req *r, json_t *body, patrol_ctx *ctx, ac_db_call *call)
{
	json_t *day = json_object_get(body, "visited_on");
	json_t *mode = json_object_get(body, "mode");
	json_t *findings = json_object_get(body, "findings");
	const char *outcome = json_string_value(json_object_get(body, "outcome"));
	long long subject = id_of(json_object_get(body, "subject"));
	long long test = id_of(json_object_get(body, "rapid_test"));

	if (subject <= 0 || test < 0 ||
	    (day != NULL && (!json_is_string(day) || !ac_check_date(json_string_value(day)))) ||
	    (mode != NULL && index_of(json_string_value(mode), modes) < 0) ||
	    !json_is_string(findings) || ac_check_chars(json_string_value(findings)) < 1 ||
	    ac_check_chars(json_string_value(findings)) > MAX_FINDINGS ||
	    index_of(outcome, outcomes) < 0) {
		ac_req_error(r, 400, "invalid_patrol",
			     "give subject (a producer's id), checks (records, certificate_use, "
			     "display, rapid_test), findings (at most 2000 characters) and outcome "
			     "(compliant, rectify, referred); visited_on (YYYY-MM-DD), mode "
			     "(onsite, online) and rapid_test (an id) are optional",
			     "请填写巡查对象、检查内容（生产记录、合格证开具、亮证、快检）、"
			     "发现问题和处理结果（合格、限期整改、移交执法）");
		return -1;
	}
	if (day != NULL)
		snprintf(ctx->day, sizeof(ctx->day), "%s", json_string_value(day));
	ac_db_arg_int(call, "p_subject", "integer", subject);
	ac_db_arg(call, "p_visited_on", "date", day != NULL ? ctx->day : NULL);
	ac_db_arg(call, "p_mode", "text", mode != NULL ? json_string_value(mode) : "onsite");
	ac_db_arg(call, "p_checks", "text[]", ctx->checks);
	if (test > 0)
		ac_db_arg_int(call, "p_rapid_test", "bigint", test);
	else
		ac_db_arg(call, "p_rapid_test", "bigint", NULL);
	ac_db_arg(call, "p_findings", "text", json_string_value(findings));
	ac_db_arg(call, "p_outcome", "text", outcome);
	return 0;
}

void ac_sv_patrol_record(ac_req *r)
{
	json_t *body;
	patrol_ctx *ctx = ac_req_ctx(r, patrol_ctx, &body);
	ac_db_call call;

	if (ctx == NULL)
		return;
	if (parse_checks(json_object_get(body, "checks"), ctx) != 0) {
		ac_req_error_field(r, 400, "invalid_checks", "checks",
				   "checks lists 1 to 4 of records, certificate_use, display, "
				   "rapid_test, each once",
				   "请选择检查内容：生产记录、合格证开具、亮证、快检（各选一次）");
		return;
	}
	ac_db_call_init(&call, "record_patrol");
	if (parse_patrol(r, body, ctx, &call) != 0)
		return;
	ac_db_arg_int(&call, "p_recorded_by", "integer", r->who->subject_id);
	ac_jurisdiction_args(&call, r->who);
	ac_req_call_as(r, &call, on_patrol);
}

/* POST /api/v1/patrols/{id}/photos */

/* What add_patrol_photo() says of a photo it did not store. */
static const struct {
	const char *status;
	int http;
	const char *code;
	const char *en;
	const char *zh;
} photo_refusals[] = {
	{ "not_base64", 400, "invalid_photo", "photo is the JPEG, base64-encoded",
	  "照片数据应为 base64 编码的 JPEG" },
	{ "not_jpeg", 415, "photo_not_jpeg", "the photo must be a JPEG", "照片应为 JPEG 格式" },
	{ "too_large", 413, "photo_too_large", "a photo is at most 2 MiB",
	  "每张照片不能超过 2 MB" },
	{ "too_many", 409, "too_many_photos", "a patrol keeps at most 6 photos",
	  "每条巡查记录最多保存6张照片" },
};

static void on_photo(ac_req *r, const ac_db_result *res)
{
	const char *status = ac_db_field(res, 0, "status");
	const char *id = ac_db_field(res, 0, "id");
	int dup = status != NULL && strcmp(status, "duplicate") == 0;
	char path[96];

	if (!ac_sv_found(r, res, "patrol_found", "no such patrol", "查不到这条巡查记录"))
		return;
	for (size_t i = 0; i < sizeof(photo_refusals) / sizeof(photo_refusals[0]); i++) {
		if (status != NULL && strcmp(status, photo_refusals[i].status) == 0) {
			ac_req_error_field(r, photo_refusals[i].http, photo_refusals[i].code,
					   "photo", photo_refusals[i].en, photo_refusals[i].zh);
			return;
		}
	}
	if (id == NULL) {
		ac_req_unavailable(r);
		return;
	}
	snprintf(path, sizeof(path), "/api/v1/patrols/%s/photos/%s", r->param[0], id);
	ac_log_info("patrol", "photo %s of patrol %s %s id=%s", id, r->param[0],
		    dup ? "already kept" : "stored", r->id_str);
	ac_req_json(r, dup ? 200 : 201,
		    json_pack("{s:I,s:I,s:s,s:I,s:s,s:b}", "id", (json_int_t)strtoll(id, NULL, 10),
			      "patrol", (json_int_t)strtoll(r->param[0], NULL, 10), "sha256",
			      ac_db_field(res, 0, "sha256"), "bytes",
			      (json_int_t)strtoll(ac_db_field(res, 0, "bytes"), NULL, 10), "path",
			      path, "duplicate", dup));
}

void ac_sv_patrol_photo_add(ac_req *r)
{
	json_t *body = ac_req_body_object(r);
	json_t *jpeg = json_object_get(body, "photo");
	ac_db_call call;

	if (body == NULL)
		return;
	if (!json_is_string(jpeg) || json_string_length(jpeg) == 0) {
		ac_req_error_field(r, 400, "invalid_photo", "photo",
				   "photo is the JPEG, base64-encoded",
				   "请上传照片（JPEG，base64 编码）");
		return;
	}
	if (json_string_length(jpeg) > MAX_BASE64) {
		ac_req_error_field(r, 413, "photo_too_large", "photo", "a photo is at most 2 MiB",
				   "每张照片不能超过 2 MB");
		return;
	}
	ac_db_call_init(&call, "add_patrol_photo");
	ac_db_arg(&call, "p_patrol", "bigint", r->param[0]);
	ac_db_arg(&call, "p_base64", "text", json_string_value(jpeg));
	ac_db_arg_int(&call, "p_added_by", "integer", r->who->subject_id);
	ac_jurisdiction_args(&call, r->who);
	ac_req_call_as(r, &call, on_photo);
}

/* GET /api/v1/patrols/{id}/photos/{id} */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Whether text is bytea's text form, "\x" and hex digits. */
static int is_bytea(const char *text, size_t len)
{
	if (text == NULL || len < 2 || text[0] != '\\' || text[1] != 'x' || len % 2 != 0)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (hex_value(text[i]) < 0)
			return 0;
	}
	return 1;
}

/* The bytes of a checked bytea text into out (len / 2 - 1 bytes). */
static void bytea_decode(const char *text, size_t len, unsigned char *out)
{
	for (size_t i = 2; i < len; i += 2)
		*out++ = (unsigned char)(hex_value(text[i]) << 4 | hex_value(text[i + 1]));
}

static void on_photo_bytes(ac_req *r, const ac_db_result *res)
{
	int col = ac_db_col(res, "jpeg");
	const char *text = ac_db_get(res, 0, col);
	size_t len = (size_t)ac_db_getlen(res, 0, col);
	unsigned char *jpeg;

	if (!ac_sv_found(r, res, "found", "no such photo", "查不到这张照片"))
		return;
	if (!is_bytea(text, len)) {
		ac_log_error("patrol", "could not read photo %s: not bytea id=%s", r->param[1],
			     r->id_str);
		ac_req_error(r, 500, "internal", "the request could not be completed",
			     "服务器内部错误，请稍后重试");
		return;
	}
	jpeg = ac_req_alloc(r, len / 2);
	if (jpeg == NULL) {
		ac_req_nomem(r);
		return;
	}
	bytea_decode(text, len, jpeg);
	ac_req_respond(r, 200, "image/jpeg", (const char *)jpeg, len / 2 - 1);
}

void ac_sv_patrol_photo_get(ac_req *r)
{
	ac_db_call call;

	ac_db_call_init(&call, "patrol_photo_get");
	ac_db_arg(&call, "p_patrol", "bigint", r->param[0]);
	ac_db_arg(&call, "p_photo", "bigint", r->param[1]);
	ac_jurisdiction_args(&call, r->who);
	ac_req_call(r, &call, on_photo_bytes);
}
