/*
 * The chain through a certificate, for its issuer and staff:
 *   GET /api/v1/certificates/{serial}/trace?direction=upstream|downstream
 *       one node per edge and depth, up to the farms (and the external lots
 *       drawn from, as leaves) or down to every certificate made from it
 *       (trace_chain(), sql/0019_external.sql, on trace_nodes() of 0012)
 *   GET /api/v1/certificates/{serial}/epcis
 *       the chain up and down as a GS1 EPCIS 2.0 JSON-LD document
 *   GET /api/v1/certificates/{serial}/recall (staff)
 *       everything made from it, with its item codes and who holds them
 *   GET /api/v1/external-certificates/{id}/recall (staff)
 *       the same from an external lot
 * PostgreSQL builds the documents (sql/0013_chain_sql.sql,
 * sql/0019_external.sql); the handlers check who may see them.
 */
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_cert.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_log.h"
#include "ac_url.h"

/* trace_nodes() returns one row more than it answers, to say it cut the list. */
#define TRACE_ROWS 100000

/* Whether the caller may see the chain through a certificate of issuer_id
 * (its issuer and staff); answers 403 with en and zh when not. */
static int may_see(ac_req *r, const char *issuer_id, const char *en, const char *zh)
{
	if (ac_perm_is_staff(r->who) || atoi(issuer_id) == r->who->subject_id)
		return 1;
	ac_req_forbidden(r, en, zh);
	return 0;
}

/* GET /api/v1/certificates/{serial}/trace */

/* The columns of trace_nodes(). */
enum {
	N_DEPTH,
	N_VIA,
	N_SERIAL,
	N_DRAWN_MILLI,
	N_DRAWN_UNIT,
	N_ISSUER_ID,
	N_ISSUER_NAME,
	N_ISSUER_KIND,
	N_ORIGIN,
	N_ORIGIN_CODE,
	N_PRODUCT,
	N_QUANTITY_MILLI,
	N_UNIT,
	N_STYLE,
	N_LABELS,
	N_COLLECTED_BY,
	N_REVOKED,
	N_EXTERNAL_ID,
	N_EXTERNAL_KIND,
	N_NUMBER,
	N_COUNT
};

static const char *const node_columns[N_COUNT] = {
	[N_DEPTH] = "depth",
	[N_VIA] = "via",
	[N_SERIAL] = "serial",
	[N_DRAWN_MILLI] = "drawn_milli",
	[N_DRAWN_UNIT] = "drawn_unit",
	[N_ISSUER_ID] = "issuer_id",
	[N_ISSUER_NAME] = "issuer_name",
	[N_ISSUER_KIND] = "issuer_kind",
	[N_ORIGIN] = "origin",
	[N_ORIGIN_CODE] = "origin_code",
	[N_PRODUCT] = "product",
	[N_QUANTITY_MILLI] = "quantity_milli",
	[N_UNIT] = "unit",
	[N_STYLE] = "style",
	[N_LABELS] = "labels",
	[N_COLLECTED_BY] = "collected_by",
	[N_REVOKED] = "revoked",
	[N_EXTERNAL_ID] = "external_id",
	[N_EXTERNAL_KIND] = "external_kind",
	[N_NUMBER] = "number",
};

typedef struct node {
	const ac_db_result *res;
	int row;
	int col[N_COUNT];
} node;

static const char *get(const node *n, int c)
{
	return ac_db_get(n->res, n->row, n->col[c]);
}

/* key (the JSON around the value) and the value: as it is, or null. */
static void put_raw(ac_buf *b, const char *key, const char *v)
{
	ac_buf_puts(b, key);
	ac_buf_puts(b, v != NULL ? v : "null");
}

/* The same with the value as a JSON string. */
static void put_str(ac_buf *b, const char *key, const char *v)
{
	ac_buf_puts(b, key);
	ac_buf_json_str(b, v);
}

/* A quantity and its unit: "quantity":Q,"unit":"kg". */
static void put_amount(ac_buf *b, const char *milli, const char *unit)
{
	char q[32];

	ac_quantity_text(strtoll(milli, NULL, 10), q, sizeof(q));
	put_raw(b, "\"quantity\":", q);
	put_str(b, ",\"unit\":", ac_unit_name(atoi(unit)));
}

