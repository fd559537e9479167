/*
 * GET /v/{payload}: what a phone opens when it scans a label. Checks the
 * signature first (offline truth), then the database (issued, not revoked),
 * and answers a Chinese page for a browser or JSON for Accept:
 * application/json. The page shows what the label shows and no more.
 *
 * Every scan is logged (ac_scanlog.h): when, the verdict, the client
 * address, and where an inspector's app says so, the market (?market=ID)
 * and the signed-in scanner (a bearer token is optional here). A code that
 * looks copied (sql/0010_inspections.sql) is flagged on the answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ac_app.h"
#include "ac_base32.h"
#include "ac_buf.h"
#include "ac_cert.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_log.h"
#include "ac_scanlog.h"

typedef struct verdict {
	const char *status;
	const char *en;
	const char *zh;
} verdict;

static const verdict verdicts[] = {
	{ "valid", "genuine and valid", "真实有效" },
	{ "malformed", "this is not an agricert code", "二维码内容无法识别，不是合格证追溯码" },
	{ "unknown_key", "signed with an unknown key", "签发密钥未知，无法确认真伪" },
	{ "key_revoked", "signed with a revoked key", "签发密钥已被吊销，该码不可信" },
	{ "bad_signature", "the signature does not match: forged or altered",
	  "签名校验失败，可能是伪造或被篡改的合格证" },
	{ "unknown_certificate", "no such certificate was issued", "系统中查不到该合格证" },
	{ "unknown_item", "no such label in this certificate", "该合格证没有这个标签序号" },
	{ "not_issued", "the code does not match the issued one", "该码与系统记录不符" },
	{ "revoked", "the certificate has been revoked", "该合格证已被撤销" },
	{ "unconfirmed", "the signature is genuine but the status could not be checked",
	  "签名真实，但暂时无法查询该合格证的状态" },
};

static const verdict *find_verdict(const char *status)
{
	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		if (strcmp(verdicts[i].status, status) == 0)
			return &verdicts[i];
	}
	return &verdicts[1];
}

typedef struct scan_ctx {
	uv_work_t work;
	ac_req *r;
	ac_code code;
	const ac_keyring_entry *key;
	int verified;
	int market_id;
	int subject_id;
	int scans;	 /* genuine scans of this item code logged so far */
	char *suspicion; /* why the code looks copied, or NULL */
	char payload[256];
} scan_ctx;

static void scan_ctx_free(scan_ctx *ctx)
{
	free(ctx->suspicion);
	free(ctx);
}

static const char page_head[] =
    "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
    "<title>合格证查验</title><style>"
    "body{font-family:sans-serif;margin:0;background:#f4f6f4;color:#222;font-size:18px}"
    "main{max-width:560px;margin:0 auto;padding:16px}"
    ".verdict{border-radius:12px;padding:20px;text-align:center;font-size:30px;"
    "font-weight:bold;color:#fff}"
    ".ok{background:#1a7f37}.bad{background:#c62828}.warn{background:#b26a00}"
    ".sub{font-size:16px;font-weight:normal;margin-top:6px}"
    "h1{font-size:22px;text-align:center;margin:20px 0 8px}"
    "table{width:100%;border-collapse:collapse;background:#fff;border-radius:12px}"
    "th,td{padding:10px 12px;border-bottom:1px solid #e4e4e4;text-align:left;"
    "vertical-align:top}th{width:6em;color:#555;font-weight:normal}"
    ".promise{background:#fff;border-radius:12px;padding:12px;margin-top:12px;"
    "font-size:16px}footer{color:#777;font-size:14px;margin-top:16px;text-align:center}"
    "</style></head><body><main>";

static void row(ac_buf *b, const char *label, const char *value)
{
	ac_buf_printf(b, "<tr><th>%s</th><td>", label);
	ac_buf_html(b, value);
	ac_buf_puts(b, "</td></tr>");
}

