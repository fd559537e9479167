/*
 * POST /api/v1/certificates (issue) and GET /api/v1/certificates/{id}.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_cert.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_issuer.h"
#include "ac_log.h"
#include "ac_perm.h"
#include "ac_printq.h"

#define MAX_IDEMPOTENCY_KEY 128

typedef struct issue_ctx {
	ac_issue_job job;
	ac_req *r;
	ac_principal p;
} issue_ctx;

static void issue_ctx_free(issue_ctx *ctx)
{
	ac_cert_clear(&ctx->job.cert);
	free(ctx->job.idempotency_key);
	free(ctx->job.in_serial);
	free(ctx->job.in_qty);
	free(ctx->job.in_unit);
	free(ctx);
}

#define MAX_INPUTS 100

/*
 * "inputs": [{"certificate": SERIAL, "quantity": N, "unit": "kg"}, ...]: what
 * a purchaser's re-issue draws from the certificates it collected. Required
 * for a purchaser, refused for a producer. Returns 0, or responds and -1.
 */
static int parse_inputs(ac_req *r, issue_ctx *ctx, json_t *inputs, int purchaser)
{
	ac_issue_job *job = &ctx->job;
	size_t n = json_array_size(inputs);

	if (!purchaser) {
		if (inputs == NULL)
			return 0;
		ac_req_error_field(r, 400, "unexpected_inputs", "inputs",
				   "a producer's certificate has no inputs",
				   "生产者开具合格证不需要填写进货来源");
		return -1;
	}
	if (!json_is_array(inputs) || n == 0 || n > MAX_INPUTS) {
		ac_req_error_field(r, 400, "missing_field", "inputs",
				   "a re-issue lists 1 to 100 inbound certificates it draws from",
				   "再次开具须列出所用的进货合格证（1到100张）");
		return -1;
	}
	job->in_serial = calloc(n, sizeof(*job->in_serial));
	job->in_qty = calloc(n, sizeof(*job->in_qty));
	job->in_unit = calloc(n, sizeof(*job->in_unit));
	if (job->in_serial == NULL || job->in_qty == NULL || job->in_unit == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *in = json_array_get(inputs, i);
		json_t *cert = json_object_get(in, "certificate");
		json_t *qty = json_object_get(in, "quantity");
		json_t *unit = json_object_get(in, "unit");
		double q = json_number_value(qty);
		int u = json_is_string(unit) ? ac_unit_from_name(json_string_value(unit)) : -1;

		if (!json_is_integer(cert) || json_integer_value(cert) <= 0 ||
		    !json_is_number(qty) || !(q > 0) || q > 1000000 ||
		    fabs(q * 1000 - round(q * 1000)) > 1e-6 || u <= 0) {
			ac_req_error_field(r, 400, "invalid_input", "inputs",
					   "each input needs a certificate id, a quantity above 0 "
					   "(at most 3 decimals) and a unit",
					   "每个进货来源须填写合格证编号、数量（大于0）和单位");
			return -1;
		}
		job->in_serial[i] = (uint64_t)json_integer_value(cert);
		job->in_qty[i] = (int64_t)llround(q * 1000);
		job->in_unit[i] = u;
		for (size_t k = 0; k < i; k++) {
			if (job->in_serial[k] == job->in_serial[i] && job->in_unit[k] == u) {
				ac_req_error_field(r, 400, "duplicate_input", "inputs",
						   "an inbound certificate is listed twice",
						   "同一张进货合格证重复填写了");
				return -1;
			}
		}
	}
	job->ninputs = (int)n;
	return 0;
}

/* 409 naming the input that is short and by how much, from reissue()'s JSON. */
static void respond_short(ac_req *r, const char *detail)
{
	json_t *d = json_loads(detail, 0, NULL);
	long long input = json_integer_value(json_object_get(d, "input"));
	int unit = (int)json_integer_value(json_object_get(d, "unit"));
	long long short_milli = json_integer_value(json_object_get(d, "short_milli"));
	long long received = json_integer_value(json_object_get(d, "received_milli"));
	long long used = json_integer_value(json_object_get(d, "used_milli"));
	char number[24];
	char sq[32];
	char rq[32];
	char uq[32];
	char en[256];
	char zh[384];
	json_t *j;

	ac_cert_number((uint64_t)input, number);
	ac_quantity_text(short_milli, sq, sizeof(sq));
	ac_quantity_text(received, rq, sizeof(rq));
	ac_quantity_text(used, uq, sizeof(uq));
	snprintf(en, sizeof(en),
		 "inbound certificate %s is short by %s %s (received %s, already used %s)", number,
		 sq, ac_unit_name(unit), rq, uq);
	snprintf(zh, sizeof(zh), "进货合格证 %s 剩余数量不足：还差 %s %s（收取 %s，已用 %s）",
		 number, sq, ac_unit_name_zh(unit), rq, uq);
	j = json_pack("{s:{s:s,s:s,s:s,s:s,s:O?}}", "error", "code", "insufficient_input",
		      "message", en, "message_zh", zh, "request_id", r->id_str, "input", d);
	json_decref(d);
	ac_req_json(r, 409, j);
}