/* A certificate, or an external lot ("certificate": null, "external": its
 * id, "external_kind", and its own number). */
static void put_node(ac_buf *b, const node *n)
{
	const char *external = get(n, N_EXTERNAL_ID);
	char number[24];

	if (external == NULL)
		ac_cert_number(strtoull(get(n, N_SERIAL), NULL, 10), number);
	put_raw(b, n->row ? ",{\"depth\":" : "{\"depth\":", get(n, N_DEPTH));
	put_raw(b, ",\"certificate\":", get(n, N_SERIAL));
	if (external != NULL) {
		put_raw(b, ",\"external\":", external);
		put_str(b, ",\"external_kind\":", get(n, N_EXTERNAL_KIND));
	}
	put_str(b, ",\"number\":", external != NULL ? get(n, N_NUMBER) : number);
	put_raw(b, ",\"via\":", get(n, N_VIA));
	if (get(n, N_DRAWN_MILLI) != NULL) {
		ac_buf_puts(b, ",\"drawn\":{");
		put_amount(b, get(n, N_DRAWN_MILLI), get(n, N_DRAWN_UNIT));
		ac_buf_puts(b, "}");
	}
	put_raw(b, ",\"issuer\":{\"id\":", get(n, N_ISSUER_ID));
	put_str(b, ",\"name\":", get(n, N_ISSUER_NAME));
	put_str(b, ",\"kind\":", get(n, N_ISSUER_KIND));
	put_str(b, "},\"origin\":", get(n, N_ORIGIN));
	put_str(b, ",\"origin_code\":", get(n, N_ORIGIN_CODE));
	put_str(b, ",\"product\":", get(n, N_PRODUCT));
	ac_buf_puts(b, ",");
	put_amount(b, get(n, N_QUANTITY_MILLI), get(n, N_UNIT));
	put_raw(b, ",\"style\":", get(n, N_STYLE));
	put_raw(b, ",\"labels\":", get(n, N_LABELS));
	put_raw(b, ",\"collected_by\":[", get(n, N_COLLECTED_BY) ? get(n, N_COLLECTED_BY) : "");
	put_raw(b, "],\"revoked\":", get(n, N_REVOKED)[0] == 't' ? "true" : "false");
	ac_buf_puts(b, "}");
}

typedef struct trace_ctx {
	int down;
} trace_ctx;

/* Row 0 is the certificate itself (depth 0), with its issuer for the check. */
static void on_trace(ac_req *r, const ac_db_result *res)
{
	trace_ctx *ctx = r->ctx;
	int rows = ac_db_rows(res);
	node n = { .res = res };
	ac_buf b;

	if (rows == 0) {
		ac_req_not_found(r, "no such certificate", "查不到这张合格证");
		return;
	}
	for (int c = 0; c < N_COUNT; c++)
		n.col[c] = ac_db_col(res, node_columns[c]);
	if (!may_see(r, get(&n, N_ISSUER_ID), "only its issuer and staff may trace it",
		     "只有开具方和监管人员可以追溯这张合格证"))
		return;
	ac_buf_init(&b);
	ac_buf_puts(&b, "{\"certificate\":");
	ac_buf_puts(&b, r->param[0]);
	ac_buf_puts(&b,
		    ctx->down ? ",\"direction\":\"downstream\"" : ",\"direction\":\"upstream\"");
	/* A mixed chain reaches a certificate by several paths: the trace keeps
	 * one row per edge and depth, and the answer says when it had to stop. */
	ac_buf_puts(&b, rows > TRACE_ROWS ? ",\"truncated\":true" : ",\"truncated\":false");
	ac_buf_puts(&b, ",\"nodes\":[");
	for (n.row = 0; n.row < rows && n.row < TRACE_ROWS; n.row++)
		put_node(&b, &n);
	ac_buf_puts(&b, "]}");
	ac_req_buf(r, 200, &b);
	ac_buf_free(&b);
}

