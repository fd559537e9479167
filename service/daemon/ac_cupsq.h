/*
 * The CUPS submission threads: labels already rendered go to CUPS here, not
 * through the uv thread pool, so that a kiosk's job never waits behind
 * other kiosks' renders, signing or scans there. A few threads (each with
 * its own kept connection to the CUPS server, ac_cups_conn) take items in
 * the order they were pushed.
 *
 * push, new and close: loop thread only. An item's run runs on a
 * submission thread and touches only the item; its done runs on the loop
 * thread afterwards.
 */
#ifndef AC_CUPSQ_H
#define AC_CUPSQ_H

#include <uv.h>

#include "ac_cups.h"

typedef struct ac_cupsq ac_cupsq;

typedef struct ac_cupsq_item ac_cupsq_item;

struct ac_cupsq_item {
	void (*run)(ac_cupsq_item *it, ac_cups_conn *conn); /* a submission thread */
	void (*done)(ac_cupsq_item *it);		    /* the loop thread, after run */
	ac_cupsq_item *next;				    /* the queue's */
};

/* threads submission threads to server (ac_cups.h). Returns 0 or a negative code. */
int ac_cupsq_new(uv_loop_t *loop, const char *server, int threads, ac_cupsq **out);

/* Runs it on a submission thread, then its done on the loop thread. */
void ac_cupsq_push(ac_cupsq *q, ac_cupsq_item *it);

/* Items still queued run first; then the threads end, their connections
 * close, q is freed and cb(data) runs on the loop thread. NULL is fine. */
void ac_cupsq_close(ac_cupsq *q, void (*cb)(void *data), void *data);

#endif
