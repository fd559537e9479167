/*
 * POST /api/v1/certificates (issue, and re-issue with "inputs"),
 * GET /api/v1/certificates/{serial}, and GET /api/v1/certificates (the
 * caller's own, newest first, page by page: 我的合格证 at the kiosk).
 *
 * In an assisted session (代开, sessions.c) the farmer issues, and the
 * certificate records the station that helped (assisted_by).
 *
 * Issuing goes through the issuer's group commit (ac_issuer.h): the answer
 * comes after the certificate is durable. An Idempotency-Key makes a retry
 * safe: the same key with the same body answers the stored certificate
 * (200), with another body 422.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_certdb.h"
#include "ac_chain.h"
#include "ac_check.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_log.h"
#include "ac_printing.h"

#define MAX_IDEMPOTENCY_KEY 128
#define MAX_INPUTS	    100
#define MAX_LIST	    100 /* certificates a page */
#define MAX_OFFSET	    1000000

typedef struct issue_ctx {
	ac_issue_job job;
	int purchaser;
	const ac_product *product; /* valid while parsing */
	ac_print_work *print;	   /* the labels rendering while the commit is in flight */
} issue_ctx;

/* Sends c as the API's certificate JSON. */
static void respond_cert(ac_req *r, int status, const ac_cert *c)
{
	ac_buf b;

	ac_buf_init(&b);
	ac_cert_write_json(&b, c, ac_app_of(r)->cfg.public_url, AC_CERT_ITEMS);
	ac_req_buf(r, status, &b);
	ac_buf_free(&b);
}

static void clear_cert(void *c)
{
	ac_cert_clear(c);
}

/* The fields of an issue request, in the order they are checked: each
 * parser answers and returns -1 when its value is wrong (v NULL: absent). */

static int parse_issuer(ac_req *r, issue_ctx *ctx, json_t *v)
{
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) != r->who->subject_id)) {
		ac_req_error_field(r, 403, "forbidden_issuer", "issuer",
				   "you may issue certificates only in your own name",
				   "只能以自己的名义开具合格证");
		return -1;
	}
	return 0;
}

static int parse_style(ac_req *r, issue_ctx *ctx, json_t *v)
{
	int want = ctx->purchaser ? 2 : 1;

	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) != want)) {
		ac_req_error_field(r, 400, "invalid_style", "style",
				   ctx->purchaser ? "a purchaser re-issues with style 2"
						  : "style must be 1 (producer's promise) for a "
						    "producer",
				   ctx->purchaser ? "收购主体再次开具使用样式二"
						  : "生产者只能开具承诺达标合格证（样式一）");
		return -1;
	}
	ctx->job.cert.style = want;
	return 0;
}

static int bad_input(ac_req *r)
{
	ac_req_error_field(
	    r, 400, "invalid_input", "inputs",
	    "each input needs a certificate id (or an external certificate's id "
	    "as external), a quantity above 0 (at most 3 decimals) and a unit",
	    "每个进货来源须填写合格证编号（外来合格证填登记编号）、数量（大于0）和单位");
	return -1;
}

/* The id under key, above 0, or 0 when absent; -1 when it is something else. */
static int64_t input_id(json_t *v, const char *key)
{
	json_t *id = json_object_get(v, key);

	if (id == NULL)
		return 0;
	return json_is_integer(id) && json_integer_value(id) > 0 ? json_integer_value(id) : -1;
}

/* One input, from an inbound certificate or an external one; refuses one
 * listed twice with the same unit. */
