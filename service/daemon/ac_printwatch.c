/*
 * The print queue's watch over jobs at CUPS (ac_printq.h): every tick, each
 * queue's watched jobs are asked of CUPS together; at a job's deadline
 * (print_timeout), it is cancelled there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_cups.h"
#include "ac_error.h"
#include "ac_log.h"
#include "ac_printq.h"
#include "ac_printq_private.h"

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
	char queue[128];
} poll_item;

typedef struct poll_work {
	uv_work_t work;
	ac_printq *pq;
	int n;
	poll_item *items;     /* by queue */
	ac_cups_job_query *q; /* items[i]'s job is q[i] */
} poll_work;

void ac_printq_watch(ac_printq *pq, int64_t job_id, int cups_job_id, const char *queue)
{
	watch *e = calloc(1, sizeof(*e));

	if (e == NULL) {
		ac_log_warn("print", "could not watch job %lld: out of memory", (long long)job_id);
		return;
	}
	e->job_id = job_id;
	e->cups_job_id = cups_job_id;
	e->deadline_ms = uv_now(pq->loop) + (uint64_t)pq->cfg->print_timeout * 1000;
	snprintf(e->queue, sizeof(e->queue), "%s", queue);
	snprintf(e->state, sizeof(e->state), "pending");
	e->next = pq->watching;
	pq->watching = e;
}

void ac_printq_unwatch_all(ac_printq *pq)
{
	while (pq->watching != NULL) {
		watch *next = pq->watching->next;

		free(pq->watching);
		pq->watching = next;
	}
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

/* Each queue's watched jobs asked of CUPS together, over the kept connection. */
static void poll_jobs(uv_work_t *req)
{
	poll_work *pw = req->data;

	for (int i = 0, k; i < pw->n; i = k) {
		for (k = i + 1; k < pw->n && strcmp(pw->items[k].queue, pw->items[i].queue) == 0;
		     k++)
			;
		int r = ac_cups_conn_jobs(pw->pq->poll_conn, pw->items[i].queue, &pw->q[i], k - i);
		if (r == AC_EPRINTER && pw->q[i].cerr.ipp_status == 0) {
			/* CUPS is down: the others would wait for their timeouts too. */
			for (int m = k; m < pw->n; m++) {
				pw->q[m].err = r;
				pw->q[m].cerr = pw->q[i].cerr;
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
static void take_answer(ac_printq *pq, int64_t job_id, const ac_cups_job_query *it)
{
	watch **link = NULL;
	watch *e = find_watch(pq, job_id, &link);

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
		ac_printq_record(pq, e->job_id, 0, state,
				 e->known && e->st.state_reasons[0] ? e->st.state_reasons : NULL,
				 e->fault);
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
		take_answer(pq, pw->items[i].job_id, &pw->q[i]);
	free(pw);
	ac_printq_work_done(pq);
}

static int by_queue(const void *a, const void *b)
{
	return strcmp((*(watch *const *)a)->queue, (*(watch *const *)b)->queue);
}

static void start_poll(ac_printq *pq)
{
	int n = 0;
	poll_work *pw;
	watch **sorted;

	for (watch *e = pq->watching; e != NULL; e = e->next)
		n++;
	if (n == 0 || pq->polling)
		return;
	pw = calloc(1, sizeof(*pw) + (size_t)n * (sizeof(poll_item) + sizeof(ac_cups_job_query)));
	sorted = calloc((size_t)n, sizeof(*sorted));
	if (pw == NULL || sorted == NULL) {
		free(pw);
		free(sorted);
		return;
	}
	pw->items = (poll_item *)(pw + 1);
	pw->q = (ac_cups_job_query *)(pw->items + n);
	for (watch *e = pq->watching; e != NULL; e = e->next)
		sorted[pw->n++] = e;
	qsort(sorted, (size_t)n, sizeof(*sorted), by_queue);
	for (int i = 0; i < n; i++) {
		pw->items[i].job_id = sorted[i]->job_id;
		memcpy(pw->items[i].queue, sorted[i]->queue, sizeof(pw->items[i].queue));
		pw->q[i].job_id = sorted[i]->cups_job_id;
	}
	free(sorted);
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
		ac_printq_record(pq, x->w.job_id, 0, "failed", reason, "timeout");
	} else if (status == 0 && x->err == 0) {
		ac_printq_record(pq, x->w.job_id, 0, ac_job_state_name(x->st.state),
				 x->st.state_reasons[0] ? x->st.state_reasons : NULL, fault);
	} else {
		ac_log_warn("print", "could not check job %lld at its timeout: %s",
			    (long long)x->w.job_id,
			    x->cerr.message[0] ? x->cerr.message : ac_strerror(x->err));
		snprintf(reason, sizeof(reason), "timeout: not printed within %d s (%s)",
			 pq->cfg->print_timeout,
			 x->cerr.message[0] ? x->cerr.message : ac_strerror(x->err));
		ac_printq_record(pq, x->w.job_id, 0, "failed", reason,
				 ac_cups_error_fault(x->err, &x->cerr));
	}
	free(x);
	ac_printq_work_done(pq);
}

void ac_printq_on_tick(uv_timer_t *t)
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
