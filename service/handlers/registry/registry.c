/*
 * The registry's router, request contexts, field validation and the generic
 * list, get, create and update operations shared by its collections.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_log.h"
#include "ac_perm.h"
#include "registry-private.h"
#include "ac_registry.h"

static void ctx_free(void *data)
{
	ac_registry_ctx *c = data;

	if (c == NULL)
		return;
	json_decref(c->body);
	for (int i = 0; i < c->n; i++)
		free(c->vals[i]);
	for (size_t i = 0; i < sizeof(c->extra) / sizeof(c->extra[0]); i++)
		free(c->extra[i]);
	free(c->sql);
	free(c);
}

static void finish(ac_registry_ctx *c)
{
	ac_req *r = c->r;

	ctx_free(c);
	ac_req_unref(r);
}

void ac_registry_error(ac_registry_ctx *c, int status, const char *code, const char *field,
		       const char *en, const char *zh)
{
	ac_req_error_field(c->r, status, code, field, en, zh);
}

void ac_registry_forbidden(ac_registry_ctx *c, const char *en, const char *zh)
{
	ac_req_error(c->r, 403, "forbidden", en, zh);
}

void ac_registry_not_found(ac_registry_ctx *c)
{
	char en[96];
	char zh[96];

	snprintf(en, sizeof(en), "no such %s", c->e != NULL ? c->e->name : "record");
	snprintf(zh, sizeof(zh), "查不到该%s，请核对编号", c->e != NULL ? c->e->name_zh : "记录");
	ac_req_error(c->r, 404, "not_found", en, zh);
}

static void on_result(void *data, const ac_db_result *res, int err, const char *msg)
{
	ac_registry_ctx *c = data;
	ac_req *r = c->r;
	const char *state = res != NULL ? ac_db_sqlstate(res) : NULL;

	c->pending = 0;
	if (err != 0) {
		if (state != NULL && strcmp(state, "23505") == 0) {
			ac_req_error(r, 409, "conflict",
				     c->conflict_en ? c->conflict_en
						    : "a record with the same name or code exists",
				     c->conflict_zh ? c->conflict_zh
						    : "已有相同名称或代码的记录，请勿重复登记");
		} else if (state != NULL && strcmp(state, "23503") == 0) {
			ac_req_error(r, 422, "unknown_reference",
				     "the record refers to a region or subject that does not exist",
				     "所填地区或主体不存在，请核对后重试");
		} else if (state != NULL &&
			   (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)) {
			ac_log_warn("registry", "refused by the database: %s id=%s", msg,
				    r->id_str);
			ac_req_error(r, 422, "invalid_value",
				     "a value was refused; check the fields",
				     "填写的内容不符合要求，请检查后重试");
		} else {
			ac_log_error("registry", "could not query the registry: %s id=%s", msg,
				     r->id_str);
			ac_req_unavailable(r);
		}
		goto out;
	}
	if (r->gone)
		goto out;
	c->next(c, res);
out:
	if (!c->pending)
		finish(c);
}

int ac_registry_query(ac_registry_ctx *c, const char *sql, int n, const char *const *vals,
		      ac_registry_step next)
{
	ac_app *app = c->r->app;
	char actor[128];

	c->next = next;
	ac_perm_actor(&c->p, actor, sizeof(actor));
	if (ac_db_query_as(app->db, actor, sql, n, vals, NULL, on_result, c) != 0) {
		ac_req_unavailable(c->r);
		return -1;
	}
	c->pending = 1;
	return 0;
}

json_t *ac_registry_parse(const ac_db_result *res, int row, int col)
{
	const char *text = ac_db_get(res, row, col);

	if (text == NULL)
		return NULL;
	return json_loads(text, JSON_DECODE_ANY, NULL);
}

void ac_registry_respond_row(ac_registry_ctx *c, const ac_db_result *res, int status)
{
	json_t *obj;

	if (ac_db_rows(res) < 1) {
		ac_registry_not_found(c);
		return;
	}
	obj = ac_registry_parse(res, 0, 0);
	if (!json_is_object(obj)) {
		json_decref(obj);
		ac_req_error(c->r, 500, "internal", "could not read the record", "服务器内部错误");
		return;
	}
	if (c->e != NULL && c->e->shape != NULL)
		c->e->shape(c, obj);
	ac_req_json(c->r, status, obj);
}

/* Whether the raw query string holds name=..., even when it cannot be decoded. */
static int param_present(const ac_req *r, const char *name)
{
	size_t n = strlen(name);
	const char *p = r->query;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return 1;
		p = strchr(p, '&');
		if (p != NULL)
			p++;
	}
	return 0;
}

