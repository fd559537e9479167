/*
 * Inspections (查验) over HTTP:
 *   POST /api/v1/inspections        an inspector checks the labels at a
 *                                   market stall: each code's verdict; with
 *                                   an Idempotency-Key a retry is answered
 *                                   from the first (the phone page's queue)
 *   GET  /api/v1/markets/{id}/stalls a market's stalls, to pick from
 *   GET  /api/v1/inspections        market checks in the caller's area
 *   POST /api/v1/unlicensed-reports produce on sale with no certificate
 *   GET  /api/v1/unlicensed-reports (无证产品反馈)
 *   GET  /api/v1/clone-suspicions   item codes that look copied, for
 *                                   regulators (sql/0010_inspections.sql)
 * Staff only (inspectors anywhere, regulators within their jurisdiction,
 * judged by the market's region, or for suspicions by the issuer's). The
 * statements are functions of sql/0014_inspection_sql.sql and
 * sql/0022_inspection_idempotency.sql.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_check.h"
#include "ac_codes.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_jurisdiction.h"
#include "ac_log.h"

#define MAX_CODES    200
#define MAX_SELLER   200
#define MAX_NOTES    2000
#define MAX_QUANTITY 1000000
#define MAX_IDEM_KEY 128

/* Optional text of at most max bytes: 1 when absent or fine (out NULL when
 * absent or empty), 0 when not. */