static void respond_page(ac_req *r, const verdict *v, const ac_cert *c, int item,
			 const char *suspicion)
{
	/* A genuine code that looks copied is not shown in reassuring green. */
	const char *cls = strcmp(v->status, "valid") == 0 && suspicion == NULL ? "ok"
			  : strcmp(v->status, "valid") == 0 || strcmp(v->status, "unconfirmed") == 0
			      ? "warn"
			      : "bad";
	ac_buf b;

	ac_buf_init(&b);
	ac_buf_puts(&b, page_head);
	ac_buf_printf(&b, "<div class=\"verdict %s\" data-status=\"%s\">%s%s", cls, v->status,
		      strcmp(v->status, "valid") == 0 ? "✔ " : "✘ ", v->zh);
	ac_buf_printf(&b, "<div class=\"sub\">%s</div></div>", v->en);
	if (suspicion != NULL) {
		ac_buf_puts(&b, "<div class=\"verdict warn clone\" data-clone=\"1\" "
				"style=\"margin-top:12px;font-size:20px\">⚠ 此码疑似被复制使用"
				"<div class=\"sub\">");
		ac_buf_html(&b, suspicion);
		ac_buf_puts(&b, "。请核对包装与实物，如有疑问请联系当地农业农村部门。"
				"<br>This code may have been copied.</div></div>");
	}
	if (c != NULL) {
		char number[24];
		char qty[64];
		char contact[64];
		char idx[48];
		char when[24];

		ac_cert_number(c->serial, number);
		ac_quantity_text(c->quantity_milli, qty, sizeof(qty) - 16);
		strcat(qty, " ");
		strcat(qty, ac_unit_name_zh(c->unit));
		ac_mask_contact(c->contact, contact, sizeof(contact));
		snprintf(idx, sizeof(idx), "第 %d 件，共 %d 件", item, c->labels);
		ac_buf_puts(&b, "<h1>承诺达标合格证</h1><table>");
		row(&b, "产品", c->product_name);
		row(&b, "数量", qty);
		row(&b, "产地", c->origin);
		row(&b, "开具方", c->issuer_name);
		row(&b, "联系方式", contact);
		snprintf(when, sizeof(when), "%.16s", c->issued_at);
		if (strlen(when) > 10)
			when[10] = ' ';
		row(&b, "开具时间", when);
		row(&b, "编号", number);
		row(&b, "标签", idx);
		row(&b, "承诺依据", ac_basis_name_zh(c->basis));
		if (c->revoked_at != NULL) {
			row(&b, "撤销时间", c->revoked_at);
			row(&b, "撤销原因", c->revoke_reason ? c->revoke_reason : "");
		}
		ac_buf_puts(&b, "</table><div class=\"promise\">");
		ac_buf_puts(&b, "我承诺对生产销售的食用农产品：");
		ac_buf_html(&b, ac_style_promise_zh(c->style));
		ac_buf_puts(&b, "</div>");
	}
	ac_buf_puts(&b, "<footer>agricert 合格证查验</footer></main></body></html>");
	if (!ac_buf_ok(&b))
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
	else
		ac_req_respond(r, 200, "text/html; charset=utf-8", b.data, b.len);
	ac_buf_free(&b);
}

static void respond(scan_ctx *ctx, const char *status, const ac_cert *c)
{
	ac_req *r = ctx->r;
	ac_app *app = r->app;
	const verdict *v = find_verdict(status);
	int item = ctx->code.f.item;
	ac_scan_event ev = { .serial = ctx->code.f.serial,
			     .item = item,
			     .verdict = v->status,
			     .market_id = ctx->market_id,
			     .subject_id = ctx->subject_id,
			     .peer = r->peer };
	ac_buf b;

	ac_scanlog_add(app->scanlog, &ev);
	if (!ac_req_wants_json(r)) {
		respond_page(r, v, c, item, ctx->suspicion);
		return;
	}
	ac_buf_init(&b);
	ac_buf_puts(&b, strcmp(status, "valid") == 0 ? "{\"valid\":true" : "{\"valid\":false");
	ac_buf_puts(&b, ",\"status\":");
	ac_buf_json_str(&b, status);
	ac_buf_puts(&b, ",\"message\":");
	ac_buf_json_str(&b, v->en);
	ac_buf_puts(&b, ",\"message_zh\":");
	ac_buf_json_str(&b, v->zh);
	if (c != NULL) {
		/* The public answer shows what the label shows: a masked phone. */
		ac_buf_puts(&b, ",\"certificate\":");
		ac_cert_write_json(&b, c, app->cfg.public_url, AC_CERT_PUBLIC);
		ac_buf_puts(&b, ",\"item\":");
		ac_buf_int(&b, item);
		ac_buf_puts(&b, ",\"scans\":");
		ac_buf_int(&b, ctx->scans);
		ac_buf_puts(&b, ctx->suspicion ? ",\"clone_suspected\":true,\"clone_reason\":"
					       : ",\"clone_suspected\":false");
		if (ctx->suspicion)
			ac_buf_json_str(&b, ctx->suspicion);
	}
	ac_buf_puts(&b, "}");
	if (ac_buf_ok(&b))
		ac_req_respond(r, 200, "application/json; charset=utf-8", b.data, b.len);
	else
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
	ac_buf_free(&b);
}