#define respond_field ac_req_error_field

static void respond_unavailable(ac_req *r)
{
	ac_req_error(r, 503, "unavailable",
		     "the database is unavailable; nothing was stored, retry with the same "
		     "Idempotency-Key",
		     "系统暂时无法保存，合格证未开具，请稍后重试");
}

/*
 * 64-bit FNV-1a over the request body, as hex: a retry must send the same
 * body to be answered from the stored certificate.
 */
static char *fingerprint(const char *body, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	char *out;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)body[i];
		h *= 1099511628211ULL;
	}
	out = malloc(17);
	if (out != NULL)
		snprintf(out, 17, "%016llx", (unsigned long long)h);
	return out;
}

static int valid_division_code(const char *s)
{
	int province;

	if (strlen(s) != 12 || strspn(s, "0123456789") != 12)
		return 0;
	province = (s[0] - '0') * 10 + (s[1] - '0');
	return province >= 11 && province <= 82;
}

static int utf8_valid(const char *s)
{
	/* jansson already guarantees UTF-8; reject control characters. */
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20)
			return 0;
	}
	return 1;
}

/*
 * Fills ctx->job.cert from the body. Returns 0, or responds and returns -1.
 */
static int parse_issue(ac_req *r, issue_ctx *ctx, json_t *body)
{
	static const char *known[] = { "issuer",      "product", "quantity", "unit",   "origin",
				       "origin_code", "basis",	 "contact",  "labels", "printer",
				       "style",	      "inputs",	 "test",     NULL };
	ac_app *app = r->app;
	ac_cert *c = &ctx->job.cert;
	const ac_product *product;
	const char *key;
	json_t *v;
	double q;
	int unit;
	int basis;
	int purchaser;

	json_object_foreach(body, key, v)
	{
		int ok = 0;

		for (int i = 0; known[i] != NULL; i++)
			ok |= strcmp(known[i], key) == 0;
		if (!ok) {
			respond_field(r, 400, "unknown_field", key, "unknown field in request",
				      "请求中有无法识别的项目");
			return -1;
		}
	}
	v = json_object_get(body, "issuer");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) != ctx->p.subject_id)) {
		respond_field(r, 403, "forbidden_issuer", "issuer",
			      "you may issue certificates only in your own name",
			      "只能以自己的名义开具合格证");
		return -1;
	}
	purchaser = strcmp(ctx->p.role, "purchaser") == 0;
	v = json_object_get(body, "style");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) != (purchaser ? 2 : 1))) {
		respond_field(r, 400, "invalid_style", "style",
			      purchaser ? "a purchaser re-issues with style 2"
					: "style must be 1 (producer's promise) for a producer",
			      purchaser ? "收购主体再次开具使用样式二"
					: "生产者只能开具承诺达标合格证（样式一）");
		return -1;
	}
	if (parse_inputs(r, ctx, json_object_get(body, "inputs"), purchaser) != 0)
		return -1;
	v = json_object_get(body, "product");
	if (!json_is_string(v) || json_string_length(v) == 0) {
		respond_field(r, 400, "missing_field", "product", "product is required",
			      "请选择产品名称");
		return -1;
	}
	product = ac_app_product_by_name(app, json_string_value(v));
	if (product == NULL) {
		respond_field(r, 422, "unknown_product", "product",
			      "the product is not in the catalogue",
			      "产品不在产品目录中，请从列表中选择");
		return -1;
	}
	v = json_object_get(body, "quantity");
	if (!json_is_number(v)) {
		respond_field(r, 400, "missing_field", "quantity", "quantity must be a number",
			      "请填写数量（数字）");
		return -1;
	}
	q = json_number_value(v);
	if (!(q > 0) || q > 1000000 || fabs(q * 1000 - round(q * 1000)) > 1e-6) {
		respond_field(r, 400, "invalid_quantity", "quantity",
			      "quantity must be above 0 and at most 1000000, with at most 3 "
			      "decimals",
			      "数量必须大于0、不超过1000000，最多三位小数");
		return -1;
	}
	v = json_object_get(body, "unit");
	if (v == NULL) {
		unit = ac_unit_from_name(product->default_unit);
	} else if (!json_is_string(v)) {
		unit = -1;
	} else {
		unit = ac_unit_from_name(json_string_value(v));
	}
	if (unit <= 0) {
		respond_field(r, 400, "invalid_unit", "unit",
			      "unit must be one of kg, g, t, jin, piece, head, box, bag",
			      "计量单位无效，请选择千克、克、吨、斤、个、头、箱、袋等");
		return -1;
	}
	v = json_object_get(body, "origin");
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 300 ||
	    !utf8_valid(json_string_value(v))) {
		respond_field(r, 400, "invalid_origin", "origin",
			      "origin is required (at most 100 characters)",
			      "请填写产地（不超过100个字）");
		return -1;
	}
	c->origin = strdup(json_string_value(v));
	v = json_object_get(body, "origin_code");
	if (json_is_integer(v)) {
		char tmp[24];

		snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
		json_object_set_new(body, "origin_code", json_string(tmp));
		v = json_object_get(body, "origin_code");
	}
	if (!json_is_string(v) || !valid_division_code(json_string_value(v))) {
		respond_field(r, 400, "invalid_origin_code", "origin_code",
			      "origin_code must be a 12-digit administrative division code",
			      "产地代码必须是12位行政区划代码（省市县乡村）");
		return -1;
	}
	c->origin_code = strtoll(json_string_value(v), NULL, 10);
	v = json_object_get(body, "basis");
	basis = json_is_string(v) ? ac_basis_from_name(json_string_value(v)) : -1;
	if (basis < 0) {
		respond_field(r, 400, "invalid_basis", "basis",
			      "basis must be quality_control, self_test or commissioned_test",
			      "请选择承诺依据：质量安全控制符合要求、自行检测合格或委托检测合格");
		return -1;
	}
	v = json_object_get(body, "test");
	if (basis != AC_BASIS_QUALITY_CONTROL) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0) {
			respond_field(r, 400, "missing_field", "test",
				      "a test-based basis needs the id of the passing rapid test",
				      "承诺依据为检测合格时，请填写检测记录编号");
			return -1;
		}
		c->test_id = json_integer_value(v);
	} else if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0) {
			respond_field(r, 400, "invalid_test", "test",
				      "test must be a rapid test id", "检测记录编号格式错误");
			return -1;
		}
		c->test_id = json_integer_value(v);
	}
	v = json_object_get(body, "contact");
	if (v != NULL && (!json_is_string(v) || json_string_length(v) > 40 ||
			  !utf8_valid(json_string_value(v)))) {
		respond_field(r, 400, "invalid_contact", "contact",
			      "contact must be a phone number or text of at most 40 bytes",
			      "联系方式格式错误");
		return -1;
	}
	c->contact = strdup(v != NULL ? json_string_value(v) : ctx->p.contact);
	if (c->contact == NULL || c->contact[0] == '\0') {
		respond_field(r, 400, "missing_field", "contact", "contact is required",
			      "请填写联系方式");
		return -1;
	}
	v = json_object_get(body, "labels");
	c->labels = 1;
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > app->cfg.max_labels) {
			char en[96];
			char zh[96];

			snprintf(en, sizeof(en), "labels must be an integer from 1 to %d",
				 app->cfg.max_labels);
			snprintf(zh, sizeof(zh), "标签数量必须是1到%d之间的整数",
				 app->cfg.max_labels);
			respond_field(r, 400, "invalid_labels", "labels", en, zh);
			return -1;
		}
		c->labels = (int)json_integer_value(v);
	}
	v = json_object_get(body, "printer");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    ac_config_printer(&app->cfg, json_string_value(v)) == NULL) {
			respond_field(r, 422, "unknown_printer", "printer", "no such printer",
				      "找不到这台打印机，请联系服务站管理员");
			return -1;
		}
		/* A session opened at a kiosk prints only on that kiosk's printer. */
		if (ctx->p.kiosk_id[0] != '\0' &&
		    strcmp(json_string_value(v), ctx->p.kiosk_id) != 0) {
			respond_field(r, 403, "printer_not_allowed", "printer",
				      "a kiosk session prints only on its own kiosk's printer",
				      "只能在本服务站的打印机上打印");
			return -1;
		}
		c->printer_id = strdup(json_string_value(v));
	}
	c->style = purchaser ? 2 : 1;
	c->basis = basis;
	c->unit = unit;
	c->product_id = product->id;
	c->product_name = strdup(product->name);
	c->quantity_milli = (int64_t)llround(q * 1000);
	c->issuer_id = ctx->p.subject_id;
	c->issuer_name = strdup(ctx->p.name);
	c->request_fp = fingerprint(r->body, r->body_len);
	if (c->origin == NULL || c->product_name == NULL || c->issuer_name == NULL ||
	    c->request_fp == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return -1;
	}
	return 0;
}

