/*
 * A certificate as the service handles it: what the issuer asked for, what
 * signing added, and what the database holds (read from a row by
 * daemon/ac_certdb.h), and its JSON in the API. Any thread; one owner.
 */
#ifndef AC_CERT_H
#define AC_CERT_H

#include <stdint.h>

#include "ac_buf.h"

typedef struct ac_cert {
	uint64_t serial;
	int kid;
	int issuer_id;
	char *issuer_name;
	int style;
	int basis;
	int product_id;
	char *product_name;
	int64_t quantity_milli;
	int unit;
	char *origin;
	int64_t origin_code;
	char *contact;
	char issued_at[40]; /* ISO 8601 in China Standard Time */
	int labels;
	char **codes; /* labels base32 payloads */
	char *revoked_at;
	char *revoke_reason;
	int64_t print_job_id; /* 0: none */
	char *printer_id;
	char *print_state;
	char *request_fp;
	int64_t test_id; /* the rapid test a test-based basis rests on, or 0 */
	/* Issued in an assisted session (代开): the station's subject, or 0. */
	int assisted_by;
	char *assisted_by_name;
} ac_cert;

/* Frees the members, not c itself. */
void ac_cert_clear(ac_cert *c);

/* The certificate number printed on labels: 12 digits. */
void ac_cert_number(uint64_t serial, char out[24]);

/*
 * Appends the API's JSON object for c to b (written directly, not through
 * jansson: it is on the issuing hot path). AC_CERT_ITEMS adds the item codes
 * as full URLs under public_url; AC_CERT_PUBLIC masks the contact and leaves
 * out the print job, for the public scan answer.
 */
enum { AC_CERT_ITEMS = 1, AC_CERT_PUBLIC = 2 };
void ac_cert_write_json(ac_buf *b, const ac_cert *c, const char *public_url, int flags);

/* "25" or "2.5" from thousandths. */
void ac_quantity_text(int64_t milli, char *out, size_t outsz);

/* Masks the middle of a phone number: 13812345678 -> 138****5678. */
void ac_mask_contact(const char *in, char *out, size_t outsz);

#endif
