#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_arena.h"
#include "ac_certdb.h"
#include "ac_closer.h"
#include "ac_code.h"
#include "ac_cups.h"
#include "ac_error.h"
#include "ac_label.h"
#include "ac_log.h"
#include "ac_printq.h"

#define WATCH_TICK_MS 1000
#define MAX_FALLBACKS 3

/* A job at CUPS, watched until it finishes or its time is up. */
typedef struct watch {
	struct watch *next;
	int64_t job_id;
	int cups_job_id;
	uint64_t deadline_ms;
	char queue[128];
	int known;	   /* st holds an answer */
	ac_job_status st;  /* the last answer */
	const char *fault; /* ac_cups_fault of it, "cups-down" when CUPS did not answer */
	char state[16];	   /* as last recorded in print_job */
	const char *recorded_fault;
} watch;

struct ac_printq {
	uv_loop_t *loop;
	ac_db *db;
	const ac_config *cfg;
	ac_label_renderer *renderer;
	ac_printers *printers;
	int printers_closed;
	int busy;
	int polling;
	watch *watching;
	uv_timer_t timer;
	int timer_closed;
	ac_closer close;
};

typedef struct print_work {
	uv_work_t work;
	ac_printq *pq;
	ac_arena arena; /* the label's texts and codes */
	int64_t job_id;
	ac_printer printer;
	ac_label_data data;
	int err;
	ac_label_problem why;
	ac_cups_error cerr;
	int cups_job_id;
	uint64_t t0;
	uint64_t since; /* the request */
	/* A calibration run instead of a job. */
	const char *calibration;
	void (*done)(void *arg, int err, int cups_job_id, const char *why);
	void *done_arg;
} print_work;

/* A timed-out job: its state asked of CUPS, and cancelled if still waiting. */
typedef struct expiry_work {
	uv_work_t work;
	ac_printq *pq;
	watch w;
	ac_job_status st;
	ac_cups_error cerr;
	int err;
	int cancelled;
} expiry_work;

/* Every watched job asked of CUPS, once a tick. */
typedef struct poll_item {
	int64_t job_id;
	int cups_job_id;
	char queue[128];
	int err;
	ac_cups_error cerr;
	ac_job_status st;
} poll_item;

typedef struct poll_work {
	uv_work_t work;
	ac_printq *pq;
	int n;
	poll_item items[];
} poll_work;

static void maybe_closed(ac_printq *pq)
{
	ac_closer c = pq->close;

	if (!pq->close.closing || pq->busy > 0 || !pq->timer_closed || !pq->printers_closed)
		return;
	while (pq->watching != NULL) {
		watch *next = pq->watching->next;

		free(pq->watching);
		pq->watching = next;
	}
	ac_label_renderer_free(pq->renderer);
	free(pq);
	ac_closer_finish(c);
}

/* One unit of work ends: the queue may be closing. */
static void work_done(ac_printq *pq)
{
	pq->busy--;
	maybe_closed(pq);
}

static void on_recorded(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_printq *pq = data;

	if (err != 0)
		ac_log_error("print", "could not record a print job's state: %s", msg);
	work_done(pq);
}

/* Writes a job's state, reason and fault (and CUPS job id, when known) to print_job. */
static void record(ac_printq *pq, int64_t job_id, int cups_job_id, const char *state,
		   const char *reason, const char *fault)
{
	char id[24];
	char cups_id[24];
	const char *values[5] = { id, cups_job_id > 0 ? cups_id : NULL, state, reason, fault };

	snprintf(id, sizeof(id), "%lld", (long long)job_id);
	snprintf(cups_id, sizeof(cups_id), "%d", cups_job_id);
	pq->busy++;
	if (ac_db_query(pq->db,
			"UPDATE print_job SET cups_job_id = coalesce($2::int, cups_job_id), state "
			"= $3, reason = $4, fault = $5, submitted_at = coalesce(submitted_at, "
			"now()), updated_at = now() WHERE id = $1::bigint",
			5, values, NULL, on_recorded, pq) != 0) {
		ac_log_error("print", "could not record print job %lld as %s: database unavailable",
			     (long long)job_id, state);
		work_done(pq);
	}
}

