/*
 * Signing keys: Ed25519 (the default) and SM2 with SM3 (国密, GB/T 32918 and
 * GB/T 35276, distinguishing ID "1234567812345678").
 *
 * This is the only agricert file that includes OpenSSL headers. Keys are
 * opaque; they are read from and written to PEM buffers (PKCS#8 for private
 * keys, SubjectPublicKeyInfo for public keys) and never touch files here.
 *
 * Signatures are always AC_SIG_LEN (64) bytes: Ed25519's native form, and for
 * SM2 the raw r || s (32 + 32 bytes, big-endian), which this module converts
 * to and from the DER SEQUENCE that OpenSSL and most SM2 tools use.
 *
 * Threads: a key is immutable once made. Any number of threads may sign,
 * verify and export with the same const key at once (every call has its own
 * OpenSSL contexts). ac_key_free() must not race with other uses.
 */
#ifndef AC_SIGN_H
#define AC_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define AC_ALG_ED25519 1
#define AC_ALG_SM2     2

#define AC_SIG_LEN 64

/* The SM2 distinguishing ID (user ID) used for every SM2 signature. */
#define AC_SM2_ID "1234567812345678"

typedef struct ac_key ac_key;

/*
 * Makes a new random private key of algorithm alg (AC_ALG_*). On success *out
 * is a key owned by the caller (free with ac_key_free()). Returns 0,
 * AC_ERANGE for an unknown alg, AC_ECRYPTO or -ENOMEM. *out is NULL on error.
 */
int ac_key_generate(int alg, ac_key **out);

/*
 * Parses a PEM private key ("PRIVATE KEY", PKCS#8, unencrypted) or public key
 * ("PUBLIC KEY") from len bytes of pem (no NUL needed). Only Ed25519 and SM2
 * keys are accepted; an "EC PRIVATE KEY" on the SM2 curve is refused (convert
 * it with `openssl pkey`). Returns 0, AC_EKEY or -ENOMEM; *out as above.
 */
int ac_key_from_pem(const char *pem, size_t len, ac_key **out);

/*
 * Writes the private key as unencrypted PKCS#8 PEM. On success *out is a
 * NUL-terminated malloc'd buffer of *len characters (plus the NUL), now owned
 * by the caller, who must clear it before freeing: ac_key_pem_free(). Returns
 * 0, AC_EKEY when the key has no private part, AC_ECRYPTO or -ENOMEM.
 */
int ac_key_private_pem(const ac_key *key, char **out, size_t *len);

/* Same for the public key (SubjectPublicKeyInfo PEM); free it with free(). */
int ac_key_public_pem(const ac_key *key, char **out, size_t *len);

/* Clears len bytes of pem and frees it (freezero); NULL-safe. */
void ac_key_pem_free(char *pem, size_t len);

/* Raw public key lengths: Ed25519's 32 bytes, SM2's uncompressed point 04 || x || y. */
#define AC_RAW_PUBLIC_ED25519_LEN 32
#define AC_RAW_PUBLIC_SM2_LEN	  65
#define AC_RAW_PUBLIC_MAX	  65

/*
 * Makes a public key of algorithm alg (AC_ALG_*) from its raw form: for
 * Ed25519 the 32-byte RFC 8032 encoding, for SM2 the 65-byte uncompressed
 * point (0x04 || x || y, 32 bytes each, big-endian) on the SM2 curve, which
 * is checked to lie on the curve. The key verifies exactly as one read from
 * PEM. On success *out is owned by the caller (ac_key_free()). Returns 0,
 * AC_ERANGE for an unknown alg, AC_EKEY for a wrong length or an invalid
 * point, AC_ECRYPTO or -ENOMEM. *out is NULL on error.
 */
int ac_key_from_raw_public(int alg, const uint8_t *raw, size_t len, ac_key **out);

/*
 * Writes the raw public key (format as above, whatever form the key was read
 * from) to out of outsz bytes (AC_RAW_PUBLIC_MAX is always enough) and sets
 * *len to its length. Returns 0, AC_ETOOBIG or AC_ECRYPTO; *len is 0 on
 * error.
 */
int ac_key_raw_public(const ac_key *key, uint8_t *out, size_t outsz, size_t *len);

/* AC_ALG_ED25519 or AC_ALG_SM2. */
int ac_key_alg(const ac_key *key);

/* 1 when key can sign, 0 when it holds a public key only. */
int ac_key_has_private(const ac_key *key);

/*
 * Signs len bytes of msg (Ed25519: PureEdDSA over msg; SM2: SM3 of Z || msg
 * with ID AC_SM2_ID) and writes AC_SIG_LEN bytes to sig, *siglen = 64.
 * Returns 0, AC_EKEY (public key only), AC_ECRYPTO or -ENOMEM.
 */
int ac_key_sign(const ac_key *key, const uint8_t *msg, size_t len, uint8_t sig[AC_SIG_LEN],
		size_t *siglen);

/*
 * Verifies siglen bytes of sig over len bytes of msg. Returns 0 when the
 * signature is valid, AC_EBADSIG otherwise (including a siglen other than 64
 * and SM2 r or s outside 1..n-1), -ENOMEM when memory runs out.
 */
int ac_key_verify(const ac_key *key, const uint8_t *msg, size_t len, const uint8_t *sig,
		  size_t siglen);

/* Frees key; NULL-safe. */
void ac_key_free(ac_key *key);

#endif
