/*
 * Trust bundles (ac_bundle.h) and raw public keys (ac_sign.h): build, sign,
 * parse, tamper, truncate, limits, duplicates, lookups, and real codes
 * verified with keys that came out of a parsed bundle, for Ed25519 and SM2.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ac_bundle-private.h"
#include "ac_bundle.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_sign.h"
#include "ac_test.h"

static char what[256];
#define W(...) (snprintf(what, sizeof(what), __VA_ARGS__), what)

static const char *alg_name(int alg)
{
	return alg == AC_ALG_ED25519 ? "ed25519" : "sm2";
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* body + "signature KID HEX\n", signed with bk: any text, genuinely signed. */
static char *sign_body(const char *body, const ac_key *bk, int kid, size_t *len)
{
	uint8_t sig[AC_SIG_LEN];
	size_t siglen;
	size_t n = strlen(body);
	char *out = malloc(n + 200);
	int off;

	if (out == NULL || ac_key_sign(bk, (const uint8_t *)body, n, sig, &siglen) != 0)
		abort();
	memcpy(out, body, n);
	off = (int)n + sprintf(out + n, "signature %d ", kid);
	for (size_t i = 0; i < siglen; i++)
		off += sprintf(out + off, "%02x", sig[i]);
	out[off++] = '\n';
	out[off] = '\0';
	*len = (size_t)off;
	return out;
}

/* Parses a genuinely signed body; returns the parse result. */
static int parse_signed(const char *body, const ac_key *bk, int kid)
{
	size_t len;
	char *text = sign_body(body, bk, kid, &len);
	ac_bundle *b = NULL;
	int r = ac_bundle_parse(text, len, bk, kid, &b);

	ac_bundle_free(b);
	free(text);
	return r;
}

/* An empty bundle, version 1, to fill. */
static ac_bundle *empty_bundle(void)
{
	ac_bundle *b = NULL;

	if (ac_bundle_new(1, "2026-11-23T12:00:00Z", "350524", &b) != 0)
		abort();
	return b;
}

static void check_raw_keys(int alg)
{
	const char *an = alg_name(alg);
	ac_key *key = NULL;
	ac_key *pub = NULL;
	ac_key *again = NULL;
	ac_key *frompem = NULL;
	uint8_t raw[AC_RAW_PUBLIC_MAX];
	uint8_t raw2[AC_RAW_PUBLIC_MAX];
	size_t len = 0;
	size_t len2 = 0;
	char *pem1 = NULL;
	char *pem2 = NULL;
	size_t pl1;
	size_t pl2;
	uint8_t msg[30] = "thirty bytes of a code fields";
	uint8_t sig[AC_SIG_LEN];
	size_t siglen;
	size_t want = alg == AC_ALG_ED25519 ? 32 : 65;

	AC_CHECK(ac_key_generate(alg, &key) == 0, W("%s: generate", an));
	AC_CHECK(ac_key_raw_public(key, raw, sizeof(raw), &len) == 0 && len == want,
		 W("%s: raw public key of %zu bytes", an, want));
	AC_CHECK(ac_key_raw_public(key, raw, want - 1, &len2) == AC_ETOOBIG && len2 == 0,
		 W("%s: raw export refuses a short buffer", an));
	AC_CHECK(alg != AC_ALG_SM2 || raw[0] == 0x04, W("%s: uncompressed point", an));
	AC_CHECK(ac_key_from_raw_public(alg, raw, len, &pub) == 0 && pub != NULL,
		 W("%s: raw import", an));
	AC_CHECK(pub && !ac_key_has_private(pub) && ac_key_alg(pub) == alg,
		 W("%s: imported key is public, same algorithm", an));
	AC_CHECK(pub && ac_key_raw_public(pub, raw2, sizeof(raw2), &len2) == 0 && len2 == len &&
		     memcmp(raw, raw2, len) == 0,
		 W("%s: raw export of the import gives the same bytes", an));
	AC_CHECK(ac_key_public_pem(key, &pem1, &pl1) == 0 && pub &&
		     ac_key_public_pem(pub, &pem2, &pl2) == 0 && pl1 == pl2 &&
		     memcmp(pem1, pem2, pl1) == 0,
		 W("%s: same SubjectPublicKeyInfo PEM as the original", an));
	AC_CHECK(pem1 && ac_key_from_pem(pem1, pl1, &frompem) == 0, W("%s: PEM import", an));
	AC_CHECK(ac_key_sign(key, msg, sizeof(msg), sig, &siglen) == 0, W("%s: sign", an));
	AC_CHECK(pub && ac_key_verify(pub, msg, sizeof(msg), sig, siglen) == 0,
		 W("%s: raw-imported key verifies", an));
	AC_CHECK(frompem && ac_key_verify(frompem, msg, sizeof(msg), sig, siglen) == 0,
		 W("%s: PEM-imported key verifies the same", an));
	msg[3] ^= 1;
	AC_CHECK(pub && ac_key_verify(pub, msg, sizeof(msg), sig, siglen) == AC_EBADSIG,
		 W("%s: raw-imported key refuses an altered message", an));
	AC_CHECK(ac_key_from_raw_public(alg, raw, len - 1, &again) == AC_EKEY && again == NULL,
		 W("%s: import refuses a short key", an));
	if (alg == AC_ALG_SM2) {
		raw2[0] = 0x04;
		memcpy(raw2 + 1, raw + 1, 64);
		raw2[64] ^= 1; /* y changed: not on the curve */
		AC_CHECK(ac_key_from_raw_public(alg, raw2, 65, &again) == AC_EKEY,
			 W("%s: import refuses a point off the curve", an));
		memcpy(raw2, raw, 65);
		raw2[0] = 0x02;
		AC_CHECK(ac_key_from_raw_public(alg, raw2, 65, &again) == AC_EKEY,
			 W("%s: import refuses a non-uncompressed prefix", an));
		memset(raw2, 0, 65);
		raw2[0] = 0x04;
		AC_CHECK(ac_key_from_raw_public(alg, raw2, 65, &again) == AC_EKEY,
			 W("%s: import refuses (0, 0)", an));
	}
	AC_CHECK(ac_key_from_raw_public(9, raw, len, &again) == AC_ERANGE,
		 W("%s: import refuses an unknown algorithm", an));
	free(pem1);
	free(pem2);
	ac_key_free(frompem);
	ac_key_free(again);
	ac_key_free(pub);
	ac_key_free(key);
}

