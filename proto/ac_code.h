/*
 * The signed item code, version 1: the text in every label's QR code
 * (specification and test vectors: proto/CODE.md, proto/vectors/code-v1.json).
 *
 *	payload = base32(fields[30] || signature[64])       151 characters
 *	QR text = "HTTPS://HOST/V/" payload                  all upper case
 *
 * fields are 30 big-endian bytes (version, key id, certificate serial, item
 * index, issue day, product, quantity, unit, issuer, origin, flags); the
 * signature (ac_sign.h) covers exactly those 30 bytes.
 *
 * Every function here is pure (no I/O, no globals written) and callable from
 * any thread; decoders accept any bytes from the network and never read
 * outside the lengths they are given.
 */
#ifndef AC_CODE_H
#define AC_CODE_H

#include <stddef.h>
#include <stdint.h>

#include "ac_sign.h"

#define AC_CODE_VERSION	    1
#define AC_CODE_FIELDS_LEN  30	/* signed bytes */
#define AC_CODE_SIG_LEN	    64	/* AC_SIG_LEN */
#define AC_CODE_LEN	    94	/* fields + signature */
#define AC_CODE_TEXT_LEN    151 /* base32 characters of AC_CODE_LEN bytes */
#define AC_CODE_TEXT_SIZE   152 /* buffer for the payload text and its NUL */
#define AC_CODE_PAYLOAD_MAX 128 /* room for decoded bytes (later versions may grow) */
#define AC_CODE_URL_PATH    "/V/"
#define AC_CODE_URL_MAX	    512 /* buffer for ac_code_url() with any accepted URL */

/* Limits of the fields (inclusive). */
#define AC_CODE_SERIAL_MAX 0xffffffffffffULL /* 48 bits */
#define AC_CODE_ORIGIN_MIN 100000000000ULL   /* 12-digit administrative division code */
#define AC_CODE_ORIGIN_MAX 999999999999ULL

/* Units of quantity (one byte; 0 is invalid). */
enum {
	AC_UNIT_KG = 1,	    /* "kg"     千克 */
	AC_UNIT_G = 2,	    /* "g"      克 */
	AC_UNIT_T = 3,	    /* "t"      吨 */
	AC_UNIT_JIN = 4,    /* "jin"    斤 (500 g) */
	AC_UNIT_PIECE = 5,  /* "piece"  个 */
	AC_UNIT_HEAD = 6,   /* "head"   头 (livestock) */
	AC_UNIT_BOX = 7,    /* "box"    箱 */
	AC_UNIT_BAG = 8,    /* "bag"    袋 */
	AC_UNIT_BUNDLE = 9, /* "bundle" 捆 */
	AC_UNIT_ONLY = 10,  /* "only"   只 (poultry, small animals) */
	AC_UNIT_MAX = 10,
};

/* Basis of the promise (flags bits 0-1). */
enum {
	AC_BASIS_QUALITY_CONTROL = 0,	/* "quality_control"   质量安全控制符合要求 */
	AC_BASIS_SELF_TEST = 1,		/* "self_test"         自行检测合格 */
	AC_BASIS_COMMISSIONED_TEST = 2, /* "commissioned_test" 委托检测合格 */
	AC_BASIS_MAX = 2,
};

/* Style of certificate (flags bits 2-3; 0 and 3 are invalid). */
enum {
	AC_STYLE_PRODUCER = 1,	/* the producer's promise */
	AC_STYLE_PURCHASER = 2, /* a purchaser's (collector's, re-issuer's) promise */
};

typedef struct ac_code_fields {
	uint8_t version;	 /* AC_CODE_VERSION */
	uint16_t kid;		 /* key id in the key ring (so also the algorithm) */
	uint64_t serial;	 /* certificate serial, 0..AC_CODE_SERIAL_MAX */
	uint16_t item;		 /* label index within the certificate, 1-based */
	uint16_t issue_day;	 /* days since 2020-01-01, China Standard Time */
	uint16_t product;	 /* catalogue id, non-zero */
	uint32_t quantity_milli; /* quantity in thousandths of unit, non-zero */
	uint8_t unit;		 /* AC_UNIT_*, non-zero */
	uint32_t issuer;	 /* subject id of the issuer, non-zero */
	uint64_t origin;	 /* AC_CODE_ORIGIN_MIN..AC_CODE_ORIGIN_MAX */
	uint8_t basis;		 /* AC_BASIS_* */
	uint8_t style;		 /* AC_STYLE_* */
} ac_code_fields;

