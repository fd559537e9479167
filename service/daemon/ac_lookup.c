#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ac_buf.h"
#include "ac_certdb.h"
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

/* A kept answer (used 0: an empty slot). */
typedef struct entry {
	int used;
	uint64_t serial;
	int item;
	ac_cert c; /* c.codes is codes_one: the item's code alone */
	char *codes_one[1];
	int scans;
	char *suspicion;
	char *office_name;  /* the issuer's township office to call, or NULL */
	char *office_phone; /* its telephone, or NULL */
} entry;

struct ac_lookup {
	ac_db *db;
	pending *waiting;
	int nwaiting;
	int cap;
	int in_flight;
	entry *cache;	    /* AC_LOOKUP_CACHE, allocated on first use */
	int shared;	    /* ac_lookup_set_shared */
	uint64_t forgotten; /* counts drops: a batch under way when one came is not kept */
	int64_t forgot_ms;  /* when the last drop came (monotonic) */
	int settle_ms;	    /* ac_lookup_set_settle */
	ac_closer close;
};

typedef struct batch {
	ac_lookup *lk;
	uint64_t forgotten;
	pending v[AC_LOOKUP_BATCH];
	int n;
} batch;

static size_t slot_of(uint64_t serial, int item)
{
	uint64_t h = (serial * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)item * 0xff51afd7ed558ccdULL);

	return (size_t)((h ^ (h >> 29)) % AC_LOOKUP_CACHE);
}

static void entry_clear(entry *e)
{
	if (e->c.codes == e->codes_one) {
		free(e->codes_one[0]);
		e->c.codes = NULL;
	}
	ac_cert_clear(&e->c);
	free(e->suspicion);
	free(e->office_name);
	free(e->office_phone);
	memset(e, 0, sizeof(*e));
}

static entry *cache_find(ac_lookup *lk, uint64_t serial, int item)
{
	entry *e;

	if (lk->cache == NULL || !lk->shared)
		return NULL;
	e = &lk->cache[slot_of(serial, item)];
	return e->used && e->serial == serial && e->item == item ? e : NULL;
}

static void answer_of(const entry *e, ac_lookup_answer *a)
{
	a->cert = &e->c;
	a->scans = e->scans;
	a->suspicion = e->suspicion;
	a->office_name = e->office_name;
	a->office_phone = e->office_phone;
}

/* A copy of a text column that may be NULL: 0, or -1 out of memory. */
static int field_dup(char **to, const ac_db_result *res, int row, const char *name)
{
	const char *v = ac_db_field(res, row, name);

	*to = v != NULL ? strdup(v) : NULL;
	return v != NULL && *to == NULL ? -1 : 0;
}

/* Reads a row of lookup_scans into e; 0 or -ENOMEM (e cleared). */
static int entry_read(entry *e, const ac_db_result *res, int row, uint64_t serial, int item)
{

	memset(e, 0, sizeof(*e));
	e->used = 1;
	e->serial = serial;
	e->item = item;
	e->scans = atoi(ac_db_field(res, row, "scans"));
	if (field_dup(&e->suspicion, res, row, "suspicion") != 0 ||
	    field_dup(&e->office_name, res, row, "office_name") != 0 ||
	    field_dup(&e->office_phone, res, row, "office_phone") != 0 ||
	    ac_certdb_read(res, row, &e->c) != 0) {
		entry_clear(e);
		return -ENOMEM;
	}
	/* Not an array as long as the labels (up to max_labels) per kept item. */
	e->codes_one[0] = e->c.codes[0];
	free(e->c.codes);
	e->c.codes = e->codes_one;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether an answer read now may be kept: nothing dropped while it was under
 * way and, reading a replica, none dropped within the time it may lag. */
static int keepable(const ac_lookup *lk, const batch *b)
{
	return lk->shared && b->forgotten == lk->forgotten &&
	       (lk->settle_ms == 0 || now_ms() - lk->forgot_ms >= lk->settle_ms);
}

/* Answers one look-up from its row, keeping the answer when keepable. */
static void answer_row(ac_lookup *lk, const batch *b, const pending *p, const ac_db_result *res,
		       int row)
{
	entry tmp;
	entry *e = &tmp;
	ac_lookup_answer a;

	int keep = keepable(lk, b);

	if (keep && lk->cache == NULL)
		lk->cache = calloc(AC_LOOKUP_CACHE, sizeof(*lk->cache));
	if (keep && lk->cache != NULL) {
		e = &lk->cache[slot_of(p->serial, p->item)];
		entry_clear(e);
	}
	if (entry_read(e, res, row, p->serial, p->item) != 0) {
		p->cb(p->data, NULL, AC_EDB);
		return;
	}
	answer_of(e, &a);
	p->cb(p->data, &a, 0);
	if (e == &tmp)
		entry_clear(&tmp);
}

static void send_batches(ac_lookup *lk);

static void maybe_closed(ac_lookup *lk)
{
	ac_closer c = lk->close;

	if (!lk->close.closing || lk->in_flight > 0)
		return;
	ac_lookup_set_shared(lk, 0);
	free(lk->cache);
	free(lk->waiting);
	free(lk);
	ac_closer_finish(c);
}

static void fail_all(pending *v, int n)
{
	for (int i = 0; i < n; i++)
		v[i].cb(v[i].data, NULL, AC_EDB);
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
			answer_row(lk, b, &b->v[n - 1], res, k);
		}
	}
	for (int i = 0; i < b->n; i++) {
		if (!found[i])
			b->v[i].cb(b->v[i].data, NULL, 0);
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
		b->forgotten = lk->forgotten;
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
	const entry *e;

	if (lk == NULL || lk->close.closing)
		return AC_EDB;
	if ((e = cache_find(lk, serial, item)) != NULL) {
		ac_lookup_answer a;

		answer_of(e, &a);
		cb(data, &a, 0);
		return 0;
	}
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

void ac_lookup_scanned(ac_lookup *lk, uint64_t serial, int item)
{
	entry *e = lk != NULL ? cache_find(lk, serial, item) : NULL;

	if (e != NULL)
		e->scans++;
}

void ac_lookup_forget(ac_lookup *lk, uint64_t serial, int item)
{
	if (lk == NULL)
		return;
	lk->forgotten++;
	lk->forgot_ms = now_ms();
	for (size_t i = 0; lk->cache != NULL && i < AC_LOOKUP_CACHE; i++) {
		entry *e = &lk->cache[i];

		if (e->used &&
		    (serial == 0 || (e->serial == serial && (item == 0 || e->item == item))))
			entry_clear(e);
	}
}

void ac_lookup_set_settle(ac_lookup *lk, int seconds)
{
	if (lk != NULL)
		lk->settle_ms = seconds * 1000;
}

void ac_lookup_set_shared(ac_lookup *lk, int shared)
{
	if (lk == NULL)
		return;
	ac_lookup_forget(lk, 0, 0);
	lk->shared = shared;
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
