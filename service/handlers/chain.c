/*
 * The supply chain over HTTP:
 *   POST /api/v1/receipts                  a purchaser collects item codes (收取)
 *   GET  /api/v1/stock                     what it holds: received, used, left
 *   GET  /api/v1/certificates/{id}/trace   upstream to the farms or downstream
 *                                          to every certificate made from it
 * Re-issuing (再次开具) is POST /api/v1/certificates with "inputs"
 * (ac_certs.c); mass balance is enforced by sql/0007_chain.sql.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_base32.h"
#include "ac_buf.h"
#include "ac_cert.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_log.h"
#include "ac_perm.h"

#define MAX_RECEIPTS 100
#define TRACE_DEPTH  64
#define TRACE_ROWS   100000

/* POST /api/v1/receipts */

typedef struct receipt_entry {
	const char *status; /* set before the database when the code itself fails */
	uint64_t serial;
	int item;
	int64_t qty;
	int unit;
} receipt_entry;

typedef struct receipts_ctx {
	ac_req *r;
	ac_principal p;
	receipt_entry *e;
	ac_scanned_code *checks; /* index by index with e */
	int n;
} receipts_ctx;

static void receipts_free(receipts_ctx *ctx)
{
	free(ctx->e);
	free(ctx->checks);
	free(ctx);
}

static void respond_receipts(receipts_ctx *ctx)
{
	ac_buf b;
	int recorded = 0;

	ac_buf_init(&b);
	ac_buf_puts(&b, "{\"results\":[");
	for (int i = 0; i < ctx->n; i++) {
		receipt_entry *e = &ctx->e[i];

		recorded += strcmp(e->status, "recorded") == 0;
		ac_buf_puts(&b, i ? ",{\"index\":" : "{\"index\":");
		ac_buf_int(&b, i);
		ac_buf_puts(&b, ",\"status\":");
		ac_buf_json_str(&b, e->status);
		if (e->serial != 0) {
			ac_buf_puts(&b, ",\"certificate\":");
			ac_buf_int(&b, (long long)e->serial);
			ac_buf_puts(&b, ",\"item\":");
			ac_buf_int(&b, e->item);
		}
		ac_buf_puts(&b, "}");
	}
	ac_buf_puts(&b, "],\"recorded\":");
	ac_buf_int(&b, recorded);
	ac_buf_puts(&b, "}");
	if (ac_buf_ok(&b))
		ac_req_respond(ctx->r, 200, "application/json; charset=utf-8", b.data, b.len);
	else
		ac_req_error(ctx->r, 500, "internal", "out of memory", "服务器内存不足");
	ac_buf_free(&b);
}

static void on_receipts(void *data, const ac_db_result *res, int err, const char *msg)
{
	receipts_ctx *ctx = data;
	ac_req *r = ctx->r;
	int rows = ac_db_rows(res);

	if (err != 0) {
		ac_log_error("chain", "could not record receipts: %s id=%s", msg, r->id_str);
		ac_req_unavailable(r);
		goto out;
	}
	/* idx, known, revoked, issued, recorded */
	for (int k = 0; k < rows; k++) {
		int i = atoi(ac_db_get(res, k, 0));
		receipt_entry *e;

		if (i < 0 || i >= ctx->n)
			continue;
		e = &ctx->e[i];
		if (ac_db_get(res, k, 1)[0] != 't')
			e->status = "unknown_certificate";
		else if (ac_db_get(res, k, 2)[0] == 't')
			e->status = "revoked";
		else if (ac_db_get(res, k, 3) == NULL || ac_db_get(res, k, 3)[0] != 't')
			e->status = "not_issued";
		else if (ac_db_get(res, k, 4)[0] == 't')
			e->status = "recorded";
		else
			e->status = "already_collected";
	}
	respond_receipts(ctx);
out:
	receipts_free(ctx);
	ac_req_unref(r);
}

