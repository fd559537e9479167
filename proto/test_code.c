/*
 * The item code: the committed vectors (proto/vectors/code-v1.json, the path
 * is argv[1]), tampering, every malformed input class, URLs, dates and names.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ac_base32.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_test.h"
#include "test_util.h"

#define HOST_URL "https://trace.agri.fujian.gov.cn"

static ac_key *keys_priv[3];
static ac_key *keys_pub[3];
static int keys_kid[3];
static int nkeys;

static const ac_key *key_for(int kid, int priv)
{
	for (int i = 0; i < nkeys; i++) {
		if (keys_kid[i] == kid)
			return priv ? keys_priv[i] : keys_pub[i];
	}
	return NULL;
}

static void good_fields(ac_code_fields *f)
{
	memset(f, 0, sizeof(*f));
	f->version = 1;
	f->kid = 1;
	f->serial = 77;
	f->item = 1;
	f->issue_day = 1601;
	f->product = 9;
	f->quantity_milli = 500;
	f->unit = AC_UNIT_G;
	f->issuer = 31;
	f->origin = 350128101001ULL;
	f->basis = AC_BASIS_QUALITY_CONTROL;
	f->style = AC_STYLE_PRODUCER;
}

/* The text of a genuine code of good_fields(), signed with priv. */
static void good_text(const ac_key *priv, char text[AC_CODE_TEXT_SIZE])
{
	ac_code_fields f;

	good_fields(&f);
	ac_code_sign(priv, &f, text, AC_CODE_TEXT_SIZE);
}

/* Decodes text and verifies it with the key its kid names: 0 or an error. */
static int decode_verify(const char *text, size_t len)
{
	ac_code code;
	const ac_key *key;
	int r = ac_code_decode(text, len, &code);

	if (r != 0)
		return r;
	key = key_for(code.f.kid, 0);
	if (key == NULL)
		return AC_EUNKNOWNKEY;
	return ac_code_verify(&code, key);
}

static int fields_from_json(json_t *j, ac_code_fields *f)
{
	json_int_t v[10];
	const char *unit;
	const char *basis;
	const char *style;

	memset(f, 0, sizeof(*f));
	if (json_unpack(j, "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:s, s:s}",
			"version", &v[0], "kid", &v[1], "serial", &v[2], "item", &v[3], "issue_day",
			&v[4], "product", &v[5], "quantity_milli", &v[6], "unit", &unit, "issuer",
			&v[7], "origin", &v[8], "basis", &basis, "style", &style) != 0)
		return -1;
	f->version = (uint8_t)v[0];
	f->kid = (uint16_t)v[1];
	f->serial = (uint64_t)v[2];
	f->item = (uint16_t)v[3];
	f->issue_day = (uint16_t)v[4];
	f->product = (uint16_t)v[5];
	f->quantity_milli = (uint32_t)v[6];
	f->unit = (uint8_t)ac_unit_from_name(unit);
	f->issuer = (uint32_t)v[7];
	f->origin = (uint64_t)v[8];
	f->basis = (uint8_t)ac_basis_from_name(basis);
	f->style = (uint8_t)ac_style_from_name(style);
	return 0;
}

/* The code a vector's "error" names; 1 (no code) for an unknown name. */
static int error_named(const char *name)
{
	static const struct {
		const char *name;
		int err;
	} errors[] = {
		{ "truncated", AC_ETRUNCATED }, { "malformed", AC_EMALFORMED },
		{ "version", AC_EVERSION },	{ "range", AC_ERANGE },
		{ "signature", AC_EBADSIG },
	};

	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		if (strcmp(name, errors[i].name) == 0)
			return errors[i].err;
	}
	return 1;
}