/* The keys of one round trip: the bundle key, another of its algorithm, code keys. */
struct trip_keys {
	ac_key *bk;
	ac_key *other;
	ac_key *ed;
	ac_key *sm;
};

/* Three code keys, five names and two revoked serials, looked up while building. */
static ac_bundle *build_bundle(const char *an, const struct trip_keys *k)
{
	ac_bundle *b = NULL;

	AC_CHECK(ac_bundle_new(7, "2026-11-23T12:00:00Z", "350524", &b) == 0,
		 W("%s: new bundle", an));
	AC_CHECK(
	    ac_bundle_add_key(b, 2, k->sm, AC_KEY_STATUS_RETIRED, "2025-01-01", "2026-06-30") == 0,
	    W("%s: add SM2 key", an));
	AC_CHECK(ac_bundle_add_key(b, 1, k->ed, AC_KEY_STATUS_ACTIVE, "2026-01-01", NULL) == 0,
		 W("%s: add Ed25519 key", an));
	AC_CHECK(ac_bundle_add_key(b, 3, k->ed, AC_KEY_STATUS_REVOKED, "-", "-") == 0,
		 W("%s: add a revoked key", an));
	AC_CHECK(ac_bundle_add_name(b, AC_NAME_ISSUER, 17, "凤城镇示范家庭农场") == 0 &&
		     ac_bundle_add_name(b, AC_NAME_PRODUCT, 1, "豇豆") == 0 &&
		     ac_bundle_add_name(b, AC_NAME_PRODUCT, 2, "番茄 (大果)") == 0 &&
		     ac_bundle_add_name(b, AC_NAME_REGION, 350524100000ULL, "参内镇") == 0 &&
		     ac_bundle_add_name(b, AC_NAME_REGION, 350524100201ULL,
					"福建省安溪县凤城镇示范村") == 0,
		 W("%s: add names", an));
	AC_CHECK(ac_bundle_add_revoked(b, 4096) == 0 && ac_bundle_add_revoked(b, 17) == 0,
		 W("%s: add revoked serials", an));
	AC_CHECK(ac_bundle_name(b, AC_NAME_PRODUCT, 2) != NULL && ac_bundle_is_revoked(b, 17) &&
		     ac_bundle_key(b, 2, NULL) != NULL,
		 W("%s: lookups while building", an));
	return b;
}

/* Signs b with kid 5: the text, sorted, and (Ed25519) the same when signed again. */
static char *check_sign(const char *an, int balg, ac_bundle *b, const ac_key *bk, size_t *len)
{
	char *text = NULL;
	char *text2 = NULL;
	size_t len2 = 0;

	*len = 0;
	AC_CHECK(ac_bundle_sign(b, 5, bk, &text, len) == 0 && text && strlen(text) == *len,
		 W("%s: sign", an));
	if (text == NULL)
		return NULL;
	AC_CHECK(strncmp(text,
			 "AGRICERT-TRUST-BUNDLE 1\nversion 7\nissued 2026-11-23T12:00:00Z\n"
			 "region 350524\nkey 1 ed25519 active 2026-01-01 - ",
			 110) == 0,
		 W("%s: header and sorted keys", an));
	AC_CHECK(strstr(text, "\nproduct 1 豇豆\nproduct 2 番茄 (大果)\nissuer 17 "
			      "凤城镇示范家庭农场\nregion 350524100000 参内镇\n") != NULL &&
		     strstr(text, "\nrevoked 17\nrevoked 4096\nsignature 5 ") != NULL,
		 W("%s: records sorted by kind and id", an));
	AC_CHECK(ac_bundle_sign(b, 5, bk, &text2, &len2) == 0 &&
		     (balg == AC_ALG_SM2 || (len2 == *len && memcmp(text, text2, *len) == 0)),
		 W("%s: signing again works (Ed25519: same text)", an));
	free(text2);
	return text;
}

