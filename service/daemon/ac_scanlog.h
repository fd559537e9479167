/*
 * The scan log: every scan (GET /v/..., market checks) is appended here and
 * written to PostgreSQL in batches (sql/0010_inspections.sql record_scans),
 * at most AC_SCANLOG_BATCH rows or AC_SCANLOG_DELAY_MS after the first
 * pending one, so that logging costs a scan almost nothing. The same
 * statement updates the clone suspicions.
 *
 * A scan is logged after it is answered: scans in memory when the service is
 * killed are lost (a clean stop writes them). A failed write is retried with
 * the next batch; beyond AC_SCANLOG_MAX pending rows new ones are dropped and
 * counted in the log.
 *
 * Loop thread only.
 */
#ifndef AC_SCANLOG_H
#define AC_SCANLOG_H

#include <stdint.h>
#include <uv.h>

#include "ac_buf.h"
#include "ac_db.h"

#define AC_SCANLOG_BATCH    512
#define AC_SCANLOG_DELAY_MS 200
#define AC_SCANLOG_MAX	    100000
/* Clone suspicion: more genuine scans of one item code than this, */
#define AC_CLONE_SCAN_LIMIT 20
/* or two markets farther apart than this speed allows between the scans. */
#define AC_CLONE_MAX_KMH 120
/* Verdicts counted apart for GET /metrics (scan.c has ten). */
#define AC_SCANLOG_VERDICTS 16

typedef struct ac_scanlog ac_scanlog;

typedef struct ac_scan_event {
	uint64_t serial; /* 0 when the code could not be read */
	int item;
	const char *verdict; /* a static string */
	int market_id;	     /* 0: not at a known market */
	int subject_id;	     /* 0: anonymous */
	int64_t inspection_id;
	const char *peer;    /* client address, copied */
	int clone_suspected; /* the answer warned of a copied label (counted only) */
} ac_scan_event;

int ac_scanlog_new(uv_loop_t *loop, ac_db *db, ac_scanlog **out);
void ac_scanlog_add(ac_scanlog *log, const ac_scan_event *ev);
/* Appends the scan counts (ac_metrics.h) to b: scans by verdict, clone
 * suspicions shown, the backlog. */
void ac_scanlog_metrics(const ac_scanlog *log, ac_buf *b);
/* Writes what is pending now (at stop). */
void ac_scanlog_flush(ac_scanlog *log);
/* Rows pending or being written. */
int ac_scanlog_busy(const ac_scanlog *log);
/*
 * Writes what is pending, waits for the write, frees the log and calls cb.
 * The database must stay open until cb. NULL is fine.
 */
void ac_scanlog_close(ac_scanlog *log, void (*cb)(void *data), void *data);

#endif
