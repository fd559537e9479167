#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_arena.h"
#include "ac_buf.h"
#include "ac_certdb.h"
#include "ac_closer.h"
#include "ac_code.h"
#include "ac_cups.h"
#include "ac_cupsq.h"
#include "ac_db_call.h"
#include "ac_error.h"
#include "ac_label.h"
#include "ac_log.h"
#include "ac_printq.h"
#include "ac_printq_private.h"

#define MAX_FALLBACKS 3
/* Threads that hand rendered labels to CUPS (ac_cupsq.h). */
#define SUBMITTERS 4

/*
 * A job's labels: rendered in the uv thread pool (possibly before the
 * certificate is stored), then, once it is stored (committed), handed to
 * CUPS by a submission thread. Discarded instead when it was not stored.
 */
struct ac_print_work {
	uv_work_t work;
	ac_cupsq_item sub;
	ac_printq *pq;
	ac_arena arena; /* the label's texts and codes */
	int64_t job_id;
	ac_printer printer;
	ac_label_data data;
	unsigned char *doc; /* the rendered labels */
	size_t len;
	int rendered;  /* rendering ended (doc, or err) */
	int committed; /* stored as print job job_id: to CUPS once rendered */
	int discarded; /* not stored: dropped once rendered */
	int err;
	ac_label_problem why;
	ac_cups_error cerr;
	int cups_job_id;
	uint64_t t0;	/* committed */
	uint64_t since; /* the request */
	uint64_t t_rendered;
	uint64_t t_sent; /* handed to a submission thread */
	/* A calibration run instead of a job. */
	const char *calibration;
	void (*done)(void *arg, int err, int cups_job_id, const char *why);
	void *done_arg;
};

typedef struct ac_print_work print_work;

static void maybe_closed(ac_printq *pq);

static void on_cupsq_closed(void *data)
{
	ac_printq *pq = data;

	pq->cupsq_closed = 1;
	maybe_closed(pq);
}

static void maybe_closed(ac_printq *pq)
{
	ac_closer c = pq->close;

	if (!pq->close.closing || pq->busy > 0 || !pq->timer_closed || !pq->printers_closed)
		return;
	if (pq->cupsq != NULL) {
		ac_cupsq *q = pq->cupsq;

		pq->cupsq = NULL;
		ac_cupsq_close(q, on_cupsq_closed, pq);
		return;
	}
	if (!pq->cupsq_closed)
		return;
	ac_printq_unwatch_all(pq);
	ac_label_renderer_free(pq->renderer);
	ac_cups_conn_free(pq->poll_conn);
	free(pq);
	ac_closer_finish(c);
}

/* One unit of work ends: the queue may be closing. */
void ac_printq_work_done(ac_printq *pq)
{
	pq->busy--;
	maybe_closed(pq);
}

/* The arguments of print_jobs_record() (sql/0029), one array each. */
enum { R_ID, R_CUPS, R_STATE, R_REASON, R_FAULT, R_COUNT };

static const ac_db_param record_args[R_COUNT] = {
	[R_ID] = { "p_id", "bigint[]" },     [R_CUPS] = { "p_cups", "int[]" },
	[R_STATE] = { "p_state", "text[]" }, [R_REASON] = { "p_reason", "text[]" },
	[R_FAULT] = { "p_fault", "text[]" },
};

static void send_records(ac_printq *pq);

static void on_recorded(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_printq *pq = data;
	job_record *x = pq->recording;
	int n = 0;

	if (err != 0)
		ac_log_error("print", "could not record print jobs' states: %s", msg);
	pq->recording = NULL;
	while (x != NULL) {
		job_record *next = x->next;

		free(x);
		x = next;
		n++;
	}
	send_records(pq);
	pq->busy -= n;
	maybe_closed(pq);
}

