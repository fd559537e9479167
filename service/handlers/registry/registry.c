/*
 * The registry's shared machinery and its routes: the request context,
 * query parameters and paging, field validation, and the generic list, get,
 * create and update that serve every entity (registry-private.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_handlers.h"
#include "ac_log.h"
#include "registry-private.h"

#define MAX_FILTER_VALUES 10 /* query parameters of a list's filters */

/* The registry's words for what the database refused. */
static int on_db_error(ac_req *r, const char *sqlstate, const char *msg)
{
	const ac_registry_ctx *c = r->ctx;

	if (strcmp(sqlstate, "23505") == 0 && c->e != NULL && c->e->conflict_en != NULL) {
		ac_req_error(r, 409, "conflict", c->e->conflict_en, c->e->conflict_zh);
		return 1;
	}
	if (strcmp(sqlstate, "23503") == 0) {
		ac_req_error(r, 422, "unknown_reference",
			     "the record refers to a region or subject that does not exist",
			     "所填地区或主体不存在，请核对后重试");
		return 1;
	}
	return 0;
}

ac_registry_ctx *ac_registry_ctx_new(ac_req *r)
{
	ac_registry_ctx *c = ac_req_ctx(r, ac_registry_ctx, NULL);

	if (c == NULL)
		return NULL;
	c->e = r->route->data;
	r->on_db_error = on_db_error;
	return c;
}

void ac_registry_not_found(ac_req *r)
{
	const ac_registry_ctx *c = r->ctx;
	char en[96];
	char zh[96];

	snprintf(en, sizeof(en), "no such %s", c->e != NULL ? c->e->name : "record");
	snprintf(zh, sizeof(zh), "查不到该%s，请核对编号", c->e != NULL ? c->e->name_zh : "记录");
	ac_req_not_found(r, en, zh);
}

int ac_registry_covers(ac_req *r, int64_t region)
{
	if (ac_perm_covers(r->who, region))
		return 1;
	ac_req_forbidden(r, "the region is outside your jurisdiction",
			 "该地区不在您的管辖范围内，请联系所属乡镇或县级监管人员");
	return 0;
}

static void unknown_region(ac_req *r)
{
	ac_req_error_field(r, 422, "unknown_region", "region_code",
			   "the region code is not in the division table; add the region first",
			   "行政区划代码不存在，请核对或先添加该地区");
}

json_t *ac_registry_json(ac_req *r, const ac_db_result *res, const char *col)
{
	const char *text = ac_db_field(res, 0, col);
	json_t *v = text != NULL ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

	if (v == NULL) {
		ac_log_error("registry", "could not read %s of a result: not JSON id=%s", col,
			     r->id_str);
		ac_req_error(r, 500, "internal", "could not read the record", "服务器内部错误");
	}
	return v;
}

void ac_registry_respond_row(ac_req *r, const ac_db_result *res, int status)
{
	const ac_registry_ctx *c = r->ctx;
	json_t *obj;

	if (ac_db_rows(res) < 1) {
		ac_registry_not_found(r);
		return;
	}
	obj = ac_registry_json(r, res, "obj");
	if (obj == NULL)
		return;
	if (c->e != NULL && c->e->shape != NULL)
		c->e->shape(r->who, obj);
	if (c->wrote && c->e->written != NULL) {
		c->e->written(r, obj, status);
		return;
	}
	ac_req_json(r, status, obj);
}

/* A number as text in the request's pool, for a query parameter. */
static const char *pool_int(ac_req *r, long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", v);
	return ac_req_strdup(r, buf);
}

/* How send_sql sends: a write (as the caller), a read, a list (may lag). */
enum { SQL_READ, SQL_WRITE, SQL_LIST };

/* Sends the statement built in sql, as the caller for a write; lists on
 * the read connection (a replica). */
static void send_sql(ac_req *r, const ac_buf *sql, int how, int n, const char *const *vals,
		     ac_step next)
{
	if (!ac_buf_ok(sql))
		ac_req_nomem(r);
	else if (how == SQL_WRITE)
		ac_req_query_as(r, sql->data, n, vals, next);
	else if (how == SQL_LIST)
		ac_req_query_read(r, sql->data, n, vals, next);
	else
		ac_req_query(r, sql->data, n, vals, next);
}