/* Everything build_bundle() put in, read back from the parsed bundle p. */
static void check_parsed(const char *an, const ac_bundle *p)
{
	int status = 0;
	const char *nb;
	const char *na;

	AC_CHECK(ac_bundle_version(p) == 7 &&
		     strcmp(ac_bundle_issued(p), "2026-11-23T12:00:00Z") == 0 &&
		     strcmp(ac_bundle_region(p), "350524") == 0 && ac_bundle_signer_kid(p) == 5,
		 W("%s: header fields", an));
	AC_CHECK(ac_bundle_key_count(p) == 3 && ac_bundle_name_count(p) == 5 &&
		     ac_bundle_revoked_count(p) == 2,
		 W("%s: counts", an));
	AC_CHECK(ac_bundle_key(p, 1, &status) != NULL && status == AC_KEY_STATUS_ACTIVE &&
		     ac_key_alg(ac_bundle_key(p, 1, NULL)) == AC_ALG_ED25519,
		 W("%s: key 1 active Ed25519", an));
	AC_CHECK(ac_bundle_key(p, 2, &status) != NULL && status == AC_KEY_STATUS_RETIRED &&
		     ac_key_alg(ac_bundle_key(p, 2, NULL)) == AC_ALG_SM2,
		 W("%s: key 2 retired SM2", an));
	AC_CHECK(ac_bundle_key(p, 3, &status) != NULL && status == AC_KEY_STATUS_REVOKED,
		 W("%s: key 3 revoked", an));
	AC_CHECK(ac_bundle_key(p, 4, NULL) == NULL && ac_bundle_key(p, 0, NULL) == NULL,
		 W("%s: absent keys", an));
	AC_CHECK(ac_bundle_key_dates(p, 2, &nb, &na) == 0 && strcmp(nb, "2025-01-01") == 0 &&
		     strcmp(na, "2026-06-30") == 0,
		 W("%s: key dates", an));
	AC_CHECK(ac_bundle_key_dates(p, 1, &nb, &na) == 0 && strcmp(na, "") == 0 &&
		     ac_bundle_key_dates(p, 9, &nb, &na) == AC_ENOTFOUND && nb == NULL,
		 W("%s: open-ended and absent key dates", an));
	AC_CHECK(strcmp(ac_bundle_name(p, AC_NAME_PRODUCT, 1), "豇豆") == 0 &&
		     strcmp(ac_bundle_name(p, AC_NAME_PRODUCT, 2), "番茄 (大果)") == 0 &&
		     strcmp(ac_bundle_name(p, AC_NAME_ISSUER, 17), "凤城镇示范家庭农场") == 0 &&
		     strcmp(ac_bundle_name(p, AC_NAME_REGION, 350524100000ULL), "参内镇") == 0,
		 W("%s: names", an));
	AC_CHECK(ac_bundle_name(p, AC_NAME_ISSUER, 1) == NULL &&
		     ac_bundle_name(p, AC_NAME_PRODUCT, 17) == NULL &&
		     ac_bundle_name(p, 9, 1) == NULL,
		 W("%s: absent names, names are per kind", an));
	AC_CHECK(ac_bundle_is_revoked(p, 4096) && ac_bundle_is_revoked(p, 17) &&
		     !ac_bundle_is_revoked(p, 4095) && !ac_bundle_is_revoked(p, 0),
		 W("%s: revoked serials", an));
}

/* Real codes, verified with the keys the parsed bundle p carried. */
static void check_codes(const char *an, const ac_bundle *p, const struct trip_keys *k)
{
	for (int kid = 1; kid <= 2; kid++) {
		ac_code_fields f = { .version = 1,
				     .kid = (uint16_t)kid,
				     .serial = 4096,
				     .item = 1,
				     .issue_day = 2519,
				     .product = 1,
				     .quantity_milli = 25000,
				     .unit = AC_UNIT_KG,
				     .issuer = 17,
				     .origin = 350524100201ULL,
				     .basis = 0,
				     .style = AC_STYLE_PRODUCER };
		char payload[AC_CODE_TEXT_SIZE];
		ac_code code;
		const ac_key *bkey = ac_bundle_key(p, kid, NULL);
		const char *kn = alg_name(kid == 1 ? AC_ALG_ED25519 : AC_ALG_SM2);

		AC_CHECK(ac_code_sign(kid == 1 ? k->ed : k->sm, &f, payload, sizeof(payload)) ==
				 0 &&
			     ac_code_decode(payload, strlen(payload), &code) == 0,
			 W("%s: %s code signed and decoded", an, kn));
		AC_CHECK(bkey && ac_code_verify(&code, bkey) == 0,
			 W("%s: %s code verifies with the bundle's key", an, kn));
		code.raw[5] ^= 1;
		AC_CHECK(bkey && ac_code_verify(&code, bkey) == AC_EBADSIG,
			 W("%s: altered %s code refused by the bundle's key", an, kn));
	}
}

/* The bundle kid and key the parser is given must match the signature line. */
static void check_kids(const char *an, const char *text, size_t len, const struct trip_keys *k)
{
	ac_bundle *b = NULL;

	AC_CHECK(ac_bundle_parse(text, len, k->bk, 0, &b) == 0, W("%s: bundle kid 0: any", an));
	ac_bundle_free(b);
	b = NULL;
	AC_CHECK(ac_bundle_parse(text, len, k->bk, 6, &b) == AC_EUNKNOWNKEY && b == NULL,
		 W("%s: another bundle kid refused", an));
	AC_CHECK(ac_bundle_parse(text, len, k->other, 5, &b) == AC_EBADSIG && b == NULL,
		 W("%s: wrong bundle key refused", an));
	AC_CHECK(ac_bundle_parse(text, len - 1, k->bk, 5, &b) == 0,
		 W("%s: the final newline is optional", an));
	ac_bundle_free(b);
}

