/*
 * Writes the fixtures tests/unit/test_agricert_verify.py runs agricert-verify
 * against, all made with fresh random keys through the real ac_bundle and
 * ac_code APIs:
 *
 *	gen_bundle_fixture DIR
 *
 *	bundle.pub, other.pub     Ed25519 bundle key (kid 1) and an unrelated key
 *	bundle-sm2.pub            SM2 bundle key (kid 2)
 *	bundle.txt                version 7, signed by bundle kid 1: code keys 1
 *	                          (Ed25519, active), 2 (SM2, retired), 3 (Ed25519,
 *	                          revoked); product 1, issuer 17, regions
 *	                          350524100000 and 350524100201; revoked 4096
 *	bundle-v6.txt, bundle-v8.txt   the same records, versions 6 and 8
 *	bundle-sm2.txt            version 7 signed by the SM2 bundle key
 *	codes.txt                 "NAME PAYLOAD_OR_URL" lines: genuine, genuine-sm2,
 *	                          genuine-url, township, unknown-names,
 *	                          revoked-serial, revoked-key, unknown-key
 *
 * Exits 0, or 1 with a message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_bundle.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_sign.h"
#include "test_util.h"

static const char *dir;

static int write_file(const char *name, const char *data, size_t len)
{
	if (test_write_file(dir, name, data, len) != 0) {
		fprintf(stderr, "could not write file \"%s/%s\": %s\n", dir, name, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_pub(const char *name, const ac_key *key)
{
	char *pem = NULL;
	size_t len = 0;
	int r = ac_key_public_pem(key, &pem, &len);

	if (r == 0)
		r = write_file(name, pem, len);
	free(pem);
	return r;
}

static int write_bundle(const char *name, uint64_t version, ac_key *const code_keys[4], int bkid,
			const ac_key *bk)
{
	ac_bundle *b = NULL;
	char *text = NULL;
	size_t len = 0;
	int r;

	r = ac_bundle_new(version, "2026-11-23T12:00:00Z", "350524", &b);
	if (r == 0)
		r = ac_bundle_add_key(b, 1, code_keys[1], AC_KEY_STATUS_ACTIVE, "2026-01-01", NULL);
	if (r == 0)
		r = ac_bundle_add_key(b, 2, code_keys[2], AC_KEY_STATUS_RETIRED, "2025-01-01",
				      "2026-06-30");
	if (r == 0)
		r = ac_bundle_add_key(b, 3, code_keys[3], AC_KEY_STATUS_REVOKED, "2025-01-01",
				      NULL);
	if (r == 0)
		r = ac_bundle_add_name(b, AC_NAME_PRODUCT, 1, "豇豆");
	if (r == 0)
		r = ac_bundle_add_name(b, AC_NAME_ISSUER, 17, "凤城镇示范家庭农场");
	if (r == 0)
		r = ac_bundle_add_name(b, AC_NAME_ISSUER, 18, "Quote \" and \\ backslash");
	if (r == 0)
		r = ac_bundle_add_name(b, AC_NAME_REGION, 350524100000ULL, "参内镇");
	if (r == 0)
		r = ac_bundle_add_name(b, AC_NAME_REGION, 350524100201ULL,
				       "福建省安溪县凤城镇示范村");
	if (r == 0)
		r = ac_bundle_add_revoked(b, 4096);
	if (r == 0)
		r = ac_bundle_sign(b, bkid, bk, &text, &len);
	if (r == 0)
		r = write_file(name, text, len);
	else
		fprintf(stderr, "could not build %s: %s\n", name, ac_strerror(r));
	free(text);
	ac_bundle_free(b);
	return r;
}

/* codes.txt: one "NAME PAYLOAD_OR_URL" line a code, signed with keys[kid]. */
static int write_codes(ac_key *const keys[5])
{
	static const struct {
		const char *name;
		int kid;
		uint64_t serial;
		uint32_t quantity_milli;
		uint32_t issuer;
		uint64_t origin;
		int url;
	} codes[] = {
		{ "genuine", 1, 1000, 25000, 17, 350524100201ULL, 0 },
		{ "genuine-sm2", 2, 1001, 2500, 17, 350524100201ULL, 0 },
		{ "genuine-url", 1, 1002, 1, 17, 350524100201ULL, 1 },
		{ "township", 1, 1003, 25000, 17, 350524100999ULL, 0 },
		{ "unknown-names", 1, 1004, 25000, 18, 350600000001ULL, 0 },
		{ "revoked-serial", 1, 4096, 25000, 17, 350524100201ULL, 0 },
		{ "revoked-key", 3, 1005, 25000, 17, 350524100201ULL, 0 },
		{ "unknown-key", 4, 1006, 25000, 17, 350524100201ULL, 0 },
	};
	char lines[8192];
	size_t off = 0;

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		ac_code_fields f = {
			.version = AC_CODE_VERSION,
			.kid = (uint16_t)codes[i].kid,
			.serial = codes[i].serial,
			.item = 1,
			.issue_day = (uint16_t)ac_day_from_ymd(2026, 11, 24),
			.product = 1,
			.quantity_milli = codes[i].quantity_milli,
			.unit = AC_UNIT_KG,
			.issuer = codes[i].issuer,
			.origin = codes[i].origin,
			.basis = AC_BASIS_QUALITY_CONTROL,
			.style = AC_STYLE_PRODUCER,
		};
		char payload[AC_CODE_TEXT_SIZE];
		char url[AC_CODE_URL_MAX];
		int r = ac_code_sign(keys[codes[i].kid], &f, payload, sizeof(payload));

		if (r == 0 && codes[i].url)
			r = ac_code_url("https://trace.example.cn", payload, url, sizeof(url)) < 0;
		if (r != 0) {
			fprintf(stderr, "could not sign code %s: %s\n", codes[i].name,
				ac_strerror(r));
			return r;
		}
		off += (size_t)snprintf(lines + off, sizeof(lines) - off, "%s %s\n", codes[i].name,
					codes[i].url ? url : payload);
	}
	return write_file("codes.txt", lines, off);
}

