#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_bundle-private.h"
#include "ac_bundle.h"
#include "ac_error.h"
#include "ac_sign.h"

struct ac_bundle_keyrec {
	int kid;
	int status;
	ac_key *key; /* public only, owned */
	char not_before[AC_BUNDLE_DATE_LEN + 1];
	char not_after[AC_BUNDLE_DATE_LEN + 1];
};

struct ac_bundle_namerec {
	uint64_t id;
	uint32_t off; /* of the NUL-terminated name in the arena */
	uint32_t kind;
};

struct ac_bundle {
	uint64_t version;
	char issued[AC_BUNDLE_ISSUED_LEN + 1];
	char region[13];
	int signer_kid;
	/* 1 once the arrays are sorted and free of duplicates (sign, parse). */
	int sorted;

	struct ac_bundle_keyrec *keys;
	size_t nkeys;
	size_t keys_cap;

	struct ac_bundle_namerec *names;
	size_t nnames;
	size_t names_cap;

	/* Every name, NUL-terminated, one after the other. */
	char *arena;
	size_t arena_len;
	size_t arena_cap;

	uint64_t *revoked;
	size_t nrevoked;
	size_t revoked_cap;
};

static const char *const ac_alg_names[] = { NULL, "ed25519", "sm2" };
static const char *const ac_status_names[] = { NULL, "active", "retired", "revoked" };
static const char *const ac_kind_names[] = { NULL, "product", "issuer", "region" };

/* Makes room for need elements of size elem in *p (capacity *cap). */
static int ac_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (np == NULL)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Makes room for one element after the n in *p: AC_ETOOBIG when max are there already. */
static int ac_grow_one(void **p, size_t *cap, size_t n, size_t max, size_t elem)
{
	if (n >= max)
		return AC_ETOOBIG;
	return ac_grow(p, cap, n + 1, elem);
}

/* ---- Field syntax, shared by the builder and the parser ---- */

static int ac_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Canonical decimal (no sign, no leading zero) of n bytes, at most max. */
static int ac_parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
		return AC_EMALFORMED;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (!ac_is_digit(s[i]))
			return AC_EMALFORMED;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return AC_EMALFORMED;
		v = v * 10 + d;
	}
	if (v > max)
		return AC_EMALFORMED;
	*out = v;
	return 0;
}

static int ac_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!ac_is_digit(s[i]))
			return 0;
	}
	return 1;
}

static int ac_num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* "YYYY-MM-DD", a real Gregorian date from year 1 on. */
static int ac_date_ok(const char *s, size_t n)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y;
	int m;
	int d;
	int dim;

	if (n != AC_BUNDLE_DATE_LEN || s[4] != '-' || s[7] != '-' || !ac_digits(s, 4) ||
	    !ac_digits(s + 5, 2) || !ac_digits(s + 8, 2))
		return 0;
	y = ac_num(s, 4);
	m = ac_num(s + 5, 2);
	d = ac_num(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return 0;
	dim = mdays[m - 1];
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		dim = 29;
	return d <= dim;
}

/* "YYYY-MM-DDTHH:MM:SSZ". */
static int ac_issued_ok(const char *s, size_t n)
{
	if (n != AC_BUNDLE_ISSUED_LEN || !ac_date_ok(s, AC_BUNDLE_DATE_LEN))
		return 0;
	if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' || !ac_digits(s + 11, 2) ||
	    !ac_digits(s + 14, 2) || !ac_digits(s + 17, 2))
		return 0;
	return ac_num(s + 11, 2) < 24 && ac_num(s + 14, 2) < 60 && ac_num(s + 17, 2) < 60;
}

/* 6 to 12 digits, the first not 0. */
static int ac_region_ok(const char *s, size_t n)
{
	return n >= 6 && n <= 12 && s[0] != '0' && ac_digits(s, n);
}

/* Valid UTF-8 (shortest form, no surrogates, up to U+10FFFF) without C0, DEL or C1. */
static int ac_name_ok(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	if (n == 0)
		return 0;
	while (i < n) {
		unsigned c = s[i];
		uint32_t cp;
		uint32_t min;
		size_t k;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return 0;
		}
		if (n - i - 1 < k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += k + 1;
	}
	return 1;
}

