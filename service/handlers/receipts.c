/*
 * What a purchaser collects (收取) and holds:
 *   POST /api/v1/receipts  {"receipts": [{"code", "quantity"?, "unit"?}...]}
 *                          item codes as scanned, each checked (signature in
 *                          the thread pool, then the database) and recorded
 *                          in one statement; answered item by item, with
 *                          what was recorded and what is left of the
 *                          certificate
 *   GET  /api/v1/stock     per inbound certificate and external lot:
 *                          received, used, left
 * The quantity rules (units, a certificate's quantity, the package's share,
 * one's own certificates, suspended subjects) are record_receipts()'s, in
 * sql/0018_chain_rules.sql. Re-issuing (再次开具) from the stock is POST
 * /api/v1/certificates with "inputs" (certificates.c).
 */
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_cert.h"
#include "ac_chain.h"
#include "ac_code.h"
#include "ac_codes.h"
#include "ac_handler.h"
#include "ac_handlers.h"

#define MAX_RECEIPTS 100

/* POST /api/v1/receipts */

typedef struct receipt_entry {
	const char *status; /* the verdict, once known */
	uint64_t serial;    /* 0 until the code is found genuine */
	int item;
	int64_t qty; /* as asked; 0: the package's share */
	int unit;    /* as asked; 0: the certificate's */
	/* From the database: what was recorded, in the certificate's unit
	 * (-1 when nothing was), and what is left of the certificate (-1 when
	 * the quantity rules did not apply). */
	int64_t recorded_milli;
	int64_t left_milli;
	int cert_unit;
} receipt_entry;

typedef struct receipts_ctx {
	receipt_entry *e;
	ac_scanned_code *codes; /* index by index with e */
	int n;
} receipts_ctx;

/* The arrays of record_receipts() (sql/0013_chain_sql.sql), one per column. */
/* The first three as ac_codes_add writes them. */
enum { ARG_SERIAL, ARG_ITEM, ARG_PAYLOAD, ARG_QUANTITY, ARG_UNIT, ARG_IDX, ARG_COUNT };

static const ac_db_param receipt_args[ARG_COUNT] = {
	[ARG_SERIAL] = { "p_serial", "bigint[]" }, [ARG_ITEM] = { "p_item", "integer[]" },
	[ARG_PAYLOAD] = { "p_payload", "text[]" }, [ARG_QUANTITY] = { "p_quantity", "bigint[]" },
	[ARG_UNIT] = { "p_unit", "smallint[]" },   [ARG_IDX] = { "p_idx", "integer[]" },
};

static void put_quantity(ac_buf *b, const char *key, int64_t milli)
{
	char q[32];

	ac_quantity_text(milli, q, sizeof(q));
	ac_buf_puts(b, key);
	ac_buf_puts(b, q);
}

static void put_entry(ac_buf *b, const receipt_entry *e, int i)
{
	ac_buf_puts(b, i ? ",{\"index\":" : "{\"index\":");
	ac_buf_int(b, i);
	ac_buf_puts(b, ",\"status\":");
	ac_buf_json_str(b, e->status);
	if (e->serial != 0) {
		ac_buf_puts(b, ",\"certificate\":");
		ac_buf_int(b, (long long)e->serial);
		ac_buf_puts(b, ",\"item\":");
		ac_buf_int(b, e->item);
	}
	if (e->recorded_milli >= 0)
		put_quantity(b, ",\"quantity\":", e->recorded_milli);
	if (e->left_milli >= 0)
		put_quantity(b, ",\"left\":", e->left_milli);
	if (e->recorded_milli >= 0 || e->left_milli >= 0) {
		ac_buf_puts(b, ",\"unit\":");
		ac_buf_json_str(b, ac_unit_name(e->cert_unit));
	}
	ac_buf_puts(b, "}");
}

static void respond_receipts(ac_req *r)
{
	receipts_ctx *ctx = r->ctx;
	int recorded = 0;
	ac_buf b;

	ac_buf_init(&b);
	ac_buf_puts(&b, "{\"results\":[");
	for (int i = 0; i < ctx->n; i++) {
		recorded += strcmp(ctx->e[i].status, "recorded") == 0;
		put_entry(&b, &ctx->e[i], i);
	}
	ac_buf_puts(&b, "],\"recorded\":");
	ac_buf_int(&b, recorded);
	ac_buf_puts(&b, "}");
	ac_req_buf(r, 200, &b);
	ac_buf_free(&b);
}

/* The columns of record_receipts(). */
enum { R_IDX, R_STATUS, R_QUANTITY, R_UNIT, R_LEFT, R_COUNT };