typedef struct ac_code {
	ac_code_fields f;
	uint8_t raw[AC_CODE_PAYLOAD_MAX]; /* decoded payload: fields then signature */
	size_t raw_len;			  /* AC_CODE_LEN for version 1 */
} ac_code;

/* Returns 0 when every field of f is in range, else AC_EVERSION or AC_ERANGE. */
int ac_code_check(const ac_code_fields *f);

/* Writes the 30 signed bytes of f. Returns 0, AC_EVERSION or AC_ERANGE. */
int ac_code_pack(const ac_code_fields *f, uint8_t out[AC_CODE_FIELDS_LEN]);

/*
 * Reads fields from the first AC_CODE_FIELDS_LEN of len bytes (len may be
 * longer, e.g. the whole payload). Returns 0, AC_ETRUNCATED, AC_EVERSION or
 * AC_ERANGE (out is then zeroed).
 */
int ac_code_unpack(const uint8_t *in, size_t len, ac_code_fields *out);

/*
 * Packs and signs f with key and writes the payload text (AC_CODE_TEXT_LEN
 * upper-case characters and a NUL) to text of textsz bytes (at least
 * AC_CODE_TEXT_SIZE). The caller picks the key that f->kid names. Returns 0,
 * AC_EVERSION, AC_ERANGE, AC_ETOOBIG, AC_EKEY, AC_ECRYPTO or -ENOMEM.
 */
int ac_code_sign(const ac_key *key, const ac_code_fields *f, char *text, size_t textsz);

/*
 * Decodes len bytes of text, either the bare payload or the whole URL in any
 * case ("HTTPS://HOST/V/<payload>", "http://host:8080/v/<payload>", with an
 * optional trailing '/' and an ignored "?query" or "#fragment"). The host is
 * not checked: trust comes from the signature alone. Base32 case is free, so
 * compare codes by out->raw, never by text. Does not verify the signature.
 * Returns 0, AC_EMALFORMED (not a code, bad character, non-canonical base32,
 * too long), AC_ETRUNCATED (too short), AC_EVERSION (a version this build
 * does not know) or AC_ERANGE (a field out of range). out is zeroed on error.
 */
int ac_code_decode(const char *text, size_t len, ac_code *out);

/*
 * Verifies the signature of a decoded code with key, which the caller found
 * in the key ring under code->f.kid. Returns 0 or AC_EBADSIG.
 */
int ac_code_verify(const ac_code *code, const ac_key *key);

/*
 * Builds the QR text "SCHEME://HOST[:PORT]/V/PAYLOAD" (all upper case, so QR
 * alphanumeric mode holds it) from the configured public URL, e.g.
 * "https://trace.example.cn" or "http://127.0.0.1:8080" (a trailing '/' is
 * allowed; a path, user info, query or a character outside letters, digits,
 * '.', '-' and ':' is refused), and the payload text. Writes it NUL-terminated
 * to out of outsz bytes and returns its length, or AC_EMALFORMED (bad URL or
 * payload not base32) or AC_ETOOBIG.
 */
int ac_code_url(const char *public_url, const char *payload, char *out, size_t outsz);

/*
 * Days since 2020-01-01 of a proleptic Gregorian date, 0..65535 (2020-01-01
 * to 2199-06-06), or AC_ERANGE for an invalid or out-of-range date.
 */
int ac_day_from_ymd(int y, int m, int d);

/* The date of day (days since 2020-01-01). Every uint16_t is a valid day. */
void ac_day_to_ymd(uint16_t day, int *y, int *m, int *d);

/* Unit id for an ASCII name ("kg"), or AC_ERANGE. Names are case-sensitive. */
int ac_unit_from_name(const char *name);
/* ASCII and Chinese names of a unit, or NULL when unit is unknown. */
const char *ac_unit_name(int unit);
const char *ac_unit_name_zh(int unit);

/* Basis id for an ASCII name ("quality_control"), or AC_ERANGE. */
int ac_basis_from_name(const char *name);
/* ASCII and Chinese names of a basis, or NULL. */
const char *ac_basis_name(int basis);
const char *ac_basis_name_zh(int basis);

/* Style id for "producer" or "purchaser", or AC_ERANGE; and back, or NULL. */
int ac_style_from_name(const char *name);
const char *ac_style_name(int style);

/* The promise text printed on a label of style (AC_STYLE_*), or NULL. */
const char *ac_style_promise_zh(int style);

#endif