/* Query parameters. */

int ac_registry_param(ac_req *r, const char *name, char *buf, size_t bufsz)
{
	int rc = ac_req_param(r, name, buf, bufsz);

	return rc == 1 && buf[0] == '\0' ? 0 : rc;
}

int ac_registry_paging(ac_req *r, ac_registry_ctx *c)
{
	if (ac_req_param_int(r, "limit", 50, 1, AC_REGISTRY_MAX_LIMIT, &c->limit) != 0)
		return -1;
	return ac_req_param_int(r, "offset", 0, 0, AC_REGISTRY_MAX_PAGE, &c->offset);
}

/* Fields of a body. */

static int is_field(const ac_registry_entity *e, const char *key)
{
	for (const ac_registry_field *f = e != NULL ? e->fields : NULL; f && f->key; f++) {
		if (strcmp(f->key, key) == 0)
			return 1;
	}
	return 0;
}

/* Refuses (400, -1) a body key that is neither a field nor in extra. */
static int known_keys(ac_req *r, const ac_registry_ctx *c, const char *const *extra)
{
	const char *key;
	json_t *v;

	json_object_foreach(c->body, key, v)
	{
		int ok = is_field(c->e, key);

		for (int i = 0; extra != NULL && extra[i] != NULL; i++)
			ok |= strcmp(extra[i], key) == 0;
		if (!ok) {
			ac_req_error_field(r, 400, "unknown_field", key, "unknown field in request",
					   "请求中有无法识别的项目，请删除后重试");
			return -1;
		}
	}
	return 0;
}

ac_registry_ctx *ac_registry_ctx_body(ac_req *r, const char *const *extra)
{
	ac_registry_ctx *c = ac_registry_ctx_new(r);

	if (c == NULL)
		return NULL;
	c->body = ac_req_body_object(r);
	if (c->body == NULL || known_keys(r, c, extra) != 0)
		return NULL;
	return c;
}

/* A region code given as a string or an integer (then into the pool). */
static int region_value(ac_req *r, ac_registry_ctx *c, json_t *v, const char **out)
{
	const char *s = json_string_value(v);

	if (json_is_integer(v)) {
		s = pool_int(r, json_integer_value(v));
		if (s == NULL)
			return -2;
	}
	if (s == NULL || ac_check_region_code(s, &c->new_region) != 0)
		return -1;
	c->has_new_region = 1;
	*out = s;
	return 0;
}

/*
 * v's value for f as text (NULL for SQL NULL), borrowed from v or the pool:
 * 0, -1 when invalid, -2 when out of memory.
 */
static int field_value(ac_req *r, ac_registry_ctx *c, const ac_registry_field *f, json_t *v,
		       const char **out)
{
	const char *s = json_string_value(v);
	int chars;

	*out = NULL;
	if (json_is_null(v))
		return f->nullable && !f->required ? 0 : -1;
	switch (f->type) {
	case AC_REGISTRY_BOOL:
		if (!json_is_boolean(v))
			return -1;
		*out = json_is_true(v) ? "true" : "false";
		return 0;
	case AC_REGISTRY_REGION:
		return region_value(r, c, v, out);
	case AC_REGISTRY_INT:
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > f->max)
			return -1;
		*out = pool_int(r, json_integer_value(v));
		return *out != NULL ? 0 : -2;
	case AC_REGISTRY_INTSET:
		*out = json_is_integer(v) ? pool_int(r, json_integer_value(v)) : NULL;
		for (int i = 0; *out != NULL && f->values[i] != NULL; i++) {
			if (strcmp(f->values[i], *out) == 0)
				return 0;
		}
		*out = NULL;
		return -1;
	case AC_REGISTRY_ENUM:
		for (int i = 0; s != NULL && f->values[i] != NULL; i++) {
			if (strcmp(f->values[i], s) == 0)
				*out = f->values[i];
		}
		return *out != NULL ? 0 : -1;
	default:
		if (s == NULL || strlen(s) != json_string_length(v))
			return -1;
		chars = ac_check_chars(s);
		if (chars == 0 && f->nullable && !f->required)
			return 0; /* "" clears an optional field */
		if (chars < 1 || chars > f->max || (f->check != NULL && !f->check(s)))
			return -1;
		*out = s;
		return 0;
	}
}

