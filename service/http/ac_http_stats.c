/*
 * The server's counts (ac_http-server.h): requests by route and status and
 * their latency, kept in the server and written for GET /metrics. Updated on
 * the loop thread only, with increments: a response costs a look-up of its
 * route (a pointer compare per route table) and a histogram bucket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_http-server.h"

/* The statuses counted one by one; anything else counts as "other". */
static const int statuses[] = { 200, 201, 202, 204, 206, 301, 302, 304, 400, 401,
				403, 404, 405, 406, 409, 410, 411, 413, 414, 415,
				416, 417, 422, 429, 431, 500, 502, 503, 504 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))

struct ac_http_stat {
	const char *method;
	const char *route;
	uint64_t status[NSTATUS + 1];
	ac_hist latency;
};

static int status_slot(int status)
{
	for (size_t i = 0; i < NSTATUS; i++) {
		if (statuses[i] == status)
			return (int)i;
	}
	return NSTATUS;
}

static size_t count_routes(const ac_http_opts *o)
{
	size_t n = 0;

	for (size_t t = 0; o->routes != NULL && o->routes[t] != NULL; t++)
		n += o->routes[t]->n;
	return n;
}

int ac_http_stats_init(ac_http *http)
{
	const ac_http_opts *o = &http->opts;
	size_t n = count_routes(o);
	size_t k = 0;

	http->stats = calloc(n + 3, sizeof(*http->stats));
	if (http->stats == NULL)
		return -1;
	http->nroutes = n;
	for (size_t t = 0; o->routes != NULL && o->routes[t] != NULL; t++) {
		for (size_t i = 0; i < o->routes[t]->n; i++, k++) {
			http->stats[k].method = o->routes[t]->routes[i].method;
			http->stats[k].route = o->routes[t]->routes[i].pattern;
		}
	}
	/* The extra slots: no route matched (an API 404 or 405, a refused
	 * request), and what the static files or h2o itself answered. */
	http->stats[n + AC_HTTP_UNMATCHED].method = "";
	http->stats[n + AC_HTTP_UNMATCHED].route = "(none)";
	http->stats[n + AC_HTTP_STATIC].method = "";
	http->stats[n + AC_HTTP_STATIC].route = "(static)";
	for (size_t i = 0; i < n + 3; i++)
		ac_hist_init(&http->stats[i].latency, ac_hist_seconds, ac_hist_seconds_n);
	return 0;
}

static ac_http_stat *stat_of(ac_http *http, const ac_route *route, int extra)
{
	size_t base = 0;

	if (route == NULL)
		return &http->stats[http->nroutes +
				    (extra == AC_HTTP_STATIC ? AC_HTTP_STATIC : AC_HTTP_UNMATCHED)];
	for (size_t t = 0; http->opts.routes[t] != NULL; t++) {
		const ac_route_table *table = http->opts.routes[t];

		if (route >= table->routes && route < table->routes + table->n)
			return &http->stats[base + (size_t)(route - table->routes)];
		base += table->n;
	}
	return &http->stats[http->nroutes + AC_HTTP_UNMATCHED];
}

void ac_http_count(ac_http *http, const ac_route *route, int extra, int status, double seconds)
{
	ac_http_stat *s;

	if (http->stats == NULL)
		return;
	s = stat_of(http, route, extra);
	s->status[status_slot(status)]++;
	ac_hist_observe(&s->latency, seconds);
}

static void put_labels(ac_buf *b, const ac_http_stat *s)
{
	ac_buf_puts(b, "method=\"");
	ac_metrics_label(b, s->method);
	ac_buf_puts(b, "\",route=\"");
	ac_metrics_label(b, s->route);
	ac_buf_puts(b, "\"");
}

/* Writes the lines of one family for every slot that has seen a request. */
static void write_family(const ac_http *http, ac_buf *b, int histogram)
{
	ac_buf labels;

	ac_buf_init(&labels);
	for (size_t i = 0; i < http->nroutes + 3; i++) {
		const ac_http_stat *s = &http->stats[i];

		if (s->route == NULL || s->latency.count == 0)
			continue;
		labels.len = 0;
		put_labels(&labels, s);
		ac_buf_add(&labels, "", 1);
		if (!ac_buf_ok(&labels))
			break;
		if (histogram) {
			ac_metrics_hist(b, "agricert_http_request_duration_seconds", labels.data,
					&s->latency);
			continue;
		}
		for (size_t k = 0; k <= NSTATUS; k++) {
			char more[32];

			if (s->status[k] == 0)
				continue;
			ac_buf_printf(b, "agricert_http_requests_total{%s,", labels.data);
			if (k < NSTATUS)
				snprintf(more, sizeof(more), "status=\"%d\"", statuses[k]);
			else
				snprintf(more, sizeof(more), "status=\"other\"");
			ac_buf_printf(b, "%s} %llu\n", more, (unsigned long long)s->status[k]);
		}
	}
	ac_buf_free(&labels);
}

void ac_http_metrics(const ac_http *http, ac_buf *b)
{
	static const char *early[] = { "400", "413", "414", "431" };

	if (http == NULL || http->stats == NULL)
		return;
	ac_metrics_head(b, "agricert_http_requests_total", "counter",
			"HTTP requests answered, by route pattern and status");
	write_family(http, b, 0);
	ac_metrics_head(b, "agricert_http_request_duration_seconds", "histogram",
			"Time from a request's arrival to its answer, by route pattern");
	write_family(http, b, 1);
	ac_metrics_head(b, "agricert_http_requests_in_flight", "gauge",
			"Requests not yet answered");
	ac_metrics_value(b, "agricert_http_requests_in_flight", "", http->active);
	ac_metrics_head(b, "agricert_http_connections", "gauge", "Open client connections");
	ac_metrics_value(b, "agricert_http_connections", "", http->conns);
	ac_metrics_head(b, "agricert_http_refused_early_total", "counter",
			"Requests refused before routing (malformed, too long, body too large)");
	for (int i = 0; i < 4; i++) {
		char labels[32];

		snprintf(labels, sizeof(labels), "status=\"%s\"", early[i]);
		ac_metrics_value(b, "agricert_http_refused_early_total", labels,
				 (double)http->early[i]);
	}
}

void ac_http_stats_free(ac_http *http)
{
	free(http->stats);
	http->stats = NULL;
}
