/*
 * The scan log, written in batches: see ac_scanlog.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "ac_buf.h"
#include "ac_error.h"
#include "ac_closer.h"
#include "ac_log.h"
#include "ac_metrics.h"
#include "ac_scanlog.h"

typedef struct entry {
	int64_t at_us; /* microseconds since the epoch */
	uint64_t serial;
	int item;
	const char *verdict;
	int market_id;
	int subject_id;
	int64_t inspection_id;
	char peer[48];
} entry;

struct ac_scanlog {
	uv_loop_t *loop;
	ac_db *db;
	uv_timer_t timer;
	entry *pending;
	int npending;
	int cap;
	int writing; /* rows in the statement in flight */
	int64_t dropped;
	/* Counts for GET /metrics: scans by verdict (static strings), clone
	 * suspicions shown. */
	struct {
		const char *verdict;
		uint64_t n;
	} verdicts[AC_SCANLOG_VERDICTS];
	uint64_t clones;
	int freed; /* ac_scanlog_close was called: free once idle */
	int timer_closed;
	ac_closer close;
};

static void maybe_free(ac_scanlog *log)
{
	ac_closer c = log->close;

	if (!log->freed || !log->timer_closed || log->writing)
		return;
	if (log->npending > 0)
		ac_log_warn("scanlog", "%d scans were not logged at exit", log->npending);
	free(log->pending);
	free(log);
	ac_closer_finish(c);
}

/* The arguments of record_scans() (sql/0010_inspections.sql), one array each. */
enum { S_AT, S_SERIAL, S_ITEM, S_VERDICT, S_MARKET, S_SUBJECT, S_PEER, S_INSPECTION, S_COUNT };

static const ac_db_param scan_args[S_COUNT] = {
	[S_AT] = { "p_at", "timestamptz[]" }, [S_SERIAL] = { "p_serial", "bigint[]" },
	[S_ITEM] = { "p_item", "int[]" },     [S_VERDICT] = { "p_verdict", "text[]" },
	[S_MARKET] = { "p_market", "int[]" }, [S_SUBJECT] = { "p_subject", "int[]" },
	[S_PEER] = { "p_peer", "text[]" },    [S_INSPECTION] = { "p_inspection", "bigint[]" },
};

static void start_write(ac_scanlog *log);

static void on_timer(uv_timer_t *t)
{
	start_write(t->data);
}

int ac_scanlog_new(uv_loop_t *loop, ac_db *db, ac_scanlog **out)
{
	ac_scanlog *log = calloc(1, sizeof(*log));

	if (log == NULL)
		return -ENOMEM;
	log->loop = loop;
	log->db = db;
	uv_timer_init(loop, &log->timer);
	log->timer.data = log;
	*out = log;
	return 0;
}

/* Counts ev by its verdict (the first AC_SCANLOG_VERDICTS verdicts seen). */
static void count_scan(ac_scanlog *log, const ac_scan_event *ev)
{
	for (int i = 0; i < AC_SCANLOG_VERDICTS && ev->verdict != NULL; i++) {
		if (log->verdicts[i].verdict == NULL)
			log->verdicts[i].verdict = ev->verdict;
		if (log->verdicts[i].verdict == ev->verdict ||
		    strcmp(log->verdicts[i].verdict, ev->verdict) == 0) {
			log->verdicts[i].n++;
			break;
		}
	}
	log->clones += ev->clone_suspected != 0;
}

void ac_scanlog_metrics(const ac_scanlog *log, ac_buf *b)
{
	if (log == NULL)
		return;
	ac_metrics_head(b, "agricert_scans_total", "counter", "Scans answered, by verdict");
	for (int i = 0; i < AC_SCANLOG_VERDICTS && log->verdicts[i].verdict != NULL; i++) {
		ac_buf labels;

		ac_buf_init(&labels);
		ac_buf_puts(&labels, "verdict=\"");
		ac_metrics_label(&labels, log->verdicts[i].verdict);
		ac_buf_add(&labels, "\"", 2);
		if (ac_buf_ok(&labels))
			ac_metrics_value(b, "agricert_scans_total", labels.data,
					 (double)log->verdicts[i].n);
		ac_buf_free(&labels);
	}
	ac_metrics_head(b, "agricert_scan_clone_suspicions_total", "counter",
			"Genuine scans answered with a clone suspicion (a copied label)");
	ac_metrics_value(b, "agricert_scan_clone_suspicions_total", "", (double)log->clones);
	ac_metrics_head(b, "agricert_scanlog_pending", "gauge", "Scans not yet written");
	ac_metrics_value(b, "agricert_scanlog_pending", "", log->npending);
	ac_metrics_head(b, "agricert_scanlog_dropped_total", "counter",
			"Scans not logged: the backlog was full");
	ac_metrics_value(b, "agricert_scanlog_dropped_total", "", (double)log->dropped);
}

