#include <string.h>
#include <strings.h>

#include "ac_base32.h"
#include "ac_code.h"
#include "ac_error.h"

/* Byte offsets of the version 1 fields (CODE.md, "Layout"). */
enum {
	AC_OFF_VERSION = 0,
	AC_OFF_KID = 1,
	AC_OFF_SERIAL = 3,
	AC_OFF_ITEM = 9,
	AC_OFF_DAY = 11,
	AC_OFF_PRODUCT = 13,
	AC_OFF_QUANTITY = 15,
	AC_OFF_UNIT = 19,
	AC_OFF_ISSUER = 20,
	AC_OFF_ORIGIN = 24,
	AC_OFF_FLAGS = 29,
};

static void ac_put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t ac_get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

int ac_code_check(const ac_code_fields *f)
{
	if (f->version != AC_CODE_VERSION)
		return AC_EVERSION;
	if (f->serial > AC_CODE_SERIAL_MAX || f->item == 0 || f->product == 0 ||
	    f->quantity_milli == 0 || f->issuer == 0)
		return AC_ERANGE;
	if (f->unit == 0 || f->unit > AC_UNIT_MAX)
		return AC_ERANGE;
	if (f->origin < AC_CODE_ORIGIN_MIN || f->origin > AC_CODE_ORIGIN_MAX)
		return AC_ERANGE;
	if (f->basis > AC_BASIS_MAX)
		return AC_ERANGE;
	if (f->style != AC_STYLE_PRODUCER && f->style != AC_STYLE_PURCHASER)
		return AC_ERANGE;
	return 0;
}

int ac_code_pack(const ac_code_fields *f, uint8_t out[AC_CODE_FIELDS_LEN])
{
	int r = ac_code_check(f);

	if (r != 0)
		return r;
	out[AC_OFF_VERSION] = f->version;
	ac_put_be(out + AC_OFF_KID, f->kid, 2);
	ac_put_be(out + AC_OFF_SERIAL, f->serial, 6);
	ac_put_be(out + AC_OFF_ITEM, f->item, 2);
	ac_put_be(out + AC_OFF_DAY, f->issue_day, 2);
	ac_put_be(out + AC_OFF_PRODUCT, f->product, 2);
	ac_put_be(out + AC_OFF_QUANTITY, f->quantity_milli, 4);
	out[AC_OFF_UNIT] = f->unit;
	ac_put_be(out + AC_OFF_ISSUER, f->issuer, 4);
	ac_put_be(out + AC_OFF_ORIGIN, f->origin, 5);
	out[AC_OFF_FLAGS] = (uint8_t)(f->basis | f->style << 2);
	return 0;
}

int ac_code_unpack(const uint8_t *in, size_t len, ac_code_fields *out)
{
	ac_code_fields f;
	uint8_t flags;
	int r;

	memset(out, 0, sizeof(*out));
	if (len < 1)
		return AC_ETRUNCATED;
	if (in[AC_OFF_VERSION] != AC_CODE_VERSION)
		return AC_EVERSION;
	if (len < AC_CODE_FIELDS_LEN)
		return AC_ETRUNCATED;
	memset(&f, 0, sizeof(f));
	f.version = in[AC_OFF_VERSION];
	f.kid = (uint16_t)ac_get_be(in + AC_OFF_KID, 2);
	f.serial = ac_get_be(in + AC_OFF_SERIAL, 6);
	f.item = (uint16_t)ac_get_be(in + AC_OFF_ITEM, 2);
	f.issue_day = (uint16_t)ac_get_be(in + AC_OFF_DAY, 2);
	f.product = (uint16_t)ac_get_be(in + AC_OFF_PRODUCT, 2);
	f.quantity_milli = (uint32_t)ac_get_be(in + AC_OFF_QUANTITY, 4);
	f.unit = in[AC_OFF_UNIT];
	f.issuer = (uint32_t)ac_get_be(in + AC_OFF_ISSUER, 4);
	f.origin = ac_get_be(in + AC_OFF_ORIGIN, 5);
	flags = in[AC_OFF_FLAGS];
	/* Bits 4-7 are reserved: a set bit is a code this version cannot read. */
	if (flags & 0xf0)
		return AC_ERANGE;
	f.basis = flags & 3;
	f.style = (flags >> 2) & 3;
	r = ac_code_check(&f);
	if (r != 0)
		return r;
	*out = f;
	return 0;
}

int ac_code_sign(const ac_key *key, const ac_code_fields *f, char *text, size_t textsz)
{
	uint8_t buf[AC_CODE_LEN];
	size_t siglen;
	int r;

	if (textsz > 0)
		text[0] = '\0';
	if (textsz < AC_CODE_TEXT_SIZE)
		return AC_ETOOBIG;
	r = ac_code_pack(f, buf);
	if (r != 0)
		return r;
	r = ac_key_sign(key, buf, AC_CODE_FIELDS_LEN, buf + AC_CODE_FIELDS_LEN, &siglen);
	if (r != 0)
		return r;
	r = ac_base32_encode(buf, sizeof(buf), text, textsz);
	return r < 0 ? r : 0;
}