int ac_registry_param(ac_registry_ctx *c, const char *name, char *buf, size_t bufsz)
{
	if (ac_req_query_param(c->r, name, buf, bufsz) != NULL)
		return buf[0] != '\0';
	if (!param_present(c->r, name))
		return 0;
	ac_registry_error(c, 400, "invalid_parameter", name,
			  "the query parameter is too long or badly encoded",
			  "查询条件过长或格式错误，请缩短后重试");
	return -1;
}

static int number_param(ac_registry_ctx *c, const char *name, int def, int min, int max, int *out)
{
	char buf[24];
	char *end;
	long v;
	int rc = ac_registry_param(c, name, buf, sizeof(buf));

	if (rc < 0)
		return -1;
	*out = def;
	if (rc == 0)
		return 0;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		char en[96];
		char zh[96];

		snprintf(en, sizeof(en), "%s must be an integer from %d to %d", name, min, max);
		snprintf(zh, sizeof(zh), "%s必须是%d到%d之间的整数", name, min, max);
		ac_registry_error(c, 400, "invalid_parameter", name, en, zh);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int ac_registry_paging(ac_registry_ctx *c)
{
	if (number_param(c, "limit", 50, 1, AC_REGISTRY_MAX_LIMIT, &c->limit) != 0)
		return -1;
	return number_param(c, "offset", 0, 0, AC_REGISTRY_MAX_PAGE, &c->offset);
}

int ac_registry_known(ac_registry_ctx *c, json_t *body, const char *const *extra)
{
	const char *key;
	json_t *v;

	json_object_foreach(body, key, v)
	{
		int ok = 0;

		for (const ac_registry_field *f = c->e ? c->e->fields : NULL; f && f->key; f++)
			ok |= strcmp(f->key, key) == 0;
		for (int i = 0; extra != NULL && extra[i] != NULL; i++)
			ok |= strcmp(extra[i], key) == 0;
		if (!ok) {
			ac_registry_error(c, 400, "unknown_field", key, "unknown field in request",
					  "请求中有无法识别的项目，请删除后重试");
			return -1;
		}
	}
	return 0;
}

static int field_value(ac_registry_ctx *c, const ac_registry_field *f, json_t *v, char **out)
{
	char tmp[32];
	const char *s;
	int chars;

	*out = NULL;
	if (json_is_null(v))
		return f->nullable && !f->required ? 0 : -1;
	switch (f->type) {
	case AC_REGISTRY_BOOL:
		if (!json_is_boolean(v))
			return -1;
		*out = strdup(json_is_true(v) ? "true" : "false");
		break;
	case AC_REGISTRY_REGION:
		if (json_is_integer(v)) {
			snprintf(tmp, sizeof(tmp), "%" PRId64, (int64_t)json_integer_value(v));
			s = tmp;
		} else if (json_is_string(v)) {
			s = json_string_value(v);
		} else {
			return -1;
		}
		if (ac_check_region_code(s, &c->new_region) != 0)
			return -1;
		c->has_new_region = 1;
		*out = strdup(s);
		break;
	case AC_REGISTRY_ENUM:
		if (!json_is_string(v))
			return -1;
		s = json_string_value(v);
		for (int i = 0; f->values[i] != NULL; i++) {
			if (strcmp(f->values[i], s) == 0)
				*out = strdup(s);
		}
		if (*out == NULL)
			return -1;
		break;
	default:
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return -1;
		s = json_string_value(v);
		chars = ac_check_chars(s);
		if (chars == 0 && f->nullable && !f->required)
			return 0; /* "" clears an optional field */
		if (chars < 1 || chars > f->max)
			return -1;
		if (f->check != NULL && !f->check(s))
			return -1;
		*out = strdup(s);
		break;
	}
	if (*out == NULL)
		return -2;
	return 0;
}

int ac_registry_parse_fields(ac_registry_ctx *c, int create)
{
	for (const ac_registry_field *f = c->e->fields; f->key != NULL; f++) {
		json_t *v = json_object_get(c->body, f->key);
		int rc;

		if (v == NULL) {
			if (create && f->required) {
				ac_registry_error(c, 400, "missing_field", f->key, f->hint,
						  f->hint_zh);
				return -1;
			}
			continue;
		}
		if (!create && f->create_only) {
			ac_registry_error(c, 400, "immutable_field", f->key,
					  "this field cannot be changed once created",
					  "该项目登记后不能修改");
			return -1;
		}
		if (c->n >= AC_REGISTRY_MAX_SET)
			return -1;
		rc = field_value(c, f, v, &c->vals[c->n]);
		if (rc == -2) {
			ac_req_error(c->r, 500, "internal", "out of memory", "服务器内存不足");
			return -1;
		}
		if (rc != 0) {
			ac_registry_error(c, 400, "invalid_field", f->key, f->hint, f->hint_zh);
			return -1;
		}
		if (strcmp(f->key, "kind") == 0 && c->vals[c->n] != NULL)
			snprintf(c->new_kind, sizeof(c->new_kind), "%s", c->vals[c->n]);
		c->cols[c->n] = f->key;
		c->casts[c->n] = f->cast != NULL ? f->cast : "";
		c->n++;
	}
	return 0;
}

int ac_registry_role_staff(ac_registry_ctx *c)
{
	if (ac_perm_is_staff(&c->p))
		return 1;
	ac_registry_forbidden(c, "reading the registry needs a staff account",
			      "只有监管和执法人员可以查看名录库");
	return 0;
}

int ac_registry_role_county(ac_registry_ctx *c)
{
	if (ac_perm_is_admin(&c->p) || strcmp(c->p.role, "county_regulator") == 0)
		return 1;
	ac_registry_forbidden(c, "only a county regulator or an administrator may change this",
			      "只有县级监管人员或系统管理员可以修改此项");
	return 0;
}

static int covers(ac_registry_ctx *c, int64_t region)
{
	if (ac_perm_covers(&c->p, region))
		return 1;
	ac_registry_forbidden(c, "the region is outside your jurisdiction",
			      "该地区不在您的管辖范围内，请联系所属乡镇或县级监管人员");
	return 0;
}

/* Generic list: {"items", "total", "limit", "offset"}. */

static void on_list(ac_registry_ctx *c, const ac_db_result *res)
{
	json_t *items = ac_registry_parse(res, 0, 1);
	json_t *out;
	size_t i;
	json_t *item;

	if (!json_is_array(items)) {
		json_decref(items);
		ac_req_error(c->r, 500, "internal", "could not read the list", "服务器内部错误");
		return;
	}
	json_array_foreach(items, i, item)
	{
		if (c->e->shape != NULL && json_is_object(item))
			c->e->shape(c, item);
	}
	out = json_pack("{s:o,s:I,s:i,s:i}", "items", items, "total",
			(json_int_t)strtoll(ac_db_get(res, 0, 0), NULL, 10), "limit", c->limit,
			"offset", c->offset);
	ac_req_json(c->r, 200, out);
}

/* Turns a region filter (1 to 12 digits; trailing zero levels are dropped) into a range. */
static int region_range(const char *s, int64_t *lo, int64_t *hi)
{
	static const int levels[] = { 2, 4, 6, 9, 12 };
	size_t len = strlen(s);
	int64_t scale = 1;
	int64_t v;

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
	v = 0;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (s[i] - '0');
	for (size_t i = len; i < 12; i++)
		scale *= 10;
	*lo = v * scale;
	*hi = (v + 1) * scale - 1;
	return 0;
}

static void like_escape(const char *s, char *out, size_t outsz)
{
	size_t o = 0;

	out[o++] = '%';
	for (; *s && o + 4 < outsz; s++) {
		if (*s == '\\' || *s == '%' || *s == '_')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '%';
	out[o] = '\0';
}

/*
 * Writes " AND (column)" where column names the LIKE pattern $P and the plain
 * term $T, numbered from param.
 */
static size_t search_clause(char *out, size_t outsz, const char *column, int param)
{
	size_t o = 0;

	if (outsz < 16)
		return outsz;
	o += snprintf(out, outsz, " AND (");
	for (const char *s = column; *s && o + 8 < outsz; s++) {
		if (s[0] == '$' && (s[1] == 'P' || s[1] == 'T')) {
			o += snprintf(out + o, outsz - o, "$%d", param + (s[1] == 'T'));
			s++;
		} else {
			out[o++] = *s;
		}
	}
	o += snprintf(out + o, outsz - o, ")");
	return o;
}

void ac_registry_list(ac_registry_ctx *c)
{
	const ac_registry_entity *e = c->e;
	char vbuf[12][256];
	const char *vals[12];
	char where[2048];
	size_t w = 0;
	int n = 0;

	if (!e->may_read(c) || ac_registry_paging(c) != 0)
		return;
	where[0] = '\0';
	if (e->where != NULL)
		w += snprintf(where + w, sizeof(where) - w, " AND %s", e->where);
	for (const ac_registry_filter *f = e->filters; f != NULL && f->param != NULL; f++) {
		char buf[256];
		int rc = ac_registry_param(c, f->param, buf, sizeof(buf));
		int ok = 1;

		if (rc < 0)
			return;
		if (rc == 0)
			continue;
		if (f->type == AC_REGISTRY_F_PREFIX) {
			int64_t lo;
			int64_t hi;

			ok = region_range(buf, &lo, &hi) == 0;
			if (ok) {
				snprintf(vbuf[n], sizeof(vbuf[n]), "%" PRId64, lo);
				snprintf(vbuf[n + 1], sizeof(vbuf[n + 1]), "%" PRId64, hi);
				w += snprintf(where + w, sizeof(where) - w,
					      " AND %s BETWEEN $%d::bigint AND $%d::bigint",
					      f->column, n + 3, n + 4);
				n += 2;
			}
		} else if (f->type == AC_REGISTRY_F_EQ) {
			ok = f->values == NULL;
			for (int i = 0; f->values != NULL && f->values[i] != NULL; i++)
				ok |= strcmp(f->values[i], buf) == 0;
			ok &= ac_check_chars(buf) > 0 && ac_check_chars(buf) <= 100;
			if (ok) {
				snprintf(vbuf[n], sizeof(vbuf[n]), "%s", buf);
				w += snprintf(where + w, sizeof(where) - w, " AND %s = $%d",
					      f->column, n + 3);
				n++;
			}
		} else {
			int chars = ac_check_chars(buf);

			ok = chars > 0 && chars <= AC_REGISTRY_MAX_Q;
			if (ok) {
				like_escape(buf, vbuf[n], sizeof(vbuf[n]));
				snprintf(vbuf[n + 1], sizeof(vbuf[n + 1]), "%s", buf);
				w += search_clause(where + w, sizeof(where) - w, f->column, n + 3);
				n += 2;
			}
		}
		if (!ok) {
			char en[160];

			snprintf(en, sizeof(en),
				 "the filter %s is invalid (search terms: at most %d characters; "
				 "region: 1 to 12 digits)",
				 f->param, AC_REGISTRY_MAX_Q);
			ac_registry_error(
			    c, 400, "invalid_parameter", f->param, en,
			    "查询条件格式错误：搜索词不超过50个字，地区代码为1到12位数字");
			return;
		}
		if (w >= sizeof(where) || n > 10)
			return;
	}
	snprintf(vbuf[10], sizeof(vbuf[10]), "%d", c->limit);
	snprintf(vbuf[11], sizeof(vbuf[11]), "%d", c->offset);
	vals[0] = vbuf[10];
	vals[1] = vbuf[11];
	for (int i = 0; i < n; i++)
		vals[i + 2] = vbuf[i];
	if (asprintf(&c->sql,
		     "WITH f AS (SELECT t.* FROM %s t WHERE true%s) "
		     "SELECT (SELECT count(*) FROM f), (SELECT coalesce(json_agg(j ORDER BY id), "
		     "'[]') FROM (SELECT t.id, %s AS j FROM f t ORDER BY t.id LIMIT $1::int "
		     "OFFSET $2::int) q)",
		     e->table, where, e->json) < 0) {
		c->sql = NULL;
		ac_req_error(c->r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ac_registry_query(c, c->sql, n + 2, vals, on_list);
}

/* Generic get. */

static void on_row(ac_registry_ctx *c, const ac_db_result *res)
{
	ac_registry_respond_row(c, res, 200);
}

static void on_created(ac_registry_ctx *c, const ac_db_result *res)
{
	ac_registry_respond_row(c, res, 201);
}

void ac_registry_get(ac_registry_ctx *c)
{
	if (c->e->may_read(c))
		ac_registry_fetch(c);
}

void ac_registry_fetch(ac_registry_ctx *c)
{
	const char *vals[1] = { c->id };

	if (asprintf(&c->sql, "SELECT %s FROM %s t WHERE t.id = $1%s", c->e->json, c->e->table,
		     c->e->id_cast) < 0) {
		c->sql = NULL;
		ac_req_error(c->r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ac_registry_query(c, c->sql, 1, vals, on_row);
}

/* Generic create: role, fields, jurisdiction, region exists, insert. */

static void do_insert(ac_registry_ctx *c)
{
	char cols[512] = "";
	char params[512] = "";
	size_t a = 0;
	size_t b = 0;

	if (c->e->id_expr != NULL) {
		a += snprintf(cols + a, sizeof(cols) - a, "id, ");
		b += snprintf(params + b, sizeof(params) - b, "%s, ", c->e->id_expr);
	}
	for (int i = 0; i < c->n; i++) {
		a += snprintf(cols + a, sizeof(cols) - a, "%s%s", i ? ", " : "", c->cols[i]);
		b += snprintf(params + b, sizeof(params) - b, "%s$%d%s", i ? ", " : "", i + 1,
			      c->casts[i]);
	}
	free(c->sql);
	if (asprintf(&c->sql, "INSERT INTO %s AS t (%s) SELECT %s RETURNING %s", c->e->table, cols,
		     params, c->e->json) < 0) {
		c->sql = NULL;
		ac_req_error(c->r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ac_registry_query(c, c->sql, c->n, (const char *const *)c->vals, on_created);
}

static void on_create_region(ac_registry_ctx *c, const ac_db_result *res)
{
	if (ac_db_rows(res) != 1) {
		ac_registry_error(c, 422, "unknown_region", "region_code",
				  "the region code is not in the division table; add the region "
				  "first",
				  "行政区划代码不存在，请核对或先添加该地区");
		return;
	}
	do_insert(c);
}

void ac_registry_create(ac_registry_ctx *c)
{
	char code[24];
	const char *vals[1] = { code };

	c->conflict_en = c->e->conflict_en;
	c->conflict_zh = c->e->conflict_zh;
	if (!c->e->may_write(c))
		return;
	c->body = ac_req_body_object(c->r);
	if (c->body == NULL || ac_registry_known(c, c->body, NULL) != 0 ||
	    ac_registry_parse_fields(c, 1) != 0)
		return;
	if (c->e->has_region && !covers(c, c->new_region))
		return;
	if (c->e->check_write != NULL && !c->e->check_write(c))
		return;
	if (!c->e->has_region) {
		do_insert(c);
		return;
	}
	snprintf(code, sizeof(code), "%" PRId64, c->new_region);
	ac_registry_query(c, "SELECT 1 FROM region WHERE code = $1::bigint", 1, vals,
			  on_create_region);
}

/* Generic update: role, fields, old row (jurisdiction), guarded update. */

static void on_updated(ac_registry_ctx *c, const ac_db_result *res)
{
	if (ac_db_rows(res) != 1) {
		if (!c->e->has_region) {
			ac_registry_not_found(c);
			return;
		}
		ac_req_error(c->r, 409, "changed_meanwhile",
			     "the record was moved to another region meanwhile; reload and retry",
			     "该记录刚被他人修改，请刷新后重试");
		return;
	}
	ac_registry_respond_row(c, res, 200);
}

static void do_update(ac_registry_ctx *c)
{
	char set[1024] = "";
	char old[24];
	const char *vals[AC_REGISTRY_MAX_SET + 2];
	size_t a = 0;
	int base = c->e->has_region ? 2 : 1;

	for (int i = 0; i < c->n; i++) {
		a += snprintf(set + a, sizeof(set) - a, "%s%s = $%d%s", i ? ", " : "", c->cols[i],
			      i + base + 1, c->casts[i]);
		vals[i + base] = c->vals[i];
	}
	vals[0] = c->id;
	if (c->e->has_region) {
		snprintf(old, sizeof(old), "%" PRId64, c->old_region);
		vals[1] = c->has_old_region ? old : NULL;
	}
	free(c->sql);
	if (asprintf(&c->sql, "UPDATE %s t SET %s WHERE t.id = $1%s%s RETURNING %s", c->e->table,
		     set, c->e->id_cast,
		     c->e->has_region ? " AND t.region_code IS NOT DISTINCT FROM $2::bigint" : "",
		     c->e->json) < 0) {
		c->sql = NULL;
		ac_req_error(c->r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ac_registry_query(c, c->sql, c->n + base, vals, on_updated);
}

static void on_old_row(ac_registry_ctx *c, const ac_db_result *res)
{
	const char *region;

	if (ac_db_rows(res) != 1) {
		ac_registry_not_found(c);
		return;
	}
	region = ac_db_get(res, 0, 0);
	c->has_old_region = region != NULL;
	c->old_region = region != NULL ? strtoll(region, NULL, 10) : 0;
	snprintf(c->old_kind, sizeof(c->old_kind), "%s",
		 ac_db_get(res, 0, 1) ? ac_db_get(res, 0, 1) : "");
	if (!covers(c, c->old_region))
		return;
	if (c->has_new_region) {
		if (!covers(c, c->new_region))
			return;
		if (strcmp(ac_db_get(res, 0, 2), "t") != 0) {
			ac_registry_error(c, 422, "unknown_region", "region_code",
					  "the region code is not in the division table; add the "
					  "region first",
					  "行政区划代码不存在，请核对或先添加该地区");
			return;
		}
	}
	if (c->e->check_write != NULL && !c->e->check_write(c))
		return;
	do_update(c);
}

void ac_registry_patch(ac_registry_ctx *c)
{
	static const char *const extra[] = { "id", NULL };
	char code[24];
	const char *vals[2];

	c->conflict_en = c->e->conflict_en;
	c->conflict_zh = c->e->conflict_zh;
	if (!c->e->may_write(c))
		return;
	c->body = ac_req_body_object(c->r);
	if (c->body == NULL || ac_registry_known(c, c->body, extra) != 0)
		return;
	if (json_object_get(c->body, "id") != NULL) {
		ac_registry_error(c, 400, "immutable_field", "id",
				  "ids never change (they are printed into signed codes)",
				  "编号登记后永不改变，不能修改");
		return;
	}
	if (ac_registry_parse_fields(c, 0) != 0)
		return;
	if (c->n == 0) {
		ac_registry_error(c, 400, "nothing_to_change", NULL,
				  "the body names no field to change",
				  "没有需要修改的项目，请填写要修改的内容");
		return;
	}
	if (!c->e->has_region) {
		do_update(c);
		return;
	}
	snprintf(code, sizeof(code), "%" PRId64, c->new_region);
	vals[0] = c->id;
	vals[1] = c->has_new_region ? code : NULL;
	free(c->sql);
	if (asprintf(&c->sql,
		     "SELECT t.region_code, %s, EXISTS (SELECT 1 FROM region WHERE code = "
		     "$2::bigint) FROM %s t WHERE t.id = $1%s",
		     strcmp(c->e->table, "subject") == 0 ? "t.kind" : "NULL::text", c->e->table,
		     c->e->id_cast) < 0) {
		c->sql = NULL;
		ac_req_error(c->r, 500, "internal", "out of memory", "服务器内存不足");
		return;
	}
	ac_registry_query(c, c->sql, 2, vals, on_old_row);
}

/* Routing. */

static void authed(ac_req *r, const ac_principal *p)
{
	ac_registry_ctx *c = r->handler_data;

	r->handler_data = NULL;
	r->handler_free = NULL;
	c->p = *p;
	ac_req_ref(r);
	c->start(c);
	if (!c->pending)
		finish(c);
}

typedef struct route_entry {
	const char *collection;
	const char *action; /* NULL: the collection itself; "": /{id}; else /{id}/action */
	const char *method;
	const ac_registry_entity *e;
	ac_registry_fn start;
	int id_kind; /* 0 integer, 1 kiosk id, 2 region code */
} route_entry;

static const route_entry routes[] = {
	{ "subjects", NULL, "GET", &ac_registry_subjects, ac_registry_list, 0 },
	{ "subjects", NULL, "POST", &ac_registry_subjects, ac_registry_create, 0 },
	{ "subjects", "", "GET", &ac_registry_subjects, ac_registry_subject_get, 0 },
	{ "subjects", "", "PATCH", &ac_registry_subjects, ac_registry_patch, 0 },
	{ "subjects", "grade", "POST", &ac_registry_subjects, ac_registry_subject_grade, 0 },
	{ "subjects", "status", "POST", &ac_registry_subjects, ac_registry_subject_status, 0 },
	{ "subjects", "changes", "GET", &ac_registry_subjects, ac_registry_subject_changes, 0 },
	{ "regions", NULL, "GET", NULL, ac_registry_region_list, 2 },
	{ "regions", NULL, "POST", NULL, ac_registry_region_create, 2 },
	{ "regions", "", "GET", NULL, ac_registry_region_get, 2 },
	{ "markets", NULL, "GET", &ac_registry_markets, ac_registry_list, 0 },
	{ "markets", NULL, "POST", &ac_registry_markets, ac_registry_create, 0 },
	{ "markets", "", "GET", &ac_registry_markets, ac_registry_get, 0 },
	{ "markets", "", "PATCH", &ac_registry_markets, ac_registry_patch, 0 },
	{ "products", NULL, "GET", &ac_registry_products, ac_registry_list, 0 },
	{ "products", NULL, "POST", &ac_registry_products, ac_registry_create, 0 },
	{ "products", "", "GET", &ac_registry_products, ac_registry_get, 0 },
	{ "products", "", "PATCH", &ac_registry_products, ac_registry_patch, 0 },
	{ "kiosks", NULL, "GET", &ac_registry_kiosks, ac_registry_list, 1 },
	{ "kiosks", NULL, "POST", &ac_registry_kiosks, ac_registry_create, 1 },
	{ "kiosks", "", "GET", &ac_registry_kiosks, ac_registry_get, 1 },
	{ "kiosks", "", "PATCH", &ac_registry_kiosks, ac_registry_patch, 1 },
};

static int valid_id(const char *id, size_t len, int kind)
{
	if (len == 0 || len > 64)
		return 0;
	if (kind == 1) {
		for (size_t i = 0; i < len; i++) {
			if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') ||
			      id[i] == '-' || id[i] == '_'))
				return 0;
		}
		return 1;
	}
	if (kind == 2)
		return len == 12 && strspn(id, "0123456789") >= 12;
	if (len > 9 || strspn(id, "0123456789") < len)
		return 0;
	return 1;
}

int ac_registry_route(ac_req *r)
{
	static const char prefix[] = "/api/v1/";
	const char *coll = r->path;
	const char *slash;
	const char *id = NULL;
	const char *action = NULL;
	size_t coll_len;
	size_t id_len = 0;
	const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	const route_entry *match = NULL;
	int known = 0;
	ac_registry_ctx *c;

	if (strncmp(coll, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	coll += sizeof(prefix) - 1;
	slash = strchr(coll, '/');
	coll_len = slash != NULL ? (size_t)(slash - coll) : strlen(coll);
	if (slash != NULL) {
		id = slash + 1;
		action = strchr(id, '/');
		id_len = action != NULL ? (size_t)(action - id) : strlen(id);
		if (action != NULL)
			action++;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const route_entry *e = &routes[i];

		if (strlen(e->collection) != coll_len ||
		    strncmp(e->collection, coll, coll_len) != 0)
			continue;
		if (known == 0)
			known = 1;
		if (e->action == NULL
			? id != NULL
			: id == NULL || (e->action[0] == '\0'
					     ? action != NULL
					     : action == NULL || strcmp(action, e->action) != 0))
			continue;
		known = 2;
		if (strcmp(e->method, method) == 0)
			match = e;
	}
	if (!known)
		return -1;
	if (known == 1) {
		ac_req_error(r, 404, "not_found", "no such API path", "没有这个接口");
		return 0;
	}
	if (match == NULL) {
		ac_req_error(r, 405, "method_not_allowed", "method not allowed",
			     "不支持该请求方式");
		return 0;
	}
	if (id != NULL && !valid_id(id, id_len, match->id_kind)) {
		ac_req_error(r, 404, "not_found", "no such record; check the id",
			     "查不到该记录，请核对编号");
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		ac_req_error(r, 500, "internal", "out of memory", "服务器内存不足");
		return 0;
	}
	c->r = r;
	c->e = match->e;
	c->start = match->start;
	if (id != NULL)
		snprintf(c->id, sizeof(c->id), "%.*s", (int)id_len, id);
	r->handler_data = c;
	r->handler_free = ctx_free;
	ac_auth(r, authed);
	return 0;
}
