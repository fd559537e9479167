/*
 * Who may do what: the authenticated caller (ac_principal), the permission
 * matrix (which roles may take which action, and the words of a refusal),
 * and jurisdiction (which regions a regulator covers).
 *
 * Roles (api_token.role): producer, purchaser, inspector, township_regulator,
 * county_regulator, admin, kiosk, system, station (the operator of a village
 * service station: its villages are in the database, sql/0025_station.sql,
 * so its jurisdiction is checked there). A staff member's subject carries
 * the region of their jurisdiction: a township regulator's 12-digit code
 * starts with the 9-digit township, a county regulator's with the 6-digit
 * county. Pure functions; any thread.
 */
#ifndef AC_PERM_H
#define AC_PERM_H

#include <stddef.h>
#include <stdint.h>

/* The authenticated caller of a request. */
typedef struct ac_principal {
	int subject_id;
	char role[24];
	char name[256];
	char contact[64];
	char status[16];
	int64_t region_code;
	char kiosk_id[72]; /* the kiosk a device token or a session belongs to, or "" */
	/* An assisted session (代开): the station's subject that opened it, or 0. */
	int assisted_by;
	char assisted_by_name[256];
} ac_principal;

/*
 * Actions a route may demand. AC_ACT_NONE: any valid token. Finer rules (a
 * certificate's own issuer, jurisdiction) stay with the handler.
 */
typedef enum ac_action {
	AC_ACT_NONE = 0,
	AC_ACT_ISSUE,		/* issue and re-issue certificates */
	AC_ACT_REPRINT,		/* print one's labels again */
	AC_ACT_COLLECT,		/* record receipts */
	AC_ACT_STOCK,		/* read one's stock */
	AC_ACT_READ_EXTERNAL,	/* read external certificates (one's own; staff) */
	AC_ACT_REVOKE,		/* revoke certificates */
	AC_ACT_RECALL,		/* read recall reports */
	AC_ACT_RECORD_TEST,	/* record rapid tests (a testing station's) */
	AC_ACT_RECORD_OWN_TEST, /* record one's own tests (self, commissioned) */
	AC_ACT_READ_TESTS,	/* list rapid tests */
	AC_ACT_INSPECT,		/* market checks and unlicensed-produce reports */
	AC_ACT_READ_SUSPICIONS, /* clone suspicions */
	AC_ACT_STATS,		/* township statistics */
	AC_ACT_READ_REGISTRY,	/* read subjects, markets, kiosks */
	AC_ACT_WRITE_SUBJECTS,	/* register and change subjects */
	AC_ACT_WRITE_CATALOG,	/* regions, markets, kiosks, products */
	AC_ACT_OWN_CERTS,	/* list one's own certificates */
	AC_ACT_ENROL,		/* enrol household producers and look them up */
	AC_ACT_ASSIST,		/* open a producer's session at a station (代开) */
	AC_ACT_SUPERVISE,	/* patrols, quarantine reconciliation, sampling plans, dashboard */
	AC_ACT_COUNT
} ac_action;

/* Whether p's role may take action act. */
int ac_perm_may(const ac_principal *p, ac_action act);

/* Why a refusal of act happened, in English and Chinese (static strings). */
void ac_perm_refusal(ac_action act, const char **en, const char **zh);

/* inspector, township_regulator, county_regulator or admin. */
int ac_perm_is_staff(const ac_principal *p);
/* township_regulator, county_regulator or admin. */
int ac_perm_is_regulator(const ac_principal *p);
int ac_perm_is_admin(const ac_principal *p);
/* producer or purchaser: someone who issues certificates. */
int ac_perm_is_issuer(const ac_principal *p);
int ac_perm_is_role(const ac_principal *p, const char *role);

/*
 * Whether p's jurisdiction covers region (a 12-digit division code): admin
 * everywhere, county regulator within its county (first 6 digits), township
 * regulator within its township (first 9 digits), nobody else.
 */
int ac_perm_covers(const ac_principal *p, int64_t region);

/*
 * The regions whose records p may act on, as an inclusive range of 12-digit
 * codes written as text for a query: everything for admin and inspectors
 * (who check markets anywhere), the county or the township for regulators,
 * nothing (lo > hi) for anybody else.
 */
void ac_perm_range(const ac_principal *p, char lo[24], char hi[24]);

/* "<subject id>:<role>[@kiosk][+assisted_by:<station subject id>]" for the
 * audit log, into out. */
void ac_perm_actor(const ac_principal *p, char *out, size_t outsz);

#endif
