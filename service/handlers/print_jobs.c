/*
 * Print jobs:
 *   GET  /api/v1/print-jobs/{job}              its state, asked of CUPS while
 *                                              it is not finished
 *   POST /api/v1/certificates/{serial}/reprint the same codes again (a label
 *                                              torn or lost), by the issuer,
 *                                              counted
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_app.h"
#include "ac_certdb.h"
#include "ac_code.h"
#include "ac_cups.h"
#include "ac_error.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_log.h"
#include "ac_printing.h"

/* GET /api/v1/print-jobs/{job} */

typedef struct job_ctx {
	const char *server;
	const char *queue;
	int cups_job_id;
	long long serial;
	const char *printer_id;
	const char *db_state, *db_reason, *db_fault;
	int reprint;
	ac_job_status st;
	ac_cups_error cerr;
	int err;
} job_ctx;

/* The job as the API shows it: the row's fields, then what CUPS said
 * (st NULL: not asked), and the fault in words. */
static json_t *job_json(ac_req *r, const job_ctx *ctx, const char *state, const char *reason,
			const ac_job_status *st, const char *fault)
{
	json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:s?,s:b}", "id",
			      (json_int_t)strtoll(r->param[0], NULL, 10), "certificate",
			      (json_int_t)ctx->serial, "printer", ctx->printer_id, "state", state,
			      "reason", reason, "reprint", ctx->reprint);

	if (j == NULL)
		return NULL;
	json_object_set_new(j, "cups_job_id",
			    ctx->cups_job_id > 0 ? json_integer(ctx->cups_job_id) : json_null());
	if (st != NULL) {
		json_object_set_new(j, "pages_completed", json_integer(st->pages_completed));
		json_object_set_new(j, "printer_state",
				    json_string(ac_printer_state_name(st->printer_state)));
		json_object_set_new(j, "printer_state_reasons",
				    json_string(st->printer_state_reasons));
		if (st->message[0] != '\0')
			json_object_set_new(j, "message", json_string(st->message));
	}
	json_object_set_new(j, "fault", ac_printing_fault_json(fault));
	return j;
}

static void on_state_saved(ac_req *r, const ac_db_result *res)
{
	/* The answer went out before: saving the state is all that was left. */
}

/* Thread pool: asks CUPS, touching only the context. */
static void query_cups(void *arg)
{
	job_ctx *ctx = arg;

	ctx->err =
	    ac_cups_job_status(ctx->server, ctx->queue, ctx->cups_job_id, &ctx->st, &ctx->cerr);
}

/* Answers with what CUPS said (st), then saves it in print_job if it changed
 * and the row has not meanwhile been given a final state (the print queue's
 * own writes, e.g. failed on print_timeout, are not overwritten). */
static void answer_state(ac_req *r, const job_ctx *ctx, const ac_job_status *st, const char *fault)
{
	const char *state = ac_job_state_name(st->state);
	const char *reasons = st->state_reasons[0] ? st->state_reasons : NULL;
	const char *values[4] = { r->param[0], state, reasons, fault };

	ac_req_json(r, 200, job_json(r, ctx, state, reasons, st, fault));
	ac_req_query(r,
		     "UPDATE print_job SET state = $2, reason = $3, fault = $4, updated_at = now() "
		     "WHERE id = $1::bigint AND (state <> $2 OR fault IS DISTINCT FROM $4) "
		     "AND state NOT IN ('completed', 'failed', 'canceled')",
		     4, values, on_state_saved);
}

static void after_query_cups(ac_req *r, void *arg)
{
	job_ctx *ctx = arg;

	if (ctx->err != 0) {
		/* CUPS did not answer: what the row says, and why it is not fresher. */
		ac_log_warn("print", "could not query job %s: %s id=%s", r->param[0],
			    ctx->cerr.message[0] ? ctx->cerr.message : ac_strerror(ctx->err),
			    r->id_str);
		ac_req_json(r, 200,
			    job_json(r, ctx, ctx->db_state, ctx->db_reason, NULL,
				     ac_cups_error_fault(ctx->err, &ctx->cerr)));
		return;
	}
	answer_state(r, ctx, &ctx->st, ac_cups_fault(&ctx->st));
}

static int is_final(const char *state)
{
	return strcmp(state, "completed") == 0 || strcmp(state, "failed") == 0 ||
	       strcmp(state, "canceled") == 0;
}

