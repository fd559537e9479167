/*
 * Inspections (查验) over HTTP:
 *   POST /api/v1/inspections        an inspector checks the labels at a
 *                                   market stall: each code's verdict
 *   GET  /api/v1/inspections        market checks in the caller's area
 *   POST /api/v1/unlicensed-reports produce on sale with no certificate
 *   GET  /api/v1/unlicensed-reports (无证产品反馈)
 *   GET  /api/v1/clone-suspicions   item codes that look copied, for
 *                                   regulators (sql/0010_inspections.sql)
 * Staff only (inspectors anywhere, regulators within their jurisdiction,
 * judged by the market's region, or for suspicions by the issuer's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_buf.h"
#include "ac_cert.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_log.h"
#include "ac_perm.h"
#include "ac_scanlog.h"

#define MAX_CODES 200

/* Optional text of at most max bytes: 1 when absent or fine, 0 when not. */
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

/* Optional positive id: 1 when absent (out = "") or fine, 0 when not. */
static int opt_id(json_t *body, const char *key, char out[24])
{
	json_t *v = json_object_get(body, key);

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 1;
	if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 2147483647)
		return 0;
	snprintf(out, 24, "%lld", (long long)json_integer_value(v));
	return 1;
}

static void not_staff(ac_req *r)
{
	ac_req_error(r, 403, "forbidden", "inspections are recorded and read by inspection staff",
		     "查验记录仅限检查人员和监管人员");
}

/* POST /api/v1/inspections */

typedef struct insp_entry {
	const char *status;
	uint64_t serial;
	int item;
} insp_entry;

typedef struct insp_ctx {
	ac_req *r;
	ac_principal p;
	json_t *body; /* kept while the codes are checked: seller and notes point into it */
	int subject_id;
	int market_id;
	insp_entry *e;
	ac_scanned_code *checks; /* index by index with e */
	int n;
} insp_ctx;

static void insp_free(insp_ctx *ctx)
{
	json_decref(ctx->body);
	free(ctx->e);
	free(ctx->checks);
	free(ctx);
}

static const char *problem_zh(const char *status)
{
	static const struct {
		const char *status;
		const char *zh;
	} names[] = {
		{ "valid", "真实有效" },
		{ "revoked", "已撤销" },
		{ "malformed", "无法识别" },
		{ "unknown_key", "签发密钥未知" },
		{ "key_revoked", "签发密钥已吊销" },
		{ "bad_signature", "签名不符，疑似伪造" },
		{ "unknown_certificate", "查无此证" },
		{ "not_issued", "与开具记录不符" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i].status, status) == 0)
			return names[i].zh;
	}
	return status;
}

