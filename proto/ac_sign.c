#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include "ac_error.h"
#include "ac_sign.h"

struct ac_key {
	EVP_PKEY *pkey;
	/*
	 * Contexts initialised once for signing (NULL without a private key) and
	 * verifying, never used themselves: each call copies one, which costs a
	 * fraction of a fresh init (provider lookups, SM2 ID setup) and leaves
	 * these read-only, so threads may share them.
	 */
	EVP_MD_CTX *sign_proto;
	EVP_MD_CTX *verify_proto;
	int alg;
	int has_private;
};

/*
 * OpenSSL keeps a per-thread error queue; a failure we turn into an AC_E*
 * code must not linger there and confuse the next caller on this thread.
 */
static int ac_sign_fail(int err)
{
	ERR_clear_error();
	return err;
}

static EVP_MD_CTX *ac_key_md_ctx(EVP_PKEY *pkey, int alg, int sign);

static int ac_key_wrap(EVP_PKEY *pkey, int has_private, ac_key **out)
{
	ac_key *key;
	int alg;

	if (EVP_PKEY_is_a(pkey, "ED25519"))
		alg = AC_ALG_ED25519;
	else if (EVP_PKEY_is_a(pkey, "SM2"))
		alg = AC_ALG_SM2;
	else
		return AC_EKEY;
	key = calloc(1, sizeof(*key));
	if (key == NULL)
		return -ENOMEM;
	key->alg = alg;
	key->has_private = has_private;
	key->verify_proto = ac_key_md_ctx(pkey, alg, 0);
	if (has_private)
		key->sign_proto = ac_key_md_ctx(pkey, alg, 1);
	if (key->verify_proto == NULL || (has_private && key->sign_proto == NULL)) {
		ac_key_free(key);
		return AC_EKEY;
	}
	key->pkey = pkey; /* only now owned by key, so the caller frees it on error */
	*out = key;
	return 0;
}

int ac_key_generate(int alg, ac_key **out)
{
	EVP_PKEY *pkey = NULL;
	int r = AC_ECRYPTO;

	*out = NULL;
	if (alg == AC_ALG_ED25519)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (alg == AC_ALG_SM2)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
	else
		return AC_ERANGE;
	if (pkey == NULL)
		goto out;
	r = ac_key_wrap(pkey, 1, out);
	if (r == 0)
		pkey = NULL; /* now owned by *out */
out:
	EVP_PKEY_free(pkey);
	return r == 0 ? 0 : ac_sign_fail(r);
}

/*
 * Refuses encrypted PEM: without a callback OpenSSL would prompt for a
 * passphrase on the controlling terminal, which a service must never do.
 */
static int ac_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

int ac_key_from_pem(const char *pem, size_t len, ac_key **out)
{
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	int has_private = 1;
	int r = AC_EKEY;

	*out = NULL;
	if (len > INT_MAX)
		return AC_EKEY;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return -ENOMEM;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, ac_no_passphrase, NULL);
	if (pkey == NULL) {
		/* Not a private key: rewind the read-only buffer and try a public one. */
		ERR_clear_error();
		if (BIO_reset(bio) != 1)
			goto out;
		has_private = 0;
		pkey = PEM_read_bio_PUBKEY(bio, NULL, ac_no_passphrase, NULL);
		if (pkey == NULL)
			goto out;
	}
	r = ac_key_wrap(pkey, has_private, out);
	if (r == 0)
		pkey = NULL;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return r == 0 ? 0 : ac_sign_fail(r);
}

/* Copies the contents of a memory BIO into a NUL-terminated malloc'd string. */
static int ac_bio_to_string(BIO *bio, char **out, size_t *len)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	char *s;

	if (n <= 0)
		return AC_ECRYPTO;
	s = malloc((size_t)n + 1);
	if (s == NULL)
		return -ENOMEM;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*out = s;
	*len = (size_t)n;
	return 0;
}

int ac_key_private_pem(const ac_key *key, char **out, size_t *len)
{
	BIO *bio = NULL;
	int r = AC_ECRYPTO;

	*out = NULL;
	*len = 0;
	if (!key->has_private)
		return AC_EKEY;
	/* The secure heap BIO clears its buffer when freed. */
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL)
		return -ENOMEM;
	if (PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	r = ac_bio_to_string(bio, out, len);
out:
	BIO_free(bio);
	return r == 0 ? 0 : ac_sign_fail(r);
}

