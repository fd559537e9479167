/*
 * The baseline for the issuing benchmark: a bare loop that only signs item
 * codes and pipelines their inserts, through the same issuer (group commit,
 * signing in the thread pool, one INSERT per batch) but without HTTP, JSON
 * or authentication. tests/bench/issue compares agricertd against it.
 *
 *   bare_issue SECONDS [OUTSTANDING]
 * Settings from the environment as for agricertd (AGRICERT_DB, AGRICERT_KEYS);
 * AGRICERT_BENCH_ISSUER is the subject id to issue for. Prints certs/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_config.h"
#include "ac_db.h"
#include "ac_issuer.h"
#include "ac_keys.h"

typedef struct bench {
	uv_loop_t *loop;
	ac_issuer *issuer;
	ac_db *db;
	uint64_t end_ms;
	uint64_t start_ms;
	long done;
	long failed;
	int outstanding;
	int issuer_id;
	int stopping;
} bench;

static bench B;

static void submit_one(void);

static void on_issuer_closed(void *data)
{
	ac_db_close(B.db, NULL, NULL);
}

static void on_done(ac_issue_job *job)
{
	if (job->err != 0)
		B.failed++;
	else if (uv_now(B.loop) >= B.start_ms)
		B.done++;
	ac_cert_clear(&job->cert);
	free(job);
	B.outstanding--;
	if (uv_now(B.loop) < B.end_ms)
		submit_one();
	else if (B.outstanding == 0 && !B.stopping) {
		B.stopping = 1;
		ac_issuer_close(B.issuer, on_issuer_closed, NULL);
	}
}

static void submit_one(void)
{
	ac_issue_job *job = calloc(1, sizeof(*job));
	ac_cert *c = &job->cert;

	c->issuer_id = B.issuer_id;
	c->issuer_name = strdup("bench");
	c->style = 1;
	c->basis = 0;
	c->product_id = 1;
	c->product_name = strdup("豇豆");
	c->quantity_milli = 25000;
	c->unit = 1;
	c->origin = strdup("福建省安溪县凤城镇");
	c->origin_code = 350524103201LL;
	c->contact = strdup("13859001234");
	c->labels = 1;
	c->request_fp = strdup("0000000000000000");
	job->done = on_done;
	B.outstanding++;
	if (ac_issuer_submit(B.issuer, job) != 0) {
		fprintf(stderr, "could not submit: no signing key\n");
		exit(1);
	}
}

static void on_start(uv_timer_t *t)
{
	int n = *(int *)t->data;

	uv_close((uv_handle_t *)t, NULL);
	for (int i = 0; i < n; i++)
		submit_one();
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 10;
	int outstanding = argc > 2 ? atoi(argv[2]) : 2048;
	const char *issuer = getenv("AGRICERT_BENCH_ISSUER");
	ac_keyring *keys = NULL;
	uv_timer_t start;
	ac_config cfg;
	char err[512];

	if (ac_config_load(&cfg, NULL, err, sizeof(err)) != 0 ||
	    ac_keyring_load(cfg.keys_dir, 0, &keys, err, sizeof(err)) != 0) {
		fprintf(stderr, "bare_issue: %s\n", err);
		return 1;
	}
	B.issuer_id = issuer ? atoi(issuer) : 1;
	B.loop = uv_default_loop();
	ac_db_new(B.loop, cfg.db, cfg.db_pool, &B.db);
	ac_issuer_new(B.loop, B.db, keys, cfg.batch_max, &B.issuer);
	/* One second of warm-up (connections, first serial block), then measure. */
	B.start_ms = uv_now(B.loop) + 1000;
	B.end_ms = B.start_ms + (uint64_t)seconds * 1000;
	uv_timer_init(B.loop, &start);
	start.data = &outstanding;
	uv_timer_start(&start, on_start, 50, 0);
	uv_run(B.loop, UV_RUN_DEFAULT);
	printf("%.0f\n", (double)B.done / seconds);
	fprintf(stderr, "bare_issue: %ld certificates in %d s, %ld failed\n", B.done, seconds,
		B.failed);
	ac_db_free(B.db);
	ac_keyring_unref(keys);
	ac_config_free(&cfg);
	return B.failed ? 1 : 0;
}
