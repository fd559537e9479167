#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ac_buf.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_issuer.h"
#include "ac_metrics.h"
#include "ac_closer.h"
#include "ac_log.h"

#define SERIAL_BLOCK 4096
/*
 * Batches signed or at the database at once. Every batch's audit entry takes
 * the audit head's row lock until it commits (sql/0003), so batches commit
 * one at a time whatever their number: two (one committing, the next signed
 * and waiting) make the largest batches; four split the same requests into
 * smaller batches queued on the lock (tests/bench/issue at 256 connections
 * on a busy machine: p99 187-285 ms with two against 259-619 ms with four,
 * rates within noise; the bare loop 4.1-4.7k/s against 2.7-4.2k/s).
 */
#define MAX_INFLIGHT 2
/* 2020-01-01 in days since the Unix epoch: day 0 of the code's issue_day. */
#define DAY_EPOCH  18262
#define CST_OFFSET (8 * 3600)

struct ac_issuer {
	uv_loop_t *loop;
	ac_db *db;
	ac_keyring *keys;
	int batch_max;
	ac_issue_job *head;
	ac_issue_job *tail;
	int npending;
	int inflight;
	uint64_t serial_next;
	uint64_t serial_end;
	uint64_t spare_block; /* a prefetched block number, or 0 */
	int fetching;
	ac_closer close;
	/* Counts for GET /metrics (ac_issuer_metrics). */
	ac_hist batch_jobs; /* certificates per batch */
	ac_hist job_wait;   /* a job's wait for its batch to start */
	ac_hist batch_time; /* a batch from its start (signing) to its commit */
	uint64_t failed;    /* jobs answered with an error (not stored) */
};

typedef struct batch {
	uv_work_t work;
	ac_issuer *is;
	ac_issue_job **jobs;
	int n;
	ac_keyring *ring; /* a reference, for the signing thread */
	uint16_t issue_day;
	int err;
	uint64_t started_ns;
} batch;

static void kick(ac_issuer *is);

static void maybe_closed(ac_issuer *is)
{
	ac_closer c = is->close;

	if (!is->close.closing || is->inflight > 0 || is->fetching)
		return;
	ac_keyring_unref(is->keys);
	free(is);
	ac_closer_finish(c);
}

static void finish_job(ac_issue_job *job, int err)
{
	job->err = err;
	if (err != 0 && job->issuer != NULL)
		job->issuer->failed++;
	job->done(job);
}

static void fail_pending(ac_issuer *is, int err)
{
	ac_issue_job *job = is->head;

	is->head = NULL;
	is->tail = NULL;
	is->npending = 0;
	while (job != NULL) {
		ac_issue_job *next = job->next;

		finish_job(job, err);
		job = next;
	}
}

/* Ends a batch: every job has been answered. */
static void batch_end(batch *b)
{
	ac_issuer *is = b->is;

	is->inflight--;
	if (b->started_ns != 0)
		ac_hist_observe(&is->batch_time, (double)(ac_now_ns() - b->started_ns) / 1e9);
	ac_keyring_unref(b->ring);
	free(b->jobs);
	free(b);
	if (is->close.closing)
		maybe_closed(is);
	else
		kick(is);
}

static void on_block(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_issuer *is = data;
	uint64_t block;

	is->fetching = 0;
	if (is->close.closing) {
		maybe_closed(is);
		return;
	}
	if (err != 0 || ac_db_rows(res) != 1) {
		ac_log_error("issue", "could not reserve serials: %s", msg ? msg : "no row");
		fail_pending(is, AC_EDB);
		return;
	}
	block = strtoull(ac_db_get(res, 0, 0), NULL, 10);
	if (is->serial_next == is->serial_end) {
		is->serial_next = block * SERIAL_BLOCK;
		is->serial_end = is->serial_next + SERIAL_BLOCK;
	} else {
		is->spare_block = block;
	}
	kick(is);
}

static void fetch_block(ac_issuer *is)
{
	if (is->fetching || is->spare_block != 0)
		return;
	if (ac_db_query(is->db, "SELECT nextval('certificate_serial_block')", 0, NULL, NULL,
			on_block, is) == 0)
		is->fetching = 1;
	else if (is->serial_next == is->serial_end)
		fail_pending(is, AC_EDB);
}