/* The vectors' keys, private and public, into keys_*; nkeys counts them. */
static void load_vector_keys(json_t *root)
{
	json_t *item;
	size_t i;

	json_array_foreach(json_object_get(root, "keys"), i, item)
	{
		const char *priv = json_string_value(json_object_get(item, "private_pem"));
		const char *pub = json_string_value(json_object_get(item, "public_pem"));
		const char *alg = json_string_value(json_object_get(item, "alg"));
		char *mine = NULL;
		size_t mlen = 0;

		if (nkeys >= 3 || priv == NULL || pub == NULL || alg == NULL)
			break;
		keys_kid[nkeys] = (int)json_integer_value(json_object_get(item, "kid"));
		AC_CHECK(ac_key_from_pem(priv, strlen(priv), &keys_priv[nkeys]) == 0 &&
			     ac_key_from_pem(pub, strlen(pub), &keys_pub[nkeys]) == 0,
			 "vector keys load");
		if (keys_priv[nkeys] == NULL || keys_pub[nkeys] == NULL)
			break;
		AC_CHECK(ac_key_alg(keys_pub[nkeys]) ==
			     (strcmp(alg, "sm2") == 0 ? AC_ALG_SM2 : AC_ALG_ED25519),
			 "vector key algorithm");
		AC_CHECK(ac_key_public_pem(keys_priv[nkeys], &mine, &mlen) == 0 &&
			     strcmp(mine, pub) == 0,
			 "vector public key matches its private key");
		free(mine);
		nkeys++;
	}
	AC_CHECK(nkeys == 3, "three vector keys");
}

/* One code vector: its fields pack, its payload and url decode, verify and re-sign. */
static void check_vector_code(json_t *item)
{
	const char *payload = json_string_value(json_object_get(item, "payload"));
	const char *url = json_string_value(json_object_get(item, "url"));
	const char *fhex = json_string_value(json_object_get(item, "fields_hex"));
	int det = json_is_true(json_object_get(item, "deterministic"));
	ac_code_fields f;
	ac_code code;
	uint8_t packed[AC_CODE_FIELDS_LEN];
	char text[AC_CODE_TEXT_SIZE];
	char mine[AC_CODE_URL_MAX];
	char h[2 * AC_CODE_FIELDS_LEN + 1];
	const ac_key *priv;
	const ac_key *pub;

	if (!AC_CHECK(payload && url && fhex &&
			  fields_from_json(json_object_get(item, "fields"), &f) == 0,
		      "vector is complete"))
		return;
	priv = key_for(f.kid, 1);
	pub = key_for(f.kid, 0);
	if (!AC_CHECK(priv != NULL, "vector kid names a key"))
		return;
	AC_CHECK(ac_code_pack(&f, packed) == 0, "vector fields pack");
	test_hex(packed, sizeof(packed), h);
	AC_CHECK(strcmp(h, fhex) == 0, "vector fields_hex exact");
	AC_CHECK(ac_code_decode(payload, strlen(payload), &code) == 0 &&
		     memcmp(&code.f, &f, sizeof(f)) == 0 && code.raw_len == AC_CODE_LEN,
		 "vector payload decodes to its fields");
	AC_CHECK(ac_code_verify(&code, pub) == 0, "vector payload verifies");
	AC_CHECK(ac_code_sign(priv, &f, text, sizeof(text)) == 0 &&
		     strlen(text) == AC_CODE_TEXT_LEN,
		 "vector signs");
	if (det)
		AC_CHECK(strcmp(text, payload) == 0, "ed25519 vector payload exact");
	else
		AC_CHECK(decode_verify(text, strlen(text)) == 0, "sm2 fresh code verifies");
	AC_CHECK(ac_code_url(HOST_URL, payload, mine, sizeof(mine)) > 0 && strcmp(mine, url) == 0,
		 "vector url exact");
	AC_CHECK(decode_verify(url, strlen(url)) == 0, "vector url verifies");
}

static void check_vectors(const char *path)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	json_t *item;
	size_t i;

	if (!AC_CHECK(root != NULL, "vectors load")) {
		printf("# %s: %s\n", path, jerr.text);
		return;
	}
	load_vector_keys(root);
	json_array_foreach(json_object_get(root, "codes"), i, item)
	{
		check_vector_code(item);
	}
	json_array_foreach(json_object_get(root, "invalid"), i, item)
	{
		const char *text = json_string_value(json_object_get(item, "text"));
		const char *err = json_string_value(json_object_get(item, "error"));

		if (!AC_CHECK(text && err, "invalid vector is complete"))
			continue;
		AC_CHECK(decode_verify(text, strlen(text)) == error_named(err),
			 "invalid vector refused for its reason");
	}
	json_decref(root);
}

