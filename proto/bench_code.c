/*
 * Measures how many codes per second ac_code_sign() and ac_code_verify()
 * manage, on one or more threads sharing one const key (as agricertd's
 * thread pool does).
 *
 *	bench_proto_code [ed25519|sm2|all] [threads] [seconds]
 *
 * Prints one line per algorithm and operation:
 *	ed25519 sign threads=2 codes=23456 seconds=1.00 rate=23456/s
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ac_code.h"
#include "ac_error.h"
#include "test_util.h"

struct bench_job {
	const ac_key *key;
	int verify;
	double seconds;
	const ac_code *code;
	long count;
	int err;
};

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *bench_run(void *arg)
{
	struct bench_job *job = arg;
	double end = bench_now() + job->seconds;
	ac_code_fields f = test_fields_typical();
	char text[AC_CODE_TEXT_SIZE];

	while (bench_now() < end) {
		/* Check the clock every 64 operations to keep its cost out. */
		for (int i = 0; i < 64; i++) {
			int r;

			if (job->verify) {
				r = ac_code_verify(job->code, job->key);
			} else {
				f.item = (uint16_t)(job->count % 65535 + 1);
				r = ac_code_sign(job->key, &f, text, sizeof(text));
			}
			if (r != 0) {
				job->err = r;
				return NULL;
			}
			job->count++;
		}
	}
	return NULL;
}

static int bench_alg(const char *name, int alg, int threads, double seconds)
{
	ac_key *key = NULL;
	ac_code code;
	ac_code_fields f = test_fields_typical();
	char text[AC_CODE_TEXT_SIZE];
	struct bench_job *jobs = calloc((size_t)threads, sizeof(*jobs));
	pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
	int r = -1;

	if (jobs == NULL || tids == NULL)
		goto out;
	if (ac_key_generate(alg, &key) != 0)
		goto out;
	if (ac_code_sign(key, &f, text, sizeof(text)) != 0 ||
	    ac_code_decode(text, strlen(text), &code) != 0)
		goto out;
	for (int verify = 0; verify <= 1; verify++) {
		long total = 0;
		double t0 = bench_now();
		double dt;

		for (int i = 0; i < threads; i++) {
			jobs[i] = (struct bench_job){
				.key = key, .verify = verify, .seconds = seconds, .code = &code
			};
			if (pthread_create(&tids[i], NULL, bench_run, &jobs[i]) != 0)
				goto out;
		}
		for (int i = 0; i < threads; i++) {
			pthread_join(tids[i], NULL);
			if (jobs[i].err != 0) {
				fprintf(stderr, "could not %s: %s\n", verify ? "verify" : "sign",
					ac_strerror(jobs[i].err));
				goto out;
			}
			total += jobs[i].count;
		}
		dt = bench_now() - t0;
		printf("%s %s threads=%d codes=%ld seconds=%.2f rate=%.0f/s\n", name,
		       verify ? "verify" : "sign", threads, total, dt, (double)total / dt);
	}
	r = 0;
out:
	ac_key_free(key);
	free(jobs);
	free(tids);
	return r;
}

int main(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : "all";
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	double seconds = argc > 3 ? atof(argv[3]) : 1.0;
	int r = 0;

	if (threads < 1 || threads > 256 || seconds <= 0) {
		fprintf(stderr, "usage: %s [ed25519|sm2|all] [threads] [seconds]\n", argv[0]);
		return 2;
	}
	if (strcmp(which, "ed25519") == 0 || strcmp(which, "all") == 0)
		r |= bench_alg("ed25519", AC_ALG_ED25519, threads, seconds);
	if (strcmp(which, "sm2") == 0 || strcmp(which, "all") == 0)
		r |= bench_alg("sm2", AC_ALG_SM2, threads, seconds);
	return r ? 1 : 0;
}
