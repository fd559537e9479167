/*
 * The registry (名录库), internal to service/handlers/registry/: subjects
 * (producers and purchasers) with their credit grades, status and change
 * history (subjects.c); the administrative division tree, markets, the
 * product catalogue and self-service kiosks (catalog.c). JSON in and out
 * under /api/v1/{subjects,regions,markets,products,kiosks}; every route is
 * in ac_registry_routes (registry.c, declared in ac_handlers.h).
 *
 * Who may do what: the routes' actions (base/ac_perm.c). Reading subjects,
 * markets and kiosks needs a staff account (AC_ACT_READ_REGISTRY), except
 * that a producer or purchaser reads its own subject; regions and products
 * are read with any valid token. Subjects are written by regulators
 * (AC_ACT_WRITE_SUBJECTS) covering the subject's region, old and new, staff
 * accounts by administrators only; regions, markets, kiosks and products by
 * county regulators within their county and administrators
 * (AC_ACT_WRITE_CATALOG). Phone and ID numbers are masked for everyone but
 * the regulators covering the subject.
 *
 * Most collections are a table (ac_registry_entity) that the generic list,
 * get, create and update of registry.c serve: the writable fields and how
 * each is checked, the list filters, and the SQL function that writes a row
 * as JSON (sql/0015_registry_sql.sql). A route points at its entity with
 * .data. The request's state is an ac_registry_ctx in r->ctx, from the
 * request's pool (ac_registry_ctx_new). Loop thread only.
 */
#ifndef AC_REGISTRY_PRIVATE_H
#define AC_REGISTRY_PRIVATE_H

#include <jansson.h>
#include <stdint.h>

#include "ac_app.h"
#include "ac_check.h"
#include "ac_db.h"
#include "ac_handler.h"

#define AC_REGISTRY_MAX_SET   16
#define AC_REGISTRY_MAX_LIMIT 200
#define AC_REGISTRY_MAX_PAGE  1000000 /* largest offset */
#define AC_REGISTRY_MAX_Q     50      /* search term, characters */

typedef struct ac_registry_ctx ac_registry_ctx;

enum {
	AC_REGISTRY_TEXT,   /* free text, at most max characters */
	AC_REGISTRY_ENUM,   /* one of values */
	AC_REGISTRY_REGION, /* 12-digit division code, string or integer */
	AC_REGISTRY_BOOL,
	AC_REGISTRY_CHECK,  /* text of at most max characters accepted by check() */
	AC_REGISTRY_INT,    /* an integer from 1 to max */
	AC_REGISTRY_INTSET, /* an integer whose decimal text is one of values */
};

/* A writable field: the JSON key is the column's name. */
typedef struct ac_registry_field {
	const char *key;
	int type;
	int required; /* on create */
	int create_only;
	int nullable; /* may be cleared with null (or "" for text) */
	int max;      /* characters (TEXT, CHECK), largest value (INT) */
	const char *const *values;
	int (*check)(const char *s);
	const char *cast; /* SQL cast of the text parameter, e.g. "::bigint" */
	const char *hint; /* what a valid value is, English and Chinese */
	const char *hint_zh;
} ac_registry_field;

enum {
	AC_REGISTRY_F_PREFIX, /* a region code or its first digits, over column */
	AC_REGISTRY_F_EQ,     /* equality with one of values (or any text when NULL) */
	AC_REGISTRY_F_SEARCH, /* column is a condition on the LIKE pattern $P and the term $T */
};

/* A query parameter of a list. */
typedef struct ac_registry_filter {
	const char *param;
	int type;
	const char *column;
	const char *const *values;
} ac_registry_filter;