static void on_inspection(void *data, const ac_db_result *res, int err, const char *msg)
{
	insp_ctx *ctx = data;
	ac_req *r = ctx->r;
	ac_app *app = r->app;
	int rows = ac_db_rows(res);
	const char *id;
	json_t *results;
	int problems = 0;

	if (err != 0) {
		ac_log_error("inspect", "could not record inspection: %s id=%s", msg, r->id_str);
		ac_req_unavailable(r);
		goto out;
	}
	id = rows > 0 ? ac_db_get(res, 0, 0) : NULL;
	if (id == NULL) {
		/* The market exists, so it is outside the caller's jurisdiction. */
		if (rows > 0 && ac_db_get(res, 0, 1)[0] == 't')
			ac_req_error(r, 403, "outside_jurisdiction",
				     "the market is outside your jurisdiction",
				     "该市场不在您的辖区内");
		else
			ac_req_error_field(r, 404, "unknown_market", "market", "no such market",
					   "找不到这个市场，请先在登记系统中添加");
		goto out;
	}
	results = json_array();
	/* The database's verdicts, for the codes that were genuine. */
	for (int k = 0; k < rows; k++) {
		const char *idx = ac_db_get(res, k, 2);
		insp_entry *e;

		if (idx == NULL || atoi(idx) < 0 || atoi(idx) >= ctx->n)
			continue;
		e = &ctx->e[atoi(idx)];
		if (ac_db_get(res, k, 3)[0] != 't')
			e->status = "unknown_certificate";
		else if (ac_db_get(res, k, 5) == NULL || ac_db_get(res, k, 5)[0] != 't')
			e->status = "not_issued";
		else if (ac_db_get(res, k, 4)[0] == 't')
			e->status = "revoked";
		else
			e->status = "valid";
	}
	for (int i = 0; i < ctx->n; i++) {
		insp_entry *e = &ctx->e[i];
		const char *product = NULL, *issuer = NULL, *suspicion = NULL;
		ac_scan_event ev = { .serial = e->serial,
				     .item = e->item,
				     .verdict = e->status,
				     .market_id = ctx->market_id,
				     .subject_id = ctx->subject_id,
				     .inspection_id = strtoll(id, NULL, 10),
				     .peer = r->peer };
		json_t *o;

		for (int k = 0; k < rows; k++) {
			if (ac_db_get(res, k, 2) != NULL && atoi(ac_db_get(res, k, 2)) == i) {
				product = ac_db_get(res, k, 6);
				issuer = ac_db_get(res, k, 7);
				suspicion = ac_db_get(res, k, 8);
			}
		}
		problems += strcmp(e->status, "valid") != 0 || suspicion != NULL;
		o = json_pack("{s:i,s:s,s:s,s:b}", "index", i, "status", e->status, "status_zh",
			      problem_zh(e->status), "clone_suspected", suspicion != NULL);
		if (e->serial != 0) {
			json_object_set_new(o, "certificate", json_integer((json_int_t)e->serial));
			json_object_set_new(o, "item", json_integer(e->item));
		}
		if (product != NULL)
			json_object_set_new(o, "product", json_string(product));
		if (issuer != NULL)
			json_object_set_new(o, "issuer", json_string(issuer));
		if (suspicion != NULL)
			json_object_set_new(o, "clone_reason", json_string(suspicion));
		json_array_append_new(results, o);
		ac_scanlog_add(app->scanlog, &ev);
	}
	{
		char zh[128];

		snprintf(zh, sizeof(zh), "已查验 %d 个标签，%s", ctx->n,
			 problems ? "发现问题，请查看标红的条目" : "全部真实有效");
		ac_log_info("inspect", "inspection %s at market %d: %d codes, %d problems id=%s",
			    id, ctx->market_id, ctx->n, problems, r->id_str);
		ac_req_json(r, 201,
			    json_pack("{s:I,s:i,s:i,s:i,s:o,s:s}", "id",
				      (json_int_t)strtoll(id, NULL, 10), "market", ctx->market_id,
				      "codes", ctx->n, "problems", problems, "results", results,
				      "message_zh", zh));
	}
out:
	insp_free(ctx);
	ac_req_unref(r);
}

static const char inspection_sql[] =
    "WITH m AS (SELECT id, region_code BETWEEN $6::bigint AND $7::bigint AS covered "
    "FROM market WHERE id = $1::int), "
    "input AS (SELECT * FROM unnest($8::bigint[], $9::int[], $10::text[], $11::int[]) "
    "AS t(serial, item, payload, idx)), "
    "checked AS (SELECT i.idx, c.serial IS NOT NULL AS known, c.revoked_at IS NOT NULL AS "
    "revoked, c.item_codes[i.item] = i.payload AS issued, p.name AS product, s.name AS issuer, "
    "(SELECT string_agg(detail, '；' ORDER BY reason) FROM clone_suspicion cs WHERE "
    "cs.serial = i.serial AND cs.item = i.item) AS suspicion FROM input i LEFT JOIN "
    "certificate c ON c.serial = i.serial LEFT JOIN product p ON p.id = c.product_id LEFT "
    "JOIN subject s ON s.id = c.issuer_id), "
    "ins AS (INSERT INTO inspection (market_id, inspector_id, seller, seller_id, notes, codes, "
    "problems) SELECT m.id, $2::int, $3, (SELECT id FROM subject WHERE id = $4::int), $5, "
    "$12::int, $13::int + (SELECT count(*) FROM checked WHERE NOT (known AND NOT revoked AND "
    "coalesce(issued, false)) OR suspicion IS NOT NULL) FROM m WHERE m.covered RETURNING id) "
    "SELECT (SELECT id FROM ins), EXISTS (SELECT 1 FROM m), ch.idx, ch.known, "
    "ch.revoked, ch.issued, ch.product, ch.issuer, ch.suspicion FROM (SELECT 1) one LEFT JOIN "
    "checked ch ON true ORDER BY ch.idx";

