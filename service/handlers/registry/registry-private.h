/*
 * Internals shared by the registry's files (ac_registry*.c). Not for other
 * modules: they call ac_registry_route() only.
 *
 * A registry request lives in one ac_registry_ctx, created by the router,
 * handed to ac_auth through handler_data, and freed by ac_registry_finish()
 * once the last step has responded. The context holds one reference on the
 * request from authentication to the end. Each step either responds or
 * submits exactly one query with ac_registry_query(); when a step returns
 * without a query pending, the context is finished. Loop thread only.
 */
#ifndef AC_REGISTRY_PRIVATE_H
#define AC_REGISTRY_PRIVATE_H

#include <jansson.h>
#include <stdint.h>

#include "ac_app.h"
#include "ac_db.h"
#include "ac_http.h"
#include "ac_check.h"

#define AC_REGISTRY_MAX_SET   16
#define AC_REGISTRY_MAX_LIMIT 200
#define AC_REGISTRY_MAX_PAGE  1000000 /* largest offset */
#define AC_REGISTRY_MAX_Q     50      /* search term, characters */

typedef struct ac_registry_ctx ac_registry_ctx;
typedef void (*ac_registry_fn)(ac_registry_ctx *c);
typedef void (*ac_registry_step)(ac_registry_ctx *c, const ac_db_result *res);

enum {
	AC_REGISTRY_TEXT,   /* free text, max characters */
	AC_REGISTRY_ENUM,   /* one of values */
	AC_REGISTRY_REGION, /* 12-digit division code, string or integer */
	AC_REGISTRY_BOOL,
	AC_REGISTRY_CHECK, /* text accepted by check() */
};

/* A writable field: the JSON key is the column name. */
typedef struct ac_registry_field {
	const char *key;
	int type;
	int required; /* on create */
	int create_only;
	int nullable; /* may be cleared with null */
	int max;      /* characters (TEXT, CHECK) */
	const char *const *values;
	int (*check)(const char *s);
	const char *cast; /* SQL cast of the text parameter, e.g. "::bigint" */
	const char *hint; /* what a valid value is, English and Chinese */
	const char *hint_zh;
} ac_registry_field;

enum {
	AC_REGISTRY_F_PREFIX, /* region prefix over column */
	AC_REGISTRY_F_EQ,     /* equality with one of values (or any text when NULL) */
	AC_REGISTRY_F_SEARCH, /* ILIKE on column */
};

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
	const char *json; /* SQL: one json object of row alias t */
	const char *id_cast;
	const ac_registry_field *fields;
	const ac_registry_filter *filters;
	const char *where; /* always applied to lists, or NULL */
	int has_region;
	/* Role checks; each responds 403 and returns 0 when denied. */
	int (*may_read)(ac_registry_ctx *c);
	int (*may_write)(ac_registry_ctx *c);
	/* Checks after the old row is known (create: old_kind empty); responds. */
	int (*check_write)(ac_registry_ctx *c);
	/* Rewrites an object before it is sent (masking), or NULL. */
	void (*shape)(ac_registry_ctx *c, json_t *obj);
	/* SQL giving a new row's id when the database has no default, or NULL. */
	const char *id_expr;
	const char *conflict_en, *conflict_zh;
} ac_registry_entity;

struct ac_registry_ctx {
	ac_req *r;
	ac_principal p;
	const ac_registry_entity *e;
	ac_registry_fn start;
	ac_registry_step next;
	int pending;
	char id[72];
	json_t *body;
	/* Parsed fields of a create or update: column, cast, value (NULL: SQL NULL). */
	int n;
	const char *cols[AC_REGISTRY_MAX_SET];
	const char *casts[AC_REGISTRY_MAX_SET];
	char *vals[AC_REGISTRY_MAX_SET];
	int has_new_region;
	int64_t new_region;
	int has_old_region;
	int64_t old_region;
	char old_kind[24];
	char new_kind[24];
	char *sql;
	char *extra[4]; /* owned strings for custom steps */
	int limit, offset;
	const char *conflict_en, *conflict_zh;
};

/* Core (ac_registry.c). */
int ac_registry_query(ac_registry_ctx *c, const char *sql, int n, const char *const *vals,
		      ac_registry_step next);
void ac_registry_error(ac_registry_ctx *c, int status, const char *code, const char *field,
		       const char *en, const char *zh);
void ac_registry_forbidden(ac_registry_ctx *c, const char *en, const char *zh);
void ac_registry_not_found(ac_registry_ctx *c);
/* Parses column 0 of row 0 as JSON and responds with it (shaped). */
void ac_registry_respond_row(ac_registry_ctx *c, const ac_db_result *res, int status);
json_t *ac_registry_parse(const ac_db_result *res, int row, int col);
/* Reads "limit" and "offset"; responds 400 and returns -1 when invalid. */
int ac_registry_paging(ac_registry_ctx *c);
/* A query parameter: 0 absent, 1 present in buf, -1 invalid (responded). */
int ac_registry_param(ac_registry_ctx *c, const char *name, char *buf, size_t bufsz);
int ac_registry_known(ac_registry_ctx *c, json_t *body, const char *const *extra);
/* Parses the entity's fields from c->body into c->cols/vals; responds on error. */
int ac_registry_parse_fields(ac_registry_ctx *c, int create);
/* Generic operations on c->e. */
void ac_registry_list(ac_registry_ctx *c);
void ac_registry_get(ac_registry_ctx *c);
/* ac_registry_get without the role check, for callers that made their own. */
void ac_registry_fetch(ac_registry_ctx *c);
void ac_registry_create(ac_registry_ctx *c);
void ac_registry_patch(ac_registry_ctx *c);
int ac_registry_role_county(ac_registry_ctx *c);
int ac_registry_role_staff(ac_registry_ctx *c);

/* Entities and custom operations (ac_registry_subjects.c, ac_registry_catalog.c). */
extern const ac_registry_entity ac_registry_subjects, ac_registry_markets, ac_registry_kiosks,
    ac_registry_products;
void ac_registry_subject_get(ac_registry_ctx *c);
void ac_registry_subject_grade(ac_registry_ctx *c);
void ac_registry_subject_status(ac_registry_ctx *c);
void ac_registry_subject_changes(ac_registry_ctx *c);
void ac_registry_region_list(ac_registry_ctx *c);
void ac_registry_region_get(ac_registry_ctx *c);
void ac_registry_region_create(ac_registry_ctx *c);

#endif