static void respond_cert(ac_req *r, int status, const ac_cert *c)
{
	ac_app *app = r->app;

	ac_buf b;

	ac_buf_init(&b);
	ac_cert_write_json(&b, c, app->cfg.public_url, AC_CERT_ITEMS);
	if (ac_buf_ok(&b))
		ac_req_respond(r, status, "application/json; charset=utf-8", b.data, b.len);
	else
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
	ac_buf_free(&b);
}

/* Answers a retried request from the stored certificate. */
static void on_existing(void *data, const ac_db_result *res, int err, const char *msg);

static int lookup_existing(issue_ctx *ctx)
{
	ac_app *app = ctx->r->app;
	char issuer[16];
	const char *values[2];

	snprintf(issuer, sizeof(issuer), "%d", ctx->p.subject_id);
	values[0] = issuer;
	values[1] = ctx->job.idempotency_key;
	return ac_db_query(app->db,
			   AC_CERT_SELECT "WHERE c.issuer_id = $1::int AND c.idempotency_key = $2",
			   2, values, NULL, on_existing, ctx);
}

static void on_issued(ac_issue_job *job)
{
	issue_ctx *ctx = job->data;
	ac_req *r = ctx->r;
	ac_app *app = r->app;

	if (job->err == 0 && job->refused == AC_REFUSED_BLOCKED) {
		ac_req_error(r, 403, "blocked_by_failed_test",
			     "a failed rapid test blocks this product until a passing retest",
			     "该产品快检不合格，复检合格前不能开具合格证（不合格不采收、不上市）");
		goto out;
	}
	if (job->err == 0 && job->refused == AC_REFUSED_UNTESTED) {
		ac_req_error_field(r, 422, "test_not_passing", "test",
				   "the test named is not a passing test of yours for this product",
				   "所填检测记录不是本主体本产品的合格检测，请核对编号");
		goto out;
	}
	if (job->err == AC_ESHORT) {
		respond_short(r, job->errmsg);
		goto out;
	}
	if (job->err != 0) {
		respond_unavailable(r);
		goto out;
	}
	if (job->duplicate) {
		/* Another request with this key won the race: answer with its certificate. */
		if (lookup_existing(ctx) == 0)
			return;
		respond_unavailable(r);
		goto out;
	}
	ac_log_debug("issue", "issued certificate %llu with %d labels for subject %d id=%s",
		     (unsigned long long)job->cert.serial, job->cert.labels, job->cert.issuer_id,
		     r->id_str);
	if (job->cert.print_job_id != 0)
		ac_printq_submit(app->printq, &job->cert, r->start_ns);
	respond_cert(r, 201, &job->cert);
out:
	issue_ctx_free(ctx);
	ac_req_unref(r);
}