/* On the loop again, the signatures checked: record the check. */
static void inspection_checked(void *data, int ok)
{
	insp_ctx *ctx = data;
	ac_req *r = ctx->r;
	ac_app *app = r->app;
	const char *values[13];
	char market[24], inspector[16], seller_id[24], lo[24], hi[24], total[16], bad[16];
	char actor[128];
	const char *seller, *notes;
	ac_buf arr[4];
	int problems = 0;

	if (!ok) {
		ac_req_error(r, 500, "internal", "could not check the codes",
			     "系统繁忙，请稍后重试");
		insp_free(ctx);
		return;
	}
	for (int k = 0; k < 4; k++) {
		ac_buf_init(&arr[k]);
		ac_buf_add(&arr[k], "{", 1);
	}
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
		ac_buf_pg_next_int(&arr[0], (long long)e->serial, 0);
		ac_buf_pg_next_int(&arr[1], e->item, 0);
		ac_buf_pg_next(&arr[2], c->payload);
		ac_buf_pg_next_int(&arr[3], i, 0);
	}
	/* Validated before the check. */
	opt_id(ctx->body, "market", market);
	opt_id(ctx->body, "seller_subject", seller_id);
	opt_text(ctx->body, "seller", 200, &seller);
	opt_text(ctx->body, "notes", 2000, &notes);
	snprintf(inspector, sizeof(inspector), "%d", ctx->subject_id);
	snprintf(total, sizeof(total), "%d", ctx->n);
	snprintf(bad, sizeof(bad), "%d", problems);
	ac_perm_range(&ctx->p, lo, hi);
	values[0] = market;
	values[1] = inspector;
	values[2] = seller;
	values[3] = seller_id[0] ? seller_id : NULL;
	values[4] = notes;
	values[5] = lo;
	values[6] = hi;
	for (int k = 0; k < 4; k++) {
		ac_buf_add(&arr[k], "}", 1);
		values[7 + k] = arr[k].data;
	}
	values[11] = total;
	values[12] = bad;
	ac_perm_actor(&ctx->p, actor, sizeof(actor));
	ac_req_ref(r);
	if (ac_db_query_as(app->db, actor, inspection_sql, 13, values, NULL, on_inspection, ctx) !=
	    0) {
		insp_free(ctx);
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
	for (int k = 0; k < 4; k++)
		ac_buf_free(&arr[k]);
}

