/*
 * Supervision (issue 13), internal to service/handlers/supervision/: what
 * township and county regulators keep and read beside the certificates.
 *   patrols.c     patrols (巡查) of producers and their photos
 *   quarantine.c  animal quarantine certificates imported as CSV
 *   sampling.c    monthly random sampling plans (双随机)
 *   supervision.c the documents the dashboard reads (township table,
 *                 certificates per day, failed tests, registry overview,
 *                 revocations and a revocation's preview, patrol lists and
 *                 coverage, the quarantine reconciliation, sampling plans),
 *                 all served by one table-driven handler, and every route
 *                 of the folder in ac_supervision_routes (ac_handlers.h)
 * The statements are functions of sql/0023_supervision.sql. Every route
 * demands AC_ACT_SUPERVISE (township and county regulators, admin); the
 * functions confine each caller to its jurisdiction (ac_jurisdiction.h) and
 * say when a record exists outside it (403 outside_jurisdiction). Loop
 * thread only.
 */
#ifndef AC_SUPERVISION_PRIVATE_H
#define AC_SUPERVISION_PRIVATE_H

#include <jansson.h>

#include "ac_db.h"
#include "ac_handler.h"

/* What a query parameter of a document holds, and so its SQL type. */
enum {
	AC_SV_DATE,  /* YYYY-MM-DD, date */
	AC_SV_MONTH, /* YYYY-MM, passed as the month's first day */
	AC_SV_YEAR,  /* 2000..2100, integer */
	AC_SV_ID,    /* 1 to 9 digits, bigint */
	AC_SV_BOOL,  /* true or false */
};

#define AC_SV_MAX_PARAMS 3

typedef struct ac_sv_param {
	const char *name; /* in the query string; NULL ends the list */
	const char *arg;  /* the SQL function's argument */
	int kind;
} ac_sv_param;

/*
 * A document: an SQL function called with the route's {id} or {serial}
 * (path_arg, when not NULL), the query parameters, p_region_lo and
 * p_region_hi. It answers a column doc (JSON) and, when csv, a column csv
 * that ?format=csv selects. A result with a column found that is false is
 * 404 (what_en, what_zh); with a column covered that is false, 403. Absent
 * parameters are NULL: the function knows their defaults. from and to, when
 * both given, must make a period of at most 3 years.
 */
typedef struct ac_sv_doc {
	const char *fn;
	const char *path_arg;
	ac_sv_param params[AC_SV_MAX_PARAMS + 1];
	int csv;
	const char *what_en;
	const char *what_zh;
} ac_sv_doc;

/* GET of the route's document (r->route->data is an ac_sv_doc). */
void ac_sv_document(ac_req *r);

/*
 * Answers the error shape (ac_reply.h) with one more member beside
 * "error": key holding value (stolen), e.g. the rows an import rejected.
 */
void ac_sv_error_with(ac_req *r, int status, const char *code, const char *message,
		      const char *message_zh, const char *key, json_t *value);

/* 403 outside_jurisdiction: the record is not in the caller's area. */
void ac_sv_outside(ac_req *r);

/*
 * For a function that says found and covered (row 0, columns named found
 * and "covered"): answers 404 with en and zh when not found, 403 when not
 * covered, and returns 0; returns 1 when the record is there and the
 * caller's. A column that is absent does not count.
 */
int ac_sv_found(ac_req *r, const ac_db_result *res, const char *found, const char *en,
		const char *zh);

#define AC_SV_JSON "application/json; charset=utf-8"
#define AC_SV_CSV  "text/csv; charset=utf-8"

/* The handlers of patrols.c, quarantine.c and sampling.c. */
void ac_sv_patrol_record(ac_req *r);
void ac_sv_patrol_photo_add(ac_req *r);
void ac_sv_patrol_photo_get(ac_req *r);
void ac_sv_quarantine_import(ac_req *r);
void ac_sv_sampling_create(ac_req *r);

#endif
