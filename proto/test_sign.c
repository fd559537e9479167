/* Keys, PEM, Ed25519 and SM2 signatures, and signing from several threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ac_error.h"
#include "ac_sign.h"
#include "ac_test.h"

/* A P-256 key: a valid PEM of an algorithm agricert does not use. */
static const char p256_pem[] = "-----BEGIN PRIVATE KEY-----\n"
			       "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgka5GfgPR72sFfD6Y\n"
			       "861x1iQzuZ1HKTrErHVm0UXkh86hRANCAATzcHHucnOTwvDFt6UW8Fy380QY8ANS\n"
			       "BGJeXgf1W7v8FUcatR2b+t5hJRhEWwtWkS5JZJ5E5HOJMoNfERBvhFc2\n"
			       "-----END PRIVATE KEY-----\n";

struct thread_job {
	const ac_key *key;
	const ac_key *pub;
	int failures;
};

static void *thread_run(void *arg)
{
	struct thread_job *job = arg;
	uint8_t msg[30];
	uint8_t sig[AC_SIG_LEN];
	size_t siglen;

	for (int i = 0; i < 200; i++) {
		memset(msg, i, sizeof(msg));
		if (ac_key_sign(job->key, msg, sizeof(msg), sig, &siglen) != 0 ||
		    ac_key_verify(job->pub, msg, sizeof(msg), sig, siglen) != 0)
			job->failures++;
		msg[0] ^= 1;
		if (ac_key_verify(job->pub, msg, sizeof(msg), sig, siglen) != AC_EBADSIG)
			job->failures++;
	}
	return NULL;
}

/* The message every check signs: as long as a code's fields. */
#define MSG_LEN 30

static char what[128];
#define W(s) (snprintf(what, sizeof(what), "%s: %s", name, (s)), what)

/* PEM export and import both ways; *pub and *again are the imported keys. */
static void check_pems(int alg, const char *name, const ac_key *key, ac_key **pub, ac_key **again)
{
	char *pem = NULL;
	char *pubpem = NULL;
	char *pem2 = NULL;
	size_t len = 0;
	size_t publen = 0;
	size_t len2 = 0;

	AC_CHECK(ac_key_private_pem(key, &pem, &len) == 0 && strlen(pem) == len &&
		     strstr(pem, "-----BEGIN PRIVATE KEY-----") == pem,
		 W("private pem"));
	AC_CHECK(ac_key_public_pem(key, &pubpem, &publen) == 0 && strlen(pubpem) == publen &&
		     strstr(pubpem, "-----BEGIN PUBLIC KEY-----") == pubpem,
		 W("public pem"));
	AC_CHECK(ac_key_from_pem(pubpem, publen, pub) == 0 && ac_key_alg(*pub) == alg &&
		     ac_key_has_private(*pub) == 0,
		 W("public key from pem"));
	AC_CHECK(ac_key_from_pem(pem, len, again) == 0 && ac_key_alg(*again) == alg &&
		     ac_key_has_private(*again) == 1,
		 W("private key from pem"));
	AC_CHECK(ac_key_private_pem(*again, &pem2, &len2) == 0 && len2 == len &&
		     memcmp(pem, pem2, len) == 0,
		 W("private pem round trip"));
	ac_key_pem_free(pem2, len2);
	ac_key_pem_free(pem, len);
	free(pubpem);
}

/* Signatures of the wrong length, all zeros or ones, or with one bit flipped. */
static void check_bad_signatures(const char *name, const ac_key *pub, const uint8_t msg[MSG_LEN],
				 uint8_t sig[AC_SIG_LEN])
{
	uint8_t zero[AC_SIG_LEN] = { 0 };
	uint8_t ones[AC_SIG_LEN];
	int ok = 1;

	AC_CHECK(ac_key_verify(pub, msg, MSG_LEN - 1, sig, AC_SIG_LEN) == AC_EBADSIG,
		 W("shorter message refused"));
	AC_CHECK(ac_key_verify(pub, msg, MSG_LEN, sig, 63) == AC_EBADSIG, W("63-byte sig"));
	AC_CHECK(ac_key_verify(pub, msg, MSG_LEN, sig, 72) == AC_EBADSIG, W("72-byte sig"));
	memset(ones, 0xff, sizeof(ones));
	AC_CHECK(ac_key_verify(pub, msg, MSG_LEN, zero, AC_SIG_LEN) == AC_EBADSIG,
		 W("all-zero sig refused"));
	AC_CHECK(ac_key_verify(pub, msg, MSG_LEN, ones, AC_SIG_LEN) == AC_EBADSIG,
		 W("all-ones sig refused"));
	for (int bit = 0; bit < AC_SIG_LEN * 8; bit++) {
		sig[bit / 8] ^= (uint8_t)(1 << bit % 8);
		if (ac_key_verify(pub, msg, MSG_LEN, sig, AC_SIG_LEN) != AC_EBADSIG)
			ok = 0;
		sig[bit / 8] ^= (uint8_t)(1 << bit % 8);
	}
	AC_CHECK(ok, W("every flipped signature bit refused"));
}

