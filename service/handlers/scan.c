/*
 * GET /v/{payload}: what a phone opens when it scans a label. Checks the
 * signature first (offline truth), then the certificate (issued, not
 * revoked: from memory, else the database; ac_lookup.h),
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
#include "ac_code.h"
#include "ac_error.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_log.h"
#include "ac_url.h"

/*
 * A verdict in the words of the people who scan: the API's message, the
 * page's heading and what a buyer and an inspector should do next. A
 * verdict about a genuine code names the issuer's township office to call
 * (from the registry); about any other, the local office and 12316.
 */
typedef struct verdict {
	const char *status;
	const char *en;
	const char *zh;	 /* the API's message_zh and the page's heading */
	const char *cls; /* ok, warn or bad */
	const char *mark;
	const char *buyer;
	const char *inspector;
	int genuine; /* the code is the system's: its issuer is known */
} verdict;

static const verdict verdicts[] = {
	{ "valid", "genuine and valid", "真实有效", "ok", "✔",
	  "可以购买。请核对下面的产品和数量与实物是否一致。",
	  "可以正常销售。实物与下面的信息不符时，请拍照并联系开具方所在乡镇农安办。", 1 },
	{ "malformed", "this is not an agricert code", "这不是合格证二维码", "warn", "？",
	  "请扫描印有“承诺达标合格证”字样的标签上的二维码。",
	  "请卖家出示合格证；拿不出的，按无证产品上报乡镇农安办。", 0 },
	{ "unknown_key", "signed with an unknown key",
	  "无法确认真假：这个码不是本地合格证系统开出的", "warn", "？",
	  "请向卖家索要纸质合格证或进货凭证，拿不准就不要买。",
	  "请卖家出示纸质合格证或进货凭证，并请当地乡镇农安办核实来源。", 0 },
	{ "key_revoked", "signed with a revoked key", "这个码已作废，不能证明产品合格", "bad", "✘",
	  "请不要购买。", "这批货不能凭此码销售：请暂停销售，拍照留存，报告当地乡镇农安办。", 0 },
	{ "bad_signature", "the signature does not match: forged or altered",
	  "疑似假冒：这个码不是合格证系统开出的，或者被改动过", "bad", "✘",
	  "请不要购买，并告诉市场管理人员。",
	  "暂扣这批货，不要让卖家带走，拍照留存，立即报告当地乡镇农安办。", 0 },
	{ "unknown_certificate", "no such certificate was issued", "系统中查不到这张合格证", "bad",
	  "✘", "请不要购买。", "请卖家说明来源，暂停销售，拍照留存并报告当地乡镇农安办。", 0 },
	{ "unknown_item", "no such label in this certificate", "这张合格证没有这个标签", "bad", "✘",
	  "请不要购买。", "请卖家说明来源，暂停销售，拍照留存并报告当地乡镇农安办。", 0 },
	{ "not_issued", "the code does not match the issued one", "这个码与系统开出的不一致", "bad",
	  "✘", "请不要购买。", "暂扣这批货，拍照留存，立即报告当地乡镇农安办。", 0 },
	{ "revoked", "the certificate has been revoked", "该合格证已被撤销", "bad", "✘",
	  "请不要购买这批货。",
	  "这批货不能销售：请卖家下架、单独存放，并报告开具方所在乡镇农安办。", 1 },
	{ "unconfirmed", "the signature is genuine but the status could not be checked",
	  "暂时无法确认：码是系统开出的，但现在查不到是否已被撤销", "warn", "…",
	  "请稍后再扫一次；拿不准就先不要买。", "请先拍照记录，稍后联网再扫一次。", 1 },
};

