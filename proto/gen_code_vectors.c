/*
 * Writes proto/vectors/code-v1.json from an Ed25519 and an SM2 private key:
 *
 *	gen_code_vectors ed25519.pem sm2.pem ed25519-2.pem > proto/vectors/code-v1.json
 *
 * The keys get kids 1, 2 and 65535.
 *
 * Not part of any build target's normal output; the committed vectors were
 * made with it once and test_code checks them (and test_cli with openssl).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ac_base32.h"
#include "ac_code.h"
#include "ac_error.h"
#include "test_util.h"

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)n + 1);
	if (buf == NULL)
		goto out;
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

static json_t *fields_json(const ac_code_fields *f)
{
	int y;
	int m;
	int d;
	char date[16];

	ac_day_to_ymd(f->issue_day, &y, &m, &d);
	snprintf(date, sizeof(date), "%04d-%02d-%02d", y, m, d);
	return json_pack("{s:i, s:i, s:I, s:i, s:i, s:s, s:i, s:I, s:s, s:I, s:I, s:s, s:s}",
			 "version", f->version, "kid", f->kid, "serial", (json_int_t)f->serial,
			 "item", f->item, "issue_day", f->issue_day, "issue_date", date, "product",
			 f->product, "quantity_milli", (json_int_t)f->quantity_milli, "unit",
			 ac_unit_name(f->unit), "issuer", (json_int_t)f->issuer, "origin",
			 (json_int_t)f->origin, "basis", ac_basis_name(f->basis), "style",
			 ac_style_name(f->style));
}

static json_t *code_json(const char *name, const ac_key *key, const ac_code_fields *f,
			 int deterministic)
{
	char text[AC_CODE_TEXT_SIZE];
	char url[AC_CODE_URL_MAX];
	char fhex[2 * AC_CODE_LEN + 1];
	char shex[2 * AC_CODE_SIG_LEN + 1];
	ac_code code;

	if (ac_code_sign(key, f, text, sizeof(text)) != 0 ||
	    ac_code_decode(text, strlen(text), &code) != 0 || ac_code_verify(&code, key) != 0 ||
	    ac_code_url("https://trace.agri.fujian.gov.cn", text, url, sizeof(url)) < 0) {
		fprintf(stderr, "could not make vector %s\n", name);
		exit(1);
	}
	test_hex(code.raw, AC_CODE_FIELDS_LEN, fhex);
	test_hex(code.raw + AC_CODE_FIELDS_LEN, AC_CODE_SIG_LEN, shex);
	return json_pack("{s:s, s:i, s:b, s:o, s:s, s:s, s:s, s:s}", "name", name, "kid", f->kid,
			 "deterministic", deterministic, "fields", fields_json(f), "fields_hex",
			 fhex, "signature_hex", shex, "payload", text, "url", url);
}

/* The signed codes: typical, largest, smallest, purchaser (Ed25519), sm2. */
static json_t *codes_json(ac_key *const key[3])
{
	ac_code_fields typical = test_fields_typical();
	ac_code_fields largest = test_fields_largest();
	ac_code_fields smallest = {
		.version = 1,
		.kid = 1,
		.serial = 0,
		.item = 1,
		.issue_day = 0,
		.product = 1,
		.quantity_milli = 1,
		.unit = 1,
		.issuer = 1,
		.origin = AC_CODE_ORIGIN_MIN,
		.basis = AC_BASIS_QUALITY_CONTROL,
		.style = AC_STYLE_PRODUCER,
	};
	ac_code_fields purchaser = {
		.version = 1,
		.kid = 1,
		.serial = 987654321,
		.item = 120,
		.issue_day = (uint16_t)ac_day_from_ymd(2025, 11, 3),
		.product = 88,
		.quantity_milli = 40000,
		.unit = AC_UNIT_JIN,
		.issuer = 7,
		.origin = 110105001000ULL,
		.basis = AC_BASIS_COMMISSIONED_TEST,
		.style = AC_STYLE_PURCHASER,
	};
	ac_code_fields sm2 = typical;
	json_t *codes = json_array();

	sm2.kid = 2;
	json_array_append_new(codes, code_json("typical", key[0], &typical, 1));
	json_array_append_new(codes, code_json("largest", key[2], &largest, 1));
	json_array_append_new(codes, code_json("smallest", key[0], &smallest, 1));
	json_array_append_new(codes, code_json("purchaser", key[0], &purchaser, 1));
	json_array_append_new(codes, code_json("sm2", key[1], &sm2, 0));
	return codes;
}