/* The code fields of c, but for the item index. */
static void code_fields(const batch *b, const ac_cert *c, ac_code_fields *f)
{
	memset(f, 0, sizeof(*f));
	f->version = AC_CODE_VERSION;
	f->kid = (uint16_t)c->kid;
	f->serial = c->serial;
	f->issue_day = b->issue_day;
	f->product = (uint16_t)c->product_id;
	f->quantity_milli = (uint32_t)c->quantity_milli;
	f->unit = (uint8_t)c->unit;
	f->issuer = (uint32_t)c->issuer_id;
	f->origin = (uint64_t)c->origin_code;
	f->basis = (uint8_t)c->basis;
	f->style = (uint8_t)c->style;
}

/* The signing step: thread pool. Touches only its batch. */
static void sign_batch(uv_work_t *w)
{
	batch *b = w->data;
	char text[256];

	for (int i = 0; i < b->n && b->err == 0; i++) {
		ac_cert *c = &b->jobs[i]->cert;
		ac_code_fields f;

		code_fields(b, c, &f);
		c->codes = calloc(c->labels, sizeof(char *));
		if (c->codes == NULL) {
			b->err = -ENOMEM;
			break;
		}
		for (int k = 0; k < c->labels && b->err == 0; k++) {
			f.item = (uint16_t)(k + 1);
			b->err = ac_code_sign(b->ring->signer->key, &f, text, sizeof(text));
			if (b->err == 0 && (c->codes[k] = strdup(text)) == NULL)
				b->err = -ENOMEM;
		}
	}
}

/* The arguments of issue_batch() (sql/0025_station.sql), one array each. */
enum {
	A_SERIAL,
	A_KID,
	A_ISSUER,
	A_STYLE,
	A_BASIS,
	A_PRODUCT,
	A_QTY,
	A_UNIT,
	A_ORIGIN,
	A_ORIGIN_CODE,
	A_CONTACT,
	A_LABELS,
	A_CODES,
	A_IDEM,
	A_PRINTER,
	A_FP,
	A_TEST,
	A_ASSISTED,
	A_COUNT
};

static const ac_db_param batch_args[A_COUNT] = {
	[A_SERIAL] = { "p_serial", "bigint[]" }, [A_KID] = { "p_kid", "int[]" },
	[A_ISSUER] = { "p_issuer", "int[]" },	 [A_STYLE] = { "p_style", "smallint[]" },
	[A_BASIS] = { "p_basis", "smallint[]" }, [A_PRODUCT] = { "p_product", "int[]" },
	[A_QTY] = { "p_qty", "bigint[]" },	 [A_UNIT] = { "p_unit", "smallint[]" },
	[A_ORIGIN] = { "p_origin", "text[]" },	 [A_ORIGIN_CODE] = { "p_origin_code", "bigint[]" },
	[A_CONTACT] = { "p_contact", "text[]" }, [A_LABELS] = { "p_labels", "int[]" },
	[A_CODES] = { "p_codes", "text[]" },	 [A_IDEM] = { "p_idem", "text[]" },
	[A_PRINTER] = { "p_printer", "text[]" }, [A_FP] = { "p_fp", "text[]" },
	[A_TEST] = { "p_test", "bigint[]" },	 [A_ASSISTED] = { "p_assisted", "int[]" },
};

/* The item codes joined by commas, as one array element. */
static void add_codes(ac_buf *b, const ac_cert *c)
{
	ac_buf_add(b, b->len > 1 ? ",\"" : "\"", b->len > 1 ? 2 : 1);
	for (int k = 0; k < c->labels; k++) {
		if (k)
			ac_buf_add(b, ",", 1);
		ac_buf_puts(b, c->codes[k]);
	}
	ac_buf_add(b, "\"", 1);
}

