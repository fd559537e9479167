/*
 * A certificate as the service handles it: what the issuer asked for, what
 * signing added, and what the database holds. Conversion to the JSON of the
 * API and from a database row. Loop thread only.
 */
#ifndef AC_CERT_H
#define AC_CERT_H

#include <jansson.h>
#include <stdint.h>

#include "ac_buf.h"
#include "ac_db.h"

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
} ac_cert;

/* Frees the members, not c itself. */
void ac_cert_clear(ac_cert *c);

/*
 * The columns ac_cert_from_row reads: AC_CERT_SELECT "WHERE ...". Column 15
 * holds the item codes joined by commas; AC_CERT_SELECT_HEAD <expr>
 * AC_CERT_SELECT_TAIL lets a query put something else there (a scan asks for
 * the one item it verifies).
 */
#define AC_CERT_SELECT_HEAD                                                                        \
	"SELECT c.serial, c.kid, c.issuer_id, s.name, c.style, c.basis, c.product_id, p.name, "    \
	"c.quantity_milli, c.unit, c.origin, c.origin_code, c.contact, "                           \
	"to_char(c.issued_at AT TIME ZONE 'Asia/Shanghai', "                                       \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"+08:00\"'), c.labels, "
#define AC_CERT_SELECT_TAIL                                                                        \
	", to_char(c.revoked_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'), "          \
	"c.revoke_reason, pj.id, pj.printer_id, pj.state, c.request_fp "                           \
	"FROM certificate c JOIN subject s ON s.id = c.issuer_id "                                 \
	"JOIN product p ON p.id = c.product_id "                                                   \
	"LEFT JOIN LATERAL (SELECT id, printer_id, state FROM print_job "                          \
	"WHERE serial = c.serial ORDER BY id DESC LIMIT 1) pj ON true "
/* How many columns that is: a query may add its own after them. */
#define AC_CERT_COLUMNS 22
#define AC_CERT_SELECT	AC_CERT_SELECT_HEAD "array_to_string(c.item_codes, ',')" AC_CERT_SELECT_TAIL

int ac_cert_from_row(const ac_db_result *res, int row, ac_cert *c);

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

/* Whether s is a date written YYYY-MM-DD. */
int ac_valid_date(const char *s);

#endif
