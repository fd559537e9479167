/*
 * Print jobs on a CUPS server: submit a PDF, follow the job and the printer,
 * cancel. The only module that includes the CUPS headers.
 *
 * server is "host:port", "host" (port 631), "[v6addr]:port" or an absolute
 * path to a domain socket ("/run/cups/cups.sock"). Every call opens its own
 * connection (httpConnect2) and closes it before returning, but for
 * submissions through an ac_cups_conn, which keeps its own; nothing uses
 * cupsSetServer() or another thread's state, and the CUPS status is read on
 * the calling thread right after the request that set it. Connections to
 * localhost, loopback addresses and sockets are never encrypted; others
 * use TLS when the server asks for it. Connecting times out after 5 s.
 *
 * All calls block: call them from a worker thread (uv_queue_work), never from
 * the event loop. They may run on several threads at once.
 *
 * Errors: the functions return 0 or a negative code: AC_ENOTFOUND (the queue
 * or the job does not exist), AC_EPRINTER (the server cannot be reached or
 * refused the request), AC_ERANGE (bad arguments), -ENOMEM. When err is not
 * NULL it is filled on every return: ipp_status 0 and an empty message on
 * success, otherwise the IPP status (or 0 if the server was never reached)
 * and CUPS' message, e.g. "The printer or class does not exist." or
 * "could not connect to 127.0.0.1:6310: Connection refused". The message is
 * meant for logs, not for the kiosk screen.
 */
#ifndef AC_CUPS_H
#define AC_CUPS_H

#include <stddef.h>

typedef struct ac_cups_error {
	int ipp_status;	   /* IPP status code, 0 when none */
	char message[256]; /* lower case where agricert writes it; CUPS' own text otherwise */
} ac_cups_error;

/*
 * Creates a job on queue with the document (len bytes, borrowed for the
 * call) of format (a MIME type: "application/pdf", or
 * "application/vnd.cups-raw" for ZPL or TSPL on a raw queue; NULL: PDF),
 * titled title (may be NULL), with media "media" (a PWG name such as
 * "om_60x40mm_60x40mm", or NULL for the queue's default), and sets *job_id.
 * When sending the document fails after the job was created, the job is
 * cancelled. Returns 0 or an error (see above).
 */
int ac_cups_submit(const char *server, const char *queue, const char *title, const char *media,
		   const char *format, const unsigned char *pdf, size_t len, int *job_id,
		   ac_cups_error *err);

/*
 * A connection kept from one submission to the next (no connect per job),
 * for one thread at a time: a submission thread owns one. It connects at
 * its first submission, and again after any failure; a kept connection the
 * server closed meanwhile is replaced once within the call when the server
 * had answered nothing on it (so no job is created twice).
 */
typedef struct ac_cups_conn ac_cups_conn;

/* Returns 0 or -ENOMEM. Does not connect yet (a wrong server fails each submission). */
int ac_cups_conn_new(const char *server, ac_cups_conn **out);
/* Closes and frees; NULL is fine. */
void ac_cups_conn_free(ac_cups_conn *c);
/* ac_cups_submit over c. */
int ac_cups_conn_submit(ac_cups_conn *c, const char *queue, const char *title, const char *media,
			const char *format, const unsigned char *pdf, size_t len, int *job_id,
			ac_cups_error *err);

/* IPP job-state values. */
typedef enum {
	AC_JOB_PENDING = 3,
	AC_JOB_HELD,
	AC_JOB_PROCESSING,
	AC_JOB_STOPPED,
	AC_JOB_CANCELED,
	AC_JOB_ABORTED,
	AC_JOB_COMPLETED
} ac_job_state;

typedef struct ac_job_status {
	int state;			 /* ac_job_state, 0 when the server did not say */
	char state_reasons[256];	 /* job-state-reasons, comma-separated keywords */
	int printer_state;		 /* 3 idle, 4 processing, 5 stopped; 0 when unknown */
	char printer_state_reasons[256]; /* e.g. "media-empty-error,offline-report" */
	char message[256];		 /* job-printer-state-message, else printer-state-message */
	int pages_completed;		 /* job-media-sheets-completed (or impressions) */
} ac_job_status;

/*
 * Fills *out with the state of job_id on queue (Get-Job-Attributes) and the
 * state of the queue's printer (Get-Printer-Attributes), so paper-out
 * ("media-empty"), "offline" and a stopped queue reach the caller. Lists
 * longer than a field are cut at a keyword boundary. Returns 0 or an error;
 * AC_ENOTFOUND when the job is unknown (for example purged from history).
 */
int ac_cups_job_status(const char *server, const char *queue, int job_id, ac_job_status *out,
		       ac_cups_error *err);

/* One job of ac_cups_conn_jobs. */
typedef struct ac_cups_job_query {
	int job_id;	    /* in */
	int err;	    /* out: as ac_cups_job_status returns */
	ac_cups_error cerr; /* out */
	ac_job_status st;   /* out */
} ac_cups_job_query;

/*
 * ac_cups_job_status of each of the n jobs of q on queue, over c, in a few
 * requests rather than two connections per job: the printer once, the
 * queue's unfinished jobs in one Get-Jobs, and alone only a job that is no
 * longer among them (it finished, or is unknown: AC_ENOTFOUND). Returns 0,
 * or an error that kept every job from being asked (CUPS down, no such
 * queue), which every q[i].err then has too.
 */
int ac_cups_conn_jobs(ac_cups_conn *c, const char *queue, ac_cups_job_query *q, int n);

/*
 * Fills the printer fields of *out (printer_state, its reasons and message)
 * for queue (Get-Printer-Attributes): whether the server answers and how the
 * printer is. Returns 0 or an error.
 */
int ac_cups_printer_status(const char *server, const char *queue, ac_job_status *out,
			   ac_cups_error *err);

/*
 * Cancels job_id on queue. Returns 0, AC_ENOTFOUND, or AC_EPRINTER (also when
 * the job has already finished: IPP "not possible").
 */
int ac_cups_cancel(const char *server, const char *queue, int job_id, ac_cups_error *err);

/*
 * Stable lower-case names of job states for the JSON API:
 * 3 "pending", 4 "held", 5 "printing", 6 "stopped", 7 "canceled",
 * 8 "failed" (IPP aborted), 9 "completed", anything else "unknown".
 * Returns a static string. Any thread.
 */
const char *ac_job_state_name(int state);

/* Names of printer states: 3 "idle", 4 "printing", 5 "stopped", else "unknown". */
const char *ac_printer_state_name(int state);

/*
 * What keeps a job from printing, as a stable keyword, from its state and
 * its printer's: "media-empty" (paper out), "media-jam", "cover-open",
 * "offline" (the printer does not answer), "paused" (the queue was
 * stopped by hand: cupsdisable), "stopped" (the queue stopped itself, e.g.
 * after a backend error), "printer-error" (CUPS aborted the job); NULL when
 * nothing is wrong or the job has finished. A network printer that refuses
 * connections shows only in the socket backend's message ("The printer may
 * not exist or is unavailable at this time."): that is "offline" too, in
 * the C locale cupsd runs backends in. Returns a static string.
 */
const char *ac_cups_fault(const ac_job_status *st);

/*
 * The keyword of a failed call: "cups-down" (the server could not be
 * reached), "no-queue", "rejected" (the queue does not accept jobs),
 * "printer-error" (anything else). Returns a static string.
 */
const char *ac_cups_error_fault(int err, const ac_cups_error *cerr);

#endif