/* One flipped bit anywhere is refused; in the signed part as a bad signature. */
static void check_bit_flips(const char *an, char *text, size_t len, const ac_key *bk)
{
	size_t sigstart = (size_t)(strstr(text, "\nsignature ") - text) + 1;
	ac_bundle *b = NULL;
	int ok = 1;

	for (size_t i = 0; i < len - 1; i++) {
		int r;

		text[i] ^= 0x01;
		r = ac_bundle_parse(text, len, bk, 5, &b);
		text[i] ^= 0x01;
		if (r == 0 || b != NULL || (i + 1 < sigstart && i > 24 && r != AC_EBADSIG)) {
			printf("# byte %zu: %s\n", i, ac_strerror(r));
			ok = 0;
		}
		ac_bundle_free(b);
		b = NULL;
	}
	AC_CHECK(ok,
		 W("%s: a flipped bit in any byte is refused (signed part: bad signature)", an));
}

/* Truncated anywhere (only the final '\n' may go), or with bytes added. */
static void check_truncation(const char *an, const char *text, size_t len, const ac_key *bk)
{
	ac_bundle *b = NULL;
	char *text2;
	int ok = 1;

	for (size_t i = 0; i < len - 1; i++) {
		if (ac_bundle_parse(text, i, bk, 5, &b) == 0) {
			printf("# truncated at %zu accepted\n", i);
			ok = 0;
		}
		ac_bundle_free(b);
		b = NULL;
	}
	AC_CHECK(ok, W("%s: truncation at every byte (so every line boundary) refused", an));
	text2 = malloc(len + 2);
	memcpy(text2, text, len);
	text2[len] = '\n';
	AC_CHECK(ac_bundle_parse(text2, len + 1, bk, 5, &b) == AC_EMALFORMED,
		 W("%s: a second final newline refused", an));
	text2[len] = 'x';
	AC_CHECK(ac_bundle_parse(text2, len + 1, bk, 5, &b) == AC_EMALFORMED,
		 W("%s: a byte after the signature line refused", an));
	text2[len - 1] = '\r';
	text2[len] = '\n';
	AC_CHECK(ac_bundle_parse(text2, len + 1, bk, 5, &b) == AC_EMALFORMED,
		 W("%s: CRLF refused", an));
	free(text2);
	ac_bundle_free(b);
}

/*
 * Builds a bundle with both code key algorithms, signs it with a bundle key
 * of algorithm balg, and checks the round trip, tampering and truncation.
 */
static void check_round_trip(int balg)
{
	const char *an = alg_name(balg);
	struct trip_keys k = { NULL };
	ac_bundle *b = NULL;
	ac_bundle *p = NULL;
	char *text = NULL;
	size_t len = 0;

	if (ac_key_generate(balg, &k.bk) != 0 || ac_key_generate(balg, &k.other) != 0 ||
	    ac_key_generate(AC_ALG_ED25519, &k.ed) != 0 || ac_key_generate(AC_ALG_SM2, &k.sm) != 0)
		abort();
	b = build_bundle(an, &k);
	text = check_sign(an, balg, b, k.bk, &len);
	ac_bundle_free(b);
	if (text == NULL)
		goto out;
	AC_CHECK(ac_bundle_parse(text, len, k.bk, 5, &p) == 0 && p != NULL, W("%s: parse", an));
	if (p == NULL)
		goto out;
	check_parsed(an, p);
	check_codes(an, p, &k);
	check_kids(an, text, len, &k);
	check_bit_flips(an, text, len, k.bk);
	check_truncation(an, text, len, k.bk);
out:
	free(text);
	ac_bundle_free(p);
	ac_key_free(k.bk);
	ac_key_free(k.other);
	ac_key_free(k.ed);
	ac_key_free(k.sm);
}

#define HDR "AGRICERT-TRUST-BUNDLE 1\nversion 7\nissued 2026-11-23T12:00:00Z\nregion 350524\n"

/* A genuine Ed25519 public key (the vectors' kid 1) and SM2 public key, in hex. */
#define ED_HEX "2b5c899da47d13f9c830d126c503683a592173a466535147e70618f835442fb5"
#define SM2_HEX                                                                                    \
	"04f197f6c9008fef2ef72cf4604b0d5cd647b236494e8cc3385d34db309732c146"                       \
	"3b9bf9fb5d63d6d0a2a3cd5026c240fc23ba72e97c02711c3df370bef652e335"

/* A bundle body (all but the signature line) and what parsing it must return. */
struct body_case {
	const char *body;
	int want;
};