/* A genuine code seen where one package could not be: never headed 真实有效. */
static const verdict clone_verdict = {
	"valid",
	"",
	"疑似被复制：这个码在别处也被扫过，不能确认这件货是真的",
	"warn",
	"⚠",
	"请向卖家索要进货凭证，核对包装与实物；拿不准就不要买。",
	"拍照留存，核对包装与实物，暂停销售这批货，并报告开具方所在乡镇农安办。",
	1,
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
	ac_code code;
	ac_keyring *ring; /* a reference, for the verifying thread */
	const ac_keyring_entry *key;
	int verified;
	int market_id;
	int scans;		  /* genuine scans of this item code logged so far */
	const char *suspicion;	  /* why the code looks copied, or NULL */
	const char *office_name;  /* the issuer's township office, or NULL */
	const char *office_phone; /* its telephone, or NULL */
	char payload[256];
} scan_ctx;

static const char page_head[] =
    "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
    "<title>合格证查验</title><style>"
    "body{font-family:sans-serif;margin:0;background:#f4f6f4;color:#222;font-size:18px}"
    "main{max-width:560px;margin:0 auto;padding:16px}"
    ".verdict{border-radius:12px;padding:20px;text-align:center;font-size:28px;"
    "font-weight:bold;color:#fff}"
    ".ok{background:#1a7f37}.bad{background:#c62828}.warn{background:#b26a00}"
    ".sub{font-size:16px;font-weight:normal;margin-top:6px}"
    ".todo{background:#fff;border-radius:12px;padding:12px 14px;margin-top:12px}"
    ".todo p{margin:6px 0}"
    ".todo a{color:#0b57d0;font-weight:bold}"
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

/* The heading: the verdict (the clone warning instead of 真实有效). */
static void verdict_block(ac_buf *b, const verdict *v, const verdict *shown, const char *suspicion)
{
	ac_buf_printf(b, "<div class=\"verdict %s%s\" data-status=\"%s\"%s>%s ", shown->cls,
		      shown == v ? "" : " clone", v->status, shown == v ? "" : " data-clone=\"1\"",
		      shown->mark);
	ac_buf_puts(b, shown->zh);
	ac_buf_puts(b, "<div class=\"sub\">");
	if (suspicion != NULL) {
		ac_buf_html(b, suspicion);
		ac_buf_puts(b, "。This code may have been copied.");
	} else {
		ac_buf_puts(b, v->en);
	}
	ac_buf_puts(b, "</div></div>");
}

/* What to do next, and whom to call. */
static void advice_block(ac_buf *b, const verdict *v, const char *office, const char *phone)
{
	ac_buf_puts(b, "<div class=\"todo\"><p><b>买家：</b>");
	ac_buf_puts(b, v->buyer);
	ac_buf_puts(b, "</p><p><b>查验人员：</b>");
	ac_buf_puts(b, v->inspector);
	ac_buf_puts(b, "</p><p class=\"call\"><b>联系：</b>");
	if (v->genuine && office != NULL) {
		ac_buf_puts(b, "开具方所在地的");
		ac_buf_html(b, office);
		if (phone != NULL && phone[0] != '\0') {
			ac_buf_puts(b, "，电话 <a href=\"tel:");
			ac_buf_html(b, phone);
			ac_buf_puts(b, "\">");
			ac_buf_html(b, phone);
			ac_buf_puts(b, "</a>");
		}
	} else {
		ac_buf_puts(b, "当地乡镇农安办（乡镇人民政府农产品质量安全监管站），或拨打农业农村"
			       "服务热线 <a href=\"tel:12316\">12316</a>");
	}
	ac_buf_puts(b, "</p></div>");
}

/* What the label says, once its code is known genuine. */
static void cert_table(ac_buf *b, const ac_cert *c, int item)
{
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
	ac_buf_puts(b, "<h1>承诺达标合格证</h1><table>");
	row(b, "产品", c->product_name);
	row(b, "数量", qty);
	row(b, "产地", c->origin);
	row(b, "开具方", c->issuer_name);
	row(b, "联系方式", contact);
	snprintf(when, sizeof(when), "%.16s", c->issued_at);
	if (strlen(when) > 10)
		when[10] = ' ';
	row(b, "开具时间", when);
	row(b, "编号", number);
	row(b, "标签", idx);
	row(b, "承诺依据", ac_basis_name_zh(c->basis));
	if (c->revoked_at != NULL) {
		row(b, "撤销时间", c->revoked_at);
		row(b, "撤销原因", c->revoke_reason ? c->revoke_reason : "");
	}
	ac_buf_puts(b, "</table><div class=\"promise\">");
	ac_buf_puts(b, "我承诺对生产销售的食用农产品：");
	ac_buf_html(b, ac_style_promise_zh(c->style));
	ac_buf_puts(b, "</div>");
}