static void add_invalid(json_t *invalid, const char *text, const char *error)
{
	json_array_append_new(invalid, json_pack("{s:s, s:s}", "text", text, "error", error));
}

/* A few texts every decoder must refuse, with the reason: the typical code, altered. */
static json_t *invalid_json(const ac_key *key)
{
	ac_code_fields typical = test_fields_typical();
	char text[AC_CODE_TEXT_SIZE];
	char bad[AC_CODE_TEXT_SIZE + 8];
	json_t *invalid = json_array();

	ac_code_sign(key, &typical, text, sizeof(text));
	snprintf(bad, sizeof(bad), "%.150s", text);
	add_invalid(invalid, bad, "truncated");
	snprintf(bad, sizeof(bad), "%sA", text);
	add_invalid(invalid, bad, "malformed");
	snprintf(bad, sizeof(bad), "%s", text);
	bad[150] = 'B'; /* sets one of the three unused trailing bits */
	add_invalid(invalid, bad, "malformed");
	snprintf(bad, sizeof(bad), "AI%s", text + 2); /* version 2 */
	add_invalid(invalid, bad, "version");
	snprintf(bad, sizeof(bad), "%s", text);
	bad[140] = bad[140] == 'A' ? 'B' : 'A'; /* inside the signature */
	add_invalid(invalid, bad, "signature");
	return invalid;
}

/* The private key of one PEM file, with both PEMs; exits when it is not an alg key. */
static json_t *key_json(const char *path, int kid, int alg, ac_key **key, char **pem, size_t *len)
{
	char *pub = NULL;
	size_t publen = 0;
	json_t *j;

	*pem = read_all(path, len);
	if (*pem == NULL || ac_key_from_pem(*pem, *len, key) != 0 || ac_key_alg(*key) != alg ||
	    ac_key_public_pem(*key, &pub, &publen) != 0) {
		fprintf(stderr, "could not read key %s\n", path);
		exit(1);
	}
	j = json_pack("{s:i, s:s, s:s, s:s}", "kid", kid, "alg",
		      alg == AC_ALG_SM2 ? "sm2" : "ed25519", "private_pem", *pem, "public_pem",
		      pub);
	free(pub);
	return j;
}

int main(int argc, char **argv)
{
	static const int kids[3] = { 1, 2, 0xffff };
	static const int algs[3] = { AC_ALG_ED25519, AC_ALG_SM2, AC_ALG_ED25519 };
	char *pem[3];
	size_t len[3];
	ac_key *key[3];
	json_t *keys = json_array();
	json_t *root;

	if (argc != 4) {
		fprintf(stderr, "usage: %s ed25519.pem sm2.pem ed25519-2.pem\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < 3; i++)
		json_array_append_new(
		    keys, key_json(argv[1 + i], kids[i], algs[i], &key[i], &pem[i], &len[i]));
	root = json_pack("{s:s, s:i, s:s, s:o, s:o, s:o}", "format", "agricert item code",
			 "version", 1, "spec", "proto/CODE.md", "keys", keys, "codes",
			 codes_json(key), "invalid", invalid_json(key[0]));
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
	for (int i = 0; i < 3; i++) {
		ac_key_pem_free(pem[i], len[i]);
		ac_key_free(key[i]);
	}
	return 0;
}