/* The magic line and the header. */
static const struct body_case header_cases[] = {
	{ HDR, 0 },
	{ HDR "product 1 x\n", 0 },
	{ "AGRICERT-TRUST-BUNDLE 2\nversion 7\n", AC_EVERSION },
	{ "AGRICERT-TRUST-BUNDLE 10\n" HDR, AC_EVERSION },
	{ "AGRICERT-TRUST-BUNDLE\n" HDR, AC_EMALFORMED },
	{ "agricert-trust-bundle 1\nversion 7\nissued 2026-11-23T12:00:00Z\nregion "
	  "350524\n",
	  AC_EMALFORMED },
	{ "AGRICERT-TRUST-BUNDLE 1\nversion 7\nissued 2026-11-23T12:00:00Z\n", AC_EMALFORMED },
	{ "AGRICERT-TRUST-BUNDLE 1\nissued 2026-11-23T12:00:00Z\nversion 7\nregion "
	  "350524\n",
	  AC_EMALFORMED },
	{ "AGRICERT-TRUST-BUNDLE 1\nversion 07\nissued 2026-11-23T12:00:00Z\nregion "
	  "350524\n",
	  AC_EMALFORMED },
	{ "AGRICERT-TRUST-BUNDLE 1\nversion 18446744073709551616\nissued "
	  "2026-11-23T12:00:00Z\nregion 350524\n",
	  AC_EMALFORMED },
	{ "AGRICERT-TRUST-BUNDLE 1\nversion 18446744073709551615\nissued "
	  "2026-11-23T12:00:00Z\nregion 350524\n",
	  0 },
	{ "AGRICERT-TRUST-BUNDLE 1\nversion 7\nissued 2026-02-29T12:00:00Z\nregion "
	  "350524\n",
	  AC_EMALFORMED },
	{ "AGRICERT-TRUST-BUNDLE 1\nversion 7\nissued 2026-11-23 12:00:00\nregion 350524\n",
	  AC_EMALFORMED },
	{ "AGRICERT-TRUST-BUNDLE 1\nversion 7\nissued 2026-11-23T12:00:00Z\nregion 35052\n",
	  AC_EMALFORMED },
	{ "AGRICERT-TRUST-BUNDLE 1\nversion 7\nissued 2026-11-23T12:00:00Z\nregion "
	  "050524\n",
	  AC_EMALFORMED },
};

/* Name and revoked records, and lines that are no record. */
static const struct body_case record_cases[] = {
	{ HDR "\n", AC_EMALFORMED },
	{ HDR "frobnicate 1 x\n", AC_EMALFORMED },
	{ HDR "product 0 x\n", AC_EMALFORMED },
	{ HDR "product 65536 x\n", AC_EMALFORMED },
	{ HDR "product 01 x\n", AC_EMALFORMED },
	{ HDR "product 1\n", AC_EMALFORMED },
	{ HDR "product 1 \n", AC_EMALFORMED },
	{ HDR "product  1 x\n", AC_EMALFORMED },
	{ HDR "product 1 a\tb\n", AC_EMALFORMED },
	{ HDR "product 1 a\rb\n", AC_EMALFORMED },
	{ HDR "product 1 a\x7f\n", AC_EMALFORMED },
	{ HDR "product 1 \xc2\x85\n", AC_EMALFORMED },
	{ HDR "product 1 \xc0\xaf\n", AC_EMALFORMED },
	{ HDR "product 1 \xed\xa0\x80\n", AC_EMALFORMED },
	{ HDR "product 1 \xe8\xb1\n", AC_EMALFORMED },
	{ HDR "product 1 x\nproduct 1 y\n", AC_EDUPLICATE },
	{ HDR "product 1 x\nissuer 1 x\nregion 350524100000 x\n", 0 },
	{ HDR "issuer 4294967295 x\n", 0 },
	{ HDR "issuer 4294967296 x\n", AC_EMALFORMED },
	{ HDR "region 35052410000 x\n", AC_EMALFORMED },
	{ HDR "region 050524100000 x\n", AC_EMALFORMED },
	{ HDR "revoked 0\nrevoked 281474976710655\n", 0 },
	{ HDR "revoked 281474976710656\n", AC_EMALFORMED },
	{ HDR "revoked 5\nrevoked 5\n", AC_EDUPLICATE },
	{ HDR "revoked 5 x\n", AC_EMALFORMED },
	{ HDR "revoked -5\n", AC_EMALFORMED },
	{ HDR "version 8\n", AC_EMALFORMED },
	{ HDR "signature 1 00\n", AC_EMALFORMED },
};

/* Key records. */
static const struct body_case key_cases[] = {
	{ HDR "key 1 ed25519 active - - " ED_HEX "\n", 0 },
	{ HDR "key 1 ed25519 active - - "
	      "2B5C899DA47D13F9C830D126C503683A592173A4665351"
	      "47E70618F835442FB5\n",
	  AC_EMALFORMED },
	{ HDR "key 1 ed25519 active - - "
	      "2b5c899da47d13f9c830d126c503683a592173a4665351"
	      "47e70618f835442f\n",
	  AC_EMALFORMED },
	{ HDR "key 1 ed25519 active - - " ED_HEX "\n"
	      "key 1 ed25519 retired - - " ED_HEX "\n",
	  AC_EDUPLICATE },
	{ HDR "key 0 ed25519 active - - " ED_HEX "\n", AC_EMALFORMED },
	{ HDR "key 1 ed448 active - - " ED_HEX "\n", AC_EMALFORMED },
	{ HDR "key 1 ed25519 expired - - " ED_HEX "\n", AC_EMALFORMED },
	{ HDR "key 1 ed25519 active 2026-13-01 - " ED_HEX "\n", AC_EMALFORMED },
	{ HDR "key 1 ed25519 active 2026-06-01 2026-01-01 " ED_HEX "\n", AC_EMALFORMED },
	{ HDR "key 1 sm2 active - - " ED_HEX "\n", AC_EMALFORMED },
	{ HDR "key 2 sm2 active - - " SM2_HEX "\n", 0 },
	{ HDR "key 2 sm2 active - - 04"
	      "f197f6c9008fef2ef72cf4604b0d5cd647b236494e8cc3385d34db309732c146"
	      "3b9bf9fb5d63d6d0a2a3cd5026c240fc23ba72e97c02711c3df370bef652e336\n",
	  AC_EKEY },
};