/* Sign with key (and again, its PEM copy), verify with pub; a public key signs nothing. */
static void check_signatures(int alg, const char *name, const ac_key *key, const ac_key *pub,
			     const ac_key *again)
{
	uint8_t msg[MSG_LEN] = "thirty bytes of a code fields";
	uint8_t sig[AC_SIG_LEN];
	uint8_t sig2[AC_SIG_LEN];
	size_t siglen = 0;
	char *none = (char *)1;
	size_t nlen = 1;

	AC_CHECK(ac_key_sign(key, msg, sizeof(msg), sig, &siglen) == 0 && siglen == AC_SIG_LEN,
		 W("sign"));
	AC_CHECK(ac_key_verify(pub, msg, sizeof(msg), sig, siglen) == 0, W("verify"));
	AC_CHECK(ac_key_verify(again, msg, sizeof(msg), sig, siglen) == 0,
		 W("verify with the private key"));
	AC_CHECK(ac_key_sign(again, msg, sizeof(msg), sig2, &siglen) == 0 &&
		     (alg == AC_ALG_ED25519 ? memcmp(sig, sig2, AC_SIG_LEN) == 0
					    : memcmp(sig, sig2, AC_SIG_LEN) != 0),
		 W("ed25519 deterministic, sm2 randomised"));
	check_bad_signatures(name, pub, msg, sig);
	AC_CHECK(ac_key_sign(pub, msg, sizeof(msg), sig2, &siglen) == AC_EKEY && siglen == 0,
		 W("public key cannot sign"));
	AC_CHECK(ac_key_private_pem(pub, &none, &nlen) == AC_EKEY && none == NULL && nlen == 0,
		 W("public key has no private pem"));
}

/* Several threads sign and verify with the same two keys at once. */
static void check_threads(const char *name, const ac_key *key, const ac_key *pub)
{
	struct thread_job jobs[4];
	pthread_t tids[4];
	int failures = 0;

	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct thread_job){ .key = key, .pub = pub };
		pthread_create(&tids[i], NULL, thread_run, &jobs[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(tids[i], NULL);
		failures += jobs[i].failures;
	}
	AC_CHECK(failures == 0, W("4 threads share one key"));
}

static void check_alg(int alg, const char *name)
{
	ac_key *key = NULL;
	ac_key *pub = NULL;
	ac_key *again = NULL;

	AC_CHECK(ac_key_generate(alg, &key) == 0 && key != NULL, W("generate"));
	if (key == NULL)
		return;
	AC_CHECK(ac_key_alg(key) == alg && ac_key_has_private(key) == 1, W("alg and private"));
	check_pems(alg, name, key, &pub, &again);
	check_signatures(alg, name, key, pub, again);
	check_threads(name, key, pub);
	ac_key_free(key);
	ac_key_free(pub);
	ac_key_free(again);
}
#undef W

int main(void)
{
	ac_key *key = (ac_key *)1;
	char *pem = NULL;
	size_t len = 0;

	check_alg(AC_ALG_ED25519, "ed25519");
	check_alg(AC_ALG_SM2, "sm2");

	AC_CHECK(ac_key_generate(3, &key) == AC_ERANGE && key == NULL, "unknown alg");
	AC_CHECK(ac_key_from_pem(p256_pem, strlen(p256_pem), &key) == AC_EKEY && key == NULL,
		 "P-256 key refused");
	AC_CHECK(ac_key_from_pem("", 0, &key) == AC_EKEY, "empty pem refused");
	AC_CHECK(ac_key_from_pem("garbage", 7, &key) == AC_EKEY, "garbage refused");
	AC_CHECK(ac_key_from_pem(p256_pem, 40, &key) == AC_EKEY, "cut pem refused");
	AC_CHECK(ac_key_generate(AC_ALG_ED25519, &key) == 0, "generate for pem free");
	AC_CHECK(ac_key_private_pem(key, &pem, &len) == 0, "private pem");
	ac_key_pem_free(pem, len);
	ac_key_pem_free(NULL, 0);
	ac_key_free(key);
	ac_key_free(NULL);
	return ac_test_done();
}
