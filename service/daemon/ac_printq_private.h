/*
 * What the print queue's two files share (ac_printq.c: rendering and
 * submitting; ac_printwatch.c: watching jobs at CUPS). Not for other modules.
 * Loop thread only.
 */
#ifndef AC_PRINTQ_PRIVATE_H
#define AC_PRINTQ_PRIVATE_H

#include <stdint.h>
#include <uv.h>

#include "ac_closer.h"
#include "ac_config.h"
#include "ac_cups.h"
#include "ac_cupsq.h"
#include "ac_db.h"
#include "ac_label.h"
#include "ac_printers.h"

#define AC_PRINTQ_TICK_MS 1000

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

/* A print_job row's latest state, waiting for the next statement that
 * writes states (print_jobs_record(), sql/0029). */
typedef struct job_record {
	struct job_record *next;
	int64_t job_id;
	int cups_job_id; /* 0: keep the recorded one */
	char state[16];
	char reason[384];
	int has_reason;
	const char *fault; /* a static keyword, or NULL */
} job_record;

struct ac_printq {
	uv_loop_t *loop;
	ac_db *db;
	const ac_config *cfg;
	ac_label_renderer *renderer;
	ac_printers *printers;
	int printers_closed;
	ac_cupsq *cupsq;
	int cupsq_closed;
	int busy;
	int polling;
	ac_cups_conn *poll_conn; /* the polls' (one at a time) */
	watch *watching;
	job_record *records;   /* waiting for the next statement */
	job_record *recording; /* in the statement under way */
	uv_timer_t timer;
	int timer_closed;
	ac_closer close;
};

/* Writes a job's state, reason and fault (and CUPS job id, when known) to
 * print_job: at once, or with the next statement when one is under way
 * (states of several jobs in one statement; a job's latest state wins). */
void ac_printq_record(ac_printq *pq, int64_t job_id, int cups_job_id, const char *state,
		      const char *reason, const char *fault);

/* One unit of work (pq->busy) ends: the queue may be closing. */
void ac_printq_work_done(ac_printq *pq);

/* Watches a job CUPS accepted, until it finishes or print_timeout passes. */
void ac_printq_watch(ac_printq *pq, int64_t job_id, int cups_job_id, const char *queue);

/* Stops watching every job (the queue is being freed). */
void ac_printq_unwatch_all(ac_printq *pq);

/* The timer's tick: expiries, then a poll. */
void ac_printq_on_tick(uv_timer_t *t);

#endif