/*
 * Signs each body genuinely, so the parser sees it, and checks the result;
 * the cases are numbered from first on. Returns the next number.
 */
static size_t check_cases(const ac_key *bk, const struct body_case *cases, size_t n, size_t first)
{
	for (size_t i = 0; i < n; i++) {
		int r = parse_signed(cases[i].body, bk, 1);

		AC_CHECK(r == cases[i].want, W("record case %zu: %s (got %s)", first + i,
					       ac_strerror(cases[i].want), ac_strerror(r)));
	}
	return first + n;
}

/* Bodies that must be refused (and a few that must not). */
static void check_malformed(void)
{
	ac_key *bk = NULL;
	size_t n = 0;

	if (ac_key_generate(AC_ALG_ED25519, &bk) != 0)
		abort();
	n = check_cases(bk, header_cases, sizeof(header_cases) / sizeof(header_cases[0]), n);
	n = check_cases(bk, record_cases, sizeof(record_cases) / sizeof(record_cases[0]), n);
	check_cases(bk, key_cases, sizeof(key_cases) / sizeof(key_cases[0]), n);
	ac_key_free(bk);
}

static void check_builder_errors(void)
{
	ac_bundle *b = NULL;
	ac_key *ed = NULL;
	ac_key *pub = NULL;
	char *text = NULL;
	size_t len = 0;
	char name[1100];
	uint8_t raw[AC_RAW_PUBLIC_MAX];
	size_t rawlen;

	if (ac_key_generate(AC_ALG_ED25519, &ed) != 0)
		abort();
	AC_CHECK(ac_bundle_new(1, "2026-11-23", "350524", &b) == AC_EMALFORMED && b == NULL,
		 "builder: issued must be a full UTC time");
	AC_CHECK(ac_bundle_new(1, "2026-11-23T12:00:00Z", "3505", &b) == AC_EMALFORMED,
		 "builder: region of 6 to 12 digits");
	AC_CHECK(ac_bundle_new(1, "2026-11-23T12:00:00Z", "350524", &b) == 0, "builder: new");
	AC_CHECK(ac_bundle_add_key(b, 0, ed, AC_KEY_STATUS_ACTIVE, NULL, NULL) == AC_ERANGE &&
		     ac_bundle_add_key(b, 65536, ed, AC_KEY_STATUS_ACTIVE, NULL, NULL) ==
			 AC_ERANGE &&
		     ac_bundle_add_key(b, 1, ed, 4, NULL, NULL) == AC_ERANGE,
		 "builder: kid and status ranges");
	AC_CHECK(
	    ac_bundle_add_key(b, 1, ed, AC_KEY_STATUS_ACTIVE, "2026-1-1", NULL) == AC_EMALFORMED &&
		ac_bundle_add_key(b, 1, ed, AC_KEY_STATUS_ACTIVE, "2026-02-01", "2026-01-31") ==
		    AC_EMALFORMED,
	    "builder: bad dates");
	AC_CHECK(ac_bundle_add_key(b, 1, ed, AC_KEY_STATUS_ACTIVE, NULL, NULL) == 0 &&
		     ac_bundle_add_key(b, 1, ed, AC_KEY_STATUS_RETIRED, NULL, NULL) ==
			 AC_EDUPLICATE,
		 "builder: duplicate kid");
	AC_CHECK(ac_bundle_add_name(b, AC_NAME_PRODUCT, 0, "x") == AC_ERANGE &&
		     ac_bundle_add_name(b, AC_NAME_PRODUCT, 65536, "x") == AC_ERANGE &&
		     ac_bundle_add_name(b, AC_NAME_REGION, 35052410000ULL, "x") == AC_ERANGE &&
		     ac_bundle_add_name(b, 7, 1, "x") == AC_ERANGE,
		 "builder: name id ranges");
	AC_CHECK(ac_bundle_add_name(b, AC_NAME_PRODUCT, 1, "") == AC_EMALFORMED &&
		     ac_bundle_add_name(b, AC_NAME_PRODUCT, 1, "a\nb") == AC_EMALFORMED &&
		     ac_bundle_add_name(b, AC_NAME_PRODUCT, 1, "\xff") == AC_EMALFORMED,
		 "builder: bad names");
	/* "product 1 " + name + "\n" = 1024 bytes is the longest line. */
	memset(name, 'a', sizeof(name));
	name[1024 - 11] = '\0';
	AC_CHECK(ac_bundle_add_name(b, AC_NAME_PRODUCT, 1, name) == 0,
		 "builder: a line of exactly 1024 bytes");
	name[1024 - 11] = 'a';
	name[1024 - 10] = '\0';
	AC_CHECK(ac_bundle_add_name(b, AC_NAME_PRODUCT, 2, name) == AC_ETOOBIG,
		 "builder: a line of 1025 bytes refused");
	AC_CHECK(ac_bundle_add_revoked(b, AC_BUNDLE_SERIAL_MAX + 1) == AC_ERANGE,
		 "builder: revoked serial range");
	AC_CHECK(ac_bundle_add_name(b, AC_NAME_PRODUCT, 1, "again") == 0 &&
		     ac_bundle_sign(b, 1, ed, &text, &len) == AC_EDUPLICATE && text == NULL,
		 "builder: duplicate name id found by sign");
	ac_bundle_free(b);
	b = empty_bundle();
	AC_CHECK(ac_bundle_add_revoked(b, 9) == 0 && ac_bundle_add_revoked(b, 9) == 0 &&
		     ac_bundle_sign(b, 1, ed, &text, &len) == AC_EDUPLICATE,
		 "builder: duplicate revoked serial found by sign");
	ac_bundle_free(b);
	b = empty_bundle();
	if (ac_key_raw_public(ed, raw, sizeof(raw), &rawlen) != 0 ||
	    ac_key_from_raw_public(AC_ALG_ED25519, raw, rawlen, &pub) != 0)
		abort();
	AC_CHECK(ac_bundle_sign(b, 1, pub, &text, &len) == AC_EKEY &&
		     ac_bundle_sign(b, 0, ed, &text, &len) == AC_ERANGE,
		 "builder: sign needs a private key and a kid");
	ac_bundle_free(b);
	ac_key_free(pub);
	ac_key_free(ed);
}

