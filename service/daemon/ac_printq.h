/*
 * The print queue: renders a certificate's labels in the language of the
 * kiosk's printer (PDF, ZPL or TSPL, ac_label.h) in the uv thread pool,
 * hands them to its CUPS queue on submission threads of its own (ac_cupsq.h,
 * kept connections), and records the CUPS job id, state and fault in
 * print_job. A certificate being issued has its labels rendered while its
 * group commit is in flight, and sent only once it is stored
 * (ac_printq_render below).
 *
 * The printer is looked up per job (ac_printers.h: the registry's kiosks,
 * then the configuration), so a change through the API applies to the next
 * job without a restart.
 *
 * Jobs at CUPS are watched by the instance that submitted them
 * (ac_printwatch.c): CUPS is asked every second how each is doing (per
 * queue: its unfinished jobs in one request, over one kept connection), so
 * that GET /api/v1/print-jobs/{id}
 * answers its state and a fault (paused queue, paper out, offline printer,
 * CUPS down) within seconds, under stable keywords (ac_cups_fault). A fault
 * that appears or clears is written to print_job at once; a plain change of
 * state when the job is asked for (as ever: the audit log gets no entry per
 * tick). A job that has not finished print_timeout seconds after
 * it reached CUPS is cancelled there and marked failed with fault "timeout",
 * so that labels do not come out later for nobody. Reprinting prints the
 * same codes again.
 *
 * Loop thread only; rendering runs in the uv thread pool, submissions on the
 * queue's own submission threads (ac_cupsq.h), polls and cancels in the
 * pool; each touches only its own work item.
 */
#ifndef AC_PRINTQ_H
#define AC_PRINTQ_H

#include <stdint.h>
#include <uv.h>

#include "ac_cert.h"
#include "ac_config.h"
#include "ac_cups.h"
#include "ac_db.h"
#include "ac_printers.h"

typedef struct ac_printq ac_printq;

/* cfg (printers, CUPS server, fonts, public URL, print_timeout) is borrowed
 * for the queue's life. Loads the label fonts once. */
int ac_printq_new(uv_loop_t *loop, ac_db *db, const ac_config *cfg, ac_printq **out);

/*
 * Prints c's labels (its print_job_id and printer_id set); copies what it
 * needs. since_ns (ac_now_ns() when the request arrived, or 0) lets the log
 * say how long the job took from the request to CUPS (tests/bench/print
 * reads it). A job that cannot even be prepared is marked failed.
 */
void ac_printq_submit(ac_printq *pq, const ac_cert *c, uint64_t since_ns);

/*
 * Printing a certificate being issued, in two halves, so that its labels
 * render while the group commit is in flight and reach CUPS only once it is
 * stored. ac_printq_render starts rendering c's labels as soon as it is
 * signed (serial, issued_at and codes set; c->printer_id names the
 * printer); it copies what it needs. It returns the work under way, or
 * NULL when there is nothing to render ahead (no printer, unknown printer,
 * no memory, pq NULL or closing). Exactly one of these then follows, on
 * the loop thread:
 * - ac_printq_commit once c is stored as print job c->print_job_id: the
 *   labels go to CUPS as soon as they are rendered, on a submission thread
 *   (ac_cupsq.h) rather than behind the thread pool's queue; with w NULL it
 *   is ac_printq_submit;
 * - ac_printq_discard when c was not stored (or stored without a print
 *   job): the rendering is dropped; nothing reaches CUPS.
 */
typedef struct ac_print_work ac_print_work;

ac_print_work *ac_printq_render(ac_printq *pq, const ac_cert *c, uint64_t since_ns);
void ac_printq_commit(ac_printq *pq, ac_print_work *w, const ac_cert *c, uint64_t since_ns);
void ac_printq_discard(ac_print_work *w);

/* The printer named id, or NULL (also when pq is NULL): see ac_printers_find. */
const ac_printer *ac_printq_printer(const ac_printq *pq, const char *id);

/* 0, or AC_EGLYPH with *missing the first character of s no label font
 * has (ac_label_check_text). */
int ac_printq_check_text(const ac_printq *pq, const char *s, uint32_t *missing);

/* Re-reads the kiosks' printers; cb(arg) when done. See ac_printers_refresh. */
void ac_printq_refresh_printers(ac_printq *pq, void (*cb)(void *arg), void *arg);

/* What the queue last heard of a job it watches. */
typedef struct ac_printq_job {
	ac_job_status st;
	const char *fault; /* ac_cups_fault's keyword, or NULL */
	int cups_job_id;
} ac_printq_job;

/* 1 and *out filled when this instance watches job_id and has asked CUPS
 * about it at least once, else 0. */
int ac_printq_job_state(const ac_printq *pq, int64_t job_id, ac_printq_job *out);

/*
 * Prints a calibration run on printer (ac_label_render_calibration): four
 * labels with dot-gain compensation 0 to 3. cb(arg, err, cups_job_id, why)
 * on the loop thread when CUPS has it or it failed (why: a message for logs).
 * Returns 0, or AC_ENOTFOUND for an unknown printer (cb is then not called).
 */
int ac_printq_calibrate(ac_printq *pq, const char *printer, const char *code,
			void (*cb)(void *arg, int err, int cups_job_id, const char *why),
			void *arg);

/* Submits again the jobs a crash left between the commit and CUPS: once, at
 * start, jobs queued more than a minute (so that another instance's
 * submission under way is not doubled) and less than a day ago. */
void ac_printq_resubmit_queued(ac_printq *pq);

/* Work items under way (rendering, submitting, recording). */
int ac_printq_busy(const ac_printq *pq);

/* Stops watching, waits for the work under way, frees the queue and calls
 * cb. The database must stay open until cb. NULL is fine. */
void ac_printq_close(ac_printq *pq, void (*cb)(void *data), void *data);

#endif