static void respond_page(ac_req *r, const verdict *v, const ac_cert *c, int item)
{
	const scan_ctx *ctx = r->ctx;
	/* A genuine code that looks copied is headed by the warning. */
	const verdict *shown =
	    strcmp(v->status, "valid") == 0 && ctx->suspicion != NULL ? &clone_verdict : v;
	ac_buf b;

	ac_buf_init(&b);
	ac_buf_puts(&b, page_head);
	verdict_block(&b, v, shown, strcmp(v->status, "valid") == 0 ? ctx->suspicion : NULL);
	advice_block(&b, shown, ctx->office_name, ctx->office_phone);
	if (c != NULL)
		cert_table(&b, c, item);
	ac_buf_puts(&b, "<footer>agricert 合格证查验</footer></main></body></html>");
	if (!ac_buf_ok(&b))
		ac_req_nomem(r);
	else
		ac_req_respond(r, 200, "text/html; charset=utf-8", b.data, b.len);
	ac_buf_free(&b);
}

/* Answers a scan with its verdict (and the certificate when genuine), and logs it. */
static void respond(ac_req *r, const char *status, const ac_cert *c)
{
	ac_app *app = ac_app_of(r);
	scan_ctx *ctx = r->ctx;
	const verdict *v = find_verdict(status);
	int item = ctx->code.f.item;
	ac_scan_event ev = { .serial = ctx->code.f.serial,
			     .item = item,
			     .verdict = v->status,
			     .market_id = ctx->market_id,
			     .subject_id = r->who != NULL ? r->who->subject_id : 0,
			     .peer = r->peer,
			     .clone_suspected = c != NULL && ctx->suspicion != NULL };
	ac_buf b;

	ac_scanlog_add(app->scanlog, &ev);
	if (c != NULL) /* valid or revoked: a genuine scan, which counts */
		ac_lookup_scanned(app->lookup, ev.serial, item);
	if (!ac_req_wants_json(r)) {
		respond_page(r, v, c, item);
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
		/* The public answer masks the phone; staff read it whole
		 * (GET /certificates/{id}). */
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
		/* Whom to call about it, as the page says. */
		if (ctx->office_name != NULL) {
			ac_buf_puts(&b, ",\"office\":{\"name\":");
			ac_buf_json_str(&b, ctx->office_name);
			ac_buf_puts(&b, ",\"phone\":");
			ac_buf_json_str(&b, ctx->office_phone ? ctx->office_phone : "");
			ac_buf_puts(&b, "}");
		}
	}
	ac_buf_puts(&b, "}");
	ac_req_buf(r, 200, &b);
	ac_buf_free(&b);
}

/* What is said of a genuine code: its scans, a suspicion, the office to call.
 * 0, or -1 out of memory. */
static int keep_genuine(ac_req *r, const ac_lookup_answer *a)
{
	scan_ctx *ctx = r->ctx;

	ctx->scans = a->scans;
	ctx->suspicion = a->suspicion != NULL ? ac_req_strdup(r, a->suspicion) : NULL;
	ctx->office_name = a->office_name != NULL ? ac_req_strdup(r, a->office_name) : NULL;
	ctx->office_phone = a->office_phone != NULL ? ac_req_strdup(r, a->office_phone) : NULL;
	return (a->suspicion != NULL && ctx->suspicion == NULL) ||
		       (a->office_name != NULL && ctx->office_name == NULL) ||
		       (a->office_phone != NULL && ctx->office_phone == NULL)
		   ? -1
		   : 0;
}

