/*
 * Issuing with group commit. Handlers submit validated certificates; the
 * issuer gathers whatever is pending into one batch while the previous
 * batches are in flight, signs the batch's item codes in the thread pool,
 * and writes the batch to PostgreSQL in one statement (one transaction, one
 * WAL flush). Each job's callback runs only after that commit: an answered
 * certificate is durable.
 *
 * Serials come from blocks of 4096 reserved with one sequence call.
 *
 * Loop thread only; the signing step runs in the uv thread pool and touches
 * only its own batch.
 */
#ifndef AC_ISSUER_H
#define AC_ISSUER_H

#include <stdint.h>
#include <uv.h>

#include "ac_cert.h"
#include "ac_db.h"
#include "ac_keys.h"

typedef struct ac_issuer ac_issuer;

enum {
	AC_REFUSED_BLOCKED = 1, /* a failed rapid test blocks this producer and product */
	AC_REFUSED_UNTESTED,	/* the basis is a test, but cert.test_id is no passing test */
};
typedef struct ac_issue_job ac_issue_job;

struct ac_issue_job {
	/*
	 * In: everything but serial, kid, issued_at and codes. The issuer
	 * fills those in; the job keeps owning its cert's memory.
	 */
	ac_cert cert;
	char *idempotency_key; /* or NULL; owned by the job */
	/*
	 * A re-issue (style 2) lists what it draws from inbound certificates:
	 * serials, thousandths and units, ninputs long, owned by the job. Such a
	 * job is stored alone, through the reissue() function that enforces mass
	 * balance; a shortfall ends it with AC_ESHORT and the JSON in errmsg.
	 */
	int ninputs;
	uint64_t *in_serial;
	int64_t *in_qty;
	int *in_unit;
	char errmsg[512];
	/* Out: 0, AC_EDB (not stored: tell the client to retry) or
	 * AC_EEXISTS-like conflict signalled by duplicate = 1. */
	int err;
	int duplicate; /* the idempotency key was taken meanwhile: nothing new stored */
	int stored;    /* the issuer's */
	int refused;   /* AC_REFUSED_*: the database would not store it */
	void (*done)(ac_issue_job *job);
	void *data;
	ac_issue_job *next; /* the issuer's */
};

int ac_issuer_new(uv_loop_t *loop, ac_db *db, const ac_keyring *keys, int batch_max,
		  ac_issuer **out);

/* Queues job; job->done will be called exactly once. Returns 0, or a
 * negative code when no key may sign (done is then not called). */
int ac_issuer_submit(ac_issuer *is, ac_issue_job *job);

/* Batches under way and jobs waiting. */
int ac_issuer_busy(const ac_issuer *is);

/* Replaces the key ring used for new batches (after a reload). */
void ac_issuer_set_keys(ac_issuer *is, const ac_keyring *keys);

/* Frees the issuer once nothing is in flight (check ac_issuer_busy). */
void ac_issuer_free(ac_issuer *is);

#endif