int main(int argc, char **argv)
{
	ac_key *keys[5] = { NULL };
	ac_key *bk = NULL;
	ac_key *bk_sm2 = NULL;
	ac_key *other = NULL;
	int r = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_bundle_fixture DIR\n");
		return 1;
	}
	dir = argv[1];
	if (ac_key_generate(AC_ALG_ED25519, &keys[1]) != 0 ||
	    ac_key_generate(AC_ALG_SM2, &keys[2]) != 0 ||
	    ac_key_generate(AC_ALG_ED25519, &keys[3]) != 0 ||
	    ac_key_generate(AC_ALG_ED25519, &keys[4]) != 0 ||
	    ac_key_generate(AC_ALG_ED25519, &bk) != 0 ||
	    ac_key_generate(AC_ALG_SM2, &bk_sm2) != 0 ||
	    ac_key_generate(AC_ALG_ED25519, &other) != 0) {
		fprintf(stderr, "could not generate keys\n");
		r = -1;
		goto out;
	}
	if (write_pub("bundle.pub", bk) != 0 || write_pub("bundle-sm2.pub", bk_sm2) != 0 ||
	    write_pub("other.pub", other) != 0 || write_bundle("bundle.txt", 7, keys, 1, bk) != 0 ||
	    write_bundle("bundle-v6.txt", 6, keys, 1, bk) != 0 ||
	    write_bundle("bundle-v8.txt", 8, keys, 1, bk) != 0 ||
	    write_bundle("bundle-sm2.txt", 7, keys, 2, bk_sm2) != 0) {
		r = -1;
		goto out;
	}
	r = write_codes(keys);
out:
	for (int i = 0; i < 5; i++)
		ac_key_free(keys[i]);
	ac_key_free(bk);
	ac_key_free(bk_sm2);
	ac_key_free(other);
	return r == 0 ? 0 : 1;
}
