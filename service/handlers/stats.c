/*
 * GET /api/v1/stats/townships?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv]:
 * the table county offices report (Anxi plan, annexes 3 and 4), per township
 * of the caller's jurisdiction: producers, certificates, item codes,
 * certificates by households, producers under 20 certificates in the period,
 * rapid tests done against the year's quota. Regulators only. The period
 * defaults to this calendar year (China Standard Time); at most 3 years.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ac_app.h"
#include "ac_cert.h"
#include "ac_error.h"
#include "ac_log.h"
#include "ac_perm.h"

#define PRODUCER_KINDS "('enterprise', 'cooperative', 'family_farm', 'household')"
#define IN_TOWNSHIP    "s.region_code / 1000 = t.code / 1000"

static const char stats_sql[] =
    "WITH t AS (SELECT code, name FROM region WHERE level = 4 AND code BETWEEN $3::bigint AND "
    "$4::bigint), p AS (SELECT $1::date AT TIME ZONE 'Asia/Shanghai' AS f, $2::date AT TIME "
    "ZONE 'Asia/Shanghai' AS u), rows AS (SELECT t.code, t.name, "
    "(SELECT count(*) FROM subject s WHERE " IN_TOWNSHIP " AND s.kind IN " PRODUCER_KINDS
    ") AS producers, "
    "(SELECT count(*) FROM certificate c JOIN subject s ON s.id = c.issuer_id, p WHERE " IN_TOWNSHIP
    " AND c.issued_at >= p.f AND c.issued_at < p.u) AS certificates, "
    "(SELECT coalesce(sum(c.labels), 0) FROM certificate c JOIN subject s ON s.id = c.issuer_id, "
    "p WHERE " IN_TOWNSHIP " AND c.issued_at >= p.f AND c.issued_at < p.u) AS item_codes, "
    "(SELECT count(*) FROM certificate c JOIN subject s ON s.id = c.issuer_id, p WHERE " IN_TOWNSHIP
    " AND s.kind = 'household' AND c.issued_at >= p.f AND c.issued_at < p.u) AS "
    "household_certificates, "
    "(SELECT count(*) FROM subject s WHERE " IN_TOWNSHIP " AND s.kind IN " PRODUCER_KINDS
    " AND (SELECT count(*) FROM certificate c, p WHERE c.issuer_id = s.id AND c.issued_at >= "
    "p.f AND c.issued_at < p.u) < 20) AS producers_under_20, "
    "(SELECT count(*) FROM rapid_test r JOIN subject s ON s.id = r.subject_id, p WHERE " IN_TOWNSHIP
    " AND r.tested_at >= p.f AND r.tested_at < p.u) AS rapid_tests, "
    "(SELECT q.total FROM rapid_test_quota q WHERE q.region_code = t.code AND q.year = "
    "extract(year FROM $1::date)) AS rapid_test_quota FROM t) "
    "SELECT json_build_object('from', $1::date, 'to', $2::date, 'townships', coalesce(json_agg("
    "json_build_object('code', lpad(code::text, 12, '0'), 'name', name, 'producers', producers, "
    "'certificates', certificates, 'item_codes', item_codes, 'household_certificates', "
    "household_certificates, 'producers_under_20', producers_under_20, 'rapid_tests', "
    "rapid_tests, 'rapid_test_quota', rapid_test_quota) ORDER BY code), '[]'::json), "
    "'totals', json_build_object('producers', coalesce(sum(producers), 0), 'certificates', "
    "coalesce(sum(certificates), 0), 'item_codes', coalesce(sum(item_codes), 0), "
    "'rapid_tests', coalesce(sum(rapid_tests), 0))), "
    "'乡镇代码,乡镇,生产主体数,开具合格证数,赋码数,农户开具数,年开具不足20批的主体数,快检数,"
    "快检任务数' || "
    /* concat_ws skips NULLs: a township with no quota still gets its column. */
    "E'\\n' || coalesce(string_agg(concat_ws(',', lpad(code::text, 12, '0'), name, producers, "
    "certificates, item_codes, household_certificates, producers_under_20, rapid_tests, "
    "coalesce(rapid_test_quota::text, '')), E'\\n' ORDER BY code), '') || E'\\n' FROM rows";

typedef struct stats_ctx {
	ac_req *r;
	int csv;
} stats_ctx;

static void on_stats(void *data, const ac_db_result *res, int err, const char *msg)
{
	stats_ctx *ctx = data;
	ac_req *r = ctx->r;

	if (err != 0) {
		ac_log_error("stats", "could not compute statistics: %s id=%s", msg, r->id_str);
		ac_req_unavailable(r);
	} else if (ctx->csv) {
		ac_req_respond(r, 200, "text/csv; charset=utf-8", ac_db_get(res, 0, 1),
			       ac_db_getlen(res, 0, 1));
	} else {
		ac_req_respond(r, 200, "application/json; charset=utf-8", ac_db_get(res, 0, 0),
			       ac_db_getlen(res, 0, 0));
	}
	free(ctx);
	ac_req_unref(r);
}

static void stats_authed(ac_req *r, const ac_principal *p)
{
	ac_app *app = r->app;
	char from[24], to[24], lo[24], hi[24], fmt[8];
	const char *values[4];
	stats_ctx *ctx;
	time_t now = time(NULL) + 8 * 3600;
	struct tm tm;

	if (!ac_perm_is_regulator(p)) {
		ac_req_error(r, 403, "forbidden", "statistics are for regulators",
			     "统计报表仅供监管人员查看");
		return;
	}
	gmtime_r(&now, &tm);
	if (ac_req_query_param(r, "from", from, sizeof(from)) == NULL)
		snprintf(from, sizeof(from), "%04d-01-01", tm.tm_year + 1900);
	if (ac_req_query_param(r, "to", to, sizeof(to)) == NULL)
		snprintf(to, sizeof(to), "%04d-01-01", tm.tm_year + 1901);
	if (!ac_check_date(from) || !ac_check_date(to) || strcmp(from, to) >= 0 ||
	    atoi(to) - atoi(from) > 3) {
		ac_req_error(r, 400, "invalid_period",
			     "from and to are dates YYYY-MM-DD, from before to, at most 3 years",
			     "统计时段格式错误（YYYY-MM-DD，最长3年）");
		return;
	}
	ac_perm_range(p, lo, hi);
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ctx->r = r;
	ctx->csv =
	    ac_req_query_param(r, "format", fmt, sizeof(fmt)) != NULL && strcmp(fmt, "csv") == 0;
	values[0] = from;
	values[1] = to;
	values[2] = lo;
	values[3] = hi;
	ac_req_ref(r);
	if (ac_db_query(app->db, stats_sql, 4, values, NULL, on_stats, ctx) != 0) {
		free(ctx);
		ac_req_unavailable(r);
		ac_req_unref(r);
	}
}

void ac_handle_stats(ac_req *r)
{
	ac_auth(r, stats_authed);
}