/* All 94 x 8 single-bit changes of a genuine code are refused. */
static void check_bit_flips(const ac_key *priv, const char *what)
{
	ac_code_fields f;
	char text[AC_CODE_TEXT_SIZE];
	uint8_t raw[AC_CODE_LEN];
	size_t n;
	int refused = 0;

	good_fields(&f);
	f.kid = (uint16_t)(ac_key_alg(priv) == AC_ALG_SM2 ? 2 : 1);
	ac_code_sign(priv, &f, text, sizeof(text));
	AC_CHECK(decode_verify(text, strlen(text)) == 0, what);
	ac_base32_decode(text, strlen(text), raw, sizeof(raw), &n);
	for (int bit = 0; bit < AC_CODE_LEN * 8; bit++) {
		char t[AC_CODE_TEXT_SIZE];

		raw[bit / 8] ^= (uint8_t)(0x80 >> bit % 8);
		ac_base32_encode(raw, sizeof(raw), t, sizeof(t));
		if (decode_verify(t, strlen(t)) != 0)
			refused++;
		raw[bit / 8] ^= (uint8_t)(0x80 >> bit % 8);
	}
	AC_CHECK(refused == AC_CODE_LEN * 8, what);
	if (refused != AC_CODE_LEN * 8)
		printf("# %d of %d flips refused\n", refused, AC_CODE_LEN * 8);
}

/*
 * Every change of one character to another symbol is refused. A change of
 * case only is the same symbol (base32 ignores case), so it is the same code.
 */
static void check_char_changes(const ac_key *priv)
{
	static const char others[] = "01890=/?# .-_+\x7f\x80\xff";
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	char text[AC_CODE_TEXT_SIZE];
	int tried = 0;
	int refused = 0;
	int same = 1;

	good_text(priv, text);
	for (int pos = 0; pos < AC_CODE_TEXT_LEN; pos++) {
		char t[AC_CODE_TEXT_SIZE];

		memcpy(t, text, sizeof(t));
		for (size_t k = 0; k < sizeof(alphabet) - 1 + sizeof(others) - 1 + 1; k++) {
			char c;

			if (k < sizeof(alphabet) - 1)
				c = alphabet[k];
			else if (k < sizeof(alphabet) - 1 + sizeof(others) - 1)
				c = others[k - (sizeof(alphabet) - 1)];
			else
				c = '\0';
			if (c == text[pos])
				continue;
			t[pos] = c;
			tried++;
			if (decode_verify(t, AC_CODE_TEXT_LEN) != 0)
				refused++;
		}
		/* Lower case: same bytes, still genuine. */
		t[pos] = (char)(text[pos] >= 'A' && text[pos] <= 'Z' ? text[pos] + 32 : text[pos]);
		if (decode_verify(t, AC_CODE_TEXT_LEN) != 0)
			same = 0;
	}
	AC_CHECK(tried == refused, "every single-character change refused");
	if (tried != refused)
		printf("# %d of %d changes refused\n", refused, tried);
	AC_CHECK(same, "a change of case only is the same code");
}

/* Signs arbitrary 30 bytes (bypassing ac_code_pack) and returns the text. */
static void sign_raw(const ac_key *priv, uint8_t raw[AC_CODE_LEN], char *text)
{
	size_t siglen;

	ac_key_sign(priv, raw, AC_CODE_FIELDS_LEN, raw + AC_CODE_FIELDS_LEN, &siglen);
	ac_base32_encode(raw, AC_CODE_LEN, text, AC_CODE_TEXT_SIZE);
}