static void render_and_submit(uv_work_t *req)
{
	print_work *w = req->data;
	const ac_printer *p = &w->printer;
	unsigned char *doc = NULL;
	size_t len = 0;
	char title[128];

	if (w->calibration != NULL)
		w->err = ac_label_render_calibration(w->pq->renderer, &p->label, w->calibration,
						     &doc, &len);
	else
		w->err = ac_label_render(w->pq->renderer, &p->label, &w->data, &doc, &len, &w->why);
	if (w->err != 0)
		return;
	snprintf(title, sizeof(title), "%s %s", w->calibration ? "calibration" : "certificate",
		 w->calibration ? p->id : w->data.number);
	w->err = ac_cups_submit(w->pq->cfg->cups_server, p->queue, title,
				p->label.lang == AC_LABEL_PDF ? p->media : NULL,
				ac_label_lang_format(p->label.lang), doc, len, &w->cups_job_id,
				&w->cerr);
	free(doc);
}

static void watch_job(ac_printq *pq, const print_work *w)
{
	watch *e = calloc(1, sizeof(*e));

	if (e == NULL) {
		ac_log_warn("print", "could not watch job %lld: out of memory",
			    (long long)w->job_id);
		return;
	}
	e->job_id = w->job_id;
	e->cups_job_id = w->cups_job_id;
	e->deadline_ms = uv_now(pq->loop) + (uint64_t)pq->cfg->print_timeout * 1000;
	snprintf(e->queue, sizeof(e->queue), "%s", w->printer.queue);
	snprintf(e->state, sizeof(e->state), "pending");
	e->next = pq->watching;
	pq->watching = e;
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

static void after_submit(uv_work_t *req, int status)
{
	print_work *w = req->data;
	ac_printq *pq = w->pq;
	char why[384];
	const char *fault = NULL;

	if (status != 0)
		w->err = status;
	if (w->err != 0)
		fault = failure(w, why, sizeof(why));
	if (w->done != NULL) {
		w->done(w->done_arg, w->err, w->cups_job_id, w->err ? why : NULL);
	} else if (w->err == 0) {
		ac_log_info("print",
			    "job %lld at CUPS as %s/%d after %.1f ms (%.1f ms since the request)",
			    (long long)w->job_id, w->printer.queue, w->cups_job_id,
			    (ac_now_ns() - w->t0) / 1e6, (ac_now_ns() - w->since) / 1e6);
		watch_job(pq, w);
		record(pq, w->job_id, w->cups_job_id, "pending", NULL, NULL);
	} else {
		ac_log_error("print", "could not print job %lld on %s: %s", (long long)w->job_id,
			     w->printer.queue, why);
		record(pq, w->job_id, 0, "failed", why, fault);
	}
	ac_arena_clear(&w->arena);
	free(w);
	work_done(pq);
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

static void queue_work(ac_printq *pq, print_work *w)
{
	w->work.data = w;
	pq->busy++;
	if (uv_queue_work(pq->loop, &w->work, render_and_submit, after_submit) != 0)
		after_submit(&w->work, -ENOMEM);
}

void ac_printq_submit(ac_printq *pq, const ac_cert *c, uint64_t since_ns)
{
	const ac_printer *p;
	print_work *w;

	if (pq == NULL) {
		/* The service is stopping: the job stays queued for the next start. */
		ac_log_warn("print", "print job %lld left queued: stopping",
			    (long long)c->print_job_id);
		return;
	}
	p = ac_printers_find(pq->printers, c->printer_id);
	if (p == NULL) {
		record(pq, c->print_job_id, 0, "failed", "no such printer", "no-queue");
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		record(pq, c->print_job_id, 0, "failed", "out of memory", "printer-error");
		return;
	}
	ac_arena_init(&w->arena);
	w->pq = pq;
	w->job_id = c->print_job_id;
	w->printer = *p;
	w->t0 = ac_now_ns();
	w->since = since_ns ? since_ns : w->t0;
	if (label_texts(w, c, pq->cfg->public_url) != 0) {
		ac_log_error("print", "could not prepare print job %lld: out of memory",
			     (long long)w->job_id);
		record(pq, c->print_job_id, 0, "failed", "out of memory", "printer-error");
		ac_arena_clear(&w->arena);
		free(w);
		return;
	}
	queue_work(pq, w);
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
	queue_work(pq, w);
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

int ac_printq_job_state(const ac_printq *pq, int64_t job_id, ac_printq_job *out)
{
	for (const watch *e = pq ? pq->watching : NULL; e != NULL; e = e->next) {
		if (e->job_id == job_id && e->known) {
			out->st = e->st;
			out->fault = e->fault;
			out->cups_job_id = e->cups_job_id;
			return 1;
		}
	}
	return 0;
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

/* Watching: every tick, each job's state; at its deadline, a cancel. */

static watch *find_watch(ac_printq *pq, int64_t job_id, watch ***link)
{
	for (watch **p = &pq->watching; *p != NULL; p = &(*p)->next) {
		if ((*p)->job_id == job_id) {
			if (link != NULL)
				*link = p;
			return *p;
		}
	}
	return NULL;
}

static void poll_jobs(uv_work_t *req)
{
	poll_work *pw = req->data;
	const char *server = pw->pq->cfg->cups_server;

	for (int i = 0; i < pw->n; i++) {
		poll_item *it = &pw->items[i];
		it->err =
		    ac_cups_job_status(server, it->queue, it->cups_job_id, &it->st, &it->cerr);
		if (it->err == AC_EPRINTER && it->cerr.ipp_status == 0) {
			/* CUPS is down: the others would wait for their timeouts too. */
			for (int k = i + 1; k < pw->n; k++) {
				pw->items[k].err = it->err;
				pw->items[k].cerr = it->cerr;
			}
			break;
		}
	}
}

static int is_final(int state)
{
	return state == AC_JOB_COMPLETED || state == AC_JOB_CANCELED || state == AC_JOB_ABORTED;
}

/* What one answer changes: the watch, print_job when state or fault moved. */
static void take_answer(ac_printq *pq, const poll_item *it)
{
	watch **link = NULL;
	watch *e = find_watch(pq, it->job_id, &link);

	if (e == NULL)
		return; /* expired meanwhile */
	if (it->err != 0) {
		if (it->err == AC_ENOTFOUND)
			return; /* purged from CUPS' history: leave the row as it is */
		e->fault = ac_cups_error_fault(it->err, &it->cerr);
	} else {
		e->st = it->st;
		e->known = 1;
		e->fault = ac_cups_fault(&it->st);
	}
	/* A fault that appears or clears goes to print_job at once; plain state
	 * changes are answered from here and saved when the job is asked for
	 * (GET /api/v1/print-jobs), as before, not in the background. */
	const char *state = e->known ? ac_job_state_name(e->st.state) : e->state;
	if (e->fault != e->recorded_fault) {
		snprintf(e->state, sizeof(e->state), "%s", state);
		e->recorded_fault = e->fault;
		record(pq, e->job_id, 0, state,
		       e->known && e->st.state_reasons[0] ? e->st.state_reasons : NULL, e->fault);
	}
	if (e->known && is_final(e->st.state)) {
		*link = e->next;
		free(e);
	}
}

static void after_poll(uv_work_t *req, int status)
{
	poll_work *pw = req->data;
	ac_printq *pq = pw->pq;

	pq->polling = 0;
	for (int i = 0; status == 0 && !pq->close.closing && i < pw->n; i++)
		take_answer(pq, &pw->items[i]);
	free(pw);
	work_done(pq);
}

static void start_poll(ac_printq *pq)
{
	int n = 0;
	poll_work *pw;

	for (watch *e = pq->watching; e != NULL; e = e->next)
		n++;
	if (n == 0 || pq->polling)
		return;
	pw = calloc(1, sizeof(*pw) + (size_t)n * sizeof(pw->items[0]));
	if (pw == NULL)
		return;
	for (watch *e = pq->watching; e != NULL; e = e->next) {
		poll_item *it = &pw->items[pw->n++];
		it->job_id = e->job_id;
		it->cups_job_id = e->cups_job_id;
		memcpy(it->queue, e->queue, sizeof(it->queue));
	}
	pw->pq = pq;
	pw->work.data = pw;
	pq->polling = 1;
	pq->busy++;
	if (uv_queue_work(pq->loop, &pw->work, poll_jobs, after_poll) != 0)
		after_poll(&pw->work, -ENOMEM);
}

static void expire_work(uv_work_t *req)
{
	expiry_work *x = req->data;
	const char *server = x->pq->cfg->cups_server;

	x->err = ac_cups_job_status(server, x->w.queue, x->w.cups_job_id, &x->st, &x->cerr);
	if (x->err != 0)
		return;
	if (!is_final(x->st.state))
		x->cancelled = ac_cups_cancel(server, x->w.queue, x->w.cups_job_id, &x->cerr) == 0;
}

static void after_expire(uv_work_t *req, int status)
{
	expiry_work *x = req->data;
	ac_printq *pq = x->pq;
	char reason[384];
	const char *fault = ac_cups_fault(&x->st);

	if (x->cancelled) {
		snprintf(reason, sizeof(reason),
			 "timeout: not printed within %d s, cancelled (printer %s)",
			 pq->cfg->print_timeout,
			 x->st.printer_state_reasons[0] ? x->st.printer_state_reasons : "busy");
		ac_log_warn("print", "job %lld on %s timed out after %d s: cancelled",
			    (long long)x->w.job_id, x->w.queue, pq->cfg->print_timeout);
		record(pq, x->w.job_id, 0, "failed", reason, "timeout");
	} else if (status == 0 && x->err == 0) {
		record(pq, x->w.job_id, 0, ac_job_state_name(x->st.state),
		       x->st.state_reasons[0] ? x->st.state_reasons : NULL, fault);
	} else {
		ac_log_warn("print", "could not check job %lld at its timeout: %s",
			    (long long)x->w.job_id,
			    x->cerr.message[0] ? x->cerr.message : ac_strerror(x->err));
		snprintf(reason, sizeof(reason), "timeout: not printed within %d s (%s)",
			 pq->cfg->print_timeout,
			 x->cerr.message[0] ? x->cerr.message : ac_strerror(x->err));
		record(pq, x->w.job_id, 0, "failed", reason, ac_cups_error_fault(x->err, &x->cerr));
	}
	free(x);
	work_done(pq);
}

static void on_tick(uv_timer_t *t)
{
	ac_printq *pq = t->data;
	uint64_t now = uv_now(pq->loop);
	watch **p = &pq->watching;

	while (*p != NULL) {
		watch *e = *p;
		expiry_work *x;

		if (e->deadline_ms > now || (x = calloc(1, sizeof(*x))) == NULL) {
			p = &e->next;
			continue;
		}
		*p = e->next;
		x->pq = pq;
		x->w = *e;
		x->work.data = x;
		free(e);
		pq->busy++;
		if (uv_queue_work(pq->loop, &x->work, expire_work, after_expire) != 0)
			after_expire(&x->work, -ENOMEM);
	}
	start_poll(pq);
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
		r = ac_printers_new(loop, db, cfg, &pq->printers);
	if (r != 0) {
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
	uv_timer_start(&pq->timer, on_tick, WATCH_TICK_MS, WATCH_TICK_MS);
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
