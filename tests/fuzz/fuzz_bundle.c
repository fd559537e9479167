/*
 * libFuzzer target for the trust bundle parser, which an inspector's device
 * feeds with a file from anywhere: ac_bundle_parse() with fixed bundle keys
 * (the test keys of proto/vectors/code-v1.json: Ed25519 kid 1, SM2 kid 2, so
 * the committed seeds are genuinely signed), then
 * ac_bundle_parse_unverified() to reach the record parser with any bytes.
 * Properties checked (abort on failure): only documented errors; a parsed
 * bundle has one record per line and answers lookups for what it holds.
 *
 *	clang -fsanitize=fuzzer,address ... (see proto/CODE.md, "Fuzzing")
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ac_bundle-private.h"
#include "ac_bundle.h"
#include "ac_error.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int allowed(int r, int verified)
{
	switch (r) {
	case 0:
	case AC_EMALFORMED:
	case AC_EVERSION:
	case AC_ETOOBIG:
	case AC_EDUPLICATE:
	case AC_EKEY:
	case -ENOMEM:
		return 1;
	case AC_EBADSIG:
	case AC_EUNKNOWNKEY:
		return verified;
	default:
		return 0;
	}
}

/* A parsed bundle holds one record per line: header (4), records, signature. */
static void check_parsed(const ac_bundle *b, const uint8_t *data, size_t size)
{
	size_t lines = 0;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (size > 0 && data[size - 1] != '\n')
		lines++;
	if (lines !=
	    5 + ac_bundle_key_count(b) + ac_bundle_name_count(b) + ac_bundle_revoked_count(b))
		abort();
	if (strlen(ac_bundle_issued(b)) != AC_BUNDLE_ISSUED_LEN || strlen(ac_bundle_region(b)) < 6)
		abort();
	/* Lookups answer for any id, and a key found has a known status. */
	for (int kid = 0; kid < 4; kid++) {
		int status = 0;

		if (ac_bundle_key(b, kid, &status) != NULL &&
		    (status < AC_KEY_STATUS_ACTIVE || status > AC_KEY_STATUS_REVOKED))
			abort();
	}
	for (uint64_t id = 0; id < 4; id++) {
		const char *n = ac_bundle_name(b, AC_NAME_PRODUCT, id);

		if (n != NULL && n[0] == '\0')
			abort();
		(void)ac_bundle_name(b, AC_NAME_ISSUER, id);
		(void)ac_bundle_is_revoked(b, id);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ac_bundle *b = NULL;
	int r;

	fuzz_keys_load();
	r = ac_bundle_parse((const char *)data, size, fuzz_ed_key, 0, &b);
	if (r == AC_EBADSIG)
		r = ac_bundle_parse((const char *)data, size, fuzz_sm_key, 2, &b);
	if (!allowed(r, 1) || (r == 0) != (b != NULL))
		abort();
	if (b != NULL)
		check_parsed(b, data, size);
	ac_bundle_free(b);
	b = NULL;

	r = ac_bundle_parse_unverified((const char *)data, size, &b);
	if (!allowed(r, 0) || (r == 0) != (b != NULL))
		abort();
	if (b != NULL)
		check_parsed(b, data, size);
	ac_bundle_free(b);
	return 0;
}