/* Texts that are no code of any version: their length, padding or characters. */
static void check_bad_texts(const char *text)
{
	/* Each format gets the genuine text as its argument. */
	static const struct {
		const char *fmt;
		const char *what;
	} cases[] = {
		{ "%sA", "152 chars" },		{ "%sAAAAAAAA", "one block more" },
		{ "AEAAAAAA====", "padding" },	{ " %s", "leading space" },
		{ "%s\n", "trailing newline" }, { "hello, world", "prose" },
	};
	ac_code code;
	char buf[1024];
	int ok = 1;

	AC_CHECK(ac_code_decode("", 0, &code) == AC_ETRUNCATED, "empty text");
	AC_CHECK(ac_code_decode(NULL, 0, &code) == AC_ETRUNCATED, "NULL empty text");
	for (size_t len = 0; len < AC_CODE_TEXT_LEN; len++) {
		if (ac_code_decode(text, len, &code) != AC_ETRUNCATED)
			ok = 0;
	}
	AC_CHECK(ok, "every truncation is AC_ETRUNCATED");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), cases[i].fmt, text);
		AC_CHECK(ac_code_decode(buf, strlen(buf), &code) == AC_EMALFORMED, cases[i].what);
	}
	memset(buf, 'A', sizeof(buf));
	buf[1] = 'E';
	AC_CHECK(ac_code_decode(buf, sizeof(buf), &code) == AC_EMALFORMED, "1024 chars");
}

/* Versions this build does not know, whatever their length; unpack's lengths. */
static void check_versions(const uint8_t base[AC_CODE_LEN])
{
	ac_code_fields f;
	ac_code code;
	uint8_t raw[AC_CODE_LEN];
	char buf[AC_CODE_TEXT_SIZE];

	for (int v = 0; v < 256; v += 1) {
		if (v == AC_CODE_VERSION)
			continue;
		memcpy(raw, base, AC_CODE_LEN);
		raw[0] = (uint8_t)v;
		ac_base32_encode(raw, sizeof(raw), buf, sizeof(buf));
		if (ac_code_decode(buf, strlen(buf), &code) != AC_EVERSION)
			break;
		if (ac_code_decode(buf, 20, &code) != AC_EVERSION)
			break;
		if (v == 255)
			AC_CHECK(1, "versions 0 and 2..255 are AC_EVERSION");
	}
	AC_CHECK(ac_code_unpack(base, 29, &f) == AC_ETRUNCATED, "unpack of 29 bytes");
	AC_CHECK(ac_code_unpack(base, 0, &f) == AC_ETRUNCATED, "unpack of nothing");
	AC_CHECK(ac_code_unpack(base, 30, &f) == 0 && f.serial == 77, "unpack of 30 bytes");
}

/* Out-of-range fields, validly signed so only the range check can refuse them. */
static void check_ranges(const ac_key *priv, const uint8_t base[AC_CODE_LEN])
{
	static const struct {
		int off;
		int len;
		uint64_t value;
		const char *what;
	} cases[] = {
		{ 9, 2, 0, "item 0" },
		{ 13, 2, 0, "product 0" },
		{ 15, 4, 0, "quantity 0" },
		{ 19, 1, 0, "unit 0" },
		{ 19, 1, 11, "unit 11" },
		{ 19, 1, 255, "unit 255" },
		{ 20, 4, 0, "issuer 0" },
		{ 24, 5, 99999999999ULL, "origin of 11 digits" },
		{ 24, 5, 1000000000000ULL, "origin of 13 digits" },
		{ 24, 5, 0xffffffffffULL, "origin 2^40-1" },
		{ 24, 5, 0, "origin 0" },
		{ 29, 1, 0x03 | 0x04, "basis 3" },
		{ 29, 1, 0x00, "style 0" },
		{ 29, 1, 0x0c, "style 3" },
		{ 29, 1, 0x14, "flags bit 4" },
		{ 29, 1, 0x84, "flags bit 7" },
	};
	ac_code code;
	uint8_t raw[AC_CODE_LEN];
	char buf[AC_CODE_TEXT_SIZE];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = cases[i].value;

		memcpy(raw, base, sizeof(raw));
		for (int b = cases[i].len - 1; b >= 0; b--) {
			raw[cases[i].off + b] = (uint8_t)v;
			v >>= 8;
		}
		sign_raw(priv, raw, buf);
		AC_CHECK(ac_code_decode(buf, strlen(buf), &code) == AC_ERANGE, cases[i].what);
	}
}

