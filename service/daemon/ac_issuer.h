/*
 * Issuing with group commit. Handlers submit validated certificates; the
 * issuer gathers whatever is pending into one batch while the previous
 * batches are in flight, signs the batch's item codes in the thread pool,
 * and writes the batch to PostgreSQL in one statement (issue_batch(), one
 * transaction, one WAL flush). Each job's callback runs only after that
 * commit: an answered certificate is durable.
 *
 * Serials come from blocks of 4096 reserved with one sequence call.
 *
 * Loop thread only; the signing step runs in the uv thread pool and touches
 * only its own batch (and the key ring the batch holds a reference on).
 */
#ifndef AC_ISSUER_H
#define AC_ISSUER_H

#include <stdint.h>
#include <uv.h>

#include "ac_buf.h"
#include "ac_cert.h"
#include "ac_db.h"
#include "ac_keys.h"

typedef struct ac_issuer ac_issuer;

enum {
	AC_REFUSED_BLOCKED = 1,	  /* a failed rapid test blocks this producer and product */
	AC_REFUSED_UNTESTED,	  /* the basis is a test, but cert.test_id is no passing test */
	AC_REFUSED_TEST_REQUIRED, /* the product is tested before sale, and was not lately */
};

/* What a re-issue draws from one inbound certificate (serial) or external
 * lot (external; serial 0). */
typedef struct ac_issue_input {
	uint64_t serial;
	int64_t external;
	int64_t quantity_milli;
	int unit;
} ac_issue_input;

typedef struct ac_issue_job ac_issue_job;

struct ac_issue_job {
	/*
	 * In: everything but serial, kid, issued_at and codes, which the
	 * issuer fills in. The job's owner keeps owning the job and its cert's
	 * memory (ac_cert_clear frees the codes too).
	 */
	ac_cert cert;
	const char *idempotency_key; /* or NULL; borrowed until done */
	/*
	 * A re-issue (style 2) lists what it draws from inbound certificates
	 * (borrowed until done). Such a job is stored alone, through reissue(),
	 * which enforces the supply chain's rules (mass balance, units,
	 * products, the issuer's status); a refusal ends it with AC_ECHAIN and
	 * reissue()'s JSON ({"code", ...}) in errmsg.
	 */
	const ac_issue_input *inputs;
	int ninputs;
	char errmsg[512];
	/* Out: err is 0, AC_EDB (nothing stored: the client may retry),
	 * AC_ECHAIN, or AC_EINPUT (the database refused one of this job's
	 * values, errmsg says which; a batch that fails so is tried again job
	 * by job, so that one job's values never fail another's); with err 0,
	 * exactly one of stored, duplicate, refused. */
	int err;
	int stored;
	int duplicate; /* the idempotency key was taken meanwhile: nothing new stored */
	int refused;   /* AC_REFUSED_*: the database would not store it */
	void (*done)(ac_issue_job *job);
	/* Or NULL: called on the loop thread once the job is signed (serial,
	 * kid, issued_at and codes set) and its batch sent to the database,
	 * so that what does not need the commit runs meanwhile (rendering its
	 * labels). done follows, whatever the commit does. */
	void (*signed_cb)(ac_issue_job *job);
	void *data;
	ac_issue_job *next; /* the issuer's, like the two below */
	ac_issuer *issuer;
	uint64_t queued_ns;
};

/* keys: the ring to sign with; the issuer takes a reference. */
int ac_issuer_new(uv_loop_t *loop, ac_db *db, ac_keyring *keys, int batch_max, ac_issuer **out);

/* Queues job; job->done will be called exactly once. Returns 0, or a
 * negative code when no key may sign or the issuer is closing (done is then
 * not called). */
int ac_issuer_submit(ac_issuer *is, ac_issue_job *job);

/* Appends the group commit's metrics (ac_metrics.h) to b: batch sizes,
 * waits and durations, what is waiting, failures. */
void ac_issuer_metrics(const ac_issuer *is, ac_buf *b);

/* Batches under way and jobs waiting. */
int ac_issuer_busy(const ac_issuer *is);

/* Signs new batches with keys (after a reload); batches under way keep
 * theirs. Takes a reference. */
void ac_issuer_set_keys(ac_issuer *is, ac_keyring *keys);

/*
 * Fails the jobs still waiting (AC_EDB), waits for the batches under way
 * (their jobs are answered as usual), frees the issuer and calls cb. The
 * database must stay open until cb. NULL is fine.
 */
void ac_issuer_close(ac_issuer *is, void (*cb)(void *data), void *data);

#endif
