/*
 * POST /api/v1/sampling-plans {"township", "month"?, "size"?}: draws the
 * month's sampling plan (双随机) of a township the caller covers, with a
 * fresh random seed, and answers the plan with every candidate and its
 * weight (sampling_plan_create() and sampling_plan_doc(),
 * sql/0023_supervision.sql; the procedure, so that anyone can redraw it, in
 * sql/SAMPLING.md). One plan per township and month. Reading and redrawing
 * a plan are documents (supervision.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_check.h"
#include "ac_jurisdiction.h"
#include "ac_log.h"
#include "supervision-private.h"

#define MAX_SIZE 200

typedef struct plan_ctx {
	char township[16];
	char month[16];
	char id[24];
} plan_ctx;

static void on_plan(ac_req *r, const ac_db_result *res)
{
	const char *doc = ac_db_field(res, 0, "doc");

	if (doc == NULL)
		ac_req_unavailable(r);
	else
		ac_req_respond(r, 201, AC_SV_JSON, doc, strlen(doc));
}

static void on_drawn(ac_req *r, const ac_db_result *res)
{
	plan_ctx *ctx = r->ctx;
	const char *id = ac_db_field(res, 0, "id");
	const char *existing = ac_db_field(res, 0, "existing");
	ac_db_call call;

	if (!ac_db_bool(res, 0, ac_db_col(res, "township_found"))) {
		ac_req_error_field(r, 404, "unknown_township", "township", "no such township",
				   "找不到这个乡镇");
	} else if (!ac_db_bool(res, 0, ac_db_col(res, "covered"))) {
		ac_sv_outside(r);
	} else if (existing != NULL) {
		ac_sv_error_with(r, 409, "plan_exists",
				 "the township's plan for that month was drawn already (plan)",
				 "该乡镇本月的抽检计划已经抽取，不能重新抽取", "plan",
				 json_integer(strtoll(existing, NULL, 10)));
	} else if (id == NULL) {
		ac_req_error_field(r, 422, "no_producers", "township",
				   "the township has no producers to sample",
				   "该乡镇名录库中没有生产主体，无法抽取");
	} else {
		ac_log_info("sampling", "plan %s drawn for %s id=%s", id, ctx->township, r->id_str);
		snprintf(ctx->id, sizeof(ctx->id), "%s", id);
		ac_db_call_init(&call, "sampling_plan_doc");
		ac_db_arg(&call, "p_plan", "bigint", ctx->id);
		ac_jurisdiction_args(&call, r->who);
		ac_req_call(r, &call, on_plan);
	}
}

/* The township as a 12-digit code, string or number, into ctx. */
static int parse_township(json_t *v, plan_ctx *ctx)
{
	int64_t code;

	if (json_is_integer(v))
		snprintf(ctx->township, sizeof(ctx->township), "%lld",
			 (long long)json_integer_value(v));
	else if (json_is_string(v) && json_string_length(v) < sizeof(ctx->township))
		snprintf(ctx->township, sizeof(ctx->township), "%s", json_string_value(v));
	else
		return 0;
	return ac_check_region_code(ctx->township, &code) == 0 && code % 1000 == 0 &&
	       code % 1000000 != 0;
}

/* An optional month YYYY-MM into ctx as its first day (empty when absent). */
static int month_of(json_t *v, plan_ctx *ctx)
{
	if (v == NULL)
		return 1;
	if (!json_is_string(v) || json_string_length(v) != 7)
		return 0;
	snprintf(ctx->month, sizeof(ctx->month), "%s-01", json_string_value(v));
	return ac_check_date(ctx->month);
}

void ac_sv_sampling_create(ac_req *r)
{
	json_t *body;
	plan_ctx *ctx = ac_req_ctx(r, plan_ctx, &body);
	json_t *size;
	ac_db_call call;

	if (ctx == NULL)
		return;
	size = json_object_get(body, "size");
	if (!parse_township(json_object_get(body, "township"), ctx) ||
	    !month_of(json_object_get(body, "month"), ctx) ||
	    (size != NULL && (!json_is_integer(size) || json_integer_value(size) < 1 ||
			      json_integer_value(size) > MAX_SIZE))) {
		ac_req_error(r, 400, "invalid_plan",
			     "give township (its 12-digit code); month (YYYY-MM, default this "
			     "month) and size (1 to 200, default a tenth of the producers) are "
			     "optional",
			     "请填写乡镇（12位区划代码）；月份（YYYY-MM）和抽取数量（1至200）可选");
		return;
	}
	ac_db_call_init(&call, "sampling_plan_create");
	ac_db_arg(&call, "p_township", "bigint", ctx->township);
	ac_db_arg(&call, "p_month", "date", ctx->month[0] ? ctx->month : NULL);
	if (size != NULL)
		ac_db_arg_int(&call, "p_size", "integer", json_integer_value(size));
	else
		ac_db_arg(&call, "p_size", "integer", NULL);
	ac_db_arg_int(&call, "p_drawn_by", "integer", r->who->subject_id);
	ac_jurisdiction_args(&call, r->who);
	ac_req_call_as(r, &call, on_drawn);
}