/* ac_code_pack and ac_code_sign refuse the same values. */
static void check_pack(const ac_key *priv)
{
	uint8_t out[AC_CODE_FIELDS_LEN];
	char buf[1024];
	ac_code_fields g;

#define BAD(stmt, err, what)                                                                       \
	do {                                                                                       \
		good_fields(&g);                                                                   \
		stmt;                                                                              \
		AC_CHECK(ac_code_pack(&g, out) == (err), what);                                    \
	} while (0)
	BAD(g.version = 0, AC_EVERSION, "pack version 0");
	BAD(g.version = 2, AC_EVERSION, "pack version 2");
	BAD(g.serial = AC_CODE_SERIAL_MAX + 1, AC_ERANGE, "pack serial 2^48");
	BAD(g.item = 0, AC_ERANGE, "pack item 0");
	BAD(g.product = 0, AC_ERANGE, "pack product 0");
	BAD(g.quantity_milli = 0, AC_ERANGE, "pack quantity 0");
	BAD(g.unit = 0, AC_ERANGE, "pack unit 0");
	BAD(g.unit = AC_UNIT_MAX + 1, AC_ERANGE, "pack unit 11");
	BAD(g.issuer = 0, AC_ERANGE, "pack issuer 0");
	BAD(g.origin = AC_CODE_ORIGIN_MIN - 1, AC_ERANGE, "pack origin too small");
	BAD(g.origin = AC_CODE_ORIGIN_MAX + 1, AC_ERANGE, "pack origin too large");
	BAD(g.basis = 3, AC_ERANGE, "pack basis 3");
	BAD(g.style = 0, AC_ERANGE, "pack style 0");
	BAD(g.style = 3, AC_ERANGE, "pack style 3");
	BAD(g.origin = AC_CODE_ORIGIN_MAX, 0, "pack origin max");
	BAD(g.serial = AC_CODE_SERIAL_MAX, 0, "pack serial max");
#undef BAD
	good_fields(&g);
	g.item = 0;
	AC_CHECK(ac_code_sign(priv, &g, buf, sizeof(buf)) == AC_ERANGE && buf[0] == '\0',
		 "sign refuses bad fields");
	good_fields(&g);
	AC_CHECK(ac_code_sign(priv, &g, buf, AC_CODE_TEXT_SIZE - 1) == AC_ETOOBIG,
		 "sign needs 152 bytes");
	AC_CHECK(ac_code_sign(key_for(1, 0), &g, buf, sizeof(buf)) == AC_EKEY,
		 "sign with a public key");
}

static void check_malformed(const ac_key *priv)
{
	char text[AC_CODE_TEXT_SIZE];
	uint8_t base[AC_CODE_LEN];

	good_text(priv, text);
	check_bad_texts(text);
	ac_base32_decode(text, AC_CODE_TEXT_LEN, base, sizeof(base), &(size_t){ 0 });
	check_versions(base);
	check_ranges(priv, base);
	check_pack(priv);
}

/* The URL forms a scanner may read, accepted or refused. */
static void check_urls(const ac_key *priv)
{
	static const char *good[] = {
		"HTTPS://TRACE.AGRI.FUJIAN.GOV.CN/V/%s",
		"https://trace.agri.fujian.gov.cn/v/%s",
		"http://127.0.0.1:8080/V/%s",
		"HtTpS://host/v/%s/",
		"https://host/V/%s?utm=scan&x=/V/",
		"https://host/V/%s/?q",
		"https://host/V/%s#top",
	};
	static const char *bad[] = {
		"https://host/W/%s",  "https://host/V/%s/x", "https://host/V/%s//",
		"https:///V/%s",      "ftp://host/V/%s",     "https://host/V%s",
		"https://host//V/%s", "https://host/V/V/%s", "https:/host/V/%s",
		"https://host?/V/%s", "https://host/%s",     "https://host/V/%s x",
	};
	ac_code code;
	char text[AC_CODE_TEXT_SIZE];
	char buf[1024];
	int ok = 1;

	good_text(priv, text);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(buf, sizeof(buf), good[i], text);
		if (decode_verify(buf, strlen(buf)) != 0) {
			printf("# refused %s\n", good[i]);
			ok = 0;
		}
	}
	AC_CHECK(ok, "url forms accepted");
	ok = 1;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), bad[i], text);
		if (ac_code_decode(buf, strlen(buf), &code) != AC_EMALFORMED) {
			printf("# accepted %s\n", bad[i]);
			ok = 0;
		}
	}
	AC_CHECK(ok, "bad url forms refused");
	snprintf(buf, sizeof(buf), "HTTPS://HOST/V/%.100s", text);
	AC_CHECK(ac_code_decode(buf, strlen(buf), &code) == AC_ETRUNCATED, "truncated url");
	AC_CHECK(ac_code_decode("HTTPS://HOST/V/", 15, &code) == AC_ETRUNCATED, "empty payload");
	AC_CHECK(ac_code_decode("HTTPS://HOST", 12, &code) == AC_EMALFORMED, "host only");
	AC_CHECK(ac_code_decode("https://", 8, &code) == AC_EMALFORMED, "scheme only");
}