typedef struct ac_registry_entity {
	const char *name; /* in messages: "subject" */
	const char *name_zh;
	const char *table;
	const char *json; /* SQL: the JSON object of row t, e.g. "subject_json(t)" */
	const char *id_cast;
	const ac_registry_field *fields; /* ends with a NULL key */
	const ac_registry_filter *filters;
	const char *where; /* always applied to lists, or NULL */
	int has_region;	   /* a region_code within the writer's jurisdiction */
	/* SQL: the old row's value that check_write gets as old_kind, or NULL. */
	const char *kind_column;
	/* Checks a write once the old row is known, with the old row's
	 * kind_column (NULL on create); answers and returns 0 to refuse it.
	 * NULL: no check. */
	int (*check_write)(ac_req *r, const ac_registry_ctx *c, const char *old_kind);
	/* Rewrites an object before it is sent (masking), or NULL. */
	void (*shape)(const ac_principal *who, json_t *obj);
	/* SQL giving a new row's id when the database has no default, or NULL. */
	const char *id_expr;
	/* What a unique violation means, or NULL for the helper's words. */
	const char *conflict_en, *conflict_zh;
	/* After a create or update, instead of answering obj with status: the
	 * entity's own follow-up, which answers (e.g. waits for a cache). */
	void (*written)(ac_req *r, json_t *obj, int status);
} ac_registry_entity;

/* A registry request's state, in its pool. */
struct ac_registry_ctx {
	const ac_registry_entity *e; /* the route's, or NULL */
	json_t *body;
	/* Parsed fields of a create or update: column, cast and value (NULL:
	 * SQL NULL), the values borrowed from body or the pool. */
	int n;
	const char *cols[AC_REGISTRY_MAX_SET];
	const char *casts[AC_REGISTRY_MAX_SET];
	const char *vals[AC_REGISTRY_MAX_SET];
	int has_new_region;
	int64_t new_region;
	int has_old_region;
	int64_t old_region;
	const char *new_kind; /* or NULL */
	int limit, offset;
	/* A grade or status change: the column, its new value, why. */
	const char *column, *value, *reason;
	int wrote;	/* a create or update succeeded: answer through e->written */
	json_t *answer; /* what e->written answers, and its status */
	int answer_status;
};

/*
 * Starts a registry request: its context for the route's entity in r->ctx,
 * and the registry's words for database errors. Returns NULL after
 * answering when out of memory.
 */
ac_registry_ctx *ac_registry_ctx_new(ac_req *r);
/*
 * The same for a write with a JSON body (c->body): its keys must be fields
 * of the entity or in extra (NULL-terminated, may be NULL), else 400.
 */
ac_registry_ctx *ac_registry_ctx_body(ac_req *r, const char *const *extra);

/* Answers 404 naming the entity ("no such subject"). */
void ac_registry_not_found(ac_req *r);
/* Answers 403 when r's caller does not cover region; returns whether it does. */
int ac_registry_covers(ac_req *r, int64_t region);

/*
 * The JSON in column col of res's row 0, a new reference; NULL after
 * answering 500 when it cannot be read.
 */
json_t *ac_registry_json(ac_req *r, const ac_db_result *res, const char *col);
/* Answers the object in column "obj" of row 0, shaped, or 404 without a row. */
void ac_registry_respond_row(ac_req *r, const ac_db_result *res, int status);

/*
 * A query parameter into buf: 1 when present and not empty, 0 otherwise,
 * -1 after answering 400.
 */
int ac_registry_param(ac_req *r, const char *name, char *buf, size_t bufsz);
/* Reads "limit" and "offset" into the context; -1 after answering 400. */
int ac_registry_paging(ac_req *r, ac_registry_ctx *c);
/* Parses the entity's fields from c->body into c->cols/vals; -1 after answering. */
int ac_registry_parse_fields(ac_req *r, ac_registry_ctx *c, int create);

/* GET of the route's entity by r->param[0], without a role check of its own. */
void ac_registry_fetch(ac_req *r);

/* Entities (subjects.c, catalog.c) and the handlers beyond the generic ones. */
extern const ac_registry_entity ac_registry_subjects, ac_registry_markets, ac_registry_kiosks,
    ac_registry_products, ac_registry_regions;
void ac_registry_subject_get(ac_req *r);
void ac_registry_subject_grade(ac_req *r);
void ac_registry_subject_status(ac_req *r);
void ac_registry_subject_changes(ac_req *r);
void ac_registry_region_list(ac_req *r);
void ac_registry_region_get(ac_req *r);
void ac_registry_region_create(ac_req *r);
void ac_registry_product_menu(ac_req *r);

#endif
