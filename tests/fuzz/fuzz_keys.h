/*
 * The fixed public keys the fuzz targets verify with: the test keys of
 * proto/vectors/code-v1.json (Ed25519 kid 1, SM2 kid 2), so the committed
 * seeds are genuinely signed and reach past signature checks.
 *
 * Header-only, for the fuzz targets in this folder: each includes it once.
 */
#ifndef FUZZ_KEYS_H
#define FUZZ_KEYS_H

#include <stdlib.h>
#include <string.h>

#include "ac_sign.h"

/* Loaded by fuzz_keys_load() and kept for the life of the process. */
static ac_key *fuzz_ed_key;
static ac_key *fuzz_sm_key;

/* Loads both keys on the first call; aborts when they cannot be loaded. */
static void fuzz_keys_load(void)
{
	static const char ed25519_pub[] =
	    "-----BEGIN PUBLIC KEY-----\n"
	    "MCowBQYDK2VwAyEAK1yJnaR9E/nIMNEmxQNoOlkhc6RmU1FH5wYY+DVEL7U=\n"
	    "-----END PUBLIC KEY-----\n";
	static const char sm2_pub[] =
	    "-----BEGIN PUBLIC KEY-----\n"
	    "MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE8Zf2yQCP7y73LPRgSw1c1keyNklO\n"
	    "jMM4XTTbMJcywUY7m/n7XWPW0KKjzVAmwkD8I7py6XwCcRw983C+9lLjNQ==\n"
	    "-----END PUBLIC KEY-----\n";

	if (fuzz_ed_key != NULL)
		return;
	if (ac_key_from_pem(ed25519_pub, strlen(ed25519_pub), &fuzz_ed_key) != 0 ||
	    ac_key_from_pem(sm2_pub, strlen(sm2_pub), &fuzz_sm_key) != 0)
		abort();
}

#endif