static int ac_is_base32(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

static int ac_b32val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	return c - '2' + 26;
}

/*
 * Finds the payload in text: the whole text, or the part of a URL after
 * "/V/" up to an optional '/', '?' or '#'.
 */
static int ac_code_locate(const char *t, size_t len, const char **p, size_t *plen)
{
	size_t i;
	size_t host;
	size_t end;

	if (len >= 7 && strncasecmp(t, "http://", 7) == 0) {
		i = 7;
	} else if (len >= 8 && strncasecmp(t, "https://", 8) == 0) {
		i = 8;
	} else {
		*p = t;
		*plen = len;
		return 0;
	}
	/* The host (and port) runs to the first '/'; it is not checked. */
	host = i;
	while (i < len && t[i] != '/' && t[i] != '?' && t[i] != '#')
		i++;
	if (i == host)
		return AC_EMALFORMED;
	if (len - i < 3 || t[i] != '/' || (t[i + 1] != 'V' && t[i + 1] != 'v') || t[i + 2] != '/')
		return AC_EMALFORMED;
	i += 3;
	end = i;
	while (end < len && t[end] != '/' && t[end] != '?' && t[end] != '#')
		end++;
	*p = t + i;
	*plen = end - i;
	/* One trailing '/' may follow; then only a query or fragment. */
	if (end < len && t[end] == '/')
		end++;
	if (end < len && t[end] != '?' && t[end] != '#')
		return AC_EMALFORMED;
	return 0;
}

int ac_code_decode(const char *text, size_t len, ac_code *out)
{
	const char *p = NULL;
	size_t plen = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = ac_code_locate(text, len, &p, &plen);
	if (r != 0)
		goto out;
	for (size_t i = 0; i < plen; i++) {
		if (!ac_is_base32((unsigned char)p[i])) {
			r = AC_EMALFORMED;
			goto out;
		}
	}
	/* The version (first 8 bits, in 2 characters) decides the length. */
	if (plen >= 2 && (ac_b32val((unsigned char)p[0]) << 3 |
			  ac_b32val((unsigned char)p[1]) >> 2) != AC_CODE_VERSION) {
		r = AC_EVERSION;
		goto out;
	}
	if (plen < AC_CODE_TEXT_LEN) {
		r = AC_ETRUNCATED;
		goto out;
	}
	if (plen > AC_CODE_TEXT_LEN) {
		r = AC_EMALFORMED;
		goto out;
	}
	r = ac_base32_decode(p, plen, out->raw, sizeof(out->raw), &out->raw_len);
	if (r != 0 || out->raw_len != AC_CODE_LEN) {
		r = AC_EMALFORMED;
		goto out;
	}
	r = ac_code_unpack(out->raw, out->raw_len, &out->f);
out:
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

int ac_code_verify(const ac_code *code, const ac_key *key)
{
	if (code->raw_len != AC_CODE_LEN || code->f.version != AC_CODE_VERSION)
		return AC_EBADSIG;
	if (ac_key_verify(key, code->raw, AC_CODE_FIELDS_LEN, code->raw + AC_CODE_FIELDS_LEN,
			  AC_CODE_SIG_LEN) != 0)
		return AC_EBADSIG;
	return 0;
}

static char ac_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

int ac_code_url(const char *public_url, const char *payload, char *out, size_t outsz)
{
	const char *host;
	size_t hlen;
	size_t slen;
	size_t plen = strlen(payload);
	size_t colon = 0;
	size_t n = 0;

	if (outsz > 0)
		out[0] = '\0';
	if (strncasecmp(public_url, "http://", 7) == 0)
		slen = 4;
	else if (strncasecmp(public_url, "https://", 8) == 0)
		slen = 5;
	else
		return AC_EMALFORMED;
	host = public_url + slen + 3;
	hlen = strlen(host);
	if (hlen > 0 && host[hlen - 1] == '/')
		hlen--;
	if (hlen == 0 || hlen > 255)
		return AC_EMALFORMED;
	for (size_t i = 0; i < hlen; i++) {
		char c = host[i];

		if (c == ':') {
			if (colon != 0 || i == 0)
				return AC_EMALFORMED;
			colon = i;
		} else if (colon != 0) {
			if (c < '0' || c > '9' || i - colon > 5)
				return AC_EMALFORMED;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '.' || c == '-')) {
			return AC_EMALFORMED;
		}
	}
	if (colon != 0 && colon == hlen - 1)
		return AC_EMALFORMED;
	if (plen == 0)
		return AC_EMALFORMED;
	for (size_t i = 0; i < plen; i++) {
		if (!ac_is_base32((unsigned char)payload[i]))
			return AC_EMALFORMED;
	}
	if (slen + 3 + hlen + strlen(AC_CODE_URL_PATH) + plen + 1 > outsz)
		return AC_ETOOBIG;
	for (size_t i = 0; i < slen + 3 + hlen; i++)
		out[n++] = ac_upper(public_url[i]);
	memcpy(out + n, AC_CODE_URL_PATH, strlen(AC_CODE_URL_PATH));
	n += strlen(AC_CODE_URL_PATH);
	for (size_t i = 0; i < plen; i++)
		out[n++] = ac_upper(payload[i]);
	out[n] = '\0';
	return (int)n;
}

/* Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long ac_days_from_civil(long y, long m, long d)
{
	long era;
	long yoe;
	long doy;
	long doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* 2020-01-01 in days from 1970-01-01. */
#define AC_DAY_EPOCH 18262L

int ac_day_from_ymd(int y, int m, int d)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap;
	long day;

	if (y < 2020 || y > 2199 || m < 1 || m > 12 || d < 1)
		return AC_ERANGE;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		return AC_ERANGE;
	day = ac_days_from_civil(y, m, d) - AC_DAY_EPOCH;
	if (day < 0 || day > 0xffff)
		return AC_ERANGE;
	return (int)day;
}

void ac_day_to_ymd(uint16_t day, int *y, int *m, int *d)
{
	long z = (long)day + AC_DAY_EPOCH + 719468;
	long era = z / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	long mm = mp < 10 ? mp + 3 : mp - 9;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)mm;
	*y = (int)(yoe + era * 400 + (mm <= 2));
}

struct ac_name {
	const char *name;
	const char *zh;
};

static const struct ac_name ac_units[AC_UNIT_MAX + 1] = {
	[AC_UNIT_KG] = { "kg", "千克" },       [AC_UNIT_G] = { "g", "克" },
	[AC_UNIT_T] = { "t", "吨" },	       [AC_UNIT_JIN] = { "jin", "斤" },
	[AC_UNIT_PIECE] = { "piece", "个" },   [AC_UNIT_HEAD] = { "head", "头" },
	[AC_UNIT_BOX] = { "box", "箱" },       [AC_UNIT_BAG] = { "bag", "袋" },
	[AC_UNIT_BUNDLE] = { "bundle", "捆" }, [AC_UNIT_ONLY] = { "only", "只" },
};

static const struct ac_name ac_bases[AC_BASIS_MAX + 1] = {
	[AC_BASIS_QUALITY_CONTROL] = { "quality_control", "质量安全控制符合要求" },
	[AC_BASIS_SELF_TEST] = { "self_test", "自行检测合格" },
	[AC_BASIS_COMMISSIONED_TEST] = { "commissioned_test", "委托检测合格" },
};

/* The entry for id in table[lo..hi], or NULL. */
static const struct ac_name *ac_name_at(const struct ac_name *table, int lo, int hi, int id)
{
	return id >= lo && id <= hi ? &table[id] : NULL;
}

/* The id whose name in table[lo..hi] is name, or AC_ERANGE. */
static int ac_name_find(const struct ac_name *table, int lo, int hi, const char *name)
{
	for (int i = lo; i <= hi; i++) {
		if (strcmp(name, table[i].name) == 0)
			return i;
	}
	return AC_ERANGE;
}

int ac_unit_from_name(const char *name)
{
	return ac_name_find(ac_units, 1, AC_UNIT_MAX, name);
}

const char *ac_unit_name(int unit)
{
	const struct ac_name *n = ac_name_at(ac_units, 1, AC_UNIT_MAX, unit);

	return n ? n->name : NULL;
}

const char *ac_unit_name_zh(int unit)
{
	const struct ac_name *n = ac_name_at(ac_units, 1, AC_UNIT_MAX, unit);

	return n ? n->zh : NULL;
}

int ac_basis_from_name(const char *name)
{
	return ac_name_find(ac_bases, 0, AC_BASIS_MAX, name);
}

const char *ac_basis_name(int basis)
{
	const struct ac_name *n = ac_name_at(ac_bases, 0, AC_BASIS_MAX, basis);

	return n ? n->name : NULL;
}

const char *ac_basis_name_zh(int basis)
{
	const struct ac_name *n = ac_name_at(ac_bases, 0, AC_BASIS_MAX, basis);

	return n ? n->zh : NULL;
}

int ac_style_from_name(const char *name)
{
	if (strcmp(name, "producer") == 0)
		return AC_STYLE_PRODUCER;
	if (strcmp(name, "purchaser") == 0)
		return AC_STYLE_PURCHASER;
	return AC_ERANGE;
}

const char *ac_style_name(int style)
{
	if (style == AC_STYLE_PRODUCER)
		return "producer";
	if (style == AC_STYLE_PURCHASER)
		return "purchaser";
	return NULL;
}

const char *ac_style_promise_zh(int style)
{
	if (style == AC_STYLE_PRODUCER)
		return "未使用禁用农药、兽药及其他化合物；使用的常规农药、兽药残留不超标。";
	if (style == AC_STYLE_PURCHASER)
		return "已按规定收取并保存该批次农产品承诺达标合格证或者其他质量安全合格证明；"
		       "未违规使用保鲜剂、防腐剂、添加剂等。";
	return NULL;
}