/*
 * Looking up: scans that pass the signature check meanwhile wait here and go
 * to PostgreSQL together, one statement per batch (like the issuer's group
 * commit), at most LOOKUPS_IN_FLIGHT batches at once. A lone scan goes at
 * once; under load the batches grow and PostgreSQL's per-statement cost is
 * shared. Loop thread only.
 */
#define LOOKUP_BATCH	  256
#define LOOKUPS_IN_FLIGHT 2

typedef struct lookup_batch {
	ac_app *app;
	scan_ctx *v[LOOKUP_BATCH];
	int n;
} lookup_batch;

static scan_ctx **waiting;
static int nwaiting, capwaiting, in_flight;

static const char lookup_sql[] =
    "SELECT x.*, coalesce((SELECT scans FROM item_scan i WHERE i.serial = q.serial AND i.item "
    "= q.item), 0), (SELECT string_agg(detail, '；' ORDER BY reason) FROM clone_suspicion cs "
    "WHERE cs.serial = q.serial AND cs.item = q.item), q.n FROM unnest($1::bigint[], "
    "$2::int[]) WITH ORDINALITY AS q(serial, item, n) CROSS JOIN LATERAL (" AC_CERT_SELECT_HEAD
    "c.item_codes[q.item]" AC_CERT_SELECT_TAIL "WHERE c.serial = q.serial) x";

/* Answers one scan from its row (row < 0: no such certificate). */
static void finish(scan_ctx *ctx, const ac_db_result *res, int row)
{
	ac_req *r = ctx->r;
	int item = ctx->code.f.item;
	ac_cert c;

	if (row < 0) {
		respond(ctx, "unknown_certificate", NULL);
		goto out;
	}
	/* After the certificate's columns: scans so far, and any suspicion. */
	ctx->scans = atoi(ac_db_get(res, row, AC_CERT_COLUMNS));
	if (ac_db_get(res, row, AC_CERT_COLUMNS + 1) != NULL)
		ctx->suspicion = strdup(ac_db_get(res, row, AC_CERT_COLUMNS + 1));
	if (ac_cert_from_row(res, row, &c) != 0) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		goto out;
	}
	/* The query returned only this item's code, in c.codes[0]. */
	if (item > c.labels || c.codes[0] == NULL || strcasecmp(c.codes[0], ctx->payload) != 0) {
		/* What is said of a genuine code is not said of this one. */
		free(ctx->suspicion);
		ctx->suspicion = NULL;
		respond(ctx, item > c.labels ? "unknown_item" : "not_issued", NULL);
	} else {
		respond(ctx, c.revoked_at != NULL ? "revoked" : "valid", &c);
	}
	ac_cert_clear(&c);
out:
	scan_ctx_free(ctx);
	ac_req_unref(r);
}

static void send_lookups(ac_app *app);

