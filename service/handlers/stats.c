/*
 * GET /api/v1/stats/townships?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv]:
 * the table county offices report (Anxi plan, annexes 3 and 4), per township
 * of the caller's jurisdiction: producers, certificates, item codes,
 * certificates by households, producers under 20 certificates in the period,
 * rapid tests done against the year's quota (township_stats(),
 * sql/0014_inspection_sql.sql). Regulators only. The period defaults to this
 * calendar year (China Standard Time); at most 3 years.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ac_check.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_jurisdiction.h"

#define MAX_YEARS 3

typedef struct stats_ctx {
	int csv;
} stats_ctx;

static void on_stats(ac_req *r, const ac_db_result *res)
{
	stats_ctx *ctx = r->ctx;

	if (ctx->csv)
		ac_req_db_document(r, res, "csv", "text/csv; charset=utf-8");
	else
		ac_req_db_document(r, res, "doc", "application/json; charset=utf-8");
}

/* A date parameter, or January 1st of this year plus years (China Standard
 * Time) when absent. Returns 0, or -1 after answering. */
static int date_param(ac_req *r, const char *name, int years, char out[24])
{
	time_t now = time(NULL) + 8 * 3600;
	struct tm tm;
	int rc = ac_req_param(r, name, out, 24);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	gmtime_r(&now, &tm);
	snprintf(out, 24, "%04d-01-01", tm.tm_year + 1900 + years);
	return 0;
}

static void handle_stats(ac_req *r)
{
	stats_ctx *ctx = ac_req_ctx(r, stats_ctx, NULL);
	char from[24], to[24], fmt[16];
	int has_fmt;
	ac_db_call call;

	if (ctx == NULL)
		return;
	if (date_param(r, "from", 0, from) != 0 || date_param(r, "to", 1, to) != 0)
		return;
	has_fmt = ac_req_param(r, "format", fmt, sizeof(fmt));
	if (has_fmt < 0)
		return;
	if (!ac_check_date(from) || !ac_check_date(to) || strcmp(from, to) >= 0 ||
	    atoi(to) - atoi(from) > MAX_YEARS) {
		ac_req_error(r, 400, "invalid_period",
			     "from and to are dates YYYY-MM-DD, from before to, at most 3 years",
			     "统计时段格式错误（YYYY-MM-DD，最长3年）");
		return;
	}
	ctx->csv = has_fmt == 1 && strcmp(fmt, "csv") == 0;
	ac_db_call_init(&call, "township_stats");
	ac_db_arg(&call, "p_from", "date", from);
	ac_db_arg(&call, "p_to", "date", to);
	ac_jurisdiction_args(&call, r->who);
	ac_req_call_read(r, &call, on_stats);
}

static const ac_route routes[] = {
	AC_ROUTE("GET", "/api/v1/stats/townships", handle_stats, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_STATS),
};

AC_ROUTE_TABLE(ac_stats_routes, routes);