/* Every state waiting, in one statement. */
static void send_records(ac_printq *pq)
{
	ac_buf p[R_COUNT];
	ac_db_call call;
	int r;

	if (pq->records == NULL || pq->recording != NULL)
		return;
	pq->recording = pq->records;
	pq->records = NULL;
	ac_db_arrays_open(p, R_COUNT);
	for (const job_record *x = pq->recording; x != NULL; x = x->next) {
		ac_buf_pg_next_int(&p[R_ID], x->job_id, 0);
		ac_buf_pg_next_int(&p[R_CUPS], x->cups_job_id, 1);
		ac_buf_pg_next(&p[R_STATE], x->state);
		ac_buf_pg_next(&p[R_REASON], x->has_reason ? x->reason : NULL);
		ac_buf_pg_next(&p[R_FAULT], x->fault);
	}
	ac_db_call_init(&call, "print_jobs_record");
	r = ac_db_arrays_args(&call, record_args, p, R_COUNT);
	if (r == 0)
		r = ac_db_query_call(pq->db, NULL, &call, on_recorded, pq);
	ac_db_arrays_free(p, R_COUNT);
	if (r != 0) {
		ac_log_error("print", "could not record print jobs' states: database unavailable");
		on_recorded(pq, NULL, 0, NULL);
	}
}

void ac_printq_record(ac_printq *pq, int64_t job_id, int cups_job_id, const char *state,
		      const char *reason, const char *fault)
{
	job_record *x = pq->records;

	while (x != NULL && x->job_id != job_id)
		x = x->next;
	if (x == NULL) {
		x = calloc(1, sizeof(*x));
		if (x == NULL) {
			ac_log_error("print",
				     "could not record print job %lld as %s: out of memory",
				     (long long)job_id, state);
			return;
		}
		x->job_id = job_id;
		x->next = pq->records;
		pq->records = x;
		pq->busy++;
	}
	if (cups_job_id > 0)
		x->cups_job_id = cups_job_id;
	snprintf(x->state, sizeof(x->state), "%s", state);
	snprintf(x->reason, sizeof(x->reason), "%s", reason ? reason : "");
	x->has_reason = reason != NULL;
	x->fault = fault;
	send_records(pq);
}

static void render(uv_work_t *req)
{
	print_work *w = req->data;
	const ac_printer *p = &w->printer;

	if (w->calibration != NULL)
		w->err = ac_label_render_calibration(w->pq->renderer, &p->label, w->calibration,
						     &w->doc, &w->len);
	else
		w->err = ac_label_render(w->pq->renderer, &p->label, &w->data, &w->doc, &w->len,
					 &w->why);
}

/* A submission thread: the rendered labels to CUPS over its kept connection. */
static void submit_labels(ac_cupsq_item *it, ac_cups_conn *conn)
{
	print_work *w = (print_work *)((char *)it - offsetof(print_work, sub));
	const ac_printer *p = &w->printer;
	char title[128];

	snprintf(title, sizeof(title), "%s %s", w->calibration ? "calibration" : "certificate",
		 w->calibration ? p->id : w->data.number);
	w->err = ac_cups_conn_submit(
	    conn, p->queue, title, p->label.lang == AC_LABEL_PDF ? p->media : NULL,
	    ac_label_lang_format(p->label.lang), w->doc, w->len, &w->cups_job_id, &w->cerr);
}

/* Why a job could not be printed, for print_job.reason, and its fault keyword. */
static const char *failure(const print_work *w, char *buf, size_t cap)
{
	if (w->err == AC_ETOOBIG) {
		snprintf(buf, cap,
			 "label too small: the %s does not fit a %dx%d mm label; use a larger one",
			 w->why.field ? w->why.field : "text", w->printer.label.size.width_mm,
			 w->printer.label.size.height_mm);
		return "label-too-small";
	}
	if (w->err == AC_EGLYPH) {
		snprintf(buf, cap, "no font has the character U+%04X in the %s", w->why.cp,
			 w->why.field ? w->why.field : "text");
		return "unprintable-character";
	}
	snprintf(buf, cap, "%s", w->cerr.message[0] ? w->cerr.message : ac_strerror(w->err));
	return w->err == AC_EPRINTER || w->err == AC_ENOTFOUND
		   ? ac_cups_error_fault(w->err, &w->cerr)
		   : "printer-error";
}

static void free_work(print_work *w)
{
	ac_printq *pq = w->pq;

	free(w->doc);
	ac_arena_clear(&w->arena);
	free(w);
	ac_printq_work_done(pq);
}