/* ac_code_url: the URL printed on a label, from the public URL and a payload. */
static void check_make_urls(const ac_key *priv)
{
	static const char *badurl[] = {
		"https://",
		"ftp://x.cn",
		"x.cn",
		"https://x.cn/path",
		"https://u@x.cn",
		"https://x.cn:",
		"https://x.cn:123456",
		"https://x_y.cn",
		"https://[::1]:80",
		"https://x.cn?q",
		"https://:80",
		"https://x.cn:8a",
		"https://x.cn:80:81",
	};
	char text[AC_CODE_TEXT_SIZE];
	char buf[1024];
	int ok = 1;

	good_text(priv, text);
	AC_CHECK(ac_code_url("http://127.0.0.1:8080", text, buf, sizeof(buf)) ==
			 (int)strlen("HTTP://127.0.0.1:8080/V/") + AC_CODE_TEXT_LEN &&
		     strncmp(buf, "HTTP://127.0.0.1:8080/V/", 24) == 0 &&
		     strcmp(buf + 24, text) == 0,
		 "url from http://127.0.0.1:8080");
	AC_CHECK(ac_code_url("https://Trace.Example.cn/", "abc", buf, sizeof(buf)) > 0 &&
		     strcmp(buf, "HTTPS://TRACE.EXAMPLE.CN/V/ABC") == 0,
		 "url upper-cases host and payload, drops a trailing slash");
	AC_CHECK(ac_code_url("https://x.cn", "ABC", buf, 31) == 18, "url into an exact buffer");
	AC_CHECK(ac_code_url("https://x.cn", "ABC", buf, 18) == AC_ETOOBIG && buf[0] == '\0',
		 "url without room");
	for (size_t i = 0; i < sizeof(badurl) / sizeof(badurl[0]); i++) {
		if (ac_code_url(badurl[i], "ABC", buf, sizeof(buf)) != AC_EMALFORMED) {
			printf("# accepted %s\n", badurl[i]);
			ok = 0;
		}
	}
	AC_CHECK(ok, "bad public urls refused");
	AC_CHECK(ac_code_url("https://x.cn", "AB=", buf, sizeof(buf)) == AC_EMALFORMED,
		 "url refuses a non-base32 payload");
	AC_CHECK(ac_code_url("https://x.cn", "", buf, sizeof(buf)) == AC_EMALFORMED,
		 "url refuses an empty payload");
}

static void check_wrong_keys(void)
{
	ac_code code;
	char text[AC_CODE_TEXT_SIZE];

	good_text(key_for(1, 1), text);
	ac_code_decode(text, strlen(text), &code);
	AC_CHECK(ac_code_verify(&code, key_for(1, 0)) == 0, "right key verifies");
	AC_CHECK(ac_code_verify(&code, key_for(0xffff, 0)) == AC_EBADSIG, "other ed25519 key");
	AC_CHECK(ac_code_verify(&code, key_for(2, 0)) == AC_EBADSIG, "sm2 key on ed25519 code");
	code.raw_len = 93;
	AC_CHECK(ac_code_verify(&code, key_for(1, 0)) == AC_EBADSIG, "verify checks raw_len");
}

