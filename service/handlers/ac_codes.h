/*
 * Checking the codes a request lists (receipts, market checks), shared by
 * those handlers: each entry's text is a code as scanned (the label's URL or
 * its payload). Signatures are verified in the thread pool (Ed25519 and SM2
 * do not belong on the loop), against the key ring of the moment, on which
 * the check holds a reference. Loop thread only.
 */
#ifndef AC_CODES_H
#define AC_CODES_H

#include "ac_buf.h"
#include "ac_code.h"
#include "ac_http.h"

typedef struct ac_scanned_code {
	char text[256];
	/* In: already refused for another reason (skipped), or NULL. Out: NULL
	 * when the signature is genuine (code decoded, payload the canonical
	 * text), else the verdict: "malformed", "unknown_key", "bad_signature",
	 * "key_revoked". */
	const char *status;
	ac_code code;
	char payload[AC_CODE_TEXT_SIZE];
} ac_scanned_code;

/*
 * Adds genuine code c to the array literals of a call (ac_db_call.h):
 * arrays[0] its serial, arrays[1] its item, arrays[2] its canonical text,
 * for the database to look up and judge.
 */
void ac_codes_add(ac_buf arrays[3], const ac_scanned_code *c);

/*
 * Checks v[0..n) (memory the request keeps, e.g. from its pool), then calls
 * after(r) on the loop unless the client has left.
 */
void ac_codes_check(ac_req *r, ac_scanned_code *v, int n, void (*after)(ac_req *r));

#endif