static void handle_trace(ac_req *r)
{
	trace_ctx *ctx = ac_req_ctx(r, trace_ctx, NULL);
	char dir[16];
	ac_db_call call;

	if (ctx == NULL)
		return;

	/* Any other value, however long or badly encoded, is the same mistake. */
	if (ac_url_query_param(r->query, "direction", dir, sizeof(dir)) != 1 ||
	    (strcmp(dir, "upstream") != 0 && strcmp(dir, "downstream") != 0)) {
		ac_req_error_field(r, 400, "invalid_direction", "direction",
				   "direction must be upstream or downstream",
				   "请选择向上游（来源）或向下游（去向）追溯");
		return;
	}
	ctx->down = strcmp(dir, "downstream") == 0;
	ac_db_call_init(&call, "trace_chain");
	ac_db_arg(&call, "p_serial", "bigint", r->param[0]);
	ac_db_arg(&call, "p_downstream", "boolean", ctx->down ? "true" : "false");
	ac_req_call_read(r, &call, on_trace);
}

/* GET .../epcis and .../recall: a document PostgreSQL builds. */

typedef struct chain_doc {
	const char *fn;	   /* (arg, p_item_prefix) -> (owner, document) */
	const char *arg;   /* the route's {serial} or {id} */
	const char *owner; /* who, besides staff, may see it */
	const char *content_type;
	const char *refusal_en; /* to a caller neither its issuer nor staff */
	const char *refusal_zh;
} chain_doc;

static const chain_doc epcis = {
	.fn = "epcis_document",
	.arg = "p_serial",
	.owner = "issuer_id",
	.content_type = "application/ld+json; charset=utf-8",
	.refusal_en = "only its issuer and staff may export it",
	.refusal_zh = "只有开具方和监管人员可以导出",
};

/* The route lets staff alone in: the refusal is the matrix's. */
static const chain_doc recall = {
	.fn = "recall_report",
	.arg = "p_serial",
	.owner = "issuer_id",
	.content_type = "application/json; charset=utf-8",
	.refusal_en = "recall reports are for staff",
	.refusal_zh = "召回清单仅供监管人员查看",
};

static const chain_doc external_recall = {
	.fn = "external_recall",
	.arg = "p_external",
	.owner = "purchaser_id",
	.content_type = "application/json; charset=utf-8",
	.refusal_en = "recall reports are for staff",
	.refusal_zh = "召回清单仅供监管人员查看",
};

static void on_document(ac_req *r, const ac_db_result *res)
{
	const chain_doc *doc = r->route->data;
	int col = ac_db_col(res, "document");

	if (ac_db_rows(res) != 1 || ac_db_field(res, 0, doc->owner) == NULL) {
		ac_req_not_found(r, "no such certificate", "查不到这张合格证");
		return;
	}
	if (!may_see(r, ac_db_field(res, 0, doc->owner), doc->refusal_en, doc->refusal_zh))
		return;
	ac_req_respond(r, 200, doc->content_type, ac_db_get(res, 0, col),
		       ac_db_getlen(res, 0, col));
}

static void handle_document(ac_req *r)
{
	const chain_doc *doc = r->route->data;
	char prefix[AC_CODE_URL_MAX];
	ac_db_call call;
	/* Item URLs are the prefix and the payload, exactly as ac_code_url writes them. */
	int n = ac_code_url(ac_app_of(r)->cfg.public_url, "A", prefix, sizeof(prefix));

	if (n <= 0) {
		ac_log_error("chain", "could not build the item URL prefix: %s id=%s",
			     ac_strerror(n), r->id_str);
		ac_req_error(r, 500, "internal", "the request could not be completed",
			     "服务器内部错误，请稍后重试");
		return;
	}
	prefix[n - 1] = '\0';
	ac_db_call_init(&call, doc->fn);
	ac_db_arg(&call, doc->arg, "bigint", r->param[0]);
	ac_db_arg(&call, "p_item_prefix", "text", prefix);
	ac_req_call_read(r, &call, on_document);
}

static const ac_route routes[] = {
	AC_ROUTE("GET", "/api/v1/certificates/{serial}/trace", handle_trace,
		 .flags = AC_ROUTE_AUTH),
	AC_ROUTE("GET", "/api/v1/certificates/{serial}/epcis", handle_document,
		 .flags = AC_ROUTE_AUTH, .data = &epcis),
	AC_ROUTE("GET", "/api/v1/certificates/{serial}/recall", handle_document,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_RECALL, .data = &recall),
	AC_ROUTE("GET", "/api/v1/external-certificates/{id}/recall", handle_document,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_RECALL, .data = &external_recall),
};

AC_ROUTE_TABLE(ac_trace_routes, routes);