static int parse_input(ac_req *r, ac_issue_input *in, int i, json_t *v)
{
	int64_t cert = input_id(v, "certificate");
	int64_t external = input_id(v, "external");
	json_t *unit = json_object_get(v, "unit");

	in[i].unit = json_is_string(unit) ? ac_unit_from_name(json_string_value(unit)) : -1;
	if (cert < 0 || external < 0 || (cert == 0) == (external == 0) || in[i].unit <= 0 ||
	    ac_chain_quantity(json_object_get(v, "quantity"), &in[i].quantity_milli) != 0)
		return bad_input(r);
	in[i].serial = (uint64_t)cert;
	in[i].external = external;
	for (int k = 0; k < i; k++) {
		if (in[k].serial == in[i].serial && in[k].external == in[i].external &&
		    in[k].unit == in[i].unit) {
			ac_req_error_field(r, 400, "duplicate_input", "inputs",
					   "an inbound certificate is listed twice",
					   "同一张进货合格证重复填写了");
			return -1;
		}
	}
	return 0;
}

/* "inputs": what a purchaser's re-issue draws from the certificates it
 * collected and the external ones it registered (the database checks the
 * quantities, units and products). Required for a purchaser, refused for a
 * producer. */
static int parse_inputs(ac_req *r, issue_ctx *ctx, json_t *v)
{
	size_t n = json_array_size(v);
	ac_issue_input *in;

	if (!ctx->purchaser) {
		if (v == NULL)
			return 0;
		ac_req_error_field(r, 400, "unexpected_inputs", "inputs",
				   "a producer's certificate has no inputs",
				   "生产者开具合格证不需要填写进货来源");
		return -1;
	}
	if (!json_is_array(v) || n == 0 || n > MAX_INPUTS) {
		ac_req_error_field(r, 400, "missing_field", "inputs",
				   "a re-issue lists 1 to 100 inbound certificates it draws from",
				   "再次开具须列出所用的进货合格证（1到100张）");
		return -1;
	}
	in = ac_req_alloc(r, n * sizeof(*in));
	if (in == NULL) {
		ac_req_nomem(r);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (parse_input(r, in, (int)i, json_array_get(v, i)) != 0)
			return -1;
	}
	ctx->job.inputs = in;
	ctx->job.ninputs = (int)n;
	return 0;
}

static int parse_product(ac_req *r, issue_ctx *ctx, json_t *v)
{
	if (!json_is_string(v) || json_string_length(v) == 0) {
		ac_req_error_field(r, 400, "missing_field", "product", "product is required",
				   "请选择产品名称");
		return -1;
	}
	ctx->product = ac_chain_product(r, "product", v);
	if (ctx->product == NULL)
		return -1;
	ctx->job.cert.product_id = ctx->product->id;
	ctx->job.cert.product_name = strdup(ctx->product->name);
	return 0;
}

static int parse_quantity(ac_req *r, issue_ctx *ctx, json_t *v)
{
	if (!json_is_number(v)) {
		ac_req_error_field(r, 400, "missing_field", "quantity", "quantity must be a number",
				   "请填写数量（数字）");
		return -1;
	}
	if (ac_chain_quantity(v, &ctx->job.cert.quantity_milli) != 0) {
		ac_req_error_field(r, 400, "invalid_quantity", "quantity",
				   "quantity must be above 0 and at most 1000000, with at most 3 "
				   "decimals",
				   "数量必须大于0、不超过1000000，最多三位小数");
		return -1;
	}
	return 0;
}

static int parse_unit(ac_req *r, issue_ctx *ctx, json_t *v)
{
	int unit = v == NULL	       ? ac_unit_from_name(ctx->product->default_unit)
		   : json_is_string(v) ? ac_unit_from_name(json_string_value(v))
				       : -1;

	if (unit <= 0) {
		ac_req_error_field(r, 400, "invalid_unit", "unit",
				   "unit must be one of kg, g, t, jin, piece, head, box, bag",
				   "计量单位无效，请选择千克、克、吨、斤、个、头、箱、袋等");
		return -1;
	}
	ctx->job.cert.unit = unit;
	return 0;
}