static void submit(issue_ctx *ctx)
{
	ac_req *r = ctx->r;
	ac_app *app = r->app;
	int rc;

	ctx->job.done = on_issued;
	ctx->job.data = ctx;
	rc = ac_issuer_submit(app->issuer, &ctx->job);
	if (rc != 0) {
		ac_log_error("issue", "could not issue: %s id=%s", ac_strerror(rc), r->id_str);
		ac_req_error(r, 503, "no_signing_key", "no signing key is active",
			     "系统签名密钥未配置，请联系管理员");
		issue_ctx_free(ctx);
		ac_req_unref(r);
	}
}

static void on_existing(void *data, const ac_db_result *res, int err, const char *msg)
{
	issue_ctx *ctx = data;
	ac_req *r = ctx->r;
	ac_cert existing;

	if (err != 0) {
		ac_log_error("issue", "could not look up idempotency key: %s id=%s", msg,
			     r->id_str);
		respond_unavailable(r);
		goto out;
	}
	if (ac_db_rows(res) == 0) {
		if (ctx->job.duplicate) {
			respond_unavailable(r);
			goto out;
		}
		submit(ctx);
		return;
	}
	if (ac_cert_from_row(res, 0, &existing) != 0) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		goto out;
	}
	if (existing.request_fp == NULL || ctx->job.cert.request_fp == NULL ||
	    strcmp(existing.request_fp, ctx->job.cert.request_fp) != 0) {
		ac_req_error(r, 422, "idempotency_key_reused",
			     "this Idempotency-Key was used for a different request",
			     "该请求编号已用于另一张合格证，请勿重复使用");
	} else {
		respond_cert(r, 200, &existing);
	}
	ac_cert_clear(&existing);