/* One field of the body, or -1 after answering. */
static int parse_field(ac_req *r, ac_registry_ctx *c, const ac_registry_field *f, json_t *v,
		       int create)
{
	int rc;

	if (!create && f->create_only) {
		ac_req_error_field(r, 400, "immutable_field", f->key,
				   "this field cannot be changed once created",
				   "该项目登记后不能修改");
		return -1;
	}
	if (c->n >= AC_REGISTRY_MAX_SET) {
		ac_log_error("registry", "could not parse the %s: more than %d fields id=%s",
			     c->e->name, AC_REGISTRY_MAX_SET, r->id_str);
		ac_req_error(r, 500, "internal", "the request could not be completed",
			     "服务器内部错误，请稍后重试");
		return -1;
	}
	rc = field_value(r, c, f, v, &c->vals[c->n]);
	if (rc == -2) {
		ac_req_nomem(r);
		return -1;
	}
	if (rc != 0) {
		ac_req_error_field(r, 400, "invalid_field", f->key, f->hint, f->hint_zh);
		return -1;
	}
	if (strcmp(f->key, "kind") == 0)
		c->new_kind = c->vals[c->n];
	c->cols[c->n] = f->key;
	c->casts[c->n] = f->cast != NULL ? f->cast : "";
	c->n++;
	return 0;
}

int ac_registry_parse_fields(ac_req *r, ac_registry_ctx *c, int create)
{
	for (const ac_registry_field *f = c->e->fields; f->key != NULL; f++) {
		json_t *v = json_object_get(c->body, f->key);

		if (v == NULL && create && f->required) {
			ac_req_error_field(r, 400, "missing_field", f->key, f->hint, f->hint_zh);
			return -1;
		}
		if (v != NULL && parse_field(r, c, f, v, create) != 0)
			return -1;
	}
	return 0;
}

/* Generic list: {"items", "total", "limit", "offset"}. */

static void on_list(ac_req *r, const ac_db_result *res)
{
	const ac_registry_ctx *c = r->ctx;
	json_t *items = ac_registry_json(r, res, "items");
	json_t *item;
	size_t i;

	if (items == NULL)
		return;
	json_array_foreach(items, i, item)
	{
		if (c->e->shape != NULL)
			c->e->shape(r->who, item);
	}
	ac_req_json(r, 200,
		    json_pack("{s:o,s:I,s:i,s:i}", "items", items, "total",
			      (json_int_t)strtoll(ac_db_field(res, 0, "total"), NULL, 10), "limit",
			      c->limit, "offset", c->offset));
}

/* Turns a region filter (1 to 12 digits; trailing zero levels are dropped) into a range. */
static int region_range(const char *s, int64_t *lo, int64_t *hi)
{
	static const int levels[] = { 2, 4, 6, 9, 12 };
	size_t len = strlen(s);
	int64_t scale = 1;
	int64_t v = 0;

	if (len < 1 || len > 12 || strspn(s, "0123456789") != len)
		return -1;
	if (len == 12) {
		for (int i = 0; i < 5; i++) {
			if (strspn(s + levels[i], "0") == 12 - (size_t)levels[i]) {
				len = (size_t)levels[i];
				break;
			}
		}
	}
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (s[i] - '0');
	for (size_t i = len; i < 12; i++)
		scale *= 10;
	*lo = v * scale;
	*hi = (v + 1) * scale - 1;
	return 0;
}