void ac_scanlog_add(ac_scanlog *log, const ac_scan_event *ev)
{
	struct timeval tv;
	entry *e;

	if (log == NULL || log->freed)
		return;
	count_scan(log, ev);
	if (log->npending >= AC_SCANLOG_MAX) {
		if (log->dropped++ % 10000 == 0)
			ac_log_warn("scanlog", "scan log backlog full: %lld scans not logged",
				    (long long)log->dropped);
		return;
	}
	if (log->npending == log->cap) {
		int cap = log->cap ? log->cap * 2 : AC_SCANLOG_BATCH;
		entry *p = realloc(log->pending, (size_t)cap * sizeof(*p));

		if (p == NULL) {
			log->dropped++;
			return;
		}
		log->pending = p;
		log->cap = cap;
	}
	gettimeofday(&tv, NULL);
	e = &log->pending[log->npending++];
	e->at_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	e->serial = ev->serial;
	e->item = ev->item;
	e->verdict = ev->verdict;
	e->market_id = ev->market_id;
	e->subject_id = ev->subject_id;
	e->inspection_id = ev->inspection_id;
	snprintf(e->peer, sizeof(e->peer), "%s", ev->peer ? ev->peer : "-");
	if (log->writing)
		return; /* the write in flight starts the next one */
	if (log->npending >= AC_SCANLOG_BATCH || log->close.closing)
		start_write(log);
	else if (!uv_is_active((uv_handle_t *)&log->timer))
		uv_timer_start(&log->timer, on_timer, AC_SCANLOG_DELAY_MS, 0);
}

static void on_written(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_scanlog *log = data;
	int n = log->writing;

	(void)res;
	log->writing = 0;
	if (err != 0) {
		/* Keep the rows (they are still at the front) and try again later;
		 * when stopping there is no later. */
		ac_log_error("scanlog", "could not write %d scans: %s", n, msg);
		if (log->close.closing)
			log->npending = 0;
		else if (!uv_is_active((uv_handle_t *)&log->timer))
			uv_timer_start(&log->timer, on_timer, 1000, 0);
	} else {
		memmove(log->pending, log->pending + n,
			(size_t)(log->npending - n) * sizeof(entry));
		log->npending -= n;
	}
	if (log->npending >= AC_SCANLOG_BATCH || (log->npending > 0 && log->close.closing))
		start_write(log);
	else if (log->npending > 0 && !uv_is_active((uv_handle_t *)&log->timer))
		uv_timer_start(&log->timer, on_timer, AC_SCANLOG_DELAY_MS, 0);
	maybe_free(log);
}

static void add_row(ac_buf *arr, const entry *e)
{
	time_t secs = (time_t)(e->at_us / 1000000);
	struct tm tm;
	char when[48];

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	ac_buf_printf(&arr[S_AT], "%s\"%s.%06d+00\"", arr[S_AT].len > 1 ? "," : "", when,
		      (int)(e->at_us % 1000000));
	ac_buf_pg_next_int(&arr[S_SERIAL], (long long)e->serial, 1);
	ac_buf_pg_next_int(&arr[S_ITEM], e->item, 1);
	ac_buf_pg_next(&arr[S_VERDICT], e->verdict);
	ac_buf_pg_next_int(&arr[S_MARKET], e->market_id, 1);
	ac_buf_pg_next_int(&arr[S_SUBJECT], e->subject_id, 1);
	ac_buf_pg_next(&arr[S_PEER], strcmp(e->peer, "-") == 0 ? NULL : e->peer);
	ac_buf_pg_next_int(&arr[S_INSPECTION], (long long)e->inspection_id, 1);
}

static void start_write(ac_scanlog *log)
{
	ac_buf arr[S_COUNT];
	ac_db_call call;
	int n = log->npending < AC_SCANLOG_BATCH ? log->npending : AC_SCANLOG_BATCH;
	int ok;

	uv_timer_stop(&log->timer);
	if (log->writing || n == 0)
		return;
	ac_db_arrays_open(arr, S_COUNT);
	for (int i = 0; i < n; i++)
		add_row(arr, &log->pending[i]);
	ac_db_call_init(&call, "record_scans");
	ok = ac_db_arrays_args(&call, scan_args, arr, S_COUNT) == 0;
	ac_db_arg_int(&call, "scan_limit", "int", AC_CLONE_SCAN_LIMIT);
	ac_db_arg_int(&call, "max_kmh", "float8", AC_CLONE_MAX_KMH);
	log->writing = ok ? n : 0;
	if (!ok) {
		ac_log_error("scanlog", "out of memory writing %d scans", n);
	} else if (ac_db_query_call(log->db, NULL, &call, on_written, log) != 0) {
		log->writing = 0;
		if (!log->close.closing)
			uv_timer_start(&log->timer, on_timer, 1000, 0);
	}
	ac_db_arrays_free(arr, S_COUNT);
}

void ac_scanlog_flush(ac_scanlog *log)
{
	if (log == NULL)
		return;
	log->close.closing = 1;
	start_write(log);
}

int ac_scanlog_busy(const ac_scanlog *log)
{
	return log == NULL ? 0 : log->npending;
}

static void on_timer_closed(uv_handle_t *h)
{
	ac_scanlog *log = h->data;

	log->timer_closed = 1;
	maybe_free(log);
}

void ac_scanlog_close(ac_scanlog *log, void (*cb)(void *data), void *data)
{
	if (ac_closer_none(log, cb, data))
		return;
	ac_closer_start(&log->close, cb, data);
	start_write(log);
	log->freed = 1;
	uv_close((uv_handle_t *)&log->timer, on_timer_closed);
}
