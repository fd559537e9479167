/*
 * POST /api/v1/certificates/{serial}/revocation {"reason", "cascade"?}:
 * a regulator covering the issuer revokes a certificate, and with cascade
 * everything made from it (revoke_certificate(), sql/0012_service_sql.sql).
 * Scans then say revoked, and the next trust bundle lists it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_certdb.h"
#include "ac_check.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_log.h"

typedef struct revoke_ctx {
	const char *reason;
	int cascade;
	int fresh;    /* this request revoked it */
	int cascaded; /* downstream certificates revoked with it */
} revoke_ctx;

static void on_revoked_row(ac_req *r, const ac_db_result *res)
{
	revoke_ctx *ctx = r->ctx;
	ac_cert c;
	ac_buf b;

	if (ac_db_rows(res) != 1) {
		ac_req_not_found(r, "no such certificate", "查不到这张合格证");
		return;
	}
	if (!ctx->fresh) {
		ac_req_error(r, 409, "already_revoked", "the certificate was already revoked",
			     "该合格证此前已被撤销");
		return;
	}
	if (ac_certdb_read(res, 0, &c) != 0) {
		ac_cert_clear(&c);
		ac_req_nomem(r);
		return;
	}
	ac_buf_init(&b);
	ac_cert_write_json(&b, &c, ac_app_of(r)->cfg.public_url, AC_CERT_ITEMS);
	if (ac_buf_ok(&b) && b.len > 0) {
		b.len--; /* reopen the object for one more member */
		ac_buf_puts(&b, ",\"cascaded\":");
		ac_buf_int(&b, ctx->cascaded);
		ac_buf_puts(&b, "}");
	}
	ac_req_buf(r, 200, &b);
	ac_buf_free(&b);
	ac_cert_clear(&c);
}

static void on_revoked(ac_req *r, const ac_db_result *res)
{
	revoke_ctx *ctx = r->ctx;

	for (int k = 0; k < ac_db_rows(res); k++) {
		if (strcmp(ac_db_get(res, k, 0), r->param[0]) == 0)
			ctx->fresh = 1;
		else
			ctx->cascaded++;
	}
	/* A cascade after a plain revocation still revokes what was made from it. */
	if (ctx->cascade && ctx->cascaded > 0)
		ctx->fresh = 1;
	if (ctx->fresh)
		ac_log_info("cert", "revoked certificate %s and %d made from it id=%s", r->param[0],
			    ctx->cascaded, r->id_str);
	ac_req_query(r, AC_CERT_SELECT "WHERE serial = $1::bigint", 1, r->param, on_revoked_row);
}

static void on_issuer_region(ac_req *r, const ac_db_result *res)
{
	revoke_ctx *ctx = r->ctx;
	ac_db_call call;

	if (ac_db_rows(res) != 1) {
		ac_req_not_found(r, "no such certificate", "查不到这张合格证");
		return;
	}
	if (!ac_perm_covers(r->who, strtoll(ac_db_get(res, 0, 0), NULL, 10))) {
		ac_req_error(r, 403, "outside_jurisdiction",
			     "the certificate's issuer is outside your jurisdiction",
			     "该合格证的开具主体不在您的辖区内，无权撤销");
		return;
	}
	ac_db_call_init(&call, "revoke_certificate");
	ac_db_arg(&call, "p_serial", "bigint", r->param[0]);
	ac_db_arg(&call, "p_reason", "text", ctx->reason);
	ac_db_arg(&call, "p_cascade", "boolean", ctx->cascade ? "true" : "false");
	ac_req_call_as(r, &call, on_revoked);
}

static void handle_revocation(ac_req *r)
{
	json_t *body;
	revoke_ctx *ctx = ac_req_ctx(r, revoke_ctx, &body);
	json_t *reason = json_object_get(body, "reason");

	if (ctx == NULL)
		return;
	if (!json_is_string(reason) || !ac_check_text(json_string_value(reason), 1000)) {
		ac_req_error_field(r, 400, "missing_field", "reason",
				   "a reason (at most 1000 bytes) is required to revoke",
				   "撤销合格证必须填写原因");
		return;
	}
	ctx->reason = json_string_value(reason);
	ctx->cascade = json_is_true(json_object_get(body, "cascade"));
	ac_req_query(r,
		     "SELECT s.region_code FROM certificate c JOIN subject s ON s.id = "
		     "c.issuer_id WHERE c.serial = $1::bigint",
		     1, r->param, on_issuer_region);
}

static const ac_route routes[] = {
	AC_ROUTE("POST", "/api/v1/certificates/{serial}/revocation", handle_revocation,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_REVOKE),
};

AC_ROUTE_TABLE(ac_revocation_routes, routes);