static int ac_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly 2 * outlen lower-case hex digits. */
static int ac_unhex(const char *s, size_t n, uint8_t *out, size_t outlen)
{
	if (n != 2 * outlen)
		return AC_EMALFORMED;
	for (size_t i = 0; i < outlen; i++) {
		int hi = ac_hexval(s[2 * i]);
		int lo = ac_hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return AC_EMALFORMED;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void ac_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static uint64_t ac_kind_max(int kind)
{
	switch (kind) {
	case AC_NAME_PRODUCT:
		return AC_BUNDLE_PRODUCT_MAX;
	case AC_NAME_ISSUER:
		return AC_BUNDLE_ISSUER_MAX;
	case AC_NAME_REGION:
		return AC_BUNDLE_REGION_MAX;
	default:
		return 0;
	}
}

static int ac_kind_id_ok(int kind, uint64_t id)
{
	if (kind < AC_NAME_PRODUCT || kind > AC_NAME_REGION || id > ac_kind_max(kind))
		return 0;
	return kind == AC_NAME_REGION ? id >= AC_BUNDLE_REGION_MIN : id >= 1;
}

static size_t ac_udigits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* ---- Records ---- */

int ac_bundle_new(uint64_t version, const char *issued, const char *region, ac_bundle **out)
{
	ac_bundle *b;

	*out = NULL;
	if (issued == NULL || region == NULL || !ac_issued_ok(issued, strlen(issued)) ||
	    !ac_region_ok(region, strlen(region)))
		return AC_EMALFORMED;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->version = version;
	memcpy(b->issued, issued, AC_BUNDLE_ISSUED_LEN + 1);
	memcpy(b->region, region, strlen(region) + 1);
	*out = b;
	return 0;
}

/* Adds a key already checked; takes ownership of key on success. */
static int ac_bundle_push_key(ac_bundle *b, int kid, ac_key *key, int status, const char *nb,
			      size_t nblen, const char *na, size_t nalen)
{
	struct ac_bundle_keyrec *k;
	int r;

	r = ac_grow_one((void **)&b->keys, &b->keys_cap, b->nkeys, AC_BUNDLE_MAX_KEYS,
			sizeof(*b->keys));
	if (r != 0)
		return r;
	k = &b->keys[b->nkeys++];
	memset(k, 0, sizeof(*k));
	k->kid = kid;
	k->status = status;
	k->key = key;
	if (nblen > 0)
		memcpy(k->not_before, nb, nblen);
	if (nalen > 0)
		memcpy(k->not_after, na, nalen);
	b->sorted = 0;
	return 0;
}

/* A date argument: NULL or "-" is none (length 0), else a valid date. */
static int ac_date_arg(const char *s, size_t *len)
{
	*len = 0;
	if (s == NULL || strcmp(s, "-") == 0)
		return 0;
	*len = strlen(s);
	return ac_date_ok(s, *len) ? 0 : AC_EMALFORMED;
}

int ac_bundle_add_key(ac_bundle *b, int kid, const ac_key *key, int status, const char *not_before,
		      const char *not_after)
{
	uint8_t raw[AC_RAW_PUBLIC_MAX];
	size_t rawlen;
	size_t nblen;
	size_t nalen;
	ac_key *pub = NULL;
	int r;

	if (kid < 1 || kid > AC_BUNDLE_KID_MAX || status < AC_KEY_STATUS_ACTIVE ||
	    status > AC_KEY_STATUS_REVOKED)
		return AC_ERANGE;
	if (ac_date_arg(not_before, &nblen) != 0 || ac_date_arg(not_after, &nalen) != 0)
		return AC_EMALFORMED;
	if (nblen && nalen && strcmp(not_before, not_after) > 0)
		return AC_EMALFORMED;
	for (size_t i = 0; i < b->nkeys; i++) {
		if (b->keys[i].kid == kid)
			return AC_EDUPLICATE;
	}
	/* A public-only copy through the raw form, exactly what a parser gets. */
	r = ac_key_raw_public(key, raw, sizeof(raw), &rawlen);
	if (r == 0)
		r = ac_key_from_raw_public(ac_key_alg(key), raw, rawlen, &pub);
	if (r == 0)
		r = ac_bundle_push_key(b, kid, pub, status, not_before, nblen, not_after, nalen);
	if (r != 0)
		ac_key_free(pub);
	return r;
}

static int ac_bundle_push_name(ac_bundle *b, int kind, uint64_t id, const char *name, size_t len)
{
	struct ac_bundle_namerec *n;
	int r;

	r = ac_grow_one((void **)&b->names, &b->names_cap, b->nnames, AC_BUNDLE_MAX_NAMES,
			sizeof(*b->names));
	if (r == 0)
		r = ac_grow((void **)&b->arena, &b->arena_cap, b->arena_len + len + 1, 1);
	if (r != 0)
		return r;
	n = &b->names[b->nnames++];
	n->id = id;
	n->kind = (uint32_t)kind;
	n->off = (uint32_t)b->arena_len;
	memcpy(b->arena + b->arena_len, name, len);
	b->arena[b->arena_len + len] = '\0';
	b->arena_len += len + 1;
	b->sorted = 0;
	return 0;
}

int ac_bundle_add_name(ac_bundle *b, int kind, uint64_t id, const char *name)
{
	size_t len;

	if (!ac_kind_id_ok(kind, id))
		return AC_ERANGE;
	if (name == NULL)
		return AC_EMALFORMED;
	len = strlen(name);
	/* "product " ID " " NAME "\n" */
	if (strlen(ac_kind_names[kind]) + 1 + ac_udigits(id) + 1 + len + 1 > AC_BUNDLE_MAX_LINE)
		return AC_ETOOBIG;
	if (!ac_name_ok(name, len))
		return AC_EMALFORMED;
	return ac_bundle_push_name(b, kind, id, name, len);
}

int ac_bundle_add_revoked(ac_bundle *b, uint64_t serial)
{
	int r;

	if (serial > AC_BUNDLE_SERIAL_MAX)
		return AC_ERANGE;
	r = ac_grow_one((void **)&b->revoked, &b->revoked_cap, b->nrevoked, AC_BUNDLE_MAX_REVOKED,
			sizeof(*b->revoked));
	if (r != 0)
		return r;
	b->revoked[b->nrevoked++] = serial;
	b->sorted = 0;
	return 0;
}

static int ac_cmp_key(const void *a, const void *b)
{
	const struct ac_bundle_keyrec *x = a;
	const struct ac_bundle_keyrec *y = b;

	return (x->kid > y->kid) - (x->kid < y->kid);
}

static int ac_cmp_name(const void *a, const void *b)
{
	const struct ac_bundle_namerec *x = a;
	const struct ac_bundle_namerec *y = b;

	if (x->kind != y->kind)
		return (x->kind > y->kind) - (x->kind < y->kind);
	return (x->id > y->id) - (x->id < y->id);
}

static int ac_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Sorts every array and refuses a repeated id within a kind. */
static int ac_bundle_seal(ac_bundle *b)
{
	if (b->sorted)
		return 0;
	if (b->nkeys > 1)
		qsort(b->keys, b->nkeys, sizeof(*b->keys), ac_cmp_key);
	if (b->nnames > 1)
		qsort(b->names, b->nnames, sizeof(*b->names), ac_cmp_name);
	if (b->nrevoked > 1)
		qsort(b->revoked, b->nrevoked, sizeof(*b->revoked), ac_cmp_u64);
	for (size_t i = 1; i < b->nkeys; i++) {
		if (b->keys[i].kid == b->keys[i - 1].kid)
			return AC_EDUPLICATE;
	}
	for (size_t i = 1; i < b->nnames; i++) {
		if (ac_cmp_name(&b->names[i], &b->names[i - 1]) == 0)
			return AC_EDUPLICATE;
	}
	for (size_t i = 1; i < b->nrevoked; i++) {
		if (b->revoked[i] == b->revoked[i - 1])
			return AC_EDUPLICATE;
	}
	b->sorted = 1;
	return 0;
}

/* ---- Writing ---- */

struct ac_out {
	char *p;
	size_t len;
	size_t cap;
	int err;
};

static void ac_out_add(struct ac_out *o, const char *s, size_t n)
{
	if (o->err)
		return;
	if (o->len + n + 1 > AC_BUNDLE_MAX_SIZE + 1) {
		o->err = AC_ETOOBIG;
		return;
	}
	o->err = ac_grow((void **)&o->p, &o->cap, o->len + n + 1, 1);
	if (o->err)
		return;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void ac_out_str(struct ac_out *o, const char *s)
{
	ac_out_add(o, s, strlen(s));
}

static void ac_out_u64(struct ac_out *o, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	ac_out_add(o, buf, (size_t)n);
}

static int ac_bundle_write_body(const ac_bundle *b, struct ac_out *o)
{
	char hex[2 * AC_RAW_PUBLIC_MAX + 1];
	uint8_t raw[AC_RAW_PUBLIC_MAX];
	size_t rawlen;
	int r;

	ac_out_str(o, AC_BUNDLE_MAGIC " 1\nversion ");
	ac_out_u64(o, b->version);
	ac_out_str(o, "\nissued ");
	ac_out_str(o, b->issued);
	ac_out_str(o, "\nregion ");
	ac_out_str(o, b->region);
	ac_out_str(o, "\n");
	for (size_t i = 0; i < b->nkeys; i++) {
		const struct ac_bundle_keyrec *k = &b->keys[i];

		r = ac_key_raw_public(k->key, raw, sizeof(raw), &rawlen);
		if (r != 0)
			return r;
		ac_hex(raw, rawlen, hex);
		ac_out_str(o, "key ");
		ac_out_u64(o, (uint64_t)k->kid);
		ac_out_str(o, " ");
		ac_out_str(o, ac_alg_names[ac_key_alg(k->key)]);
		ac_out_str(o, " ");
		ac_out_str(o, ac_status_names[k->status]);
		ac_out_str(o, " ");
		ac_out_str(o, k->not_before[0] ? k->not_before : "-");
		ac_out_str(o, " ");
		ac_out_str(o, k->not_after[0] ? k->not_after : "-");
		ac_out_str(o, " ");
		ac_out_str(o, hex);
		ac_out_str(o, "\n");
	}
	for (size_t i = 0; i < b->nnames; i++) {
		const struct ac_bundle_namerec *n = &b->names[i];

		ac_out_str(o, ac_kind_names[n->kind]);
		ac_out_str(o, " ");
		ac_out_u64(o, n->id);
		ac_out_str(o, " ");
		ac_out_str(o, b->arena + n->off);
		ac_out_str(o, "\n");
	}
	for (size_t i = 0; i < b->nrevoked; i++) {
		ac_out_str(o, "revoked ");
		ac_out_u64(o, b->revoked[i]);
		ac_out_str(o, "\n");
	}
	return o->err;
}

int ac_bundle_sign(ac_bundle *b, int bundle_kid, const ac_key *bundle_key, char **text, size_t *len)
{
	struct ac_out o = { 0 };
	uint8_t sig[AC_SIG_LEN];
	size_t siglen;
	char hex[2 * AC_SIG_LEN + 1];
	int r;

	*text = NULL;
	*len = 0;
	if (bundle_kid < 1 || bundle_kid > AC_BUNDLE_KID_MAX)
		return AC_ERANGE;
	if (!ac_key_has_private(bundle_key))
		return AC_EKEY;
	r = ac_bundle_seal(b);
	if (r != 0)
		goto out;
	r = ac_bundle_write_body(b, &o);
	if (r != 0)
		goto out;
	r = ac_key_sign(bundle_key, (const uint8_t *)o.p, o.len, sig, &siglen);
	if (r != 0)
		goto out;
	ac_hex(sig, siglen, hex);
	ac_out_str(&o, "signature ");
	ac_out_u64(&o, (uint64_t)bundle_kid);
	ac_out_str(&o, " ");
	ac_out_str(&o, hex);
	ac_out_str(&o, "\n");
	r = o.err;
	if (r != 0)
		goto out;
	*text = o.p;
	*len = o.len;
	o.p = NULL;
out:
	free(o.p);
	return r;
}

/* ---- Parsing ---- */

/* Splits [s, s + n) at the first space: the word and the rest (after the space). */
static int ac_word(const char **s, size_t *n, const char **w, size_t *wn)
{
	const char *sp = memchr(*s, ' ', *n);

	if (sp == NULL)
		return AC_EMALFORMED;
	*w = *s;
	*wn = (size_t)(sp - *s);
	*n -= *wn + 1;
	*s = sp + 1;
	return *wn > 0 ? 0 : AC_EMALFORMED;
}

static int ac_word_is(const char *w, size_t wn, const char *lit)
{
	return wn == strlen(lit) && memcmp(w, lit, wn) == 0;
}

static int ac_lookup_name(const char *const *names, int count, const char *w, size_t wn)
{
	for (int i = 1; i < count; i++) {
		if (ac_word_is(w, wn, names[i]))
			return i;
	}
	return 0;
}

/* "KID ALG STATUS NOT_BEFORE NOT_AFTER HEX" (after "key "). */
static int ac_parse_key(ac_bundle *b, const char *s, size_t n)
{
	const char *w[5];
	size_t wn[5];
	uint64_t kid;
	uint8_t raw[AC_RAW_PUBLIC_MAX];
	size_t rawlen;
	ac_key *key = NULL;
	int alg;
	int status;
	int r;

	for (int i = 0; i < 5; i++) {
		r = ac_word(&s, &n, &w[i], &wn[i]);
		if (r != 0)
			return r;
	}
	/* s, n: the hex, the last field. */
	if (ac_parse_u64(w[0], wn[0], AC_BUNDLE_KID_MAX, &kid) != 0 || kid == 0)
		return AC_EMALFORMED;
	alg = ac_lookup_name(ac_alg_names, 3, w[1], wn[1]);
	status = ac_lookup_name(ac_status_names, 4, w[2], wn[2]);
	if (alg == 0 || status == 0)
		return AC_EMALFORMED;
	for (int i = 3; i < 5; i++) {
		if (!ac_word_is(w[i], wn[i], "-") && !ac_date_ok(w[i], wn[i]))
			return AC_EMALFORMED;
		if (ac_word_is(w[i], wn[i], "-"))
			wn[i] = 0;
	}
	if (wn[3] && wn[4] && memcmp(w[3], w[4], AC_BUNDLE_DATE_LEN) > 0)
		return AC_EMALFORMED;
	rawlen = alg == AC_ALG_ED25519 ? AC_RAW_PUBLIC_ED25519_LEN : AC_RAW_PUBLIC_SM2_LEN;
	if (ac_unhex(s, n, raw, rawlen) != 0)
		return AC_EMALFORMED;
	if (b->nkeys >= AC_BUNDLE_MAX_KEYS)
		return AC_ETOOBIG; /* before the costly import */
	r = ac_key_from_raw_public(alg, raw, rawlen, &key);
	if (r == AC_ERANGE)
		r = AC_EMALFORMED;
	if (r == 0)
		r = ac_bundle_push_key(b, (int)kid, key, status, w[3], wn[3], w[4], wn[4]);
	if (r != 0)
		ac_key_free(key);
	return r;
}

/* One record line without its '\n'. */
static int ac_parse_record(ac_bundle *b, const char *s, size_t n)
{
	const char *w;
	size_t wn;
	uint64_t v;
	int kind;
	int r;

	r = ac_word(&s, &n, &w, &wn);
	if (r != 0)
		return r;
	if (ac_word_is(w, wn, "key"))
		return ac_parse_key(b, s, n);
	if (ac_word_is(w, wn, "revoked")) {
		if (ac_parse_u64(s, n, AC_BUNDLE_SERIAL_MAX, &v) != 0)
			return AC_EMALFORMED;
		return ac_bundle_add_revoked(b, v);
	}
	kind = ac_lookup_name(ac_kind_names, 4, w, wn);
	if (kind == 0)
		return AC_EMALFORMED; /* format 1 knows no other record */
	r = ac_word(&s, &n, &w, &wn);
	if (r != 0)
		return r;
	if (ac_parse_u64(w, wn, ac_kind_max(kind), &v) != 0 || !ac_kind_id_ok(kind, v))
		return AC_EMALFORMED;
	if (kind == AC_NAME_REGION && wn != 12)
		return AC_EMALFORMED;
	if (!ac_name_ok(s, n))
		return AC_EMALFORMED;
	return ac_bundle_push_name(b, kind, v, s, n);
}

/* Header line number i (1..3 after the magic) without its '\n'. */
static int ac_parse_header(ac_bundle *b, int i, const char *s, size_t n)
{
	static const char *const words[] = { "version", "issued", "region" };
	const char *w;
	size_t wn;

	if (ac_word(&s, &n, &w, &wn) != 0 || !ac_word_is(w, wn, words[i - 1]))
		return AC_EMALFORMED;
	switch (i) {
	case 1:
		return ac_parse_u64(s, n, UINT64_MAX, &b->version);
	case 2:
		if (!ac_issued_ok(s, n))
			return AC_EMALFORMED;
		memcpy(b->issued, s, n);
		b->issued[n] = '\0';
		return 0;
	default:
		if (!ac_region_ok(s, n))
			return AC_EMALFORMED;
		memcpy(b->region, s, n);
		b->region[n] = '\0';
		return 0;
	}
}

/*
 * The signed part: [text, text + len), every line ending in '\n', the
 * magic line already checked.
 */
static int ac_parse_body(ac_bundle *b, const char *text, size_t len)
{
	size_t pos = 0;
	int line = 0;
	int r;

	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n;

		if (nl == NULL)
			return AC_EMALFORMED;
		n = (size_t)(nl - s);
		if (n + 1 > AC_BUNDLE_MAX_LINE)
			return AC_ETOOBIG;
		if (line == 0)
			r = 0; /* the magic, checked before the signature */
		else if (line <= 3)
			r = ac_parse_header(b, line, s, n);
		else
			r = ac_parse_record(b, s, n);
		if (r != 0)
			return r;
		line++;
		pos += n + 1;
	}
	return line >= 4 ? 0 : AC_EMALFORMED;
}

/*
 * The format line, read before the signature only to tell "not a bundle"
 * from "a bundle of a format this build does not know".
 */
static int ac_check_magic(const char *text, size_t len)
{
	static const char magic[] = AC_BUNDLE_MAGIC " ";
	size_t m = sizeof(magic) - 1;
	const char *nl;

	if (len < m || memcmp(text, magic, m) != 0)
		return AC_EMALFORMED;
	nl = memchr(text + m, '\n', len - m);
	if (nl == NULL)
		return AC_EMALFORMED;
	if (nl - (text + m) != 1 || text[m] != '1')
		return AC_EVERSION;
	return 0;
}

static int ac_bundle_parse_impl(const char *text, size_t len, const ac_key *bundle_pub,
				int bundle_kid, int verify, ac_bundle **out)
{
	ac_bundle *b = NULL;
	size_t end = len;
	size_t sigstart;
	const char *s;
	size_t n;
	const char *w;
	size_t wn;
	uint64_t kid;
	uint8_t sig[AC_SIG_LEN];
	int r;

	*out = NULL;
	if (len > AC_BUNDLE_MAX_SIZE)
		return AC_ETOOBIG;
	r = ac_check_magic(text, len);
	if (r != 0)
		return r;

	/* The signature line: the last line, with or without its final '\n'. */
	if (end > 0 && text[end - 1] == '\n')
		end--;
	sigstart = end;
	while (sigstart > 0 && text[sigstart - 1] != '\n')
		sigstart--;
	if (sigstart == 0)
		return AC_EMALFORMED;
	s = text + sigstart;
	n = end - sigstart;
	if (n + 1 > AC_BUNDLE_MAX_LINE)
		return AC_ETOOBIG;
	if (ac_word(&s, &n, &w, &wn) != 0 || !ac_word_is(w, wn, "signature") ||
	    ac_word(&s, &n, &w, &wn) != 0 || ac_parse_u64(w, wn, AC_BUNDLE_KID_MAX, &kid) != 0 ||
	    kid == 0 || ac_unhex(s, n, sig, sizeof(sig)) != 0)
		return AC_EMALFORMED;
	if (verify) {
		if (bundle_kid != 0 && (int)kid != bundle_kid)
			return AC_EUNKNOWNKEY;
		r = ac_key_verify(bundle_pub, (const uint8_t *)text, sigstart, sig, sizeof(sig));
		if (r != 0)
			return r;
	}

	/* Signed (or the fuzzer's): now the records. */
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->signer_kid = (int)kid;
	r = ac_parse_body(b, text, sigstart);
	if (r == 0)
		r = ac_bundle_seal(b);
	if (r != 0)
		goto out;
	*out = b;
	b = NULL;
out:
	ac_bundle_free(b);
	return r;
}

int ac_bundle_parse(const char *text, size_t len, const ac_key *bundle_pub, int bundle_kid,
		    ac_bundle **out)
{
	return ac_bundle_parse_impl(text, len, bundle_pub, bundle_kid, 1, out);
}

int ac_bundle_parse_unverified(const char *text, size_t len, ac_bundle **out)
{
	return ac_bundle_parse_impl(text, len, NULL, 0, 0, out);
}

/* ---- Lookups ---- */

uint64_t ac_bundle_version(const ac_bundle *b)
{
	return b->version;
}

const char *ac_bundle_issued(const ac_bundle *b)
{
	return b->issued;
}

const char *ac_bundle_region(const ac_bundle *b)
{
	return b->region;
}

int ac_bundle_signer_kid(const ac_bundle *b)
{
	return b->signer_kid;
}

static const struct ac_bundle_keyrec *ac_bundle_find_key(const ac_bundle *b, int kid)
{
	struct ac_bundle_keyrec k = { .kid = kid };

	if (b->nkeys == 0)
		return NULL;
	if (b->sorted)
		return bsearch(&k, b->keys, b->nkeys, sizeof(*b->keys), ac_cmp_key);
	for (size_t i = 0; i < b->nkeys; i++) {
		if (b->keys[i].kid == kid)
			return &b->keys[i];
	}
	return NULL;
}

const ac_key *ac_bundle_key(const ac_bundle *b, int kid, int *status)
{
	const struct ac_bundle_keyrec *k = ac_bundle_find_key(b, kid);

	if (k == NULL)
		return NULL;
	if (status != NULL)
		*status = k->status;
	return k->key;
}

int ac_bundle_key_dates(const ac_bundle *b, int kid, const char **not_before,
			const char **not_after)
{
	const struct ac_bundle_keyrec *k = ac_bundle_find_key(b, kid);

	if (not_before != NULL)
		*not_before = k ? k->not_before : NULL;
	if (not_after != NULL)
		*not_after = k ? k->not_after : NULL;
	return k ? 0 : AC_ENOTFOUND;
}

const char *ac_bundle_name(const ac_bundle *b, int kind, uint64_t id)
{
	struct ac_bundle_namerec key = { .id = id, .kind = (uint32_t)kind };
	const struct ac_bundle_namerec *n = NULL;

	if (b->nnames == 0)
		return NULL;
	if (b->sorted) {
		n = bsearch(&key, b->names, b->nnames, sizeof(*b->names), ac_cmp_name);
	} else {
		for (size_t i = 0; i < b->nnames && n == NULL; i++) {
			if (ac_cmp_name(&b->names[i], &key) == 0)
				n = &b->names[i];
		}
	}
	return n ? b->arena + n->off : NULL;
}

int ac_bundle_is_revoked(const ac_bundle *b, uint64_t serial)
{
	if (b->nrevoked == 0)
		return 0;
	if (b->sorted)
		return bsearch(&serial, b->revoked, b->nrevoked, sizeof(*b->revoked), ac_cmp_u64) !=
		       NULL;
	for (size_t i = 0; i < b->nrevoked; i++) {
		if (b->revoked[i] == serial)
			return 1;
	}
	return 0;
}

size_t ac_bundle_key_count(const ac_bundle *b)
{
	return b->nkeys;
}

size_t ac_bundle_name_count(const ac_bundle *b)
{
	return b->nnames;
}

size_t ac_bundle_revoked_count(const ac_bundle *b)
{
	return b->nrevoked;
}

void ac_bundle_free(ac_bundle *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->nkeys; i++)
		ac_key_free(b->keys[i].key);
	free(b->keys);
	free(b->names);
	free(b->arena);
	free(b->revoked);
	free(b);
}