static const char receipts_sql[] =
    "WITH input AS (SELECT * FROM unnest($2::bigint[], $3::int[], $4::text[], $5::bigint[], "
    "$6::smallint[], $7::int[]) AS t(serial, item, payload, qty, unit, idx)), "
    "checked AS (SELECT i.*, c.serial IS NOT NULL AS known, c.revoked_at IS NOT NULL AS "
    "revoked, c.item_codes[i.item] = i.payload AS issued FROM input i LEFT JOIN certificate c "
    "ON c.serial = i.serial), "
    "ins AS (INSERT INTO receipt (purchaser_id, serial, item, quantity_milli, unit) "
    "SELECT $1::int, serial, item, qty, unit FROM checked WHERE known AND NOT revoked AND "
    "issued ON CONFLICT (serial, item) DO NOTHING RETURNING serial, item) "
    "SELECT ch.idx, ch.known, ch.revoked, ch.issued, ins.serial IS NOT NULL FROM checked ch "
    "LEFT JOIN ins ON ins.serial = ch.serial AND ins.item = ch.item ORDER BY ch.idx";

/* On the loop again, the signatures checked: the rest is the database's. */
static void receipts_checked(void *data, int ok)
{
	receipts_ctx *ctx = data;
	ac_req *r = ctx->r;
	ac_app *app = r->app;
	ac_buf arr[6];
	const char *values[7];
	char purchaser[16];
	char actor[128];
	int valid = 0;

	if (!ok) {
		ac_req_error(r, 500, "internal", "could not check the codes",
			     "系统繁忙，请稍后重试");
		receipts_free(ctx);
		return;
	}
	for (int k = 0; k < 6; k++) {
		ac_buf_init(&arr[k]);
		ac_buf_add(&arr[k], "{", 1);
	}
	for (int i = 0; i < ctx->n; i++) {
		receipt_entry *e = &ctx->e[i];
		const ac_scanned_code *c = &ctx->checks[i];

		if (c->status != NULL) {
			e->status = c->status;
			continue;
		}
		e->status = "pending";
		e->serial = c->code.f.serial;
		e->item = c->code.f.item;
		ac_buf_pg_next_int(&arr[0], (long long)e->serial, 0);
		ac_buf_pg_next_int(&arr[1], e->item, 0);
		ac_buf_pg_next(&arr[2], c->payload);
		ac_buf_pg_next_int(&arr[3], e->qty, 0);
		ac_buf_pg_next_int(&arr[4], e->unit, 0);
		ac_buf_pg_next_int(&arr[5], i, 0);
		valid++;
	}
	if (valid == 0) {
		respond_receipts(ctx);
		receipts_free(ctx);
		goto out;
	}
	snprintf(purchaser, sizeof(purchaser), "%d", ctx->p.subject_id);
	values[0] = purchaser;
	for (int k = 0; k < 6; k++) {
		ac_buf_add(&arr[k], "}", 1);
		values[k + 1] = arr[k].data;
	}
	ac_perm_actor(&ctx->p, actor, sizeof(actor));
	ac_req_ref(r);
	if (ac_db_query_as(app->db, actor, receipts_sql, 7, values, NULL, on_receipts, ctx) != 0) {
		receipts_free(ctx);
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
out:
	for (int k = 0; k < 6; k++)
		ac_buf_free(&arr[k]);
}

static void receipts_authed(ac_req *r, const ac_principal *p)
{
	receipts_ctx *ctx;
	json_t *body;
	json_t *list;

	if (strcmp(p->role, "purchaser") != 0) {
		ac_req_error(r, 403, "forbidden", "only a purchaser collects certificates",
			     "只有收购主体可以收取合格证");
		return;
	}
	body = ac_req_body_object(r);
	if (body == NULL)
		return;
	list = json_object_get(body, "receipts");
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > MAX_RECEIPTS) {
		json_decref(body);
		ac_req_error_field(r, 400, "missing_field", "receipts",
				   "receipts must list 1 to 100 scanned codes",
				   "请扫描1到100个合格证二维码");
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx != NULL) {
		ctx->e = calloc(json_array_size(list), sizeof(*ctx->e));
		ctx->checks = calloc(json_array_size(list), sizeof(*ctx->checks));
	}
	if (ctx == NULL || ctx->e == NULL || ctx->checks == NULL) {
		if (ctx != NULL)
			receipts_free(ctx);
		json_decref(body);
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ctx->r = r;
	ctx->p = *p;
	ctx->n = (int)json_array_size(list);
	for (int i = 0; i < ctx->n; i++) {
		receipt_entry *e = &ctx->e[i];
		ac_scanned_code *c = &ctx->checks[i];
		json_t *item = json_array_get(list, i);
		json_t *code = json_object_get(item, "code");
		json_t *unit = json_object_get(item, "unit");
		double q = json_number_value(json_object_get(item, "quantity"));

		e->unit = json_is_string(unit) ? ac_unit_from_name(json_string_value(unit)) : -1;
		if (!json_is_string(code) || json_string_length(code) >= sizeof(c->text)) {
			c->status = "malformed";
		} else if (!(q > 0) || q > 1000000 || e->unit <= 0) {
			c->status = "invalid_quantity";
		} else {
			e->qty = (int64_t)(q * 1000 + 0.5);
			memcpy(c->text, json_string_value(code), json_string_length(code) + 1);
		}
	}
	json_decref(body);
	if (ac_scan_check_codes(r, ctx->checks, ctx->n, receipts_checked, ctx) != 0) {
		receipts_free(ctx);
		ac_req_error(r, 500, "internal", "could not check the codes",
			     "系统繁忙，请稍后重试");
	}
}

void ac_handle_receipts(ac_req *r)
{
	ac_auth(r, receipts_authed);
}

/* GET /api/v1/stock */

static void on_stock(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_req *r = data;
	int rows = ac_db_rows(res);
	ac_buf b;

	if (err != 0) {
		ac_req_unavailable(r);
		ac_req_unref(r);
		return;
	}
	ac_buf_init(&b);
	ac_buf_puts(&b, "{\"items\":[");
	for (int k = 0; k < rows; k++) {
		char number[24];
		char q[32];
		long long rec = strtoll(ac_db_get(res, k, 2), NULL, 10);
		long long used = strtoll(ac_db_get(res, k, 3), NULL, 10);
		int unit = atoi(ac_db_get(res, k, 1));

		ac_cert_number(strtoull(ac_db_get(res, k, 0), NULL, 10), number);
		ac_buf_puts(&b, k ? ",{\"certificate\":" : "{\"certificate\":");
		ac_buf_puts(&b, ac_db_get(res, k, 0));
		ac_buf_puts(&b, ",\"number\":");
		ac_buf_json_str(&b, number);
		ac_buf_puts(&b, ",\"product\":");
		ac_buf_json_str(&b, ac_db_get(res, k, 4));
		ac_buf_puts(&b, ",\"issuer\":{\"id\":");
		ac_buf_puts(&b, ac_db_get(res, k, 5));
		ac_buf_puts(&b, ",\"name\":");
		ac_buf_json_str(&b, ac_db_get(res, k, 6));
		ac_buf_puts(&b, "},\"unit\":");
		ac_buf_json_str(&b, ac_unit_name(unit));
		ac_quantity_text(rec, q, sizeof(q));
		ac_buf_puts(&b, ",\"received\":");
		ac_buf_puts(&b, q);
		ac_quantity_text(used, q, sizeof(q));
		ac_buf_puts(&b, ",\"used\":");
		ac_buf_puts(&b, q);
		ac_quantity_text(rec - used, q, sizeof(q));
		ac_buf_puts(&b, ",\"left\":");
		ac_buf_puts(&b, q);
		ac_buf_puts(&b, "}");
	}
	ac_buf_puts(&b, "]}");
	if (ac_buf_ok(&b))
		ac_req_respond(r, 200, "application/json; charset=utf-8", b.data, b.len);
	else
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
	ac_buf_free(&b);
	ac_req_unref(r);
}

static void stock_authed(ac_req *r, const ac_principal *p)
{
	ac_app *app = r->app;
	char id[16];
	const char *values[1] = { id };

	if (strcmp(p->role, "purchaser") != 0) {
		ac_req_error(r, 403, "forbidden", "only a purchaser has stock",
			     "只有收购主体有收货台账");
		return;
	}
	snprintf(id, sizeof(id), "%d", p->subject_id);
	ac_req_ref(r);
	if (ac_db_query(
		app->db,
		"SELECT st.serial, st.unit, st.received_milli, st.used_milli, p.name, "
		"c.issuer_id, s.name FROM stock st JOIN certificate c ON c.serial = st.serial "
		"JOIN product p ON p.id = c.product_id JOIN subject s ON s.id = c.issuer_id "
		"WHERE st.purchaser_id = $1::int ORDER BY st.serial LIMIT 10000",
		1, values, NULL, on_stock, r) != 0) {
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
}

void ac_handle_stock(ac_req *r)
{
	ac_auth(r, stock_authed);
}

/* GET /api/v1/certificates/{id}/trace?direction=upstream|downstream */

typedef struct trace_ctx {
	ac_id_ctx base;
	int down;
} trace_ctx;

static void on_trace(void *data, const ac_db_result *res, int err, const char *msg)
{
	trace_ctx *ctx = data;
	ac_req *r = ctx->base.r;
	int rows = ac_db_rows(res);
	ac_buf b;

	if (err != 0) {
		ac_log_error("chain", "could not trace %s: %s id=%s", ctx->base.id, msg, r->id_str);
		ac_req_unavailable(r);
		goto out;
	}
	/* Row 0 is the certificate itself (depth 0), with its issuer for the check. */
	if (rows == 0) {
		ac_req_error(r, 404, "not_found", "no such certificate", "查不到这张合格证");
		goto out;
	}
	if (!ac_perm_is_staff(&ctx->base.p) &&
	    atoi(ac_db_get(res, 0, 5)) != ctx->base.p.subject_id) {
		ac_req_error(r, 403, "forbidden", "only its issuer and staff may trace it",
			     "只有开具方和监管人员可以追溯这张合格证");
		goto out;
	}
	ac_buf_init(&b);
	ac_buf_puts(&b, "{\"certificate\":");
	ac_buf_puts(&b, ctx->base.id);
	ac_buf_puts(&b,
		    ctx->down ? ",\"direction\":\"downstream\"" : ",\"direction\":\"upstream\"");
	/* A mixed chain reaches a certificate by several paths: UNION keeps one row
	 * per edge and depth, and the answer says when it had to stop. */
	ac_buf_puts(&b, rows > TRACE_ROWS ? ",\"truncated\":true" : ",\"truncated\":false");
	if (rows > TRACE_ROWS)
		rows = TRACE_ROWS;
	ac_buf_puts(&b, ",\"nodes\":[");
	/* depth, via, serial, drawn qty, drawn unit, issuer id, issuer name, issuer kind,
	 * origin, origin_code, product, quantity, unit, style, labels, collected_by, revoked */
	for (int k = 0; k < rows; k++) {
		char number[24];
		char q[32];

		ac_cert_number(strtoull(ac_db_get(res, k, 2), NULL, 10), number);
		ac_buf_puts(&b, k ? ",{\"depth\":" : "{\"depth\":");
		ac_buf_puts(&b, ac_db_get(res, k, 0));
		ac_buf_puts(&b, ",\"certificate\":");
		ac_buf_puts(&b, ac_db_get(res, k, 2));
		ac_buf_puts(&b, ",\"number\":");
		ac_buf_json_str(&b, number);
		ac_buf_puts(&b, ",\"via\":");
		ac_buf_puts(&b, ac_db_get(res, k, 1) ? ac_db_get(res, k, 1) : "null");
		if (ac_db_get(res, k, 3) != NULL) {
			ac_quantity_text(strtoll(ac_db_get(res, k, 3), NULL, 10), q, sizeof(q));
			ac_buf_puts(&b, ",\"drawn\":{\"quantity\":");
			ac_buf_puts(&b, q);
			ac_buf_puts(&b, ",\"unit\":");
			ac_buf_json_str(&b, ac_unit_name(atoi(ac_db_get(res, k, 4))));
			ac_buf_puts(&b, "}");
		}
		ac_buf_puts(&b, ",\"issuer\":{\"id\":");
		ac_buf_puts(&b, ac_db_get(res, k, 5));
		ac_buf_puts(&b, ",\"name\":");
		ac_buf_json_str(&b, ac_db_get(res, k, 6));
		ac_buf_puts(&b, ",\"kind\":");
		ac_buf_json_str(&b, ac_db_get(res, k, 7));
		ac_buf_puts(&b, "},\"origin\":");
		ac_buf_json_str(&b, ac_db_get(res, k, 8));
		ac_buf_puts(&b, ",\"origin_code\":");
		ac_buf_json_str(&b, ac_db_get(res, k, 9));
		ac_buf_puts(&b, ",\"product\":");
		ac_buf_json_str(&b, ac_db_get(res, k, 10));
		ac_quantity_text(strtoll(ac_db_get(res, k, 11), NULL, 10), q, sizeof(q));
		ac_buf_puts(&b, ",\"quantity\":");
		ac_buf_puts(&b, q);
		ac_buf_puts(&b, ",\"unit\":");
		ac_buf_json_str(&b, ac_unit_name(atoi(ac_db_get(res, k, 12))));
		ac_buf_puts(&b, ",\"style\":");
		ac_buf_puts(&b, ac_db_get(res, k, 13));
		ac_buf_puts(&b, ",\"labels\":");
		ac_buf_puts(&b, ac_db_get(res, k, 14));
		ac_buf_puts(&b, ",\"collected_by\":[");
		ac_buf_puts(&b, ac_db_get(res, k, 15) ? ac_db_get(res, k, 15) : "");
		ac_buf_puts(&b, "],\"revoked\":");
		ac_buf_puts(&b, ac_db_get(res, k, 16)[0] == 't' ? "true" : "false");
		ac_buf_puts(&b, "}");
	}
	ac_buf_puts(&b, "]}");
	if (ac_buf_ok(&b))
		ac_req_respond(r, 200, "application/json; charset=utf-8", b.data, b.len);
	else
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
	ac_buf_free(&b);
out:
	free(ctx);
	ac_req_unref(r);
}

#define TRACE_SELECT                                                                               \
	"SELECT t.depth, t.via, t.serial, t.qty, t.unit, c.issuer_id, s.name, s.kind, c.origin, "  \
	"lpad(c.origin_code::text, 12, '0'), p.name, c.quantity_milli, c.unit, c.style, "          \
	"c.labels, (SELECT string_agg(DISTINCT r.purchaser_id::text, ',') FROM receipt r "         \
	"WHERE r.serial = t.serial), c.revoked_at IS NOT NULL FROM t JOIN certificate c ON "       \
	"c.serial = t.serial JOIN subject s ON s.id = c.issuer_id JOIN product p ON p.id = "       \
	"c.product_id ORDER BY t.depth, t.serial LIMIT 100001"

static const char trace_up_sql[] =
    "WITH RECURSIVE t(serial, depth, via, qty, unit) AS (SELECT $1::bigint, 0, NULL::bigint, "
    "NULL::bigint, NULL::smallint UNION SELECT ci.input_serial, t.depth + 1, ci.serial, "
    "ci.quantity_milli, ci.unit FROM certificate_input ci JOIN t ON ci.serial = t.serial "
    "WHERE t.depth < 64) " TRACE_SELECT;

static const char trace_down_sql[] =
    "WITH RECURSIVE t(serial, depth, via, qty, unit) AS (SELECT $1::bigint, 0, NULL::bigint, "
    "NULL::bigint, NULL::smallint UNION SELECT ci.serial, t.depth + 1, ci.input_serial, "
    "ci.quantity_milli, ci.unit FROM certificate_input ci JOIN t ON ci.input_serial = "
    "t.serial WHERE t.depth < 64) " TRACE_SELECT;

static void trace_authed(ac_req *r, const ac_principal *p)
{
	ac_app *app = r->app;
	trace_ctx *ctx = r->handler_data;
	const char *values[1];
	char dir[16];
	const char *d = ac_req_query_param(r, "direction", dir, sizeof(dir));

	r->handler_data = NULL;
	r->handler_free = NULL;
	ctx->base.p = *p;
	ctx->down = d != NULL && strcmp(d, "downstream") == 0;
	values[0] = ctx->base.id;
	ac_req_ref(r);
	if (ac_db_query(app->db, ctx->down ? trace_down_sql : trace_up_sql, 1, values, NULL,
			on_trace, ctx) != 0) {
		free(ctx);
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
}

void ac_handle_trace(ac_req *r, const char *id)
{
	char dir[16];
	const char *d = ac_req_query_param(r, "direction", dir, sizeof(dir));

	if (d == NULL || (strcmp(d, "upstream") != 0 && strcmp(d, "downstream") != 0)) {
		ac_req_error_field(r, 400, "invalid_direction", "direction",
				   "direction must be upstream or downstream",
				   "请选择向上游（来源）或向下游（去向）追溯");
		return;
	}
	ac_start_on_certificate(r, id, sizeof(trace_ctx), free, trace_authed);
}

/*
 * GET /api/v1/certificates/{id}/epcis: the chain through this certificate as
 * a GS1 EPCIS 2.0 JSON-LD document. Producer certificates are ObjectEvents
 * (ADD, commissioning), receipts are ObjectEvents (OBSERVE, receiving),
 * re-issues are TransformationEvents (repackaging) from the inbound lots to
 * the new items. Lots are urn:agricert:lot:<serial>, items their QR URLs,
 * places urn:agricert:region:<code>, parties urn:agricert:subject:<id>;
 * quantities in UN/CEFACT Rec. 20 units (斤 as half kilograms).
 * PostgreSQL builds the document; the handler checks who may see it.
 */
static const char epcis_sql[] =
    "WITH RECURSIVE up(serial, depth) AS (SELECT $1::bigint, 0 UNION SELECT ci.input_serial, "
    "up.depth + 1 FROM certificate_input ci JOIN up ON ci.serial = up.serial WHERE up.depth < "
    "64), down(serial, depth) AS (SELECT $1::bigint, 0 UNION SELECT ci.serial, down.depth + 1 "
    "FROM certificate_input ci JOIN down ON ci.input_serial = down.serial WHERE down.depth < "
    "64), chain AS (SELECT serial FROM up UNION SELECT serial FROM down), "
    "u(unit, uom, factor) AS (VALUES (1, 'KGM', 1.0), (2, 'GRM', 1.0), (3, 'TNE', 1.0), "
    "(4, 'KGM', 0.5), (5, 'H87', 1.0), (6, 'HEA', 1.0), (7, 'BX', 1.0), (8, 'BG', 1.0), "
    "(9, 'BE', 1.0), (10, 'H87', 1.0)), "
    "c AS (SELECT c.*, s.region_code AS issuer_region, u.uom, u.factor, "
    "to_char(c.issued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS t "
    "FROM certificate c JOIN chain USING (serial) JOIN subject s ON s.id = c.issuer_id "
    "JOIN u ON u.unit = c.unit), "
    "ev AS ("
    "SELECT c.issued_at AS at, CASE WHEN c.style = 1 THEN json_build_object('type', "
    "'ObjectEvent', 'eventTime', c.t, 'eventTimeZoneOffset', '+08:00', 'epcList', (SELECT "
    "json_agg($2 || x ORDER BY o) FROM unnest(c.item_codes) WITH ORDINALITY AS i(x, o)), "
    "'action', 'ADD', 'bizStep', 'commissioning', 'disposition', 'active', 'readPoint', "
    "json_build_object('id', 'urn:agricert:region:' || lpad(c.origin_code::text, 12, '0')), "
    "'quantityList', json_build_array(json_build_object('epcClass', 'urn:agricert:lot:' || "
    "c.serial, 'quantity', round(c.quantity_milli * c.factor / 1000, 3), 'uom', c.uom)), "
    "'sourceList', json_build_array(json_build_object('type', 'owning_party', 'source', "
    "'urn:agricert:subject:' || c.issuer_id))) "
    "ELSE json_build_object('type', 'TransformationEvent', 'eventTime', c.t, "
    "'eventTimeZoneOffset', '+08:00', 'inputQuantityList', (SELECT json_agg(json_build_object("
    "'epcClass', 'urn:agricert:lot:' || ci.input_serial, 'quantity', round(ci.quantity_milli * "
    "iu.factor / 1000, 3), 'uom', iu.uom) ORDER BY ci.input_serial) FROM certificate_input ci "
    "JOIN u iu ON iu.unit = ci.unit WHERE ci.serial = c.serial), 'outputEPCList', (SELECT "
    "json_agg($2 || x ORDER BY o) FROM unnest(c.item_codes) WITH ORDINALITY AS i(x, o)), "
    "'outputQuantityList', json_build_array(json_build_object('epcClass', 'urn:agricert:lot:' "
    "|| c.serial, 'quantity', round(c.quantity_milli * c.factor / 1000, 3), 'uom', c.uom)), "
    "'bizStep', 'repackaging', 'disposition', 'active', 'readPoint', json_build_object('id', "
    "'urn:agricert:region:' || lpad(c.issuer_region::text, 12, '0'))) END AS e FROM c "
    "UNION ALL "
    "SELECT r.received_at, json_build_object('type', 'ObjectEvent', 'eventTime', "
    "to_char(r.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "'eventTimeZoneOffset', '+08:00', 'epcList', json_build_array($2 || c.item_codes[r.item]), "
    "'action', 'OBSERVE', 'bizStep', 'receiving', 'disposition', 'in_progress', 'readPoint', "
    "json_build_object('id', 'urn:agricert:region:' || lpad(coalesce(s.region_code, "
    "0)::text, 12, '0')), 'quantityList', json_build_array(json_build_object('epcClass', "
    "'urn:agricert:lot:' || c.serial, 'quantity', round(r.quantity_milli * ru.factor / 1000, "
    "3), 'uom', ru.uom)), 'destinationList', json_build_array(json_build_object('type', "
    "'owning_party', 'destination', 'urn:agricert:subject:' || r.purchaser_id))) "
    "FROM receipt r JOIN c ON c.serial = r.serial JOIN subject s ON s.id = r.purchaser_id "
    "JOIN u ru ON ru.unit = r.unit) "
    "SELECT (SELECT issuer_id FROM certificate WHERE serial = $1::bigint), "
    "json_build_object('@context', json_build_array("
    "'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'), 'type', "
    "'EPCISDocument', 'schemaVersion', '2.0', 'creationDate', to_char(now() AT TIME ZONE "
    "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'epcisBody', json_build_object('eventList', "
    "coalesce((SELECT json_agg(ev.e ORDER BY ev.at) FROM ev), '[]'::json)))";

typedef struct epcis_ctx {
	ac_id_ctx base;
} epcis_ctx;

static void on_epcis(void *data, const ac_db_result *res, int err, const char *msg)
{
	epcis_ctx *ctx = data;
	ac_req *r = ctx->base.r;

	if (err != 0) {
		ac_log_error("chain", "could not export %s: %s id=%s", ctx->base.id, msg,
			     r->id_str);
		ac_req_unavailable(r);
	} else if (ac_db_rows(res) != 1 || ac_db_get(res, 0, 0) == NULL) {
		ac_req_error(r, 404, "not_found", "no such certificate", "查不到这张合格证");
	} else if (!ac_perm_is_staff(&ctx->base.p) &&
		   atoi(ac_db_get(res, 0, 0)) != ctx->base.p.subject_id) {
		ac_req_error(r, 403, "forbidden", "only its issuer and staff may export it",
			     "只有开具方和监管人员可以导出");
	} else {
		ac_req_respond(r, 200, "application/ld+json; charset=utf-8", ac_db_get(res, 0, 1),
			       ac_db_getlen(res, 0, 1));
	}
	free(ctx);
	ac_req_unref(r);
}

static void epcis_authed(ac_req *r, const ac_principal *p)
{
	ac_app *app = r->app;
	epcis_ctx *ctx = r->handler_data;
	char prefix[512];
	const char *values[2];
	int n;

	r->handler_data = NULL;
	r->handler_free = NULL;
	ctx->base.p = *p;
	/* The item URL prefix, exactly as ac_code_url writes it. */
	n = ac_code_url(app->cfg.public_url, "A", prefix, sizeof(prefix));
	if (n > 0)
		prefix[n - 1] = '\0';
	values[0] = ctx->base.id;
	values[1] = prefix;
	ac_req_ref(r);
	if (n <= 0 || ac_db_query(app->db, epcis_sql, 2, values, NULL, on_epcis, ctx) != 0) {
		free(ctx);
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
}

void ac_handle_epcis(ac_req *r, const char *id)
{
	ac_start_on_certificate(r, id, sizeof(epcis_ctx), free, epcis_authed);
}

/*
 * GET /api/v1/certificates/{id}/recall (staff): every certificate made from
 * this one at any depth, itself included, with its item codes and the
 * purchasers who collected them and how to reach them, so that they can be
 * told. PostgreSQL builds the report.
 */
static const char recall_sql[] =
    "WITH RECURSIVE down(serial, depth) AS (SELECT $1::bigint, 0 UNION SELECT ci.serial, "
    "down.depth + 1 FROM certificate_input ci JOIN down ON ci.input_serial = down.serial WHERE "
    "down.depth < 64), d AS (SELECT serial, min(depth) AS depth FROM down GROUP BY serial) "
    "SELECT count(*), json_build_object('certificate', $1::bigint, 'affected', "
    "coalesce(json_agg(json_build_object('certificate', c.serial, 'number', lpad(c.serial::text, "
    "12, '0'), 'depth', d.depth, 'product', p.name, 'issuer', json_build_object('id', s.id, "
    "'name', s.name, 'contact', s.contact), 'revoked', c.revoked_at IS NOT NULL, 'items', "
    "(SELECT json_agg($2 || x ORDER BY o) FROM unnest(c.item_codes) WITH ORDINALITY AS i(x, "
    "o)), 'holders', coalesce((SELECT json_agg(json_build_object('purchaser', ps.id, 'name', "
    "ps.name, 'contact', ps.contact, 'item', r.item, 'received_at', r.received_at) ORDER BY "
    "r.item) FROM receipt r JOIN subject ps ON ps.id = r.purchaser_id WHERE r.serial = "
    "c.serial), '[]'::json)) ORDER BY d.depth, c.serial), '[]'::json)) FROM d JOIN "
    "certificate c ON c.serial = d.serial JOIN subject s ON s.id = c.issuer_id JOIN product p "
    "ON p.id = c.product_id";

static void on_recall(void *data, const ac_db_result *res, int err, const char *msg)
{
	epcis_ctx *ctx = data;
	ac_req *r = ctx->base.r;

	if (err != 0) {
		ac_log_error("chain", "could not build recall %s: %s id=%s", ctx->base.id, msg,
			     r->id_str);
		ac_req_unavailable(r);
	} else if (ac_db_rows(res) != 1 || atoi(ac_db_get(res, 0, 0)) == 0) {
		ac_req_error(r, 404, "not_found", "no such certificate", "查不到这张合格证");
	} else {
		ac_req_respond(r, 200, "application/json; charset=utf-8", ac_db_get(res, 0, 1),
			       ac_db_getlen(res, 0, 1));
	}
	free(ctx);
	ac_req_unref(r);
}

static void recall_authed(ac_req *r, const ac_principal *p)
{
	ac_app *app = r->app;
	epcis_ctx *ctx = r->handler_data;
	char prefix[512];
	const char *values[2];
	int n;

	if (!ac_perm_is_staff(p)) {
		ac_req_error(r, 403, "forbidden", "recall reports are for staff",
			     "召回清单仅供监管人员查看");
		return;
	}
	r->handler_data = NULL;
	r->handler_free = NULL;
	n = ac_code_url(app->cfg.public_url, "A", prefix, sizeof(prefix));
	if (n > 0)
		prefix[n - 1] = '\0';
	values[0] = ctx->base.id;
	values[1] = prefix;
	ac_req_ref(r);
	if (n <= 0 || ac_db_query(app->db, recall_sql, 2, values, NULL, on_recall, ctx) != 0) {
		free(ctx);
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
}

void ac_handle_recall(ac_req *r, const char *id)
{
	ac_start_on_certificate(r, id, sizeof(epcis_ctx), free, recall_authed);
}