out:
	issue_ctx_free(ctx);
	ac_req_unref(r);
}

static void issue_authed(ac_req *r, const ac_principal *p)
{
	issue_ctx *ctx;
	json_error_t jerr;
	json_t *body;

	if (strcmp(p->role, "producer") != 0 && strcmp(p->role, "purchaser") != 0) {
		ac_req_error(r, 403, "forbidden",
			     "only a producer or a purchaser may issue a certificate",
			     "只有生产经营者或收购主体可以开具合格证");
		return;
	}
	if (strcmp(p->status, "active") != 0) {
		ac_req_error(r, 403, "subject_inactive",
			     "your registration is suspended or blacklisted; contact your "
			     "township office",
			     "您的主体已被暂停或列入黑名单，暂不能开具合格证，请联系乡镇农安办");
		return;
	}
	if (r->body == NULL) {
		ac_req_error(r, 400, "invalid_json", "a JSON body is required", "请求内容为空");
		return;
	}
	body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(body)) {
		json_decref(body);
		ac_req_error(r, 400, "invalid_json", "the body is not a JSON object",
			     "请求内容格式错误");
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		json_decref(body);
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ctx->r = r;
	ctx->p = *p;
	if (parse_issue(r, ctx, body) != 0) {
		json_decref(body);
		issue_ctx_free(ctx);
		return;
	}
	json_decref(body);
	ac_req_ref(r);
	if (r->idempotency_key != NULL) {
		if (strlen(r->idempotency_key) == 0 ||
		    strlen(r->idempotency_key) > MAX_IDEMPOTENCY_KEY) {
			ac_req_error(r, 400, "invalid_idempotency_key",
				     "Idempotency-Key must be 1 to 128 characters",
				     "请求编号（Idempotency-Key）长度必须为1到128个字符");
			issue_ctx_free(ctx);
			ac_req_unref(r);
			return;
		}
		ctx->job.idempotency_key = strdup(r->idempotency_key);
		if (lookup_existing(ctx) != 0) {
			respond_unavailable(r);
			issue_ctx_free(ctx);
			ac_req_unref(r);
		}
		return;
	}
	submit(ctx);
}

void ac_handle_issue(ac_req *r)
{
	ac_app *app = r->app;

	if (!app->catalog_loaded) {
		ac_req_error(r, 503, "starting", "the service is starting, try again",
			     "系统正在启动，请稍后重试");
		return;
	}
	ac_auth(r, issue_authed);
}

/* GET /api/v1/certificates/{id} */

typedef struct get_ctx {
	ac_id_ctx base;
} get_ctx;

static int may_see(const ac_principal *p, int issuer_id)
{
	return p->subject_id == issuer_id || strcmp(p->role, "admin") == 0 ||
	       strcmp(p->role, "county_regulator") == 0 ||
	       strcmp(p->role, "township_regulator") == 0 || strcmp(p->role, "inspector") == 0;
}

static void on_cert_row(void *data, const ac_db_result *res, int err, const char *msg)
{
	get_ctx *g = data;
	ac_req *r = g->base.r;
	ac_cert c;

	if (err != 0) {
		ac_log_error("cert", "could not read certificate: %s id=%s", msg, r->id_str);
		ac_req_error(r, 503, "unavailable", "the database is unavailable, try again",
			     "系统暂时无法连接数据库，请稍后重试");
		goto out;
	}
	if (ac_db_rows(res) != 1) {
		ac_req_error(r, 404, "not_found", "no such certificate", "查不到这张合格证");
		goto out;
	}
	if (!may_see(&g->base.p, atoi(ac_db_get(res, 0, 2)))) {
		ac_req_error(r, 403, "forbidden", "this certificate is not yours",
			     "这不是您开具的合格证，无权查看");
		goto out;
	}
	if (ac_cert_from_row(res, 0, &c) != 0) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		goto out;
	}
	respond_cert(r, 200, &c);
	ac_cert_clear(&c);
out:
	free(g);
	ac_req_unref(r);
}

static void get_authed(ac_req *r, const ac_principal *p)
{
	ac_app *app = r->app;
	get_ctx *g = r->handler_data;
	const char *values[1];

	r->handler_data = NULL;
	r->handler_free = NULL;
	g->base.p = *p;
	values[0] = g->base.id;
	ac_req_ref(r);
	if (ac_db_query(app->db, AC_CERT_SELECT "WHERE c.serial = $1::bigint", 1, values, NULL,
			on_cert_row, g) != 0) {
		free(g);
		ac_req_error(r, 503, "unavailable", "the database is unavailable, try again",
			     "系统暂时无法连接数据库，请稍后重试");
		ac_req_unref(r);
	}
}