static void add_row(ac_buf *p, const ac_issue_job *job)
{
	const ac_cert *c = &job->cert;

	ac_buf_pg_next_int(&p[A_SERIAL], (long long)c->serial, 0);
	ac_buf_pg_next_int(&p[A_KID], c->kid, 0);
	ac_buf_pg_next_int(&p[A_ISSUER], c->issuer_id, 0);
	ac_buf_pg_next_int(&p[A_STYLE], c->style, 0);
	ac_buf_pg_next_int(&p[A_BASIS], c->basis, 0);
	ac_buf_pg_next_int(&p[A_PRODUCT], c->product_id, 0);
	ac_buf_pg_next_int(&p[A_QTY], (long long)c->quantity_milli, 0);
	ac_buf_pg_next_int(&p[A_UNIT], c->unit, 0);
	ac_buf_pg_next(&p[A_ORIGIN], c->origin);
	ac_buf_pg_next_int(&p[A_ORIGIN_CODE], (long long)c->origin_code, 0);
	ac_buf_pg_next(&p[A_CONTACT], c->contact);
	ac_buf_pg_next_int(&p[A_LABELS], c->labels, 0);
	add_codes(&p[A_CODES], c);
	ac_buf_pg_next(&p[A_IDEM], job->idempotency_key);
	ac_buf_pg_next(&p[A_PRINTER], c->printer_id);
	ac_buf_pg_next(&p[A_FP], c->request_fp);
	ac_buf_pg_next_int(&p[A_TEST], c->test_id, 1);
	ac_buf_pg_next_int(&p[A_ASSISTED], c->assisted_by, 1);
}

static void set_print_job(ac_issue_job *job, const char *id)
{
	job->cert.print_job_id = id ? strtoll(id, NULL, 10) : 0;
	if (id != NULL) {
		free(job->cert.print_state);
		job->cert.print_state = strdup("queued");
	}
}

static int send_batch(batch *b);

/* An error the input caused (data exception, integrity constraint). */
static int input_error(const ac_db_result *res)
{
	const char *state = ac_db_sqlstate(res);

	return strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0;
}

/*
 * A batch the database refused for a value of one of its jobs: each job is
 * sent again on its own (signed already), so that only the job at fault
 * fails. Returns 0 when every part was sent.
 */
static int split_batch(batch *b)
{
	ac_issuer *is = b->is;
	int fails = 0;

	for (int i = 0; i < b->n; i++) {
		batch *one = calloc(1, sizeof(*one));

		if (one == NULL || (one->jobs = calloc(1, sizeof(*one->jobs))) == NULL) {
			free(one);
			finish_job(b->jobs[i], AC_EDB);
			fails++;
			continue;
		}
		one->is = is;
		one->ring = ac_keyring_ref(b->ring);
		one->jobs[0] = b->jobs[i];
		one->n = 1;
		is->inflight++;
		if (send_batch(one) != 0) {
			finish_job(one->jobs[0], AC_EDB);
			batch_end(one);
			fails++;
		}
	}
	return fails;
}

/* The columns of issue_batch() that say why a row was not stored, first reason first. */
static const struct {
	const char *col;
	int refused;
} refusals[] = {
	{ "unblocked", AC_REFUSED_BLOCKED },
	{ "tested", AC_REFUSED_UNTESTED },
	{ "tested_for_sale", AC_REFUSED_TEST_REQUIRED },
};

#define NREFUSALS (sizeof(refusals) / sizeof(refusals[0]))

/* Why row k was not stored: AC_REFUSED_*, or 0 (a duplicate key). */
static int refusal(const ac_db_result *res, int k)
{
	for (size_t i = 0; i < NREFUSALS; i++) {
		if (!ac_db_bool(res, k, ac_db_col(res, refusals[i].col)))
			return refusals[i].refused;
	}
	return 0;
}

static void on_inserted(void *data, const ac_db_result *res, int err, const char *msg)
{
	batch *b = data;
	int c_serial = ac_db_col(res, "serial");
	int c_job = ac_db_col(res, "print_job_id");
	int c_stored = ac_db_col(res, "stored");

	if (err != 0 && res != NULL && input_error(res) && b->n > 1) {
		ac_log_warn("issue", "a batch of %d was refused (%s): storing them one by one",
			    b->n, msg);
		split_batch(b);
		batch_end(b);
		return;
	}
	if (err != 0 && res != NULL && input_error(res)) {
		ac_log_warn("issue", "a certificate was refused: %s", msg);
		snprintf(b->jobs[0]->errmsg, sizeof(b->jobs[0]->errmsg), "%s", msg);
		finish_job(b->jobs[0], AC_EINPUT);
		batch_end(b);
		return;
	}
	if (err != 0) {
		ac_log_error("issue", "could not store %d certificates: %s", b->n, msg);
		for (int i = 0; i < b->n; i++)
			finish_job(b->jobs[i], AC_EDB);
		batch_end(b);
		return;
	}
	/* Serials are consecutive within a batch: a returned serial names its job. */
	for (int k = 0; k < ac_db_rows(res); k++) {
		uint64_t i =
		    strtoull(ac_db_get(res, k, c_serial), NULL, 10) - b->jobs[0]->cert.serial;
		ac_issue_job *job;

		if (i >= (uint64_t)b->n)
			continue;
		job = b->jobs[i];
		if (ac_db_bool(res, k, c_stored)) {
			job->stored = 1;
			set_print_job(job, ac_db_get(res, k, c_job));
		} else {
			job->refused = refusal(res, k);
		}
	}
	for (int i = 0; i < b->n; i++) {
		ac_issue_job *job = b->jobs[i];

		job->duplicate = !job->stored && !job->refused;
		finish_job(job, 0);
	}
	batch_end(b);
}