static const char *const result_columns[R_COUNT] = {
	[R_IDX] = "idx",   [R_STATUS] = "status",   [R_QUANTITY] = "quantity_milli",
	[R_UNIT] = "unit", [R_LEFT] = "left_milli",
};

/* A number column of row k, or -1 when it is NULL. */
static int64_t int_or_none(const ac_db_result *res, int k, int col)
{
	const char *v = ac_db_get(res, k, col);

	return v != NULL ? strtoll(v, NULL, 10) : -1;
}

static void on_recorded(ac_req *r, const ac_db_result *res)
{
	receipts_ctx *ctx = r->ctx;
	int col[R_COUNT];

	for (int c = 0; c < R_COUNT; c++)
		col[c] = ac_db_col(res, result_columns[c]);
	for (int k = 0; k < ac_db_rows(res); k++) {
		int i = atoi(ac_db_get(res, k, col[R_IDX]));

		if (i < 0 || i >= ctx->n)
			continue;
		ctx->e[i].status = ac_req_strdup(r, ac_db_get(res, k, col[R_STATUS]));
		if (ctx->e[i].status == NULL) {
			ac_req_nomem(r);
			return;
		}
		ctx->e[i].recorded_milli = int_or_none(res, k, col[R_QUANTITY]);
		ctx->e[i].left_milli = int_or_none(res, k, col[R_LEFT]);
		ctx->e[i].cert_unit = (int)int_or_none(res, k, col[R_UNIT]);
	}
	respond_receipts(r);
}

/* Adds entry i, whose code is genuine, to the arrays of the call. */
static void add_entry(ac_buf *arr, receipt_entry *e, const ac_scanned_code *c, int i)
{
	e->status = "pending";
	e->serial = c->code.f.serial;
	e->item = c->code.f.item;
	ac_codes_add(&arr[ARG_SERIAL], c);
	ac_buf_pg_next_int(&arr[ARG_QUANTITY], e->qty, 1);
	ac_buf_pg_next_int(&arr[ARG_UNIT], e->unit, 1);
	ac_buf_pg_next_int(&arr[ARG_IDX], i, 0);
}

/* On the loop again, the signatures checked: the rest is the database's. */
static void after_check(ac_req *r)
{
	receipts_ctx *ctx = r->ctx;
	ac_buf arr[ARG_COUNT];
	ac_db_call call;
	int valid = 0;

	ac_db_arrays_open(arr, ARG_COUNT);
	for (int i = 0; i < ctx->n; i++) {
		if (ctx->codes[i].status != NULL) {
			ctx->e[i].status = ctx->codes[i].status;
			continue;
		}
		add_entry(arr, &ctx->e[i], &ctx->codes[i], i);
		valid++;
	}
	if (valid == 0) {
		respond_receipts(r);
		goto out;
	}
	ac_db_call_init(&call, "record_receipts");
	ac_db_arg_int(&call, "p_purchaser", "integer", r->who->subject_id);
	/* A suspended or blacklisted purchaser: the whole request is refused. */
	r->on_db_error = ac_chain_db_error;
	if (ac_db_arrays_args(&call, receipt_args, arr, ARG_COUNT) == 0)
		ac_req_call_as(r, &call, on_recorded);
	else
		ac_req_nomem(r);
out:
	ac_db_arrays_free(arr, ARG_COUNT);
}

/* Entry i of the list: a code to check, or refused already (status set).
 * Without a quantity the database takes the package's share, without a
 * unit the certificate's. */
static void parse_entry(receipts_ctx *ctx, int i, json_t *v)
{
	receipt_entry *e = &ctx->e[i];
	ac_scanned_code *c = &ctx->codes[i];
	json_t *code = json_object_get(v, "code");
	json_t *unit = json_object_get(v, "unit");
	json_t *q = json_object_get(v, "quantity");

	e->recorded_milli = -1;
	e->left_milli = -1;
	e->unit = json_is_string(unit)		       ? ac_unit_from_name(json_string_value(unit))
		  : unit == NULL || json_is_null(unit) ? 0
						       : -1;
	if (!json_is_string(code) || json_string_length(code) >= sizeof(c->text)) {
		c->status = "malformed";
	} else if ((q != NULL && !json_is_null(q) && ac_chain_quantity(q, &e->qty) != 0) ||
		   e->unit < 0) {
		c->status = "invalid_quantity";
	} else {
		memcpy(c->text, json_string_value(code), json_string_length(code) + 1);
	}
}