/* The row's fields into ctx. Returns -1 after answering. */
static int read_row(ac_req *r, const ac_db_result *res, job_ctx **out)
{
	const char *cups_id = ac_db_field(res, 0, "cups_job_id");
	job_ctx *ctx = ac_req_new(r, job_ctx);

	*out = ctx;
	if (ctx == NULL ||
	    (ctx->printer_id = ac_req_strdup(r, ac_db_field(res, 0, "printer_id"))) == NULL ||
	    (ctx->db_state = ac_req_strdup(r, ac_db_field(res, 0, "state"))) == NULL) {
		ac_req_nomem(r);
		return -1;
	}
	ctx->db_reason =
	    ac_db_field(res, 0, "reason") ? ac_req_strdup(r, ac_db_field(res, 0, "reason")) : NULL;
	ctx->db_fault =
	    ac_db_field(res, 0, "fault") ? ac_req_strdup(r, ac_db_field(res, 0, "fault")) : NULL;
	ctx->serial = strtoll(ac_db_field(res, 0, "serial"), NULL, 10);
	ctx->cups_job_id = cups_id != NULL ? atoi(cups_id) : 0;
	ctx->reprint = ac_db_bool(res, 0, ac_db_col(res, "reprint"));
	return 0;
}

static void on_job_row(ac_req *r, const ac_db_result *res)
{
	ac_app *app = ac_app_of(r);
	const ac_printer *pc;
	ac_printq_job live;
	job_ctx *ctx;

	if (ac_db_rows(res) != 1) {
		ac_req_not_found(r, "no such print job", "没有这个打印任务");
		return;
	}
	if (atoi(ac_db_field(res, 0, "issuer_id")) != r->who->subject_id &&
	    !ac_perm_is_regulator(r->who)) {
		ac_req_forbidden(r, "this print job is not yours", "这不是您的打印任务，无权查看");
		return;
	}
	if (read_row(r, res, &ctx) != 0)
		return;
	pc = ac_printq_printer(app->printq, ctx->printer_id);
	/* Watched here: what CUPS said within the last second. */
	if (!is_final(ctx->db_state) &&
	    ac_printq_job_state(app->printq, strtoll(r->param[0], NULL, 10), &live)) {
		answer_state(r, ctx, &live.st, live.fault);
		return;
	}
	/* Finished, not yet at CUPS, or on a printer this instance does not know. */
	if (ctx->cups_job_id == 0 || pc == NULL || is_final(ctx->db_state)) {
		ac_req_json(r, 200,
			    job_json(r, ctx, ctx->db_state, ctx->db_reason, NULL, ctx->db_fault));
		return;
	}
	ctx->server = app->cfg.cups_server;
	ctx->queue = ac_req_strdup(r, pc->queue);
	if (ctx->queue == NULL) {
		ac_req_nomem(r);
		return;
	}
	ac_req_work(r, query_cups, after_query_cups, ctx);
}

static void handle_job(ac_req *r)
{
	ac_req_query(r,
		     "SELECT j.serial, j.printer_id, j.state, j.cups_job_id, j.reason, j.fault, "
		     "j.reprint, c.issuer_id FROM print_job j JOIN certificate c USING (serial) "
		     "WHERE j.id = $1::bigint",
		     1, r->param, on_job_row);
}

/* POST /api/v1/certificates/{serial}/reprint {"printer": "..."} */

typedef struct reprint_ctx {
	const char *printer;
	ac_cert cert;
} reprint_ctx;

static void clear_cert(void *c)
{
	ac_cert_clear(c);
}

static void on_reprint_job(ac_req *r, const ac_db_result *res)
{
	reprint_ctx *ctx = r->ctx;

	ctx->cert.print_job_id = strtoll(ac_db_field(res, 0, "id"), NULL, 10);
	free(ctx->cert.printer_id);
	ctx->cert.printer_id = strdup(ctx->printer);
	if (ctx->cert.printer_id == NULL) {
		ac_req_nomem(r);
		return;
	}
	ac_printq_submit(ac_app_of(r)->printq, &ctx->cert, r->start_ns);
	ac_log_info("print", "reprint %s of certificate %s as job %lld id=%s",
		    ac_db_field(res, 0, "reprints"), r->param[0], (long long)ctx->cert.print_job_id,
		    r->id_str);
	ac_req_json(r, 201,
		    json_pack("{s:I,s:{s:I,s:s,s:s,s:b},s:I}", "certificate",
			      (json_int_t)ctx->cert.serial, "print_job", "id",
			      (json_int_t)ctx->cert.print_job_id, "printer", ctx->printer, "state",
			      "queued", "reprint", 1, "reprints",
			      (json_int_t)strtoll(ac_db_field(res, 0, "reprints"), NULL, 10)));
}