static int send_batch(batch *b)
{
	ac_buf p[A_COUNT];
	ac_db_call call;
	int r;

	ac_db_arrays_open(p, A_COUNT);
	for (int i = 0; i < b->n; i++)
		add_row(p, b->jobs[i]);
	ac_db_call_init(&call, "issue_batch");
	r = ac_db_arrays_args(&call, batch_args, p, A_COUNT);
	ac_db_arg(&call, "p_issued_at", "timestamptz", b->jobs[0]->cert.issued_at);
	if (r == 0)
		r = ac_db_query_call(b->is->db, NULL, &call, on_inserted, b);
	ac_db_arrays_free(p, A_COUNT);
	return r;
}

static void on_reissued(void *data, const ac_db_result *res, int err, const char *msg)
{
	batch *b = data;
	ac_issue_job *job = b->jobs[0];

	if (err != 0 && strcmp(ac_db_sqlstate(res), "AC001") == 0) {
		snprintf(job->errmsg, sizeof(job->errmsg), "%s", msg);
		finish_job(job, AC_ECHAIN);
	} else if (err != 0 && res != NULL && input_error(res)) {
		ac_log_warn("issue", "a re-issue was refused: %s", msg);
		snprintf(job->errmsg, sizeof(job->errmsg), "%s", msg);
		finish_job(job, AC_EINPUT);
	} else if (err != 0) {
		ac_log_error("issue", "could not store a re-issue: %s", msg);
		finish_job(job, AC_EDB);
	} else {
		job->duplicate = ac_db_rows(res) == 0;
		job->stored = !job->duplicate;
		set_print_job(job, ac_db_field(res, 0, "print_job_id"));
		finish_job(job, 0);
	}
	batch_end(b);
}

/* The inputs of reissue() (sql/0018_chain_rules.sql), one array each. */
enum { IN_SERIAL, IN_EXTERNAL, IN_QTY, IN_UNIT, IN_COUNT };

static const ac_db_param input_args[IN_COUNT] = {
	[IN_SERIAL] = { "p_in_serial", "bigint[]" },
	[IN_EXTERNAL] = { "p_in_external", "bigint[]" },
	[IN_QTY] = { "p_in_qty", "bigint[]" },
	[IN_UNIT] = { "p_in_unit", "smallint[]" },
};

static void add_input(ac_buf *in, const ac_issue_input *x)
{
	ac_buf_pg_next_int(&in[IN_SERIAL], (long long)x->serial, 1);
	ac_buf_pg_next_int(&in[IN_EXTERNAL], x->external, 1);
	ac_buf_pg_next_int(&in[IN_QTY], x->quantity_milli, 0);
	ac_buf_pg_next_int(&in[IN_UNIT], x->unit, 0);
}

