#include <math.h>
#include <string.h>

#include "ac_metrics.h"

const double ac_hist_seconds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				   0.1,	   0.25,  0.5,	  1,	 2.5,  5,     10 };
const int ac_hist_seconds_n = sizeof(ac_hist_seconds) / sizeof(ac_hist_seconds[0]);
const double ac_hist_sizes[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096 };
const int ac_hist_sizes_n = sizeof(ac_hist_sizes) / sizeof(ac_hist_sizes[0]);

void ac_hist_init(ac_hist *h, const double *bounds, int n)
{
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->n = n < AC_HIST_MAX ? n : AC_HIST_MAX;
}

void ac_metrics_head(ac_buf *b, const char *name, const char *type, const char *help)
{
	ac_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_number(ac_buf *b, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		ac_buf_printf(b, "%.0f", v);
	else
		ac_buf_printf(b, "%.9g", v);
}

void ac_metrics_value(ac_buf *b, const char *name, const char *labels, double v)
{
	ac_buf_puts(b, name);
	if (labels != NULL && *labels != '\0')
		ac_buf_printf(b, "{%s}", labels);
	ac_buf_puts(b, " ");
	put_number(b, v);
	ac_buf_puts(b, "\n");
}

void ac_metrics_hist(ac_buf *b, const char *name, const char *labels, const ac_hist *h)
{
	const char *sep = labels != NULL && *labels != '\0' ? "," : "";
	uint64_t cum = 0;

	if (labels == NULL)
		labels = "";
	for (int i = 0; i <= h->n; i++) {
		cum += h->bucket[i];
		ac_buf_printf(b, "%s_bucket{%s%sle=\"", name, labels, sep);
		if (i < h->n)
			put_number(b, h->bounds[i]);
		else
			ac_buf_puts(b, "+Inf");
		ac_buf_printf(b, "\"} %llu\n", (unsigned long long)cum);
	}
	ac_buf_printf(b, "%s_sum%s%s%s ", name, *labels ? "{" : "", labels, *labels ? "}" : "");
	put_number(b, h->sum);
	ac_buf_printf(b, "\n%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels,
		      *labels ? "}" : "", (unsigned long long)h->count);
}

void ac_metrics_label(ac_buf *b, const char *value)
{
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			ac_buf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			ac_buf_puts(b, "\\n");
		else
			ac_buf_add(b, p, 1);
	}
}
