/*
 * The supervision documents, served by one table-driven handler, and every
 * route of service/handlers/supervision/ (supervision-private.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_check.h"
#include "ac_handlers.h"
#include "ac_jurisdiction.h"
#include "supervision-private.h"

#define MAX_PERIOD_DAYS (3 * 366)

void ac_sv_error_with(ac_req *r, int status, const char *code, const char *message,
		      const char *message_zh, const char *key, json_t *value)
{
	json_t *o = json_pack("{s:{s:s,s:s,s:s,s:s}}", "error", "code", code, "message", message,
			      "message_zh", message_zh, "request_id", r->id_str);

	if (o == NULL || value == NULL || json_object_set_new(o, key, value) != 0) {
		json_decref(o);
		ac_req_nomem(r);
		return;
	}
	ac_req_json(r, status, o);
}

void ac_sv_outside(ac_req *r)
{
	ac_req_error(r, 403, "outside_jurisdiction", "the record is outside your jurisdiction",
		     "该记录不在您的辖区内");
}

int ac_sv_found(ac_req *r, const ac_db_result *res, const char *found, const char *en,
		const char *zh)
{
	int f = ac_db_col(res, found);
	int c = ac_db_col(res, "covered");

	if (ac_db_rows(res) != 1 || (f >= 0 && !ac_db_bool(res, 0, f))) {
		ac_req_not_found(r, en, zh);
		return 0;
	}
	if (c >= 0 && !ac_db_bool(res, 0, c)) {
		ac_sv_outside(r);
		return 0;
	}
	return 1;
}

/* Query parameters, kind by kind: the SQL type, the check, the words. */

static int is_year(const char *s)
{
	return strlen(s) == 4 && strspn(s, "0123456789") == 4 && atoi(s) >= 2000 && atoi(s) <= 2100;
}

static int is_month(const char *s)
{
	char day[16];

	if (strlen(s) != 7)
		return 0;
	snprintf(day, sizeof(day), "%s-01", s);
	return ac_check_date(day);
}

static int is_id(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= 9 && strspn(s, "0123456789") == len && atoi(s) > 0;
}

static int is_bool(const char *s)
{
	return strcmp(s, "true") == 0 || strcmp(s, "false") == 0;
}

static const struct {
	const char *type;
	int (*valid)(const char *s);
	const char *code;
	const char *en;
	const char *zh;
} kinds[] = {
	[AC_SV_DATE] = { "date", ac_check_date, "invalid_date", "dates are written YYYY-MM-DD",
			 "日期格式应为 YYYY-MM-DD" },
	[AC_SV_MONTH] = { "date", is_month, "invalid_month", "a month is written YYYY-MM",
			  "月份格式应为 YYYY-MM" },
	[AC_SV_YEAR] = { "integer", is_year, "invalid_year", "a year is 2000 to 2100",
			 "年份应为 2000 至 2100" },
	[AC_SV_ID] = { "bigint", is_id, "invalid_id", "an id is a number", "编号应为数字" },
	[AC_SV_BOOL] = { "boolean", is_bool, "invalid_boolean", "give true or false",
			 "应为 true 或 false" },
};

/* Days since 1970-01-01 of a checked date YYYY-MM-DD (Howard Hinnant's
 * days_from_civil). */
