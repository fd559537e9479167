#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ac_buf.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_issuer.h"
#include "ac_log.h"

#define SERIAL_BLOCK 4096
#define MAX_INFLIGHT 4
/* 2020-01-01 in days since the Unix epoch: day 0 of the code's issue_day. */
#define DAY_EPOCH  18262
#define CST_OFFSET (8 * 3600)

struct ac_issuer {
	uv_loop_t *loop;
	ac_db *db;
	const ac_keyring *keys;
	int batch_max;
	ac_issue_job *head;
	ac_issue_job *tail;
	int npending;
	int inflight;
	uint64_t serial_next;
	uint64_t serial_end;
	uint64_t spare_block; /* a prefetched block number, or 0 */
	int fetching;
};

typedef struct batch {
	uv_work_t work;
	ac_issuer *is;
	ac_issue_job **jobs;
	int n;
	const ac_keyring_entry *signer;
	uint16_t issue_day;
	int err;
} batch;

static void kick(ac_issuer *is);

static void batch_free(batch *b)
{
	free(b->jobs);
	free(b);
}

static void finish_job(ac_issue_job *job, int err)
{
	job->err = err;
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

static void on_block(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_issuer *is = data;
	uint64_t block;

	is->fetching = 0;
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

/* The signing step: thread pool. Touches only its batch. */
static void sign_batch(uv_work_t *w)
{
	batch *b = w->data;
	char text[256];

	for (int i = 0; i < b->n && b->err == 0; i++) {
		ac_cert *c = &b->jobs[i]->cert;
		ac_code_fields f;

		memset(&f, 0, sizeof(f));
		f.version = AC_CODE_VERSION;
		f.kid = (uint16_t)c->kid;
		f.serial = c->serial;
		f.issue_day = b->issue_day;
		f.product = (uint16_t)c->product_id;
		f.quantity_milli = (uint32_t)c->quantity_milli;
		f.unit = (uint8_t)c->unit;
		f.issuer = (uint32_t)c->issuer_id;
		f.origin = (uint64_t)c->origin_code;
		f.basis = (uint8_t)c->basis;
		f.style = (uint8_t)c->style;
		c->codes = calloc(c->labels, sizeof(char *));
		if (c->codes == NULL) {
			b->err = -ENOMEM;
			break;
		}
		for (int k = 0; k < c->labels; k++) {
			int r;

			f.item = (uint16_t)(k + 1);
			r = ac_code_sign(b->signer->key, &f, text, sizeof(text));
			if (r != 0) {
				b->err = r;
				break;
			}
			c->codes[k] = strdup(text);
			if (c->codes[k] == NULL) {
				b->err = -ENOMEM;
				break;
			}
		}
	}
}

/*
 * One statement per batch. Rows whose producer is blocked by a failed rapid
 * test, or whose test-based basis names no passing test of theirs, are not
 * stored; every input row comes back with what happened to it.
 */
static const char insert_sql[] =
    "WITH input AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[], "
    "$4::smallint[], $5::smallint[], $6::int[], $7::bigint[], $8::smallint[], $9::text[], "
    "$10::bigint[], $11::text[], $12::int[], $13::text[], $14::text[], $15::text[], "
    "$16::text[], $17::bigint[]) AS t(serial, kid, issuer_id, style, basis, product_id, "
    "quantity_milli, unit, origin, origin_code, contact, labels, codes, idem, printer_id, fp, "
    "test_id)), "
    "ok AS (SELECT i.*, NOT EXISTS (SELECT 1 FROM rapid_block b WHERE b.subject_id = "
    "i.issuer_id AND b.product_id = i.product_id) AS unblocked, (i.basis = 0 OR EXISTS "
    "(SELECT 1 FROM rapid_test t WHERE t.id = i.test_id AND t.subject_id = i.issuer_id AND "
    "t.product_id = i.product_id AND t.result = 'pass')) AS tested FROM input i), "
    "ins AS (INSERT INTO certificate (serial, kid, issuer_id, style, basis, product_id, "
    "quantity_milli, unit, origin, origin_code, contact, labels, item_codes, "
    "idempotency_key, request_fp, test_id, issued_at) "
    "SELECT serial, kid, issuer_id, style, basis, product_id, quantity_milli, unit, origin, "
    "origin_code, contact, labels, string_to_array(codes, ','), idem, fp, test_id, "
    "$18::timestamptz FROM ok WHERE unblocked AND tested "
    "ON CONFLICT (issuer_id, idempotency_key) DO NOTHING RETURNING serial), "
    "pj AS (INSERT INTO print_job (serial, printer_id) SELECT i.serial, i.printer_id "
    "FROM input i JOIN ins USING (serial) WHERE i.printer_id IS NOT NULL "
    "RETURNING id, serial) "
    "SELECT ok.serial, pj.id, ins.serial IS NOT NULL, ok.unblocked, ok.tested FROM ok "
    "LEFT JOIN ins USING (serial) LEFT JOIN pj USING (serial)";

enum {
	P_SERIAL,
	P_KID,
	P_ISSUER,
	P_STYLE,
	P_BASIS,
	P_PRODUCT,
	P_QTY,
	P_UNIT,
	P_ORIGIN,
	P_ORIGIN_CODE,
	P_CONTACT,
	P_LABELS,
	P_CODES,
	P_IDEM,
	P_PRINTER,
	P_FP,
	P_TEST,
	P_NUM
};

static void on_inserted(void *data, const ac_db_result *res, int err, const char *msg)
{
	batch *b = data;
	ac_issuer *is = b->is;
	int rows = ac_db_rows(res);

	is->inflight--;
	if (err != 0) {
		ac_log_error("issue", "could not store %d certificates: %s", b->n, msg);
		for (int i = 0; i < b->n; i++)
			finish_job(b->jobs[i], AC_EDB);
		goto out;
	}
	/* Serials are consecutive within a batch: a returned serial names its job. */
	for (int k = 0; k < rows; k++) {
		uint64_t serial = strtoull(ac_db_get(res, k, 0), NULL, 10);
		uint64_t i = serial - b->jobs[0]->cert.serial;
		const char *pj = ac_db_get(res, k, 1);
		ac_issue_job *job;

		if (i >= (uint64_t)b->n)
			continue;
		job = b->jobs[i];
		if (ac_db_get(res, k, 2)[0] != 't') {
			if (ac_db_get(res, k, 3)[0] != 't')
				job->refused = AC_REFUSED_BLOCKED;
			else if (ac_db_get(res, k, 4)[0] != 't')
				job->refused = AC_REFUSED_UNTESTED;
			continue;
		}
		job->stored = 1;
		job->cert.print_job_id = pj ? strtoll(pj, NULL, 10) : 0;
		if (pj != NULL) {
			free(job->cert.print_state);
			job->cert.print_state = strdup("queued");
		}
	}
	for (int i = 0; i < b->n; i++) {
		ac_issue_job *job = b->jobs[i];

		job->duplicate = !job->stored && !job->refused;
		finish_job(job, 0);
	}
out:
	batch_free(b);
	kick(is);
}

static const char reissue_sql[] =
    "SELECT * FROM reissue($1::bigint, $2::int, $3::int, $4::smallint, $5::int, $6::bigint, "
    "$7::smallint, $8, $9::bigint, $10, $11::timestamptz, $12::int, $13, $14, $15, $16, "
    "$17::bigint[], $18::bigint[], $19::smallint[])";

static void on_reissued(void *data, const ac_db_result *res, int err, const char *msg)
{
	batch *b = data;
	ac_issuer *is = b->is;
	ac_issue_job *job = b->jobs[0];

	is->inflight--;
	if (err != 0 && strcmp(ac_db_sqlstate(res), "AC001") == 0) {
		snprintf(job->errmsg, sizeof(job->errmsg), "%s", msg);
		finish_job(job, AC_ESHORT);
	} else if (err != 0) {
		ac_log_error("issue", "could not store a re-issue: %s", msg);
		finish_job(job, AC_EDB);
	} else {
		const char *pj = ac_db_get(res, 0, 1);

		job->duplicate = ac_db_rows(res) == 0;
		job->cert.print_job_id = pj ? strtoll(pj, NULL, 10) : 0;
		if (pj != NULL) {
			free(job->cert.print_state);
			job->cert.print_state = strdup("queued");
		}
		finish_job(job, 0);
	}
	batch_free(b);
	kick(is);
}

static int send_reissue(batch *b)
{
	ac_cert *c = &b->jobs[0]->cert;
	ac_issue_job *job = b->jobs[0];
	ac_buf nums[12];
	ac_buf codes;
	ac_buf in[3];
	const char *v[19];
	int r = 0;

	for (int i = 0; i < 12; i++)
		ac_buf_init(&nums[i]);
	ac_buf_int(&nums[0], (long long)c->serial);
	ac_buf_int(&nums[1], c->kid);
	ac_buf_int(&nums[2], c->issuer_id);
	ac_buf_int(&nums[3], c->basis);
	ac_buf_int(&nums[4], c->product_id);
	ac_buf_int(&nums[5], (long long)c->quantity_milli);
	ac_buf_int(&nums[6], c->unit);
	ac_buf_int(&nums[7], (long long)c->origin_code);
	ac_buf_int(&nums[8], c->labels);
	ac_buf_init(&codes);
	for (int k = 0; k < c->labels; k++) {
		if (k)
			ac_buf_add(&codes, ",", 1);
		ac_buf_puts(&codes, c->codes[k]);
	}
	for (int i = 0; i < 3; i++) {
		ac_buf_init(&in[i]);
		ac_buf_add(&in[i], "{", 1);
	}
	for (int i = 0; i < job->ninputs; i++) {
		const char *sep = i ? "," : "";

		ac_buf_puts(&in[0], sep);
		ac_buf_int(&in[0], (long long)job->in_serial[i]);
		ac_buf_puts(&in[1], sep);
		ac_buf_int(&in[1], job->in_qty[i]);
		ac_buf_puts(&in[2], sep);
		ac_buf_int(&in[2], job->in_unit[i]);
	}
	for (int i = 0; i < 3; i++)
		ac_buf_add(&in[i], "}", 1);
	v[0] = nums[0].data;
	v[1] = nums[1].data;
	v[2] = nums[2].data;
	v[3] = nums[3].data;
	v[4] = nums[4].data;
	v[5] = nums[5].data;
	v[6] = nums[6].data;
	v[7] = c->origin;
	v[8] = nums[7].data;
	v[9] = c->contact;
	v[10] = c->issued_at;
	v[11] = nums[8].data;
	v[12] = codes.data;
	v[13] = job->idempotency_key;
	v[14] = c->request_fp;
	v[15] = c->printer_id;
	v[16] = in[0].data;
	v[17] = in[1].data;
	v[18] = in[2].data;
	for (int i = 0; i < 9; i++)
		r |= !ac_buf_ok(&nums[i]);
	r |= !ac_buf_ok(&codes) || !ac_buf_ok(&in[0]) || !ac_buf_ok(&in[1]) || !ac_buf_ok(&in[2]);
	r = r ? -ENOMEM : ac_db_query(b->is->db, reissue_sql, 19, v, NULL, on_reissued, b);
	for (int i = 0; i < 12; i++)
		ac_buf_free(&nums[i]);
	ac_buf_free(&codes);
	for (int i = 0; i < 3; i++)
		ac_buf_free(&in[i]);
	return r;
}

static void after_sign(uv_work_t *w, int status)
{
	batch *b = w->data;
	ac_issuer *is = b->is;
	ac_buf p[P_NUM];
	const char *values[P_NUM + 1];
	char issued_at[40];
	int r;

	if (status == 0)
		status = b->err;
	if (status != 0) {
		ac_log_error("issue", "could not sign %d certificates: %s", b->n,
			     ac_strerror(status));
		goto fail;
	}
	if (b->jobs[0]->ninputs > 0) {
		r = send_reissue(b);
		if (r == 0)
			return;
		ac_log_error("issue", "could not send a re-issue: %s", ac_strerror(r));
		goto fail;
	}
	for (int k = 0; k < P_NUM; k++) {
		ac_buf_init(&p[k]);
		ac_buf_add(&p[k], "{", 1);
	}
	for (int i = 0; i < b->n; i++) {
		const ac_cert *c = &b->jobs[i]->cert;
		const char *sep = i ? "," : "";

		ac_buf_puts(&p[P_SERIAL], sep);
		ac_buf_int(&p[P_SERIAL], (long long)c->serial);
		ac_buf_puts(&p[P_KID], sep);
		ac_buf_int(&p[P_KID], c->kid);
		ac_buf_puts(&p[P_ISSUER], sep);
		ac_buf_int(&p[P_ISSUER], c->issuer_id);
		ac_buf_puts(&p[P_STYLE], sep);
		ac_buf_int(&p[P_STYLE], c->style);
		ac_buf_puts(&p[P_BASIS], sep);
		ac_buf_int(&p[P_BASIS], c->basis);
		ac_buf_puts(&p[P_PRODUCT], sep);
		ac_buf_int(&p[P_PRODUCT], c->product_id);
		ac_buf_puts(&p[P_QTY], sep);
		ac_buf_int(&p[P_QTY], (long long)c->quantity_milli);
		ac_buf_puts(&p[P_UNIT], sep);
		ac_buf_int(&p[P_UNIT], c->unit);
		ac_buf_puts(&p[P_ORIGIN], sep);
		ac_buf_pg_elem(&p[P_ORIGIN], c->origin);
		ac_buf_puts(&p[P_ORIGIN_CODE], sep);
		ac_buf_int(&p[P_ORIGIN_CODE], (long long)c->origin_code);
		ac_buf_puts(&p[P_CONTACT], sep);
		ac_buf_pg_elem(&p[P_CONTACT], c->contact);
		ac_buf_puts(&p[P_LABELS], sep);
		ac_buf_int(&p[P_LABELS], c->labels);
		ac_buf_puts(&p[P_CODES], sep);
		ac_buf_add(&p[P_CODES], "\"", 1);
		for (int k = 0; k < c->labels; k++) {
			if (k)
				ac_buf_add(&p[P_CODES], ",", 1);
			ac_buf_puts(&p[P_CODES], c->codes[k]);
		}
		ac_buf_add(&p[P_CODES], "\"", 1);
		ac_buf_puts(&p[P_IDEM], sep);
		ac_buf_pg_elem(&p[P_IDEM], b->jobs[i]->idempotency_key);
		ac_buf_puts(&p[P_PRINTER], sep);
		ac_buf_pg_elem(&p[P_PRINTER], c->printer_id);
		ac_buf_puts(&p[P_FP], sep);
		ac_buf_pg_elem(&p[P_FP], c->request_fp);
		ac_buf_puts(&p[P_TEST], sep);
		if (c->test_id > 0)
			ac_buf_int(&p[P_TEST], c->test_id);
		else
			ac_buf_puts(&p[P_TEST], "NULL");
	}
	r = 0;
	for (int k = 0; k < P_NUM; k++) {
		ac_buf_add(&p[k], "}", 1);
		if (!ac_buf_ok(&p[k]))
			r = -ENOMEM;
		values[k] = p[k].data;
	}
	snprintf(issued_at, sizeof(issued_at), "%s", b->jobs[0]->cert.issued_at);
	values[P_NUM] = issued_at;
	if (r == 0)
		r = ac_db_query(is->db, insert_sql, P_NUM + 1, values, NULL, on_inserted, b);
	for (int k = 0; k < P_NUM; k++)
		ac_buf_free(&p[k]);
	if (r == 0)
		return;
	ac_log_error("issue", "could not send %d certificates: %s", b->n, ac_strerror(r));
fail:
	is->inflight--;
	for (int i = 0; i < b->n; i++)
		finish_job(b->jobs[i], status != 0 ? AC_ECRYPTO : AC_EDB);
	batch_free(b);
	kick(is);
}

static void start_batch(ac_issuer *is)
{
	uint64_t avail = is->serial_end - is->serial_next;
	struct timespec ts;
	struct tm tm;
	char when[32];
	time_t cst;
	batch *b;
	int n;

	n = is->npending < is->batch_max ? is->npending : is->batch_max;
	if ((uint64_t)n > avail)
		n = (int)avail;
	/* A re-issue goes alone; a bulk batch stops before the next re-issue. */
	if (is->head->ninputs > 0) {
		n = 1;
	} else {
		int k = 0;

		for (ac_issue_job *j = is->head; j != NULL && k < n && j->ninputs == 0; j = j->next)
			k++;
		n = k;
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
	b->signer = is->keys->signer;
	b->issue_day = (uint16_t)(cst / 86400 - DAY_EPOCH);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	for (int i = 0; i < n; i++) {
		ac_issue_job *job = is->head;
		ac_cert *c = &job->cert;

		is->head = job->next;
		job->next = NULL;
		c->serial = is->serial_next++;
		c->kid = b->signer->kid;
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
	uv_queue_work(is->loop, &b->work, sign_batch, after_sign);
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

int ac_issuer_new(uv_loop_t *loop, ac_db *db, const ac_keyring *keys, int batch_max,
		  ac_issuer **out)
{
	ac_issuer *is = calloc(1, sizeof(*is));

	*out = NULL;
	if (is == NULL)
		return -ENOMEM;
	is->loop = loop;
	is->db = db;
	is->keys = keys;
	is->batch_max = batch_max;
	*out = is;
	return 0;
}

int ac_issuer_submit(ac_issuer *is, ac_issue_job *job)
{
	if (is->keys == NULL || is->keys->signer == NULL)
		return AC_EKEY;
	job->next = NULL;
	if (is->tail != NULL)
		is->tail->next = job;
	else
		is->head = job;
	is->tail = job;
	is->npending++;
	kick(is);
	return 0;
}

int ac_issuer_busy(const ac_issuer *is)
{
	return is->inflight + is->npending + is->fetching;
}

void ac_issuer_set_keys(ac_issuer *is, const ac_keyring *keys)
{
	is->keys = keys;
}

void ac_issuer_free(ac_issuer *is)
{
	free(is);
}