static void on_reprint_cert(ac_req *r, const ac_db_result *res)
{
	reprint_ctx *ctx = r->ctx;
	const char *values[2] = { r->param[0], ctx->printer };

	if (ac_db_rows(res) != 1) {
		ac_req_not_found(r, "no such certificate", "查不到这张合格证");
		return;
	}
	if (ac_certdb_read(res, 0, &ctx->cert) != 0) {
		ac_req_nomem(r);
		return;
	}
	if (ctx->cert.issuer_id != r->who->subject_id) {
		ac_req_refuse(r, AC_ACT_REPRINT);
		return;
	}
	if (ctx->cert.revoked_at != NULL) {
		ac_req_error(r, 409, "revoked", "a revoked certificate is not printed again",
			     "该合格证已被撤销，不能补打");
		return;
	}
	ac_req_query_as(r,
			"WITH j AS (INSERT INTO print_job (serial, printer_id, reprint) VALUES "
			"($1::bigint, $2, true) RETURNING id) SELECT j.id, (SELECT count(*) + 1 "
			"FROM print_job WHERE serial = $1::bigint AND reprint) AS reprints FROM j",
			2, values, on_reprint_job);
}

static void handle_reprint(ac_req *r)
{
	json_t *body;
	reprint_ctx *ctx = ac_req_ctx(r, reprint_ctx, &body);
	json_t *printer = json_object_get(body, "printer");

	if (ctx == NULL)
		return;
	if (ac_req_defer(r, clear_cert, &ctx->cert) != 0) {
		ac_req_nomem(r);
		return;
	}
	if (!json_is_string(printer) ||
	    ac_printq_printer(ac_app_of(r)->printq, json_string_value(printer)) == NULL) {
		ac_req_error_field(r, 422, "unknown_printer", "printer", "no such printer",
				   "找不到这台打印机，请联系服务站管理员");
		return;
	}
	ctx->printer = json_string_value(printer);
	if (r->who->kiosk_id[0] != '\0' && strcmp(ctx->printer, r->who->kiosk_id) != 0) {
		ac_req_error_field(r, 403, "printer_not_allowed", "printer",
				   "a kiosk session prints only on its own kiosk's printer",
				   "只能在本服务站的打印机上打印");
		return;
	}
	ac_req_query(r, AC_CERT_SELECT "WHERE serial = $1::bigint", 1, r->param, on_reprint_cert);
}

/* POST /api/v1/kiosks/{kiosk}/calibration: the dot-gain calibration run. */

static void calibrated(void *arg, int err, int cups_job_id, const char *why)
{
	ac_req *r = arg;

	if (err != 0) {
		ac_log_warn("print", "could not print the calibration run of %s: %s id=%s",
			    r->param[0], why, r->id_str);
		ac_req_error(r, 502, "calibration_failed",
			     "the calibration labels could not be printed",
			     "校准页打印失败：请检查打印机和打印服务");
	} else {
		ac_req_json(r, 201,
			    json_pack("{s:s,s:i,s:i,s:[iiii]}", "printer", r->param[0],
				      "cups_job_id", cups_job_id, "labels", 4, "dot_gain", 0, 1, 2,
				      3));
	}
	ac_req_release(r);
}

static void handle_calibration(ac_req *r)
{
	ac_app *app = ac_app_of(r);
	char payload[152];
	char code[640];
	int rc;

	/* A code as long as a certificate's, so that the symbol is the real size. */
	for (size_t i = 0; i + 1 < sizeof(payload); i++)
		payload[i] = "CALIBRATION234567"[i % 17];
	payload[sizeof(payload) - 1] = '\0';
	if (ac_code_url(app->cfg.public_url, payload, code, sizeof(code)) < 0)
		snprintf(code, sizeof(code), "HTTPS://AGRICERT/V/%s", payload);
	ac_req_hold(r);
	rc = ac_printq_calibrate(app->printq, r->param[0], code, calibrated, r);
	if (rc != 0) {
		if (rc == AC_ENOTFOUND)
			ac_req_not_found(r, "no such printer", "找不到这台打印机");
		else
			ac_req_nomem(r);
		ac_req_release(r);
	}
}

static const ac_route routes[] = {
	AC_ROUTE("GET", "/api/v1/print-jobs/{job}", handle_job, .flags = AC_ROUTE_AUTH),
	AC_ROUTE("POST", "/api/v1/certificates/{serial}/reprint", handle_reprint,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_REPRINT),
	AC_ROUTE("POST", "/api/v1/kiosks/{kiosk}/calibration", handle_calibration,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_WRITE_CATALOG),
};

AC_ROUTE_TABLE(ac_print_job_routes, routes);