static void on_lookups(void *data, const ac_db_result *res, int err, const char *msg)
{
	lookup_batch *b = data;
	int found[LOOKUP_BATCH] = { 0 };

	in_flight--;
	if (err != 0) {
		ac_log_error("scan", "could not look up %d certificates: %s", b->n, msg);
		for (int i = 0; i < b->n; i++) {
			ac_req *r = b->v[i]->r;

			respond(b->v[i], "unconfirmed", NULL);
			scan_ctx_free(b->v[i]);
			ac_req_unref(r);
		}
		goto out;
	}
	for (int k = 0; k < ac_db_rows(res); k++) {
		int n = atoi(ac_db_get(res, k, AC_CERT_COLUMNS + 2));

		if (n >= 1 && n <= b->n && !found[n - 1]) {
			found[n - 1] = 1;
			finish(b->v[n - 1], res, k);
		}
	}
	for (int i = 0; i < b->n; i++) {
		if (!found[i])
			finish(b->v[i], res, -1);
	}
out:
	send_lookups(b->app);
	free(b);
}

static void send_lookups(ac_app *app)
{
	lookup_batch *b;
	ac_buf serials, items;
	const char *values[2];

	while (nwaiting > 0 && in_flight < LOOKUPS_IN_FLIGHT) {
		b = calloc(1, sizeof(*b));
		if (b == NULL)
			return; /* the next batch to come back tries again */
		b->app = app;
		ac_buf_init(&serials);
		ac_buf_init(&items);
		ac_buf_add(&serials, "{", 1);
		ac_buf_add(&items, "{", 1);
		while (b->n < LOOKUP_BATCH && b->n < nwaiting) {
			scan_ctx *ctx = waiting[b->n];

			b->v[b->n] = ctx;
			ac_buf_printf(&serials, "%s%llu", b->n ? "," : "",
				      (unsigned long long)ctx->code.f.serial);
			ac_buf_printf(&items, "%s%u", b->n ? "," : "", (unsigned)ctx->code.f.item);
			b->n++;
		}
		memmove(waiting, waiting + b->n, (size_t)(nwaiting - b->n) * sizeof(*waiting));
		nwaiting -= b->n;
		ac_buf_add(&serials, "}", 1);
		ac_buf_add(&items, "}", 1);
		values[0] = serials.data;
		values[1] = items.data;
		if (ac_buf_ok(&serials) && ac_buf_ok(&items) &&
		    ac_db_query(app->db, lookup_sql, 2, values, NULL, on_lookups, b) == 0) {
			in_flight++;
		} else {
			for (int i = 0; i < b->n; i++) {
				ac_req *r = b->v[i]->r;

				respond(b->v[i], "unconfirmed", NULL);
				scan_ctx_free(b->v[i]);
				ac_req_unref(r);
			}
			free(b);
		}
		ac_buf_free(&serials);
		ac_buf_free(&items);
	}
}

/* Queues ctx (holding a reference on its request) for the next lookup. */
static int look_up(ac_app *app, scan_ctx *ctx)
{
	if (nwaiting == capwaiting) {
		int cap = capwaiting ? capwaiting * 2 : LOOKUP_BATCH;
		scan_ctx **p = realloc(waiting, (size_t)cap * sizeof(*p));

		if (p == NULL)
			return -1;
		waiting = p;
		capwaiting = cap;
	}
	waiting[nwaiting++] = ctx;
	send_lookups(app);
	return 0;
}

/* Thread pool: touches only its own context. */
static void verify_work(uv_work_t *w)
{
	scan_ctx *ctx = w->data;

	ctx->verified = ac_code_verify(&ctx->code, ctx->key->key) == 0;
}

static void after_verify(uv_work_t *w, int status)
{
	scan_ctx *ctx = w->data;
	ac_req *r = ctx->r;
	ac_app *app = r->app;

	if (status != 0 || !ctx->verified) {
		respond(ctx, "bad_signature", NULL);
		goto fail;
	}
	if (ctx->key->status == AC_KEY_REVOKED) {
		respond(ctx, "key_revoked", NULL);
		goto fail;
	}
	if (r->gone)
		goto fail;
	/* The reference taken for the work now belongs to the lookup. */
	if (look_up(app, ctx) != 0) {
		respond(ctx, "unconfirmed", NULL);
		goto fail;
	}
	return;
fail:
	scan_ctx_free(ctx);
	ac_req_unref(r);
}