static int opt_text(json_t *body, const char *key, size_t max, const char **out)
{
	json_t *v = json_object_get(body, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 1;
	if (!json_is_string(v) || json_string_length(v) > max)
		return 0;
	*out = json_string_length(v) ? json_string_value(v) : NULL;
	return 1;
}

/* Optional positive id: 1 when absent (out 0) or fine, 0 when not. */
static int opt_id(json_t *body, const char *key, int *out)
{
	json_t *v = json_object_get(body, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 1;
	if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > INT32_MAX)
		return 0;
	*out = (int)json_integer_value(v);
	return 1;
}

/* An optional id as a call's argument: NULL when 0. */
static void arg_id(ac_db_call *call, const char *name, int id)
{
	if (id > 0)
		ac_db_arg_int(call, name, "integer", id);
	else
		ac_db_arg(call, name, "integer", NULL);
}

/* A write the database did not store: the market is unknown, or outside
 * the caller's jurisdiction. */
static void market_refused(ac_req *r, const ac_db_result *res)
{
	if (ac_db_bool(res, 0, ac_db_col(res, "market_found")))
		ac_req_error(r, 403, "outside_jurisdiction",
			     "the market is outside your jurisdiction", "该市场不在您的辖区内");
	else
		ac_req_error_field(r, 404, "unknown_market", "market", "no such market",
				   "找不到这个市场，请先在登记系统中添加");
}

/* POST /api/v1/inspections */

typedef struct insp_entry {
	const char *status; /* the verdict, a static string */
	uint64_t serial;    /* 0 when the code was refused before the database */
	int item;
	/* From the database's row, while its step runs. */
	const char *product;
	const char *issuer;
	const char *suspicion;
} insp_entry;

typedef struct insp_ctx {
	int market;
	int seller_subject; /* 0: none */
	const char *seller; /* in the body, as the notes */
	const char *notes;
	int n;
	insp_entry *e;		 /* n entries */
	ac_scanned_code *checks; /* index by index with e */
	char *answer;		 /* kept for retries before it is sent (pool) */
} insp_ctx;

static const struct {
	const char *status;
	const char *zh;
} verdict_zh[] = {
	{ "valid", "真实有效" },
	{ "revoked", "已撤销" },
	{ "malformed", "无法识别" },
	{ "unknown_key", "签发密钥未知" },
	{ "key_revoked", "签发密钥已吊销" },
	{ "bad_signature", "签名不符，疑似伪造" },
	{ "unknown_certificate", "查无此证" },
	{ "not_issued", "与开具记录不符" },
};

static const char *status_zh(const char *status)
{
	for (size_t i = 0; i < sizeof(verdict_zh) / sizeof(verdict_zh[0]); i++) {
		if (strcmp(verdict_zh[i].status, status) == 0)
			return verdict_zh[i].zh;
	}
	return status;
}

/* The database's verdicts, for the codes whose signature was genuine. */
static void take_verdicts(insp_ctx *ctx, const ac_db_result *res)
{
	int idx = ac_db_col(res, "idx");
	int known = ac_db_col(res, "known");
	int revoked = ac_db_col(res, "revoked");
	int issued = ac_db_col(res, "issued");
	int product = ac_db_col(res, "product");
	int issuer = ac_db_col(res, "issuer");
	int suspicion = ac_db_col(res, "suspicion");

	for (int k = 0; k < ac_db_rows(res); k++) {
		const char *v = ac_db_get(res, k, idx);
		int i = v != NULL ? atoi(v) : -1;
		insp_entry *e;

		/* The single row of a check without genuine codes has no index. */
		if (i < 0 || i >= ctx->n)
			continue;
		e = &ctx->e[i];
		if (!ac_db_bool(res, k, known))
			e->status = "unknown_certificate";
		else if (!ac_db_bool(res, k, issued))
			e->status = "not_issued";
		else if (ac_db_bool(res, k, revoked))
			e->status = "revoked";
		else
			e->status = "valid";
		e->product = ac_db_get(res, k, product);
		e->issuer = ac_db_get(res, k, issuer);
		e->suspicion = ac_db_get(res, k, suspicion);
	}
}

static json_t *entry_json(int i, const insp_entry *e)
{
	json_t *o = json_pack("{s:i,s:s,s:s,s:b}", "index", i, "status", e->status, "status_zh",
			      status_zh(e->status), "clone_suspected", e->suspicion != NULL);

	if (o == NULL)
		return NULL;
	if (e->serial != 0) {
		json_object_set_new(o, "certificate", json_integer((json_int_t)e->serial));
		json_object_set_new(o, "item", json_integer(e->item));
	}
	if (e->product != NULL)
		json_object_set_new(o, "product", json_string(e->product));
	if (e->issuer != NULL)
		json_object_set_new(o, "issuer", json_string(e->issuer));
	if (e->suspicion != NULL)
		json_object_set_new(o, "clone_reason", json_string(e->suspicion));
	return o;
}

/* A retry of a check sent with the same Idempotency-Key is answered with
 * what the first was (nothing is stored or logged again), or 409 while the
 * first is still under way. Returns 1 when res is such a retry, answered. */
static int replayed(ac_req *r, const ac_db_result *res)
{
	int answer = ac_db_col(res, "answer");

	if (!ac_db_bool(res, 0, ac_db_col(res, "replayed")))
		return 0;
	if (!ac_db_bool(res, 0, ac_db_col(res, "same_request")))
		ac_req_error(r, 422, "idempotency_key_reused",
			     "this Idempotency-Key was used for a different market check",
			     "该请求编号已用于另一次查验，请勿重复使用");
	else if (ac_db_get(res, 0, answer) == NULL)
		ac_req_error(r, 409, "inspection_in_progress",
			     "the first request with this Idempotency-Key is still under way; "
			     "try again in a few seconds",
			     "该次查验正在提交，请几秒钟后再试");
	else
		ac_req_respond(r, 200, "application/json; charset=utf-8", ac_db_get(res, 0, answer),
			       ac_db_getlen(res, 0, answer));
	return 1;
}

static void on_answer_stored(ac_req *r, const ac_db_result *res)
{
	insp_ctx *ctx = r->ctx;

	(void)res;
	ac_req_respond(r, 201, "application/json; charset=utf-8", ctx->answer, strlen(ctx->answer));
}

/* Sends the answer; with an Idempotency-Key, keeps it for retries first. */
static void answer_inspection(ac_req *r, const char *id, json_t *answer)
{
	insp_ctx *ctx = r->ctx;
	char *text;
	ac_db_call call;

	if (r->idempotency_key == NULL || answer == NULL) {
		ac_req_json(r, 201, answer);
		return;
	}
	text = json_dumps(answer, JSON_COMPACT);
	json_decref(answer);
	ctx->answer = text != NULL ? ac_req_strdup(r, text) : NULL;
	free(text);
	if (ctx->answer == NULL) {
		ac_req_nomem(r);
		return;
	}
	ac_db_call_init(&call, "store_inspection_answer");
	ac_db_arg(&call, "p_inspection", "bigint", id);
	ac_db_arg(&call, "p_answer", "json", ctx->answer);
	ac_req_call(r, &call, on_answer_stored);
}

static void on_inspection(ac_req *r, const ac_db_result *res)
{
	insp_ctx *ctx = r->ctx;
	const char *id = ac_db_field(res, 0, "id");
	json_t *results;
	int problems = 0;
	char zh[128];

	if (replayed(r, res))
		return;
	if (id == NULL) {
		market_refused(r, res);
		return;
	}
	take_verdicts(ctx, res);
	results = json_array();
	for (int i = 0; i < ctx->n; i++) {
		insp_entry *e = &ctx->e[i];
		ac_scan_event ev = { .serial = e->serial,
				     .item = e->item,
				     .verdict = e->status,
				     .market_id = ctx->market,
				     .subject_id = r->who->subject_id,
				     .inspection_id = strtoll(id, NULL, 10),
				     .peer = r->peer };

		problems += strcmp(e->status, "valid") != 0 || e->suspicion != NULL;
		json_array_append_new(results, entry_json(i, e));
		ac_scanlog_add(ac_app_of(r)->scanlog, &ev);
	}
	snprintf(zh, sizeof(zh), "已查验 %d 个标签，%s", ctx->n,
		 problems ? "发现问题，请查看标红的条目" : "全部真实有效");
	ac_log_info("inspect", "inspection %s at market %d: %d codes, %d problems id=%s", id,
		    ctx->market, ctx->n, problems, r->id_str);
	answer_inspection(r, id,
			  json_pack("{s:I,s:i,s:i,s:i,s:o,s:s}", "id",
				    (json_int_t)strtoll(id, NULL, 10), "market", ctx->market,
				    "codes", ctx->n, "problems", problems, "results", results,
				    "message_zh", zh));
}

/* The genuine codes, for the database to judge, as array literals of the
 * arguments of record_inspection(). */
/* The first three as ac_codes_add writes them. */
enum { ARR_SERIAL, ARR_ITEM, ARR_PAYLOAD, ARR_IDX, NARRAYS };

static const ac_db_param arrays[NARRAYS] = {
	[ARR_SERIAL] = { "p_serial", "bigint[]" },
	[ARR_ITEM] = { "p_item", "integer[]" },
	[ARR_PAYLOAD] = { "p_payload", "text[]" },
	[ARR_IDX] = { "p_idx", "integer[]" },
};

/* Fills a with the genuine codes and the entries with what is known so
 * far. Returns the problems found already (unreadable or forged codes). */
static int genuine_codes(insp_ctx *ctx, ac_buf a[NARRAYS])
{
	int problems = 0;

	for (int i = 0; i < ctx->n; i++) {
		insp_entry *e = &ctx->e[i];
		const ac_scanned_code *c = &ctx->checks[i];

		if (c->status != NULL) {
			e->status = c->status;
			problems++;
			continue;
		}
		e->status = "unconfirmed";
		e->serial = c->code.f.serial;
		e->item = c->code.f.item;
		ac_codes_add(&a[ARR_SERIAL], c);
		ac_buf_pg_next_int(&a[ARR_IDX], i, 0);
	}
	return problems;
}

/* The codes' signatures are checked: record the check. */
static void inspection_checked(ac_req *r)
{
	insp_ctx *ctx = r->ctx;
	ac_buf a[NARRAYS];
	int problems;
	ac_db_call call;

	ac_db_arrays_open(a, NARRAYS);
	problems = genuine_codes(ctx, a);
	ac_db_call_init(&call, "record_inspection_once");
	ac_db_arg_int(&call, "p_market", "integer", ctx->market);
	ac_db_arg_int(&call, "p_inspector", "integer", r->who->subject_id);
	ac_db_arg(&call, "p_seller", "text", ctx->seller);
	arg_id(&call, "p_seller_subject", ctx->seller_subject);
	ac_db_arg(&call, "p_notes", "text", ctx->notes);
	if (ac_db_arrays_args(&call, arrays, a, NARRAYS) != 0) {
		ac_req_nomem(r);
	} else {
		ac_db_arg_int(&call, "p_codes", "integer", ctx->n);
		ac_db_arg_int(&call, "p_problems", "integer", problems);
		ac_jurisdiction_args(&call, r->who);
		ac_db_arg(&call, "p_idem", "text", r->idempotency_key);
		ac_db_arg(&call, "p_body", "text", r->idempotency_key ? r->body : NULL);
		ac_req_call_as(r, &call, on_inspection);
	}
	ac_db_arrays_free(a, NARRAYS);
}

/* The body into ctx. Returns 0, or answers and returns -1. */
static int parse_inspection(ac_req *r, insp_ctx *ctx, json_t *body)
{
	json_t *codes = json_object_get(body, "codes");

	if (!opt_id(body, "market", &ctx->market) || ctx->market == 0) {
		ac_req_error_field(r, 400, "missing_field", "market",
				   "market is the id of the market inspected", "请选择查验的市场");
		return -1;
	}
	if (!json_is_array(codes) || json_array_size(codes) > MAX_CODES ||
	    !opt_text(body, "seller", MAX_SELLER, &ctx->seller) ||
	    !opt_text(body, "notes", MAX_NOTES, &ctx->notes) ||
	    !opt_id(body, "seller_subject", &ctx->seller_subject)) {
		ac_req_error_field(r, 400, "invalid_inspection", "codes",
				   "codes lists 0 to 200 scanned labels; seller (at most 200 "
				   "bytes), seller_subject (an id) and notes (at most 2000 bytes) "
				   "are optional",
				   "请扫描0到200个标签；摊主、备注可选填");
		return -1;
	}
	ctx->n = (int)json_array_size(codes);
	ctx->e = ac_req_alloc(r, (ctx->n + 1) * sizeof(*ctx->e));
	ctx->checks = ac_req_alloc(r, (ctx->n + 1) * sizeof(*ctx->checks));
	if (ctx->e == NULL || ctx->checks == NULL) {
		ac_req_nomem(r);
		return -1;
	}
	for (int i = 0; i < ctx->n; i++) {
		json_t *code = json_array_get(codes, i);
		ac_scanned_code *c = &ctx->checks[i];

		if (!json_is_string(code) || json_string_length(code) >= sizeof(c->text))
			c->status = "malformed";
		else
			memcpy(c->text, json_string_value(code), json_string_length(code) + 1);
	}
	return 0;
}

static void handle_inspection(ac_req *r)
{
	json_t *body;
	insp_ctx *ctx = ac_req_ctx(r, insp_ctx, &body);

	if (ctx == NULL)
		return;
	if (r->idempotency_key != NULL && !ac_check_text(r->idempotency_key, MAX_IDEM_KEY)) {
		ac_req_error(r, 400, "invalid_idempotency_key",
			     "Idempotency-Key must be 1 to 128 printable UTF-8 characters",
			     "请求编号（Idempotency-Key）长度必须为1到128个字符");
		return;
	}
	if (parse_inspection(r, ctx, body) != 0)
		return;
	ac_codes_check(r, ctx->checks, ctx->n, inspection_checked);
}

/* POST /api/v1/unlicensed-reports */

static void on_reported(ac_req *r, const ac_db_result *res)
{
	const char *id = ac_db_field(res, 0, "id");

	if (id == NULL) {
		market_refused(r, res);
		return;
	}
	ac_log_info("inspect", "unlicensed produce report %s id=%s", id, r->id_str);
	ac_req_json(r, 201,
		    json_pack("{s:I,s:s}", "id", (json_int_t)strtoll(id, NULL, 10), "message_zh",
			      "无证产品反馈已记录"));
}

static void handle_report(ac_req *r)
{
	json_t *body = ac_req_body_object(r);
	json_t *product = json_object_get(body, "product");
	json_t *q = json_object_get(body, "quantity");
	json_t *u = json_object_get(body, "unit");
	const ac_product *p = NULL;
	int market, seller_subject;
	int unit = json_is_string(u) ? ac_unit_from_name(json_string_value(u)) : 0;
	const char *seller, *notes;
	ac_db_call call;

	if (body == NULL)
		return;
	if (json_is_string(product))
		p = ac_catalog_by_name(ac_app_of(r)->catalog, json_string_value(product));
	if (!opt_id(body, "market", &market) || market == 0 || p == NULL ||
	    !opt_text(body, "seller", MAX_SELLER, &seller) || seller == NULL ||
	    !opt_text(body, "notes", MAX_NOTES, &notes) ||
	    !opt_id(body, "seller_subject", &seller_subject) ||
	    (q != NULL && (!json_is_number(q) || !(json_number_value(q) > 0) ||
			   json_number_value(q) > MAX_QUANTITY || unit <= 0))) {
		ac_req_error(r, 400, "invalid_report",
			     "give market (id), product (a catalogue name) and seller; quantity "
			     "with unit, seller_subject and notes are optional",
			     "请填写市场、产品（产品目录中的名称）和摊主；数量、单位、备注可选填");
		return;
	}
	ac_db_call_init(&call, "record_unlicensed_report");
	ac_db_arg_int(&call, "p_market", "integer", market);
	ac_db_arg_int(&call, "p_product", "integer", p->id);
	ac_db_arg(&call, "p_seller", "text", seller);
	arg_id(&call, "p_seller_subject", seller_subject);
	if (q != NULL) {
		ac_db_arg_int(&call, "p_quantity_milli", "bigint",
			      (long long)(json_number_value(q) * 1000 + 0.5));
		ac_db_arg_int(&call, "p_unit", "smallint", unit);
	} else {
		ac_db_arg(&call, "p_quantity_milli", "bigint", NULL);
		ac_db_arg(&call, "p_unit", "smallint", NULL);
	}
	ac_db_arg(&call, "p_notes", "text", notes);
	ac_db_arg_int(&call, "p_reporter", "integer", r->who->subject_id);
	ac_jurisdiction_args(&call, r->who);
	ac_req_call_as(r, &call, on_reported);
}

/*
 * The lists: one JSON document built by PostgreSQL, by the function the
 * route names, for the period from .. to (dates, to excluded; by default
 * the last 30 days), the caller's jurisdiction and optionally one market.
 */

static int is_market_id(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= 9 && strspn(s, "0123456789") == len && atoi(s) > 0;
}

static const struct list_param {
	const char *name;
	const char *arg;
	const char *type;
	int (*valid)(const char *s);
	const char *code;
	const char *en;
	const char *zh;
} list_params[] = {
	{ "from", "p_from", "date", ac_check_date, "invalid_period", "from is a date YYYY-MM-DD",
	  "起始日期格式应为 YYYY-MM-DD" },
	{ "to", "p_to", "date", ac_check_date, "invalid_period", "to is a date YYYY-MM-DD",
	  "截止日期格式应为 YYYY-MM-DD" },
	{ "market", "p_market", "integer", is_market_id, "invalid_market", "market is a market id",
	  "市场编号格式错误" },
};

#define NPARAMS (sizeof(list_params) / sizeof(list_params[0]))

static void on_list(ac_req *r, const ac_db_result *res)
{
	ac_req_db_document(r, res, "doc", "application/json; charset=utf-8");
}

static void handle_list(ac_req *r)
{
	char value[NPARAMS][24];
	ac_db_call call;

	ac_db_call_init(&call, r->route->data);
	for (size_t i = 0; i < NPARAMS; i++) {
		const struct list_param *p = &list_params[i];
		int rc = ac_req_param(r, p->name, value[i], sizeof(value[i]));

		if (rc < 0)
			return;
		if (rc == 1 && !p->valid(value[i])) {
			ac_req_error_field(r, 400, p->code, p->name, p->en, p->zh);
			return;
		}
		ac_db_arg(&call, p->arg, p->type, rc == 1 ? value[i] : NULL);
	}
	ac_jurisdiction_args(&call, r->who);
	ac_req_call(r, &call, on_list);
}

/* GET /api/v1/markets/{id}/stalls */

static void on_stalls(ac_req *r, const ac_db_result *res)
{
	if (!ac_db_bool(res, 0, ac_db_col(res, "found"))) {
		ac_req_not_found(r, "no such market", "找不到这个市场");
		return;
	}
	on_list(r, res);
}

static void handle_stalls(ac_req *r)
{
	ac_db_call call;

	ac_db_call_init(&call, "market_stalls");
	ac_db_arg(&call, "p_market", "integer", r->param[0]);
	ac_req_call(r, &call, on_stalls);
}

static const ac_route routes[] = {
	AC_ROUTE("POST", "/api/v1/inspections", handle_inspection, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_INSPECT),
	AC_ROUTE("GET", "/api/v1/inspections", handle_list, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_INSPECT, .data = "inspections_list"),
	AC_ROUTE("POST", "/api/v1/unlicensed-reports", handle_report, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_INSPECT),
	AC_ROUTE("GET", "/api/v1/unlicensed-reports", handle_list, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_INSPECT, .data = "unlicensed_reports_list"),
	AC_ROUTE("GET", "/api/v1/clone-suspicions", handle_list, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_READ_SUSPICIONS, .data = "clone_suspicions_list"),
	AC_ROUTE("GET", "/api/v1/markets/{id}/stalls", handle_stalls, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_READ_REGISTRY),
};

AC_ROUTE_TABLE(ac_inspection_routes, routes);