static void inspection_authed(ac_req *r, const ac_principal *p)
{
	char market[24], seller_id[24];
	const char *seller, *notes;
	insp_ctx *ctx;
	json_t *body;
	json_t *codes;

	if (!ac_perm_is_staff(p)) {
		not_staff(r);
		return;
	}
	body = ac_req_body_object(r);
	if (body == NULL)
		return;
	codes = json_object_get(body, "codes");
	if (!opt_id(body, "market", market) || market[0] == '\0') {
		json_decref(body);
		ac_req_error_field(r, 400, "missing_field", "market",
				   "market is the id of the market inspected", "请选择查验的市场");
		return;
	}
	if (!json_is_array(codes) || json_array_size(codes) > MAX_CODES ||
	    !opt_text(body, "seller", 200, &seller) || !opt_text(body, "notes", 2000, &notes) ||
	    !opt_id(body, "seller_subject", seller_id)) {
		json_decref(body);
		ac_req_error_field(r, 400, "invalid_inspection", "codes",
				   "codes lists 0 to 200 scanned labels; seller (at most 200 "
				   "bytes), seller_subject (an id) and notes (at most 2000 bytes) "
				   "are optional",
				   "请扫描0到200个标签；摊主、备注可选填");
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx != NULL) {
		ctx->body = body;
		ctx->e = calloc(json_array_size(codes) + 1, sizeof(*ctx->e));
		ctx->checks = calloc(json_array_size(codes) + 1, sizeof(*ctx->checks));
	}
	if (ctx == NULL || ctx->e == NULL || ctx->checks == NULL) {
		if (ctx != NULL)
			insp_free(ctx);
		else
			json_decref(body);
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ctx->r = r;
	ctx->p = *p;
	ctx->subject_id = p->subject_id;
	ctx->market_id = atoi(market);
	ctx->n = (int)json_array_size(codes);
	for (int i = 0; i < ctx->n; i++) {
		json_t *code = json_array_get(codes, i);
		ac_scanned_code *c = &ctx->checks[i];

		if (!json_is_string(code) || json_string_length(code) >= sizeof(c->text))
			c->status = "malformed";
		else
			memcpy(c->text, json_string_value(code), json_string_length(code) + 1);
	}
	if (ac_scan_check_codes(r, ctx->checks, ctx->n, inspection_checked, ctx) != 0) {
		insp_free(ctx);
		ac_req_error(r, 500, "internal", "could not check the codes",
			     "系统繁忙，请稍后重试");
	}
}

/* Lists: one JSON document built by PostgreSQL. */

static void on_list(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_req *r = data;

	if (err != 0) {
		ac_log_error("inspect", "could not list: %s id=%s", msg, r->id_str);
		ac_req_unavailable(r);
	} else {
		ac_req_respond(r, 200, "application/json; charset=utf-8", ac_db_get(res, 0, 0),
			       ac_db_getlen(res, 0, 0));
	}
	ac_req_unref(r);
}

/*
 * Runs a list query with $1 from, $2 to (dates, to exclusive: default the
 * last 30 days), $3 and $4 the caller's jurisdiction, $5 an optional market.
 */
static void list(ac_req *r, const ac_principal *p, const char *sql)
{
	ac_app *app = r->app;
	char from[24], to[24], lo[24], hi[24], market[16];
	const char *values[5];

	if (ac_req_query_param(r, "from", from, sizeof(from)) != NULL && !ac_check_date(from)) {
		ac_req_error_field(r, 400, "invalid_period", "from", "from is a date YYYY-MM-DD",
				   "起始日期格式应为 YYYY-MM-DD");
		return;
	}
	if (ac_req_query_param(r, "to", to, sizeof(to)) != NULL && !ac_check_date(to)) {
		ac_req_error_field(r, 400, "invalid_period", "to", "to is a date YYYY-MM-DD",
				   "截止日期格式应为 YYYY-MM-DD");
		return;
	}
	if (ac_req_query_param(r, "market", market, sizeof(market)) != NULL &&
	    (atoi(market) <= 0 || strspn(market, "0123456789") != strlen(market))) {
		ac_req_error_field(r, 400, "invalid_market", "market", "market is a market id",
				   "市场编号格式错误");
		return;
	}
	ac_perm_range(p, lo, hi);
	values[0] = ac_req_query_param(r, "from", from, sizeof(from));
	values[1] = ac_req_query_param(r, "to", to, sizeof(to));
	values[2] = lo;
	values[3] = hi;
	values[4] = ac_req_query_param(r, "market", market, sizeof(market));
	ac_req_ref(r);
	if (ac_db_query(app->db, sql, 5, values, NULL, on_list, r) != 0) {
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
}

/* The market lists: period, the caller's area and an optional market. */
#define MARKET_LIST_WHERE(col)                                                                     \
	"WHERE " PERIOD(col) "AND m.region_code BETWEEN $3::bigint AND $4::bigint AND ($5::int "   \
			     "IS NULL OR m.id = $5::int) "

#define PERIOD(col)                                                                                \
	col " >= coalesce($1::date, current_date - 30) AND " col                                   \
	    " < coalesce($2::date, current_date + 1) "

static const char inspections_list_sql[] =
    "SELECT json_build_object('inspections', coalesce(json_agg(x ORDER BY x.id DESC), '[]')) "
    "FROM (SELECT i.id, i.market_id AS market, m.name AS market_name, s.name AS inspector, "
    "i.seller, i.seller_id AS seller_subject, i.codes, i.problems, i.notes, "
    "to_char(i.inspected_at AT TIME ZONE 'Asia/Shanghai', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"') AS inspected_at, (SELECT "
    "coalesce(json_agg(json_build_object('certificate', l.serial, 'item', l.item, 'status', "
    "l.verdict) ORDER BY l.id), '[]') FROM scan_log l WHERE l.inspection_id = i.id AND "
    "l.verdict <> 'valid') AS findings FROM inspection i JOIN market m ON m.id = i.market_id "
    "JOIN subject s ON s.id = i.inspector_id " MARKET_LIST_WHERE(
	"i.inspected_at") "ORDER BY i.id DESC LIMIT 500) x";

/* POST /api/v1/unlicensed-reports */

static void on_reported(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_req *r = data;

	if (err != 0) {
		ac_log_error("inspect", "could not record report: %s id=%s", msg, r->id_str);
		ac_req_unavailable(r);
	} else if (ac_db_get(res, 0, 0)[0] == '0') {
		ac_req_error_field(r, 404, "unknown_market", "market", "no such market",
				   "找不到这个市场，请先在登记系统中添加");
	} else if (ac_db_get(res, 0, 1) == NULL) {
		ac_req_error(r, 403, "outside_jurisdiction",
			     "the market is outside your jurisdiction", "该市场不在您的辖区内");
	} else {
		ac_log_info("inspect", "unlicensed produce report %s id=%s", ac_db_get(res, 0, 1),
			    r->id_str);
		ac_req_json(r, 201,
			    json_pack("{s:I,s:s}", "id",
				      (json_int_t)strtoll(ac_db_get(res, 0, 1), NULL, 10),
				      "message_zh", "无证产品反馈已记录"));
	}
	ac_req_unref(r);
}

static void report_authed(ac_req *r, const ac_principal *p)
{
	ac_app *app = r->app;
	const ac_product *product;
	const char *values[10];
	char market[24], seller_id[24], product_id[16], qty[32], unit[16], reporter[16];
	char lo[24], hi[24], actor[128];
	const char *seller, *notes;
	json_t *body;
	json_t *q;
	json_t *u;
	int unit_id = 0;

	if (!ac_perm_is_staff(p)) {
		not_staff(r);
		return;
	}
	body = ac_req_body_object(r);
	if (body == NULL)
		return;
	product =
	    json_is_string(json_object_get(body, "product"))
		? ac_app_product_by_name(app, json_string_value(json_object_get(body, "product")))
		: NULL;
	q = json_object_get(body, "quantity");
	u = json_object_get(body, "unit");
	if (json_is_string(u))
		unit_id = ac_unit_from_name(json_string_value(u));
	if (!opt_id(body, "market", market) || market[0] == '\0' || product == NULL ||
	    !opt_text(body, "seller", 200, &seller) || seller == NULL ||
	    !opt_text(body, "notes", 2000, &notes) || !opt_id(body, "seller_subject", seller_id) ||
	    (q != NULL && (!json_is_number(q) || !(json_number_value(q) > 0) ||
			   json_number_value(q) > 1000000 || unit_id <= 0))) {
		json_decref(body);
		ac_req_error(r, 400, "invalid_report",
			     "give market (id), product (a catalogue name) and seller; quantity "
			     "with unit, seller_subject and notes are optional",
			     "请填写市场、产品（产品目录中的名称）和摊主；数量、单位、备注可选填");
		return;
	}
	snprintf(product_id, sizeof(product_id), "%d", product->id);
	snprintf(qty, sizeof(qty), "%lld",
		 q ? (long long)(json_number_value(q) * 1000 + 0.5) : 0LL);
	snprintf(unit, sizeof(unit), "%d", unit_id);
	snprintf(reporter, sizeof(reporter), "%d", p->subject_id);
	ac_perm_range(p, lo, hi);
	values[0] = market;
	values[1] = product_id;
	values[2] = seller;
	values[3] = seller_id[0] ? seller_id : NULL;
	values[4] = q ? qty : NULL;
	values[5] = q ? unit : NULL;
	values[6] = notes;
	values[7] = reporter;
	values[8] = lo;
	values[9] = hi;
	ac_perm_actor(p, actor, sizeof(actor));
	ac_req_ref(r);
	if (ac_db_query_as(
		app->db, actor,
		"WITH m AS (SELECT id FROM market WHERE id = $1::int), ins AS (INSERT INTO "
		"unlicensed_report (market_id, product_id, seller, seller_id, quantity_milli, "
		"unit, notes, reported_by) SELECT m.id, $2::int, $3, (SELECT id FROM subject "
		"WHERE id = $4::int), $5::bigint, $6::smallint, $7, $8::int FROM m JOIN market mk "
		"ON mk.id = m.id WHERE mk.region_code BETWEEN $9::bigint AND $10::bigint "
		"RETURNING id) SELECT (SELECT count(*) FROM m), (SELECT id FROM ins)",
		10, values, NULL, on_reported, r) != 0) {
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
	json_decref(body);
}

/* The unit names are those of the code format (proto/CODE.md), by id. */
static const char reports_list_sql[] =
    "SELECT json_build_object('reports', coalesce(json_agg(x ORDER BY x.id DESC), '[]')) "
    "FROM (SELECT u.id, u.market_id AS market, m.name AS market_name, p.name AS product, "
    "u.seller, u.seller_id AS seller_subject, u.quantity_milli / 1000.0 AS quantity, "
    "(ARRAY['kg', 'g', 't', 'jin', 'piece', 'head', 'box', 'bag', 'bundle', 'only'])[u.unit] "
    "AS unit, u.notes, s.name AS reported_by, "
    "to_char(u.reported_at AT TIME ZONE 'Asia/Shanghai', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"') AS reported_at FROM unlicensed_report u JOIN "
    "market m ON m.id = u.market_id JOIN product p ON p.id = u.product_id JOIN subject s ON "
    "s.id = u.reported_by " MARKET_LIST_WHERE("u.reported_at") "ORDER BY u.id DESC LIMIT 500) x";

/* GET /api/v1/clone-suspicions: regulators, by the issuer's region. */

static const char suspicions_sql[] =
    "SELECT json_build_object('suspicions', coalesce(json_agg(x ORDER BY x.flagged_at DESC), "
    "'[]')) FROM (SELECT cs.serial AS certificate, lpad(cs.serial::text, 12, '0') AS number, "
    "cs.item, cs.reason, cs.detail, cs.scans, p.name AS product, s.name AS issuer, s.id AS "
    "issuer_id, s.region_code AS issuer_region, c.revoked_at IS NOT NULL AS revoked, "
    "to_char(cs.flagged_at AT TIME ZONE 'Asia/Shanghai', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"') AS flagged_at, (SELECT coalesce(json_agg(DISTINCT "
    "mk.name), '[]') FROM scan_log l JOIN market mk ON mk.id = l.market_id WHERE l.serial = "
    "cs.serial AND l.item = cs.item) AS markets FROM clone_suspicion cs JOIN certificate c ON "
    "c.serial = cs.serial JOIN subject s ON s.id = c.issuer_id JOIN product p ON p.id = "
    "c.product_id WHERE " PERIOD(
	"cs.updated_at") "AND s.region_code BETWEEN $3::bigint AND $4::bigint AND ($5::int IS NULL "
			 "OR EXISTS "
			 "(SELECT 1 FROM scan_log l WHERE l.serial = cs.serial AND l.item = "
			 "cs.item AND "
			 "l.market_id = $5::int)) ORDER BY cs.flagged_at DESC LIMIT 500) x";

/* The three lists: staff read checks and reports, regulators suspicions. */
static void list_authed(ac_req *r, const ac_principal *p)
{
	if (strcmp(r->path, "/api/v1/clone-suspicions") == 0) {
		if (!ac_perm_is_regulator(p))
			ac_req_error(r, 403, "forbidden", "clone suspicions are for regulators",
				     "疑似复制的追溯码仅供监管人员查看");
		else
			list(r, p, suspicions_sql);
	} else if (!ac_perm_is_staff(p)) {
		not_staff(r);
	} else {
		list(r, p,
		     strcmp(r->path, "/api/v1/inspections") == 0 ? inspections_list_sql
								 : reports_list_sql);
	}
}

void ac_handle_inspections(ac_req *r)
{
	ac_auth(r, strcmp(r->method, "POST") == 0 ? inspection_authed : list_authed);
}

void ac_handle_unlicensed(ac_req *r)
{
	ac_auth(r, strcmp(r->method, "POST") == 0 ? report_authed : list_authed);
}

void ac_handle_clone_suspicions(ac_req *r)
{
	ac_auth(r, list_authed);
}