void ac_handle_certificate_get(ac_req *r, const char *id)
{
	ac_start_on_certificate(r, id, sizeof(get_ctx), free, get_authed);
}

/* POST /api/v1/certificates/{id}/revocation {"reason": "..."} */

typedef struct revoke_ctx {
	ac_id_ctx base;
	char *reason;
	int fresh;    /* this request revoked it */
	int cascade;  /* also every certificate made from it */
	int cascaded; /* downstream certificates revoked with it */
} revoke_ctx;

static void revoke_ctx_free(revoke_ctx *ctx)
{
	free(ctx->reason);
	free(ctx);
}

static void revoke_ctx_release(void *ctx)
{
	revoke_ctx_free(ctx);
}

static int may_revoke(const ac_principal *p)
{
	return ac_perm_is_regulator(p);
}

static void on_revoked_row(void *data, const ac_db_result *res, int err, const char *msg)
{
	revoke_ctx *ctx = data;
	ac_req *r = ctx->base.r;
	ac_cert c;

	if (err != 0) {
		ac_log_error("cert", "could not read certificate %s: %s id=%s", ctx->base.id, msg,
			     r->id_str);
		ac_req_error(r, 503, "unavailable", "the database is unavailable, try again",
			     "系统暂时无法连接数据库，请稍后重试");
		goto out;
	}
	if (ac_db_rows(res) != 1) {
		ac_req_error(r, 404, "not_found", "no such certificate", "查不到这张合格证");
		goto out;
	}
	if (!ctx->fresh) {
		ac_req_error(r, 409, "already_revoked", "the certificate was already revoked",
			     "该合格证此前已被撤销");
		goto out;
	}
	if (ac_cert_from_row(res, 0, &c) != 0) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		goto out;
	}
	{
		ac_app *app = r->app;
		ac_buf b;

		ac_buf_init(&b);
		ac_cert_write_json(&b, &c, app->cfg.public_url, AC_CERT_ITEMS);
		if (ac_buf_ok(&b) && b.len > 0) {
			b.len--; /* reopen the object */
			ac_buf_puts(&b, ",\"cascaded\":");
			ac_buf_int(&b, ctx->cascaded);
			ac_buf_puts(&b, "}");
		}
		if (ac_buf_ok(&b))
			ac_req_respond(r, 200, "application/json; charset=utf-8", b.data, b.len);
		else
			ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		ac_buf_free(&b);
	}
	ac_cert_clear(&c);
out:
	revoke_ctx_free(ctx);
	ac_req_unref(r);
}

static void on_revoked(void *data, const ac_db_result *res, int err, const char *msg)
{
	revoke_ctx *ctx = data;
	ac_req *r = ctx->base.r;
	ac_app *app = r->app;
	const char *values[1] = { ctx->base.id };

	if (err != 0) {
		ac_log_error("cert", "could not revoke certificate %s: %s id=%s", ctx->base.id, msg,
			     r->id_str);
		ac_req_error(r, 503, "unavailable", "the database is unavailable, try again",
			     "系统暂时无法连接数据库，请稍后重试");
		goto fail;
	}
	for (int k = 0; k < ac_db_rows(res); k++) {
		if (strcmp(ac_db_get(res, k, 0), ctx->base.id) == 0)
			ctx->fresh = 1;
		else
			ctx->cascaded++;
	}
	/* A cascade after a plain revocation still revokes what was made from it. */
	if (ctx->cascade && ctx->cascaded > 0)
		ctx->fresh = 1;
	if (ctx->fresh)
		ac_log_info("cert", "revoked certificate %s and %d made from it id=%s",
			    ctx->base.id, ctx->cascaded, r->id_str);
	if (ac_db_query(app->db, AC_CERT_SELECT "WHERE c.serial = $1::bigint", 1, values, NULL,
			on_revoked_row, ctx) == 0)
		return;
	ac_req_error(r, 503, "unavailable", "the database is unavailable, try again",
		     "系统暂时无法连接数据库，请稍后重试");
fail:
	revoke_ctx_free(ctx);
	ac_req_unref(r);
}