int ac_key_public_pem(const ac_key *key, char **out, size_t *len)
{
	BIO *bio = NULL;
	int r = AC_ECRYPTO;

	*out = NULL;
	*len = 0;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return -ENOMEM;
	if (PEM_write_bio_PUBKEY(bio, key->pkey) != 1)
		goto out;
	r = ac_bio_to_string(bio, out, len);
out:
	BIO_free(bio);
	return r == 0 ? 0 : ac_sign_fail(r);
}

/* An SM2 public key from 04 || x || y, checked to be a point of the group. */
static EVP_PKEY *ac_sm2_from_point(const uint8_t *raw, size_t len)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY_CTX *check = NULL;
	EVP_PKEY *pkey = NULL;
	char group[] = "SM2";

	if (len != AC_RAW_PUBLIC_SM2_LEN || raw[0] != 0x04)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)raw, len);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	/* On the curve, not the point at infinity, of the group's order. */
	check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (check == NULL || EVP_PKEY_public_check(check) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

int ac_key_from_raw_public(int alg, const uint8_t *raw, size_t len, ac_key **out)
{
	EVP_PKEY *pkey = NULL;
	int r = AC_EKEY;

	*out = NULL;
	if (alg == AC_ALG_ED25519) {
		if (len != AC_RAW_PUBLIC_ED25519_LEN)
			goto out;
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, len);
	} else if (alg == AC_ALG_SM2) {
		pkey = ac_sm2_from_point(raw, len);
	} else {
		return AC_ERANGE;
	}
	if (pkey == NULL)
		goto out;
	r = ac_key_wrap(pkey, 0, out);
	if (r == 0)
		pkey = NULL;
out:
	EVP_PKEY_free(pkey);
	return r == 0 ? 0 : ac_sign_fail(r);
}

int ac_key_raw_public(const ac_key *key, uint8_t *out, size_t outsz, size_t *len)
{
	BIGNUM *x = NULL;
	BIGNUM *y = NULL;
	size_t n = 0;
	int r = AC_ECRYPTO;

	*len = 0;
	if (key->alg == AC_ALG_ED25519) {
		if (outsz < AC_RAW_PUBLIC_ED25519_LEN)
			return AC_ETOOBIG;
		n = outsz;
		if (EVP_PKEY_get_raw_public_key(key->pkey, out, &n) != 1 ||
		    n != AC_RAW_PUBLIC_ED25519_LEN)
			goto out;
	} else {
		/*
		 * The coordinates rather than the encoded point, which keeps the
		 * form (compressed or not) the key was read in.
		 */
		if (outsz < AC_RAW_PUBLIC_SM2_LEN)
			return AC_ETOOBIG;
		if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
		    EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1)
			goto out;
		out[0] = 0x04;
		if (BN_bn2binpad(x, out + 1, 32) != 32 || BN_bn2binpad(y, out + 33, 32) != 32)
			goto out;
		n = AC_RAW_PUBLIC_SM2_LEN;
	}
	*len = n;
	r = 0;
out:
	BN_free(x);
	BN_free(y);
	return r == 0 ? 0 : ac_sign_fail(r);
}

void ac_key_pem_free(char *pem, size_t len)
{
	if (pem == NULL)
		return;
	OPENSSL_cleanse(pem, len);
	free(pem);
}

int ac_key_alg(const ac_key *key)
{
	return key->alg;
}

int ac_key_has_private(const ac_key *key)
{
	return key->has_private;
}

/*
 * Starts a one-shot sign or verify operation on a fresh context. SM2 hashes
 * Z (from the ID and public key) before the message; OpenSSL computes it at
 * the first update, so the ID may be set after the init.
 */
static EVP_MD_CTX *ac_key_md_ctx(EVP_PKEY *pkey, int alg, int sign)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = alg == AC_ALG_SM2 ? EVP_sm3() : NULL;
	int ok;

	if (mctx == NULL)
		return NULL;
	if (sign)
		ok = EVP_DigestSignInit(mctx, &pctx, md, NULL, pkey);
	else
		ok = EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pkey);
	if (ok == 1 && alg == AC_ALG_SM2)
		ok = EVP_PKEY_CTX_set1_id(pctx, AC_SM2_ID, strlen(AC_SM2_ID));
	if (ok != 1) {
		EVP_MD_CTX_free(mctx);
		return NULL;
	}
	return mctx;
}