/* The certificate is known (a NULL: no such certificate), from memory or the database. */
static void on_lookup(void *data, const ac_lookup_answer *a, int err)
{
	ac_req *r = data;
	scan_ctx *ctx = r->ctx;
	int item = ctx->code.f.item;
	const ac_cert *c = a != NULL ? a->cert : NULL;

	if (r->gone) {
		ac_req_release(r);
		return;
	}
	if (err != 0)
		respond(r, "unconfirmed", NULL);
	else if (c == NULL)
		respond(r, "unknown_certificate", NULL);
	/* The answer holds this item's code alone, in c->codes[0]. What is said of
	 * a genuine code (its scans, a suspicion) is not said of another. */
	else if (item > c->labels || c->codes[0] == NULL ||
		 strcasecmp(c->codes[0], ctx->payload) != 0)
		respond(r, item > c->labels ? "unknown_item" : "not_issued", NULL);
	else if (keep_genuine(r, a) != 0)
		ac_req_nomem(r);
	else
		respond(r, c->revoked_at != NULL ? "revoked" : "valid", c);
	ac_req_release(r);
}

/* Thread pool: touches only its own context. */
static void verify_work(void *arg)
{
	scan_ctx *ctx = arg;

	ctx->verified = ac_code_verify(&ctx->code, ctx->key->key) == 0;
}

static void after_verify(ac_req *r, void *arg)
{
	scan_ctx *ctx = arg;

	if (!ctx->verified) {
		respond(r, "bad_signature", NULL);
		return;
	}
	if (ctx->key->status == AC_KEY_REVOKED) {
		respond(r, "key_revoked", NULL);
		return;
	}
	ac_req_hold(r);
	if (ac_lookup_submit(ac_app_of(r)->lookup, ctx->code.f.serial, ctx->code.f.item, on_lookup,
			     r) != 0) {
		respond(r, "unconfirmed", NULL);
		ac_req_release(r);
	}
}

static void unref_ring(void *ring)
{
	ac_keyring_unref(ring);
}

static void handle_scan(ac_req *r)
{
	const char *payload = r->param[0];
	scan_ctx *ctx = ac_req_ctx(r, scan_ctx, NULL);
	char market[16];

	if (ctx == NULL)
		return;
	/* A market the scanner's app names is for the log: a bad one is ignored. */
	if (ac_url_query_param(r->query, "market", market, sizeof(market)) == 1)
		ctx->market_id = atoi(market) > 0 ? atoi(market) : 0;
	if (strlen(payload) >= sizeof(ctx->payload) ||
	    ac_code_decode(payload, strlen(payload), &ctx->code) != 0) {
		memset(&ctx->code, 0, sizeof(ctx->code));
		respond(r, "malformed", NULL);
		return;
	}
	/* Keep the canonical payload text (upper case, no URL around it). */
	if (ac_base32_encode(ctx->code.raw, ctx->code.raw_len, ctx->payload, sizeof(ctx->payload)) <
		0 ||
	    (ctx->key = ac_keyring_find(ac_app_of(r)->keys, ctx->code.f.kid)) == NULL) {
		respond(r, "unknown_key", NULL);
		return;
	}
	/* Verifying costs more than everything else here: do it in the pool, with
	 * a reference on the ring (a reload may replace the service's meanwhile). */
	ctx->ring = ac_keyring_ref(ac_app_of(r)->keys);
	if (ac_req_defer(r, unref_ring, ctx->ring) != 0) {
		ac_req_nomem(r);
		return;
	}
	ac_req_work(r, verify_work, after_verify, ctx);
}

/* A signed-in scanner (an inspector's app) is logged by name; anyone may scan. */
static const ac_route routes[] = {
	AC_ROUTE("GET", "/v/{payload}", handle_scan, .flags = AC_ROUTE_AUTH_OPTIONAL),
	AC_ROUTE("GET", "/V/{payload}", handle_scan, .flags = AC_ROUTE_AUTH_OPTIONAL),
};

AC_ROUTE_TABLE(ac_scan_routes, routes);
