/*
 * The print queue: renders a certificate's labels and hands them to the
 * kiosk's CUPS queue in the uv thread pool, records the CUPS job id in
 * print_job, and answers job state from CUPS. Loop thread only; rendering and
 * CUPS calls run in the pool and touch only their own work item.
 */
#ifndef AC_PRINTQ_H
#define AC_PRINTQ_H

#include "ac_app.h"
#include "ac_cert.h"

int ac_printq_new(ac_app *app, ac_printq **out);

/*
 * Prints c (its print_job_id and printer_id set); copies what it needs.
 * since_ns (ac_now_ns() when the request arrived, or 0) lets the log say how
 * long the job took from the request to CUPS (tests/bench/print reads it).
 */
void ac_printq_submit(ac_printq *pq, const ac_cert *c, uint64_t since_ns);

/* Work items under way. */
int ac_printq_busy(const ac_printq *pq);
void ac_printq_free(ac_printq *pq);

#endif