/* 1000 keys build, sign and parse; the 1001st is refused by both. */
static void check_key_limits(const ac_key *ed)
{
	ac_bundle *b = empty_bundle();
	ac_bundle *p = NULL;
	char *text = NULL;
	size_t len = 0;
	int ok = 1;

	for (int kid = 1; kid <= AC_BUNDLE_MAX_KEYS && ok; kid++)
		ok = ac_bundle_add_key(b, kid, ed, AC_KEY_STATUS_ACTIVE, NULL, NULL) == 0;
	AC_CHECK(ok &&
		     ac_bundle_add_key(b, 1001, ed, AC_KEY_STATUS_ACTIVE, NULL, NULL) == AC_ETOOBIG,
		 "limits: 1000 keys, not 1001");
	AC_CHECK(ac_bundle_sign(b, 1, ed, &text, &len) == 0, "limits: 1000 keys sign");
	AC_CHECK(text && ac_bundle_parse(text, len, ed, 1, &p) == 0 &&
		     ac_bundle_key_count(p) == 1000,
		 "limits: 1000 keys parse");
	ac_bundle_free(p);
	/* 1001 key lines, genuinely signed, through the parser. */
	if (text != NULL) {
		char *line = strstr(text, "\nkey 1000 ") + 1;
		size_t ll = (size_t)(strchr(line, '\n') - line) + 1;
		char *body = malloc(len + ll + 1);
		size_t pre = (size_t)(line - text) + ll;

		memcpy(body, text, pre);
		memcpy(body + pre, "key 1001", 8);
		memcpy(body + pre + 8, line + 8, ll - 8);
		body[pre + ll] = '\0';
		AC_CHECK(parse_signed(body, ed, 1) == AC_ETOOBIG, "limits: 1001 key lines refused");
		free(body);
	}
	free(text);
	ac_bundle_free(b);
}

/* Names: 100,000 timed, 200,000 allowed, 200,001 not (built, then parsed). */
static void check_name_limits(const ac_key *ed)
{
	ac_bundle *b = empty_bundle();
	ac_bundle *p = NULL;
	char *text = NULL;
	size_t len = 0;
	char *big;
	size_t off;
	int ok = 1;
	int r;
	double t0;
	double t1;

	for (uint64_t i = 100000; i >= 1 && ok; i--) {
		char name[64];

		snprintf(name, sizeof(name), "产品名称 %" PRIu64 " 号", i);
		ok = ac_bundle_add_name(b, i % 2 ? AC_NAME_ISSUER : AC_NAME_PRODUCT,
					i % 2 ? i * 7919 : i / 2, name) == 0;
	}
	AC_CHECK(ok && ac_bundle_sign(b, 1, ed, &text, &len) == 0, "limits: 100,000 names sign");
	t0 = now_ms();
	r = text ? ac_bundle_parse(text, len, ed, 1, &p) : -1;
	t1 = now_ms();
	AC_CHECK(r == 0 && ac_bundle_name_count(p) == 100000 &&
		     strcmp(ac_bundle_name(p, AC_NAME_ISSUER, 99999 * 7919ULL),
			    "产品名称 99999 号") == 0,
		 "limits: 100,000 names parse and look up");
	printf("# parse of 100,000 names (%zu bytes): %.1f ms\n", len, t1 - t0);
	t0 = now_ms();
	r = 0;
	for (uint64_t i = 1; i <= 100000; i++)
		r += ac_bundle_name(p, AC_NAME_PRODUCT, i % 50000 + 1) != NULL;
	t1 = now_ms();
	AC_CHECK(r == 100000, "limits: 100,000 lookups");
	printf("# 100,000 lookups: %.1f ms\n", t1 - t0);
	free(text);
	ac_bundle_free(p);
	for (uint64_t i = 100001; i <= AC_BUNDLE_MAX_NAMES && ok; i++)
		ok = ac_bundle_add_name(b, AC_NAME_REGION, 100000000000ULL + i, "x") == 0;
	AC_CHECK(ok && ac_bundle_add_name(b, AC_NAME_REGION, 999999999999ULL, "x") == AC_ETOOBIG,
		 "limits: 200,000 names, not 200,001");
	ac_bundle_free(b);

	/* 200,001 name lines through the parser (2.6 MB, under the size limit). */
	big = malloc(AC_BUNDLE_MAX_SIZE);
	off = (size_t)sprintf(big, HDR);
	for (uint64_t i = 1; i <= AC_BUNDLE_MAX_NAMES + 1; i++)
		off += (size_t)sprintf(big + off, "issuer %" PRIu64 " x\n", i);
	AC_CHECK(parse_signed(big, ed, 1) == AC_ETOOBIG, "limits: 200,001 name lines refused");
	free(big);
}