/* A private copy of a prototype context for one call. */
static EVP_MD_CTX *ac_key_md_copy(const EVP_MD_CTX *proto)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();

	if (mctx == NULL)
		return NULL;
	if (EVP_MD_CTX_copy_ex(mctx, proto) != 1) {
		EVP_MD_CTX_free(mctx);
		return NULL;
	}
	return mctx;
}

/* DER (SEQUENCE of two INTEGERs) to r || s, 32 bytes each. */
static int ac_sm2_der_to_raw(const uint8_t *der, size_t len, uint8_t raw[AC_SIG_LEN])
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r;
	const BIGNUM *s;
	int ret = AC_ECRYPTO;

	if (es == NULL)
		return AC_ECRYPTO;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32)
		ret = 0;
	ECDSA_SIG_free(es);
	return ret;
}

/* Appends a DER INTEGER holding the 32-byte unsigned big-endian value v. */
static size_t ac_der_uint32b(uint8_t *p, const uint8_t v[32])
{
	size_t skip = 0;
	size_t n = 0;

	while (skip < 31 && v[skip] == 0)
		skip++;
	p[n++] = 0x02;
	p[n++] = (uint8_t)(32 - skip + (v[skip] & 0x80 ? 1 : 0));
	if (v[skip] & 0x80)
		p[n++] = 0x00;
	memcpy(p + n, v + skip, 32 - skip);
	return n + 32 - skip;
}

/* r || s to DER; der must hold 72 bytes. Returns the DER length. */
static size_t ac_sm2_raw_to_der(const uint8_t raw[AC_SIG_LEN], uint8_t der[72])
{
	size_t n = 2;

	n += ac_der_uint32b(der + n, raw);
	n += ac_der_uint32b(der + n, raw + 32);
	der[0] = 0x30;
	der[1] = (uint8_t)(n - 2);
	return n;
}

int ac_key_sign(const ac_key *key, const uint8_t *msg, size_t len, uint8_t sig[AC_SIG_LEN],
		size_t *siglen)
{
	EVP_MD_CTX *mctx = NULL;
	uint8_t der[80];
	size_t dlen = sizeof(der);
	int r = AC_ECRYPTO;

	*siglen = 0;
	if (!key->has_private)
		return AC_EKEY;
	mctx = ac_key_md_copy(key->sign_proto);
	if (mctx == NULL)
		goto out;
	if (key->alg == AC_ALG_ED25519) {
		dlen = AC_SIG_LEN;
		if (EVP_DigestSign(mctx, sig, &dlen, msg, len) != 1 || dlen != AC_SIG_LEN)
			goto out;
	} else {
		if (EVP_DigestSign(mctx, der, &dlen, msg, len) != 1)
			goto out;
		if (ac_sm2_der_to_raw(der, dlen, sig) != 0)
			goto out;
	}
	*siglen = AC_SIG_LEN;
	r = 0;
out:
	EVP_MD_CTX_free(mctx);
	return r == 0 ? 0 : ac_sign_fail(r);
}

int ac_key_verify(const ac_key *key, const uint8_t *msg, size_t len, const uint8_t *sig,
		  size_t siglen)
{
	EVP_MD_CTX *mctx = NULL;
	uint8_t der[72];
	const uint8_t *vsig = sig;
	size_t vlen = siglen;
	int r = AC_EBADSIG;

	if (siglen != AC_SIG_LEN)
		return AC_EBADSIG;
	if (key->alg == AC_ALG_SM2) {
		vlen = ac_sm2_raw_to_der(sig, der);
		vsig = der;
	}
	mctx = ac_key_md_copy(key->verify_proto);
	if (mctx == NULL)
		goto out;
	if (EVP_DigestVerify(mctx, vsig, vlen, msg, len) == 1)
		r = 0;
out:
	EVP_MD_CTX_free(mctx);
	return r == 0 ? 0 : ac_sign_fail(r);
}

void ac_key_free(ac_key *key)
{
	if (key == NULL)
		return;
	EVP_MD_CTX_free(key->sign_proto);
	EVP_MD_CTX_free(key->verify_proto);
	EVP_PKEY_free(key->pkey);
	free(key);
}
