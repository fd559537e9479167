#include <argon2.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "ac_error.h"
#include "ac_secret.h"

/* OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane. */
#define T_COST	 2
#define M_COST	 19456
#define PARALLEL 1
#define SALT_LEN 16
#define HASH_LEN 32

int ac_secret_hash(const char *secret, char *out, size_t outsz)
{
	unsigned char salt[SALT_LEN];
	int r;

	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return -EIO;
	r = argon2id_hash_encoded(T_COST, M_COST, PARALLEL, secret, strlen(secret), salt,
				  sizeof(salt), HASH_LEN, out, outsz);
	return r == ARGON2_OK ? 0 : AC_ECRYPTO;
}

int ac_secret_verify(const char *encoded, const char *secret)
{
	int r = argon2id_verify(encoded, secret, strlen(secret));

	if (r == ARGON2_OK)
		return 0;
	if (r == ARGON2_VERIFY_MISMATCH)
		return AC_EBADSIG;
	return AC_EMALFORMED;
}

int ac_secret_token(char *out, size_t outsz)
{
	unsigned char raw[24];

	if (outsz < AC_SECRET_TOKEN_SIZE)
		return AC_ETOOBIG;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	memcpy(out, "ac_", 3);
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 3 + 2 * i, 3, "%02x", raw[i]);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}
