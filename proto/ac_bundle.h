/*
 * The trust bundle: what an offline verifier needs besides one bundle public
 * key installed once. A bundle carries the code-signing public keys (with
 * their kid, status and dates), the catalogue names that turn a code's
 * numeric fields into words (products, issuers, administrative divisions)
 * and the serials of revoked certificates, signed by a bundle key.
 * Format (UTF-8 text, one record a line): proto/CODE.md, "Trust bundle".
 *
 *	AGRICERT-TRUST-BUNDLE 1
 *	version 7
 *	issued 2026-11-23T12:00:00Z
 *	region 350524
 *	key 1 ed25519 active 2026-01-01 - <hex>
 *	product 1 豇豆
 *	revoked 4096
 *	signature 1 <hex of 64 bytes over every byte above>
 *
 * Two ways to get an ac_bundle, both owned by the caller (ac_bundle_free()):
 *
 *  - Build one (the publisher): ac_bundle_new(), ac_bundle_add_*(), then
 *    ac_bundle_sign(), which sorts the records and writes the text.
 *  - Parse one (the verifier): ac_bundle_parse() checks the size limit and
 *    the signature with the installed bundle key before it reads any record.
 *
 * Lookups (ac_bundle_key(), ac_bundle_name(), ac_bundle_is_revoked()) are
 * binary searches on a parsed or signed bundle, and linear scans on a bundle
 * still being built. Returned pointers belong to the bundle and live until
 * ac_bundle_free().
 *
 * Pure code: no I/O, no globals. Threads: a bundle is not locked; once parsed
 * or signed it is only read by the lookups, so any number of threads may look
 * up in it at once. Building, signing and freeing must not race with anything.
 */
#ifndef AC_BUNDLE_H
#define AC_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "ac_sign.h"

#define AC_BUNDLE_MAGIC	      "AGRICERT-TRUST-BUNDLE"
#define AC_BUNDLE_FORMAT      1
#define AC_BUNDLE_MAX_SIZE    (4u * 1024 * 1024) /* bytes of the whole text */
#define AC_BUNDLE_MAX_LINE    1024		 /* bytes of a line, its '\n' included */
#define AC_BUNDLE_MAX_KEYS    1000
#define AC_BUNDLE_MAX_NAMES   200000 /* products, issuers and regions together */
#define AC_BUNDLE_MAX_REVOKED 1000000
#define AC_BUNDLE_ISSUED_LEN  20 /* "2026-11-23T12:00:00Z" */
#define AC_BUNDLE_DATE_LEN    10 /* "2026-01-01" */
#define AC_BUNDLE_KID_MAX     65535
#define AC_BUNDLE_PRODUCT_MAX 65535ULL
#define AC_BUNDLE_ISSUER_MAX  0xffffffffULL
#define AC_BUNDLE_SERIAL_MAX  0xffffffffffffULL /* 48 bits, as in the code */
#define AC_BUNDLE_REGION_MIN  100000000000ULL	/* 12 digits */
#define AC_BUNDLE_REGION_MAX  999999999999ULL

/*
 * Status of a code-signing key (the same values as service/ac_keys.h):
 * active and retired keys verify, codes of a revoked key are refused.
 */
enum {
	AC_KEY_STATUS_ACTIVE = 1,
	AC_KEY_STATUS_RETIRED = 2,
	AC_KEY_STATUS_REVOKED = 3,
};

/* Kinds of catalogue names. */
enum {
	AC_NAME_PRODUCT = 1, /* product catalogue id, 1..65535 */
	AC_NAME_ISSUER = 2,  /* issuing subject id, 1..2^32-1 */
	AC_NAME_REGION = 3,  /* 12-digit administrative division code */
};

typedef struct ac_bundle ac_bundle;

/*
 * Starts an empty bundle to build: version (any uint64_t; verifiers refuse a
 * version lower than one they accepted), issued ("YYYY-MM-DDTHH:MM:SSZ",
 * a valid UTC time) and region (6 to 12 digits, the first non-zero: the
 * county or wider area the catalogue covers). Strings are copied. Returns 0,
 * AC_EMALFORMED or -ENOMEM; *out is NULL on error.
 */
int ac_bundle_new(uint64_t version, const char *issued, const char *region, ac_bundle **out);

/*
 * Adds the public half of key under kid (1..65535) with status
 * (AC_KEY_STATUS_*) and validity dates not_before and not_after
 * ("YYYY-MM-DD", or NULL or "-" for none; not_before <= not_after). The key
 * is copied; the caller keeps key. Returns 0, AC_ERANGE (kid, status),
 * AC_EMALFORMED (a date), AC_EDUPLICATE (kid already present), AC_ETOOBIG
 * (AC_BUNDLE_MAX_KEYS), AC_ECRYPTO or -ENOMEM.
 */
