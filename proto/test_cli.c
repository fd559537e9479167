/*
 * The openssl command line agrees with ac_sign and ac_code: it verifies
 * genuine codes (ours and the committed vectors) and refuses altered ones,
 * for Ed25519 and SM2, and coreutils base32 decodes our payload text. This is
 * the recipe of CODE.md, "Verifying with the openssl command line", run.
 *
 *	test_proto_cli /usr/bin/openssl proto/vectors/code-v1.json
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ac_base32.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_test.h"
#include "test_util.h"

static const char *openssl_bin;
static char dir[] = "/tmp/ac-proto-cli-XXXXXX";

static int write_file(const char *name, const void *data, size_t len)
{
	return test_write_file(dir, name, data, len);
}

/* Runs a shell command in dir; returns its exit status. */
static int run(const char *fmt, const char *a, const char *b)
{
	char cmd[2048];
	char full[2400];
	int st;

	snprintf(cmd, sizeof(cmd), fmt, a ? a : "", b ? b : "");
	snprintf(full, sizeof(full), "cd %s && %s >out.txt 2>&1", dir, cmd);
	st = system(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The recipe: r || s to DER with openssl asn1parse -genconf (no code of ours). */
static int sm2_der_with_cli(const uint8_t sig[64])
{
	char conf[512];
	int n = snprintf(conf, sizeof(conf), "asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x");

	for (int i = 0; i < 32; i++)
		n += snprintf(conf + n, sizeof(conf) - (size_t)n, "%02X", sig[i]);
	n += snprintf(conf + n, sizeof(conf) - (size_t)n, "\ns=INTEGER:0x");
	for (int i = 32; i < 64; i++)
		n += snprintf(conf + n, sizeof(conf) - (size_t)n, "%02X", sig[i]);
	n += snprintf(conf + n, sizeof(conf) - (size_t)n, "\n");
	if (write_file("sig.cnf", conf, (size_t)n) != 0)
		return -1;
	return run("%s asn1parse -genconf sig.cnf -out sig.der -noout", openssl_bin, NULL);
}

#define ED_VERIFY "%s pkeyutl -verify -pubin -inkey pub.pem -rawin -in msg.bin -sigfile sig.bin"
#define SM2_VERIFY                                                                                 \
	"%s pkeyutl -verify -pubin -inkey pub.pem -rawin -digest sm3 "                             \
	"-pkeyopt distid:1234567812345678 -in msg.bin -sigfile sig.der"

/* Verifies 30 message bytes and a 64-byte signature with the CLI: exit status. */
static int cli_verify(int alg, const char *pubpem, const uint8_t *msg, const uint8_t *sig)
{
	if (write_file("pub.pem", pubpem, strlen(pubpem)) != 0 ||
	    write_file("msg.bin", msg, AC_CODE_FIELDS_LEN) != 0 ||
	    write_file("sig.bin", sig, AC_CODE_SIG_LEN) != 0)
		return -1;
	if (alg == AC_ALG_ED25519)
		return run(ED_VERIFY, openssl_bin, NULL);
	if (sm2_der_with_cli(sig) != 0)
		return -1;
	return run(SM2_VERIFY, openssl_bin, NULL);
}

static char what[128];
#define W(s) (snprintf(what, sizeof(what), "%s: %s", name, (s)), what)

/* openssl verifies a genuine code of key and refuses it altered. */
static void check_cli_verifies(int alg, const char *name, const ac_key *key, const char *pub,
			       uint8_t msg[AC_CODE_FIELDS_LEN], uint8_t sig[AC_CODE_SIG_LEN])
{
	ac_code_fields f = test_fields_typical();
	char text[AC_CODE_TEXT_SIZE];
	ac_code code;

	AC_CHECK(ac_code_sign(key, &f, text, sizeof(text)) == 0 &&
		     ac_code_decode(text, strlen(text), &code) == 0,
		 W("code"));
	memcpy(msg, code.raw, AC_CODE_FIELDS_LEN);
	memcpy(sig, code.raw + AC_CODE_FIELDS_LEN, AC_CODE_SIG_LEN);
	AC_CHECK(cli_verify(alg, pub, msg, sig) == 0, W("openssl verifies a genuine code"));
	msg[17] ^= 0x01;
	AC_CHECK(cli_verify(alg, pub, msg, sig) == 1, W("openssl refuses an altered message"));
	msg[17] ^= 0x01;
	sig[40] ^= 0x80;
	AC_CHECK(cli_verify(alg, pub, msg, sig) == 1, W("openssl refuses an altered signature"));
	sig[40] ^= 0x80;
}

/* Ed25519 is deterministic: openssl signs msg.bin with priv.pem to the same sig. */
static void check_cli_signs_ed25519(const char *name, const uint8_t sig[AC_CODE_SIG_LEN])
{
	uint8_t cli_sig[AC_CODE_SIG_LEN];
	char path[256];
	FILE *fs;

	AC_CHECK(run("%s pkeyutl -sign -inkey priv.pem -rawin -in msg.bin -out cli.sig",
		     openssl_bin, NULL) == 0,
		 W("openssl signs"));
	snprintf(path, sizeof(path), "%s/cli.sig", dir);
	fs = fopen(path, "rb");
	AC_CHECK(fs != NULL && fread(cli_sig, 1, 64, fs) == 64 && fgetc(fs) == EOF &&
		     memcmp(cli_sig, sig, 64) == 0,
		 W("openssl makes the same signature"));
	if (fs != NULL)
		fclose(fs);
}

/* r and s of the DER signature in dir/cli.der, each zero-padded to 32 bytes. */
static int read_der_sig(uint8_t sig[AC_CODE_SIG_LEN])
{
	char line[512];
	char cmd[512];
	int ints = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s asn1parse -inform DER -in %s/cli.der", openssl_bin, dir);
	p = popen(cmd, "r");
	while (p != NULL && fgets(line, sizeof(line), p) != NULL && ints < 2) {
		char *h = strstr(line, "INTEGER");
		size_t hl;
		uint8_t *dst = sig + 32 * ints;

		if (h == NULL || (h = strchr(h, ':')) == NULL)
			continue;
		h++;
		hl = strcspn(h, "\r\n");
		if (hl > 64 || hl % 2)
			break;
		memset(dst, 0, 32);
		for (size_t i = 0; i < hl / 2; i++) {
			unsigned v;

			sscanf(h + 2 * i, "%2x", &v);
			dst[32 - hl / 2 + i] = (uint8_t)v;
		}
		ints++;
	}
	if (p != NULL)
		pclose(p);
	return ints;
}

/* SM2 is randomised: openssl signs msg.bin with priv.pem, ac_key_verify accepts. */
static void check_cli_signs_sm2(const char *name, const ac_key *key,
				const uint8_t msg[AC_CODE_FIELDS_LEN])
{
	uint8_t cli_sig[AC_CODE_SIG_LEN];

	AC_CHECK(run("%s pkeyutl -sign -inkey priv.pem -rawin -digest sm3 "
		     "-pkeyopt distid:1234567812345678 -in msg.bin -out cli.der",
		     openssl_bin, NULL) == 0,
		 W("openssl signs"));
	AC_CHECK(read_der_sig(cli_sig) == 2 &&
		     ac_key_verify(key, msg, AC_CODE_FIELDS_LEN, cli_sig, 64) == 0,
		 W("ac_key_verify accepts an openssl signature"));
}

static void check_alg(int alg, const char *name)
{
	ac_key *key = NULL;
	char *pub = NULL;
	char *priv = NULL;
	size_t publen = 0;
	size_t privlen = 0;
	uint8_t msg[AC_CODE_FIELDS_LEN];
	uint8_t sig[AC_CODE_SIG_LEN];

	if (ac_key_generate(alg, &key) != 0 || ac_key_public_pem(key, &pub, &publen) != 0 ||
	    ac_key_private_pem(key, &priv, &privlen) != 0) {
		AC_CHECK(0, W("key"));
		goto out;
	}
	check_cli_verifies(alg, name, key, pub, msg, sig);
	/* The other way: openssl signs, ac_key_verify accepts. */
	write_file("priv.pem", priv, privlen);
	if (alg == AC_ALG_ED25519)
		check_cli_signs_ed25519(name, sig);
	else
		check_cli_signs_sm2(name, key, msg);
out:
	ac_key_pem_free(priv, privlen);
	free(pub);
	ac_key_free(key);
}
#undef W

/* The committed vectors, checked with openssl and coreutils alone. */
static void check_vectors(const char *path)
{
	json_t *root = json_load_file(path, 0, NULL);
	json_t *code;
	size_t i;
	int checked = 0;

	if (!AC_CHECK(root != NULL, "vectors load"))
		return;
	json_array_foreach(json_object_get(root, "codes"), i, code)
	{
		json_int_t kid = json_integer_value(json_object_get(code, "kid"));
		const char *payload = json_string_value(json_object_get(code, "payload"));
		const char *pub = NULL;
		const char *alg = NULL;
		uint8_t msg[AC_CODE_FIELDS_LEN];
		uint8_t sig[AC_CODE_SIG_LEN];
		uint8_t all[AC_CODE_LEN];
		char padded[AC_CODE_TEXT_LEN + 8];
		json_t *k;
		size_t j;
		FILE *f;
		char file[256];

		json_array_foreach(json_object_get(root, "keys"), j, k)
		{
			if (json_integer_value(json_object_get(k, "kid")) == kid) {
				pub = json_string_value(json_object_get(k, "public_pem"));
				alg = json_string_value(json_object_get(k, "alg"));
			}
		}
		if (!AC_CHECK(
			pub && alg && payload &&
			    test_unhex(json_string_value(json_object_get(code, "fields_hex")), msg,
				       sizeof(msg)) == 0 &&
			    test_unhex(json_string_value(json_object_get(code, "signature_hex")),
				       sig, sizeof(sig)) == 0,
			"vector complete"))
			continue;
		AC_CHECK(cli_verify(strcmp(alg, "sm2") == 0 ? AC_ALG_SM2 : AC_ALG_ED25519, pub, msg,
				    sig) == 0,
			 "openssl verifies a vector");
		/* coreutils base32 wants padding to a multiple of 8: 151 + 1. */
		snprintf(padded, sizeof(padded), "%s=", payload);
		write_file("payload.txt", padded, strlen(padded));
		AC_CHECK(run("{ base32 -d payload.txt > payload.bin; }", NULL, NULL) == 0,
			 "coreutils base32 decodes a vector");
		snprintf(file, sizeof(file), "%s/payload.bin", dir);
		f = fopen(file, "rb");
		AC_CHECK(f != NULL && fread(all, 1, sizeof(all), f) == sizeof(all) &&
			     fgetc(f) == EOF && memcmp(all, msg, sizeof(msg)) == 0 &&
			     memcmp(all + sizeof(msg), sig, sizeof(sig)) == 0,
			 "payload is base32 of fields_hex and signature_hex");
		if (f != NULL)
			fclose(f);
		checked++;
	}
	AC_CHECK(checked >= 5, "all vectors checked with the cli");
	json_decref(root);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		printf("# usage: %s openssl code-v1.json\n", argv[0]);
		return 2;
	}
	openssl_bin = argv[1];
	if (!AC_CHECK(mkdtemp(dir) != NULL, "temporary directory"))
		return ac_test_done();
	check_alg(AC_ALG_ED25519, "ed25519");
	check_alg(AC_ALG_SM2, "sm2");
	check_vectors(argv[2]);
	run("rm -rf %s", dir, NULL);
	return ac_test_done();
}