static long day_number(const char *date)
{
	long y = atol(date);
	long m = atol(date + 5);
	long d = atol(date + 8);
	long era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

typedef struct doc_ctx {
	int csv;
	char value[AC_SV_MAX_PARAMS][24];
} doc_ctx;

static void on_document(ac_req *r, const ac_db_result *res)
{
	const ac_sv_doc *d = r->route->data;
	doc_ctx *ctx = r->ctx;

	if (ac_sv_found(r, res, "found", d->what_en, d->what_zh))
		ac_req_db_document(r, res, ctx->csv ? "csv" : "doc",
				   ctx->csv ? AC_SV_CSV : AC_SV_JSON);
}

/* ?format=json|csv. Returns 0, or -1 after answering. */
static int format_param(ac_req *r, const ac_sv_doc *d, doc_ctx *ctx)
{
	char fmt[8];
	int rc = ac_req_param(r, "format", fmt, sizeof(fmt));

	if (rc < 0)
		return -1;
	ctx->csv = rc == 1 && strcmp(fmt, "csv") == 0;
	if (rc == 1 && strcmp(fmt, "json") != 0 && !(ctx->csv && d->csv)) {
		ac_req_error_field(r, 400, "invalid_format", "format",
				   d->csv ? "format is json or csv" : "format is json",
				   d->csv ? "格式应为 json 或 csv" : "格式应为 json");
		return -1;
	}
	return 0;
}

/* Adds the query parameters to call. Returns 0, or -1 after answering. */
static int add_params(ac_req *r, const ac_sv_doc *d, doc_ctx *ctx, ac_db_call *call)
{
	const char *from = NULL;
	const char *to = NULL;

	for (int i = 0; d->params[i].name != NULL; i++) {
		const ac_sv_param *p = &d->params[i];
		char *v = ctx->value[i];
		int rc = ac_req_param(r, p->name, v, sizeof(ctx->value[i]) - 3);

		if (rc < 0)
			return -1;
		if (rc == 1 && !kinds[p->kind].valid(v)) {
			ac_req_error_field(r, 400, kinds[p->kind].code, p->name, kinds[p->kind].en,
					   kinds[p->kind].zh);
			return -1;
		}
		if (rc == 1 && p->kind == AC_SV_MONTH)
			strcat(v, "-01");
		from = rc == 1 && strcmp(p->name, "from") == 0 ? v : from;
		to = rc == 1 && strcmp(p->name, "to") == 0 ? v : to;
		ac_db_arg(call, p->arg, kinds[p->kind].type, rc == 1 ? v : NULL);
	}
	if (from != NULL && to != NULL &&
	    (day_number(from) >= day_number(to) ||
	     day_number(to) - day_number(from) > MAX_PERIOD_DAYS)) {
		ac_req_error(r, 400, "invalid_period", "from must be before to, at most 3 years",
			     "起始日期应早于截止日期，时段最长3年");
		return -1;
	}
	return 0;
}

void ac_sv_document(ac_req *r)
{
	const ac_sv_doc *d = r->route->data;
	doc_ctx *ctx = ac_req_ctx(r, doc_ctx, NULL);
	ac_db_call call;

	if (ctx == NULL || format_param(r, d, ctx) != 0)
		return;
	ac_db_call_init(&call, d->fn);
	if (d->path_arg != NULL)
		ac_db_arg(&call, d->path_arg, "bigint", r->param[0]);
	if (add_params(r, d, ctx, &call) != 0)
		return;
	ac_jurisdiction_args(&call, r->who);
	ac_req_call(r, &call, on_document);
}

/* The documents. */

#define PERIOD                                                                                     \
	{ "from", "p_from", AC_SV_DATE },                                                          \
	{                                                                                          \
		"to", "p_to", AC_SV_DATE                                                           \
	}

static const ac_sv_doc township_table = { .fn = "township_supervision",
					  .params = { PERIOD },
					  .csv = 1 };
static const ac_sv_doc daily = { .fn = "certificates_daily", .params = { PERIOD }, .csv = 1 };
static const ac_sv_doc registry = { .fn = "registry_overview", .params = { PERIOD }, .csv = 1 };
static const ac_sv_doc failed_tests = { .fn = "failed_tests_list", .params = { PERIOD }, .csv = 1 };
static const ac_sv_doc revocations = { .fn = "revocations_list", .params = { PERIOD } };
static const ac_sv_doc revocation_preview = {
	.fn = "revocation_preview",
	.path_arg = "p_serial",
	.params = { { "cascade", "p_cascade", AC_SV_BOOL } },
	.what_en = "no such certificate",
	.what_zh = "查不到这张合格证",
};
static const ac_sv_doc patrols = {
	.fn = "patrols_list",
	.params = { PERIOD, { "subject", "p_subject", AC_SV_ID } },
	.csv = 1,
};
static const ac_sv_doc patrol = {
	.fn = "patrol_get",
	.path_arg = "p_patrol",
	.what_en = "no such patrol",
	.what_zh = "查不到这条巡查记录",
};
static const ac_sv_doc coverage = { .fn = "patrol_coverage",
				    .params = { { "year", "p_year", AC_SV_YEAR } },
				    .csv = 1 };
static const ac_sv_doc unvisited = { .fn = "producers_unvisited",
				     .params = { { "day", "p_day", AC_SV_DATE } },
				     .csv = 1 };
static const ac_sv_doc reconciliation = { .fn = "quarantine_reconciliation",
					  .params = { PERIOD },
					  .csv = 1 };
static const ac_sv_doc plans = { .fn = "sampling_plans_list",
				 .params = { { "month", "p_month", AC_SV_MONTH } } };
static const ac_sv_doc plan = {
	.fn = "sampling_plan_doc",
	.path_arg = "p_plan",
	.csv = 1,
	.what_en = "no such sampling plan",
	.what_zh = "查不到这个抽检计划",
};
static const ac_sv_doc redraw = {
	.fn = "sampling_plan_check",
	.path_arg = "p_plan",
	.what_en = "no such sampling plan",
	.what_zh = "查不到这个抽检计划",
};

#define DOC(path, doc)                                                                             \
	AC_ROUTE("GET", path, ac_sv_document, .flags = AC_ROUTE_AUTH, .act = AC_ACT_SUPERVISE,     \
		 .data = &(doc))
#define ROUTE(method, path, handler)                                                               \
	AC_ROUTE(method, path, handler, .flags = AC_ROUTE_AUTH, .act = AC_ACT_SUPERVISE)

/* Literal paths before the {id} ones beside them: the router takes the first match. */
static const ac_route routes[] = {
	DOC("/api/v1/stats/supervision", township_table),
	DOC("/api/v1/stats/daily", daily),
	DOC("/api/v1/stats/registry", registry),
	DOC("/api/v1/failed-tests", failed_tests),
	DOC("/api/v1/revocations", revocations),
	DOC("/api/v1/certificates/{serial}/revocation-preview", revocation_preview),
	DOC("/api/v1/patrols", patrols),
	ROUTE("POST", "/api/v1/patrols", ac_sv_patrol_record),
	DOC("/api/v1/patrols/coverage", coverage),
	DOC("/api/v1/patrols/unvisited", unvisited),
	DOC("/api/v1/patrols/{id}", patrol),
	/* A photo of at most 2 MiB of JPEG, base64 in JSON. */
	AC_ROUTE("POST", "/api/v1/patrols/{id}/photos", ac_sv_patrol_photo_add,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_SUPERVISE, .max_body = 3 << 20),
	ROUTE("GET", "/api/v1/patrols/{id}/photos/{id}", ac_sv_patrol_photo_get),
	ROUTE("POST", "/api/v1/quarantine-certificates", ac_sv_quarantine_import),
	DOC("/api/v1/quarantine/reconciliation", reconciliation),
	DOC("/api/v1/sampling-plans", plans),
	ROUTE("POST", "/api/v1/sampling-plans", ac_sv_sampling_create),
	DOC("/api/v1/sampling-plans/{id}", plan),
	DOC("/api/v1/sampling-plans/{id}/redraw", redraw),
};

AC_ROUTE_TABLE(ac_supervision_routes, routes);