static int parse_origin(ac_req *r, issue_ctx *ctx, json_t *v)
{
	if (!json_is_string(v) || !ac_check_text(json_string_value(v), 300)) {
		ac_req_error_field(r, 400, "invalid_origin", "origin",
				   "origin is required (at most 100 characters)",
				   "请填写产地（不超过100个字）");
		return -1;
	}
	if (ac_printing_refuse_text(r, "origin", json_string_value(v)) != 0)
		return -1;
	ctx->job.cert.origin = strdup(json_string_value(v));
	return 0;
}

static int parse_origin_code(ac_req *r, issue_ctx *ctx, json_t *v)
{
	char tmp[24];
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;

	if (json_is_integer(v)) {
		snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
		s = tmp;
	}
	if (s == NULL || ac_check_region_code(s, &ctx->job.cert.origin_code) != 0) {
		ac_req_error_field(r, 400, "invalid_origin_code", "origin_code",
				   "origin_code must be a 12-digit administrative division code",
				   "产地代码必须是12位行政区划代码（省市县乡村）");
		return -1;
	}
	return 0;
}

static int parse_basis(ac_req *r, issue_ctx *ctx, json_t *v)
{
	int basis = json_is_string(v) ? ac_basis_from_name(json_string_value(v)) : -1;

	if (basis < 0) {
		ac_req_error_field(
		    r, 400, "invalid_basis", "basis",
		    "basis must be quality_control, self_test or commissioned_test",
		    "请选择承诺依据：质量安全控制符合要求、自行检测合格或委托检测合格");
		return -1;
	}
	ctx->job.cert.basis = basis;
	return 0;
}

static int parse_test(ac_req *r, issue_ctx *ctx, json_t *v)
{
	int valid = json_is_integer(v) && json_integer_value(v) > 0;

	if (ctx->job.cert.basis != AC_BASIS_QUALITY_CONTROL && !valid) {
		ac_req_error_field(r, 400, "missing_field", "test",
				   "a test-based basis needs the id of the passing rapid test",
				   "承诺依据为检测合格时，请填写检测记录编号");
		return -1;
	}
	if (v != NULL && !json_is_null(v) && !valid) {
		ac_req_error_field(r, 400, "invalid_test", "test", "test must be a rapid test id",
				   "检测记录编号格式错误");
		return -1;
	}
	ctx->job.cert.test_id = valid ? json_integer_value(v) : 0;
	return 0;
}

static int parse_contact(ac_req *r, issue_ctx *ctx, json_t *v)
{
	const char *s = v != NULL ? json_string_value(v) : r->who->contact;

	if (v != NULL && (s == NULL || (s[0] != '\0' && !ac_check_text(s, 40)))) {
		ac_req_error_field(r, 400, "invalid_contact", "contact",
				   "contact must be a phone number or text of at most 40 bytes",
				   "联系方式格式错误");
		return -1;
	}
	if (s == NULL || s[0] == '\0') {
		ac_req_error_field(r, 400, "missing_field", "contact", "contact is required",
				   "请填写联系方式");
		return -1;
	}
	ctx->job.cert.contact = strdup(s);
	return 0;
}

static int parse_labels(ac_req *r, issue_ctx *ctx, json_t *v)
{
	int max = ac_app_of(r)->cfg.max_labels;
	char en[96];
	char zh[96];

	ctx->job.cert.labels = 1;
	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= max) {
		ctx->job.cert.labels = (int)json_integer_value(v);
		return 0;
	}
	snprintf(en, sizeof(en), "labels must be an integer from 1 to %d", max);
	snprintf(zh, sizeof(zh), "标签数量必须是1到%d之间的整数", max);
	ac_req_error_field(r, 400, "invalid_labels", "labels", en, zh);
	return -1;
}

static int parse_printer(ac_req *r, issue_ctx *ctx, json_t *v)
{
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) ||
	    ac_printq_printer(ac_app_of(r)->printq, json_string_value(v)) == NULL) {
		ac_req_error_field(r, 422, "unknown_printer", "printer", "no such printer",
				   "找不到这台打印机，请联系服务站管理员");
		return -1;
	}
	/* A session opened at a kiosk prints only on that kiosk's printer. */
	if (r->who->kiosk_id[0] != '\0' && strcmp(json_string_value(v), r->who->kiosk_id) != 0) {
		ac_req_error_field(r, 403, "printer_not_allowed", "printer",
				   "a kiosk session prints only on its own kiosk's printer",
				   "只能在本服务站的打印机上打印");
		return -1;
	}
	ctx->job.cert.printer_id = strdup(json_string_value(v));
	return 0;
}