/* s as a LIKE pattern matching it anywhere, in the pool. */
static const char *like_pattern(ac_req *r, const char *s)
{
	char *out = ac_req_alloc(r, 2 * strlen(s) + 3);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	out[o++] = '%';
	for (; *s; s++) {
		if (*s == '\\' || *s == '%' || *s == '_')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '%';
	out[o] = '\0';
	return out;
}

/* Appends " AND (condition)", numbering its $P (pattern) and $T (term) from param. */
static void search_clause(ac_buf *where, const char *condition, int param)
{
	ac_buf_puts(where, " AND (");
	for (const char *s = condition; *s; s++) {
		if (s[0] == '$' && (s[1] == 'P' || s[1] == 'T')) {
			ac_buf_printf(where, "$%d", param + (s[1] == 'T'));
			s++;
		} else {
			ac_buf_add(where, s, 1);
		}
	}
	ac_buf_puts(where, ")");
}

static int allowed(const ac_registry_filter *f, const char *v)
{
	int chars = ac_check_chars(v);

	if (chars < 1 || chars > 100)
		return 0;
	for (int i = 0; f->values != NULL && f->values[i] != NULL; i++) {
		if (strcmp(f->values[i], v) == 0)
			return 1;
	}
	return f->values == NULL;
}

/*
 * Adds filter f with value v to where and vals (n so far, the first at $3).
 * Returns 0, -1 when v is invalid for f, -2 when out of memory.
 */
static int add_filter(ac_req *r, const ac_registry_filter *f, const char *v, ac_buf *where,
		      const char **vals, int *n)
{
	int first = *n;
	int64_t lo;
	int64_t hi;
	int chars;

	switch (f->type) {
	case AC_REGISTRY_F_PREFIX:
		if (region_range(v, &lo, &hi) != 0)
			return -1;
		vals[(*n)++] = pool_int(r, lo);
		vals[(*n)++] = pool_int(r, hi);
		ac_buf_printf(where, " AND %s BETWEEN $%d::bigint AND $%d::bigint", f->column,
			      first + 3, first + 4);
		break;
	case AC_REGISTRY_F_EQ:
		if (!allowed(f, v))
			return -1;
		vals[(*n)++] = ac_req_strdup(r, v);
		ac_buf_printf(where, " AND %s = $%d", f->column, first + 3);
		break;
	default:
		chars = ac_check_chars(v);
		if (chars < 1 || chars > AC_REGISTRY_MAX_Q)
			return -1;
		vals[(*n)++] = like_pattern(r, v);
		vals[(*n)++] = ac_req_strdup(r, v);
		search_clause(where, f->column, first + 3);
		break;
	}
	for (int i = first; i < *n; i++) {
		if (vals[i] == NULL)
			return -2;
	}
	return 0;
}

static void bad_filter(ac_req *r, const ac_registry_filter *f)
{
	char en[160];

	snprintf(en, sizeof(en),
		 "the filter %s is invalid (search terms: at most %d characters; region: 1 to 12 "
		 "digits)",
		 f->param, AC_REGISTRY_MAX_Q);
	ac_req_error_field(r, 400, "invalid_parameter", f->param, en,
			   "查询条件格式错误：搜索词不超过50个字，地区代码为1到12位数字");
}

/* The list's conditions from its query parameters; -1 after answering. */
static int list_filters(ac_req *r, const ac_registry_entity *e, ac_buf *where, const char **vals,
			int *n)
{
	if (e->where != NULL)
		ac_buf_printf(where, " AND %s", e->where);
	for (const ac_registry_filter *f = e->filters; f != NULL && f->param != NULL; f++) {
		char buf[256];
		int rc = ac_registry_param(r, f->param, buf, sizeof(buf));

		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;
		if (*n + 2 > MAX_FILTER_VALUES) {
			bad_filter(r, f);
			return -1;
		}
		rc = add_filter(r, f, buf, where, vals, n);
		if (rc == -2) {
			ac_req_nomem(r);
			return -1;
		}
		if (rc != 0) {
			bad_filter(r, f);
			return -1;
		}
	}
	return 0;
}

static void handle_list(ac_req *r)
{
	ac_registry_ctx *c = ac_registry_ctx_new(r);
	const char *vals[2 + MAX_FILTER_VALUES];
	const char *w;
	ac_buf where;
	ac_buf sql;
	int n = 0;

	if (c == NULL || ac_registry_paging(r, c) != 0)
		return;
	vals[0] = pool_int(r, c->limit);
	vals[1] = pool_int(r, c->offset);
	ac_buf_init(&where);
	ac_buf_init(&sql);
	if (list_filters(r, c->e, &where, vals + 2, &n) != 0)
		goto out;
	w = where.data != NULL ? where.data : "";
	ac_buf_printf(
	    &sql,
	    "SELECT (SELECT count(*) FROM %s t WHERE true%s) AS total, "
	    "(SELECT coalesce(json_agg(j ORDER BY id), '[]') FROM (SELECT t.id, %s AS j "
	    "FROM %s t WHERE true%s ORDER BY t.id LIMIT $1::int OFFSET $2::int) q) AS items",
	    c->e->table, w, c->e->json, c->e->table, w);
	if (!ac_buf_ok(&where) || vals[0] == NULL || vals[1] == NULL)
		ac_req_nomem(r);
	else
		send_sql(r, &sql, SQL_LIST, n + 2, vals, on_list);
out:
	ac_buf_free(&sql);
	ac_buf_free(&where);
}

/* Generic get. */

static void on_row(ac_req *r, const ac_db_result *res)
{
	ac_registry_respond_row(r, res, 200);
}

void ac_registry_fetch(ac_req *r)
{
	const ac_registry_ctx *c = r->ctx;
	ac_buf sql;

	ac_buf_init(&sql);
	ac_buf_printf(&sql, "SELECT %s AS obj FROM %s t WHERE t.id = $1%s", c->e->json, c->e->table,
		      c->e->id_cast);
	send_sql(r, &sql, SQL_READ, 1, r->param, on_row);
	ac_buf_free(&sql);
}

static void handle_get(ac_req *r)
{
	if (ac_registry_ctx_new(r) != NULL)
		ac_registry_fetch(r);
}

/* Generic create: fields, jurisdiction, checks, an insert if the region exists. */

static void on_created(ac_req *r, const ac_db_result *res)
{
	if (ac_db_rows(res) != 1) {
		unknown_region(r);
		return;
	}
	((ac_registry_ctx *)r->ctx)->wrote = 1;
	ac_registry_respond_row(r, res, 201);
}

static void insert(ac_req *r, ac_registry_ctx *c)
{
	const ac_registry_entity *e = c->e;
	const char *vals[AC_REGISTRY_MAX_SET + 1];
	const char *sep = e->id_expr != NULL ? ", " : "";
	int n = c->n;
	ac_buf sql;

	/* With a region, the last parameter: the region must exist. */
	if (e->has_region) {
		vals[n] = pool_int(r, c->new_region);
		if (vals[n++] == NULL) {
			ac_req_nomem(r);
			return;
		}
	}
	ac_buf_init(&sql);
	ac_buf_printf(&sql, "INSERT INTO %s AS t (%s", e->table, e->id_expr != NULL ? "id" : "");
	for (int i = 0; i < c->n; i++)
		ac_buf_printf(&sql, "%s%s", i > 0 ? ", " : sep, c->cols[i]);
	ac_buf_printf(&sql, ") SELECT %s", e->id_expr != NULL ? e->id_expr : "");
	for (int i = 0; i < c->n; i++) {
		ac_buf_printf(&sql, "%s$%d%s", i > 0 ? ", " : sep, i + 1, c->casts[i]);
		vals[i] = c->vals[i];
	}
	if (e->has_region)
		ac_buf_printf(&sql, " WHERE EXISTS (SELECT 1 FROM region WHERE code = $%d::bigint)",
			      n);
	ac_buf_printf(&sql, " RETURNING %s AS obj", e->json);
	send_sql(r, &sql, SQL_WRITE, n, vals, on_created);
	ac_buf_free(&sql);
}

static void handle_create(ac_req *r)
{
	ac_registry_ctx *c = ac_registry_ctx_body(r, NULL);

	if (c == NULL || ac_registry_parse_fields(r, c, 1) != 0)
		return;
	if (c->e->has_region && !ac_registry_covers(r, c->new_region))
		return;
	if (c->e->check_write != NULL && !c->e->check_write(r, c, NULL))
		return;
	insert(r, c);
}

/* Generic update: fields, the old row (jurisdiction), an update guarded by its region. */

static void on_updated(ac_req *r, const ac_db_result *res)
{
	const ac_registry_ctx *c = r->ctx;

	if (ac_db_rows(res) == 1) {
		((ac_registry_ctx *)r->ctx)->wrote = 1;
		ac_registry_respond_row(r, res, 200);
	} else if (!c->e->has_region)
		ac_registry_not_found(r);
	else
		ac_req_error(r, 409, "changed_meanwhile",
			     "the record was moved to another region meanwhile; reload and retry",
			     "该记录刚被他人修改，请刷新后重试");
}

static void update(ac_req *r, ac_registry_ctx *c)
{
	const ac_registry_entity *e = c->e;
	const char *vals[AC_REGISTRY_MAX_SET + 2];
	int base = e->has_region ? 2 : 1;
	ac_buf sql;

	vals[0] = r->param[0];
	if (e->has_region) {
		vals[1] = c->has_old_region ? pool_int(r, c->old_region) : NULL;
		if (c->has_old_region && vals[1] == NULL) {
			ac_req_nomem(r);
			return;
		}
	}
	ac_buf_init(&sql);
	ac_buf_printf(&sql, "UPDATE %s t SET ", e->table);
	for (int i = 0; i < c->n; i++) {
		ac_buf_printf(&sql, "%s%s = $%d%s", i > 0 ? ", " : "", c->cols[i], i + base + 1,
			      c->casts[i]);
		vals[i + base] = c->vals[i];
	}
	ac_buf_printf(&sql, " WHERE t.id = $1%s%s RETURNING %s AS obj", e->id_cast,
		      e->has_region ? " AND t.region_code IS NOT DISTINCT FROM $2::bigint" : "",
		      e->json);
	send_sql(r, &sql, SQL_WRITE, c->n + base, vals, on_updated);
	ac_buf_free(&sql);
}

static void on_old_row(ac_req *r, const ac_db_result *res)
{
	ac_registry_ctx *c = r->ctx;
	const char *region;
	const char *kind;

	if (ac_db_rows(res) != 1) {
		ac_registry_not_found(r);
		return;
	}
	region = ac_db_field(res, 0, "region_code");
	kind = ac_db_field(res, 0, "kind");
	c->has_old_region = region != NULL;
	c->old_region = region != NULL ? strtoll(region, NULL, 10) : 0;
	if (!ac_registry_covers(r, c->old_region))
		return;
	if (c->has_new_region && !ac_registry_covers(r, c->new_region))
		return;
	if (c->has_new_region && !ac_db_bool(res, 0, ac_db_col(res, "region_known"))) {
		unknown_region(r);
		return;
	}
	if (c->e->check_write != NULL && !c->e->check_write(r, c, kind))
		return;
	update(r, c);
}

/* The row's region (its jurisdiction), the value check_write needs, and
 * whether the new region exists. */
static void read_old_row(ac_req *r, ac_registry_ctx *c)
{
	const char *vals[2] = { r->param[0], NULL };
	ac_buf sql;

	if (c->has_new_region) {
		vals[1] = pool_int(r, c->new_region);
		if (vals[1] == NULL) {
			ac_req_nomem(r);
			return;
		}
	}
	ac_buf_init(&sql);
	ac_buf_printf(&sql,
		      "SELECT t.region_code, %s AS kind, EXISTS (SELECT 1 FROM region WHERE code = "
		      "$2::bigint) AS region_known FROM %s t WHERE t.id = $1%s",
		      c->e->kind_column != NULL ? c->e->kind_column : "NULL::text", c->e->table,
		      c->e->id_cast);
	send_sql(r, &sql, SQL_READ, 2, vals, on_old_row);
	ac_buf_free(&sql);
}

static void handle_update(ac_req *r)
{
	static const char *const extra[] = { "id", NULL };
	ac_registry_ctx *c = ac_registry_ctx_body(r, extra);

	if (c == NULL)
		return;
	if (json_object_get(c->body, "id") != NULL) {
		ac_req_error_field(r, 400, "immutable_field", "id",
				   "ids never change (they are printed into signed codes)",
				   "编号登记后永不改变，不能修改");
		return;
	}
	if (ac_registry_parse_fields(r, c, 0) != 0)
		return;
	if (c->n == 0) {
		ac_req_error(r, 400, "nothing_to_change", "the body names no field to change",
			     "没有需要修改的项目，请填写要修改的内容");
		return;
	}
	if (c->e->has_region)
		read_old_row(r, c);
	else
		update(r, c);
}

/* Routes. */

/* A catalogue collection: listed and read by callers the read action allows,
 * created and changed by county regulators and administrators. */
#define CATALOG(path, id, read, entity)                                                            \
	AC_ROUTE("GET", path, handle_list, .flags = AC_ROUTE_AUTH, .act = read, .data = entity),   \
	    AC_ROUTE("POST", path, handle_create, .flags = AC_ROUTE_AUTH,                          \
		     .act = AC_ACT_WRITE_CATALOG, .data = entity),                                 \
	    AC_ROUTE("GET", path id, handle_get, .flags = AC_ROUTE_AUTH, .act = read,              \
		     .data = entity),                                                              \
	    AC_ROUTE("PATCH", path id, handle_update, .flags = AC_ROUTE_AUTH,                      \
		     .act = AC_ACT_WRITE_CATALOG, .data = entity)

static const ac_route routes[] = {
	AC_ROUTE("GET", "/api/v1/subjects", handle_list, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_READ_REGISTRY, .data = &ac_registry_subjects),
	AC_ROUTE("POST", "/api/v1/subjects", handle_create, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_WRITE_SUBJECTS, .data = &ac_registry_subjects),
	/* Staff, or the subject itself: the handler checks. */
	AC_ROUTE("GET", "/api/v1/subjects/{id}", ac_registry_subject_get, .flags = AC_ROUTE_AUTH,
		 .data = &ac_registry_subjects),
	AC_ROUTE("PATCH", "/api/v1/subjects/{id}", handle_update, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_WRITE_SUBJECTS, .data = &ac_registry_subjects),
	AC_ROUTE("POST", "/api/v1/subjects/{id}/grade", ac_registry_subject_grade,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_WRITE_SUBJECTS,
		 .data = &ac_registry_subjects),
	AC_ROUTE("POST", "/api/v1/subjects/{id}/status", ac_registry_subject_status,
		 .flags = AC_ROUTE_AUTH, .act = AC_ACT_WRITE_SUBJECTS,
		 .data = &ac_registry_subjects),
	AC_ROUTE("GET", "/api/v1/subjects/{id}/changes", ac_registry_subject_changes,
		 .flags = AC_ROUTE_AUTH, .data = &ac_registry_subjects),
	AC_ROUTE("GET", "/api/v1/regions", ac_registry_region_list, .flags = AC_ROUTE_AUTH,
		 .data = &ac_registry_regions),
	AC_ROUTE("POST", "/api/v1/regions", ac_registry_region_create, .flags = AC_ROUTE_AUTH,
		 .act = AC_ACT_WRITE_CATALOG, .data = &ac_registry_regions),
	AC_ROUTE("GET", "/api/v1/regions/{region}", ac_registry_region_get, .flags = AC_ROUTE_AUTH,
		 .data = &ac_registry_regions),
	CATALOG("/api/v1/markets", "/{id}", AC_ACT_READ_REGISTRY, &ac_registry_markets),
	/* Before /products/{id}, which would take "menu" for a bad id. */
	AC_ROUTE("GET", "/api/v1/products/menu", ac_registry_product_menu, .flags = AC_ROUTE_AUTH),
	CATALOG("/api/v1/products", "/{id}", AC_ACT_NONE, &ac_registry_products),
	CATALOG("/api/v1/kiosks", "/{kiosk}", AC_ACT_READ_REGISTRY, &ac_registry_kiosks),
};

AC_ROUTE_TABLE(ac_registry_routes, routes);