static void on_revoke_check(void *data, const ac_db_result *res, int err, const char *msg)
{
	revoke_ctx *ctx = data;
	ac_req *r = ctx->base.r;
	ac_app *app = r->app;
	const char *values[2];
	char actor[128];

	if (err != 0) {
		ac_log_error("cert", "could not read certificate %s: %s id=%s", ctx->base.id, msg,
			     r->id_str);
		ac_req_unavailable(r);
		goto fail;
	}
	if (ac_db_rows(res) != 1) {
		ac_req_error(r, 404, "not_found", "no such certificate", "查不到这张合格证");
		goto fail;
	}
	if (!ac_perm_covers(&ctx->base.p, strtoll(ac_db_get(res, 0, 0), NULL, 10))) {
		ac_req_error(r, 403, "outside_jurisdiction",
			     "the certificate's issuer is outside your jurisdiction",
			     "该合格证的开具主体不在您的辖区内，无权撤销");
		goto fail;
	}
	values[0] = ctx->base.id;
	values[1] = ctx->reason;
	ac_perm_actor(&ctx->base.p, actor, sizeof(actor));
	/* With cascade, every certificate made from it (any depth) goes too. */
	if (ac_db_query_as(
		app->db, actor,
		ctx->cascade
		    ? "WITH RECURSIVE down(serial, depth) AS (SELECT $1::bigint, 0 UNION "
		      "SELECT ci.serial, down.depth + 1 FROM certificate_input ci JOIN down "
		      "ON ci.input_serial = down.serial WHERE down.depth < 64) UPDATE "
		      "certificate c SET revoked_at = now(), revoke_reason = CASE WHEN "
		      "c.serial = $1::bigint THEN $2 ELSE $2 || '（上游合格证 ' || "
		      "lpad($1::bigint::text, 12, '0') || ' 已撤销）' END FROM down WHERE c.serial "
		      "= "
		      "down.serial AND c.revoked_at IS NULL RETURNING c.serial"
		    : "UPDATE certificate SET revoked_at = now(), revoke_reason = $2 "
		      "WHERE serial = $1::bigint AND revoked_at IS NULL RETURNING serial",
		2, values, NULL, on_revoked, ctx) == 0)
		return;
	ac_req_unavailable(r);
fail:
	revoke_ctx_free(ctx);
	ac_req_unref(r);
}