static int send_reissue(batch *b)
{
	ac_issue_job *job = b->jobs[0];
	const ac_cert *c = &job->cert;
	ac_db_call call;
	ac_buf codes;
	ac_buf in[IN_COUNT];
	int r;

	ac_buf_init(&codes);
	for (int k = 0; k < c->labels; k++) {
		if (k)
			ac_buf_add(&codes, ",", 1);
		ac_buf_puts(&codes, c->codes[k]);
	}
	ac_db_arrays_open(in, IN_COUNT);
	for (int i = 0; i < job->ninputs; i++)
		add_input(in, &job->inputs[i]);
	ac_db_call_init(&call, "reissue");
	ac_db_arg_int(&call, "p_serial", "bigint", (long long)c->serial);
	ac_db_arg_int(&call, "p_kid", "int", c->kid);
	ac_db_arg_int(&call, "p_issuer", "int", c->issuer_id);
	ac_db_arg_int(&call, "p_basis", "smallint", c->basis);
	ac_db_arg_int(&call, "p_product", "int", c->product_id);
	ac_db_arg_int(&call, "p_qty", "bigint", (long long)c->quantity_milli);
	ac_db_arg_int(&call, "p_unit", "smallint", c->unit);
	ac_db_arg(&call, "p_origin", "text", c->origin);
	ac_db_arg_int(&call, "p_origin_code", "bigint", (long long)c->origin_code);
	ac_db_arg(&call, "p_contact", "text", c->contact);
	ac_db_arg(&call, "p_issued_at", "timestamptz", c->issued_at);
	ac_db_arg_int(&call, "p_labels", "int", c->labels);
	ac_db_arg(&call, "p_codes", "text", codes.data);
	ac_db_arg(&call, "p_idem", "text", job->idempotency_key);
	ac_db_arg(&call, "p_fp", "text", c->request_fp);
	ac_db_arg(&call, "p_printer", "text", c->printer_id);
	r = ac_db_arrays_args(&call, input_args, in, IN_COUNT);
	if (r == 0)
		r = ac_buf_ok(&codes) ? ac_db_query_call(b->is->db, NULL, &call, on_reissued, b)
				      : -ENOMEM;
	ac_buf_free(&codes);
	ac_db_arrays_free(in, IN_COUNT);
	return r;
}

static void after_sign(uv_work_t *w, int status)
{
	batch *b = w->data;
	int r = status != 0 ? status : b->err;

	if (r != 0) {
		ac_log_error("issue", "could not sign %d certificates: %s", b->n, ac_strerror(r));
		r = AC_ECRYPTO;
	} else {
		r = b->jobs[0]->ninputs > 0 ? send_reissue(b) : send_batch(b);
		if (r == 0) {
			/* The commit is on its way: the answer comes later, from the loop. */
			for (int i = 0; i < b->n; i++) {
				if (b->jobs[i]->signed_cb != NULL)
					b->jobs[i]->signed_cb(b->jobs[i]);
			}
			return;
		}
		ac_log_error("issue", "could not send %d certificates: %s", b->n, ac_strerror(r));
		r = AC_EDB;
	}
	for (int i = 0; i < b->n; i++)
		finish_job(b->jobs[i], r);
	batch_end(b);
}

/* How many waiting jobs the next batch takes: a re-issue goes alone, and a
 * bulk batch stops before the next re-issue. */
static int batch_size(const ac_issuer *is)
{
	uint64_t avail = is->serial_end - is->serial_next;
	int n = is->npending < is->batch_max ? is->npending : is->batch_max;
	int k = 0;

	if ((uint64_t)n > avail)
		n = (int)avail;
	if (is->head->ninputs > 0)
		return 1;
	for (ac_issue_job *j = is->head; j != NULL && k < n && j->ninputs == 0; j = j->next)
		k++;
	return k;
}