static void check_dates_names(void)
{
	int ok = 1;
	int prev = -1;

	AC_CHECK(ac_day_from_ymd(2020, 1, 1) == 0, "2020-01-01 is day 0");
	AC_CHECK(ac_day_from_ymd(2020, 3, 1) == 60, "2020 is a leap year");
	AC_CHECK(ac_day_from_ymd(2024, 5, 20) == 1601, "2024-05-20");
	AC_CHECK(ac_day_from_ymd(2199, 6, 6) == 65535, "last day");
	AC_CHECK(ac_day_from_ymd(2199, 6, 7) == AC_ERANGE, "after the last day");
	AC_CHECK(ac_day_from_ymd(2019, 12, 31) == AC_ERANGE, "before the epoch");
	AC_CHECK(ac_day_from_ymd(2023, 2, 29) == AC_ERANGE, "2023-02-29");
	AC_CHECK(ac_day_from_ymd(2100, 2, 29) == AC_ERANGE, "2100 is not leap");
	AC_CHECK(ac_day_from_ymd(2024, 2, 29) == 1520, "2024-02-29");
	AC_CHECK(ac_day_from_ymd(2024, 13, 1) == AC_ERANGE &&
		     ac_day_from_ymd(2024, 0, 1) == AC_ERANGE,
		 "month range");
	AC_CHECK(ac_day_from_ymd(2024, 4, 31) == AC_ERANGE &&
		     ac_day_from_ymd(2024, 4, 0) == AC_ERANGE,
		 "day range");
	for (int day = 0; day <= 0xffff; day++) {
		int y;
		int m;
		int d;

		ac_day_to_ymd((uint16_t)day, &y, &m, &d);
		if (ac_day_from_ymd(y, m, d) != day || ac_day_from_ymd(y, m, d) <= prev)
			ok = 0;
		prev = day;
	}
	AC_CHECK(ok, "every day round-trips");

	ok = 1;
	for (int u = 1; u <= AC_UNIT_MAX; u++) {
		if (ac_unit_from_name(ac_unit_name(u)) != u || ac_unit_name_zh(u) == NULL)
			ok = 0;
	}
	AC_CHECK(ok, "unit names round-trip");
	AC_CHECK(ac_unit_from_name("kg") == AC_UNIT_KG && strcmp(ac_unit_name_zh(1), "千克") == 0,
		 "kg is 千克");
	AC_CHECK(ac_unit_from_name("only") == AC_UNIT_ONLY &&
		     strcmp(ac_unit_name_zh(10), "只") == 0,
		 "only is 只");
	AC_CHECK(ac_unit_from_name("KG") == AC_ERANGE && ac_unit_from_name("") == AC_ERANGE,
		 "unknown unit names");
	AC_CHECK(ac_unit_name(0) == NULL && ac_unit_name(11) == NULL && ac_unit_name_zh(-1) == NULL,
		 "unknown unit ids");
	AC_CHECK(ac_basis_from_name("quality_control") == 0 &&
		     ac_basis_from_name("self_test") == 1 &&
		     ac_basis_from_name("commissioned_test") == 2 &&
		     ac_basis_from_name("x") == AC_ERANGE,
		 "basis names");
	AC_CHECK(strcmp(ac_basis_name_zh(1), "自行检测合格") == 0 && ac_basis_name(3) == NULL &&
		     ac_basis_name_zh(-1) == NULL,
		 "basis ids");
	AC_CHECK(ac_style_from_name("producer") == 1 && ac_style_from_name("purchaser") == 2 &&
		     ac_style_from_name("") == AC_ERANGE && ac_style_name(0) == NULL,
		 "style names");
	AC_CHECK(strstr(ac_style_promise_zh(1), "未使用禁用农药") == ac_style_promise_zh(1) &&
		     strstr(ac_style_promise_zh(2), "已按规定收取") == ac_style_promise_zh(2) &&
		     ac_style_promise_zh(3) == NULL,
		 "promise texts");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("# usage: %s code-v1.json\n", argv[0]);
		return 2;
	}
	check_vectors(argv[1]);
	if (nkeys == 3) {
		check_bit_flips(key_for(1, 1), "ed25519: all 752 bit flips refused");
		check_bit_flips(key_for(2, 1), "sm2: all 752 bit flips refused");
		check_char_changes(key_for(1, 1));
		check_malformed(key_for(1, 1));
		check_urls(key_for(1, 1));
		check_make_urls(key_for(1, 1));
		check_wrong_keys();
	}
	check_dates_names();
	for (int i = 0; i < nkeys; i++) {
		ac_key_free(keys_priv[i]);
		ac_key_free(keys_pub[i]);
	}
	return ac_test_done();
}