/* Revoked serials: a million allowed, but not in 4 MiB of text. */
static void check_revoked_limits(const ac_key *ed)
{
	ac_bundle *b = empty_bundle();
	char *text = NULL;
	size_t len = 0;
	int ok = 1;

	for (uint64_t i = 0; i < AC_BUNDLE_MAX_REVOKED && ok; i++)
		ok = ac_bundle_add_revoked(b, i * 3) == 0;
	AC_CHECK(ok && ac_bundle_add_revoked(b, 1) == AC_ETOOBIG,
		 "limits: 1,000,000 revoked serials, not 1,000,001");
	AC_CHECK(ac_bundle_is_revoked(b, 2999997) && !ac_bundle_is_revoked(b, 2999998),
		 "limits: linear lookup while building");
	AC_CHECK(ac_bundle_sign(b, 1, ed, &text, &len) == AC_ETOOBIG && text == NULL,
		 "limits: a bundle over 4 MiB is not signed");
	AC_CHECK(ac_bundle_is_revoked(b, 2999997) && !ac_bundle_is_revoked(b, 2999998),
		 "limits: binary search after sign");
	ac_bundle_free(b);
}

/* Size and line length through the parser. */
static void check_size_limits(const ac_key *ed)
{
	char *big = malloc(AC_BUNDLE_MAX_SIZE);
	char *over = malloc((size_t)AC_BUNDLE_MAX_SIZE + 1);
	ac_bundle *p = NULL;
	size_t off;

	memset(big, 'a', AC_BUNDLE_MAX_SIZE);
	memcpy(big, HDR, strlen(HDR));
	AC_CHECK(ac_bundle_parse(big, (size_t)AC_BUNDLE_MAX_SIZE, ed, 1, &p) == AC_ETOOBIG,
		 "limits: 4 MiB in one last line refused");
	memcpy(over, big, AC_BUNDLE_MAX_SIZE);
	over[AC_BUNDLE_MAX_SIZE] = '\n';
	AC_CHECK(ac_bundle_parse(over, (size_t)AC_BUNDLE_MAX_SIZE + 1, ed, 1, &p) == AC_ETOOBIG &&
		     p == NULL,
		 "limits: 4 MiB + 1 byte refused before anything else");
	free(over);
	off = (size_t)sprintf(big, HDR "product 1 ");
	memset(big + off, 'a', 1024 - 11);
	big[off + 1024 - 11] = '\n';
	big[off + 1024 - 10] = '\0';
	AC_CHECK(parse_signed(big, ed, 1) == 0, "limits: a 1024-byte line parses");
	big[off + 1024 - 11] = 'a';
	big[off + 1024 - 10] = '\n';
	big[off + 1024 - 9] = '\0';
	AC_CHECK(parse_signed(big, ed, 1) == AC_ETOOBIG, "limits: a 1025-byte line refused");
	off = (size_t)sprintf(big, HDR "signature 1 ");
	memset(big + off, 'a', 2000);
	big[off + 2000] = '\n';
	AC_CHECK(ac_bundle_parse_unverified(big, off + 2001, &p) == AC_ETOOBIG,
		 "limits: a long signature line refused");
	free(big);
}

static void check_limits(void)
{
	ac_key *ed = NULL;

	if (ac_key_generate(AC_ALG_ED25519, &ed) != 0)
		abort();
	check_key_limits(ed);
	check_name_limits(ed);
	check_revoked_limits(ed);
	check_size_limits(ed);
	ac_key_free(ed);
}

static void check_unverified(void)
{
	ac_bundle *b = NULL;
	const char text[] =
	    HDR "product 1 x\nsignature 3 "
		"0000000000000000000000000000000000000000000000000000000000000000"
		"0000000000000000000000000000000000000000000000000000000000000000\n";

	AC_CHECK(ac_bundle_parse_unverified(text, strlen(text), &b) == 0 && b &&
		     ac_bundle_signer_kid(b) == 3 &&
		     strcmp(ac_bundle_name(b, AC_NAME_PRODUCT, 1), "x") == 0,
		 "unverified parse reaches the records");
	ac_bundle_free(b);
}

int main(void)
{
	check_raw_keys(AC_ALG_ED25519);
	check_raw_keys(AC_ALG_SM2);
	check_round_trip(AC_ALG_ED25519);
	check_round_trip(AC_ALG_SM2);
	check_malformed();
	check_builder_errors();
	check_limits();
	check_unverified();
	return ac_test_done();
}
