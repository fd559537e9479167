/*
 * The print queue: renders a certificate's labels and hands them to the
 * kiosk's CUPS queue in the uv thread pool, and records the CUPS job id and
 * state in print_job.
 *
 * A job that has not finished print_timeout seconds after it reached CUPS
 * (a paused or offline printer) is cancelled there and marked failed with
 * reason "timeout", so that labels do not come out later for nobody and the
 * kiosk, polling the job, says so. Jobs are watched by the instance that
 * submitted them.
 *
 * Loop thread only; rendering and CUPS calls run in the pool and touch only
 * their own work item.
 */
#ifndef AC_PRINTQ_H
#define AC_PRINTQ_H

#include <stdint.h>
#include <uv.h>

#include "ac_cert.h"
#include "ac_config.h"
#include "ac_db.h"

typedef struct ac_printq ac_printq;

/* cfg (printers, CUPS server, font, public URL, print_timeout) is borrowed
 * for the queue's life. Loads the label font once. */
int ac_printq_new(uv_loop_t *loop, ac_db *db, const ac_config *cfg, ac_printq **out);

/*
 * Prints c's labels (its print_job_id and printer_id set); copies what it
 * needs. since_ns (ac_now_ns() when the request arrived, or 0) lets the log
 * say how long the job took from the request to CUPS (tests/bench/print
 * reads it). A job that cannot even be prepared is marked failed.
 */
void ac_printq_submit(ac_printq *pq, const ac_cert *c, uint64_t since_ns);

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
