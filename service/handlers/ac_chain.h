/*
 * What the supply chain's handlers share (issuing and re-issuing in
 * certificates.c, receipts.c, external.c, mixes.c): quantities and products
 * as requests write them, and the answers to the database's refusals. The rules themselves are the
 * database's (sql/0018_chain_rules.sql): a function that refuses raises
 * SQLSTATE AC001 with a JSON message {"code": ..., ...} naming the rule and
 * its figures, which ac_chain_refuse turns into the API's error with a
 * message in English and Chinese that says what to do. Loop thread only.
 */
#ifndef AC_CHAIN_H
#define AC_CHAIN_H

#include <jansson.h>
#include <stdint.h>

#include "ac_catalog.h"
#include "ac_http.h"

/* The largest quantity a request may give, in its unit. */
#define AC_CHAIN_MAX_QUANTITY 1000000

/* A quantity in thousandths: a number above 0, at most
 * AC_CHAIN_MAX_QUANTITY, with at most 3 decimals. Returns 0, or -1. */
int ac_chain_quantity(json_t *v, int64_t *milli);

/* The catalogue's product named by v (a string), or NULL after answering
 * 422 unknown_product about field; valid until the catalogue's refresh. */
const ac_product *ac_chain_product(ac_req *r, const char *field, json_t *v);

/*
 * Answers a refusal by a rule: detail is the AC001 message. The status
 * and code are the rule's (409 insufficient_input, 422 unit_mismatch,
 * product_mismatch, output_exceeds_inputs, unknown_external, 403
 * subject_inactive); the error carries detail as "detail".
 */
void ac_chain_refuse(ac_req *r, const char *detail);

/* For r->on_db_error: answers AC001 with ac_chain_refuse (returns 1);
 * leaves any other SQLSTATE to the helper (returns 0). */
int ac_chain_db_error(ac_req *r, const char *sqlstate, const char *msg);

/* 403 subject_inactive: a suspended or blacklisted subject neither
 * collects nor issues; it is told to contact its township office. */
void ac_chain_inactive(ac_req *r);

#endif
