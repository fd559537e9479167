/*
 * GET /metrics: the Prometheus text format (0.0.4). Each module writes its
 * own counts (ac_http_metrics, ac_db_metrics, ac_issuer_metrics,
 * ac_scanlog_metrics); print jobs by printer and state come from the
 * database (the last day's, every instance's), so that a scrape says what
 * CUPS did whichever instance asked. When the database does not answer, the
 * rest is still sent, with agricert_print_jobs_up 0.
 *
 * Who may scrape: a client on the host itself (a loopback address, and not
 * through a proxy: no X-Forwarded-For), or anyone sending the configured
 * metrics_token as a bearer token. Others get 404, as if there were no such
 * path: the counts say how busy the service is, nothing for the public.
 */
#include <string.h>
#include <strings.h>

#include "ac_app.h"
#include "ac_handler.h"
#include "ac_handlers.h"
#include "ac_log.h"
#include "ac_metrics.h"

#define TEXT_FORMAT "text/plain; version=0.0.4; charset=utf-8"

static int is_loopback(const char *peer)
{
	return strncmp(peer, "127.", 4) == 0 || strcmp(peer, "::1") == 0 ||
	       strncmp(peer, "::ffff:127.", 11) == 0;
}

/* Compares in time that depends on the lengths only. */
static int same_secret(const char *a, const char *b)
{
	size_t n = strlen(a);
	unsigned char d = n != strlen(b);

	for (size_t i = 0; i < n && b[i] != '\0'; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static int may_scrape(ac_req *r)
{
	const char *token = ac_app_of(r)->cfg.metrics_token;
	const char *auth = r->authorization;

	if (!r->forwarded && is_loopback(r->peer))
		return 1;
	return token != NULL && *token != '\0' && auth != NULL &&
	       strncasecmp(auth, "Bearer ", 7) == 0 && same_secret(auth + 7, token);
}

static void write_modules(ac_app *app, ac_buf *b)
{
	ac_http_metrics(app->http, b);
	ac_db_metrics(app->db, b);
	ac_issuer_metrics(app->issuer, b);
	ac_scanlog_metrics(app->scanlog, b);
	ac_metrics_head(b, "agricert_print_work_in_progress", "gauge",
			"Labels being rendered or handed to CUPS by this instance");
	ac_metrics_value(b, "agricert_print_work_in_progress", "", ac_printq_busy(app->printq));
}

static void print_job_rows(ac_buf *b, const ac_db_result *res)
{
	int printer = ac_db_col(res, "printer_id");
	int state = ac_db_col(res, "state");
	int n = ac_db_col(res, "n");

	ac_metrics_head(b, "agricert_print_jobs", "gauge",
			"Print jobs of the last 24 hours, by printer and state (every instance)");
	for (int i = 0; i < ac_db_rows(res); i++) {
		ac_buf_puts(b, "agricert_print_jobs{printer=\"");
		ac_metrics_label(b, ac_db_get(res, i, printer));
		ac_buf_puts(b, "\",state=\"");
		ac_metrics_label(b, ac_db_get(res, i, state));
		ac_buf_printf(b, "\"} %s\n", ac_db_get(res, i, n));
	}
}

static void respond(ac_req *r, const ac_db_result *res)
{
	ac_buf b;

	ac_buf_init(&b);
	write_modules(ac_app_of(r), &b);
	if (res != NULL)
		print_job_rows(&b, res);
	ac_metrics_head(&b, "agricert_print_jobs_up", "gauge",
			"Whether the database answered for agricert_print_jobs");
	ac_metrics_value(&b, "agricert_print_jobs_up", "", res != NULL);
	if (ac_buf_ok(&b))
		ac_req_respond(r, 200, TEXT_FORMAT, b.data, b.len);
	else
		ac_req_nomem(r);
	ac_buf_free(&b);
}

static void on_print_jobs(ac_req *r, const ac_db_result *res)
{
	respond(r, res);
}

static int print_jobs_failed(ac_req *r, const char *sqlstate, const char *msg)
{
	ac_log_warn("http", "could not count print jobs for /metrics: %s id=%s", msg, r->id_str);
	respond(r, NULL);
	return 1;
}

static void handle_metrics(ac_req *r)
{
	if (!may_scrape(r)) {
		ac_req_not_found(r, "no such page", "没有这个页面");
		return;
	}
	r->on_db_error = print_jobs_failed;
	ac_req_query(r,
		     "SELECT printer_id, state, count(*) AS n FROM print_job "
		     "WHERE updated_at > now() - interval '1 day' GROUP BY 1, 2 ORDER BY 1, 2",
		     0, NULL, on_print_jobs);
}

static const ac_route routes[] = {
	AC_ROUTE("GET", "/metrics", handle_metrics),
};

AC_ROUTE_TABLE(ac_metrics_routes, routes);