/* The loop thread, once CUPS has the labels or they could not be printed. */
static void finish(print_work *w)
{
	ac_printq *pq = w->pq;
	char why[384];
	const char *fault = NULL;
	uint64_t now = ac_now_ns();

	if (w->err != 0)
		fault = failure(w, why, sizeof(why));
	if (w->done != NULL) {
		w->done(w->done_arg, w->err, w->cups_job_id, w->err ? why : NULL);
	} else if (w->err == 0) {
		ac_log_info("print",
			    "job %lld at CUPS as %s/%d after %.1f ms (%.1f ms since the request: "
			    "rendered at %.1f, stored at %.1f, submitted from %.1f ms)",
			    (long long)w->job_id, w->printer.queue, w->cups_job_id,
			    (now - w->t0) / 1e6, (now - w->since) / 1e6,
			    (w->t_rendered - w->since) / 1e6, (w->t0 - w->since) / 1e6,
			    (w->t_sent - w->since) / 1e6);
		ac_printq_watch(pq, w->job_id, w->cups_job_id, w->printer.queue);
		ac_printq_record(pq, w->job_id, w->cups_job_id, "pending", NULL, NULL);
	} else {
		ac_log_error("print", "could not print job %lld on %s: %s", (long long)w->job_id,
			     w->printer.queue, why);
		ac_printq_record(pq, w->job_id, 0, "failed", why, fault);
	}
	free_work(w);
}

static void after_cups(ac_cupsq_item *it)
{
	finish((print_work *)((char *)it - offsetof(print_work, sub)));
}

/* Rendered and stored: to CUPS on a submission thread (or failed). */
static void proceed(print_work *w)
{
	if (w->err != 0) {
		finish(w);
		return;
	}
	w->t_sent = ac_now_ns();
	w->sub.run = submit_labels;
	w->sub.done = after_cups;
	ac_cupsq_push(w->pq->cupsq, &w->sub);
}

static void after_render(uv_work_t *req, int status)
{
	print_work *w = req->data;

	if (status != 0)
		w->err = status;
	w->rendered = 1;
	w->t_rendered = ac_now_ns();
	if (w->discarded)
		free_work(w);
	else if (w->committed)
		proceed(w);
}

/* The label's texts, in the work item's arena. Returns 0 or -ENOMEM. */
static int label_texts(print_work *w, const ac_cert *c, const char *public_url)
{
	ac_arena *a = &w->arena;
	char qty[64];
	char number[24];
	char **codes;
	int fail;

	ac_cert_number(c->serial, number);
	ac_quantity_text(c->quantity_milli, qty, sizeof(qty));
	w->data.product = ac_arena_strdup(a, c->product_name ? c->product_name : "");
	w->data.quantity = ac_arena_printf(a, "%s %s", qty, ac_unit_name_zh(c->unit));
	w->data.origin = ac_arena_strdup(a, c->origin ? c->origin : "");
	w->data.issuer = ac_arena_strdup(a, c->issuer_name ? c->issuer_name : "");
	/* The legal 联系方式: in full on the label (the public scan page masks it). */
	w->data.contact = ac_arena_strdup(a, c->contact ? c->contact : "");
	w->data.date = ac_arena_strndup(a, c->issued_at, 10);
	w->data.number = ac_arena_strdup(a, number);
	w->data.promise = ac_style_promise_zh(c->style);
	w->data.basis = ac_basis_name_zh(c->basis);
	codes = ac_arena_alloc(a, (size_t)(c->labels > 0 ? c->labels : 1) * sizeof(char *));
	fail = !w->data.product || !w->data.quantity || !w->data.origin || !w->data.issuer ||
	       !w->data.contact || !w->data.date || !w->data.number || !codes;
	for (int i = 0; !fail && i < c->labels; i++) {
		char url[512];

		fail = c->codes[i] == NULL ||
		       ac_code_url(public_url, c->codes[i], url, sizeof(url)) < 0 ||
		       (codes[i] = ac_arena_strdup(a, url)) == NULL;
	}
	w->data.codes = (const char *const *)codes;
	w->data.ncodes = (size_t)c->labels;
	return fail ? -ENOMEM : 0;
}