static void scan(ac_req *r, const char *payload, int subject_id)
{
	ac_app *app = r->app;
	const ac_keyring_entry *key;
	scan_ctx *ctx;
	char market[16];
	int rc;

	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ctx->r = r;
	ctx->subject_id = subject_id;
	if (ac_req_query_param(r, "market", market, sizeof(market)) != NULL)
		ctx->market_id = atoi(market) > 0 ? atoi(market) : 0;
	rc = strlen(payload) < sizeof(ctx->payload)
		 ? ac_code_decode(payload, strlen(payload), &ctx->code)
		 : AC_EMALFORMED;
	if (rc != 0) {
		memset(&ctx->code, 0, sizeof(ctx->code));
		respond(ctx, "malformed", NULL);
		goto fail;
	}
	/* Keep the canonical payload text (upper case, no URL around it). */
	rc = ac_base32_encode(ctx->code.raw, ctx->code.raw_len, ctx->payload, sizeof(ctx->payload));
	key = ac_keyring_find(app->keys, ctx->code.f.kid);
	if (rc < 0 || key == NULL) {
		respond(ctx, "unknown_key", NULL);
		goto fail;
	}
	/* Verifying costs more than everything else here: do it in the pool. */
	ctx->key = key;
	ctx->work.data = ctx;
	ac_req_ref(r);
	if (uv_queue_work(app->loop, &ctx->work, verify_work, after_verify) != 0) {
		ac_req_unref(r);
		ac_req_error(r, 500, "internal", "could not schedule verification",
			     "系统繁忙，请稍后重试");
		goto fail;
	}
	return;
fail:
	scan_ctx_free(ctx);
}

typedef struct check_work {
	uv_work_t work;
	ac_req *r;
	const ac_keyring *ring;
	ac_scanned_code *v;
	int n;
	void (*done)(void *data, int ok);
	void *data;
} check_work;

/* Thread pool: reads the key ring (rings replaced by a reload live on). */
static void check_codes_work(uv_work_t *w)
{
	check_work *cw = w->data;

	for (int i = 0; i < cw->n; i++) {
		ac_scanned_code *k = &cw->v[i];
		const ac_keyring_entry *key;

		if (k->status != NULL)
			continue;
		if (ac_code_decode(k->text, strlen(k->text), &k->code) != 0)
			k->status = "malformed";
		else if ((key = ac_keyring_find(cw->ring, k->code.f.kid)) == NULL)
			k->status = "unknown_key";
		else if (ac_code_verify(&k->code, key->key) != 0)
			k->status = "bad_signature";
		else if (key->status == AC_KEY_REVOKED)
			k->status = "key_revoked";
		else if (ac_base32_encode(k->code.raw, k->code.raw_len, k->payload,
					  sizeof(k->payload)) < 0)
			k->status = "malformed";
	}
}

static void after_check_codes(uv_work_t *w, int status)
{
	check_work *cw = w->data;
	ac_req *r = cw->r;

	cw->done(cw->data, status == 0);
	free(cw);
	ac_req_unref(r);
}

int ac_scan_check_codes(ac_req *r, ac_scanned_code *v, int n, void (*done)(void *data, int ok),
			void *data)
{
	ac_app *app = r->app;
	check_work *cw = calloc(1, sizeof(*cw));

	if (cw == NULL)
		return -1;
	cw->work.data = cw;
	cw->r = r;
	cw->ring = app->keys;
	cw->v = v;
	cw->n = n;
	cw->done = done;
	cw->data = data;
	ac_req_ref(r);
	if (uv_queue_work(app->loop, &cw->work, check_codes_work, after_check_codes) != 0) {
		ac_req_unref(r);
		free(cw);
		return -1;
	}
	return 0;
}

static void scan_authed(ac_req *r, const ac_principal *p)
{
	scan(r, r->handler_data, p->subject_id);
}

void ac_handle_scan(ac_req *r, const char *payload)
{
	if (r->authorization == NULL) {
		scan(r, payload, 0);
		return;
	}
	/* A signed-in scanner (an inspector's app) is logged by name. */
	r->handler_data = strdup(payload);
	if (r->handler_data == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	r->handler_free = free;
	ac_auth(r, scan_authed);
}
