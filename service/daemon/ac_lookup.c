#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_buf.h"
#include "ac_error.h"
#include "ac_closer.h"
#include "ac_log.h"
#include "ac_lookup.h"

typedef struct pending {
	uint64_t serial;
	int item;
	ac_lookup_cb cb;
	void *data;
} pending;

struct ac_lookup {
	ac_db *db;
	pending *waiting;
	int nwaiting;
	int cap;
	int in_flight;
	ac_closer close;
};

typedef struct batch {
	ac_lookup *lk;
	pending v[AC_LOOKUP_BATCH];
	int n;
} batch;

static void send_batches(ac_lookup *lk);

static void maybe_closed(ac_lookup *lk)
{
	ac_closer c = lk->close;

	if (!lk->close.closing || lk->in_flight > 0)
		return;
	free(lk->waiting);
	free(lk);
	ac_closer_finish(c);
}

static void fail_all(pending *v, int n)
{
	for (int i = 0; i < n; i++)
		v[i].cb(v[i].data, NULL, -1, AC_EDB);
}

static void on_batch(void *data, const ac_db_result *res, int err, const char *msg)
{
	batch *b = data;
	ac_lookup *lk = b->lk;
	int found[AC_LOOKUP_BATCH] = { 0 };
	int c_n = ac_db_col(res, "n");

	lk->in_flight--;
	if (err != 0) {
		ac_log_error("scan", "could not look up %d certificates: %s", b->n, msg);
		fail_all(b->v, b->n);
		goto out;
	}
	for (int k = 0; k < ac_db_rows(res); k++) {
		int n = atoi(ac_db_get(res, k, c_n));

		if (n >= 1 && n <= b->n && !found[n - 1]) {
			found[n - 1] = 1;
			b->v[n - 1].cb(b->v[n - 1].data, res, k, 0);
		}
	}
	for (int i = 0; i < b->n; i++) {
		if (!found[i])
			b->v[i].cb(b->v[i].data, res, -1, 0);
	}
out:
	free(b);
	if (lk->close.closing)
		maybe_closed(lk);
	else
		send_batches(lk);
}

/* Takes up to a batch of waiting look-ups; returns how many. */
static int take(ac_lookup *lk, batch *b)
{
	b->n = lk->nwaiting < AC_LOOKUP_BATCH ? lk->nwaiting : AC_LOOKUP_BATCH;
	memcpy(b->v, lk->waiting, (size_t)b->n * sizeof(pending));
	memmove(lk->waiting, lk->waiting + b->n, (size_t)(lk->nwaiting - b->n) * sizeof(pending));
	lk->nwaiting -= b->n;
	return b->n;
}

static int send_batch(ac_lookup *lk, batch *b)
{
	ac_buf serials;
	ac_buf items;
	const char *values[2];
	int rc = -ENOMEM;

	ac_buf_init(&serials);
	ac_buf_init(&items);
	ac_buf_add(&serials, "{", 1);
	ac_buf_add(&items, "{", 1);
	for (int i = 0; i < b->n; i++) {
		ac_buf_pg_next_int(&serials, (long long)b->v[i].serial, 0);
		ac_buf_pg_next_int(&items, b->v[i].item, 0);
	}
	ac_buf_add(&serials, "}", 1);
	ac_buf_add(&items, "}", 1);
	values[0] = serials.data;
	values[1] = items.data;
	if (ac_buf_ok(&serials) && ac_buf_ok(&items))
		rc = ac_db_query(lk->db, "SELECT * FROM lookup_scans($1::bigint[], $2::int[])", 2,
				 values, NULL, on_batch, b);
	ac_buf_free(&serials);
	ac_buf_free(&items);
	return rc;
}

static void send_batches(ac_lookup *lk)
{
	while (lk->nwaiting > 0 && lk->in_flight < AC_LOOKUPS_IN_FLIGHT) {
		batch *b = malloc(sizeof(*b));

		if (b == NULL)
			return; /* the next batch to come back tries again */
		b->lk = lk;
		take(lk, b);
		if (send_batch(lk, b) == 0) {
			lk->in_flight++;
		} else {
			fail_all(b->v, b->n);
			free(b);
		}
	}
}

int ac_lookup_new(ac_db *db, ac_lookup **out)
{
	ac_lookup *lk = calloc(1, sizeof(*lk));

	*out = NULL;
	if (lk == NULL)
		return -ENOMEM;
	lk->db = db;
	*out = lk;
	return 0;
}

int ac_lookup_submit(ac_lookup *lk, uint64_t serial, int item, ac_lookup_cb cb, void *data)
{
	if (lk == NULL || lk->close.closing)
		return AC_EDB;
	if (lk->nwaiting == lk->cap) {
		int cap = lk->cap ? lk->cap * 2 : AC_LOOKUP_BATCH;
		pending *p = realloc(lk->waiting, (size_t)cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		lk->waiting = p;
		lk->cap = cap;
	}
	lk->waiting[lk->nwaiting++] = (pending){ serial, item, cb, data };
	send_batches(lk);
	return 0;
}

int ac_lookup_busy(const ac_lookup *lk)
{
	if (lk == NULL)
		return 0;
	return lk->nwaiting + lk->in_flight;
}

void ac_lookup_close(ac_lookup *lk, void (*cb)(void *data), void *data)
{
	if (ac_closer_none(lk, cb, data))
		return;
	ac_closer_start(&lk->close, cb, data);
	fail_all(lk->waiting, lk->nwaiting);
	lk->nwaiting = 0;
	maybe_closed(lk);
}