static void queue_render(ac_printq *pq, print_work *w)
{
	w->work.data = w;
	pq->busy++;
	if (uv_queue_work(pq->loop, &w->work, render, after_render) != 0)
		after_render(&w->work, -ENOMEM);
}

/* A work item for c's labels on its printer, not queued; NULL when the printer
 * is unknown or memory ran out (*why says which). */
static print_work *new_work(ac_printq *pq, const ac_cert *c, uint64_t since_ns, const char **why)
{
	const ac_printer *p = ac_printers_find(pq->printers, c->printer_id);
	print_work *w;

	*why = p == NULL ? "no such printer" : "out of memory";
	if (p == NULL || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	ac_arena_init(&w->arena);
	w->pq = pq;
	w->job_id = c->print_job_id;
	w->printer = *p;
	w->since = since_ns ? since_ns : ac_now_ns();
	if (label_texts(w, c, pq->cfg->public_url) != 0) {
		ac_arena_clear(&w->arena);
		free(w);
		return NULL;
	}
	return w;
}

void ac_printq_submit(ac_printq *pq, const ac_cert *c, uint64_t since_ns)
{
	print_work *w;
	const char *why;

	if (pq == NULL) {
		/* The service is stopping: the job stays queued for the next start. */
		ac_log_warn("print", "print job %lld left queued: stopping",
			    (long long)c->print_job_id);
		return;
	}
	w = new_work(pq, c, since_ns, &why);
	if (w == NULL) {
		if (strcmp(why, "out of memory") == 0)
			ac_log_error("print", "could not prepare print job %lld: out of memory",
				     (long long)c->print_job_id);
		ac_printq_record(pq, c->print_job_id, 0, "failed", why,
				 strcmp(why, "out of memory") == 0 ? "printer-error" : "no-queue");
		return;
	}
	w->committed = 1;
	w->t0 = ac_now_ns();
	queue_render(pq, w);
}

ac_print_work *ac_printq_render(ac_printq *pq, const ac_cert *c, uint64_t since_ns)
{
	print_work *w;
	const char *why;

	if (pq == NULL || pq->close.closing || c->printer_id == NULL)
		return NULL;
	w = new_work(pq, c, since_ns, &why);
	if (w != NULL)
		queue_render(pq, w);
	return w;
}

void ac_printq_commit(ac_printq *pq, ac_print_work *w, const ac_cert *c, uint64_t since_ns)
{
	if (w == NULL) {
		ac_printq_submit(pq, c, since_ns);
		return;
	}
	w->job_id = c->print_job_id;
	w->committed = 1;
	w->t0 = ac_now_ns();
	if (w->rendered)
		proceed(w);
}

void ac_printq_discard(ac_print_work *w)
{
	if (w == NULL)
		return;
	w->discarded = 1;
	if (w->rendered)
		free_work(w);
}

int ac_printq_calibrate(ac_printq *pq, const char *printer, const char *code,
			void (*cb)(void *arg, int err, int cups_job_id, const char *why), void *arg)
{
	const ac_printer *p = pq ? ac_printers_find(pq->printers, printer) : NULL;
	print_work *w;

	if (p == NULL)
		return AC_ENOTFOUND;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	ac_arena_init(&w->arena);
	w->pq = pq;
	w->printer = *p;
	w->calibration = ac_arena_strdup(&w->arena, code);
	w->done = cb;
	w->done_arg = arg;
	if (w->calibration == NULL) {
		ac_arena_clear(&w->arena);
		free(w);
		return -ENOMEM;
	}
	w->t0 = ac_now_ns();
	w->since = w->t0;
	w->committed = 1;
	queue_render(pq, w);
	return 0;
}

const ac_printer *ac_printq_printer(const ac_printq *pq, const char *id)
{
	return pq != NULL ? ac_printers_find(pq->printers, id) : NULL;
}

int ac_printq_check_text(const ac_printq *pq, const char *s, uint32_t *missing)
{
	return pq != NULL ? ac_label_check_text(pq->renderer, s, missing) : 0;
}

void ac_printq_refresh_printers(ac_printq *pq, void (*cb)(void *arg), void *arg)
{
	if (pq == NULL) {
		cb(arg);
		return;
	}
	ac_printers_refresh(pq->printers, cb, arg);
}

/* Jobs left queued. */

static void on_queued(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_printq *pq = data;

	pq->busy--;
	if (err != 0)
		ac_log_warn("print", "could not look for unsent print jobs: %s", msg);
	for (int i = 0; err == 0 && !pq->close.closing && i < ac_db_rows(res); i++) {
		ac_cert c;

		if (ac_certdb_read(res, i, &c) == 0) {
			ac_log_info("print", "resubmitting print job %lld left queued",
				    (long long)c.print_job_id);
			ac_printq_submit(pq, &c, 0);
		}
		ac_cert_clear(&c);
	}
	maybe_closed(pq);
}

void ac_printq_resubmit_queued(ac_printq *pq)
{
	pq->busy++;
	if (ac_db_query(pq->db, "SELECT * FROM print_jobs_left_queued()", 0, NULL, NULL, on_queued,
			pq) != 0)
		on_queued(pq, NULL, AC_EDB, "database unavailable");
}

/* The renderer with the label font and the fallbacks of font_fallback. */
static int new_renderer(const ac_config *cfg, ac_label_renderer **out)
{
	char list[2048];
	const char *paths[MAX_FALLBACKS + 1] = { 0 };
	int n = 0;

	snprintf(list, sizeof(list), "%s", cfg->font_fallback ? cfg->font_fallback : "");
	for (char *save = NULL, *tok = strtok_r(list, ":", &save); tok && n < MAX_FALLBACKS;
	     tok = strtok_r(NULL, ":", &save))
		paths[n++] = tok;
	return ac_label_renderer_new(cfg->font, paths, out);
}

int ac_printq_new(uv_loop_t *loop, ac_db *db, const ac_config *cfg, ac_printq **out)
{
	ac_printq *pq = calloc(1, sizeof(*pq));
	int r;

	*out = NULL;
	if (pq == NULL)
		return -ENOMEM;
	pq->loop = loop;
	pq->db = db;
	pq->cfg = cfg;
	r = new_renderer(cfg, &pq->renderer);
	if (r == 0)
		r = ac_cupsq_new(loop, cfg->cups_server, SUBMITTERS, &pq->cupsq);
	if (r == 0)
		r = ac_cups_conn_new(cfg->cups_server, &pq->poll_conn);
	if (r == 0)
		r = ac_printers_new(loop, db, cfg, &pq->printers);
	if (r != 0) {
		ac_cupsq_close(pq->cupsq, NULL, NULL);
		ac_cups_conn_free(pq->poll_conn);
		ac_label_renderer_free(pq->renderer);
		free(pq);
		return r;
	}
	if (ac_label_renderer_fonts(pq->renderer) == 1)
		ac_log_warn("print",
			    "no fallback font found (%s): characters the label font "
			    "lacks refuse the label",
			    cfg->font_fallback);
	uv_timer_init(loop, &pq->timer);
	pq->timer.data = pq;
	uv_timer_start(&pq->timer, ac_printq_on_tick, AC_PRINTQ_TICK_MS, AC_PRINTQ_TICK_MS);
	*out = pq;
	return 0;
}

int ac_printq_busy(const ac_printq *pq)
{
	return pq != NULL ? pq->busy : 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	ac_printq *pq = h->data;

	pq->timer_closed = 1;
	maybe_closed(pq);
}

static void on_printers_closed(void *data)
{
	ac_printq *pq = data;

	pq->printers_closed = 1;
	maybe_closed(pq);
}

void ac_printq_close(ac_printq *pq, void (*cb)(void *data), void *data)
{
	if (ac_closer_none(pq, cb, data))
		return;
	ac_closer_start(&pq->close, cb, data);
	uv_timer_stop(&pq->timer);
	uv_close((uv_handle_t *)&pq->timer, on_timer_closed);
	ac_printers_close(pq->printers, on_printers_closed, pq);
}