static void revoke_authed(ac_req *r, const ac_principal *p)
{
	ac_app *app = r->app;
	revoke_ctx *ctx = r->handler_data;
	const char *values[1];
	json_t *body;
	json_t *reason;

	if (!may_revoke(p)) {
		ac_req_error(r, 403, "forbidden", "only a regulator may revoke a certificate",
			     "只有监管人员可以撤销合格证");
		return;
	}
	body = r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
	reason = json_object_get(body, "reason");
	if (!json_is_string(reason) || json_string_length(reason) == 0 ||
	    json_string_length(reason) > 1000 || !utf8_valid(json_string_value(reason))) {
		json_decref(body);
		respond_field(r, 400, "missing_field", "reason",
			      "a reason (at most 1000 bytes) is required to revoke",
			      "撤销合格证必须填写原因");
		return;
	}
	ctx->cascade = json_is_true(json_object_get(body, "cascade"));
	ctx->reason = strdup(json_string_value(reason));
	json_decref(body);
	if (ctx->reason == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ctx->base.p = *p;
	r->handler_data = NULL;
	r->handler_free = NULL;
	values[0] = ctx->base.id;
	ac_req_ref(r);
	if (ac_db_query(app->db,
			"SELECT s.region_code FROM certificate c JOIN subject s ON s.id = "
			"c.issuer_id WHERE c.serial = $1::bigint",
			1, values, NULL, on_revoke_check, ctx) != 0) {
		revoke_ctx_free(ctx);
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
}

void ac_handle_revocation(ac_req *r, const char *id)
{
	ac_start_on_certificate(r, id, sizeof(revoke_ctx), revoke_ctx_release, revoke_authed);
}

/*
 * POST /api/v1/certificates/{id}/reprint {"printer": "..."}: the same codes
 * again (a label torn or lost), by the issuer only, counted.
 */

typedef struct reprint_ctx {
	ac_id_ctx base;
	char printer[72];
	ac_cert cert;
} reprint_ctx;

static void reprint_ctx_free(reprint_ctx *ctx)
{
	ac_cert_clear(&ctx->cert);
	free(ctx);
}

static void on_reprint_job(void *data, const ac_db_result *res, int err, const char *msg)
{
	reprint_ctx *ctx = data;
	ac_req *r = ctx->base.r;
	ac_app *app = r->app;
	json_t *j;

	if (err != 0 || ac_db_rows(res) != 1) {
		ac_log_error("print", "could not record reprint of %s: %s id=%s", ctx->base.id,
			     msg ? msg : "no row", r->id_str);
		ac_req_unavailable(r);
		goto out;
	}
	ctx->cert.print_job_id = strtoll(ac_db_get(res, 0, 0), NULL, 10);
	free(ctx->cert.printer_id);
	ctx->cert.printer_id = strdup(ctx->printer);
	ac_printq_submit(app->printq, &ctx->cert, r->start_ns);
	ac_log_info("print", "reprint %s of certificate %s as job %s id=%s", ac_db_get(res, 0, 1),
		    ctx->base.id, ac_db_get(res, 0, 0), r->id_str);
	j = json_pack("{s:I,s:{s:I,s:s,s:s,s:b},s:I}", "certificate", (json_int_t)ctx->cert.serial,
		      "print_job", "id", (json_int_t)ctx->cert.print_job_id, "printer",
		      ctx->printer, "state", "queued", "reprint", 1, "reprints",
		      (json_int_t)strtoll(ac_db_get(res, 0, 1), NULL, 10));
	ac_req_json(r, 201, j);
out:
	reprint_ctx_free(ctx);
	ac_req_unref(r);
}

static void on_reprint_cert(void *data, const ac_db_result *res, int err, const char *msg)
{
	reprint_ctx *ctx = data;
	ac_req *r = ctx->base.r;
	ac_app *app = r->app;
	const char *values[2];
	char actor[128];

	if (err != 0) {
		ac_req_unavailable(r);
		goto fail;
	}
	if (ac_db_rows(res) != 1) {
		ac_req_error(r, 404, "not_found", "no such certificate", "查不到这张合格证");
		goto fail;
	}
	if (ac_cert_from_row(res, 0, &ctx->cert) != 0) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		goto fail;
	}
	if (ctx->cert.issuer_id != ctx->base.p.subject_id) {
		ac_req_error(r, 403, "forbidden", "only the issuer may reprint its labels",
			     "只能补打自己开具的合格证");
		goto fail;
	}
	if (ctx->cert.revoked_at != NULL) {
		ac_req_error(r, 409, "revoked", "a revoked certificate is not printed again",
			     "该合格证已被撤销，不能补打");
		goto fail;
	}
	values[0] = ctx->base.id;
	values[1] = ctx->printer;
	ac_perm_actor(&ctx->base.p, actor, sizeof(actor));
	if (ac_db_query_as(app->db, actor,
			   "WITH j AS (INSERT INTO print_job (serial, printer_id, reprint) VALUES "
			   "($1::bigint, $2, true) RETURNING id) SELECT j.id, (SELECT count(*) + 1 "
			   "FROM print_job WHERE serial = $1::bigint AND reprint) FROM j",
			   2, values, NULL, on_reprint_job, ctx) == 0)
		return;
	ac_req_unavailable(r);
fail:
	reprint_ctx_free(ctx);
	ac_req_unref(r);
}

static void reprint_authed(ac_req *r, const ac_principal *p)
{
	ac_app *app = r->app;
	reprint_ctx *ctx = r->handler_data;
	const char *values[1];
	json_t *body;
	json_t *printer;

	if (strcmp(p->role, "producer") != 0 && strcmp(p->role, "purchaser") != 0) {
		ac_req_error(r, 403, "forbidden", "only the issuer may reprint its labels",
			     "只能补打自己开具的合格证");
		return;
	}
	body = ac_req_body_object(r);
	if (body == NULL)
		return;
	printer = json_object_get(body, "printer");
	if (!json_is_string(printer) ||
	    ac_config_printer(&app->cfg, json_string_value(printer)) == NULL) {
		json_decref(body);
		respond_field(r, 422, "unknown_printer", "printer", "no such printer",
			      "找不到这台打印机，请联系服务站管理员");
		return;
	}
	if (p->kiosk_id[0] != '\0' && strcmp(json_string_value(printer), p->kiosk_id) != 0) {
		json_decref(body);
		respond_field(r, 403, "printer_not_allowed", "printer",
			      "a kiosk session prints only on its own kiosk's printer",
			      "只能在本服务站的打印机上打印");
		return;
	}
	snprintf(ctx->printer, sizeof(ctx->printer), "%s", json_string_value(printer));
	json_decref(body);
	ctx->base.p = *p;
	r->handler_data = NULL;
	r->handler_free = NULL;
	values[0] = ctx->base.id;
	ac_req_ref(r);
	if (ac_db_query(app->db, AC_CERT_SELECT "WHERE c.serial = $1::bigint", 1, values, NULL,
			on_reprint_cert, ctx) != 0) {
		reprint_ctx_free(ctx);
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
}

static void reprint_release(void *ctx)
{
	reprint_ctx_free(ctx);
}

void ac_handle_reprint(ac_req *r, const char *id)
{
	ac_start_on_certificate(r, id, sizeof(reprint_ctx), reprint_release, reprint_authed);
}