int ac_bundle_add_key(ac_bundle *b, int kid, const ac_key *key, int status, const char *not_before,
		      const char *not_after);

/*
 * Adds a catalogue name of kind (AC_NAME_*) for id (range per kind above).
 * name is copied: non-empty valid UTF-8 without control characters (C0, DEL,
 * C1), short enough for its line to fit AC_BUNDLE_MAX_LINE. Returns 0,
 * AC_ERANGE (kind or id), AC_EMALFORMED (name), AC_ETOOBIG (line or
 * AC_BUNDLE_MAX_NAMES) or -ENOMEM. Duplicates are found by ac_bundle_sign().
 */
int ac_bundle_add_name(ac_bundle *b, int kind, uint64_t id, const char *name);

/*
 * Adds the serial (0..AC_BUNDLE_SERIAL_MAX) of a revoked certificate.
 * Returns 0, AC_ERANGE, AC_ETOOBIG (AC_BUNDLE_MAX_REVOKED) or -ENOMEM.
 * Duplicates are found by ac_bundle_sign().
 */
int ac_bundle_add_revoked(ac_bundle *b, uint64_t serial);

/*
 * Sorts the records (keys by kid, names by kind then id, revoked serials),
 * then writes the bundle text signed with bundle_key (which needs its private
 * half) under bundle_kid (1..65535). On success *text is a NUL-terminated
 * malloc'd string of *len bytes, now owned by the caller (free()). Sorting
 * changes b, hence not const; b stays usable (lookups become binary
 * searches). Returns 0, AC_ERANGE (bundle_kid), AC_EDUPLICATE (an id twice
 * within a kind), AC_ETOOBIG (over AC_BUNDLE_MAX_SIZE), AC_EKEY (no private
 * key), AC_ECRYPTO or -ENOMEM; *text is NULL and *len 0 on error.
 */
int ac_bundle_sign(ac_bundle *b, int bundle_kid, const ac_key *bundle_key, char **text,
		   size_t *len);

/*
 * Parses len bytes of text (no NUL needed), which come from anywhere. In this
 * order: the size (AC_ETOOBIG), the last line, which must be the signature
 * line (AC_EMALFORMED), its bundle kid when bundle_kid is not 0
 * (AC_EUNKNOWNKEY), the signature with bundle_pub over every byte before
 * that line (AC_EBADSIG), and only then the records: AC_EVERSION for a format
 * version other than 1, AC_EMALFORMED for any deviation from the format
 * (unknown record type, bad number, date, hex or UTF-8, out-of-range id,
 * control character, empty line, a record after the signature line),
 * AC_ETOOBIG for a line or count over its limit, AC_EDUPLICATE for an id
 * twice within a kind, AC_EKEY for a code-signing key that is not a valid
 * public key. Returns 0 or one of those, or -ENOMEM; *out is NULL on error.
 */
int ac_bundle_parse(const char *text, size_t len, const ac_key *bundle_pub, int bundle_kid,
		    ac_bundle **out);

/* Header fields. The strings belong to b. */
uint64_t ac_bundle_version(const ac_bundle *b);
const char *ac_bundle_issued(const ac_bundle *b);
const char *ac_bundle_region(const ac_bundle *b);
/* The kid of the bundle key that signed a parsed bundle, 0 for a built one. */
int ac_bundle_signer_kid(const ac_bundle *b);

/*
 * The code-signing key kid, or NULL when the bundle has none. When found and
 * status is not NULL, *status is its AC_KEY_STATUS_*. The key belongs to b.
 */
const ac_key *ac_bundle_key(const ac_bundle *b, int kid, int *status);
/*
 * The validity dates of key kid: "YYYY-MM-DD", or "" for none. Strings
 * belong to b. Returns 0 or AC_ENOTFOUND (the pointers are then NULL).
 */
int ac_bundle_key_dates(const ac_bundle *b, int kid, const char **not_before,
			const char **not_after);

/* The name of id in kind (AC_NAME_*), or NULL when absent. Belongs to b. */
const char *ac_bundle_name(const ac_bundle *b, int kind, uint64_t id);

/* 1 when serial is listed as revoked, else 0. */
int ac_bundle_is_revoked(const ac_bundle *b, uint64_t serial);

/* Counts of records, for reports. */
size_t ac_bundle_key_count(const ac_bundle *b);
size_t ac_bundle_name_count(const ac_bundle *b);
size_t ac_bundle_revoked_count(const ac_bundle *b);

/* Frees b and every key and string it holds; NULL-safe. */
void ac_bundle_free(ac_bundle *b);

#endif