static const struct issue_field {
	const char *key;
	int (*parse)(ac_req *r, issue_ctx *ctx, json_t *v);
} issue_fields[] = {
	{ "issuer", parse_issuer },	{ "style", parse_style },
	{ "inputs", parse_inputs },	{ "product", parse_product },
	{ "quantity", parse_quantity }, { "unit", parse_unit },
	{ "origin", parse_origin },	{ "origin_code", parse_origin_code },
	{ "basis", parse_basis },	{ "test", parse_test },
	{ "contact", parse_contact },	{ "labels", parse_labels },
	{ "printer", parse_printer },
};

#define NFIELDS (sizeof(issue_fields) / sizeof(issue_fields[0]))

/*
 * 64-bit FNV-1a over the request body, as hex: a retry must send the same
 * body to be answered from the stored certificate.
 */
static char *fingerprint(const char *body, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	char *out = malloc(17);

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)body[i];
		h *= 1099511628211ULL;
	}
	if (out != NULL)
		snprintf(out, 17, "%016llx", (unsigned long long)h);
	return out;
}

/* Fills ctx->job.cert from the body. Returns 0, or answers and returns -1. */
static int parse_issue(ac_req *r, issue_ctx *ctx, json_t *body)
{
	ac_cert *c = &ctx->job.cert;

	if (ac_req_known_fields(r, body, issue_fields, NFIELDS, sizeof(issue_fields[0])) != 0)
		return -1;
	for (size_t i = 0; i < NFIELDS; i++) {
		if (issue_fields[i].parse(r, ctx, json_object_get(body, issue_fields[i].key)) != 0)
			return -1;
	}
	c->issuer_id = r->who->subject_id;
	c->issuer_name = strdup(r->who->name);
	c->request_fp = fingerprint(r->body, r->body_len);
	c->assisted_by = r->who->assisted_by;
	if (c->assisted_by != 0)
		c->assisted_by_name = strdup(r->who->assisted_by_name);
	if (c->origin == NULL || c->product_name == NULL || c->issuer_name == NULL ||
	    c->contact == NULL || c->request_fp == NULL ||
	    (c->assisted_by != 0 && c->assisted_by_name == NULL) ||
	    (json_is_string(json_object_get(body, "printer")) && c->printer_id == NULL)) {
		ac_req_nomem(r);
		return -1;
	}
	return 0;
}

/* What the database's refusals (AC_REFUSED_*) answer. */
static const struct refusal {
	int refused;
	int status;
	const char *code;
	const char *field; /* or NULL */
	const char *en;
	const char *zh;
} refusals[] = {
	{ AC_REFUSED_BLOCKED, 403, "blocked_by_failed_test", NULL,
	  "a failed rapid test blocks this product until a passing retest",
	  "该产品快检不合格，复检合格前不能开具合格证（不合格不采收、不上市）" },
	{ AC_REFUSED_UNTESTED, 422, "test_not_passing", "test",
	  "the test named is not a passing test of yours for this product (your own test counts "
	  "once its photo is uploaded)",
	  "所填检测记录不是本主体本产品的合格检测，请核对编号（自检、委托检测须先上传照片）" },
	{ AC_REFUSED_TEST_REQUIRED, 403, "test_required", NULL,
	  "this product is tested before sale: get a passing rapid test at the township's testing "
	  "station (or record your own test with its photo), then issue",
	  "该产品上市前须经检测：请先到乡镇农产品检测站或服务站做速测，合格后再开具"
	  "（自检或委托检测须上传试纸或检测报告照片）" },
};