static void handle_receipts(ac_req *r)
{
	json_t *body;
	receipts_ctx *ctx = ac_req_ctx(r, receipts_ctx, &body);
	json_t *list = json_object_get(body, "receipts");
	size_t n = json_array_size(list);

	if (ctx == NULL)
		return;
	if (!json_is_array(list) || n == 0 || n > MAX_RECEIPTS) {
		ac_req_error_field(r, 400, "missing_field", "receipts",
				   "receipts must list 1 to 100 scanned codes",
				   "请扫描1到100个合格证二维码");
		return;
	}
	if ((ctx->e = ac_req_alloc(r, n * sizeof(*ctx->e))) == NULL ||
	    (ctx->codes = ac_req_alloc(r, n * sizeof(*ctx->codes))) == NULL) {
		ac_req_nomem(r);
		return;
	}
	ctx->n = (int)n;
	for (int i = 0; i < ctx->n; i++)
		parse_entry(ctx, i, json_array_get(list, i));
	ac_codes_check(r, ctx->codes, ctx->n, after_check);
}

/* GET /api/v1/stock */

/* The columns of purchaser_stock() (sql/0018_chain_rules.sql). */
enum {
	S_KIND,
	S_SOURCE,
	S_NUMBER,
	S_UNIT,
	S_RECEIVED,
	S_USED,
	S_PRODUCT,
	S_ISSUER_ID,
	S_ISSUER_NAME,
	S_COUNT
};

static const char *const stock_columns[S_COUNT] = {
	[S_KIND] = "kind",	 [S_SOURCE] = "source_id",	  [S_NUMBER] = "number",
	[S_UNIT] = "unit",	 [S_RECEIVED] = "received_milli", [S_USED] = "used_milli",
	[S_PRODUCT] = "product", [S_ISSUER_ID] = "issuer_id",	  [S_ISSUER_NAME] = "issuer_name",
};

/* An inbound certificate ("certificate": its serial) or an external lot
 * ("certificate": null, "external": its id). */
static void put_stock_row(ac_buf *b, const ac_db_result *res, int k, const int *col)
{
	const char *source = ac_db_get(res, k, col[S_SOURCE]);
	const char *issuer = ac_db_get(res, k, col[S_ISSUER_ID]);
	long long received = strtoll(ac_db_get(res, k, col[S_RECEIVED]), NULL, 10);
	long long used = strtoll(ac_db_get(res, k, col[S_USED]), NULL, 10);
	int external = strcmp(ac_db_get(res, k, col[S_KIND]), "external") == 0;

	ac_buf_puts(b, k ? ",{\"certificate\":" : "{\"certificate\":");
	ac_buf_puts(b, external ? "null,\"external\":" : "");
	ac_buf_puts(b, source);
	ac_buf_puts(b, ",\"number\":");
	ac_buf_json_str(b, ac_db_get(res, k, col[S_NUMBER]));
	ac_buf_puts(b, ",\"product\":");
	ac_buf_json_str(b, ac_db_get(res, k, col[S_PRODUCT]));
	ac_buf_puts(b, ",\"issuer\":{\"id\":");
	ac_buf_puts(b, issuer != NULL ? issuer : "null");
	ac_buf_puts(b, ",\"name\":");
	ac_buf_json_str(b, ac_db_get(res, k, col[S_ISSUER_NAME]));
	ac_buf_puts(b, "},\"unit\":");
	ac_buf_json_str(b, ac_unit_name(atoi(ac_db_get(res, k, col[S_UNIT]))));
	put_quantity(b, ",\"received\":", received);
	put_quantity(b, ",\"used\":", used);
	put_quantity(b, ",\"left\":", received - used);
	ac_buf_puts(b, "}");
}

static void on_stock(ac_req *r, const ac_db_result *res)
{
	int col[S_COUNT];
	ac_buf b;

	for (int k = 0; k < S_COUNT; k++)
		col[k] = ac_db_col(res, stock_columns[k]);
	ac_buf_init(&b);
	ac_buf_puts(&b, "{\"items\":[");
	for (int k = 0; k < ac_db_rows(res); k++)
		put_stock_row(&b, res, k, col);
	ac_buf_puts(&b, "]}");
	ac_req_buf(r, 200, &b);
	ac_buf_free(&b);
}

static void handle_stock(ac_req *r)
{
	ac_db_call call;

	ac_db_call_init(&call, "purchaser_stock");
	ac_db_arg_int(&call, "p_purchaser", "integer", r->who->subject_id);
	ac_req_call(r, &call, on_stock);
}

static const ac_route routes[] = {
	AC_ROUTE("POST", "/api/v1/receipts", handle_receipts, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_COLLECT),
	AC_ROUTE("GET", "/api/v1/stock", handle_stock, .flags = AC_ROUTE_AUTH, .act = AC_ACT_STOCK),
};

AC_ROUTE_TABLE(ac_receipt_routes, routes);