static void start_batch(ac_issuer *is)
{
	int n = batch_size(is);
	struct timespec ts;
	struct tm tm;
	char when[32];
	time_t cst;
	batch *b;

	if (is->keys->signer == NULL) {
		/* A reload left no key that may sign. */
		fail_pending(is, AC_EKEY);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL || (b->jobs = calloc(n, sizeof(*b->jobs))) == NULL) {
		free(b);
		fail_pending(is, -ENOMEM);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	cst = ts.tv_sec + CST_OFFSET;
	gmtime_r(&cst, &tm);
	b->is = is;
	b->ring = ac_keyring_ref(is->keys);
	b->issue_day = (uint16_t)(cst / 86400 - DAY_EPOCH);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	b->started_ns = ac_now_ns();
	ac_hist_observe(&is->batch_jobs, n);
	for (int i = 0; i < n; i++) {
		ac_issue_job *job = is->head;
		ac_cert *c = &job->cert;

		is->head = job->next;
		job->next = NULL;
		ac_hist_observe(&is->job_wait, (double)(b->started_ns - job->queued_ns) / 1e9);
		c->serial = is->serial_next++;
		c->kid = b->ring->signer->kid;
		snprintf(c->issued_at, sizeof(c->issued_at), "%.19s.%03d+08:00", when,
			 (int)(ts.tv_nsec / 1000000));
		b->jobs[i] = job;
	}
	if (is->head == NULL)
		is->tail = NULL;
	is->npending -= n;
	b->n = n;
	b->work.data = b;
	is->inflight++;
	if (uv_queue_work(is->loop, &b->work, sign_batch, after_sign) != 0)
		after_sign(&b->work, -ENOMEM);
}

static void kick(ac_issuer *is)
{
	while (is->npending > 0 && is->inflight < MAX_INFLIGHT) {
		if (is->serial_next == is->serial_end && is->spare_block != 0) {
			is->serial_next = is->spare_block * SERIAL_BLOCK;
			is->serial_end = is->serial_next + SERIAL_BLOCK;
			is->spare_block = 0;
		}
		if (is->serial_end - is->serial_next < SERIAL_BLOCK / 2)
			fetch_block(is);
		if (is->serial_next == is->serial_end)
			return;
		start_batch(is);
	}
}

int ac_issuer_new(uv_loop_t *loop, ac_db *db, ac_keyring *keys, int batch_max, ac_issuer **out)
{
	ac_issuer *is = calloc(1, sizeof(*is));

	*out = NULL;
	if (is == NULL)
		return -ENOMEM;
	is->loop = loop;
	is->db = db;
	is->keys = ac_keyring_ref(keys);
	is->batch_max = batch_max;
	ac_hist_init(&is->batch_jobs, ac_hist_sizes, ac_hist_sizes_n);
	ac_hist_init(&is->job_wait, ac_hist_seconds, ac_hist_seconds_n);
	ac_hist_init(&is->batch_time, ac_hist_seconds, ac_hist_seconds_n);
	*out = is;
	return 0;
}

int ac_issuer_submit(ac_issuer *is, ac_issue_job *job)
{
	if (is == NULL || is->close.closing)
		return AC_EDB;
	if (is->keys == NULL || is->keys->signer == NULL)
		return AC_EKEY;
	job->next = NULL;
	job->issuer = is;
	job->queued_ns = ac_now_ns();
	if (is->tail != NULL)
		is->tail->next = job;
	else
		is->head = job;
	is->tail = job;
	is->npending++;
	kick(is);
	return 0;
}

void ac_issuer_metrics(const ac_issuer *is, ac_buf *b)
{
	if (is == NULL)
		return;
	ac_metrics_head(b, "agricert_issue_batch_certificates", "histogram",
			"Certificates per group commit (one statement, one transaction)");
	ac_metrics_hist(b, "agricert_issue_batch_certificates", "", &is->batch_jobs);
	ac_metrics_head(b, "agricert_issue_wait_seconds", "histogram",
			"A certificate's wait for its batch to start");
	ac_metrics_hist(b, "agricert_issue_wait_seconds", "", &is->job_wait);
	ac_metrics_head(b, "agricert_issue_batch_seconds", "histogram",
			"A batch from its start (signing) to its commit");
	ac_metrics_hist(b, "agricert_issue_batch_seconds", "", &is->batch_time);
	ac_metrics_head(b, "agricert_issue_pending", "gauge",
			"Certificates waiting for a batch, and batches under way");
	ac_metrics_value(b, "agricert_issue_pending", "state=\"waiting\"", is->npending);
	ac_metrics_value(b, "agricert_issue_pending", "state=\"batches\"", is->inflight);
	ac_metrics_head(b, "agricert_issue_failed_total", "counter",
			"Certificates answered with an error (nothing stored)");
	ac_metrics_value(b, "agricert_issue_failed_total", "", (double)is->failed);
}

int ac_issuer_busy(const ac_issuer *is)
{
	if (is == NULL)
		return 0;
	return is->inflight + is->npending + is->fetching;
}

void ac_issuer_set_keys(ac_issuer *is, ac_keyring *keys)
{
	ac_keyring *old;

	if (is == NULL)
		return;
	old = is->keys;

	is->keys = ac_keyring_ref(keys);
	ac_keyring_unref(old);
}

void ac_issuer_close(ac_issuer *is, void (*cb)(void *data), void *data)
{
	if (ac_closer_none(is, cb, data))
		return;
	ac_closer_start(&is->close, cb, data);
	fail_pending(is, AC_EDB);
	maybe_closed(is);
}