static void refuse(ac_req *r, int refused)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *f = &refusals[i];

		if (f->refused != refused)
			continue;
		if (f->field != NULL)
			ac_req_error_field(r, f->status, f->code, f->field, f->en, f->zh);
		else
			ac_req_error(r, f->status, f->code, f->en, f->zh);
		return;
	}
	ac_req_unavailable(r);
}

static void lookup_existing(ac_req *r);

/* Signed, its batch on the way to the database: the labels render meanwhile. */
static void on_signed(ac_issue_job *job)
{
	ac_req *r = job->data;
	issue_ctx *ctx = r->ctx;

	ctx->print = ac_printq_render(ac_app_of(r)->printq, &job->cert, r->start_ns);
}

/* The labels go to CUPS when the certificate was stored with a print job,
 * else nowhere. */
static void print_or_drop(ac_req *r, issue_ctx *ctx)
{
	const ac_issue_job *job = &ctx->job;
	ac_print_work *w = ctx->print;

	ctx->print = NULL;
	if (job->err == 0 && job->stored && job->cert.print_job_id != 0)
		ac_printq_commit(ac_app_of(r)->printq, w, &job->cert, r->start_ns);
	else
		ac_printq_discard(w);
}

/* The issuer's answer: stored, refused, short, or a duplicate key. */
static void on_issued(ac_issue_job *job)
{
	ac_req *r = job->data;

	print_or_drop(r, r->ctx);

	if (job->err == AC_ECHAIN) {
		ac_chain_refuse(r, job->errmsg);
	} else if (job->err == AC_EINPUT) {
		ac_log_warn("issue", "refused by the database: %s id=%s", job->errmsg, r->id_str);
		ac_req_error(r, 422, "invalid_value",
			     "a value of the certificate was refused; check the fields",
			     "合格证的内容不符合要求，请检查后重试");
	} else if (job->err != 0) {
		ac_req_unavailable(r);
	} else if (job->refused != 0) {
		refuse(r, job->refused);
	} else if (job->duplicate) {
		/* Another request with this key won the race: answer with its certificate. */
		lookup_existing(r);
	} else {
		ac_log_debug("issue", "issued certificate %llu with %d labels for subject %d id=%s",
			     (unsigned long long)job->cert.serial, job->cert.labels,
			     job->cert.issuer_id, r->id_str);
		respond_cert(r, 201, &job->cert);
	}
	ac_req_release(r);
}

static void submit(ac_req *r)
{
	issue_ctx *ctx = r->ctx;

	ctx->job.done = on_issued;
	ctx->job.signed_cb = ctx->job.cert.printer_id != NULL ? on_signed : NULL;
	ctx->job.data = r;
	ac_req_hold(r);
	if (ac_issuer_submit(ac_app_of(r)->issuer, &ctx->job) != 0) {
		ac_log_error("issue", "could not issue: no signing key id=%s", r->id_str);
		ac_req_error(r, 503, "no_signing_key", "no signing key is active",
			     "系统签名密钥未配置，请联系管理员");
		ac_req_release(r);
	}
}

static void on_existing(ac_req *r, const ac_db_result *res)
{
	issue_ctx *ctx = r->ctx;
	ac_cert existing;

	if (ac_db_rows(res) == 0) {
		/* A duplicate whose winner is not there: nothing was stored. */
		if (ctx->job.duplicate)
			ac_req_unavailable(r);
		else
			submit(r);
		return;
	}
	if (ac_certdb_read(res, 0, &existing) != 0)
		ac_req_nomem(r);
	else if (existing.request_fp == NULL ||
		 strcmp(existing.request_fp, ctx->job.cert.request_fp) != 0)
		ac_req_error(r, 422, "idempotency_key_reused",
			     "this Idempotency-Key was used for a different request",
			     "该请求编号已用于另一张合格证，请勿重复使用");
	else
		respond_cert(r, 200, &existing);
	ac_cert_clear(&existing);
}

