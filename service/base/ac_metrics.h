/*
 * Metrics in the Prometheus text format (version 0.0.4). Each module keeps
 * its own counters and histograms in its own state, updated on the loop
 * thread with plain increments (no locks, no atomics, no allocation), and
 * writes them into an ac_buf when GET /metrics asks (handlers/metrics.c).
 * These helpers only format.
 */
#ifndef AC_METRICS_H
#define AC_METRICS_H

#include <stdint.h>

#include "ac_buf.h"

#define AC_HIST_MAX 16

/* A histogram over fixed upper bounds (ascending, at most AC_HIST_MAX): the
 * bucket counts are kept per bucket and written cumulatively. */
typedef struct ac_hist {
	const double *bounds; /* static */
	int n;
	uint64_t bucket[AC_HIST_MAX + 1]; /* the last: above every bound (+Inf) */
	uint64_t count;
	double sum;
} ac_hist;

/* Request and query latencies in seconds, and sizes in powers of two. */
extern const double ac_hist_seconds[];
extern const int ac_hist_seconds_n;
extern const double ac_hist_sizes[];
extern const int ac_hist_sizes_n;

void ac_hist_init(ac_hist *h, const double *bounds, int n);

static inline void ac_hist_observe(ac_hist *h, double v)
{
	int i = 0;

	while (i < h->n && v > h->bounds[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum += v;
}

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void ac_metrics_head(ac_buf *b, const char *name, const char *type, const char *help);
/* name{labels} value; labels is "" or `a="x",b="y"` (values escaped by the caller
 * with ac_metrics_label when they are not the program's own words). */
void ac_metrics_value(ac_buf *b, const char *name, const char *labels, double v);
/* A histogram's _bucket lines (cumulative, with le), _sum and _count. */
void ac_metrics_hist(ac_buf *b, const char *name, const char *labels, const ac_hist *h);
/* A label value as the text format wants it: \ " and newline escaped. */
void ac_metrics_label(ac_buf *b, const char *value);

#endif
