#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_arena.h"
#include "ac_certdb.h"
#include "ac_code.h"
#include "ac_cups.h"
#include "ac_error.h"
#include "ac_label.h"
#include "ac_closer.h"
#include "ac_log.h"
#include "ac_printq.h"

#define WATCH_TICK_MS 1000

/* A job at CUPS, watched until it finishes or its time is up. */
typedef struct watch {
	struct watch *next;
	int64_t job_id;
	int cups_job_id;
	uint64_t deadline_ms;
	char queue[128];
} watch;

struct ac_printq {
	uv_loop_t *loop;
	ac_db *db;
	const ac_config *cfg;
	ac_label_renderer *renderer;
	int busy;
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
	const char *queue;
	ac_label_size size;
	ac_label_data data;
	int err;
	ac_cups_error cerr;
	int cups_job_id;
	uint64_t t0;
	uint64_t since; /* the request */
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

static void maybe_closed(ac_printq *pq)
{
	ac_closer c = pq->close;

	if (!pq->close.closing || pq->busy > 0 || !pq->timer_closed)
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

/* Writes a job's state (and CUPS job id, when known) to print_job. */
static void record(ac_printq *pq, int64_t job_id, int cups_job_id, const char *state,
		   const char *reason)
{
	char id[24];
	char cups_id[24];
	const char *values[4] = { id, cups_job_id > 0 ? cups_id : NULL, state, reason };

	snprintf(id, sizeof(id), "%lld", (long long)job_id);
	snprintf(cups_id, sizeof(cups_id), "%d", cups_job_id);
	pq->busy++;
	if (ac_db_query(pq->db,
			"UPDATE print_job SET cups_job_id = coalesce($2::int, cups_job_id), state "
			"= $3, reason = $4, submitted_at = coalesce(submitted_at, now()), "
			"updated_at = now() WHERE id = $1::bigint",
			4, values, NULL, on_recorded, pq) != 0) {
		ac_log_error("print", "could not record print job %lld as %s: database unavailable",
			     (long long)job_id, state);
		work_done(pq);
	}
}

static void render_and_submit(uv_work_t *req)
{
	print_work *w = req->data;
	unsigned char *pdf = NULL;
	size_t len = 0;
	char title[64];

	w->err = ac_label_render_pdf(w->pq->renderer, &w->size, &w->data, &pdf, &len);
	if (w->err != 0)
		return;
	snprintf(title, sizeof(title), "certificate %s", w->data.number);
	w->err = ac_cups_submit(w->pq->cfg->cups_server, w->queue, title, NULL, pdf, len,
				&w->cups_job_id, &w->cerr);
	free(pdf);
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
	snprintf(e->queue, sizeof(e->queue), "%s", w->queue);
	e->next = pq->watching;
	pq->watching = e;
}

static void after_submit(uv_work_t *req, int status)
{
	print_work *w = req->data;
	ac_printq *pq = w->pq;

	if (status != 0)
		w->err = status;
	if (w->err == 0) {
		ac_log_info("print",
			    "job %lld at CUPS as %s/%d after %.1f ms (%.1f ms since the request)",
			    (long long)w->job_id, w->queue, w->cups_job_id,
			    (ac_now_ns() - w->t0) / 1e6, (ac_now_ns() - w->since) / 1e6);
		watch_job(pq, w);
		record(pq, w->job_id, w->cups_job_id, "pending", NULL);
	} else {
		const char *why = w->cerr.message[0] ? w->cerr.message : ac_strerror(w->err);

		ac_log_error("print", "could not print job %lld on %s: %s", (long long)w->job_id,
			     w->queue, why);
		record(pq, w->job_id, 0, "failed", why);
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
	char contact[64];
	char number[24];
	char **codes;
	int fail;

	ac_cert_number(c->serial, number);
	ac_quantity_text(c->quantity_milli, qty, sizeof(qty));
	ac_mask_contact(c->contact, contact, sizeof(contact));
	w->data.product = ac_arena_strdup(a, c->product_name ? c->product_name : "");
	w->data.quantity = ac_arena_printf(a, "%s %s", qty, ac_unit_name_zh(c->unit));
	w->data.origin = ac_arena_strdup(a, c->origin ? c->origin : "");
	w->data.issuer = ac_arena_strdup(a, c->issuer_name ? c->issuer_name : "");
	w->data.contact = ac_arena_strdup(a, contact);
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

void ac_printq_submit(ac_printq *pq, const ac_cert *c, uint64_t since_ns)
{
	const ac_printer_conf *pc;
	print_work *w;

	if (pq == NULL) {
		/* The service is stopping: the job stays queued for the next start. */
		ac_log_warn("print", "print job %lld left queued: stopping",
			    (long long)c->print_job_id);
		return;
	}
	pc = ac_config_printer(pq->cfg, c->printer_id);
	if (pc == NULL) {
		record(pq, c->print_job_id, 0, "failed", "no such printer");
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		record(pq, c->print_job_id, 0, "failed", "out of memory");
		return;
	}
	ac_arena_init(&w->arena);
	w->pq = pq;
	w->job_id = c->print_job_id;
	w->t0 = ac_now_ns();
	w->since = since_ns ? since_ns : w->t0;
	if (ac_label_size_parse(pc->size, &w->size) != 0)
		w->size = (ac_label_size){ .width_mm = 60, .height_mm = 40, .dpi = 203 };
	w->queue = ac_arena_strdup(&w->arena, pc->queue);
	if (w->queue == NULL || label_texts(w, c, pq->cfg->public_url) != 0) {
		ac_log_error("print", "could not prepare print job %lld: out of memory",
			     (long long)w->job_id);
		record(pq, c->print_job_id, 0, "failed", "out of memory");
		ac_arena_clear(&w->arena);
		free(w);
		return;
	}
	w->work.data = w;
	pq->busy++;
	if (uv_queue_work(pq->loop, &w->work, render_and_submit, after_submit) != 0)
		after_submit(&w->work, -ENOMEM);
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

/* Timeouts. */

static void expire_work(uv_work_t *req)
{
	expiry_work *x = req->data;
	const char *server = x->pq->cfg->cups_server;

	x->err = ac_cups_job_status(server, x->w.queue, x->w.cups_job_id, &x->st, &x->cerr);
	if (x->err != 0)
		return;
	if (x->st.state == AC_JOB_PENDING || x->st.state == AC_JOB_HELD ||
	    x->st.state == AC_JOB_PROCESSING || x->st.state == AC_JOB_STOPPED)
		x->cancelled = ac_cups_cancel(server, x->w.queue, x->w.cups_job_id, &x->cerr) == 0;
}

static void after_expire(uv_work_t *req, int status)
{
	expiry_work *x = req->data;
	ac_printq *pq = x->pq;
	char reason[384];

	if (x->cancelled) {
		snprintf(reason, sizeof(reason),
			 "timeout: not printed within %d s, cancelled (printer %s)",
			 pq->cfg->print_timeout,
			 x->st.printer_state_reasons[0] ? x->st.printer_state_reasons : "busy");
		ac_log_warn("print", "job %lld on %s timed out after %d s: cancelled",
			    (long long)x->w.job_id, x->w.queue, pq->cfg->print_timeout);
		record(pq, x->w.job_id, 0, "failed", reason);
	} else if (status == 0 && x->err == 0) {
		record(pq, x->w.job_id, 0, ac_job_state_name(x->st.state),
		       x->st.state_reasons[0] ? x->st.state_reasons : NULL);
	} else {
		ac_log_warn("print", "could not check job %lld at its timeout: %s",
			    (long long)x->w.job_id,
			    x->cerr.message[0] ? x->cerr.message : ac_strerror(x->err));
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
	r = ac_label_renderer_new(cfg->font, &pq->renderer);
	if (r != 0) {
		free(pq);
		return r;
	}
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

void ac_printq_close(ac_printq *pq, void (*cb)(void *data), void *data)
{
	if (ac_closer_none(pq, cb, data))
		return;
	ac_closer_start(&pq->close, cb, data);
	uv_timer_stop(&pq->timer);
	uv_close((uv_handle_t *)&pq->timer, on_timer_closed);
}