/* Answers a retried request from the stored certificate. */
static void lookup_existing(ac_req *r)
{
	char issuer[16];
	const char *values[2] = { issuer, r->idempotency_key };

	snprintf(issuer, sizeof(issuer), "%d", r->who->subject_id);
	ac_req_query(r, AC_CERT_SELECT "WHERE issuer_id = $1::int AND idempotency_key = $2", 2,
		     values, on_existing);
}

static void handle_issue(ac_req *r)
{
	issue_ctx *ctx;
	json_t *body;

	if (!ac_catalog_loaded(ac_app_of(r)->catalog)) {
		ac_req_error(r, 503, "starting", "the service is starting, try again",
			     "系统正在启动，请稍后重试");
		return;
	}
	if (strcmp(r->who->status, "active") != 0) {
		ac_chain_inactive(r);
		return;
	}
	if ((ctx = ac_req_ctx(r, issue_ctx, &body)) == NULL)
		return;
	ctx->purchaser = ac_perm_is_role(r->who, "purchaser");
	if (ac_req_defer(r, clear_cert, &ctx->job.cert) != 0) {
		ac_req_nomem(r);
		return;
	}
	if (parse_issue(r, ctx, body) != 0)
		return;
	if (r->idempotency_key == NULL) {
		submit(r);
		return;
	}
	if (!ac_check_text(r->idempotency_key, MAX_IDEMPOTENCY_KEY)) {
		ac_req_error(r, 400, "invalid_idempotency_key",
			     "Idempotency-Key must be 1 to 128 printable UTF-8 characters",
			     "请求编号（Idempotency-Key）长度必须为1到128个字符");
		return;
	}
	ctx->job.idempotency_key = r->idempotency_key;
	lookup_existing(r);
}

/* GET /api/v1/certificates/{serial} */

static int may_see(const ac_principal *p, int issuer_id)
{
	return p->subject_id == issuer_id || ac_perm_is_staff(p);
}

static void on_certificate(ac_req *r, const ac_db_result *res)
{
	ac_cert c;

	if (ac_db_rows(res) != 1) {
		ac_req_not_found(r, "no such certificate", "查不到这张合格证");
		return;
	}
	if (!may_see(r->who, atoi(ac_db_field(res, 0, "issuer_id")))) {
		ac_req_forbidden(r, "this certificate is not yours",
				 "这不是您开具的合格证，无权查看");
		return;
	}
	if (ac_certdb_read(res, 0, &c) != 0)
		ac_req_nomem(r);
	else
		respond_cert(r, 200, &c);
	ac_cert_clear(&c);
}

static void handle_get(ac_req *r)
{
	ac_req_query(r, AC_CERT_SELECT "WHERE serial = $1::bigint", 1, r->param, on_certificate);
}

/* GET /api/v1/certificates[?mine]&limit=&offset= */

static void handle_mine(ac_req *r)
{
	int limit, offset;
	ac_db_call call;

	if (ac_req_param_int(r, "limit", 20, 1, MAX_LIST, &limit) != 0 ||
	    ac_req_param_int(r, "offset", 0, 0, MAX_OFFSET, &offset) != 0)
		return;
	ac_db_call_init(&call, "my_certificates");
	ac_db_arg_int(&call, "p_issuer", "integer", r->who->subject_id);
	ac_db_arg_int(&call, "p_limit", "integer", limit);
	ac_db_arg_int(&call, "p_offset", "integer", offset);
	ac_req_call(r, &call, ac_req_doc_step);
}

static const ac_route routes[] = {
	AC_ROUTE("POST", "/api/v1/certificates", handle_issue, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_ISSUE),
	AC_ROUTE("GET", "/api/v1/certificates/{serial}", handle_get, .flags = AC_ROUTE_AUTH),
	AC_ROUTE("GET", "/api/v1/certificates", handle_mine, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_OWN_CERTS),
};

AC_ROUTE_TABLE(ac_certificate_routes, routes);
