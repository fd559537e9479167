/*
 * libFuzzer target for the item code decoder, the parser every scan feeds
 * with untrusted text: ac_code_decode() on the input, then ac_code_verify()
 * with fixed Ed25519 and SM2 keys (those of proto/vectors/code-v1.json, so
 * the corpus holds genuine codes), and ac_base32_decode() on the raw input.
 * Properties checked (abort on failure): a decoded code re-encodes to the
 * same bytes and fields, and base32 is canonical.
 *
 *	clang -fsanitize=fuzzer,address ... (see proto/CODE.md, "Fuzzing")
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ac_base32.h"
#include "ac_code.h"
#include "ac_error.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ac_code code;
	uint8_t raw[512];
	size_t n;
	int r;

	fuzz_keys_load();
	r = ac_code_decode((const char *)data, size, &code);
	if (r == 0) {
		char text[AC_CODE_TEXT_SIZE];
		ac_code again;
		uint8_t packed[AC_CODE_FIELDS_LEN];

		/* Verification must answer, never crash; the kid picks the algorithm. */
		r = ac_code_verify(&code, code.f.kid == 2 ? fuzz_sm_key : fuzz_ed_key);
		if (r != 0 && r != AC_EBADSIG)
			abort();
		if (ac_base32_encode(code.raw, code.raw_len, text, sizeof(text)) !=
		    AC_CODE_TEXT_LEN)
			abort();
		if (ac_code_decode(text, AC_CODE_TEXT_LEN, &again) != 0 ||
		    memcmp(again.raw, code.raw, AC_CODE_LEN) != 0 ||
		    memcmp(&again.f, &code.f, sizeof(code.f)) != 0)
			abort();
		if (ac_code_pack(&code.f, packed) != 0 ||
		    memcmp(packed, code.raw, AC_CODE_FIELDS_LEN) != 0)
			abort();
	} else if (r != AC_EMALFORMED && r != AC_ETRUNCATED && r != AC_EVERSION && r != AC_ERANGE) {
		abort();
	}

	/* Base32 alone: canonical, so decode then encode gives the input back. */
	if (size <= 800 && ac_base32_decode((const char *)data, size, raw, sizeof(raw), &n) == 0) {
		char text[820];
		int len = ac_base32_encode(raw, n, text, sizeof(text));

		if (len != (int)size || strncasecmp(text, (const char *)data, size) != 0)
			abort();
	}
	return 0;
}
